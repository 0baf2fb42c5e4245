// Package netplan carves a VPC CIDR into per-AZ subnets for the public, private and isolated
// tiers. It is pure (no Pulumi) so that stack validation and the network component share it.
package netplan

import (
	"fmt"
	"net/netip"
	"sort"
)

// MaxAZs is how many AZ slots every tier reserves. Subnets keep their CIDRs when an environment
// grows from 2 to 3 AZs (a CIDR change would replace the subnet and everything in it).
const MaxAZs = 4

// Prefixes are the prefix lengths of one subnet of each tier.
type Prefixes struct {
	// Public subnets hold load balancers and NAT gateways. Default /22.
	Public int `json:"public"`
	// Private subnets hold nodes and pods (VPC CNI gives every pod a VPC address). Default /19.
	Private int `json:"private"`
	// Isolated subnets hold data stores and have no route to the internet. Default /24.
	Isolated int `json:"isolated"`
}

// Plan is the CIDR of every subnet, indexed by AZ.
type Plan struct {
	Public, Private, Isolated []netip.Prefix
}

// Subnets lays out azCount subnets of each tier inside vpc. Each tier takes one aligned block
// of MaxAZs subnets, largest blocks first, so blocks never overlap and never leave gaps that
// would misalign a later block.
func Subnets(vpc netip.Prefix, azCount int, p Prefixes) (Plan, error) {
	if azCount < 1 || azCount > MaxAZs {
		return Plan{}, fmt.Errorf("AZ count %d is out of range; allowed 1 to %d", azCount, MaxAZs)
	}
	type tier struct {
		name   string
		prefix int
		out    *[]netip.Prefix
	}
	var plan Plan
	tiers := []tier{
		{"private", p.Private, &plan.Private},
		{"public", p.Public, &plan.Public},
		{"isolated", p.Isolated, &plan.Isolated},
	}
	for _, t := range tiers {
		// Four AZ slots take two more bits than one subnet.
		if t.prefix-2 < vpc.Bits() || t.prefix > 28 {
			return Plan{}, fmt.Errorf("%s subnet prefix /%d does not fit %d AZ slots in a /%d VPC; allowed /%d to /28",
				t.name, t.prefix, MaxAZs, vpc.Bits(), vpc.Bits()+2)
		}
	}
	sort.SliceStable(tiers, func(i, j int) bool { return tiers[i].prefix < tiers[j].prefix })

	next := uint64(ipv4ToInt(vpc.Addr()))
	end := next + 1<<(32-vpc.Bits())
	for _, t := range tiers {
		size := uint64(1) << (32 - t.prefix)
		if next+size*MaxAZs > end {
			return Plan{}, fmt.Errorf("subnets do not fit in %s: public /%d, private /%d and isolated /%d with %d AZ slots each need more room; use a larger VPC or longer prefixes",
				vpc, p.Public, p.Private, p.Isolated, MaxAZs)
		}
		for az := 0; az < azCount; az++ {
			*t.out = append(*t.out, netip.PrefixFrom(intToIPv4(uint32(next+uint64(az)*size)), t.prefix))
		}
		next += size * MaxAZs
	}
	return plan, nil
}

func ipv4ToInt(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func intToIPv4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
