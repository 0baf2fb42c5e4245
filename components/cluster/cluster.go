// Package cluster is an EKS control plane ready for managed node groups: its IAM role, a KMS key
// for envelope encryption of Secrets, control-plane logs into a log group created first with
// retention, a private endpoint (public only for listed CIDRs), API authentication with access
// entries, an OIDC provider for IRSA, managed addons, a kubeconfig and a Kubernetes provider.
package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/irsa"
	"github.com/scalemate/infra/internal/kmskey"
	"github.com/scalemate/infra/internal/validate"
)

// LogTypes are the control-plane log types EKS can send to CloudWatch.
var LogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// Addons are the managed addons the component installs. vpc-cni and kube-proxy go in before
// any node exists (nodes need pod networking to become Ready); coredns, the EBS CSI driver and
// the CloudWatch observability addon (Container Insights metrics, Fluent Bit logs) need running
// nodes, so InstallNodeAddons adds them after the node pools.
var (
	networkAddons = []string{"vpc-cni", "kube-proxy"}
	nodeAddons    = []string{"coredns", "aws-ebs-csi-driver", ObservabilityAddon}
)

// PreviewGroup is the Kubernetes group of the preview roles' access entries (no "system:"
// prefix, which EKS refuses).
const PreviewGroup = "scalemate:preview"

// ObservabilityAddon is the CloudWatch agent and Fluent Bit addon. It writes to
// /aws/containerinsights/<cluster>/{application,dataplane,host,performance}; create those log
// groups with a retention first (pass them to InstallNodeAddons), or the agent creates them
// without one.
const ObservabilityAddon = "amazon-cloudwatch-observability"

var nameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)

// Args configures a Cluster. The component's name is the EKS cluster's name.
type Args struct {
	// Region is the provider's region; the kubeconfig's token command and ARNs use it. Required.
	Region string
	// Version is the Kubernetes minor version, e.g. "1.34". Required.
	Version string
	// SupportType is STANDARD or EXTENDED (paid extended support). Default STANDARD.
	SupportType string
	// SubnetIDs are the private subnets (2+ AZs) for the control plane's network interfaces. Required.
	SubnetIDs pulumi.StringArrayInput
	// VPCID, when set, gives the control plane an additional security group
	// (APISecurityGroupID) that API clients inside the VPC (the pipeline's runner) are admitted
	// to. Unlike the cluster security group EKS creates, it is on the control plane's network
	// interfaces only, not on the nodes. Optional.
	VPCID pulumi.StringInput
	// PublicAccessCIDRs may reach the public endpoint; empty disables the public endpoint.
	// The private endpoint is always on. Default none.
	PublicAccessCIDRs []string
	// AdminRoleARNs get AmazonEKSClusterAdminPolicy through access entries. Default none.
	AdminRoleARNs []string
	// ViewRoleARNs get AmazonEKSViewPolicy (read-only, cluster-wide, no Secrets) through access
	// entries: on-call engineers who look before they act. Default none.
	ViewRoleARNs []string
	// PreviewRoleARNs, by a stable label that names each access entry, get access entries in
	// the Kubernetes group PreviewGroup and no access policy: what they may do is the RBAC and
	// admission policy bound to that group (the Kubernetes baseline lets it read and dry-run,
	// never write). Default none.
	PreviewRoleARNs map[string]pulumi.StringInput
	// LogTypes are the control-plane logs to keep. Default api, audit, authenticator.
	LogTypes []string
	// LogRetentionDays is the control-plane log group's retention. Default 30.
	LogRetentionDays int
	// ServiceCIDR is the Kubernetes service IPv4 range. Default 172.20.0.0/16.
	ServiceCIDR string
	// AddonVersions pins addon builds by name; unlisted addons get AWS's current default for
	// Version, which moves on AWS's schedule.
	AddonVersions map[string]string
	// CriticalAddonNodeSelector pins CoreDNS and the EBS CSI controller to the nodes it selects
	// (an on-demand system pool, tainted CriticalAddonsOnly) so spot interruptions cannot take
	// them down. Default none: they run anywhere.
	CriticalAddonNodeSelector map[string]string
	// KMSKeyDeletionWindowDays is the waiting period before the secrets key is deleted, 7 to 30.
	// Default 30.
	KMSKeyDeletionWindowDays int
	// Protect guards the cluster and its secrets key against deletion by Pulumi, and retains the
	// key if it leaves the program (production). Default false.
	Protect bool
}

// Cluster is the component resource.
type Cluster struct {
	pulumi.ResourceState

	// Name is the cluster's name; it resolves once the networking addons are installed, so node
	// groups that take it as input are created only when nodes can become Ready.
	Name pulumi.StringOutput `pulumi:"name"`
	// ARN is the cluster's ARN.
	ARN pulumi.StringOutput `pulumi:"arn"`
	// Version is the control plane's Kubernetes version; node groups follow it.
	Version pulumi.StringOutput `pulumi:"version"`
	// Endpoint is the API server URL.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// CertificateAuthority is the base64 CA bundle of the API server.
	CertificateAuthority pulumi.StringOutput `pulumi:"certificateAuthority"`
	// SecurityGroupID is the cluster security group EKS created (nodes and control plane share it).
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// APISecurityGroupID is the control plane's additional security group (Args.VPCID): admit
	// an in-VPC API client with an ingress rule on 443 to it. Empty without VPCID.
	APISecurityGroupID pulumi.StringOutput `pulumi:"apiSecurityGroupId"`
	// OIDCProviderARN is the IAM OIDC provider for IRSA trust policies.
	OIDCProviderARN pulumi.StringOutput `pulumi:"oidcProviderArn"`
	// OIDCIssuerURL is the cluster's OIDC issuer (https://...).
	OIDCIssuerURL pulumi.StringOutput `pulumi:"oidcIssuerUrl"`
	// SecretsKeyARN is the KMS key encrypting Kubernetes Secrets.
	SecretsKeyARN pulumi.StringOutput `pulumi:"secretsKeyArn"`
	// Kubeconfig authenticates with `aws eks get-token`; a secret.
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
	// Provider deploys Kubernetes objects into this cluster.
	Provider *kubernetes.Provider

	name string
	args Args
}

func (a Args) withDefaults() Args {
	if a.SupportType == "" {
		a.SupportType = "STANDARD"
	}
	if a.LogTypes == nil {
		a.LogTypes = []string{"api", "audit", "authenticator"}
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = 30
	}
	if a.ServiceCIDR == "" {
		a.ServiceCIDR = "172.20.0.0/16"
	}
	if a.KMSKeyDeletionWindowDays == 0 {
		a.KMSKeyDeletionWindowDays = 30
	}
	return a
}

func (a Args) validate(name string) error {
	var p validate.Problems
	if !nameRE.MatchString(name) {
		p.Addf("name", "%q is not an EKS cluster name (letters, digits, - and _, at most 100, starting alphanumeric)", name)
	}
	p.NotEmpty("Region", a.Region)
	p.NotEmpty("Version", a.Version)
	p.OneOf("SupportType", a.SupportType, "STANDARD", "EXTENDED")
	if a.SubnetIDs == nil {
		p.Addf("SubnetIDs", "must be set")
	}
	p.PublicAccessCIDRs("PublicAccessCIDRs", a.PublicAccessCIDRs)
	seen := map[string]bool{}
	for _, list := range []struct {
		field string
		arns  []string
	}{{"AdminRoleARNs", a.AdminRoleARNs}, {"ViewRoleARNs", a.ViewRoleARNs}} {
		for i, arn := range list.arns {
			if seen[arn] {
				p.Addf(fmt.Sprintf("%s[%d]", list.field, i), "%q is listed twice (EKS allows one access entry per principal)", arn)
			}
			seen[arn] = true
		}
	}
	for label, arn := range a.PreviewRoleARNs {
		if !validate.IsDNSLabel(label) {
			p.Addf("PreviewRoleARNs."+label, "the label names an access entry: lower-case letters, digits and '-'")
		}
		if arn == nil {
			p.Addf("PreviewRoleARNs."+label, "must be set")
		}
	}
	for i, lt := range a.LogTypes {
		p.OneOf(fmt.Sprintf("LogTypes[%d]", i), lt, LogTypes...)
	}
	p.IntRange("LogRetentionDays", a.LogRetentionDays, 1, 3653)
	p.CIDR("ServiceCIDR", a.ServiceCIDR)
	for addon := range a.AddonVersions {
		p.OneOf("AddonVersions."+addon, addon, append(slices.Clone(networkAddons), nodeAddons...)...)
	}
	p.IntRange("KMSKeyDeletionWindowDays", a.KMSKeyDeletionWindowDays, 7, 30)
	return p.Err(fmt.Sprintf("invalid cluster args for %q", name))
}

// New creates the control plane, its identity plumbing and the networking addons.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	args = args.withDefaults()
	if err := args.validate(name); err != nil {
		return nil, err
	}
	c := &Cluster{name: name, args: args}
	if err := ctx.RegisterComponentResource("scalemate:cluster:Cluster", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	keep := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect)}
	partition := iampolicy.Partition(args.Region)

	key, err := kmskey.New(ctx, name+"-secrets", kmskey.Args{
		Description: "Envelope encryption of Kubernetes Secrets in EKS cluster " + name, Alias: name + "-eks-secrets",
		DeletionWindowDays: args.KMSKeyDeletionWindowDays, Protect: args.Protect,
	}, parent)
	if err != nil {
		return nil, err
	}

	// EKS would create this group itself, without retention; creating it first keeps control
	// over retention and lets Pulumi delete it with the stack.
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/eks/" + name + "/cluster"),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating control-plane log group: %w", err)
	}

	role, err := iam.NewRole(ctx, name+"-cluster", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("eks.amazonaws.com")),
		Description:      pulumi.String("EKS control plane of " + name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating cluster role: %w", err)
	}
	attach, err := iam.NewRolePolicyAttachment(ctx, name+"-cluster", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(iampolicy.ManagedPolicyARN(partition, "AmazonEKSClusterPolicy")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("attaching cluster policy: %w", err)
	}
	keyUse, err := iam.NewRolePolicy(ctx, name+"-cluster-kms", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: key.Arn.ApplyT(func(arn string) string {
			return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
				Effect:   "Allow",
				Action:   []string{"kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"},
				Resource: arn,
			}}}.JSON()
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("granting cluster role the secrets key: %w", err)
	}

	var apiGroups pulumi.StringArray
	c.APISecurityGroupID = pulumi.String("").ToStringOutput()
	if args.VPCID != nil {
		// No rules of its own: who may reach the API is added to it as separate rules.
		sg, err := ec2.NewSecurityGroup(ctx, name+"-api", &ec2.SecurityGroupArgs{
			VpcId:       args.VPCID,
			Description: pulumi.String("Kubernetes API clients of cluster " + name + " inside the VPC"),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating the API security group: %w", err)
		}
		apiGroups, c.APISecurityGroupID = pulumi.StringArray{sg.ID()}, sg.ID().ToStringOutput()
	}
	cluster, err := eks.NewCluster(ctx, name, &eks.ClusterArgs{
		Name:    pulumi.String(name),
		RoleArn: role.Arn,
		Version: pulumi.String(args.Version),
		VpcConfig: eks.ClusterVpcConfigArgs{
			SubnetIds:             args.SubnetIDs,
			EndpointPrivateAccess: pulumi.Bool(true),
			EndpointPublicAccess:  pulumi.Bool(len(args.PublicAccessCIDRs) > 0),
			PublicAccessCidrs:     publicCIDRs(args.PublicAccessCIDRs),
			SecurityGroupIds:      apiGroups,
		},
		EnabledClusterLogTypes: pulumi.ToStringArray(args.LogTypes),
		EncryptionConfig: eks.ClusterEncryptionConfigArgs{
			Resources: pulumi.StringArray{pulumi.String("secrets")},
			Provider:  eks.ClusterEncryptionConfigProviderArgs{KeyArn: key.Arn},
		},
		AccessConfig: eks.ClusterAccessConfigArgs{
			// API only: no aws-auth ConfigMap to drift. The deploying identity stays admin so
			// the same program can manage Kubernetes objects.
			AuthenticationMode:                      pulumi.String("API"),
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		// The networking addons are installed as managed addons below; self-managed copies
		// would fight them.
		BootstrapSelfManagedAddons: pulumi.Bool(false),
		KubernetesNetworkConfig: eks.ClusterKubernetesNetworkConfigArgs{
			ServiceIpv4Cidr: pulumi.String(args.ServiceCIDR),
			IpFamily:        pulumi.String("ipv4"),
		},
		UpgradePolicy: eks.ClusterUpgradePolicyArgs{SupportType: pulumi.String(args.SupportType)},
	}, append(keep, pulumi.DependsOn([]pulumi.Resource{logGroup, attach, keyUse}))...)
	if err != nil {
		return nil, fmt.Errorf("creating EKS cluster: %w", err)
	}

	if err := c.adminAccess(ctx, cluster, partition); err != nil {
		return nil, err
	}

	issuer := cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem()
	oidc, err := iam.NewOpenIdConnectProvider(ctx, name+"-oidc", &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating OIDC provider: %w", err)
	}
	c.OIDCProviderARN, c.OIDCIssuerURL = oidc.Arn, issuer

	cni, err := c.irsaRole(ctx, "vpc-cni", "kube-system", "aws-node", "AmazonEKS_CNI_Policy")
	if err != nil {
		return nil, err
	}
	c.Version = cluster.Version
	roles := map[string]pulumi.StringPtrInput{"vpc-cni": cni.Arn}
	nameAndAddons := []any{cluster.Name}
	for _, addon := range networkAddons {
		a, err := c.addon(ctx, cluster.Name, addon, roles[addon])
		if err != nil {
			return nil, err
		}
		nameAndAddons = append(nameAndAddons, a.Arn)
	}
	c.Name = pulumi.All(nameAndAddons...).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
	c.ARN, c.Endpoint = cluster.Arn, cluster.Endpoint
	c.CertificateAuthority = cluster.CertificateAuthority.Data().Elem()
	c.SecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.SecretsKeyARN = key.Arn
	c.Kubeconfig = pulumi.ToSecret(pulumi.All(cluster.Name, cluster.Endpoint, c.CertificateAuthority).ApplyT(
		func(v []any) (string, error) {
			return Kubeconfig(v[0].(string), v[1].(string), v[2].(string), args.Region)
		})).(pulumi.StringOutput)

	c.Provider, err = kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{Kubeconfig: c.Kubeconfig}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes provider: %w", err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name": c.Name, "arn": c.ARN, "version": c.Version, "endpoint": c.Endpoint,
		"certificateAuthority": c.CertificateAuthority, "securityGroupId": c.SecurityGroupID, "apiSecurityGroupId": c.APISecurityGroupID,
		"oidcProviderArn": c.OIDCProviderARN, "oidcIssuerUrl": c.OIDCIssuerURL,
		"secretsKeyArn": c.SecretsKeyARN, "kubeconfig": c.Kubeconfig,
	})
}

// InstallNodeAddons installs the addons whose pods need nodes (CoreDNS, the EBS CSI driver,
// CloudWatch observability). Call it after New with the node groups themselves (custom
// resources, not their components) and anything else the addons must wait for (the Container
// Insights log groups). It returns the addons by name (what needs DNS waits for coredns).
func (c *Cluster) InstallNodeAddons(ctx *pulumi.Context, dependsOn ...pulumi.Resource) (map[string]*eks.Addon, error) {
	ebs, err := c.irsaRole(ctx, "aws-ebs-csi-driver", "kube-system", "ebs-csi-controller-sa", "service-role/AmazonEBSCSIDriverPolicy")
	if err != nil {
		return nil, err
	}
	// Nodes keep the metadata hop limit at 1, so the agent in its pod cannot read the
	// instance's metadata and falls back to DescribeInstances, which the managed policy lacks.
	describe := iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Effect: "Allow", Action: []string{"ec2:DescribeInstances"}, Resource: "*"},
	}}.JSON()
	partition := iampolicy.Partition(c.args.Region)
	cw, err := c.ServiceAccountRole(ctx, c.name+"-"+ObservabilityAddon, "amazon-cloudwatch", "cloudwatch-agent",
		[]string{iampolicy.ManagedPolicyARN(partition, "CloudWatchAgentServerPolicy"), iampolicy.ManagedPolicyARN(partition, "AWSXrayWriteOnlyAccess")},
		pulumi.String(describe))
	if err != nil {
		return nil, err
	}
	roles := map[string]pulumi.StringPtrInput{"aws-ebs-csi-driver": ebs.Arn, ObservabilityAddon: cw.Arn}
	installed := map[string]*eks.Addon{}
	for _, addon := range nodeAddons {
		a, err := c.addon(ctx, c.Name, addon, roles[addon], pulumi.DependsOn(dependsOn))
		if err != nil {
			return nil, err
		}
		installed[addon] = a
	}
	return installed, nil
}

func (c *Cluster) addon(ctx *pulumi.Context, clusterName pulumi.StringInput, addon string, role pulumi.StringPtrInput, opts ...pulumi.ResourceOption) (*eks.Addon, error) {
	args := &eks.AddonArgs{
		ClusterName:              clusterName,
		AddonName:                pulumi.String(addon),
		ServiceAccountRoleArn:    role,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
	}
	if v := c.args.AddonVersions[addon]; v != "" {
		args.AddonVersion = pulumi.String(v)
	} else {
		// AWS's default build for the control plane's version. It moves whenever AWS changes
		// that default, so an `up` can upgrade the addon unasked: pin AddonVersions (the
		// ScaleMate stacks pin every addon).
		args.AddonVersion = eks.GetAddonVersionOutput(ctx, eks.GetAddonVersionOutputArgs{
			AddonName: pulumi.String(addon), KubernetesVersion: c.Version,
		}, pulumi.Parent(c)).Version()
	}
	if cfg := c.addonConfig(addon); cfg != "" {
		args.ConfigurationValues = pulumi.String(cfg)
	}
	a, err := eks.NewAddon(ctx, c.name+"-"+addon, args, append(opts, pulumi.Parent(c))...)
	if err != nil {
		return nil, fmt.Errorf("installing addon %s: %w", addon, err)
	}
	return a, nil
}

// addonConfig is an addon's configurationValues JSON, or "" for AWS's defaults.
func (c *Cluster) addonConfig(addon string) string {
	var cfg any
	placement := func() map[string]any {
		return map[string]any{
			"nodeSelector": c.args.CriticalAddonNodeSelector,
			"tolerations":  []any{map[string]any{"key": "CriticalAddonsOnly", "operator": "Exists"}},
		}
	}
	switch {
	case addon == "vpc-cni":
		// Turns on the CNI's network policy agent so Kubernetes NetworkPolicies are enforced.
		cfg = map[string]any{"enableNetworkPolicy": "true"}
	case addon == "coredns" && len(c.args.CriticalAddonNodeSelector) > 0:
		cfg = placement()
	case addon == "aws-ebs-csi-driver" && len(c.args.CriticalAddonNodeSelector) > 0:
		cfg = map[string]any{"controller": placement()}
	default:
		return ""
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // plain maps and strings always marshal
	}
	return string(b)
}

// irsaRole creates a role for an addon's service account, with one AWS managed policy.
func (c *Cluster) irsaRole(ctx *pulumi.Context, purpose, namespace, serviceAccount, managedPolicy string) (*iam.Role, error) {
	return c.ServiceAccountRole(ctx, c.name+"-"+purpose, namespace, serviceAccount,
		[]string{iampolicy.ManagedPolicyARN(iampolicy.Partition(c.args.Region), managedPolicy)}, nil)
}

// ServiceAccountRole creates an IAM role that exactly one Kubernetes service account of this
// cluster can assume (IRSA), with the given managed policies and an optional inline policy.
// The role is a child of the cluster.
func (c *Cluster) ServiceAccountRole(ctx *pulumi.Context, name, namespace, serviceAccount string, managedPolicyARNs []string, inline pulumi.StringInput) (*iam.Role, error) {
	return irsa.Role(ctx, name, irsa.Args{
		OIDCProviderARN: c.OIDCProviderARN, OIDCIssuerURL: c.OIDCIssuerURL, Namespace: namespace, ServiceAccount: serviceAccount,
		ManagedPolicyARNs: managedPolicyARNs, Inline: inline,
	}, pulumi.Parent(c))
}

// adminAccess gives each admin role an access entry with the cluster-admin access policy, and
// each view role one with the read-only view policy.
func (c *Cluster) adminAccess(ctx *pulumi.Context, cluster *eks.Cluster, partition string) error {
	for _, g := range []struct {
		kind, policy string
		arns         []string
	}{{"admin", "AmazonEKSClusterAdminPolicy", c.args.AdminRoleARNs}, {"view", "AmazonEKSViewPolicy", c.args.ViewRoleARNs}} {
		for _, arn := range g.arns {
			// Named by the principal, not its list position: removing one role must not make
			// another entry change principal (EKS allows one entry per principal).
			logical := c.name + "-" + g.kind + "-" + principalName(arn)
			entry, err := eks.NewAccessEntry(ctx, logical, &eks.AccessEntryArgs{
				ClusterName: cluster.Name, PrincipalArn: pulumi.String(arn), Type: pulumi.String("STANDARD"),
			}, pulumi.Parent(c))
			if err != nil {
				return fmt.Errorf("creating access entry for %s: %w", arn, err)
			}
			if _, err := eks.NewAccessPolicyAssociation(ctx, logical, &eks.AccessPolicyAssociationArgs{
				ClusterName:  cluster.Name,
				PrincipalArn: entry.PrincipalArn,
				PolicyArn:    pulumi.String("arn:" + partition + ":eks::aws:cluster-access-policy/" + g.policy),
				AccessScope:  eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
			}, pulumi.Parent(c)); err != nil {
				return fmt.Errorf("granting %s to %s: %w", g.policy, arn, err)
			}
		}
	}
	for _, label := range slices.Sorted(maps.Keys(c.args.PreviewRoleARNs)) {
		if _, err := eks.NewAccessEntry(ctx, c.name+"-preview-"+label, &eks.AccessEntryArgs{
			ClusterName: cluster.Name, PrincipalArn: c.args.PreviewRoleARNs[label], Type: pulumi.String("STANDARD"),
			KubernetesGroups: pulumi.StringArray{pulumi.String(PreviewGroup)},
		}, pulumi.Parent(c)); err != nil {
			return fmt.Errorf("creating preview access entry %s: %w", label, err)
		}
	}
	return nil
}

// principalName turns arn:aws:iam::111122223333:role/path/admin into 111122223333-path-admin.
func principalName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return strings.NewReplacer(":", "-", "/", "-").Replace(arn)
	}
	return parts[4] + "-" + strings.ReplaceAll(strings.TrimPrefix(parts[5], "role/"), "/", "-")
}

// publicCIDRs leaves the list unset (not empty) when the public endpoint is off, so EKS's
// read-back does not show a perpetual diff.
func publicCIDRs(cidrs []string) pulumi.StringArrayInput {
	if len(cidrs) == 0 {
		return nil
	}
	return pulumi.ToStringArray(cidrs)
}

// Kubeconfig renders a kubeconfig (JSON is valid YAML) whose user gets tokens from
// `aws eks get-token`, so no long-lived credential is stored.
func Kubeconfig(clusterName, endpoint, caData, region string) (string, error) {
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": clusterName,
		"clusters": []any{map[string]any{"name": clusterName, "cluster": map[string]any{
			"server": endpoint, "certificate-authority-data": caData,
		}}},
		"contexts": []any{map[string]any{"name": clusterName, "context": map[string]any{
			"cluster": clusterName, "user": clusterName,
		}}},
		"users": []any{map[string]any{"name": clusterName, "user": map[string]any{
			"exec": map[string]any{
				"apiVersion": "client.authentication.k8s.io/v1beta1",
				"command":    "aws",
				"args":       []string{"eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"},
			},
		}}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	return string(b), err
}
