package loadbalancer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
)

const (
	tLB       = "aws:lb/loadBalancer:LoadBalancer"
	tTG       = "aws:lb/targetGroup:TargetGroup"
	tListener = "aws:lb/listener:Listener"
	tRule     = "aws:lb/listenerRule:ListenerRule"
	tSGRule   = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tSG       = "aws:ec2/securityGroup:SecurityGroup"
)

func baseArgs() Args {
	return Args{
		Region: "us-west-2", VPCID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		ZoneID: pulumi.String("Z0ZONE"), HostName: "origin.dev.scalemate.io",
		OriginVerifySecret:    pulumi.ToSecret(pulumi.String("s3cret")).(pulumi.StringOutput),
		WebACLARN:             pulumi.String("arn:aws:wafv2:us-west-2:123456789012:regional/webacl/origin/1"),
		TargetSecurityGroupID: pulumi.String("sg-cluster"),
		Routes: []Route{
			{Name: "web", PathPattern: "/*", Port: 8080, HealthCheckPath: "/healthz/ready"},
			{Name: "api", PathPattern: "/api/*", Port: 8080, HealthCheckPath: "/healthz/ready"},
		},
	}
}

// run creates the load balancer and, unless weights is nil, its rules.
func run(args Args, weights map[string]int) (*mocktest.Recorder, error) {
	return mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		lb, err := New(ctx, "scalemate-dev", args)
		if err != nil || weights == nil {
			return err
		}
		return lb.Forward(ctx, weights, nil)
	})
}

func mustRun(t *testing.T, args Args, weights map[string]int) *mocktest.Recorder {
	t.Helper()
	rec, err := run(args, weights)
	require.NoError(t, err)
	return rec
}

func TestLoadBalancerHardening(t *testing.T) {
	args := baseArgs()
	args.DeletionProtection = true
	rec := mustRun(t, args, nil)
	lb := rec.Must(t, tLB, "scalemate-dev")
	assert.Equal(t, false, lb.Input("internal"))
	assert.Equal(t, "application", lb.Input("loadBalancerType"))
	assert.Equal(t, true, lb.Input("dropInvalidHeaderFields"), "FSBP ELB.4")
	assert.Equal(t, "strictest", lb.Input("desyncMitigationMode"), "FSBP ELB.12")
	assert.Equal(t, true, lb.Input("enableDeletionProtection"), "FSBP ELB.6")
	logs := lb.Input("accessLogs").(map[string]any)
	assert.Equal(t, true, logs["enabled"], "FSBP ELB.5")
	assert.Equal(t, "scalemate-dev", logs["prefix"])
	assert.Contains(t, lb.Dependencies, "urn:pulumi:dev::test::scalemate:loadbalancer:LoadBalancer$aws:s3/bucketPolicy:BucketPolicy::scalemate-dev-logs",
		"AWS writes a test object when logging is turned on: the grant comes first")
	assert.Len(t, lb.Input("securityGroups"), 2)

	assoc := rec.Must(t, "aws:wafv2/webAclAssociation:WebAclAssociation", "scalemate-dev")
	assert.Equal(t, "arn:aws:wafv2:us-west-2:123456789012:regional/webacl/origin/1", assoc.Input("webAclArn"))
	assert.True(t, assoc.DeleteBeforeReplace, "a replaced association is deleted first (pulumi-aws #4782)")

	alias := rec.Must(t, "aws:route53/record:Record", "scalemate-dev")
	assert.Equal(t, "origin.dev.scalemate.io", alias.Input("name"))
	assert.Equal(t, "A", alias.Input("type"))
	assert.Equal(t, "Z0ZONE", alias.Input("zoneId"))
	cert := rec.Must(t, "aws:acm/certificate:Certificate", "scalemate-dev")
	assert.Equal(t, "origin.dev.scalemate.io", cert.Input("domainName"))
	rec.Must(t, "aws:route53/record:Record", "scalemate-dev-validation-origin-dev-scalemate-io")
}

func TestListenersHTTPSOnly(t *testing.T) {
	rec := mustRun(t, baseArgs(), nil)
	https := rec.Must(t, tListener, "scalemate-dev-https")
	assert.Equal(t, "HTTPS", https.Input("protocol"))
	assert.Equal(t, TLSPolicy, https.Input("sslPolicy"))
	assert.Equal(t, "arn:aws:acm:us-west-2:123456789012:scalemate-dev", https.Input("certificateArn"))
	def := https.Input("defaultActions").([]any)[0].(map[string]any)
	assert.Equal(t, "fixed-response", def["type"], "what no rule matches (no CDN header) is refused")
	assert.Equal(t, "403", def["fixedResponse"].(map[string]any)["statusCode"])

	http := rec.Must(t, tListener, "scalemate-dev-http")
	redirect := http.Input("defaultActions").([]any)[0].(map[string]any)
	assert.Equal(t, "redirect", redirect["type"])
	assert.Equal(t, map[string]any{"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}, redirect["redirect"])
}

// Each listener port has a group of its own (the prefix list weighs 55 of a group's 60 rules),
// and the pods admit the load balancer on their ports only.
func TestOnlyCloudFrontReachesIt(t *testing.T) {
	rec := mustRun(t, baseArgs(), nil)
	for _, port := range []float64{443, 80} {
		name := map[float64]string{443: "scalemate-dev-443", 80: "scalemate-dev-80"}[port]
		sg := rec.Must(t, tSG, name)
		assert.Nil(t, sg.Input("egress"), "no inline rules: they would overwrite the separate ones")
		rule := rec.Must(t, tSGRule, name+"-cloudfront")
		assert.Equal(t, "ingress", rule.Input("type"))
		assert.Equal(t, []any{"pl-82a045eb"}, rule.Input("prefixListIds"))
		assert.Equal(t, port, rule.Input("fromPort"))
		assert.Equal(t, port, rule.Input("toPort"))
		assert.Nil(t, rule.Input("cidrBlocks"))
	}
	toPods := rec.Must(t, tSGRule, "scalemate-dev-to-targets-8080")
	assert.Equal(t, "egress", toPods.Input("type"))
	assert.Equal(t, "sg-cluster", toPods.Input("sourceSecurityGroupId"))
	fromLB := rec.Must(t, tSGRule, "scalemate-dev-from-lb-8080")
	assert.Equal(t, "sg-cluster", fromLB.Input("securityGroupId"))
	assert.Equal(t, 8080.0, fromLB.Input("fromPort"))
	assert.Len(t, rec.OfType(tSGRule), 4, "one shared port: one rule each way")
}

func TestAccessLogBucketGrantsTheLogWriterOnly(t *testing.T) {
	rec := mustRun(t, baseArgs(), nil)
	policy := rec.Must(t, "aws:s3/bucketPolicy:BucketPolicy", "scalemate-dev-logs")
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(policy.Input("policy").(string)), &doc))
	var principals []any
	for _, s := range doc.Statement {
		if s.Effect == "Allow" {
			assert.Equal(t, []string{"s3:PutObject"}, s.Action)
			assert.Equal(t, "arn:aws:s3:us-west-2:123456789012:scalemate-dev-logs/scalemate-dev/AWSLogs/*", s.Resource)
			principals = append(principals, s.Principal)
		}
	}
	assert.ElementsMatch(t, []any{
		map[string]any{"AWS": "arn:aws:iam::797873946194:root"},
		map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
	}, principals)
	sse := rec.Must(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "scalemate-dev-logs")
	assert.Contains(t, fmt.Sprint(sse.Input("rules")), "AES256", "ALB log delivery supports SSE-S3 only")
}

func TestTargetGroupsPerRouteAndColour(t *testing.T) {
	rec := mustRun(t, baseArgs(), nil)
	require.Len(t, rec.OfType(tTG), 4)
	for _, name := range []string{"scalemate-dev-web-blue", "scalemate-dev-web-green", "scalemate-dev-api-blue", "scalemate-dev-api-green"} {
		tg := rec.Must(t, tTG, name)
		assert.Equal(t, "ip", tg.Input("targetType"), "pods are registered by IP")
		assert.Equal(t, 8080.0, tg.Input("port"))
		assert.Equal(t, 30.0, tg.Input("deregistrationDelay"))
		hc := tg.Input("healthCheck").(map[string]any)
		assert.Equal(t, "/healthz/ready", hc["path"])
		assert.Equal(t, "traffic-port", hc["port"])
		assert.Nil(t, tg.Input("name"), "autonamed: a replacement never collides with the old group")
	}
}

// The logical names stay within what Pulumi's autonaming can fit into AWS's 32 characters.
func TestPriorityBounds(t *testing.T) {
	long := Route{Name: "x", PathPattern: "/" + strings.Repeat("a", 127)}
	assert.GreaterOrEqual(t, priority(long), 100, "ALB priorities start at 1")
	assert.Greater(t, priority(Route{Name: "web", PathPattern: "/*"}), priority(Route{Name: "a", PathPattern: "/a"}), "the catch-all last")
	assert.LessOrEqual(t, keepAliveBand+priority(Route{Name: "web", PathPattern: "/*"}), 50000)
}

func TestTargetGroupNamesFit(t *testing.T) {
	for _, c := range []struct{ name, route, want string }{
		{"scalemate-dev", "api", "scalemate-dev-api-green"},
		{"scalemate-staging", "api", "scalemate-stag-api-green"},
		{"scalemate-staging", "notification", "scale-notification-green"},
		{"x", "notification", "x-notification-green"},
	} {
		got := targetGroupLogical(c.name, c.route, "green")
		assert.Equal(t, c.want, got)
		assert.LessOrEqual(t, len(got), maxLogicalName, got)
	}
}

func TestRulesForwardByWeightBehindTheHeader(t *testing.T) {
	rec := mustRun(t, baseArgs(), map[string]int{"blue": 90, "green": 10})
	api := rec.Must(t, tRule, "scalemate-dev-api")
	web := rec.Must(t, tRule, "scalemate-dev-web")
	assert.Less(t, api.Input("priority"), web.Input("priority"), "specific paths first, the catch-all last")
	assert.Equal(t, 12899.0, web.Input("priority"))
	action := api.Input("actions").([]any)[0].(map[string]any)
	assert.Equal(t, "forward", action["type"])
	groups := action["forward"].(map[string]any)["targetGroups"].([]any)
	assert.Equal(t, []any{
		map[string]any{"arn": "arn:aws:lb:us-west-2:123456789012:scalemate-dev-api-blue", "weight": 90.0},
		map[string]any{"arn": "arn:aws:lb:us-west-2:123456789012:scalemate-dev-api-green", "weight": 10.0},
	}, groups)
	conditions := api.Input("conditions").([]any)
	require.Len(t, conditions, 2)
	header := conditions[0].(map[string]any)["httpHeader"].(map[string]any)
	assert.Equal(t, "X-Origin-Verify", header["httpHeaderName"])
	secret, ok := header["values"].([]any)[0].(*resource.Secret)
	require.True(t, ok, "the header value stays a secret")
	assert.Equal(t, "s3cret", secret.Element.StringValue())
	assert.True(t, api.Inputs["conditions"].ContainsSecrets(), "the header value stays a secret")
	assert.Equal(t, []any{"/api/*"}, conditions[1].(map[string]any)["pathPattern"].(map[string]any)["values"])
	assert.Len(t, web.Input("conditions"), 1, "the catch-all matches the header only")
}

// The idle colour stays in the action at weight 0, so its targets are health-checked.
// Priorities depend on each route alone: adding a route moves no other rule.
func TestStablePriorities(t *testing.T) {
	rec := mustRun(t, baseArgs(), map[string]int{"blue": 100})
	before := map[string]any{}
	for _, r := range rec.OfType(tRule) {
		before[r.Name] = r.Input("priority")
	}
	args := baseArgs()
	args.Routes = append(args.Routes, Route{Name: "admin", PathPattern: "/api/admin/*", Port: 8080, HealthCheckPath: "/ready"})
	rec = mustRun(t, args, map[string]int{"blue": 100})
	for name, p := range before {
		assert.Equal(t, p, rec.Must(t, tRule, name).Input("priority"), name)
	}
	assert.Less(t, rec.Must(t, tRule, "scalemate-dev-admin").Input("priority"), before["scalemate-dev-api"], "the longer path first")
	assert.Len(t, rec.OfType(tRule), 6, "a traffic and a keep-alive rule per route")
}

// Both colours' groups are named by a rule no request matches, from the start: their targets
// are health-checked (and pods' readiness gates can pass) before any traffic rule exists.
func TestGroupsKeptInUse(t *testing.T) {
	rec := mustRun(t, baseArgs(), nil)
	keep := rec.Must(t, tRule, "scalemate-dev-api-keep-alive")
	groups := keep.Input("actions").([]any)[0].(map[string]any)["forward"].(map[string]any)["targetGroups"].([]any)
	require.Len(t, groups, 2)
	conditions := keep.Input("conditions").([]any)
	require.Len(t, conditions, 1, "a random header value CloudFront never sends")
	assert.Equal(t, "X-Scalemate-Keep-Alive", conditions[0].(map[string]any)["httpHeader"].(map[string]any)["httpHeaderName"])
	assert.True(t, keep.Inputs["conditions"].ContainsSecrets())
	assert.GreaterOrEqual(t, keep.Input("priority"), 20000.0, "after every traffic rule")
	_, ok := rec.Named(tRule, "scalemate-dev-api")
	assert.False(t, ok, "the traffic rule comes with Forward")
}

func TestIdleColourKeptAtZero(t *testing.T) {
	rec := mustRun(t, baseArgs(), map[string]int{"blue": 100, "green": 0})
	groups := rec.Must(t, tRule, "scalemate-dev-web").Input("actions").([]any)[0].(map[string]any)["forward"].(map[string]any)["targetGroups"].([]any)
	require.Len(t, groups, 2)
	assert.Equal(t, 0.0, groups[1].(map[string]any)["weight"])
}

func TestMaintenancePageWithoutVersions(t *testing.T) {
	rec := mustRun(t, baseArgs(), map[string]int{"blue": 0, "green": 0})
	for _, name := range []string{"scalemate-dev-api", "scalemate-dev-web"} {
		action := rec.Must(t, tRule, name).Input("actions").([]any)[0].(map[string]any)
		assert.Equal(t, "fixed-response", action["type"], name)
		fixed := action["fixedResponse"].(map[string]any)
		assert.Equal(t, "503", fixed["statusCode"])
		assert.LessOrEqual(t, len(fixed["messageBody"].(string)), 1024, "ALB's limit")
	}
}

func TestRulesWaitForWhatMustBeReady(t *testing.T) {
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		lb, err := New(ctx, "scalemate-dev", baseArgs())
		if err != nil {
			return err
		}
		rollout, err := random.NewRandomId(ctx, "rollout", &random.RandomIdArgs{ByteLength: pulumi.Int(4)})
		if err != nil {
			return err
		}
		return lb.Forward(ctx, map[string]int{"blue": 100}, []pulumi.Resource{rollout})
	})
	require.NoError(t, err)
	rollout := rec.Must(t, "random:index/randomId:RandomId", "rollout")
	for _, name := range []string{"scalemate-dev-api", "scalemate-dev-web"} {
		assert.Contains(t, rec.Must(t, tRule, name).Dependencies, rollout.URN, name)
	}
	assert.NotContains(t, rec.Must(t, tRule, "scalemate-dev-api-keep-alive").Dependencies, rollout.URN, "keep-alive rules never wait")
}

func TestBadWeightsRefused(t *testing.T) {
	for _, c := range []struct {
		weights map[string]int
		want    string
	}{
		{map[string]int{"blue": 60, "green": 30}, "add up to 90"},
		{map[string]int{"red": 100}, `"red" is not a colour`},
		{map[string]int{"blue": 120, "green": -20}, "weights[blue]: 120 is out of range"},
	} {
		_, err := run(baseArgs(), c.weights)
		assert.ErrorContains(t, err, c.want)
	}
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"vpc":       {func(a *Args) { a.VPCID = nil }, "VPCID: must be set"},
		"secret":    {func(a *Args) { a.OriginVerifySecret = nil }, "OriginVerifySecret: must be set"},
		"waf":       {func(a *Args) { a.WebACLARN = nil }, "WebACLARN: must be set"},
		"region":    {func(a *Args) { a.Region = "mars-1" }, `Region: "mars-1" is not a region`},
		"host":      {func(a *Args) { a.HostName = "Origin" }, `HostName: "Origin" is not a lower-case DNS name`},
		"no routes": {func(a *Args) { a.Routes = nil }, "Routes: at least one route is required"},
		"route name": {func(a *Args) { a.Routes[0].Name = "notifications-service" },
			`Routes[0].Name: "notifications-service" is not a DNS label of at most 12 characters`},
		"same path": {func(a *Args) { a.Routes[1].PathPattern = "/*" }, `Routes[1].PathPattern: "/*" is also an earlier route's`},
		"same priority": {func(a *Args) {
			a.Routes = append(a.Routes, Route{Name: "a", PathPattern: "/a/*", Port: 8080, HealthCheckPath: "/r"}, Route{Name: "a", PathPattern: "/b/*", Port: 8080, HealthCheckPath: "/r"})
		}, `gets the same rule priority as "a"`},
		"same name": {func(a *Args) { a.Routes[1].Name = "web" }, `Routes[1].Name: "web" is listed twice`},
		"path":      {func(a *Args) { a.Routes[1].PathPattern = "api/*" }, `Routes[1].PathPattern: "api/*" is not a path pattern`},
		"health":    {func(a *Args) { a.Routes[0].HealthCheckPath = "" }, `Routes[0].HealthCheckPath: "" is not an HTTP path`},
		"port":      {func(a *Args) { a.Routes[0].Port = 0 }, "Routes[0].Port: 0 is out of range"},
		"idle":      {func(a *Args) { a.IdleTimeoutSeconds = 5000 }, "IdleTimeoutSeconds: 5000 is out of range"},
		"header":    {func(a *Args) { a.OriginVerifyHeader = "X Origin" }, `OriginVerifyHeader: "X Origin" is not an HTTP header name`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			args.Routes = append([]Route(nil), args.Routes...)
			c.edit(&args)
			rec, err := mocktest.Component(New, "scalemate-dev", args)
			rec.Refused(t, err, `invalid loadbalancer args for "scalemate-dev"`, c.want)
		})
	}
	rec, err := mocktest.Component(New, "scalemate-development-long", baseArgs())
	rec.Refused(t, err, `name: "scalemate-development-long" is longer than 24 characters`)
}
