package network

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{Region: "us-west-2", CIDR: "10.0.0.0/16", AvailabilityZones: []string{"us-west-2a", "us-west-2b", "us-west-2c"}}
}

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "net", args)
}

func mustRun(t *testing.T, args Args) *mocktest.Recorder {
	t.Helper()
	return mocktest.MustComponent(t, New, "net", args)
}

// privateDefaultRoutes maps each private route table to the NAT gateway its default route uses.
func privateDefaultRoutes(rec *mocktest.Recorder) map[string]any {
	out := map[string]any{}
	for _, rt := range rec.OfType("aws:ec2/routeTable:RouteTable") {
		if !strings.HasPrefix(rt.Name, "net-private-") {
			continue
		}
		routes, _ := rt.Input("routes").([]any)
		if len(routes) == 0 {
			out[rt.Name] = nil
			continue
		}
		out[rt.Name] = routes[0].(map[string]any)["natGatewayId"]
	}
	return out
}

func TestNATLayouts(t *testing.T) {
	none := baseArgs()
	none.NATGateways = NATNone
	rec := mustRun(t, none)
	assert.Empty(t, rec.OfType("aws:ec2/natGateway:NatGateway"))
	assert.Empty(t, rec.OfType("aws:ec2/eip:Eip"))
	assert.Equal(t, map[string]any{"net-private-us-west-2a": nil, "net-private-us-west-2b": nil, "net-private-us-west-2c": nil}, privateDefaultRoutes(rec))

	rec = mustRun(t, baseArgs()) // single is the default
	require.Len(t, rec.OfType("aws:ec2/natGateway:NatGateway"), 1)
	for rt, nat := range privateDefaultRoutes(rec) {
		assert.Equal(t, "net-us-west-2a-id", nat, "%s routes through the one NAT gateway", rt)
	}

	perAZ := baseArgs()
	perAZ.NATGateways = NATPerAZ
	rec = mustRun(t, perAZ)
	nats := rec.OfType("aws:ec2/natGateway:NatGateway")
	require.Len(t, nats, 3)
	for _, nat := range nats {
		assert.Equal(t, strings.Replace(nat.Name, "net-", "net-public-", 1)+"-id", nat.Input("subnetId"), "NAT gateway %s sits in its AZ's public subnet", nat.Name)
	}
	for _, az := range perAZ.AvailabilityZones {
		assert.Equal(t, "net-"+az+"-id", privateDefaultRoutes(rec)["net-private-"+az], "private subnet in %s uses its own AZ's NAT gateway", az)
	}
}

func TestSubnetsPerTier(t *testing.T) {
	rec := mustRun(t, baseArgs())
	subnets := rec.OfType("aws:ec2/subnet:Subnet")
	require.Len(t, subnets, 9)
	byName := map[string]mocktest.Resource{}
	for _, s := range subnets {
		byName[s.Name] = s
		assert.Equal(t, false, s.Input("mapPublicIpOnLaunch"), "%s must not hand out public IPs", s.Name)
	}
	assert.Equal(t, "10.0.0.0/19", byName["net-private-us-west-2a"].Input("cidrBlock"))
	assert.Equal(t, "10.0.128.0/22", byName["net-public-us-west-2a"].Input("cidrBlock"))
	assert.Equal(t, "10.0.146.0/24", byName["net-isolated-us-west-2c"].Input("cidrBlock"))
	assert.Equal(t, "us-west-2b", byName["net-isolated-us-west-2b"].Input("availabilityZone"))

	tags := func(name string) map[string]any { return byName[name].Input("tags").(map[string]any) }
	assert.Equal(t, "1", tags("net-public-us-west-2a")["kubernetes.io/role/elb"])
	assert.Equal(t, "1", tags("net-private-us-west-2a")["kubernetes.io/role/internal-elb"])
	assert.NotContains(t, tags("net-isolated-us-west-2a"), "kubernetes.io/role/elb")
	assert.NotContains(t, tags("net-isolated-us-west-2a"), "kubernetes.io/role/internal-elb")

	// The isolated route table has no route out of the VPC.
	rt := rec.Must(t, "aws:ec2/routeTable:RouteTable", "net-isolated")
	assert.Empty(t, rt.Input("routes"))
	assert.Len(t, rec.OfType("aws:ec2/routeTableAssociation:RouteTableAssociation"), 9)
}

func TestDefaultSecurityGroupLockedAndFlowLogs(t *testing.T) {
	args := baseArgs()
	args.FlowLogRetentionDays = 365
	args.FlowLogAggregationSeconds = 60
	rec := mustRun(t, args)

	sg := rec.OfType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
	require.Len(t, sg, 1)
	assert.Empty(t, sg[0].Input("ingress"))
	assert.Empty(t, sg[0].Input("egress"))

	group := rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
	assert.EqualValues(t, 365, group.Input("retentionInDays"))
	assert.Equal(t, "/aws/vpc/net/flow-logs", group.Input("name"))

	flow := rec.OfType("aws:ec2/flowLog:FlowLog")
	require.Len(t, flow, 1)
	assert.Equal(t, "ALL", flow[0].Input("trafficType"))
	assert.EqualValues(t, 60, flow[0].Input("maxAggregationInterval"))
	assert.Equal(t, "cloud-watch-logs", flow[0].Input("logDestinationType"))

	policy := rec.Must(t, "aws:iam/rolePolicy:RolePolicy", "net-flow-logs")
	assert.Contains(t, policy.Input("policy"), `"Resource":["arn:aws:cloudwatch:us-west-2:123456789012:net-flow-logs"`, "flow log role may write only to its group")
	assert.NotContains(t, policy.Input("policy"), `"Resource":"*"`)
	assert.Contains(t, policy.Input("policy"), `"logs:DescribeLogGroups"`, "AWS's documented flow-log policy")

	// Only this account's flow logs may assume the role (confused deputy; review #23).
	trust := rec.Must(t, "aws:iam/role:Role", "net-flow-logs").Input("assumeRolePolicy")
	assert.Contains(t, trust, `"aws:SourceAccount":"123456789012"`)
	assert.Contains(t, trust, `"aws:SourceArn":"arn:aws:ec2:us-west-2:123456789012:vpc-flow-log/*"`)
}

func TestEndpoints(t *testing.T) {
	rec := mustRun(t, baseArgs())
	eps := rec.OfType("aws:ec2/vpcEndpoint:VpcEndpoint")
	require.Len(t, eps, 1, "only the S3 gateway endpoint by default")
	assert.Equal(t, "com.amazonaws.us-west-2.s3", eps[0].Input("serviceName"))
	assert.Equal(t, "Gateway", eps[0].Input("vpcEndpointType"))
	assert.Len(t, eps[0].Input("routeTableIds"), 3, "the private route tables")
	// An identity perimeter: this account's principals anywhere, anyone only on the AWS-owned
	// buckets nodes read (ECR layers, Amazon Linux repositories).
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(eps[0].Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 2)
	assert.Equal(t, iampolicy.Condition{"StringEquals": {"aws:PrincipalAccount": "123456789012"}}, doc.Statement[0].Condition)
	assert.Equal(t, []string{"s3:GetObject"}, doc.Statement[1].Action)
	assert.Empty(t, doc.Statement[1].Condition)
	assert.Contains(t, doc.Statement[1].Resource, "arn:aws:s3:::prod-us-west-2-starport-layer-bucket/*")
	assert.Contains(t, doc.Statement[1].Resource, "arn:aws:s3:::prod-registry-k8s-io-us-west-2/*", "registry.k8s.io's images (cluster-autoscaler, metrics-server)")

	args := baseArgs()
	args.InterfaceEndpoints = []string{"ecr.api", "sts"}
	rec = mustRun(t, args)
	ecr := rec.Must(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "net-ecr.api")
	assert.Equal(t, "com.amazonaws.us-west-2.ecr.api", ecr.Input("serviceName"))
	assert.Equal(t, true, ecr.Input("privateDnsEnabled"))
	assert.Len(t, ecr.Input("subnetIds"), 3)
	sg := rec.Must(t, "aws:ec2/securityGroup:SecurityGroup", "net-endpoints")
	ingress := sg.Input("ingress").([]any)
	require.Len(t, ingress, 1)
	rule := ingress[0].(map[string]any)
	assert.EqualValues(t, 443, rule["fromPort"])
	assert.Equal(t, []any{"10.0.0.0/16"}, rule["cidrBlocks"], "only from inside the VPC")
}

func TestChildrenAreParented(t *testing.T) {
	rec := mustRun(t, baseArgs())
	for _, r := range rec.All() {
		if r.Custom {
			assert.True(t, strings.HasSuffix(r.Parent, "scalemate:network:Network::net"), "%s %s has parent %q", r.Type, r.Name, r.Parent)
		}
	}
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"cidr":      {func(a *Args) { a.CIDR = "10.0.0.0" }, `CIDR: "10.0.0.0" is not a CIDR block`},
		"one az":    {func(a *Args) { a.AvailabilityZones = a.AvailabilityZones[:1] }, "AvailabilityZones: 1 zones given; allowed 2 to 4"},
		"dup az":    {func(a *Args) { a.AvailabilityZones[1] = "us-west-2a" }, `AvailabilityZones[1]: "us-west-2a" is empty or repeated`},
		"nat":       {func(a *Args) { a.NATGateways = "double" }, `NATGateways: "double" is not allowed; use one of none, single, perAz`},
		"region":    {func(a *Args) { a.Region = "" }, "Region: must be set"},
		"fit":       {func(a *Args) { a.CIDR = "10.0.0.0/22" }, "SubnetPrefixes: private subnet prefix /19 does not fit"},
		"interval":  {func(a *Args) { a.FlowLogAggregationSeconds = 5 }, "FlowLogAggregationSeconds: 5 is not allowed"},
		"retention": {func(a *Args) { a.FlowLogRetentionDays = -1 }, "FlowLogRetentionDays: -1 is out of range"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args)
			rec.Refused(t, err, `invalid network args for "net"`, c.want)
		})
	}
}
