// Package localdata runs the local tier's data stores in the cluster, with the settings the
// application gets from RDS, ElastiCache and S3 in the cloud: PostgreSQL (same major version,
// TLS only, SCRAM passwords, a master login from which the app component's database-users Job
// creates the least-privilege application user), Valkey (TLS only, an AUTH password, append-only
// persistence) and an S3-compatible object store (SeaweedFS, with an access key and the bucket).
// Each is a StatefulSet on a volume of the cluster's storage, under Pod Security "restricted",
// reachable only from the client namespaces. The secrets come out with the keys of the cloud's
// secrets, plus ca.crt: the CA of the stores' certificate, which clients verify.
package localdata

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/k8smeta"
	"github.com/scalemate/infra/internal/localtls"
	"github.com/scalemate/infra/internal/scram"
	"github.com/scalemate/infra/internal/validate"
)

// Ports the stores listen on (as RDS, ElastiCache and SeaweedFS's S3 gateway).
const (
	PostgresPort    = 5432
	CachePort       = 6379
	ObjectStorePort = 8333
)

// Default images. Valkey's and SeaweedFS's are pinned by exact version tag: their digests could
// not be resolved offline (README, Known gaps); PostgreSQL's is the caller's (the cloud's
// client image, pinned by digest).
const (
	// DefaultCacheImage is Valkey 8.0, ElastiCache's engine (valkey-io/valkey-container
	// versions.json: 8.0.9 on Alpine); it runs as valkey (UID 999, GID 1000).
	DefaultCacheImage = "docker.io/valkey/valkey:8.0.9-alpine"
	// DefaultObjectStoreImage is SeaweedFS's all-in-one `weed mini` (Apache-2.0; MinIO's
	// community images stopped in 2025); it runs as seaweed (UID and GID 1000).
	DefaultObjectStoreImage = "docker.io/chrislusf/seaweedfs:4.48"
)

// Args configures the data stores.
type Args struct {
	// Namespace is the stores' namespace, which the component creates. Default scalemate-data.
	Namespace string
	// NamespaceLabels label the namespace: they must enforce Pod Security restricted. Required.
	NamespaceLabels map[string]string
	// Clients are the namespaces whose pods may connect to PostgreSQL and Valkey (the
	// application's). At least one.
	Clients []string
	// DatabaseOnlyClients may connect to PostgreSQL only (the database-users Job's namespace).
	// Default none.
	DatabaseOnlyClients []string
	// DatabaseName, MasterUsername and AppUsername are the cloud's: the database, the master
	// login and the application's user. Default app, platform_admin, scalemate_app.
	DatabaseName, MasterUsername, AppUsername string
	// Bucket is the object store's bucket (the cloud's assets bucket). Default assets.
	Bucket string
	// StorageClass holds the volumes. Default the cluster's default StorageClass.
	StorageClass string
	// VolumeSize is each store's volume. Default 1Gi.
	VolumeSize string
	// PostgresImage is PostgreSQL, the cloud's major version, pinned by digest. Required.
	PostgresImage string
	// CacheImage and ObjectStoreImage default to DefaultCacheImage and DefaultObjectStoreImage.
	CacheImage, ObjectStoreImage string
}

// Data is the component resource.
type Data struct {
	pulumi.ResourceState

	// Namespace is the stores' namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// PostgresHost, CacheHost and ObjectStoreEndpoint are where clients connect (the names
	// the certificate carries; the endpoint is an http:// URL).
	PostgresHost        pulumi.StringOutput `pulumi:"postgresHost"`
	CacheHost           pulumi.StringOutput `pulumi:"cacheHost"`
	ObjectStoreEndpoint pulumi.StringOutput `pulumi:"objectStoreEndpoint"`
	// DatabaseName is the application's database.
	DatabaseName pulumi.StringOutput `pulumi:"databaseName"`
	// CA is the stores' certificate authority (PEM), which clients verify.
	CA pulumi.StringOutput `pulumi:"ca"`
	// MasterLogin is the master login (username, password, ca.crt), for the database-users Job.
	MasterLogin pulumi.StringMapOutput `pulumi:"masterLogin"`
	// AppLogin is the application user's name and SCRAM-SHA-256 verifier (username, verifier).
	AppLogin pulumi.StringMapOutput `pulumi:"appLogin"`
	// AppSecret is the application's database secret, keyed as the cloud's (engine, username,
	// password, host, port, dbname) plus ca.crt.
	AppSecret pulumi.StringMapOutput `pulumi:"appSecret"`
	// CacheSecret is the cache's secret, keyed as the cloud's (authToken, host, port, tls,
	// clusterMode) plus ca.crt.
	CacheSecret pulumi.StringMapOutput `pulumi:"cacheSecret"`
	// ObjectStoreSecret holds the object store's keys (accessKeyId, secretAccessKey, endpoint,
	// bucket).
	ObjectStoreSecret pulumi.StringMapOutput `pulumi:"objectStoreSecret"`

	// Ready are the StatefulSets: the stores serve once they are rolled out.
	Ready []pulumi.Resource
}

var (
	digestRE  = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	taggedRE  = regexp.MustCompile(`:[0-9]+(\.[0-9]+)+(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$`)
	userRE    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	classRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
	reserved  = []string{"postgres", "admin", "root", "rdsadmin"}
	userAndID = map[string][2]int{"postgres": {70, 70}, "cache": {999, 1000}, "objects": {1000, 1000}}
)

func (a Args) withDefaults() Args {
	a.Namespace = cmp.Or(a.Namespace, "scalemate-data")
	a.DatabaseName = cmp.Or(a.DatabaseName, "app")
	a.MasterUsername = cmp.Or(a.MasterUsername, "platform_admin")
	a.AppUsername = cmp.Or(a.AppUsername, "scalemate_app")
	a.Bucket = cmp.Or(a.Bucket, "assets")
	a.VolumeSize = cmp.Or(a.VolumeSize, "1Gi")
	a.CacheImage = cmp.Or(a.CacheImage, DefaultCacheImage)
	a.ObjectStoreImage = cmp.Or(a.ObjectStoreImage, DefaultObjectStoreImage)
	return a
}

// Check validates the args; every problem is reported at once.
func (a Args) Check(name string) error {
	var p validate.Problems
	a = a.withDefaults()
	if !validate.IsDNSLabel(a.Namespace) {
		p.Addf("Namespace", "%q is not a namespace name", a.Namespace)
	}
	if a.NamespaceLabels["pod-security.kubernetes.io/enforce"] != "restricted" {
		p.Addf("NamespaceLabels", "must enforce Pod Security restricted (pod-security.kubernetes.io/enforce: restricted)")
	}
	if len(a.Clients) == 0 {
		p.Addf("Clients", "at least one client namespace is required")
	}
	for field, list := range map[string][]string{"Clients": a.Clients, "DatabaseOnlyClients": a.DatabaseOnlyClients} {
		for _, c := range list {
			if !validate.IsDNSLabel(c) || c == a.Namespace {
				p.Addf(field, "%q is not a namespace name other than Namespace", c)
			}
		}
	}
	if !userRE.MatchString(a.DatabaseName) {
		p.Addf("DatabaseName", "%q is not a database name (lower-case letters, digits, _)", a.DatabaseName)
	}
	for field, u := range map[string]string{"MasterUsername": a.MasterUsername, "AppUsername": a.AppUsername} {
		if !userRE.MatchString(u) || slices.Contains(reserved, u) {
			p.Addf(field, "%q is not allowed; use a lower-case name that is not one of %s", u, strings.Join(reserved, ", "))
		}
	}
	if a.MasterUsername == a.AppUsername {
		p.Addf("AppUsername", "%q is also MasterUsername; the application gets a user of its own", a.AppUsername)
	}
	if !bucketRE.MatchString(a.Bucket) {
		p.Addf("Bucket", "%q is not a bucket name (3-63 lower-case letters, digits, dots, dashes)", a.Bucket)
	}
	if a.StorageClass != "" && !classRE.MatchString(a.StorageClass) {
		p.Addf("StorageClass", "%q is not a StorageClass name", a.StorageClass)
	}
	if v, ok := validate.Quantity(a.VolumeSize); !ok || v < 1<<26 {
		p.Addf("VolumeSize", "%q is not a volume size of at least 64Mi", a.VolumeSize)
	}
	if !digestRE.MatchString(a.PostgresImage) {
		p.Addf("PostgresImage", "%q is not pinned by digest (<image>@sha256:<64 hex>)", a.PostgresImage)
	}
	for field, image := range map[string]string{"CacheImage": a.CacheImage, "ObjectStoreImage": a.ObjectStoreImage} {
		if !taggedRE.MatchString(image) {
			p.Addf(field, "%q is not pinned (an exact version tag such as :8.0.9-alpine, or a digest)", image)
		}
	}
	return p.Err(fmt.Sprintf("invalid localdata args for %q", name))
}

// New creates the data stores. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Data, error) {
	if err := args.Check(name); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	d := &Data{}
	if err := ctx.RegisterComponentResource("scalemate:localdata:Data", name, d, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, name: name, args: args, parent: pulumi.Parent(d)}
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.Namespace), Labels: pulumi.ToStringMap(args.NamespaceLabels)},
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", args.Namespace, err)
	}
	b.ns = ns
	policies, err := b.networkPolicies()
	if err != nil {
		return nil, err
	}
	b.before = append(policies, ns)

	pw := map[string]*random.RandomPassword{}
	for _, p := range []struct {
		name   string
		length int
	}{{"master", 40}, {"app", 40}, {"cache", 64}, {"objects", 40}, {"tls-seed", 64}} {
		// URL-safe: applications build connection URLs from them.
		r, err := random.NewRandomPassword(ctx, name+"-"+p.name, &random.RandomPasswordArgs{Length: pulumi.Int(p.length), Special: pulumi.Bool(false)}, b.parent)
		if err != nil {
			return nil, fmt.Errorf("generating the %s password: %w", p.name, err)
		}
		pw[p.name] = r
	}

	host := func(service string) string { return service + "." + args.Namespace + ".svc" }
	hosts := []string{host("postgres"), host("cache"), host("objects")}
	for _, h := range slices.Clone(hosts) {
		hosts = append(hosts, h+".cluster.local")
	}
	bundle := pw["tls-seed"].Result.ApplyT(func(seed string) (map[string]string, error) {
		sum := sha256.Sum256([]byte(seed)) // 64 random characters, 32 bytes
		b, err := localtls.Issue(sum[:], name+"-ca", hosts)
		return map[string]string{"ca.crt": b.CA, "tls.crt": b.Cert, "tls.key": b.Key}, err
	}).(pulumi.StringMapOutput)
	bundle = pulumi.ToSecret(bundle).(pulumi.StringMapOutput)
	tls, err := corev1.NewSecret(ctx, name+"-tls", &corev1.SecretArgs{
		Metadata: meta("tls", args.Namespace, nil), Type: pulumi.String("kubernetes.io/tls"), StringData: bundle,
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("creating the TLS secret: %w", err)
	}
	b.before = append(b.before, tls)
	d.CA = bundle.MapIndex(pulumi.String("ca.crt"))

	if err := b.postgres(pw["master"].Result); err != nil {
		return nil, err
	}
	if err := b.cache(pw["cache"].Result); err != nil {
		return nil, err
	}
	if err := b.objectStore(pw["objects"].Result); err != nil {
		return nil, err
	}

	d.Namespace, d.DatabaseName = ns.Metadata.Name().Elem(), pulumi.String(args.DatabaseName).ToStringOutput()
	d.PostgresHost, d.CacheHost = pulumi.String(host("postgres")).ToStringOutput(), pulumi.String(host("cache")).ToStringOutput()
	d.ObjectStoreEndpoint = pulumi.Sprintf("http://%s:%d", host("objects"), ObjectStorePort)
	secret := func(m pulumi.StringMapOutput) pulumi.StringMapOutput {
		return pulumi.ToSecret(m).(pulumi.StringMapOutput)
	}
	d.MasterLogin = secret(pulumi.All(pw["master"].Result, d.CA).ApplyT(func(v []any) map[string]string {
		return map[string]string{"username": args.MasterUsername, "password": v[0].(string), "ca.crt": v[1].(string)}
	}).(pulumi.StringMapOutput))
	d.AppLogin = secret(pw["app"].Result.ApplyT(func(pw string) (map[string]string, error) {
		verifier, err := scram.Verifier(pw, scram.Salt(pw, name+"/"+args.AppUsername))
		return map[string]string{"username": args.AppUsername, "verifier": verifier}, err
	}).(pulumi.StringMapOutput))
	d.AppSecret = secret(pulumi.All(pw["app"].Result, d.CA).ApplyT(func(v []any) map[string]string {
		return map[string]string{"engine": "postgres", "username": args.AppUsername, "password": v[0].(string),
			"host": host("postgres"), "port": strconv.Itoa(PostgresPort), "dbname": args.DatabaseName, "ca.crt": v[1].(string)}
	}).(pulumi.StringMapOutput))
	d.CacheSecret = secret(pulumi.All(pw["cache"].Result, d.CA).ApplyT(func(v []any) map[string]string {
		return map[string]string{"authToken": v[0].(string), "host": host("cache"), "port": strconv.Itoa(CachePort), "tls": "true",
			"clusterMode": "false", "ca.crt": v[1].(string)}
	}).(pulumi.StringMapOutput))
	d.ObjectStoreSecret = secret(pulumi.All(pw["objects"].Result, d.ObjectStoreEndpoint).ApplyT(func(v []any) map[string]string {
		return map[string]string{"accessKeyId": objectStoreKeyID, "secretAccessKey": v[0].(string), "endpoint": v[1].(string), "bucket": args.Bucket}
	}).(pulumi.StringMapOutput))
	d.Ready = b.ready
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"namespace": d.Namespace, "databaseName": d.DatabaseName, "postgresHost": d.PostgresHost, "cacheHost": d.CacheHost, "objectStoreEndpoint": d.ObjectStoreEndpoint,
		"ca": d.CA, "masterLogin": d.MasterLogin, "appLogin": d.AppLogin, "appSecret": d.AppSecret, "cacheSecret": d.CacheSecret,
		"objectStoreSecret": d.ObjectStoreSecret,
	})
}

// objectStoreKeyID is the object store's access key id (its secret key is random).
const objectStoreKeyID = "scalemate-local"

// builder carries what every store needs.
type builder struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	parent pulumi.ResourceOption
	ns     *corev1.Namespace
	// before are what a store's pods wait for: the namespace, its policies and the TLS secret.
	before []pulumi.Resource
	ready  []pulumi.Resource
}

func (b *builder) opts(after ...pulumi.Resource) []pulumi.ResourceOption {
	return []pulumi.ResourceOption{b.parent, pulumi.DependsOn(append(slices.Clone(b.before), after...))}
}

// meta is an object's metadata (internal/k8smeta).
var meta = k8smeta.Object

// networkPolicies deny everything but DNS, and each store's clients on its port: PostgreSQL
// from the clients and the database-only clients, Valkey from the clients. The object store
// admits nobody (a developer reaches it by port-forward, which policies do not see).
func (b *builder) networkPolicies() ([]pulumi.Resource, error) {
	from := func(namespaces ...string) networkingv1.NetworkPolicyPeerArray {
		var out networkingv1.NetworkPolicyPeerArray
		for _, ns := range namespaces {
			out = append(out, networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}},
			})
		}
		return out
	}
	store := func(name string, port int, clients networkingv1.NetworkPolicyPeerArray) networkingv1.NetworkPolicySpecArgs {
		return networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(name)}},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: clients, Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}},
			}},
		}
	}
	dns := networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
		PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
	}
	all := metav1.LabelSelectorArgs{}
	var out []pulumi.Resource
	for _, p := range []struct {
		name string
		spec networkingv1.NetworkPolicySpecArgs
	}{
		{"default-deny", networkingv1.NetworkPolicySpecArgs{PodSelector: all, PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"})}},
		{"allow-postgres", store("postgres", PostgresPort, from(append(slices.Clone(b.args.Clients), b.args.DatabaseOnlyClients...)...))},
		{"allow-cache", store("cache", CachePort, from(b.args.Clients...))},
		{"allow-dns", networkingv1.NetworkPolicySpecArgs{PodSelector: all, PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{dns}, Ports: networkingv1.NetworkPolicyPortArray{
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
			}}}}},
	} {
		spec := p.spec
		np, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: meta(p.name, b.args.Namespace, nil), Spec: &spec,
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.ns}))
		if err != nil {
			return nil, fmt.Errorf("creating network policy %s: %w", p.name, err)
		}
		out = append(out, np)
	}
	return out, nil
}

// store is one StatefulSet with its Service and volume.
type store struct {
	name, image string
	port        int
	command     []string
	args        []string
	env         corev1.EnvVarArray
	// dataPath is where the volume is mounted; scratch are further writable paths (emptyDir).
	dataPath string
	scratch  []string
	// secretMounts and configMounts are Secrets and ConfigMaps mounted read-only: name -> path.
	secretMounts, configMounts map[string]string
	probe                      corev1.ProbeArgs
	cpu, memory                [2]string // request, limit
}

// statefulSet runs one store: one replica, Pod Security "restricted", a read-only root file
// system with writable data and scratch paths, its volume from the claim template.
func (b *builder) statefulSet(s store, after ...pulumi.Resource) error {
	ids := userAndID[s.name]
	labels := map[string]string{"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": "scalemate", "app.kubernetes.io/component": "data"}
	svc, err := corev1.NewService(b.ctx, b.name+"-"+s.name, &corev1.ServiceArgs{
		Metadata: meta(s.name, b.args.Namespace, labels),
		Spec: &corev1.ServiceSpecArgs{
			Type: pulumi.String("ClusterIP"), Selector: pulumi.ToStringMap(labels),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("main"), Port: pulumi.Int(s.port), TargetPort: pulumi.String("main")}},
		},
	}, b.opts()...)
	if err != nil {
		return fmt.Errorf("creating service %s: %w", s.name, err)
	}
	mounts := corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(s.dataPath)}}
	var volumes corev1.VolumeArray
	for i, path := range s.scratch {
		v := fmt.Sprintf("scratch-%d", i)
		src := corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("256Mi")}
		if path == "/dev/shm" {
			src.Medium = pulumi.String("Memory")
		}
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(v), EmptyDir: src})
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(v), MountPath: pulumi.String(path)})
	}
	for _, secret := range slices.Sorted(maps.Keys(s.secretMounts)) {
		// Readable by root and the store's group only (fsGroup): PostgreSQL refuses a key file
		// owned by root with more than 0640.
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(secret), Secret: corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(secret), DefaultMode: pulumi.Int(0o440)}})
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(secret), MountPath: pulumi.String(s.secretMounts[secret]), ReadOnly: pulumi.Bool(true)})
	}
	for _, cm := range slices.Sorted(maps.Keys(s.configMounts)) {
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String(cm), ConfigMap: corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(cm)}})
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(cm), MountPath: pulumi.String(s.configMounts[cm]), ReadOnly: pulumi.Bool(true)})
	}
	claim := corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.ToStringArray([]string{"ReadWriteOnce"}),
		Resources:   corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(b.args.VolumeSize)}},
	}
	if b.args.StorageClass != "" {
		claim.StorageClassName = pulumi.String(b.args.StorageClass)
	}
	container := corev1.ContainerArgs{
		Name: pulumi.String(s.name), Image: pulumi.String(s.image),
		Command: pulumi.ToStringArray(s.command), Args: pulumi.ToStringArray(s.args), Env: s.env,
		Ports:          corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("main"), ContainerPort: pulumi.Int(s.port)}},
		ReadinessProbe: s.probe, LivenessProbe: s.probe,
		// Up to 5 minutes to start (PostgreSQL's first initdb listens on no TCP port): a
		// liveness kill half-way through would leave a data directory that never initialises.
		StartupProbe: corev1.ProbeArgs{Exec: s.probe.Exec, HttpGet: s.probe.HttpGet, PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(30)},
		VolumeMounts: mounts,
		Resources: corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(s.cpu[0]), "memory": pulumi.String(s.memory[0])},
			Limits:   pulumi.StringMap{"cpu": pulumi.String(s.cpu[1]), "memory": pulumi.String(s.memory[1])},
		},
		SecurityContext: corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true), RunAsNonRoot: pulumi.Bool(true),
			Capabilities:   corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
			SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
	}
	set, err := appsv1.NewStatefulSet(b.ctx, b.name+"-"+s.name, &appsv1.StatefulSetArgs{
		Metadata: meta(s.name, b.args.Namespace, labels),
		Spec: appsv1.StatefulSetSpecArgs{
			Replicas: pulumi.Int(1), ServiceName: svc.Metadata.Name().Elem(),
			Selector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)},
			// The claims outlive the StatefulSet: claim templates are immutable, so a new
			// VolumeSize or StorageClass replaces the StatefulSet (shown in the preview; a short
			// outage) and the new pod re-binds the retained claim at its old size: grow a volume by
			// patching its claim (README). The claims go with the namespace on destroy.
			PersistentVolumeClaimRetentionPolicy: appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"), WhenScaled: pulumi.String("Retain"),
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("data")}, Spec: claim,
			}},
			Template: corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false), EnableServiceLinks: pulumi.Bool(false),
					SecurityContext: corev1.PodSecurityContextArgs{
						RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(ids[0]), RunAsGroup: pulumi.Int(ids[1]), FsGroup: pulumi.Int(ids[1]),
						SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
					},
					Containers: corev1.ContainerArray{container},
					Volumes:    volumes,
				},
			},
		},
	}, b.opts(after...)...)
	if err != nil {
		return fmt.Errorf("creating statefulset %s: %w", s.name, err)
	}
	b.ready = append(b.ready, set)
	return nil
}

// secret writes a Secret in the stores' namespace.
func (b *builder) secret(name string, data pulumi.StringMapInput) (*corev1.Secret, error) {
	s, err := corev1.NewSecret(b.ctx, b.name+"-"+name, &corev1.SecretArgs{
		Metadata: meta(name, b.args.Namespace, nil), Type: pulumi.String("Opaque"),
		StringData: pulumi.ToSecret(data).(pulumi.StringMapOutput),
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("creating secret %s: %w", name, err)
	}
	return s, nil
}

func execProbe(script string) corev1.ProbeArgs {
	return corev1.ProbeArgs{
		Exec:          corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", script})},
		PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(6),
	}
}

// pgHBA admits TLS connections with SCRAM passwords only (and the entrypoint's own socket
// logins while it initialises), as rds.force_ssl does in the cloud.
const pgHBA = `local all all scram-sha-256
hostssl all all all scram-sha-256
`

// postgres runs PostgreSQL with the master login, TLS only.
func (b *builder) postgres(master pulumi.StringOutput) error {
	login, err := b.secret("postgres-master", pulumi.StringMap{"password": master})
	if err != nil {
		return err
	}
	hba, err := corev1.NewConfigMap(b.ctx, b.name+"-postgres-hba", &corev1.ConfigMapArgs{
		Metadata: meta("postgres-hba", b.args.Namespace, nil), Data: pulumi.StringMap{"pg_hba.conf": pulumi.String(pgHBA)},
	}, b.opts()...)
	if err != nil {
		return fmt.Errorf("creating config map postgres-hba: %w", err)
	}
	return b.statefulSet(store{
		name: "postgres", image: b.args.PostgresImage, port: PostgresPort,
		args: []string{"-c", "ssl=on", "-c", "ssl_cert_file=/tls/tls.crt", "-c", "ssl_key_file=/tls/tls.key",
			"-c", "ssl_min_protocol_version=TLSv1.2", "-c", "password_encryption=scram-sha-256", "-c", "hba_file=/etc/postgresql/hba/pg_hba.conf"},
		env: corev1.EnvVarArray{
			// A directory below the mount, which the server's user creates (the mount's root is not its own).
			corev1.EnvVarArgs{Name: pulumi.String("PGDATA"), Value: pulumi.String("/var/lib/postgresql/data/pgdata")},
			corev1.EnvVarArgs{Name: pulumi.String("POSTGRES_USER"), Value: pulumi.String(b.args.MasterUsername)},
			corev1.EnvVarArgs{Name: pulumi.String("POSTGRES_DB"), Value: pulumi.String(b.args.DatabaseName)},
			corev1.EnvVarArgs{Name: pulumi.String("POSTGRES_PASSWORD_FILE"), Value: pulumi.String("/run/secrets/postgres/password")},
		},
		dataPath:     "/var/lib/postgresql/data",
		scratch:      []string{"/var/run/postgresql", "/tmp", "/dev/shm"},
		secretMounts: map[string]string{"tls": "/tls", "postgres-master": "/run/secrets/postgres"},
		configMounts: map[string]string{"postgres-hba": "/etc/postgresql/hba"},
		probe:        execProbe(fmt.Sprintf("pg_isready -h 127.0.0.1 -p %d", PostgresPort)),
		cpu:          [2]string{"100m", "1"}, memory: [2]string{"256Mi", "1Gi"},
	}, login, hba)
}

// cache runs Valkey with its AUTH password, TLS only (clients need no certificate of their
// own, as with ElastiCache), and append-only persistence.
func (b *builder) cache(password pulumi.StringOutput) error {
	auth, err := b.secret("cache-auth", pulumi.StringMap{"password": password})
	if err != nil {
		return err
	}
	return b.statefulSet(store{
		name: "cache", image: b.args.CacheImage, port: CachePort,
		args: []string{"--port", "0", "--tls-port", strconv.Itoa(CachePort), "--tls-cert-file", "/tls/tls.crt", "--tls-key-file", "/tls/tls.key",
			"--tls-ca-cert-file", "/tls/ca.crt", "--tls-auth-clients", "no", "--requirepass", "$(VALKEY_PASSWORD)",
			"--appendonly", "yes", "--dir", "/data"},
		env: corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("VALKEY_PASSWORD"), ValueFrom: corev1.EnvVarSourceArgs{
			SecretKeyRef: corev1.SecretKeySelectorArgs{Name: pulumi.String("cache-auth"), Key: pulumi.String("password")},
		}}},
		dataPath: "/data", scratch: []string{"/tmp"}, secretMounts: map[string]string{"tls": "/tls"},
		// On loopback, where the certificate's names do not apply.
		probe: execProbe(fmt.Sprintf(`valkey-cli --tls --insecure -p %d --no-auth-warning -a "$VALKEY_PASSWORD" ping | grep -q PONG`, CachePort)),
		cpu:   [2]string{"50m", "500m"}, memory: [2]string{"64Mi", "256Mi"},
	}, auth)
}

// objectStore runs SeaweedFS's S3 gateway with one access key and the bucket.
func (b *builder) objectStore(secretKey pulumi.StringOutput) error {
	keys, err := b.secret("objects-credentials", pulumi.StringMap{"accessKeyId": pulumi.String(objectStoreKeyID), "secretAccessKey": secretKey})
	if err != nil {
		return err
	}
	fromKeys := func(env, key string) corev1.EnvVarArgs {
		return corev1.EnvVarArgs{Name: pulumi.String(env), ValueFrom: corev1.EnvVarSourceArgs{
			SecretKeyRef: corev1.SecretKeySelectorArgs{Name: pulumi.String("objects-credentials"), Key: pulumi.String(key)},
		}}
	}
	return b.statefulSet(store{
		name: "objects", image: b.args.ObjectStoreImage, port: ObjectStorePort,
		args: []string{"mini", "-dir=/data"},
		env: corev1.EnvVarArray{
			fromKeys("AWS_ACCESS_KEY_ID", "accessKeyId"), fromKeys("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
			corev1.EnvVarArgs{Name: pulumi.String("S3_BUCKET"), Value: pulumi.String(b.args.Bucket)},
		},
		dataPath: "/data", scratch: []string{"/tmp"},
		probe: corev1.ProbeArgs{
			HttpGet:       corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String("main")},
			PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(6),
		},
		cpu: [2]string{"100m", "1"}, memory: [2]string{"128Mi", "512Mi"},
	}, keys)
}
