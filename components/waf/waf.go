// Package waf is an AWS WAFv2 web ACL for the edge: AWS managed rule groups, a rate limit per
// client IP, optional geo block and IP allow/deny lists, each rule counting or blocking as the
// environment decides, CloudWatch metrics and sampled requests on every rule, and logging to a
// log group with retention and the Authorization and Cookie headers redacted. AWS Shield
// Standard protects every CloudFront distribution implicitly.
package waf

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/validate"
)

// Rule actions.
const (
	// Count lets matching requests through and counts them (tuning, non-production).
	Count = "count"
	// Block refuses matching requests.
	Block = "block"
)

// ManagedRuleGroups are the AWS managed rule groups this component offers.
var ManagedRuleGroups = []string{
	"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
	"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList", "AWSManagedRulesLinuxRuleSet",
	"AWSManagedRulesBotControlRuleSet",
}

// DefaultRuleGroups are used when Args.ManagedRuleGroups is empty.
var DefaultRuleGroups = []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"}

// Rate limits AWS accepts for a rate-based rule (requests per IP in the evaluation window).
const (
	MinRateLimit = 10
	MaxRateLimit = 2000000000
)

var (
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	headerRE  = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// countedRules are managed rules that would break the application and only count: the Common
// rule set's 8 KB body limit refuses ordinary API uploads.
var countedRules = map[string][]string{"AWSManagedRulesCommonRuleSet": {"SizeRestrictions_BODY"}}

// Args configures a WAF.
type Args struct {
	// Scope is CLOUDFRONT (deploy with a us-east-1 provider) or REGIONAL. Default CLOUDFRONT.
	Scope string
	// Action is Count or Block for every rule. Default Block.
	Action string
	// RateLimit is requests per client IP per 5 minutes before the rate rule acts. Default 2000.
	RateLimit int
	// ManagedRuleGroups are AWS managed rule groups by name. Default DefaultRuleGroups.
	ManagedRuleGroups []string
	// BlockCountries are ISO 3166 alpha-2 codes whose requests are refused.
	BlockCountries []string
	// AllowIPs are IPv4 or IPv6 CIDRs always allowed (checked first); DenyIPs are always refused.
	AllowIPs, DenyIPs []string
	// LogRetentionDays of the aws-waf-logs-<name> group. Default 30.
	LogRetentionDays int
	// BehindCloudFront marks a REGIONAL ACL of an origin that only CloudFront reaches: every
	// request's source address is a CloudFront edge, so rules on addresses (the rate limit per
	// IP, IP sets, countries, the IP reputation and anonymous-IP groups) would act on CloudFront
	// itself. They are refused; the distribution's ACL applies them to viewers. Only content
	// rules remain (default Common, KnownBadInputs, SQLi).
	BehindCloudFront bool
	// RedactHeaders are further request headers left out of the logs (authorization and
	// cookie always are): an origin ACL redacts the CDN's secret origin header. With any,
	// sampled requests (which cannot be redacted) are off. Default none.
	RedactHeaders []string
}

// addressRuleGroups are managed groups that judge the source address.
var addressRuleGroups = []string{"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList"}

// WAF is the component resource.
type WAF struct {
	pulumi.ResourceState

	// WebACLARN is what a CloudFront distribution's webAclId (or an ALB association) takes.
	WebACLARN pulumi.StringOutput `pulumi:"webAclArn"`
	// LogGroupName is the WAF log group.
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
}

func (a Args) withDefaults() Args {
	if a.Scope == "" {
		a.Scope = "CLOUDFRONT"
	}
	if a.Action == "" {
		a.Action = Block
	}
	if a.RateLimit == 0 {
		a.RateLimit = 2000
	}
	if len(a.ManagedRuleGroups) == 0 {
		a.ManagedRuleGroups = DefaultRuleGroups
		if a.BehindCloudFront {
			a.ManagedRuleGroups = slices.DeleteFunc(slices.Clone(DefaultRuleGroups), func(g string) bool { return slices.Contains(addressRuleGroups, g) })
		}
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = 30
	}
	return a
}

// Check validates the args (they hold no inputs from other components).
func (a Args) Check(name string) error {
	a = a.withDefaults()
	var p validate.Problems
	p.OneOf("Scope", a.Scope, "CLOUDFRONT", "REGIONAL")
	p.OneOf("Action", a.Action, Count, Block)
	p.IntRange("RateLimit", a.RateLimit, MinRateLimit, MaxRateLimit)
	for i, g := range a.ManagedRuleGroups {
		p.OneOf(fmt.Sprintf("ManagedRuleGroups[%d]", i), g, ManagedRuleGroups...)
		if slices.Index(a.ManagedRuleGroups, g) != i {
			p.Addf(fmt.Sprintf("ManagedRuleGroups[%d]", i), "%q is listed twice (rule names must be unique)", g)
		}
	}
	for i, c := range a.BlockCountries {
		if !countryRE.MatchString(c) {
			p.Addf(fmt.Sprintf("BlockCountries[%d]", i), "%q is not an ISO 3166 alpha-2 country code (e.g. KP)", c)
		}
	}
	for field, list := range map[string][]string{"AllowIPs": a.AllowIPs, "DenyIPs": a.DenyIPs} {
		for i, c := range list {
			p.IPCIDR(fmt.Sprintf("%s[%d]", field, i), c)
		}
	}
	p.LogRetention("LogRetentionDays", a.LogRetentionDays)
	for i, h := range a.RedactHeaders {
		if !headerRE.MatchString(h) {
			p.Addf(fmt.Sprintf("RedactHeaders[%d]", i), "%q is not a lower-case header name", h)
		}
	}
	if a.BehindCloudFront {
		if a.Scope != "REGIONAL" {
			p.Addf("BehindCloudFront", "applies to a REGIONAL ACL (the origin's), not to %s", a.Scope)
		}
		for field, set := range map[string]bool{"AllowIPs": len(a.AllowIPs) > 0, "DenyIPs": len(a.DenyIPs) > 0, "BlockCountries": len(a.BlockCountries) > 0} {
			if set {
				p.Addf(field, "behind CloudFront every source address is CloudFront's; set it on the distribution's ACL")
			}
		}
		for i, g := range a.ManagedRuleGroups {
			if slices.Contains(addressRuleGroups, g) {
				p.Addf(fmt.Sprintf("ManagedRuleGroups[%d]", i), "%s judges source addresses, which are CloudFront's behind it; keep it on the distribution's ACL", g)
			}
		}
	}
	return p.Err(fmt.Sprintf("invalid waf args for %q", name))
}

func (a Args) visibility(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
	return wafv2.WebAclRuleVisibilityConfigArgs{
		CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(a.sampled()), MetricName: pulumi.String(metric),
	}
}

// sampled reports whether sampled requests are kept: not when a header must stay out of
// sight, since samples show every header and take no redaction.
func (a Args) sampled() bool { return len(a.RedactHeaders) == 0 }

// action is the rule action for the component's mode.
func (a Args) action() wafv2.WebAclRuleActionArgs {
	if a.Action == Count {
		return wafv2.WebAclRuleActionArgs{Count: wafv2.WebAclRuleActionCountArgs{}}
	}
	return wafv2.WebAclRuleActionArgs{Block: wafv2.WebAclRuleActionBlockArgs{}}
}

// New creates the web ACL and its logging.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*WAF, error) {
	if err := args.Check(name); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	w := &WAF{}
	if err := ctx.RegisterComponentResource("scalemate:waf:WAF", name, w, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(w)

	var rules wafv2.WebAclRuleArray
	priority := 0
	add := func(rule wafv2.WebAclRuleArgs) {
		rule.Priority = pulumi.Int(priority)
		priority++
		rules = append(rules, rule)
	}
	// ipStatement matches the CIDRs: one IP set per address family (WAF keeps IPv4 and IPv6
	// apart, and CloudFront serves both, so a list of one family alone is bypassed over the
	// other), the two under an OR when both are listed.
	ipStatement := func(kind string, cidrs []string) (wafv2.WebAclRuleStatementArgs, error) {
		byFamily := map[string][]string{}
		for _, c := range cidrs {
			family := "IPV4"
			if prefix, err := netip.ParsePrefix(c); err == nil && prefix.Addr().Is6() {
				family = "IPV6"
			}
			byFamily[family] = append(byFamily[family], c)
		}
		var statements wafv2.WebAclRuleStatementArray
		for _, family := range []string{"IPV4", "IPV6"} {
			if len(byFamily[family]) == 0 {
				continue
			}
			logical := name + "-" + kind
			if family == "IPV6" {
				logical += "-ipv6"
			}
			set, err := wafv2.NewIpSet(ctx, logical, &wafv2.IpSetArgs{
				Scope: pulumi.String(args.Scope), IpAddressVersion: pulumi.String(family),
				Addresses: pulumi.ToStringArray(byFamily[family]), Description: pulumi.String(kind + " list of " + name),
			}, parent)
			if err != nil {
				return wafv2.WebAclRuleStatementArgs{}, fmt.Errorf("creating %s IP set: %w", kind, err)
			}
			statements = append(statements, wafv2.WebAclRuleStatementArgs{IpSetReferenceStatement: wafv2.WebAclRuleStatementIpSetReferenceStatementArgs{Arn: set.Arn}})
		}
		if len(statements) == 1 {
			return statements[0].(wafv2.WebAclRuleStatementArgs), nil
		}
		return wafv2.WebAclRuleStatementArgs{OrStatement: wafv2.WebAclRuleStatementOrStatementArgs{Statements: statements}}, nil
	}

	if len(args.AllowIPs) > 0 {
		statement, err := ipStatement("allow", args.AllowIPs)
		if err != nil {
			return nil, err
		}
		add(wafv2.WebAclRuleArgs{Name: pulumi.String("allow-list"),
			Action:           wafv2.WebAclRuleActionArgs{Allow: wafv2.WebAclRuleActionAllowArgs{}},
			Statement:        statement,
			VisibilityConfig: args.visibility("allow-list")})
	}
	if len(args.DenyIPs) > 0 {
		statement, err := ipStatement("deny", args.DenyIPs)
		if err != nil {
			return nil, err
		}
		add(wafv2.WebAclRuleArgs{Name: pulumi.String("deny-list"), Action: args.action(),
			Statement:        statement,
			VisibilityConfig: args.visibility("deny-list")})
	}
	if len(args.BlockCountries) > 0 {
		add(wafv2.WebAclRuleArgs{Name: pulumi.String("geo-block"), Action: args.action(),
			Statement: wafv2.WebAclRuleStatementArgs{GeoMatchStatement: wafv2.WebAclRuleStatementGeoMatchStatementArgs{
				CountryCodes: pulumi.ToStringArray(args.BlockCountries)}},
			VisibilityConfig: args.visibility("geo-block")})
	}
	if !args.BehindCloudFront {
		add(wafv2.WebAclRuleArgs{Name: pulumi.String("rate-limit-per-ip"), Action: args.action(),
			Statement: wafv2.WebAclRuleStatementArgs{RateBasedStatement: wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit: pulumi.Int(args.RateLimit), AggregateKeyType: pulumi.String("IP"), EvaluationWindowSec: pulumi.Int(300)}},
			VisibilityConfig: args.visibility("rate-limit-per-ip")})
	}
	for _, group := range args.ManagedRuleGroups {
		override := wafv2.WebAclRuleOverrideActionArgs{None: wafv2.WebAclRuleOverrideActionNoneArgs{}}
		if args.Action == Count {
			override = wafv2.WebAclRuleOverrideActionArgs{Count: wafv2.WebAclRuleOverrideActionCountArgs{}}
		}
		var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
		for _, rule := range countedRules[group] {
			overrides = append(overrides, wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
				Name: pulumi.String(rule),
				ActionToUse: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
					Count: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{}},
			})
		}
		add(wafv2.WebAclRuleArgs{Name: pulumi.String(group), OverrideAction: override,
			Statement: wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
				VendorName: pulumi.String("AWS"), Name: pulumi.String(group), RuleActionOverrides: overrides}},
			VisibilityConfig: args.visibility(group)})
	}

	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Scope:            pulumi.String(args.Scope),
		Description:      pulumi.String(map[string]string{"CLOUDFRONT": "Edge", "REGIONAL": "Origin"}[args.Scope] + " protection of " + name + " (" + args.Action + " mode)"),
		DefaultAction:    wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:            rules,
		VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(args.sampled()), MetricName: pulumi.String(name)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating web ACL: %w", err)
	}

	// WAF delivers logs only to log groups whose name starts with aws-waf-logs-.
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-logs", &cloudwatch.LogGroupArgs{
		Name: pulumi.String("aws-waf-logs-" + name), RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating WAF log group: %w", err)
	}
	var redacted wafv2.WebAclLoggingConfigurationRedactedFieldArray
	for _, h := range append([]string{"authorization", "cookie"}, args.RedactHeaders...) {
		redacted = append(redacted, wafv2.WebAclLoggingConfigurationRedactedFieldArgs{
			SingleHeader: wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String(h)}})
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, name, &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn: acl.Arn, LogDestinationConfigs: pulumi.StringArray{logs.Arn}, RedactedFields: redacted,
	}, parent); err != nil {
		return nil, fmt.Errorf("configuring WAF logging: %w", err)
	}

	w.WebACLARN, w.LogGroupName = acl.Arn, logs.Name
	return w, ctx.RegisterResourceOutputs(w, pulumi.Map{"webAclArn": w.WebACLARN, "logGroupName": w.LogGroupName})
}
