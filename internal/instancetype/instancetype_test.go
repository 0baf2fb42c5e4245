package instancetype

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	ty, err := Parse("m6g.2xlarge")
	require.NoError(t, err)
	assert.Equal(t, Type{Family: "m6g", Size: "2xlarge", Arch: ARM64}, ty)
	assert.False(t, ty.Burstable())

	ty, err = Parse("t3.medium")
	require.NoError(t, err)
	assert.True(t, ty.Burstable())
	assert.Equal(t, X86_64, ty.Arch)

	for name, want := range map[string]string{
		"m6i":         `"m6i" is not an instance type`,
		"p5.48xlarge": `unknown instance family "p5"`,
		"m6i.huge":    `unknown size "huge"`,
		"m6i.small":   `only burstable (t) families come in nano, micro and small`,
		"":            `"" is not an instance type`,
	} {
		_, err := Parse(name)
		assert.ErrorContains(t, err, want, name)
	}
}

func TestCommonArch(t *testing.T) {
	arch, err := CommonArch([]string{"m7g.large", "c7g.large"})
	require.NoError(t, err)
	assert.Equal(t, ARM64, arch)

	_, err = CommonArch([]string{"m6i.large", "m6g.large"})
	assert.ErrorContains(t, err, "mix x86_64 and arm64")
	_, err = CommonArch(nil)
	assert.ErrorContains(t, err, "at least one instance type")
	_, err = CommonArch([]string{"m6i.large", "zz.large"})
	assert.ErrorContains(t, err, `unknown instance family "zz"`)
}

func TestVCPUs(t *testing.T) {
	for name, want := range map[string]int{
		"m6i.large": 2, "m6i.xlarge": 4, "m6i.2xlarge": 8, "c7i.12xlarge": 48, "t3.medium": 2, "t3.small": 2,
		"t3.xlarge": 4, "m6g.medium": 1, "r7g.metal": 0,
	} {
		typ, err := Parse(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := typ.VCPUs(); got != want {
			t.Errorf("%s: %d vCPUs, want %d", name, got, want)
		}
	}
}
