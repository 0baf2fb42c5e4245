// Stack tests: the program runs under mocks with each real Pulumi.<env>.yaml, and the test checks
// what the tiers promise.
package tests

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/scalemate/infra/components/cluster"
	"github.com/scalemate/infra/infra"
	"github.com/scalemate/infra/internal/mockstack"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/stacks"
)

const (
	typeSubnet     = "aws:ec2/subnet:Subnet"
	typeNAT        = "aws:ec2/natGateway:NatGateway"
	typeCluster    = "aws:eks/cluster:Cluster"
	typeNodeGroup  = "aws:eks/nodeGroup:NodeGroup"
	typeLogGroup   = "aws:cloudwatch/logGroup:LogGroup"
	typeKMSKey     = "aws:kms/key:Key"
	typeAddon      = "aws:eks/addon:Addon"
	typeAWSProv    = "pulumi:providers:aws"
	typeAccessPol  = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
	typeFlowLog    = "aws:ec2/flowLog:FlowLog"
	typeLaunchTmpl = "aws:ec2/launchTemplate:LaunchTemplate"
)

// runStack runs the program for one real stack file, optionally changed by edit. A credential
// key the edit sets counts as set with --secret (TestPlaintextSecretRefused checks the other way).
func runStack(t testing.TB, stack string, edit func(cfg map[string]string)) (*mocktest.Recorder, error) {
	t.Helper()
	cfg, secret, err := mockstack.Config("..", stack)
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	for k := range stacks.SecretKeys {
		if _, set := cfg[k]; set && !slices.Contains(secret, k) {
			secret = append(secret, k)
		}
	}
	return mocktest.RunSecrets("scalemate", stack, cfg, secret, infra.Run)
}

func mustRunStack(t testing.TB, stack string) *mocktest.Recorder {
	t.Helper()
	rec, err := runStack(t, stack, nil)
	require.NoError(t, err)
	return rec
}

// tierExpectations are what DESIGN.md section 2 promises per tier, as this program builds it.
var tierExpectations = map[string]struct {
	azs, nats, logRetention int
	capacityTypes           []string // of the node groups, sorted by pool name
	logTypes                int
	protected               bool
}{
	"dev":     {azs: 2, nats: 1, logRetention: 7, capacityTypes: []string{"SPOT"}, logTypes: 3},
	"staging": {azs: 3, nats: 1, logRetention: 30, capacityTypes: []string{"ON_DEMAND", "SPOT"}, logTypes: 3},
	"prod":    {azs: 3, nats: 3, logRetention: 365, capacityTypes: []string{"ON_DEMAND", "SPOT"}, logTypes: 5, protected: true},
}

func TestStacksPerTier(t *testing.T) {
	for stack, want := range tierExpectations {
		t.Run(stack, func(t *testing.T) {
			rec := mustRunStack(t, stack)

			assert.Len(t, rec.OfType(typeSubnet), 3*want.azs, "public, private and isolated subnet per AZ")
			assert.Len(t, rec.OfType(typeNAT), want.nats)

			var capacity []string
			for _, ng := range rec.OfType(typeNodeGroup) {
				capacity = append(capacity, ng.Input("capacityType").(string))
			}
			assert.Equal(t, want.capacityTypes, capacity)

			clusters := rec.OfType(typeCluster)
			require.Len(t, clusters, 1)
			cl := clusters[0]
			vpcCfg := cl.Input("vpcConfig").(map[string]any)
			assert.Equal(t, false, vpcCfg["endpointPublicAccess"], "the committed stacks keep the API private")
			assert.Equal(t, true, vpcCfg["endpointPrivateAccess"])
			assert.Len(t, cl.Input("enabledClusterLogTypes"), want.logTypes)
			assert.Equal(t, want.protected, cl.Protect, "cluster protection")
			for _, key := range rec.OfType(typeKMSKey) {
				assert.Equal(t, want.protected, key.Protect, "KMS key %s protection", key.Name)
				// Keys of data stores that leave snapshots behind outlive them in every tier
				// that keeps snapshots (staging and prod), or the snapshots are unrestorable.
				dataStore := strings.Contains(key.URN, "scalemate:postgres:") || strings.Contains(key.URN, "scalemate:redis:")
				assert.Equal(t, want.protected || dataStore && stack != "dev", key.RetainOnDelete, "KMS key %s retention", key.Name)
			}

			groups := rec.OfType(typeLogGroup)
			require.NotEmpty(t, groups)
			for _, g := range groups {
				assert.EqualValues(t, want.logRetention, g.Input("retentionInDays"), "retention of %s", g.Name)
			}
		})
	}
}

// Every stack is tagged through the providers and every resource uses an explicit provider.
func TestStacksUseExplicitTaggedProviders(t *testing.T) {
	for stack := range tierExpectations {
		t.Run(stack, func(t *testing.T) {
			rec := mustRunStack(t, stack)
			provs := rec.OfType(typeAWSProv)
			require.GreaterOrEqual(t, len(provs), 2, "main-region and us-east-1 providers (prod adds its DR region)")
			for _, p := range provs {
				tags := p.Input("defaultTags").(map[string]any)["tags"].(map[string]any)
				for _, k := range []string{"Project", "Environment", "ManagedBy", "Owner"} {
					assert.NotEmpty(t, tags[k], "provider %s default tag %s", p.Name, k)
				}
				assert.Equal(t, stack, tags["Environment"])
			}
			for _, r := range rec.All() {
				if !r.Custom || !strings.HasPrefix(r.Type, "aws:") {
					continue
				}
				// The edge (CloudFront's certificate and WAF) lives in us-east-1 and the
				// disaster-recovery copies (named after their region) in the DR region.
				want := "pulumi:providers:aws::aws::"
				switch {
				// The origin's (REGIONAL) web ACL lives with its load balancer.
				case strings.Contains(r.URN, "scalemate:cdn:CDN") || strings.Contains(r.URN, "scalemate:waf:WAF") && !strings.Contains(r.Name, "-origin"),
					// CloudFront and WAF metrics, their alarms and a copy of the alert topics
					strings.Contains(r.URN, "scalemate:monitoring:Monitoring") && edgeMonitoring.MatchString(r.Name):
					want = "pulumi:providers:aws::aws-us-east-1::"
				case strings.Contains(r.Name, "-us-east-2"):
					want = "pulumi:providers:aws::aws-us-east-2::"
				}
				assert.Contains(t, r.Provider, want, "%s %s uses the wrong provider", r.Type, r.Name)
			}
		})
	}
}

// edgeMonitoring names the monitoring resources that live in us-east-1 (the edge's, and the
// cost anomaly monitor: Cost Explorer's region).
var edgeMonitoring = regexp.MustCompile(`-(edge|cdn|waf)-|-spend$`)

func TestClusterAccessFromConfig(t *testing.T) {
	rec, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyCluster] = `{"adminRoleArns":["arn:aws:iam::111122223333:role/platform-admin"],"publicAccessCidrs":["198.51.100.0/24"]}`
	})
	require.NoError(t, err)
	assoc := rec.OfType(typeAccessPol)
	require.Len(t, assoc, 1)
	assert.Equal(t, "arn:aws:iam::111122223333:role/platform-admin", assoc[0].Input("principalArn"))
	vpcCfg := rec.OfType(typeCluster)[0].Input("vpcConfig").(map[string]any)
	assert.Equal(t, true, vpcCfg["endpointPublicAccess"])
	assert.Equal(t, []any{"198.51.100.0/24"}, vpcCfg["publicAccessCidrs"])
	assert.Empty(t, mustRunStack(t, "dev").OfType(typeAccessPol))
}

// CoreDNS and the EBS CSI driver need nodes: they wait for every node group, and where a system
// pool exists they are pinned to it; the networking addons go in before any node.
func TestAddonOrderingAndPlacement(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		rec := mustRunStack(t, stack)
		groups := rec.OfType(typeNodeGroup)
		require.NotEmpty(t, groups)
		for _, addon := range rec.OfType(typeAddon) {
			deps := strings.Join(addon.Dependencies, " ")
			for _, g := range groups {
				waits := strings.Contains(deps, g.URN)
				switch addon.Input("addonName") {
				case "coredns", "aws-ebs-csi-driver", cluster.ObservabilityAddon:
					assert.True(t, waits, "%s: %s must wait for node group %s", stack, addon.Name, g.Name)
				default:
					assert.False(t, waits, "%s: %s must not wait for nodes", stack, addon.Name)
				}
			}
		}
		coredns := rec.Must(t, typeAddon, "scalemate-"+stack+"-coredns")
		if stack == "prod" {
			assert.Contains(t, coredns.Input("configurationValues"), `"nodeSelector":{"scalemate.io/pool":"system"}`)
		} else {
			assert.Nil(t, coredns.Input("configurationValues"), "dev has no system pool")
		}
	}
}

// What node groups launch carries the cost tags, and every node is labelled with its pool.
func TestNodesTaggedAndLabelled(t *testing.T) {
	rec := mustRunStack(t, "staging")
	for _, lt := range rec.OfType(typeLaunchTmpl) {
		for _, spec := range lt.Input("tagSpecifications").([]any) {
			tags := spec.(map[string]any)["tags"].(map[string]any)
			assert.Equal(t, "staging", tags["Environment"], "%s", lt.Name)
			assert.Equal(t, "platform-team", tags["Owner"], "%s", lt.Name)
		}
	}
	for _, g := range rec.OfType(typeNodeGroup) {
		pool := strings.TrimPrefix(g.Name, "scalemate-staging-")
		assert.Equal(t, pool, g.Input("labels").(map[string]any)["scalemate.io/pool"])
	}
}

// A bad value in a stack file fails the program with the key named, before any resource exists.
func TestBadStackConfigRegistersNothing(t *testing.T) {
	cases := []struct {
		stack, key, value, want string
	}{
		{"dev", stacks.KeyNetwork, `{"cidr":"10.10.0.0/33"}`, `scalemate:network.cidr: "10.10.0.0/33" is not a CIDR block`},
		{"dev", stacks.KeyNetwork, `{"natGateway":"single"}`, `scalemate:network: unknown field "natGateway"`},
		{"staging", stacks.KeyNetwork, `{"azCount":5}`, `scalemate:network.azCount: 5 is out of range; allowed 2 to 4`},
		{"prod", stacks.KeyNetwork, `{"natGateways":"single"}`, `scalemate:network.natGateways: prod needs perAz`},
		{"prod", stacks.KeyCluster, `{"publicAccessCidrs":["0.0.0.0/0"]}`, `scalemate:cluster.publicAccessCidrs[0]: 0.0.0.0/0 opens the endpoint to a large part of the internet`},
		{"dev", stacks.KeyNodePools, `{"workers":{"minSize":4}}`, `scalemate:nodePools.workers.minSize: 4 is greater than scalemate:nodePools.workers.maxSize 3`},
		{"dev", stacks.KeyNodePools, `{"workers":{"instanceTypes":["x9.large","m6i.large"]}}`, `scalemate:nodePools.workers.instanceTypes[0]: "x9.large" is not a type this program offers; use one of t3, t3a`},
		{"dev", stacks.KeyRegion, "mars-north-1", `aws:region: "mars-north-1" is not supported`},
		{"dev", stacks.KeyLogRetentionDays, "10", `scalemate:logRetentionDays: 10 is not a CloudWatch retention period`},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s=%s", c.stack, c.key, c.value), func(t *testing.T) {
			rec, err := runStack(t, c.stack, func(cfg map[string]string) { cfg[c.key] = c.value })
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, rec.All(), "no resource may be registered when config is invalid")
		})
	}
}

// Every key in the committed stack files is one the program reads (a typo would be ignored).
func TestStackFilesUseKnownKeys(t *testing.T) {
	for stack := range tierExpectations {
		cfg, err := mocktest.StackConfig(filepath.Join("..", "Pulumi."+stack+".yaml"))
		require.NoError(t, err)
		for key := range cfg {
			assert.True(t, slices.Contains(stacks.Keys, key), "Pulumi.%s.yaml sets %s, which the program does not read", stack, key)
		}
		// The CLI requires a declared key without a default: every declared key has one.
		assert.Contains(t, cfg, stacks.KeyPostgres, "Pulumi.yaml's defaults reach the program")
	}
}

// ResourceCounts are the registrations per stack (components included). A change here is a
// change in what `pulumi up` creates: update it on purpose, with the reason in the commit.
// 2026-12-01: +3 a stack, versioning on the log and canary buckets (FSBP S3.14).
var ResourceCounts = map[string]int{"dev": 308, "staging": 348, "prod": 362}

func TestStackResourceCounts(t *testing.T) {
	for stack, want := range ResourceCounts {
		rec := mustRunStack(t, stack)
		assert.Equal(t, want, len(rec.All()), "resources registered by %s", stack)
	}
}

// Pulumi.yaml declares every project key the program reads, and nothing it does not read.
func TestProjectDeclaresConfigKeys(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "Pulumi.yaml"))
	require.NoError(t, err)
	var project struct {
		Name   string                    `yaml:"name"`
		Config map[string]map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &project))
	assert.Equal(t, "scalemate", project.Name)
	var declared, read []string
	for key, decl := range project.Config {
		declared = append(declared, "scalemate:"+key)
		assert.NotEmpty(t, decl["description"], "Pulumi.yaml config %s has no description", key)
	}
	for _, key := range stacks.Keys {
		if strings.HasPrefix(key, "scalemate:") {
			read = append(read, key)
		}
	}
	assert.ElementsMatch(t, read, declared)
}

// Every stack runs a Kubernetes version in standard support on the day of the change (1.34's
// ended 2026-12-02, after which AWS upgrades a STANDARD cluster itself), and what is pinned to
// the version follows it (review 2026-11-30 #6).
func TestKubernetesVersionInStandardSupport(t *testing.T) {
	for stack := range tierExpectations {
		rec := mustRunStack(t, stack)
		version := rec.Must(t, "aws:eks/cluster:Cluster", "scalemate-"+stack).Input("version").(string)
		ends, err := time.Parse(time.DateOnly, stacks.StandardSupportEnds[version])
		require.NoError(t, err, "stacks.StandardSupportEnds lists %s", version)
		// The check before the end of support: 60 days ahead, CI fails until the stack upgrades.
		assert.True(t, time.Until(ends) > 60*24*time.Hour,
			"%s: scalemate:cluster.version %s leaves EKS standard support on %s; upgrade it (README, Upgrading Kubernetes and addons)", stack, version, ends.Format(time.DateOnly))
		assert.Equal(t, "1.35", version, stack)
		autoscaler := rec.Must(t, typeRelease, "scalemate-"+stack+"-cluster-autoscaler").Input("values").(map[string]any)
		assert.Equal(t, "v1.35.2", autoscaler["image"].(map[string]any)["tag"], stack)
		ns := rec.Must(t, typeNamespace, "scalemate-"+stack+"-app").Input("metadata").(map[string]any)
		assert.Equal(t, "v1.35", ns["labels"].(map[string]any)["pod-security.kubernetes.io/enforce-version"], stack)
	}
}

// Review 2026-11-30 #10: every role a stack creates carries the environment's permissions
// boundary (the deploy roles may create no other), named by config or by the bootstrap's
// convention.
func TestEveryRoleCarriesThePermissionsBoundary(t *testing.T) {
	for stack := range tierExpectations {
		rec := mustRunStack(t, stack)
		roles := rec.OfType("aws:iam/role:Role")
		require.NotEmpty(t, roles)
		for _, r := range roles {
			assert.Equal(t, "arn:aws:iam::123456789012:policy/scalemate-"+stack+"-boundary", r.Input("permissionsBoundary"), "%s %s", stack, r.Name)
		}
	}
	rec, err := runStack(t, "dev", func(cfg map[string]string) {
		cfg[stacks.KeyPermissionsBoundary] = "arn:aws:iam::111122223333:policy/team-boundary"
	})
	require.NoError(t, err)
	for _, r := range rec.OfType("aws:iam/role:Role") {
		assert.Equal(t, "arn:aws:iam::111122223333:policy/team-boundary", r.Input("permissionsBoundary"), r.Name)
	}
}

// Review 2026-11-30 #11: every managed addon is installed at the build the stack file pins, none
// at AWS's moving default.
func TestAddonsPinnedPerStack(t *testing.T) {
	for stack := range tierExpectations {
		var file struct {
			Config map[string]yaml.Node `yaml:"config"`
		}
		b, err := os.ReadFile(filepath.Join("..", "Pulumi."+stack+".yaml"))
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(b, &file))
		var cluster struct {
			AddonVersions map[string]string `yaml:"addonVersions"`
		}
		node := file.Config[stacks.KeyCluster]
		require.NoError(t, node.Decode(&cluster))
		require.ElementsMatch(t, stacks.Addons, slices.Collect(maps.Keys(cluster.AddonVersions)), "%s pins every addon in its stack file", stack)
		rec := mustRunStack(t, stack)
		addons := rec.OfType(typeAddon)
		require.Len(t, addons, len(stacks.Addons), stack)
		for _, a := range addons {
			name := a.Input("addonName").(string)
			assert.Equal(t, cluster.AddonVersions[name], a.Input("addonVersion"), "%s %s", stack, name)
		}
	}
}

// Review 2026-11-30 #1, #3 and #13: every stack has its in-VPC runner admitted to the private
// API (and nothing public), and the bootstrap's preview role of the stack reads and dry-runs
// through its access entry. Both can be turned off.
func TestPipelineReachesThePrivateCluster(t *testing.T) {
	for stack := range tierExpectations {
		rec := mustRunStack(t, stack)
		vpc := rec.Must(t, typeCluster, "scalemate-"+stack).Input("vpcConfig").(map[string]any)
		assert.Equal(t, false, vpc["endpointPublicAccess"], stack)
		assert.Equal(t, []any{"scalemate-" + stack + "-api-id"}, vpc["securityGroupIds"], stack)
		project := rec.Must(t, "aws:codebuild/project:Project", "scalemate-"+stack+"-runner")
		assert.Equal(t, "scalemate-"+stack+"-runner", project.Input("name"), "the workflows' runs-on label names it")
		rule := rec.Must(t, "aws:ec2/securityGroupRule:SecurityGroupRule", "scalemate-"+stack+"-runner-to-cluster-api")
		assert.Equal(t, "scalemate-"+stack+"-api-id", rule.Input("securityGroupId"))
		entry := rec.Must(t, "aws:eks/accessEntry:AccessEntry", "scalemate-"+stack+"-preview-pipeline")
		assert.Equal(t, "arn:aws:iam::123456789012:role/scalemate-github-preview-"+stack, entry.Input("principalArn"))
		rec.Must(t, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "scalemate-"+stack+"-preview-dry-run-only")
	}
	for _, w := range []string{"deploy-stack.yml", "rollback.yml", "drift.yml", "pull-request.yml"} {
		b, err := os.ReadFile(filepath.Join("..", ".github", "workflows", w))
		require.NoError(t, err)
		assert.Contains(t, string(b), "runs-on: codebuild-scalemate-${{", "%s runs its Kubernetes-touching job on the stack's runner", w)
	}

	rec, err := runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyCI] = `{"runner":false,"previewRole":false}` })
	require.NoError(t, err)
	assert.Empty(t, rec.OfType("aws:codebuild/project:Project"))
	assert.Empty(t, rec.OfType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"))
	_, err = runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyCI] = `{"repository":"scalemate"}` })
	assert.ErrorContains(t, err, `scalemate:ci.repository: "scalemate" is not a GitHub repository (owner/name)`)
}
