// Package validate collects input problems so that a caller can report all of them at once,
// each naming the field (or config key) it is about, before any resource is registered.
package validate

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Problems accumulates validation failures. The zero value is ready to use.
type Problems struct {
	list []string
}

// Addf records a problem with the named field.
func (p *Problems) Addf(field, format string, args ...any) {
	p.list = append(p.list, field+": "+fmt.Sprintf(format, args...))
}

// Len is the number of problems recorded so far.
func (p *Problems) Len() int { return len(p.list) }

// Err returns nil when nothing was recorded, otherwise one error listing every problem under
// the given subject ("invalid stack config for dev", "invalid network args", ...).
func (p *Problems) Err(subject string) error {
	if len(p.list) == 0 {
		return nil
	}
	return errors.New(subject + ":\n  - " + strings.Join(p.list, "\n  - "))
}

// OneOf records a problem when v is not one of allowed.
func (p *Problems) OneOf(field, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		p.Addf(field, "%q is not allowed; use one of %s", v, strings.Join(allowed, ", "))
	}
}

var (
	dnsLabelRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	hostNameRE    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	httpPathRE    = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()+,;=:@/-]*$`)
	pathPatternRE = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()+,;=:@/*?-]{0,127}$`)
	repositoryRE  = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
)

// IsGitHubRepository reports whether s names a GitHub repository as owner/name.
func IsGitHubRepository(s string) bool { return repositoryRE.MatchString(s) }

// IsHostName reports whether s is a lower-case, fully qualified DNS name without a trailing dot
// (at most 253 characters).
func IsHostName(s string) bool { return hostNameRE.MatchString(s) && len(s) <= 253 }

// IsHTTPPath reports whether s is an HTTP request path without query or wildcards (as probes
// and load balancer health checks take it), at most 1,024 characters.
func IsHTTPPath(s string) bool { return httpPathRE.MatchString(s) && len(s) <= 1024 }

// IsPathPattern reports whether s is a load balancer path pattern: starts with /, at most 128
// characters, * and ? as wildcards.
func IsPathPattern(s string) bool { return pathPatternRE.MatchString(s) }

// IsDNSLabel reports whether s is an RFC 1123 label, as Kubernetes namespace and service
// account names must be.
func IsDNSLabel(s string) bool { return dnsLabelRE.MatchString(s) }

// LogRetentionDays are the retention periods CloudWatch Logs accepts, in days.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// LogRetention records a problem when v is not a CloudWatch Logs retention period.
func (p *Problems) LogRetention(field string, v int) {
	if !slices.Contains(LogRetentionDays, v) {
		days := make([]string, len(LogRetentionDays))
		for i, d := range LogRetentionDays {
			days[i] = strconv.Itoa(d)
		}
		p.Addf(field, "%d is not a CloudWatch retention period; use one of %s", v, strings.Join(days, ", "))
	}
}

// IntRange records a problem when v is outside [lo, hi].
func (p *Problems) IntRange(field string, v, lo, hi int) {
	if v < lo || v > hi {
		p.Addf(field, "%d is out of range; allowed %d to %d", v, lo, hi)
	}
}

// NotEmpty records a problem when v is empty.
func (p *Problems) NotEmpty(field, v string) {
	if strings.TrimSpace(v) == "" {
		p.Addf(field, "must be set")
	}
}

// CIDR parses v as an IPv4 network in canonical form (no host bits set) and records a problem
// when it is not one. ok reports whether the value can be used further.
func (p *Problems) CIDR(field, v string) (prefix netip.Prefix, ok bool) {
	if prefix, err := netip.ParsePrefix(v); err == nil && !prefix.Addr().Is4() {
		p.Addf(field, "%q is not an IPv4 CIDR block", v)
		return prefix, false
	}
	return p.IPCIDR(field, v)
}

// IPCIDR parses v as an IPv4 or IPv6 network in canonical form (no host bits set) and records a
// problem when it is not one.
func (p *Problems) IPCIDR(field, v string) (prefix netip.Prefix, ok bool) {
	prefix, err := netip.ParsePrefix(v)
	switch {
	case err != nil:
		p.Addf(field, "%q is not a CIDR block (want e.g. 198.51.100.0/24 or 2001:db8::/32)", v)
		return prefix, false
	case prefix.Masked() != prefix:
		p.Addf(field, "%q has host bits set; did you mean %s?", v, prefix.Masked())
		return prefix, false
	}
	return prefix, true
}

// Scaling records problems with an autoscaling group's bounds: 0 <= min <= desired <= max <=
// limit and max >= 1. The field names are the caller's (config keys or Args fields).
func (p *Problems) Scaling(minField, maxField, desiredField string, minSize, maxSize, desired, limit int) {
	p.IntRange(minField, minSize, 0, limit)
	p.IntRange(maxField, maxSize, 1, limit)
	if minSize > maxSize {
		p.Addf(minField, "%d is greater than %s %d", minSize, maxField, maxSize)
	} else if desired < minSize || desired > maxSize {
		p.Addf(desiredField, "%d is outside %s..%s (%d..%d)", desired, minField, maxField, minSize, maxSize)
	}
}

// MaxPublicAccessCIDRs is how many CIDRs EKS accepts for its public endpoint.
const MaxPublicAccessCIDRs = 40

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// IsPrivate reports whether p lies inside an RFC 1918 range.
func IsPrivate(p netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// PublicAccessCIDRs records problems with the source ranges of an internet-facing endpoint:
// each a public IPv4 block of /8 or narrower (no slice of "the whole internet"), no repeats, at
// most MaxPublicAccessCIDRs.
func (p *Problems) PublicAccessCIDRs(field string, cidrs []string) {
	if len(cidrs) > MaxPublicAccessCIDRs {
		p.Addf(field, "%d CIDRs given; EKS accepts at most %d", len(cidrs), MaxPublicAccessCIDRs)
	}
	for i, c := range cidrs {
		f := fmt.Sprintf("%s[%d]", field, i)
		pfx, ok := p.CIDR(f, c)
		switch {
		case !ok:
		case pfx.Bits() < 8:
			p.Addf(f, "%s opens the endpoint to a large part of the internet; list the office or VPN egress ranges (/8 or narrower)", c)
		case IsPrivate(pfx):
			p.Addf(f, "%s is a private range, which never reaches a public endpoint; use the public egress address", c)
		case slices.Index(cidrs, c) != i:
			p.Addf(f, "%s is listed twice", c)
		}
	}
}

// Placement records problems with the network placement a data store needs: a VPC, subnets and
// at least one client security group (set reports whether each input was given).
func (p *Problems) Placement(vpcSet, subnetsSet bool, clients int) {
	if !vpcSet {
		p.Addf("VPCID", "must be set")
	}
	if !subnetsSet {
		p.Addf("SubnetIDs", "must be set")
	}
	if clients == 0 {
		p.Addf("ClientSecurityGroupIDs", "must list at least one security group (nothing could connect)")
	}
}

var (
	quantityRE       = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?[0-9]+)?$`)
	quantitySuffixes = map[string]float64{"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
)

// Quantity reads a Kubernetes resource quantity as a float (cores or bytes). It accepts the
// notation the API server accepts for requests and limits; k8s.io/apimachinery is not a
// dependency of this module and would be a heavy one for this.
func Quantity(s string) (float64, bool) {
	m := quantityRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	suffix := m[3]
	if mult, ok := quantitySuffixes[suffix]; ok {
		return n * mult, true
	}
	exp, err := strconv.Atoi(suffix[1:])
	if err != nil {
		return 0, false
	}
	return n * math.Pow10(exp), true
}
