package validate

import (
	"strings"
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

func TestNamesAndPaths(t *testing.T) {
	assert.True(t, IsHostName("origin.dev.scalemate.io"))
	assert.False(t, IsHostName("Origin.scalemate.io"))
	assert.False(t, IsHostName("scalemate.io."))
	assert.False(t, IsHostName(strings.Repeat("a.", 127)+"io"), "longer than 253")
	assert.True(t, IsHTTPPath("/healthz/ready"))
	assert.False(t, IsHTTPPath("/ready?x=1"))
	assert.False(t, IsHTTPPath("/"+strings.Repeat("a", 1024)))
	assert.True(t, IsPathPattern("/api/*"))
	assert.False(t, IsPathPattern("api/*"))
	assert.False(t, IsPathPattern("/"+strings.Repeat("a", 128)))
}
