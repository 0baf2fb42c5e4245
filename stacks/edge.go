package stacks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/scalemate/infra/internal/validate"
)

// Edge is CloudFront and WAF in front of the platform (scalemate:edge). Field checks are the
// cdn and waf components'; the program runs them before registering anything.
type Edge struct {
	// ZoneName is the public Route 53 hosted zone, in this account, that holds the CDN's domain
	// names and the load balancer's origin name; the certificates are validated by records the
	// program creates there. Required.
	ZoneName string `json:"zoneName"`
	// Route53ZoneID is the zone's id; default looked up by ZoneName.
	Route53ZoneID string `json:"route53ZoneId,omitempty"`
	// OriginHostName is the load balancer's name in the zone: CloudFront connects to it over
	// HTTPS and the load balancer's certificate covers it. Default origin.<zoneName>.
	OriginHostName string `json:"originHostName,omitempty"`
	// DomainNames are the CDN's aliases, inside the zone; empty uses CloudFront's default
	// certificate and domain (dev only).
	DomainNames []string `json:"domainNames,omitempty"`
	// PriceClass is PriceClass_100, _200 or _All. Default 100 / 100 / All.
	PriceClass string `json:"priceClass"`
	// OriginShieldRegion adds Origin Shield there. Default none.
	OriginShieldRegion string `json:"originShieldRegion,omitempty"`
	// GeoRestriction is {type: none|whitelist|blacklist, locations: [ISO codes]}. Default none.
	GeoRestriction *EdgeGeo `json:"geoRestriction,omitempty"`
	// WAF configures the web ACL.
	WAF EdgeWAF `json:"waf"`
	// ShieldAdvanced protects the distribution with Shield Advanced (3,000 USD/month). Default false.
	ShieldAdvanced bool `json:"shieldAdvanced"`
}

// EdgeGeo restricts viewers by country.
type EdgeGeo struct {
	Type      string   `json:"type"`
	Locations []string `json:"locations"`
}

// EdgeWAF is the web ACL's settings.
type EdgeWAF struct {
	// Action is count or block for every rule; prod must block. Default count / block / block.
	Action string `json:"action"`
	// RateLimit is requests per client IP per 5 minutes. Default 2000 / 500 / 2000.
	RateLimit int `json:"rateLimit"`
	// ManagedRuleGroups are AWS managed rule groups. Default Common, KnownBadInputs, SQLi,
	// AmazonIpReputationList (prod adds AnonymousIpList).
	ManagedRuleGroups []string `json:"managedRuleGroups,omitempty"`
	// BlockCountries, AllowIPs and DenyIPs add geo and IP rules. Default none.
	BlockCountries []string `json:"blockCountries,omitempty"`
	AllowIPs       []string `json:"allowIps,omitempty"`
	DenyIPs        []string `json:"denyIps,omitempty"`
}

var zoneIDRE = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)

// Origin is the load balancer's host name: OriginHostName, or origin.<zoneName>.
func (e Edge) Origin() string {
	if e.OriginHostName != "" {
		return e.OriginHostName
	}
	return "origin." + e.ZoneName
}

// validateEdge checks the names the edge needs from DNS; the cdn and waf components check the
// rest.
func (s *Spec) validateEdge(p *validate.Problems) {
	e := s.Edge
	k := KeyEdge + "."
	switch {
	case e.ZoneName == "":
		p.Addf(k+"zoneName", "must be set: the public Route 53 zone (e.g. dev.scalemate.io) that holds the load balancer's origin name and the CDN's names")
		return
	case !validate.IsHostName(e.ZoneName):
		p.Addf(k+"zoneName", "%q is not a lower-case DNS name without a trailing dot (e.g. dev.scalemate.io)", e.ZoneName)
		return
	}
	if e.Route53ZoneID != "" && !zoneIDRE.MatchString(e.Route53ZoneID) {
		p.Addf(k+"route53ZoneId", "%q is not a Route 53 hosted zone id (Z followed by upper-case letters and digits)", e.Route53ZoneID)
	}
	inZone := func(name string) bool { return strings.HasSuffix(name, "."+e.ZoneName) || name == e.ZoneName }
	if o := e.Origin(); !validate.IsHostName(o) || !inZone(o) || o == e.ZoneName {
		p.Addf(k+"originHostName", "%q is not a name inside %s (e.g. origin.%s)", o, e.ZoneName, e.ZoneName)
	}
	for i, d := range e.DomainNames {
		if !inZone(strings.TrimPrefix(d, "*.")) {
			p.Addf(fmt.Sprintf("%sdomainNames[%d]", k, i), "%q is not inside %s (%szoneName), where its certificate is validated", d, e.ZoneName, k)
		} else if d == e.Origin() {
			p.Addf(fmt.Sprintf("%sdomainNames[%d]", k, i), "%q is the load balancer's origin name; viewers use the CDN's names", d)
		}
	}
}
