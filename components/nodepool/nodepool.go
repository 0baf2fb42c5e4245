// Package nodepool is an EKS managed node group for the autoscaler to size: on-demand or spot
// capacity over several instance types, labels and taints, rolling updates with a bounded
// number of unavailable nodes, a launch template with IMDSv2 and an encrypted gp3 root volume,
// and a node role with only what nodes need. No SSH: nodes are reached through SSM.
package nodepool

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/instancetype"
	"github.com/scalemate/infra/internal/sessionprefs"
	"github.com/scalemate/infra/internal/validate"
)

// MaxSize is EKS's quota of nodes in one managed node group.
const MaxSize = 450

// nodePolicies are the AWS managed policies a node needs: join the cluster, pull images, and be
// reachable through SSM Session Manager. The CNI policy is not here: vpc-cni runs under its
// own IRSA role, so pods on the node cannot borrow it.
var nodePolicies = []string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"}

// Taint is a Kubernetes node taint.
type Taint struct {
	Key, Value string
	// Effect is NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE.
	Effect string
}

// Args configures a NodePool.
type Args struct {
	// Region is the provider's region (for IAM ARNs). Required.
	Region string
	// ClusterName is the cluster to join; pass cluster.Cluster.Name so the group waits for the
	// networking addons. Required.
	ClusterName pulumi.StringInput
	// KubernetesVersion keeps nodes on the control plane's version (rolled after an upgrade).
	// Default: EKS picks the cluster's version at creation.
	KubernetesVersion pulumi.StringInput
	// SubnetIDs are the private subnets nodes run in. Required.
	SubnetIDs pulumi.StringArrayInput
	// CapacityType is ON_DEMAND or SPOT. Default ON_DEMAND.
	CapacityType string
	// InstanceTypes are one architecture's types; the AMI (AL2023, x86_64 or arm64) follows. Required.
	InstanceTypes []string
	// MinSize, MaxSize bound the autoscaler. DesiredSize is used at creation only. Defaults 1, 3, MinSize.
	MinSize, MaxSize, DesiredSize int
	// DiskSizeGiB is the root volume (gp3, encrypted). Default 50.
	DiskSizeGiB int
	// MaxUnavailablePercent bounds nodes replaced at once in a rolling update. Default 33.
	MaxUnavailablePercent int
	// Labels are Kubernetes node labels.
	Labels map[string]string
	// Taints are Kubernetes node taints.
	Taints []Taint
	// Tags go on the instances, volumes and network interfaces the group launches; the AWS
	// provider's default tags do not reach them. Pass the same tags (Project, Environment,
	// Owner, ...) so cost allocation sees node spend.
	Tags map[string]string
}

// NodePool is the component resource.
type NodePool struct {
	pulumi.ResourceState

	// NodeGroupName is the EKS node group's name.
	NodeGroupName pulumi.StringOutput `pulumi:"nodeGroupName"`
	// NodeGroupARN is the EKS node group's ARN.
	NodeGroupARN pulumi.StringOutput `pulumi:"nodeGroupArn"`
	// RoleARN is the node IAM role.
	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
	// CapacityType is ON_DEMAND or SPOT.
	CapacityType pulumi.StringOutput `pulumi:"capacityType"`
	// Group is the node group itself, for resources that must wait for nodes: depend on it,
	// not on the component (the Go SDK expands a component dependency to the children
	// registered so far, which can race with the group's registration).
	Group *eks.NodeGroup
}

func (a Args) withDefaults() Args {
	if a.CapacityType == "" {
		a.CapacityType = "ON_DEMAND"
	}
	if a.MinSize == 0 && a.MaxSize == 0 {
		a.MinSize, a.MaxSize = 1, 3
	}
	if a.DesiredSize == 0 {
		a.DesiredSize = a.MinSize
	}
	if a.DiskSizeGiB == 0 {
		a.DiskSizeGiB = 50
	}
	if a.MaxUnavailablePercent == 0 {
		a.MaxUnavailablePercent = 33
	}
	return a
}

// amiType validates the defaulted args and returns the AMI type for their architecture.
func (a Args) amiType(name string) (string, error) {
	var p validate.Problems
	p.NotEmpty("Region", a.Region)
	if a.ClusterName == nil {
		p.Addf("ClusterName", "must be set")
	}
	if a.SubnetIDs == nil {
		p.Addf("SubnetIDs", "must be set")
	}
	p.OneOf("CapacityType", a.CapacityType, "ON_DEMAND", "SPOT")
	arch, err := instancetype.CommonArch(a.InstanceTypes)
	if err != nil {
		p.Addf("InstanceTypes", "%v", err)
	}
	p.Scaling("MinSize", "MaxSize", "DesiredSize", a.MinSize, a.MaxSize, a.DesiredSize, MaxSize)
	p.IntRange("DiskSizeGiB", a.DiskSizeGiB, 20, 16384)
	p.IntRange("MaxUnavailablePercent", a.MaxUnavailablePercent, 1, 100)
	for i, t := range a.Taints {
		p.NotEmpty(fmt.Sprintf("Taints[%d].Key", i), t.Key)
		if len(t.Key) > 63 || len(t.Value) > 63 {
			p.Addf(fmt.Sprintf("Taints[%d]", i), "key and value are at most 63 characters")
		}
		p.OneOf(fmt.Sprintf("Taints[%d].Effect", i), t.Effect, "NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")
	}
	if err := p.Err(fmt.Sprintf("invalid nodepool args for %q", name)); err != nil {
		return "", err
	}
	if arch == instancetype.ARM64 {
		return "AL2023_ARM_64_STANDARD", nil
	}
	return "AL2023_x86_64_STANDARD", nil
}

// New creates the node role, launch template and managed node group.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*NodePool, error) {
	args = args.withDefaults()
	amiType, err := args.amiType(name)
	if err != nil {
		return nil, err
	}
	np := &NodePool{}
	if err := ctx.RegisterComponentResource("scalemate:nodepool:NodePool", name, np, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(np)

	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("ec2.amazonaws.com")),
		Description:      pulumi.String("EKS nodes of pool " + name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating node role: %w", err)
	}
	var attachments []pulumi.Resource
	for _, policy := range nodePolicies {
		a, err := iam.NewRolePolicyAttachment(ctx, name+"-"+policy, &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(iampolicy.ManagedPolicyARN(iampolicy.Partition(args.Region), policy)),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("attaching %s: %w", policy, err)
		}
		attachments = append(attachments, a)
	}
	// The account's Session Manager preferences (the baseline) encrypt and log every session:
	// the target must decrypt with the sessions key and write the log, or sessions fail.
	sessions, err := iam.NewRolePolicy(ctx, name+"-sessions", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: pulumi.String(iampolicy.Document{Version: "2012-10-17",
			Statement: sessionprefs.InstanceStatements(iampolicy.Partition(args.Region), args.Region)}.JSON()),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("granting Session Manager access: %w", err)
	}
	attachments = append(attachments, sessions)

	nameTag := pulumi.StringMap{"Name": pulumi.String(name)}
	launchedTags := pulumi.ToStringMap(args.Tags)
	launchedTags["Name"] = pulumi.String(name)
	var tagSpecs ec2.LaunchTemplateTagSpecificationArray
	for _, rt := range []string{"instance", "volume", "network-interface"} {
		tagSpecs = append(tagSpecs, ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String(rt), Tags: launchedTags})
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name, &ec2.LaunchTemplateArgs{
		Description:          pulumi.String("EKS nodes of pool " + name),
		UpdateDefaultVersion: pulumi.Bool(true),
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"),
			HttpTokens:   pulumi.String("required"), // IMDSv2 only
			// One hop: pods (a hop further) cannot read the node role's credentials; they use IRSA.
			HttpPutResponseHopLimit: pulumi.Int(1),
			InstanceMetadataTags:    pulumi.String("disabled"),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"), // AL2023 root device
			Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(args.DiskSizeGiB),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: tagSpecs,
		Tags:              nameTag,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating launch template: %w", err)
	}

	var taints eks.NodeGroupTaintArray
	for _, t := range args.Taints {
		taints = append(taints, eks.NodeGroupTaintArgs{Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(t.Effect)})
	}
	group, err := eks.NewNodeGroup(ctx, name, &eks.NodeGroupArgs{
		ClusterName:   args.ClusterName,
		Version:       args.KubernetesVersion,
		NodeRoleArn:   role.Arn,
		SubnetIds:     args.SubnetIDs,
		CapacityType:  pulumi.String(args.CapacityType),
		InstanceTypes: pulumi.ToStringArray(args.InstanceTypes),
		AmiType:       pulumi.String(amiType),
		ScalingConfig: eks.NodeGroupScalingConfigArgs{
			MinSize: pulumi.Int(args.MinSize), MaxSize: pulumi.Int(args.MaxSize), DesiredSize: liveDesiredSize(ctx, name, args, np),
		},
		UpdateConfig:     eks.NodeGroupUpdateConfigArgs{MaxUnavailablePercentage: pulumi.Int(args.MaxUnavailablePercent)},
		NodeRepairConfig: eks.NodeGroupNodeRepairConfigArgs{Enabled: pulumi.Bool(true)},
		Labels:           pulumi.ToStringMap(args.Labels),
		Taints:           taints,
		LaunchTemplate: eks.NodeGroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
		},
	}, parent,
		// The autoscaler owns the current size; Pulumi sets it only at creation (a
		// replacement included: liveDesiredSize).
		pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}),
		// Nodes cannot join before their role can; nor may the role lose its policies first.
		pulumi.DependsOn(attachments))
	if err != nil {
		return nil, fmt.Errorf("creating node group: %w", err)
	}

	np.Group = group
	np.NodeGroupName, np.NodeGroupARN, np.RoleARN, np.CapacityType = group.NodeGroupName, group.Arn, role.Arn, group.CapacityType
	return np, ctx.RegisterResourceOutputs(np, pulumi.Map{
		"nodeGroupName": np.NodeGroupName, "nodeGroupArn": np.NodeGroupARN,
		"roleArn": np.RoleARN, "capacityType": np.CapacityType,
	})
}

// liveDesiredSize is the size a new node group of the pool starts at: the size the pool's current
// group runs at (the autoscaler's), within MinSize and MaxSize, or DesiredSize when there is none.
// Changing instance types, capacity type, subnets or AMI type replaces the group, and the
// engine creates a replacement from the program's inputs (ignoreChanges does not apply to it),
// so without this a pool autoscaled to 20 nodes would come back at MinSize and evict onto it
// (review 2026-11-30 #9). The pool's groups are found by their autonamed names (<name>-<7 hex>).
// A preview shows DesiredSize: the lookup runs during `up` only, so a preview of a new stack
// stays fully known (its cost estimate reads the size).
func liveDesiredSize(ctx *pulumi.Context, name string, args Args, pool *NodePool) pulumi.IntOutput {
	if ctx.DryRun() {
		return pulumi.Int(args.DesiredSize).ToIntOutput()
	}
	own := regexp.MustCompile("^" + regexp.QuoteMeta(name) + "-[0-9a-f]{7}$")
	return args.ClusterName.ToStringOutput().ApplyT(func(cluster string) (int, error) {
		groups, err := eks.GetNodeGroups(ctx, &eks.GetNodeGroupsArgs{ClusterName: cluster}, pulumi.Parent(pool))
		if err != nil {
			return 0, fmt.Errorf("listing the node groups of cluster %s: %w", cluster, err)
		}
		size := args.DesiredSize
		for _, g := range groups.Names {
			if !own.MatchString(g) {
				continue
			}
			live, err := eks.LookupNodeGroup(ctx, &eks.LookupNodeGroupArgs{ClusterName: cluster, NodeGroupName: g}, pulumi.Parent(pool))
			if err != nil {
				return 0, fmt.Errorf("reading node group %s: %w", g, err)
			}
			for _, sc := range live.ScalingConfigs {
				size = max(size, sc.DesiredSize)
			}
		}
		return min(max(size, args.MinSize), args.MaxSize), nil
	}).(pulumi.IntOutput)
}
