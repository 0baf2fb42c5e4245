package infra

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/cdn"
	"github.com/scalemate/infra/components/waf"
	"github.com/scalemate/infra/stacks"
)

// edge holds the CDN and WAF settings from the stack.
type edge struct {
	name string
	cdn  cdn.Args
	waf  waf.Args
}

// planEdge turns the Spec into component args and runs their checks before anything exists.
func planEdge(spec *stacks.Spec) (*edge, error) {
	e := spec.Edge
	out := &edge{
		name: spec.Project + "-" + spec.Stack,
		cdn: cdn.Args{
			OriginDomainName: e.Origin(), DomainNames: e.DomainNames,
			PriceClass: e.PriceClass, OriginShieldRegion: e.OriginShieldRegion, LogExpirationDays: spec.LogRetentionDays,
			ShieldAdvanced: e.ShieldAdvanced, Protect: spec.Tier == stacks.Prod,
			// A destroyed dev stack leaves no bucket (and no bill) behind.
			ForceDestroy: spec.Tier == stacks.Dev,
		},
		waf: waf.Args{
			Action: e.WAF.Action, RateLimit: e.WAF.RateLimit, ManagedRuleGroups: e.WAF.ManagedRuleGroups,
			BlockCountries: e.WAF.BlockCountries, AllowIPs: e.WAF.AllowIPs, DenyIPs: e.WAF.DenyIPs,
			LogRetentionDays: spec.LogRetentionDays,
		},
	}
	if g := e.GeoRestriction; g != nil {
		out.cdn.Geo = cdn.GeoRestriction{Type: g.Type, Locations: g.Locations}
	}
	r := &refusals{stack: spec.Stack}
	r.component(out.cdn.Check(out.name), stacks.KeyEdge, withCommon(map[string]string{
		"OriginDomainName": stacks.KeyEdge + ".originHostName", "Geo": stacks.KeyEdge + ".geoRestriction",
		"LogExpirationDays": stacks.KeyLogRetentionDays,
	}))
	r.component(out.waf.Check(out.name), stacks.KeyEdge+".waf", withCommon(nil))
	if err := r.err(); err != nil {
		return out, err
	}
	return out, nil
}

// deployEdge creates the WAF and the CDN with the us-east-1 provider CloudFront requires; the
// certificate's validation records go into the stack's zone.
func deployEdge(ctx *pulumi.Context, e *edge, p *Providers, zone pulumi.StringInput) (*cdn.CDN, *waf.WAF, error) {
	onEdge := pulumi.Providers(p.AWSEdge)
	w, err := waf.New(ctx, e.name, e.waf, onEdge)
	if err != nil {
		return nil, nil, err
	}
	e.cdn.WebACLARN = w.WebACLARN
	if len(e.cdn.DomainNames) > 0 {
		e.cdn.Route53ZoneID = zone
	}
	c, err := cdn.New(ctx, e.name, e.cdn, onEdge)
	if err != nil {
		return nil, nil, err
	}
	return c, w, nil
}
