package waf

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "edge", args)
}

func rules(t *testing.T, rec *mocktest.Recorder) []map[string]any {
	t.Helper()
	acl := rec.Must(t, "aws:wafv2/webAcl:WebAcl", "edge")
	var out []map[string]any
	for _, r := range acl.Input("rules").([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func TestBlockModeWithListsAndGeo(t *testing.T) {
	rec, err := run(Args{AllowIPs: []string{"198.51.100.0/24"}, DenyIPs: []string{"203.0.113.7/32"}, BlockCountries: []string{"KP"}, RateLimit: 500})
	require.NoError(t, err)
	rs := rules(t, rec)
	var names []string
	for i, r := range rs {
		names = append(names, r["name"].(string))
		assert.EqualValues(t, i, r["priority"], "priorities follow the order")
		vis := r["visibilityConfig"].(map[string]any)
		assert.Equal(t, true, vis["cloudwatchMetricsEnabled"])
		assert.Equal(t, true, vis["sampledRequestsEnabled"])
	}
	assert.Equal(t, []string{"allow-list", "deny-list", "geo-block", "rate-limit-per-ip", "AWSManagedRulesCommonRuleSet",
		"AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"}, names)
	assert.Contains(t, rs[0]["action"], "allow", "the allow list is checked first")
	assert.Contains(t, rs[1]["action"], "block")
	assert.Equal(t, map[string]any{"countryCodes": []any{"KP"}}, rs[2]["statement"].(map[string]any)["geoMatchStatement"])
	rate := rs[3]["statement"].(map[string]any)["rateBasedStatement"].(map[string]any)
	assert.EqualValues(t, 500, rate["limit"])
	assert.Equal(t, "IP", rate["aggregateKeyType"])
	assert.Contains(t, rs[4]["overrideAction"], "none", "block mode lets managed groups block")
	common := rs[4]["statement"].(map[string]any)["managedRuleGroupStatement"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"name": "SizeRestrictions_BODY", "actionToUse": map[string]any{"count": map[string]any{}}}},
		common["ruleActionOverrides"], "API uploads over 8 KB are counted, not refused")

	acl, _ := rec.Named("aws:wafv2/webAcl:WebAcl", "edge")
	assert.Equal(t, "CLOUDFRONT", acl.Input("scope"))
	assert.Contains(t, acl.Input("defaultAction"), "allow")
}

// CloudFront serves IPv6 too: a list that names both families matches both (an IP set per
// family under one OR), so a deny-listed client cannot just switch family (review #16).
func TestIPListsCoverBothFamilies(t *testing.T) {
	rec, err := run(Args{DenyIPs: []string{"203.0.113.0/24", "2001:db8::/32"}, AllowIPs: []string{"2001:db8:1::/48"}})
	require.NoError(t, err)
	v4 := rec.Must(t, "aws:wafv2/ipSet:IpSet", "edge-deny")
	v6 := rec.Must(t, "aws:wafv2/ipSet:IpSet", "edge-deny-ipv6")
	assert.Equal(t, "IPV4", v4.Input("ipAddressVersion"))
	assert.Equal(t, "IPV6", v6.Input("ipAddressVersion"))
	assert.Equal(t, []any{"2001:db8::/32"}, v6.Input("addresses"))
	for _, r := range rules(t, rec) {
		switch r["name"] {
		case "deny-list":
			or := r["statement"].(map[string]any)["orStatement"].(map[string]any)["statements"].([]any)
			assert.Len(t, or, 2, "both families")
		case "allow-list":
			assert.NotNil(t, r["statement"].(map[string]any)["ipSetReferenceStatement"], "one family: no OR")
		}
	}
	_, ok := rec.Named("aws:wafv2/ipSet:IpSet", "edge-allow")
	assert.False(t, ok, "no empty IPv4 set")
}

func TestCountModeAndLogging(t *testing.T) {
	rec, err := run(Args{Action: Count, LogRetentionDays: 7})
	require.NoError(t, err)
	for _, r := range rules(t, rec) {
		if a, ok := r["action"]; ok {
			assert.Contains(t, a, "count", r["name"])
		} else {
			assert.Contains(t, r["overrideAction"], "count", r["name"])
		}
	}
	lg := rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "edge-logs")
	assert.Equal(t, "aws-waf-logs-edge", lg.Input("name"), "WAF only logs to aws-waf-logs-* groups")
	assert.EqualValues(t, 7, lg.Input("retentionInDays"))
	cfg := rec.Must(t, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "edge")
	assert.Equal(t, []any{
		map[string]any{"singleHeader": map[string]any{"name": "authorization"}},
		map[string]any{"singleHeader": map[string]any{"name": "cookie"}},
	}, cfg.Input("redactedFields"))
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	for name, c := range map[string]struct {
		args Args
		want string
	}{
		"rate":     {Args{RateLimit: 5}, "RateLimit: 5 is out of range; allowed 10 to 2000000000"},
		"group":    {Args{ManagedRuleGroups: []string{"Magic"}}, `ManagedRuleGroups[0]: "Magic" is not allowed`},
		"country":  {Args{BlockCountries: []string{"North Korea"}}, `BlockCountries[0]: "North Korea" is not an ISO 3166 alpha-2 country code`},
		"ip":       {Args{DenyIPs: []string{"1.2.3.4"}}, `DenyIPs[0]: "1.2.3.4" is not a CIDR block`},
		"ip6 host": {Args{AllowIPs: []string{"2001:db8::1/32"}}, `AllowIPs[0]: "2001:db8::1/32" has host bits set`},
		"action":   {Args{Action: "challenge"}, `Action: "challenge" is not allowed; use one of count, block`},
		"twice":    {Args{ManagedRuleGroups: []string{"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesSQLiRuleSet"}}, `ManagedRuleGroups[1]: "AWSManagedRulesSQLiRuleSet" is listed twice`},
		"logs":     {Args{LogRetentionDays: 10}, "LogRetentionDays: 10 is not a CloudWatch retention period"},
		"scope":    {Args{Scope: "GLOBAL"}, `Scope: "GLOBAL" is not allowed`},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := run(c.args)
			rec.Refused(t, err, c.want)
		})
	}
}
