package cluster

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{
		Region:    "us-west-2",
		Version:   "1.34",
		SubnetIDs: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
	}
}

// run creates the cluster, then the node addons as infra does, and captures the kubeconfig.
func run(args Args) (*mocktest.Recorder, string, error) {
	var mu sync.Mutex
	var kubeconfig string
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		c, err := New(ctx, "demo", args)
		if err != nil {
			return err
		}
		c.Kubeconfig.ApplyT(func(s string) string {
			mu.Lock()
			kubeconfig = s
			mu.Unlock()
			return s
		})
		_, err = c.InstallNodeAddons(ctx)
		return err
	})
	return rec, kubeconfig, err
}

func mustRun(t *testing.T, args Args) (*mocktest.Recorder, string) {
	t.Helper()
	rec, kc, err := run(args)
	require.NoError(t, err)
	return rec, kc
}

func theCluster(t *testing.T, rec *mocktest.Recorder) mocktest.Resource {
	t.Helper()
	c := rec.Must(t, "aws:eks/cluster:Cluster", "demo")
	return c
}

func TestControlPlaneDefaults(t *testing.T) {
	rec, _ := mustRun(t, baseArgs())
	c := theCluster(t, rec)
	assert.Equal(t, "demo", c.Input("name"))
	assert.Equal(t, "1.34", c.Input("version"))
	vpc := c.Input("vpcConfig").(map[string]any)
	assert.Equal(t, true, vpc["endpointPrivateAccess"])
	assert.Equal(t, false, vpc["endpointPublicAccess"], "no public endpoint without CIDRs")
	assert.Nil(t, vpc["publicAccessCidrs"], "unset, not empty, so EKS's 0.0.0.0/0 read-back shows no diff")
	assert.Equal(t, []any{"api", "audit", "authenticator"}, c.Input("enabledClusterLogTypes"))
	access := c.Input("accessConfig").(map[string]any)
	assert.Equal(t, "API", access["authenticationMode"])
	assert.Equal(t, false, c.Input("bootstrapSelfManagedAddons"))
	assert.Equal(t, "172.20.0.0/16", c.Input("kubernetesNetworkConfig").(map[string]any)["serviceIpv4Cidr"])
	assert.Equal(t, "STANDARD", c.Input("upgradePolicy").(map[string]any)["supportType"])
	assert.False(t, c.Protect)

	enc := c.Input("encryptionConfig").(map[string]any)
	assert.Equal(t, []any{"secrets"}, enc["resources"])
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:demo-secrets", enc["provider"].(map[string]any)["keyArn"])

	key := rec.Must(t, "aws:kms/key:Key", "demo-secrets")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
	assert.EqualValues(t, 30, key.Input("deletionWindowInDays"))
}

// The log group exists (with retention) before the cluster, or EKS creates one without.
func TestLogGroupCreatedFirst(t *testing.T) {
	args := baseArgs()
	args.LogRetentionDays = 14
	rec, _ := mustRun(t, args)
	lg := rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "demo-control-plane")
	assert.Equal(t, "/aws/eks/demo/cluster", lg.Input("name"))
	assert.EqualValues(t, 14, lg.Input("retentionInDays"))
	deps := strings.Join(theCluster(t, rec).Dependencies, " ")
	assert.Contains(t, deps, "aws:cloudwatch/logGroup:LogGroup::demo-control-plane")
	assert.Contains(t, deps, "aws:iam/rolePolicyAttachment:RolePolicyAttachment::demo-cluster")
}

func TestPublicAccessAndAdmins(t *testing.T) {
	args := baseArgs()
	args.PublicAccessCIDRs = []string{"203.0.113.0/24"}
	args.AdminRoleARNs = []string{"arn:aws:iam::111122223333:role/admin", "arn:aws:iam::111122223333:role/breakglass"}
	rec, _ := mustRun(t, args)
	vpc := theCluster(t, rec).Input("vpcConfig").(map[string]any)
	assert.Equal(t, true, vpc["endpointPublicAccess"])
	assert.Equal(t, []any{"203.0.113.0/24"}, vpc["publicAccessCidrs"])

	entries := rec.OfType("aws:eks/accessEntry:AccessEntry")
	require.Len(t, entries, 2)
	// Named by principal, so dropping the first role leaves the second entry untouched.
	_, ok := rec.Named("aws:eks/accessEntry:AccessEntry", "demo-admin-111122223333-breakglass")
	assert.True(t, ok)
	assoc := rec.OfType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
	require.Len(t, assoc, 2)
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", assoc[0].Input("policyArn"))
	assert.Equal(t, "cluster", assoc[0].Input("accessScope").(map[string]any)["type"])
}

// On-call engineers get read-only access of their own (review 2026-11-30 #13); one principal
// is in one list only.
func TestViewRoles(t *testing.T) {
	args := baseArgs()
	args.ViewRoleARNs = []string{"arn:aws:iam::111122223333:role/oncall"}
	rec, _ := mustRun(t, args)
	view := rec.Must(t, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "demo-view-111122223333-oncall")
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", view.Input("policyArn"))
	rec.Must(t, "aws:eks/accessEntry:AccessEntry", "demo-view-111122223333-oncall")

	args.AdminRoleARNs = []string{"arn:aws:iam::111122223333:role/oncall"}
	rec, err := mocktest.Component(New, "demo", args)
	rec.Refused(t, err, `ViewRoleARNs[0]: "arn:aws:iam::111122223333:role/oncall" is listed twice`)
}

func TestAddonsAndIRSA(t *testing.T) {
	args := baseArgs()
	args.AddonVersions = map[string]string{"coredns": "v1.11.4-eksbuild.2"}
	rec, _ := mustRun(t, args)
	addons := map[string]mocktest.Resource{}
	for _, a := range rec.OfType("aws:eks/addon:Addon") {
		addons[a.Input("addonName").(string)] = a
	}
	require.Len(t, addons, 5)
	assert.Equal(t, "v1.11.4-eksbuild.2", addons["coredns"].Input("addonVersion"))
	assert.Equal(t, "v1.34.0-kube-proxy-eksbuild.1", addons["kube-proxy"].Input("addonVersion"), "unpinned addons follow AWS's default for the cluster version")
	assert.Nil(t, addons["coredns"].Input("configurationValues"), "no placement without a system pool")
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:demo-vpc-cni", addons["vpc-cni"].Input("serviceAccountRoleArn"))
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:demo-aws-ebs-csi-driver", addons["aws-ebs-csi-driver"].Input("serviceAccountRoleArn"))
	assert.JSONEq(t, `{"enableNetworkPolicy":"true"}`, addons["vpc-cni"].Input("configurationValues").(string))

	// The IRSA trust is pinned to one service account and the sts audience.
	role := rec.Must(t, "aws:iam/role:Role", "demo-vpc-cni")
	var trust struct {
		Statement []struct {
			Principal map[string]string
			Action    []string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.Input("assumeRolePolicy").(string)), &trust))
	st := trust.Statement[0]
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:demo-oidc", st.Principal["Federated"])
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, st.Action)
	issuer := "oidc.eks.us-west-2.amazonaws.com/id/DEMO"
	assert.Equal(t, "system:serviceaccount:kube-system:aws-node", st.Condition["StringEquals"][issuer+":sub"])
	assert.Equal(t, "sts.amazonaws.com", st.Condition["StringEquals"][issuer+":aud"])

	ebsRole := rec.Must(t, "aws:iam/role:Role", "demo-aws-ebs-csi-driver")
	assert.Equal(t, []any{"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}, ebsRole.Input("managedPolicyArns"))
	assert.Equal(t, []any{"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"}, role.Input("managedPolicyArns"))

	// Container Insights: the agent's own namespace and service account.
	cw := rec.Must(t, "aws:iam/role:Role", "demo-amazon-cloudwatch-observability")
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:demo-amazon-cloudwatch-observability", addons[ObservabilityAddon].Input("serviceAccountRoleArn"))
	assert.Equal(t, []any{"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}, cw.Input("managedPolicyArns"))
	assert.Contains(t, cw.Input("assumeRolePolicy"), "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent")
	assert.Contains(t, cw.Input("inlinePolicies").([]any)[0].(map[string]any)["policy"], "ec2:DescribeInstances", "the agent cannot reach IMDS through the pod hop")

	oidc := rec.Must(t, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "demo-oidc")
	assert.Equal(t, "https://"+issuer, oidc.Input("url"))
	assert.Equal(t, []any{"sts.amazonaws.com"}, oidc.Input("clientIdLists"))
}

func TestCriticalAddonsPinnedToSystemNodes(t *testing.T) {
	args := baseArgs()
	args.CriticalAddonNodeSelector = map[string]string{"scalemate.io/pool": "system"}
	rec, _ := mustRun(t, args)
	toleration := `"tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"}]`
	coredns, _ := rec.Named("aws:eks/addon:Addon", "demo-coredns")
	assert.JSONEq(t, `{"nodeSelector":{"scalemate.io/pool":"system"},`+toleration+`}`, coredns.Input("configurationValues").(string))
	ebs, _ := rec.Named("aws:eks/addon:Addon", "demo-aws-ebs-csi-driver")
	assert.JSONEq(t, `{"controller":{"nodeSelector":{"scalemate.io/pool":"system"},`+toleration+`}}`, ebs.Input("configurationValues").(string))
}

func TestNodeAddonsWaitForNodePools(t *testing.T) {
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		c, err := New(ctx, "demo", baseArgs())
		if err != nil {
			return err
		}
		var pool pulumi.CustomResourceState
		if err := ctx.RegisterResource("test:index:NodePool", "pool", nil, &pool); err != nil {
			return err
		}
		_, err = c.InstallNodeAddons(ctx, &pool)
		return err
	})
	require.NoError(t, err)
	coredns := rec.Must(t, "aws:eks/addon:Addon", "demo-coredns")
	assert.Contains(t, strings.Join(coredns.Dependencies, " "), "test:index:NodePool::pool")
	cni := rec.Must(t, "aws:eks/addon:Addon", "demo-vpc-cni")
	assert.NotContains(t, strings.Join(cni.Dependencies, " "), "NodePool", "networking addons go in before nodes")
}

func TestProtectInProduction(t *testing.T) {
	args := baseArgs()
	args.Protect = true
	rec, _ := mustRun(t, args)
	assert.True(t, theCluster(t, rec).Protect)
	key, _ := rec.Named("aws:kms/key:Key", "demo-secrets")
	assert.True(t, key.Protect)
	assert.True(t, key.RetainOnDelete, "the key outlives the stack so snapshots and backups stay readable")
}

func TestKubeconfigIsSecretAndUsesGetToken(t *testing.T) {
	rec, kc, err := run(baseArgs())
	require.NoError(t, err)
	var cfg struct {
		Clusters []struct {
			Cluster map[string]string
		}
		Users []struct {
			User struct {
				Exec struct {
					Command string
					Args    []string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(kc), &cfg), kc)
	assert.Equal(t, "https://DEMO.gr7.us-west-2.eks.amazonaws.com", cfg.Clusters[0].Cluster["server"])
	assert.Equal(t, "aws", cfg.Users[0].User.Exec.Command)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "demo", "--region", "us-west-2", "--output", "json"}, cfg.Users[0].User.Exec.Args)

	prov := rec.Must(t, "pulumi:providers:kubernetes", "demo")
	assert.True(t, prov.Inputs["kubeconfig"].IsSecret() || prov.Inputs["kubeconfig"].ContainsSecrets(), "the kubeconfig reaches the provider as a secret")
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"version":     {func(a *Args) { a.Version = "" }, "Version: must be set"},
		"subnets":     {func(a *Args) { a.SubnetIDs = nil }, "SubnetIDs: must be set"},
		"open api":    {func(a *Args) { a.PublicAccessCIDRs = []string{"0.0.0.0/0"} }, "PublicAccessCIDRs[0]: 0.0.0.0/0 opens the endpoint to a large part of the internet"},
		"admin twice": {func(a *Args) { a.AdminRoleARNs = []string{"arn:aws:iam::1:role/a", "arn:aws:iam::1:role/a"} }, `AdminRoleARNs[1]: "arn:aws:iam::1:role/a" is listed twice`},
		"log type":    {func(a *Args) { a.LogTypes = []string{"kubelet"} }, `LogTypes[0]: "kubelet" is not allowed`},
		"addon":       {func(a *Args) { a.AddonVersions = map[string]string{"istio": "1"} }, `AddonVersions.istio: "istio" is not allowed`},
		"kms window":  {func(a *Args) { a.KMSKeyDeletionWindowDays = 3 }, "KMSKeyDeletionWindowDays: 3 is out of range; allowed 7 to 30"},
		"supportType": {func(a *Args) { a.SupportType = "LTS" }, `SupportType: "LTS" is not allowed`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, _, err := run(args)
			rec.Refused(t, err, `invalid cluster args for "demo"`, c.want)
		})
	}
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "bad name!", baseArgs())
		return err
	})
	rec.Refused(t, err, `name: "bad name!" is not an EKS cluster name`)
}

// Review 2026-11-30 #1 and #3: with VPCID the control plane gets an additional security group
// (on its network interfaces only) that in-VPC API clients are admitted to, and preview roles
// get access entries in PreviewGroup with no access policy.
func TestAPISecurityGroupAndPreviewEntries(t *testing.T) {
	args := baseArgs()
	rec, _ := mustRun(t, args)
	assert.Nil(t, theCluster(t, rec).Input("vpcConfig").(map[string]any)["securityGroupIds"], "no VPCID, no extra group")

	args.VPCID = pulumi.String("vpc-1")
	args.PreviewRoleARNs = map[string]pulumi.StringInput{"pipeline": pulumi.String("arn:aws:iam::123456789012:role/scalemate-github-preview-dev")}
	rec, _ = mustRun(t, args)
	sg := rec.Must(t, "aws:ec2/securityGroup:SecurityGroup", "demo-api")
	assert.Equal(t, "vpc-1", sg.Input("vpcId"))
	assert.Nil(t, sg.Input("ingress"), "admissions are separate rules")
	assert.Equal(t, []any{"demo-api-id"}, theCluster(t, rec).Input("vpcConfig").(map[string]any)["securityGroupIds"])
	entry := rec.Must(t, "aws:eks/accessEntry:AccessEntry", "demo-preview-pipeline")
	assert.Equal(t, []any{PreviewGroup}, entry.Input("kubernetesGroups"))
	assert.Equal(t, "arn:aws:iam::123456789012:role/scalemate-github-preview-dev", entry.Input("principalArn"))
	assert.Empty(t, rec.OfType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"), "no access policy: RBAC decides")

	args.PreviewRoleARNs = map[string]pulumi.StringInput{"Pipeline!": pulumi.String("x")}
	rec, err := mocktest.Component(New, "demo", args)
	rec.Refused(t, err, `PreviewRoleARNs.Pipeline!: the label names an access entry`)
}
