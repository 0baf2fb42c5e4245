package infra

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/app"
	"github.com/scalemate/infra/components/k8sbaseline"
	"github.com/scalemate/infra/components/localdata"
	"github.com/scalemate/infra/stacks"
)

// DataNamespace holds the local tier's data stores.
const DataNamespace = "scalemate-data"

// localPlan is the local tier's components: the same baseline and application as the cloud's,
// and the data stores in the cluster instead of RDS, ElastiCache and S3.
type localPlan struct {
	name     string
	baseline k8sbaseline.Args
	data     localdata.Args
	app      app.Args
}

// planLocal turns a local-tier Spec into its components' args and checks them before anything
// exists.
func planLocal(spec *stacks.Spec) (*localPlan, error) {
	prefix := spec.Project + "-" + spec.Stack
	version := spec.Local.KubernetesVersion
	floor, _, appDefaults := namespaceSizes(stacks.Dev) // a laptop holds what dev's nodes hold
	pl := &localPlan{
		name: prefix,
		baseline: k8sbaseline.Args{
			Local: true, KubernetesVersion: version, AppNamespace: AppNamespace,
			AppQuota: applicationQuota(spec.App, floor), AppContainerDefaults: appDefaults, AppConfig: featureFlags(spec),
		},
		data: localdata.Args{
			Namespace: DataNamespace, NamespaceLabels: k8sbaseline.PodSecurityLabels(version),
			Clients: []string{AppNamespace}, DatabaseOnlyClients: []string{app.DatabaseUsersNamespace},
			StorageClass: spec.Local.StorageClass, VolumeSize: spec.Local.VolumeSize,
			// The cloud's client image: PostgreSQL 16, the RDS major version.
			PostgresImage: DatabaseClientImage,
		},
		app: workloads(spec, version),
	}
	pl.app.Local, pl.app.DataNamespace = true, DataNamespace
	pl.app.DatabasePort, pl.app.CachePort = localdata.PostgresPort, localdata.CachePort
	pl.app.SecretRefreshInterval = "5m"

	r := &refusals{stack: spec.Stack}
	local := stacks.KeyLocal + "."
	r.component(pl.baseline.Check(prefix), stacks.KeyLocal, withCommon(map[string]string{
		"KubernetesVersion": local + "kubernetesVersion", "AppConfig": stacks.KeyApp + ".featureFlags", "AppQuota": stacks.KeyApp + ".services",
	}))
	r.component(pl.data.Check(prefix+"-data"), stacks.KeyLocal, withCommon(map[string]string{
		"StorageClass": local + "storageClass", "VolumeSize": local + "volumeSize",
	}))
	r.component(pl.app.Check(prefix), stacks.KeyApp, withCommon(serviceKeys(pl.app)))
	return pl, r.err()
}

// localConfig is the application's ConfigMap in the local tier: the cloud's keys, pointing at
// the stores in the cluster (the CA is ca.crt in each secret). The object store stands in for
// the assets bucket, which the application does not use in the cloud either.
func localConfig(spec *stacks.Spec, data *localdata.Data) pulumi.StringMap {
	cfg := pulumi.StringMap{
		"ENVIRONMENT":   pulumi.String(spec.Stack),
		"POSTGRES_HOST": data.PostgresHost,
		"POSTGRES_PORT": pulumi.Sprintf("%d", localdata.PostgresPort),
		"REDIS_HOST":    data.CacheHost,
		"REDIS_PORT":    pulumi.Sprintf("%d", localdata.CachePort),
		"REDIS_TLS":     pulumi.String("true"),
	}
	for k, v := range featureFlags(spec) {
		cfg[k] = v
	}
	return cfg
}

// deployLocal creates the local tier on the kubeconfig's cluster: the data stores, the
// application's baseline and the application, through one explicit Kubernetes provider.
func deployLocal(ctx *pulumi.Context, spec *stacks.Spec, pl *localPlan) error {
	// The named context only (the stack refuses any but a local cluster's), never the current one.
	// A laptop cluster that was deleted is gone with its objects: forget them instead of failing
	// every refresh and destroy on an unreachable server.
	k8s, err := kubernetes.NewProvider(ctx, "local", &kubernetes.ProviderArgs{
		Context:           pulumi.String(spec.Local.Context),
		DeleteUnreachable: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}
	onCluster := pulumi.Providers(k8s)
	data, err := localdata.New(ctx, pl.name+"-data", pl.data, onCluster)
	if err != nil {
		return err
	}
	b := pl.baseline
	b.AppConfig = localConfig(spec, data)
	base, err := k8sbaseline.New(ctx, pl.name, b, onCluster)
	if err != nil {
		return err
	}

	a := pl.app
	images := pulumi.StringMap{}
	for _, image := range spec.App.Images {
		images[image] = pulumi.String(spec.Local.Registry + "/" + image)
	}
	a.Images, a.ConfigMapName, a.PriorityClassName = images, base.AppConfigMap, base.AppPriorityClass
	a.Ready = append(append([]pulumi.Resource{}, base.Ready...), data.Ready...)
	users := *a.DatabaseUsers
	users.MasterSecret = app.Secret{Value: data.MasterLogin}
	users.Host, users.DBName, users.App = data.PostgresHost, data.DatabaseName, data.AppLogin
	a.DatabaseUsers = &users
	a.Secrets = map[string]app.Secret{secretPostgres: {Value: data.AppSecret}, secretRedis: {Value: data.CacheSecret}}
	// The stack's own secrets (API keys, webhooks) exist only in Secrets Manager: locally each
	// gets a generated value, as a mock service would accept.
	for short := range spec.App.Secrets {
		v, err := random.NewRandomPassword(ctx, pl.name+"-"+short, &random.RandomPasswordArgs{Length: pulumi.Int(32), Special: pulumi.Bool(false)})
		if err != nil {
			return err
		}
		a.Secrets[short] = app.Secret{Value: pulumi.StringMap{"value": v.Result}}
	}
	workloads, err := app.New(ctx, pl.name+"-app", a, onCluster)
	if err != nil {
		return err
	}

	ctx.Export("tier", pulumi.String(string(spec.Tier)))
	ctx.Export("appNamespace", base.AppNamespace)
	ctx.Export("appConfigMap", base.AppConfigMap)
	ctx.Export("appDeployments", workloads.Deployments)
	ctx.Export("dataNamespace", data.Namespace)
	ctx.Export("postgresHost", data.PostgresHost)
	ctx.Export("redisHost", data.CacheHost)
	ctx.Export("objectStoreEndpoint", data.ObjectStoreEndpoint)
	ctx.Export("objectStoreCredentials", data.ObjectStoreSecret)
	ctx.Export("dataCA", data.CA)
	ctx.Export("release", releaseOutput(spec))
	return nil
}
