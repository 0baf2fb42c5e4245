package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/stacks"
)

const (
	typeDistribution = "aws:cloudfront/distribution:Distribution"
	typeWebACL       = "aws:wafv2/webAcl:WebAcl"
)

// Every tier serves HTTPS only with TLS 1.2+ towards viewers and the origin; prod blocks what
// WAF matches, dev counts.
func TestEdgePerTier(t *testing.T) {
	for stack, want := range map[string]struct{ action, priceClass string }{
		"dev": {"count", "PriceClass_100"}, "staging": {"block", "PriceClass_100"}, "prod": {"block", "PriceClass_All"},
	} {
		t.Run(stack, func(t *testing.T) {
			rec := mustRunStack(t, stack)
			acl := rec.Must(t, typeWebACL, "scalemate-"+stack)
			assert.Equal(t, "CLOUDFRONT", acl.Input("scope"))
			for _, r := range acl.Input("rules").([]any) {
				rule := r.(map[string]any)
				if action, ok := rule["action"].(map[string]any); ok {
					assert.Contains(t, action, want.action, "rule %s", rule["name"])
				} else {
					override := rule["overrideAction"].(map[string]any)
					wantOverride := map[string]string{"count": "count", "block": "none"}[want.action]
					assert.Contains(t, override, wantOverride, "managed group %s", rule["name"])
				}
			}

			d := rec.Must(t, typeDistribution, "scalemate-"+stack)
			assert.Equal(t, want.priceClass, d.Input("priceClass"))
			assert.Equal(t, "arn:aws:wafv2:us-west-2:123456789012:scalemate-"+stack, d.Input("webAclId"))
			assert.Equal(t, "redirect-to-https", d.Input("defaultCacheBehavior").(map[string]any)["viewerProtocolPolicy"])
			for _, b := range d.Input("orderedCacheBehaviors").([]any) {
				assert.Equal(t, "redirect-to-https", b.(map[string]any)["viewerProtocolPolicy"])
			}
			app := d.Input("origins").([]any)[0].(map[string]any)["customOriginConfig"].(map[string]any)
			assert.Equal(t, "https-only", app["originProtocolPolicy"])
			assert.Equal(t, []any{"TLSv1.2"}, app["originSslProtocols"])
			cert := d.Input("viewerCertificate").(map[string]any)
			if stack == "dev" {
				assert.Equal(t, true, cert["cloudfrontDefaultCertificate"], "dev alone may use CloudFront's certificate")
			} else {
				assert.Equal(t, "TLSv1.2_2021", cert["minimumProtocolVersion"], "viewers get TLS 1.2 or newer")
				domain := map[string]string{"staging": "app.staging.scalemate.io", "prod": "app.scalemate.io"}[stack]
				assert.Equal(t, []any{domain}, d.Input("aliases"))
				var names []any
				for _, c := range rec.OfType("aws:acm/certificate:Certificate") {
					names = append(names, c.Input("domainName"))
				}
				assert.Contains(t, names, domain)
			}
			// The origin is the load balancer's name in the zone, which its certificate covers.
			zone := map[string]string{"dev": "dev.scalemate.io", "staging": "staging.scalemate.io", "prod": "scalemate.io"}[stack]
			assert.Equal(t, "origin."+zone, d.Input("origins").([]any)[0].(map[string]any)["domainName"])
		})
	}
}

// With domains, viewers get an ACM certificate and TLS 1.2 (2021 policy) at least.
func TestEdgeCustomDomain(t *testing.T) {
	rec, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyEdge] = `{"zoneName":"scalemate.io","domainNames":["app.scalemate.io","www.scalemate.io"],"route53ZoneId":"Z123"}`
	})
	require.NoError(t, err)
	d, _ := rec.Named(typeDistribution, "scalemate-prod")
	cert := d.Input("viewerCertificate").(map[string]any)
	assert.Equal(t, "TLSv1.2_2021", cert["minimumProtocolVersion"])
	assert.Equal(t, "sni-only", cert["sslSupportMethod"])
	assert.Equal(t, []any{"app.scalemate.io", "www.scalemate.io"}, d.Input("aliases"))
	for _, r := range []string{"scalemate-prod-validation-app-scalemate-io", "scalemate-prod-validation-www-scalemate-io",
		"scalemate-prod-validation-origin-scalemate-io"} {
		assert.Equal(t, "Z123", rec.Must(t, "aws:route53/record:Record", r).Input("zoneId"), "the configured zone, no look-up")
	}
	assert.Len(t, rec.OfType("aws:acm/certificateValidation:CertificateValidation"), 2, "the CDN's and the load balancer's")
	for _, typ := range []string{"a", "aaaa"} {
		alias := rec.Must(t, "aws:route53/record:Record", "scalemate-prod-alias-"+typ+"-www-scalemate-io")
		assert.Equal(t, "www.scalemate.io", alias.Input("name"))
		assert.Equal(t, "Z2FDTNDATAQYW2", alias.Input("aliases").([]any)[0].(map[string]any)["zoneId"], "viewers reach the distribution by name")
	}
}

func TestBadEdgeConfigRegistersNothing(t *testing.T) {
	for _, c := range []struct{ stack, value, want string }{
		{"dev", `{}`, "scalemate:edge.zoneName: must be set"},
		{"dev", `{"originDomainName":"alb.scalemate.io"}`, `scalemate:edge: unknown field "originDomainName"`},
		{"dev", `{"zoneName":"Scalemate.io."}`, `scalemate:edge.zoneName: "Scalemate.io." is not a lower-case DNS name`},
		{"dev", `{"zoneName":"scalemate.io","route53ZoneId":"zone-1"}`, `scalemate:edge.route53ZoneId: "zone-1" is not a Route 53 hosted zone id`},
		{"dev", `{"zoneName":"scalemate.io","originHostName":"origin.other.io"}`, `scalemate:edge.originHostName: "origin.other.io" is not a name inside scalemate.io`},
		{"staging", `{"zoneName":"scalemate.io","domainNames":["app.other.io"]}`, `scalemate:edge.domainNames[0]: "app.other.io" is not inside scalemate.io`},
		{"staging", `{"zoneName":"scalemate.io","domainNames":["origin.scalemate.io"]}`, `"origin.scalemate.io" is the load balancer's origin name`},
		{"dev", `{"zoneName":"scalemate.io","priceClass":"PriceClass_50"}`, `scalemate:edge.priceClass: "PriceClass_50" is not allowed`},
		{"dev", `{"zoneName":"scalemate.io","waf":{"rateLimit":5}}`, "scalemate:edge.waf.rateLimit: 5 is out of range; allowed 10 to 2000000000"},
		{"dev", `{"zoneName":"scalemate.io","waf":{"managedRuleGroups":["AWSManagedRulesMagic"]}}`, `"AWSManagedRulesMagic" is not allowed`},
		{"dev", `{"zoneName":"scalemate.io","domainNames":["App.scalemate.io"]}`, `scalemate:edge.domainNames[0]: "App.scalemate.io" is not a lower-case DNS name`},
		{"prod", `{"zoneName":"scalemate.io","domainNames":["a.scalemate.io"],"waf":{"action":"count"}}`, `scalemate:edge.waf.action: prod blocks what the WAF rules match`},
	} {
		t.Run(c.value, func(t *testing.T) {
			rec, err := runStack(t, c.stack, func(cfg map[string]string) { cfg[stacks.KeyEdge] = c.value })
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), c.want), err.Error())
			assert.Empty(t, rec.All())
		})
	}
}
