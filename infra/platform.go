package infra

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/clientvpn"
	"github.com/scalemate/infra/components/cluster"
	"github.com/scalemate/infra/components/k8sbaseline"
	"github.com/scalemate/infra/components/network"
	"github.com/scalemate/infra/components/postgres"
	"github.com/scalemate/infra/components/redis"
	"github.com/scalemate/infra/components/registry"
	"github.com/scalemate/infra/components/runner"
	"github.com/scalemate/infra/internal/validate"
	"github.com/scalemate/infra/stacks"
)

// RunnerSuffix names the stack's pipeline runner: <project>-<stack>-runner, the CodeBuild
// project the workflows' runs-on label names.
const RunnerSuffix = "-runner"

// platform holds the Kubernetes baseline and the image registry settings from the stack.
type platform struct {
	name     string
	baseline k8sbaseline.Args
	registry registry.Args
	// runner is the in-VPC pipeline runner; nil when scalemate:ci.runner is false.
	runner *runner.Args
	// vpn is the Client VPN endpoint; nil without scalemate:network.clientVpn.
	vpn *clientvpn.Args
}

// namespaceSizes are each tier's quotas and container defaults for the app and platform
// namespaces: what the tier's node pools can hold with room for a rolling update (the app's
// quota is a floor; applicationQuota raises it to what the services need).
func namespaceSizes(t stacks.Tier) (app, plat k8sbaseline.Quota, appDefaults k8sbaseline.ContainerDefaults) {
	appDefaults = k8sbaseline.ContainerDefaults{RequestCPU: "100m", RequestMemory: "128Mi", LimitCPU: "500m", LimitMemory: "512Mi"}
	switch t {
	case stacks.Dev:
		return k8sbaseline.Quota{RequestsCPU: "2", RequestsMemory: "4Gi", LimitsCPU: "4", LimitsMemory: "8Gi", Pods: 30},
			k8sbaseline.Quota{RequestsCPU: "1", RequestsMemory: "2Gi", LimitsCPU: "6", LimitsMemory: "6Gi", Pods: 20}, appDefaults
	case stacks.Staging:
		return k8sbaseline.Quota{RequestsCPU: "6", RequestsMemory: "12Gi", LimitsCPU: "12", LimitsMemory: "24Gi", Pods: 80},
			k8sbaseline.Quota{RequestsCPU: "2", RequestsMemory: "4Gi", LimitsCPU: "6", LimitsMemory: "8Gi", Pods: 30}, appDefaults
	}
	appDefaults.RequestCPU, appDefaults.RequestMemory = "250m", "256Mi"
	return k8sbaseline.Quota{RequestsCPU: "48", RequestsMemory: "96Gi", LimitsCPU: "96", LimitsMemory: "192Gi", Pods: 400},
		k8sbaseline.Quota{RequestsCPU: "4", RequestsMemory: "8Gi", LimitsCPU: "12", LimitsMemory: "16Gi", Pods: 40}, appDefaults
}

// applicationQuota sizes the app namespace for what a release can run at once: both colours
// at their autoscalers' maximum plus a rolling update's surge (25 %, rounded up), and a
// migration Job per colour; never below the tier's floor. Otherwise the quota refuses a new
// colour's pods and the release never becomes ready.
func applicationQuota(a stacks.App, floor k8sbaseline.Quota) k8sbaseline.Quota {
	var need k8sbaseline.Footprint
	for _, name := range a.ServiceNames() {
		s := a.Services[name]
		n := len(stacks.Colours) * (s.MaxReplicas + (s.MaxReplicas+3)/4)
		if len(s.Migrate) > 0 {
			n += len(stacks.Colours)
		}
		need.Add(k8sbaseline.ContainerDefaults{RequestCPU: s.CPU, RequestMemory: s.Memory, LimitCPU: s.CPULimit, LimitMemory: s.MemoryLimit}, n)
	}
	larger := func(have string, need float64, format func(float64) string) string {
		if v, ok := validate.Quantity(have); ok && v >= need {
			return have
		}
		return format(need)
	}
	milli := func(v float64) string { return fmt.Sprintf("%dm", int(math.Ceil(v*1000))) }
	mebi := func(v float64) string { return fmt.Sprintf("%dMi", int(math.Ceil(v/(1<<20)))) }
	return k8sbaseline.Quota{
		RequestsCPU: larger(floor.RequestsCPU, need.RequestsCPU, milli), RequestsMemory: larger(floor.RequestsMemory, need.RequestsMemory, mebi),
		LimitsCPU: larger(floor.LimitsCPU, need.LimitsCPU, milli), LimitsMemory: larger(floor.LimitsMemory, need.LimitsMemory, mebi),
		Pods: max(floor.Pods, need.Pods),
	}
}

// planPlatform turns the Spec into the baseline and registry args and checks what it can
// before the cluster exists.
func planPlatform(spec *stacks.Spec) (*platform, error) {
	prefix := spec.Project + "-" + spec.Stack
	floor, platQuota, appDefaults := namespaceSizes(spec.Tier)
	appQuota := applicationQuota(spec.App, floor)
	keep := map[stacks.Tier]int{stacks.Dev: 10, stacks.Staging: 30, stacks.Prod: 100}[spec.Tier]
	pl := &platform{
		name: prefix,
		baseline: k8sbaseline.Args{
			KubernetesVersion: spec.Cluster.Version, Region: spec.Region, VPCCIDR: spec.Network.CIDR,
			AppNamespace: AppNamespace,
			AppQuota:     appQuota, AppContainerDefaults: appDefaults, PlatformNamespace: PlatformNamespace, PlatformQuota: platQuota,
			CriticalAddonNodeSelector: criticalAddonSelector(spec),
			Replicas:                  addonReplicas(spec.Tier),
			// The flags are known now, so their names are checked before anything exists;
			// the endpoints join them once the data tier is registered.
			AppConfig: featureFlags(spec),
		},
		registry: registry.Args{
			Repositories: spec.App.Images, Prefix: prefix, KeepTaggedImages: keep,
			// Dev images are throwaway; elsewhere a repository with images is never deleted.
			ForceDelete: spec.Tier == stacks.Dev, Protect: spec.Tier == stacks.Prod,
		},
	}
	if spec.CI.PreviewRole {
		pl.baseline.PreviewGroup = cluster.PreviewGroup
	}
	if spec.CI.Runner {
		pl.runner = &runner.Args{
			Region: spec.Region, Repository: spec.CI.Repository, ComputeType: spec.CI.ComputeType, LogRetentionDays: spec.LogRetentionDays,
		}
	}
	if v := spec.Network.ClientVPN; v != nil {
		pl.vpn = &clientvpn.Args{
			VPCCIDR: spec.Network.CIDR, ServerCertificateARN: v.ServerCertificateARN, ClientRootCertificateARN: v.ClientRootCertificateARN,
			SAMLProviderARN: v.SAMLProviderARN, SelfServiceSAMLProviderARN: v.SelfServiceSAMLProviderARN, AccessGroupID: v.AccessGroupID,
			ClientCIDR: v.ClientCIDR, SessionTimeoutHours: v.SessionTimeoutHours,
			Associations: v.AZCount, LogRetentionDays: spec.LogRetentionDays,
		}
		if v.AZCount == 0 {
			pl.vpn.Associations = min(2, spec.Network.AZCount)
		}
	}
	r := &refusals{stack: spec.Stack}
	if pl.vpn != nil {
		k := stacks.KeyNetwork + ".clientVpn."
		r.component(pl.vpn.Check(), stacks.KeyNetwork, withCommon(map[string]string{
			"VPCCIDR": stacks.KeyNetwork + ".cidr", "ServerCertificateARN": k + "serverCertificateArn",
			"ClientRootCertificateARN": k + "clientRootCertificateArn", "SAMLProviderARN": k + "samlProviderArn",
			"SelfServiceSAMLProviderARN": k + "selfServiceSamlProviderArn", "AccessGroupID": k + "accessGroupId",
			"ClientCIDR": k + "clientCidr", "SessionTimeoutHours": k + "sessionTimeoutHours", "Associations": k + "azCount",
		}))
	}
	if pl.runner != nil {
		r.component(pl.runner.Check(prefix+RunnerSuffix), stacks.KeyCI, withCommon(nil))
	}
	r.component(pl.baseline.Check(prefix), stacks.KeyCluster, withCommon(map[string]string{
		"KubernetesVersion": stacks.KeyCluster + ".version", "AppConfig": stacks.KeyApp + ".featureFlags",
		"AppQuota": stacks.KeyApp + ".services", "PlatformQuota": stacks.KeyNodePools,
	}))
	r.component(pl.registry.Check(prefix), stacks.KeyApp, withCommon(map[string]string{"Repositories": stacks.KeyApp + ".images"}))
	if err := r.err(); err != nil {
		return pl, err
	}
	return pl, nil
}

// addonReplicas raises the External Secrets Operator to two replicas outside dev: its webhook
// fails closed, so with one pod every ExternalSecret write fails while it restarts.
func addonReplicas(t stacks.Tier) map[string]int {
	if t == stacks.Dev {
		return nil
	}
	return map[string]int{k8sbaseline.ExternalSecrets: 2}
}

// featureFlags are the stack's feature flags as ConfigMap entries.
func featureFlags(spec *stacks.Spec) pulumi.StringMap {
	flags := pulumi.StringMap{}
	for name, v := range spec.App.FeatureFlags {
		flags["FEATURE_"+name] = pulumi.String(v)
	}
	return flags
}

// appConfig is the application's ConfigMap: where its services are and the feature flags,
// never a secret (secrets are files under SECRETS_DIR, components/app).
func appConfig(spec *stacks.Spec, db *dataOutputs) pulumi.StringMap {
	cfg := pulumi.StringMap{
		"ENVIRONMENT":   pulumi.String(spec.Stack),
		"AWS_REGION":    pulumi.String(spec.Region),
		"POSTGRES_HOST": db.postgres.WriterEndpoint,
		"POSTGRES_PORT": pulumi.Sprintf("%d", postgres.Port),
		"REDIS_HOST":    db.redis.ConfigurationEndpoint,
		"REDIS_PORT":    pulumi.Sprintf("%d", redis.Port),
		"REDIS_TLS":     pulumi.String("true"),
	}
	if spec.Postgres.Proxy {
		cfg["POSTGRES_HOST"] = db.postgres.ProxyEndpoint
	}
	if spec.Postgres.ReadReplicas > 0 {
		cfg["POSTGRES_READER_HOSTS"] = db.postgres.ReaderEndpoints.ApplyT(func(hosts []string) string {
			return strings.Join(hosts, ",")
		}).(pulumi.StringOutput)
	}
	maps.Copy(cfg, featureFlags(spec))
	return cfg
}

// deployPlatform creates the image registry and, through the cluster's Kubernetes provider, the
// namespaces, policies, storage class, add-ons and the application's identity and config.
func deployPlatform(ctx *pulumi.Context, spec *stacks.Spec, pl *platform, p *Providers, net *network.Network, cl *cluster.Cluster, db *dataOutputs, ready []pulumi.Resource) (*registry.Registry, *k8sbaseline.Baseline, error) {
	reg, err := registry.New(ctx, pl.name, pl.registry, pulumi.Providers(p.AWS))
	if err != nil {
		return nil, nil, err
	}
	if pl.runner != nil {
		r := *pl.runner
		r.VPCID, r.SubnetIDs, r.APISecurityGroupID = net.VPCID, net.PrivateSubnetIDs, cl.APISecurityGroupID
		run, err := runner.New(ctx, pl.name+RunnerSuffix, r, pulumi.Providers(p.AWS))
		if err != nil {
			return nil, nil, err
		}
		ctx.Export("runnerProject", run.ProjectName)
	}
	if pl.vpn != nil {
		v := *pl.vpn
		v.VPCID, v.SubnetIDs, v.APISecurityGroupID = net.VPCID, net.PrivateSubnetIDs, cl.APISecurityGroupID
		vpn, err := clientvpn.New(ctx, pl.name+"-vpn", v, pulumi.Providers(p.AWS))
		if err != nil {
			return nil, nil, err
		}
		ctx.Export("clientVpnEndpointId", vpn.EndpointID)
	}
	b := pl.baseline
	b.ClusterName, b.VPCID, b.OIDCProviderARN, b.OIDCIssuerURL = cl.Name, net.VPCID, cl.OIDCProviderARN, cl.OIDCIssuerURL
	b.AppConfig = appConfig(spec, db)
	b.ReleaseDependencies = ready
	if b.ChartsDir, b.ChartsRef, err = chartsLocation(ctx); err != nil {
		return nil, nil, err
	}
	base, err := k8sbaseline.New(ctx, pl.name, b, pulumi.Providers(p.AWS, cl.Provider))
	if err != nil {
		return nil, nil, err
	}
	return reg, base, nil
}

// chartsDirName is the directory of the vendored Helm chart archives, beside Pulumi.yaml.
const chartsDirName = "charts"

// chartsLocation finds the vendored chart archives: dir for the program to read (absolute), ref
// for the Helm provider. Run by the CLI, the program and the provider plugins share the
// project's working directory, so ref is relative to it and the releases' state holds no
// checkout path. An inline program (Automation API, tests) runs in its caller's process, which
// knows no project root and does not share the provider's working directory: the root is the
// nearest directory above the process's own that holds Pulumi.yaml and the charts' lock, and ref
// is absolute.
func chartsLocation(ctx *pulumi.Context) (dir, ref string, err error) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	if root := ctx.RootDirectory(); root != "" {
		if dir, err = filepath.Abs(filepath.Join(root, chartsDirName)); err != nil {
			return "", "", err
		}
		rel, err := filepath.Rel(cwd, dir)
		if err != nil {
			return "", "", err
		}
		return dir, "./" + filepath.ToSlash(rel), nil
	}
	for d := cwd; ; d = filepath.Dir(d) {
		_, errProject := os.Stat(filepath.Join(d, "Pulumi.yaml"))
		_, errLock := os.Stat(filepath.Join(d, chartsDirName, k8sbaseline.ChartLock))
		if errProject == nil && errLock == nil {
			dir = filepath.Join(d, chartsDirName)
			return dir, dir, nil
		}
		if filepath.Dir(d) == d {
			return "", "", errors.New("no project root: no directory from " + cwd + " up holds Pulumi.yaml and " +
				filepath.Join(chartsDirName, k8sbaseline.ChartLock) + " (the add-ons install from the vendored chart archives)")
		}
	}
}
