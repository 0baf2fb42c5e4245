// Package network is a VPC for an EKS platform: public, private (nodes and pods) and isolated
// (data stores) subnets across 2 to 4 AZs, NAT gateways none/single/per AZ, a locked default
// security group, VPC flow logs with retention, an S3 gateway endpoint and optional interface
// endpoints.
package network

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/netplan"
	"github.com/scalemate/infra/internal/validate"
)

// NAT gateway layouts.
const (
	// NATNone gives private subnets no internet route (interface endpoints only).
	NATNone = "none"
	// NATSingle shares one NAT gateway, in the first AZ, between all private subnets.
	NATSingle = "single"
	// NATPerAZ gives every AZ its own NAT gateway, so an AZ outage cuts no other AZ's egress.
	NATPerAZ = "perAz"
)

// Args configures a Network.
type Args struct {
	// Region is the AWS region the provider deploys to; it names endpoint services. Required.
	Region string
	// CIDR is the VPC's IPv4 block, e.g. 10.0.0.0/16. Required.
	CIDR string
	// AvailabilityZones the subnets span, 2 to 4 distinct names. Required.
	AvailabilityZones []string
	// SubnetPrefixes sizes one subnet per tier. Default public /22, private /19, isolated /24.
	SubnetPrefixes netplan.Prefixes
	// NATGateways is NATNone, NATSingle or NATPerAZ. Default NATSingle.
	NATGateways string
	// InterfaceEndpoints are interface endpoint services by short name (ecr.api, sts, ...),
	// reachable on 443 from the VPC with private DNS. Default none.
	InterfaceEndpoints []string
	// FlowLogRetentionDays is the flow log group's retention. Default 30.
	FlowLogRetentionDays int
	// FlowLogAggregationSeconds is 60 or 600. Default 600.
	FlowLogAggregationSeconds int
}

// Network is the component resource.
type Network struct {
	pulumi.ResourceState

	// VPCID is the VPC's id.
	VPCID pulumi.StringOutput `pulumi:"vpcId"`
	// CIDR is the VPC's block.
	CIDR pulumi.StringOutput `pulumi:"cidr"`
	// AvailabilityZones are the AZs in subnet order.
	AvailabilityZones pulumi.StringArrayOutput `pulumi:"availabilityZones"`
	// PublicSubnetIDs hold internet-facing load balancers and NAT gateways, one per AZ.
	PublicSubnetIDs pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	// PrivateSubnetIDs hold nodes and pods, one per AZ.
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// IsolatedSubnetIDs hold data stores and have no internet route, one per AZ.
	IsolatedSubnetIDs pulumi.StringArrayOutput `pulumi:"isolatedSubnetIds"`
	// NATGatewayIDs are the NAT gateways (none, one, or one per AZ).
	NATGatewayIDs pulumi.StringArrayOutput `pulumi:"natGatewayIds"`
	// FlowLogGroupName is the CloudWatch log group receiving VPC flow logs.
	FlowLogGroupName pulumi.StringOutput `pulumi:"flowLogGroupName"`
}

// withDefaults fills unset optional fields.
func (a Args) withDefaults() Args {
	if a.SubnetPrefixes == (netplan.Prefixes{}) {
		a.SubnetPrefixes = netplan.Prefixes{Public: 22, Private: 19, Isolated: 24}
	}
	if a.NATGateways == "" {
		a.NATGateways = NATSingle
	}
	if a.FlowLogRetentionDays == 0 {
		a.FlowLogRetentionDays = 30
	}
	if a.FlowLogAggregationSeconds == 0 {
		a.FlowLogAggregationSeconds = 600
	}
	return a
}

// plan validates the defaulted args and returns the subnet layout.
func (a Args) plan(name string) (netplan.Plan, error) {
	var p validate.Problems
	p.NotEmpty("Region", a.Region)
	vpc, ok := p.CIDR("CIDR", a.CIDR)
	if n := len(a.AvailabilityZones); n < 2 || n > netplan.MaxAZs {
		p.Addf("AvailabilityZones", "%d zones given; allowed 2 to %d", n, netplan.MaxAZs)
		ok = false
	}
	seen := map[string]bool{}
	for i, az := range a.AvailabilityZones {
		if az == "" || seen[az] {
			p.Addf(fmt.Sprintf("AvailabilityZones[%d]", i), "%q is empty or repeated", az)
		}
		seen[az] = true
	}
	p.OneOf("NATGateways", a.NATGateways, NATNone, NATSingle, NATPerAZ)
	for i, svc := range a.InterfaceEndpoints {
		p.NotEmpty(fmt.Sprintf("InterfaceEndpoints[%d]", i), svc)
	}
	p.IntRange("FlowLogRetentionDays", a.FlowLogRetentionDays, 1, 3653)
	if a.FlowLogAggregationSeconds != 60 && a.FlowLogAggregationSeconds != 600 {
		p.Addf("FlowLogAggregationSeconds", "%d is not allowed; use 60 or 600", a.FlowLogAggregationSeconds)
	}
	var plan netplan.Plan
	if ok {
		var err error
		if plan, err = netplan.Subnets(vpc, len(a.AvailabilityZones), a.SubnetPrefixes); err != nil {
			p.Addf("SubnetPrefixes", "%v", err)
		}
	}
	return plan, p.Err(fmt.Sprintf("invalid network args for %q", name))
}

// New creates the network. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	args = args.withDefaults()
	plan, err := args.plan(name)
	if err != nil {
		return nil, err
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("scalemate:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)
	nameTag := func(suffix string) pulumi.StringMap {
		return pulumi.StringMap{"Name": pulumi.String(name + "-" + suffix)}
	}

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsHostnames: pulumi.Bool(true), // EKS nodes and private endpoints need DNS names
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               nameTag("vpc"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating VPC: %w", err)
	}
	// Managing the default security group without rules removes AWS's allow-all-within-group
	// rules, so nothing can use it by accident (FSBP EC2.2).
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  nameTag("default-locked"),
	}, parent); err != nil {
		return nil, fmt.Errorf("locking default security group: %w", err)
	}

	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: nameTag("igw")}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating internet gateway: %w", err)
	}

	subnets := func(tier string, cidrs []netip.Prefix, tags map[string]string) ([]*ec2.Subnet, error) {
		out := make([]*ec2.Subnet, len(cidrs))
		for i, cidr := range cidrs {
			az := args.AvailabilityZones[i]
			t := nameTag(tier + "-" + az)
			t["scalemate.io/subnet-tier"] = pulumi.String(tier)
			for k, v := range tags {
				t[k] = pulumi.String(v)
			}
			s, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-%s-%s", name, tier, az), &ec2.SubnetArgs{
				VpcId:            vpc.ID(),
				CidrBlock:        pulumi.String(cidr.String()),
				AvailabilityZone: pulumi.String(az),
				// No public IPs on launch even in public subnets: only load balancers and NAT
				// gateways live there, and they get addresses explicitly (FSBP EC2.15).
				MapPublicIpOnLaunch: pulumi.Bool(false),
				Tags:                t,
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("creating %s subnet in %s: %w", tier, az, err)
			}
			out[i] = s
		}
		return out, nil
	}
	// The role tags let the AWS Load Balancer Controller find subnets for internet-facing and
	// internal load balancers.
	public, err := subnets("public", plan.Public, map[string]string{"kubernetes.io/role/elb": "1"})
	if err != nil {
		return nil, err
	}
	private, err := subnets("private", plan.Private, map[string]string{"kubernetes.io/role/internal-elb": "1"})
	if err != nil {
		return nil, err
	}
	isolated, err := subnets("isolated", plan.Isolated, nil)
	if err != nil {
		return nil, err
	}

	routeTable := func(suffix string, members []*ec2.Subnet, routes ec2.RouteTableRouteArray) (*ec2.RouteTable, error) {
		rt, err := ec2.NewRouteTable(ctx, name+"-"+suffix, &ec2.RouteTableArgs{
			VpcId: vpc.ID(), Routes: routes, Tags: nameTag(suffix),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating route table %s: %w", suffix, err)
		}
		for i, s := range members {
			if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-%s-%d", name, suffix, i), &ec2.RouteTableAssociationArgs{
				RouteTableId: rt.ID(), SubnetId: s.ID(),
			}, parent); err != nil {
				return nil, fmt.Errorf("associating route table %s: %w", suffix, err)
			}
		}
		return rt, nil
	}
	if _, err := routeTable("public", public, ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{
		CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID(),
	}}); err != nil {
		return nil, err
	}

	var natIDs pulumi.StringArray
	natCount := map[string]int{NATNone: 0, NATSingle: 1, NATPerAZ: len(public)}[args.NATGateways]
	for i := 0; i < natCount; i++ {
		az := args.AvailabilityZones[i]
		eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", name, az), &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: nameTag("nat-" + az)}, parent)
		if err != nil {
			return nil, fmt.Errorf("allocating NAT address in %s: %w", az, err)
		}
		nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-%s", name, az), &ec2.NatGatewayArgs{
			AllocationId: eip.ID(), SubnetId: public[i].ID(), Tags: nameTag("nat-" + az),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, fmt.Errorf("creating NAT gateway in %s: %w", az, err)
		}
		natIDs = append(natIDs, nat.ID().ToStringOutput())
	}

	// One private route table per AZ, whatever the NAT layout, so moving between single and
	// perAz only changes routes, never associations.
	var endpointRouteTables pulumi.StringArray
	for i, s := range private {
		var routes ec2.RouteTableRouteArray
		if natCount > 0 {
			routes = ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{
				CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: natIDs[i%natCount],
			}}
		}
		rt, err := routeTable("private-"+args.AvailabilityZones[i], []*ec2.Subnet{s}, routes)
		if err != nil {
			return nil, err
		}
		endpointRouteTables = append(endpointRouteTables, rt.ID().ToStringOutput())
	}
	if _, err := routeTable("isolated", isolated, nil); err != nil {
		return nil, err
	}

	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Parent(n)).AccountId()
	// Image layers and other S3 traffic from nodes skip the NAT gateway (and its per-GB fee).
	if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String("com.amazonaws." + args.Region + ".s3"),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   endpointRouteTables,
		Policy: account.ApplyT(func(account string) string {
			return S3EndpointPolicy(iampolicy.Partition(args.Region), args.Region, account)
		}).(pulumi.StringOutput),
		Tags: nameTag("s3"),
	}, parent); err != nil {
		return nil, fmt.Errorf("creating S3 gateway endpoint: %w", err)
	}
	if err := interfaceEndpoints(ctx, name, args, vpc, private, parent); err != nil {
		return nil, err
	}

	logGroup, err := flowLogs(ctx, name, args, vpc, account, parent)
	if err != nil {
		return nil, err
	}

	ids := func(ss []*ec2.Subnet) pulumi.StringArrayOutput {
		var out pulumi.StringArray
		for _, s := range ss {
			out = append(out, s.ID().ToStringOutput())
		}
		return out.ToStringArrayOutput()
	}
	n.VPCID = vpc.ID().ToStringOutput()
	n.CIDR = vpc.CidrBlock
	n.AvailabilityZones = pulumi.ToStringArray(args.AvailabilityZones).ToStringArrayOutput()
	n.PublicSubnetIDs, n.PrivateSubnetIDs, n.IsolatedSubnetIDs = ids(public), ids(private), ids(isolated)
	n.NATGatewayIDs = natIDs.ToStringArrayOutput()
	n.FlowLogGroupName = logGroup.Name
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId": n.VPCID, "cidr": n.CIDR, "availabilityZones": n.AvailabilityZones,
		"publicSubnetIds": n.PublicSubnetIDs, "privateSubnetIds": n.PrivateSubnetIDs,
		"isolatedSubnetIds": n.IsolatedSubnetIDs, "natGatewayIds": n.NATGatewayIDs,
		"flowLogGroupName": n.FlowLogGroupName,
	})
}

// S3EndpointPolicy is the S3 gateway endpoint's policy, an identity perimeter: this account's
// principals reach any bucket (theirs, or another account's that grants them), and anyone may
// read the AWS-owned buckets nodes fetch from without signing as this account: ECR's image
// layers (pulls of AWS's own add-on images included), registry.k8s.io's regional mirror and
// the Amazon Linux 2023 package repositories. Credentials of another account cannot carry data out through the endpoint.
func S3EndpointPolicy(partition, region, account string) string {
	objects := func(bucket string) string { return "arn:" + partition + ":s3:::" + bucket + "/*" }
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{
			Sid: "ThisAccountsPrincipals", Effect: "Allow", Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:*"}, Resource: "*",
			Condition: iampolicy.Condition{"StringEquals": {"aws:PrincipalAccount": account}},
		},
		{
			Sid: "AWSOwnedBuckets", Effect: "Allow", Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:GetObject"},
			Resource: []string{
				objects("prod-" + region + "-starport-layer-bucket"),
				objects("al2023-repos-" + region + "-de612dc2"),
				// registry.k8s.io redirects clients in AWS to its regional bucket, read
				// anonymously (cluster-autoscaler, metrics-server).
				objects("prod-registry-k8s-io-" + region),
			},
		},
	}}.JSON()
}

// interfaceEndpoints creates the optional interface endpoints in the private subnets, reachable
// on 443 from inside the VPC only.
func interfaceEndpoints(ctx *pulumi.Context, name string, args Args, vpc *ec2.Vpc, private []*ec2.Subnet, parent pulumi.ResourceOption) error {
	if len(args.InterfaceEndpoints) == 0 {
		return nil
	}
	sg, err := ec2.NewSecurityGroup(ctx, name+"-endpoints", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("HTTPS from the VPC to interface endpoints"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description: pulumi.String("HTTPS from the VPC"),
			Protocol:    pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
			CidrBlocks: pulumi.StringArray{vpc.CidrBlock},
		}},
		Tags: pulumi.StringMap{"Name": pulumi.String(name + "-endpoints")},
	}, parent)
	if err != nil {
		return fmt.Errorf("creating endpoint security group: %w", err)
	}
	var subnetIDs pulumi.StringArray
	for _, s := range private {
		subnetIDs = append(subnetIDs, s.ID().ToStringOutput())
	}
	for _, svc := range args.InterfaceEndpoints {
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+svc, &ec2.VpcEndpointArgs{
			VpcId:             vpc.ID(),
			ServiceName:       pulumi.String("com.amazonaws." + args.Region + "." + svc),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         subnetIDs,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			Tags:              pulumi.StringMap{"Name": pulumi.String(name + "-" + svc)},
		}, parent); err != nil {
			return fmt.Errorf("creating %s interface endpoint: %w", svc, err)
		}
	}
	return nil
}

// flowLogs sends all VPC traffic metadata to a CloudWatch log group with retention, through a
// role that only this account's flow logs may assume (the confused-deputy conditions AWS
// documents) and that can write only to that group.
func flowLogs(ctx *pulumi.Context, name string, args Args, vpc *ec2.Vpc, account pulumi.StringOutput, parent pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/vpc/" + name + "/flow-logs"),
		RetentionInDays: pulumi.Int(args.FlowLogRetentionDays),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating flow log group: %w", err)
	}
	partition := iampolicy.Partition(args.Region)
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		AssumeRolePolicy: account.ApplyT(func(account string) string {
			return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
				Effect: "Allow", Principal: map[string]any{"Service": []string{"vpc-flow-logs.amazonaws.com"}},
				Action: []string{"sts:AssumeRole"},
				Condition: iampolicy.Condition{
					"StringEquals": {"aws:SourceAccount": account},
					"ArnLike":      {"aws:SourceArn": "arn:" + partition + ":ec2:" + args.Region + ":" + account + ":vpc-flow-log/*"},
				},
			}}}.JSON()
		}).(pulumi.StringOutput),
		Description: pulumi.String("VPC flow logs of " + name + " to CloudWatch Logs"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating flow log role: %w", err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: group.Arn.ApplyT(func(arn string) string {
			// AWS's documented flow-log policy, scoped to the group (DescribeLogGroups lists
			// groups, so it takes the account's group pattern).
			return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
				Resource: []string{arn, arn + ":*"},
			}, {
				Effect:   "Allow",
				Action:   []string{"logs:DescribeLogGroups"},
				Resource: strings.Join(strings.Split(arn, ":")[:5], ":") + ":log-group:*",
			}}}.JSON()
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("granting flow log role: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(args.FlowLogAggregationSeconds),
		Tags:                   pulumi.StringMap{"Name": pulumi.String(name + "-flow-logs")},
	}, parent); err != nil {
		return nil, fmt.Errorf("creating flow log: %w", err)
	}
	return group, nil
}
