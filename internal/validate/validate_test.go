package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuantity(t *testing.T) {
	for s, want := range map[string]float64{
		"500m": 0.5, "2": 2, "1.5": 1.5, "512Mi": 512 << 20, "4Gi": 4 << 30, "1G": 1e9, "1e3": 1000, "100k": 1e5,
	} {
		got, ok := Quantity(s)
		assert.True(t, ok, s)
		assert.InDelta(t, want, got, 1e-9, s)
	}
	for _, s := range []string{"", "16GB", "1.5.2", "-1", "m", "2 Gi", "1e"} {
		_, ok := Quantity(s)
		assert.False(t, ok, s)
	}
}
