// Package infra is the ScaleMate program: it reads the stack's Spec, builds the providers, wires
// the components together and exports what operators and later stacks need.
package infra

import (
	"fmt"
	"maps"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/canary"
	"github.com/scalemate/infra/components/cluster"
	"github.com/scalemate/infra/components/monitoring"
	"github.com/scalemate/infra/components/network"
	"github.com/scalemate/infra/components/nodepool"
	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/stacks"
)

// EdgeRegion is where CloudFront's certificate and WAF must live.
const EdgeRegion = "us-east-1"

// Run is the program's entry point: invalid config fails here, before any resource exists.
// When the stack's own validation fails, the components still check what they can of the
// config, so one run reports every mistake, each under its config key.
func Run(ctx *pulumi.Context) error {
	spec, err := stacks.Load(ctx)
	if err != nil {
		if spec == nil {
			return err
		}
		all := &refusals{stack: spec.Stack}
		all.merge(err)
		all.mergeComponents(checkComponents(spec))
		return all.err()
	}
	if spec.Tier == stacks.Local {
		pl, err := planLocal(spec)
		if err != nil {
			return err
		}
		return deployLocal(ctx, spec, pl)
	}
	return Deploy(ctx, spec)
}

// checkComponents is the components' checks of a config that failed its own validation.
func checkComponents(spec *stacks.Spec) error {
	if spec.Tier == stacks.Local {
		_, err := planLocal(spec)
		return err
	}
	_, err := planAll(spec)
	return err
}

// plans are the components' args, planned and checked before anything is registered.
type plans struct {
	data  *dataTier
	front *edge
	mon   monitoring.Args
	users *canary.Args
	plat  *platform
	app   *application
}

// planAll plans every component and reports every problem at once, in config words. A plan
// that cannot run on what it was given (a panic on a value the stack's validation refuses)
// adds nothing, and the others still report.
func planAll(spec *stacks.Spec) (*plans, error) {
	all := &refusals{stack: spec.Stack}
	pl := &plans{}
	try := func(plan func() error) {
		defer func() {
			if recover() != nil && all.err() == nil {
				all.addProblem("(a component could not check the config: fix the problems above and run again)")
			}
		}()
		all.merge(plan())
	}
	try(func() (err error) { pl.data, err = planDataTier(spec); return })
	try(func() (err error) { pl.front, err = planEdge(spec); return })
	try(func() (err error) { pl.users, err = planCanaries(spec); return })
	try(func() (err error) {
		if pl.data == nil {
			return nil
		}
		pl.mon, err = planMonitoring(spec, pl.data, pl.users)
		return
	})
	try(func() (err error) { pl.plat, err = planPlatform(spec); return })
	try(func() (err error) { pl.app, err = planApp(spec); return })
	return pl, all.err()
}

// Providers are the explicit providers every component is given.
type Providers struct {
	// AWS deploys to the stack's main region.
	AWS *aws.Provider
	// AWSEdge deploys to us-east-1, for CloudFront's ACM certificate and WAF.
	AWSEdge *aws.Provider
}

// NewProviders builds the AWS providers with the default tags every resource carries.
func NewProviders(ctx *pulumi.Context, spec *stacks.Spec) (*Providers, error) {
	tags := aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(spec.Tags())}
	main, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(spec.Region), DefaultTags: tags})
	if err != nil {
		return nil, fmt.Errorf("creating AWS provider: %w", err)
	}
	edge, err := aws.NewProvider(ctx, "aws-"+EdgeRegion, &aws.ProviderArgs{Region: pulumi.String(EdgeRegion), DefaultTags: tags})
	if err != nil {
		return nil, fmt.Errorf("creating %s AWS provider: %w", EdgeRegion, err)
	}
	return &Providers{AWS: main, AWSEdge: edge}, nil
}

// boundRoles sets the stack's permissions boundary on every IAM role registered after it, in
// every component: the deploy roles may only create roles that carry it (bootstrap), so a role
// without it would fail in AWS, and a component cannot forget it.
func boundRoles(ctx *pulumi.Context, spec *stacks.Spec, provider *aws.Provider) error {
	boundary := pulumi.String(spec.PermissionsBoundary).ToStringOutput()
	if !strings.HasPrefix(spec.PermissionsBoundary, "arn:") {
		account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Provider(provider)).AccountId()
		boundary = pulumi.Sprintf("arn:%s:iam::%s:policy/%s", iampolicy.Partition(spec.Region), account, spec.PermissionsBoundary)
	}
	return ctx.RegisterStackTransformation(func(r *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		role, ok := r.Props.(*iam.RoleArgs)
		if r.Type != "aws:iam/role:Role" || !ok {
			return nil
		}
		role.PermissionsBoundary = boundary
		return &pulumi.ResourceTransformationResult{Props: role, Opts: r.Opts}
	})
}

// previewRoles is the bootstrap program's preview role of this stack
// (scalemate-github-preview-<stack>, in the stack's account), when scalemate:ci.previewRole.
func previewRoles(ctx *pulumi.Context, spec *stacks.Spec, provider *aws.Provider) map[string]pulumi.StringInput {
	if !spec.CI.PreviewRole {
		return nil
	}
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Provider(provider)).AccountId()
	return map[string]pulumi.StringInput{
		"pipeline": pulumi.Sprintf("arn:%s:iam::%s:role/scalemate-github-preview-%s", iampolicy.Partition(spec.Region), account, spec.Stack),
	}
}

// PoolLabel is the node label naming a node's pool; workloads select pools with it.
const PoolLabel = "scalemate.io/pool"

// SystemPool is the pool that cluster-critical addons are pinned to when a stack has one.
const SystemPool = "system"

func criticalAddonSelector(spec *stacks.Spec) map[string]string {
	if _, ok := spec.NodePools[SystemPool]; !ok {
		return nil
	}
	return map[string]string{PoolLabel: SystemPool}
}

// Deploy creates the environment described by spec.
func Deploy(ctx *pulumi.Context, spec *stacks.Spec) error {
	// Every stage is checked, and every problem reported in one error, before anything exists.
	pl, err := planAll(spec)
	if err != nil {
		return err
	}
	data, front, monArgs, plat, application := pl.data, pl.front, pl.mon, pl.plat, pl.app
	p, err := NewProviders(ctx, spec)
	if err != nil {
		return err
	}
	if err := boundRoles(ctx, spec, p.AWS); err != nil {
		return err
	}
	prefix := spec.Project + "-" + spec.Stack
	onAWS := pulumi.Providers(p.AWS)

	net, err := network.New(ctx, prefix, network.Args{
		Region:                    spec.Region,
		CIDR:                      spec.Network.CIDR,
		AvailabilityZones:         spec.AvailabilityZones(),
		SubnetPrefixes:            spec.Network.SubnetPrefixes,
		NATGateways:               spec.Network.NATGateways,
		InterfaceEndpoints:        spec.Network.InterfaceEndpoints,
		FlowLogRetentionDays:      spec.LogRetentionDays,
		FlowLogAggregationSeconds: spec.Network.FlowLogAggregationSeconds,
	}, onAWS)
	if err != nil {
		return err
	}

	cl, err := cluster.New(ctx, prefix, cluster.Args{
		Region:            spec.Region,
		Version:           spec.Cluster.Version,
		SupportType:       spec.Cluster.SupportType,
		SubnetIDs:         net.PrivateSubnetIDs,
		VPCID:             net.VPCID,
		PublicAccessCIDRs: spec.Cluster.PublicAccessCIDRs,
		PreviewRoleARNs:   previewRoles(ctx, spec, p.AWS),
		AdminRoleARNs:     spec.Cluster.AdminRoleARNs,
		ViewRoleARNs:      spec.Cluster.ViewRoleARNs,
		LogTypes:          spec.Cluster.LogTypes,
		LogRetentionDays:  spec.LogRetentionDays,
		ServiceCIDR:       spec.Cluster.ServiceCIDR,
		AddonVersions:     spec.Cluster.AddonVersions,
		Protect:           spec.Tier == stacks.Prod,
		// With a system pool, cluster-critical addons run there, not on spot workers.
		CriticalAddonNodeSelector: criticalAddonSelector(spec),
	}, onAWS)
	if err != nil {
		return err
	}

	var pools []pulumi.Resource
	poolNames := pulumi.StringMap{}
	for _, name := range spec.NodePoolNames() {
		np := spec.NodePools[name]
		labels := maps.Clone(np.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[PoolLabel] = name
		var taints []nodepool.Taint
		for _, t := range np.Taints {
			taints = append(taints, nodepool.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
		}
		pool, err := nodepool.New(ctx, prefix+"-"+name, nodepool.Args{
			Region:                spec.Region,
			ClusterName:           cl.Name,
			KubernetesVersion:     cl.Version,
			SubnetIDs:             net.PrivateSubnetIDs,
			CapacityType:          np.CapacityType,
			InstanceTypes:         np.InstanceTypes,
			MinSize:               np.MinSize,
			MaxSize:               np.MaxSize,
			DesiredSize:           np.DesiredSize,
			DiskSizeGiB:           np.DiskSizeGiB,
			MaxUnavailablePercent: np.MaxUnavailablePercent,
			Labels:                labels,
			Taints:                taints,
			Tags:                  spec.Tags(),
		}, onAWS)
		if err != nil {
			return err
		}
		pools = append(pools, pool.Group)
		poolNames[name] = pool.NodeGroupName
	}
	db, err := deployDataTier(ctx, spec, data, p, net, cl)
	if err != nil {
		return err
	}
	// The edge does not wait for the cluster or the data tier: it only needs the origin's name.
	zone := zoneID(ctx, spec, p)
	cdnOut, wafOut, err := deployEdge(ctx, front, p, zone)
	if err != nil {
		return err
	}
	mon, err := deployMonitoring(ctx, spec, monArgs, p, front, cdnOut, wafOut)
	if err != nil {
		return err
	}
	// The node addons wait for the nodes, and the CloudWatch agent for its log groups.
	addons, err := cl.InstallNodeAddons(ctx, append(pools, mon.ContainerLogGroups...)...)
	if err != nil {
		return err
	}
	// The add-on releases need nodes and DNS (CoreDNS) in the cluster.
	reg, base, err := deployPlatform(ctx, spec, plat, p, net, cl, db, append(pools, addons["coredns"]))
	if err != nil {
		return err
	}
	lb, workloads, err := deployApp(ctx, spec, application, p, zone, net, cl, db, reg, base, cdnOut.OriginVerifySecret)
	if err != nil {
		return err
	}
	if err := deployCanaries(ctx, spec, pl.users, p, front, cdnOut, []pulumi.Resource{lb, workloads}); err != nil {
		return err
	}

	ctx.Export("tier", pulumi.String(string(spec.Tier)))
	ctx.Export("region", pulumi.String(spec.Region))
	ctx.Export("vpcId", net.VPCID)
	ctx.Export("availabilityZones", net.AvailabilityZones)
	ctx.Export("publicSubnetIds", net.PublicSubnetIDs)
	ctx.Export("privateSubnetIds", net.PrivateSubnetIDs)
	ctx.Export("isolatedSubnetIds", net.IsolatedSubnetIDs)
	ctx.Export("clusterName", cl.Name)
	ctx.Export("clusterEndpoint", cl.Endpoint)
	ctx.Export("oidcProviderArn", cl.OIDCProviderARN)
	ctx.Export("kubeconfig", cl.Kubeconfig)
	ctx.Export("nodeGroups", poolNames)
	ctx.Export("postgresWriterEndpoint", db.postgres.WriterEndpoint)
	ctx.Export("postgresReaderEndpoints", db.postgres.ReaderEndpoints)
	ctx.Export("postgresProxyEndpoint", db.postgres.ProxyEndpoint)
	ctx.Export("postgresPort", db.postgres.Port)
	ctx.Export("postgresSecretArn", db.postgres.SecretARN)
	ctx.Export("redisConfigurationEndpoint", db.redis.ConfigurationEndpoint)
	ctx.Export("redisPort", db.redis.Port)
	ctx.Export("redisSecretArn", db.redis.SecretARN)
	ctx.Export("cdnDomainName", cdnOut.DomainName)
	ctx.Export("cdnDistributionId", cdnOut.DistributionID)
	ctx.Export("assetsBucket", cdnOut.AssetsBucket)
	ctx.Export("certificateValidationRecords", cdnOut.ValidationRecords)
	ctx.Export("originVerifySecret", cdnOut.OriginVerifySecret)
	ctx.Export("wafWebAclArn", wafOut.WebACLARN)
	ctx.Export("alertTopicArns", pulumi.StringMap{"warning": mon.WarningTopicARN, "critical": mon.CriticalTopicARN})
	ctx.Export("healthAlarms", mon.HealthAlarms)
	ctx.Export("dashboardName", mon.DashboardName)
	ctx.Export("imageRepositories", reg.RepositoryURLs)
	ctx.Export("appNamespace", base.AppNamespace)
	ctx.Export("loadBalancerDnsName", lb.DNSName)
	ctx.Export("originHostName", lb.HostName)
	ctx.Export("targetGroupArns", lb.TargetGroupARNs)
	ctx.Export("loadBalancerArnSuffix", lb.ARNSuffix)
	ctx.Export("targetGroupArnSuffixes", lb.TargetGroupARNSuffixes)
	ctx.Export("appDeployments", workloads.Deployments)
	ctx.Export("appRoleArns", workloads.RoleARNs)
	ctx.Export("release", releaseOutput(spec))
	ctx.Export("appConfigMap", base.AppConfigMap)
	return nil
}

// releaseOutput is the stack output "release": which colour serves, and each colour's version.
func releaseOutput(spec *stacks.Spec) pulumi.Map {
	return pulumi.ToMap(map[string]any{
		"active": spec.App.Release.Active, "blue": spec.App.Release.Blue.Version, "green": spec.App.Release.Green.Version,
		"canaryPercent": spec.App.Release.CanaryPercent,
	})
}
