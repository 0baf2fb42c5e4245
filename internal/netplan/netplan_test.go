package netplan

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaults = Prefixes{Public: 22, Private: 19, Isolated: 24}

func strs(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestSubnetsLayout(t *testing.T) {
	plan, err := Subnets(netip.MustParsePrefix("10.10.0.0/16"), 3, defaults)
	require.NoError(t, err)
	// Private /19 block of 4 first, then public /22s, then isolated /24s.
	assert.Equal(t, []string{"10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"}, strs(plan.Private))
	assert.Equal(t, []string{"10.10.128.0/22", "10.10.132.0/22", "10.10.136.0/22"}, strs(plan.Public))
	assert.Equal(t, []string{"10.10.144.0/24", "10.10.145.0/24", "10.10.146.0/24"}, strs(plan.Isolated))
}

func TestSubnetsNeverOverlapAndStayInsideVPC(t *testing.T) {
	vpc := netip.MustParsePrefix("172.16.0.0/20")
	plan, err := Subnets(vpc, 4, Prefixes{Public: 26, Private: 23, Isolated: 27})
	require.NoError(t, err)
	all := append(append(append([]netip.Prefix{}, plan.Public...), plan.Private...), plan.Isolated...)
	for i, a := range all {
		assert.True(t, vpc.Contains(a.Addr()) && a.Bits() >= vpc.Bits(), "%s outside %s", a, vpc)
		for _, b := range all[i+1:] {
			assert.False(t, a.Overlaps(b), "%s overlaps %s", a, b)
		}
	}
}

// Growing from 2 to 3 AZs must keep the existing subnets' CIDRs (a change replaces them).
func TestSubnetsStableWhenAZsAreAdded(t *testing.T) {
	vpc := netip.MustParsePrefix("10.0.0.0/16")
	two, err := Subnets(vpc, 2, defaults)
	require.NoError(t, err)
	three, err := Subnets(vpc, 3, defaults)
	require.NoError(t, err)
	assert.Equal(t, two.Public, three.Public[:2])
	assert.Equal(t, two.Private, three.Private[:2])
	assert.Equal(t, two.Isolated, three.Isolated[:2])
}

func TestSubnetsErrors(t *testing.T) {
	vpc := netip.MustParsePrefix("10.0.0.0/16")
	_, err := Subnets(vpc, 5, defaults)
	assert.EqualError(t, err, "AZ count 5 is out of range; allowed 1 to 4")
	_, err = Subnets(vpc, 3, Prefixes{Public: 17, Private: 19, Isolated: 24})
	assert.EqualError(t, err, "public subnet prefix /17 does not fit 4 AZ slots in a /16 VPC; allowed /18 to /28")
	_, err = Subnets(netip.MustParsePrefix("10.0.0.0/20"), 3, defaults)
	assert.ErrorContains(t, err, "private subnet prefix /19 does not fit")
	_, err = Subnets(vpc, 3, Prefixes{Public: 18, Private: 18, Isolated: 24})
	assert.ErrorContains(t, err, "subnets do not fit in 10.0.0.0/16")
}
