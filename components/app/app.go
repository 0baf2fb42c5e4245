// Package app runs the application's services on the cluster, in two colours (blue and green)
// for zero-downtime releases: per service an IRSA identity of its own, its secrets copied from
// Secrets Manager by the External Secrets Operator (files that follow rotation), and per colour
// that runs a version a Deployment under Pod Security "restricted" with probes, requests and
// limits, zone spread, an autoscaler and a disruption budget, a migration Job that must succeed
// before the colour starts, and a TargetGroupBinding that puts its pods into the colour's load
// balancer target group (the pods' readiness then waits for the load balancer's health check).
// Network policies admit each service's flows only: the load balancer in, declared peers, the
// data stores it reads. Optionally a Job in a namespace of its own creates the application's
// least-privilege database user from the master login before any service starts.
//
// The caller moves traffic with the load balancer once Ready (rollouts and migrations) is done.
// Pass the Kubernetes and AWS providers through opts (pulumi.Providers).
package app

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/irsa"
	"github.com/scalemate/infra/internal/k8smeta"
	"github.com/scalemate/infra/internal/validate"
)

// Colours of a release.
var Colours = []string{"blue", "green"}

// Labels the component puts on pods.
const (
	NameLabel      = "app.kubernetes.io/name"
	ComponentLabel = "app.kubernetes.io/component"
	VersionLabel   = "app.kubernetes.io/version"
	ColourLabel    = "scalemate.io/colour"
	// SecretsDir is where each secret's keys are files: <SecretsDir>/<secret>/<key>. Files, not
	// environment variables: the kubelet updates them when a secret rotates.
	SecretsDir = "/var/run/secrets/scalemate"
	// Pod user and group: non-root, fixed so that images whose USER is a name still start.
	runAsUser = 10001
)

// Service is one workload.
type Service struct {
	// Name is a DNS label of at most 12 characters. Required.
	Name string
	// Image is the key of Images holding the service's repository. Required.
	Image string
	// Port is the container's HTTP port (traffic and probes). Required.
	Port int
	// Command and Args override the image's entrypoint and arguments.
	Command, Args []string
	// Env are plain environment variables.
	Env map[string]string
	// ReadinessPath and LivenessPath are HTTP paths answering 2xx. Required.
	ReadinessPath, LivenessPath string
	// CPU, Memory, CPULimit and MemoryLimit are the container's requests and limits. Required.
	CPU, Memory, CPULimit, MemoryLimit string
	// MinReplicas and MaxReplicas bound the autoscaler of each colour, 1 to 100.
	MinReplicas, MaxReplicas int
	// Secrets are keys of Args.Secrets the service reads.
	Secrets []string
	// Routed puts the service behind the load balancer: Args.TargetGroupARNs has its
	// "<name>-<colour>" groups.
	Routed bool
	// Peers are the services that may call this one.
	Peers []string
	// Migrate is the command of the migration Job run with a colour's version before it starts.
	Migrate []string
	// ReadsDatabase and ReadsCache open egress to Args.DataCIDRs on DatabasePort and CachePort.
	ReadsDatabase, ReadsCache bool
}

// DatabaseUsersNamespace is the database-users Job's namespace unless DatabaseUsers says otherwise.
const DatabaseUsersNamespace = "scalemate-database-users"

// Secret is one secret the services may read: a Secrets Manager entry, or (Local) its value.
type Secret struct {
	// Name is the secret's name (or ARN) in Secrets Manager. Required unless Local.
	Name pulumi.StringInput
	// ARN is what IAM grants: the secret's ARN, or its name's ARN pattern (name-??????).
	// Required unless Local.
	ARN pulumi.StringInput
	// Value is the secret's keys and values (a Pulumi secret), written as the Kubernetes Secret
	// the pods mount, where no Secrets Manager is. Required when Local, unused otherwise.
	Value pulumi.StringMapInput
}

// DatabaseUsers is the Job that creates the application's least-privilege database user from
// the master login, before any service starts.
type DatabaseUsers struct {
	// Image is a PostgreSQL client image pinned by digest. Required.
	Image string
	// MasterSecret is the master login's secret (JSON username and password: the one RDS manages
	// and rotates). The Job's own identity reads it through the External Secrets Operator, into
	// the Job's namespace only (Local: its Value, with the server's CA as ca.crt). Required.
	MasterSecret Secret
	// Host and DBName are where the Job connects: the primary's address and the database.
	// Required.
	Host, DBName pulumi.StringInput
	// App is the application's user (username, verifier: a SCRAM-SHA-256 verifier, so its
	// password never reaches the server as text), a Pulumi secret the component writes as a
	// Kubernetes Secret in the Job's namespace, current at every run. Required.
	App pulumi.StringMapInput
	// Namespace is the Job's own namespace, which the component creates (the master login is
	// synced there, out of the application's reach). Default DatabaseUsersNamespace.
	Namespace string
	// NamespaceLabels label that namespace (its Pod Security Admission level). Required.
	NamespaceLabels map[string]string
	// Revision changes whenever the application's login changes (its secret's version id), so
	// the Job runs again and the database learns the new password. Default none.
	Revision pulumi.StringInput
}

// Args configures the application.
type Args struct {
	// Namespace is the application's namespace (Pod Security "restricted"), which exists
	// (pass what creates it in Ready). Required.
	Namespace string
	// Local runs the application on a cluster without AWS (the local tier), from the same
	// objects otherwise: no IAM roles (Region and the OIDC provider are unused), every secret
	// written as a Kubernetes Secret from its Value (no External Secrets Operator), routed
	// services reached through their stable Service (no TargetGroupBinding, no
	// LoadBalancerCIDRs), and the data stores' pods in DataNamespace (not DataCIDRs).
	// Default false.
	Local bool
	// Region is where the secrets are. Required unless Local.
	Region string
	// OIDCProviderARN and OIDCIssuerURL are the cluster's IAM OIDC provider: every service's
	// role trusts its ServiceAccount through it. Required unless Local.
	OIDCProviderARN, OIDCIssuerURL pulumi.StringInput
	// Images are the image repositories' URLs by name. Required.
	Images pulumi.StringMapInput
	// Services are the workloads, at least one.
	Services []Service
	// Active is the colour the stable in-cluster Services point at (blue or green).
	Active string
	// Versions are the image tags or digests per colour; a colour without one runs nothing.
	Versions map[string]string
	// TargetGroupARNs are the load balancer's target groups by "<service>-<colour>". Required
	// when a service is routed.
	TargetGroupARNs pulumi.StringMapInput
	// LoadBalancerCIDRs are the load balancer's subnets, admitted to routed services' ports.
	LoadBalancerCIDRs []string
	// DataCIDRs are where the database and the cache live. Required when a service reads them,
	// unless Local.
	DataCIDRs []string
	// DataNamespace is the namespace of the in-cluster database and cache (Local). Required
	// when Local and a service reads them.
	DataNamespace string
	// DatabasePort and CachePort are the data stores' ports. Default 5432 and 6379.
	DatabasePort, CachePort int
	// Secrets are the Secrets Manager entries by short name.
	Secrets map[string]Secret
	// SecretRefreshInterval is how often secrets are re-read (Go duration). Default 15m.
	SecretRefreshInterval string
	// DatabaseUsers creates the application's database user. Default none.
	DatabaseUsers *DatabaseUsers
	// ConfigMapName is the shared ConfigMap every container reads as environment. Default none.
	ConfigMapName pulumi.StringInput
	// PriorityClassName is the pods' priority class. Default none.
	PriorityClassName pulumi.StringInput
	// Ready are what must exist before any object here: the load balancer controller (its
	// TargetGroupBinding kind and readiness-gate webhook) and the External Secrets Operator.
	Ready []pulumi.Resource
}

// App is the component resource.
type App struct {
	pulumi.ResourceState

	// Deployments are the Deployments' names by "<service>-<colour>".
	Deployments pulumi.StringMapOutput `pulumi:"deployments"`
	// RoleARNs are the services' IAM roles by service.
	RoleARNs pulumi.StringMapOutput `pulumi:"roleArns"`

	// Ready are the rollouts and Jobs that must be complete before traffic moves.
	Ready []pulumi.Resource
}

var (
	nameRE     = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$`)
	shortRE    = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$`)
	versionRE  = regexp.MustCompile(`^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$`)
	digestRE   = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	durationRE = regexp.MustCompile(`^([0-9]+(h|m|s))+$`)
	envRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	mutable    = []string{"latest", "main", "master", "stable", "edge", "nightly", "dev", "staging", "prod"}
)

func (a Args) withDefaults() Args {
	a.DatabasePort = cmp.Or(a.DatabasePort, 5432)
	a.CachePort = cmp.Or(a.CachePort, 6379)
	a.SecretRefreshInterval = cmp.Or(a.SecretRefreshInterval, "15m")
	a.Active = cmp.Or(a.Active, "blue")
	if a.DatabaseUsers != nil && a.DatabaseUsers.Namespace == "" {
		d := *a.DatabaseUsers
		d.Namespace = DatabaseUsersNamespace
		a.DatabaseUsers = &d
	}
	return a
}

// Check validates every setting except the inputs wired from other components.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, false)
	return p.Err(fmt.Sprintf("invalid app args for %q", name))
}

// check records problems; wired says whether the inputs from other components (Secrets among
// them) are set, so that references to them can be checked too.
func (a Args) check(p *validate.Problems, wired bool) {
	a = a.withDefaults()
	if a.Region == "" && !a.Local {
		p.Addf("Region", "must be set")
	}
	if !validate.IsDNSLabel(a.Namespace) {
		p.Addf("Namespace", "%q is not a namespace name", a.Namespace)
	}
	p.OneOf("Active", a.Active, Colours...)
	for _, c := range slices.Sorted(maps.Keys(a.Versions)) {
		v := a.Versions[c]
		switch {
		case !slices.Contains(Colours, c):
			p.Addf("Versions", "%q is not a colour; use %s", c, strings.Join(Colours, ", "))
		case v != "" && (!versionRE.MatchString(v) || slices.Contains(mutable, strings.ToLower(v))):
			p.Addf("Versions["+c+"]", "%q is not an immutable image tag or digest", v)
		}
	}
	if !durationRE.MatchString(a.SecretRefreshInterval) {
		p.Addf("SecretRefreshInterval", "%q is not a duration (e.g. 15m, 1h)", a.SecretRefreshInterval)
	}
	for _, c := range a.DataCIDRs {
		p.CIDR("DataCIDRs", c)
	}
	for _, c := range a.LoadBalancerCIDRs {
		p.CIDR("LoadBalancerCIDRs", c)
	}
	for _, short := range slices.Sorted(maps.Keys(a.Secrets)) {
		if !shortRE.MatchString(short) {
			p.Addf("Secrets", "%q is not a short secret name (a DNS label of at most 32)", short)
		}
		switch secret := a.Secrets[short]; {
		case a.Local && secret.Value == nil:
			p.Addf("Secrets["+short+"]", "Value must be set (Local: no Secrets Manager)")
		case !a.Local && (secret.Name == nil || secret.ARN == nil):
			p.Addf("Secrets["+short+"]", "Name and ARN must be set")
		}
	}
	if len(a.Services) == 0 {
		p.Addf("Services", "at least one service is required")
	}
	names := map[string]bool{}
	for _, s := range a.Services {
		names[s.Name] = true
	}
	for i, s := range a.Services {
		f := fmt.Sprintf("Services[%d]", i)
		if !nameRE.MatchString(s.Name) {
			p.Addf(f+".Name", "%q is not a DNS label of at most 12 characters", s.Name)
		}
		if slices.IndexFunc(a.Services, func(o Service) bool { return o.Name == s.Name }) != i {
			p.Addf(f+".Name", "%q is listed twice", s.Name)
		}
		p.NotEmpty(f+".Image", s.Image)
		p.IntRange(f+".Port", s.Port, 1024, 65535)
		for field, path := range map[string]string{".ReadinessPath": s.ReadinessPath, ".LivenessPath": s.LivenessPath} {
			if !validate.IsHTTPPath(path) {
				p.Addf(f+field, "%q is not an HTTP path", path)
			}
		}
		for field, q := range map[string]string{".CPU": s.CPU, ".Memory": s.Memory, ".CPULimit": s.CPULimit, ".MemoryLimit": s.MemoryLimit} {
			if v, ok := validate.Quantity(q); !ok || v <= 0 {
				p.Addf(f+field, "%q is not a positive Kubernetes quantity", q)
			}
		}
		p.Scaling(f+".MinReplicas", f+".MaxReplicas", f+".MinReplicas", s.MinReplicas, s.MaxReplicas, s.MinReplicas, 100)
		if s.MinReplicas < 1 {
			p.Addf(f+".MinReplicas", "must be at least 1")
		}
		for _, secret := range s.Secrets {
			if _, ok := a.Secrets[secret]; wired && !ok {
				p.Addf(f+".Secrets", "%q is not a key of Secrets", secret)
			}
		}
		for _, peer := range s.Peers {
			if !names[peer] || peer == s.Name {
				p.Addf(f+".Peers", "%q is not another service", peer)
			}
		}
		for k := range s.Env {
			if !envRE.MatchString(k) {
				p.Addf(f+".Env", "%q is not an environment variable name", k)
			}
		}
		if s.Routed && len(a.LoadBalancerCIDRs) == 0 && !a.Local {
			p.Addf(f+".Routed", "needs LoadBalancerCIDRs (the load balancer's subnets) to admit")
		}
		if (s.ReadsDatabase || s.ReadsCache) && !a.reachesData() {
			p.Addf(f, "reads the database or cache but %s", a.dataMissing())
		}
	}
	if d := a.DatabaseUsers; d != nil {
		if !digestRE.MatchString(d.Image) {
			p.Addf("DatabaseUsers.Image", "%q is not pinned by digest (<image>@sha256:<64 hex>)", d.Image)
		}
		master := d.MasterSecret.Name != nil && d.MasterSecret.ARN != nil
		if a.Local {
			master = d.MasterSecret.Value != nil
		}
		if wired && (!master || d.Host == nil || d.DBName == nil || d.App == nil) {
			p.Addf("DatabaseUsers", "MasterSecret, Host, DBName and App must be set")
		}
		if !a.reachesData() {
			p.Addf("DatabaseUsers", "cannot reach the database: %s", a.dataMissing())
		}
		if !validate.IsDNSLabel(d.Namespace) || d.Namespace == a.Namespace {
			p.Addf("DatabaseUsers.Namespace", "%q is not a namespace name other than Namespace", d.Namespace)
		}
		if d.NamespaceLabels["pod-security.kubernetes.io/enforce"] != "restricted" {
			p.Addf("DatabaseUsers.NamespaceLabels", "must enforce Pod Security restricted (pod-security.kubernetes.io/enforce: restricted)")
		}
	}
}

// reachesData says whether the data stores' address is set: DataCIDRs, or DataNamespace when
// Local; dataMissing says what is missing.
func (a Args) reachesData() bool {
	if a.Local {
		return validate.IsDNSLabel(a.DataNamespace)
	}
	return len(a.DataCIDRs) > 0
}

func (a Args) dataMissing() string {
	if a.Local {
		return fmt.Sprintf("DataNamespace %q is not a namespace name", a.DataNamespace)
	}
	return "DataCIDRs is empty"
}

// New creates the application's objects. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*App, error) {
	var p validate.Problems
	for _, in := range []struct {
		field string
		set   bool
	}{
		{"OIDCProviderARN", args.OIDCProviderARN != nil || args.Local},
		{"OIDCIssuerURL", args.OIDCIssuerURL != nil || args.Local}, {"Images", args.Images != nil},
	} {
		if !in.set {
			p.Addf(in.field, "must be set")
		}
	}
	if slices.ContainsFunc(args.Services, func(s Service) bool { return s.Routed }) && args.TargetGroupARNs == nil && !args.Local {
		p.Addf("TargetGroupARNs", "must be set when a service is routed")
	}
	args.check(&p, true)
	if err := p.Err(fmt.Sprintf("invalid app args for %q", name)); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	a := &App{}
	if err := ctx.RegisterComponentResource("scalemate:app:App", name, a, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, name: name, args: args, app: a, parent: pulumi.Parent(a)}
	deployments, roles := pulumi.StringMap{}, pulumi.StringMap{}
	var usersJob pulumi.Resource
	if d := args.DatabaseUsers; d != nil {
		job, err := b.databaseUsers(d)
		if err != nil {
			return nil, err
		}
		usersJob = job
	}
	for _, s := range args.Services {
		svc, err := b.service(s, usersJob)
		if err != nil {
			return nil, err
		}
		roles[s.Name] = svc.role
		for colour, d := range svc.deployments {
			deployments[s.Name+"-"+colour] = d
		}
	}
	if err := b.networkPolicies(); err != nil {
		return nil, err
	}
	a.Deployments, a.RoleARNs = deployments.ToStringMapOutput(), roles.ToStringMapOutput()
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"deployments": a.Deployments, "roleArns": a.RoleARNs})
}

// builder carries what every object of the component needs.
type builder struct {
	ctx    *pulumi.Context
	name   string
	args   Args
	app    *App
	parent pulumi.ResourceOption
}

// opts are a child's options: the parent, and what it must wait for.
func (b *builder) opts(after ...pulumi.Resource) []pulumi.ResourceOption {
	deps := append(slices.Clone(b.args.Ready), after...)
	return []pulumi.ResourceOption{b.parent, pulumi.DependsOn(deps)}
}

// meta is an object's metadata (internal/k8smeta).
var meta = k8smeta.Object

// built is what service() made.
type built struct {
	role        pulumi.StringOutput
	deployments map[string]pulumi.StringOutput
}

// service creates one service's identity, secrets, Services, bindings and, per colour with a
// version, its Job, Deployment, autoscaler and disruption budget.
func (b *builder) service(s Service, usersJob pulumi.Resource) (*built, error) {
	logical := b.name + "-" + s.Name
	sa, role, err := b.identity(b.args.Namespace, s.Name, b.secretsOf(s))
	if err != nil {
		return nil, err
	}
	secrets, err := b.externalSecrets(b.args.Namespace, s.Name, b.secretsOf(s), nil, sa)
	if err != nil {
		return nil, err
	}
	out := &built{role: role, deployments: map[string]pulumi.StringOutput{}}
	ready := map[string][]pulumi.Resource{} // per colour: what its rollout is
	for _, colour := range Colours {
		var before []pulumi.Resource
		before = append(before, secrets...)
		if usersJob != nil && s.ReadsDatabase {
			before = append(before, usersJob)
		}
		if s.Routed {
			binding, err := b.binding(s, colour)
			if err != nil {
				return nil, err
			}
			// Pods get their readiness gate only if the binding exists when they are created.
			before = append(before, binding)
		}
		version := b.args.Versions[colour]
		if version == "" {
			continue
		}
		if len(s.Migrate) > 0 {
			job, err := b.migration(s, colour, version, sa, before)
			if err != nil {
				return nil, err
			}
			before = append(before, job)
			ready[colour] = append(ready[colour], job)
		}
		// The autoscaler comes first, so it raises a new Deployment to MinReplicas while its
		// first pods start (they pass the load balancer's health check only after 20 s or
		// more): the rollout the traffic switch waits for is then MinReplicas pods, not one.
		hpa, err := b.autoscaler(s, colour)
		if err != nil {
			return nil, err
		}
		d, err := b.deployment(s, colour, version, sa, append(before, hpa))
		if err != nil {
			return nil, err
		}
		ready[colour] = append(ready[colour], hpa, d)
		out.deployments[colour] = d.Metadata.Name().Elem()
		if err := b.disruptionBudget(s, colour); err != nil {
			return nil, err
		}
		b.app.Ready = append(b.app.Ready, ready[colour]...)
	}
	// The stable Service is what peers call (and, Local, what a developer port-forwards to): it
	// follows the active colour, once that colour is rolled out.
	if len(s.Peers) > 0 || s.Routed && b.args.Local {
		labels := map[string]string{NameLabel: s.Name, "app.kubernetes.io/part-of": "scalemate"}
		if _, err := corev1.NewService(b.ctx, logical, &corev1.ServiceArgs{
			Metadata: meta(s.Name, b.args.Namespace, labels),
			Spec: &corev1.ServiceSpecArgs{
				Type:     pulumi.String("ClusterIP"),
				Selector: pulumi.StringMap{NameLabel: pulumi.String(s.Name), ColourLabel: pulumi.String(b.args.Active)},
				Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(s.Port), TargetPort: pulumi.String("http")}},
			},
		}, b.opts(ready[b.args.Active]...)...); err != nil {
			return nil, fmt.Errorf("creating service %s: %w", s.Name, err)
		}
	}
	return out, nil
}

// namedSecret is a secret as a pod sees it: its directory name and where it is.
type namedSecret struct {
	name string
	Secret
}

// secretsOf are the service's secrets, in its order.
func (b *builder) secretsOf(s Service) []namedSecret {
	out := make([]namedSecret, len(s.Secrets))
	for i, name := range s.Secrets {
		out[i] = namedSecret{name, b.args.Secrets[name]}
	}
	return out
}

// identity creates a ServiceAccount and its IRSA role, which may read exactly the given secrets
// (the External Secrets Operator assumes it for the account).
func (b *builder) identity(namespace, account string, secrets []namedSecret, after ...pulumi.Resource) (*corev1.ServiceAccount, pulumi.StringOutput, error) {
	if b.args.Local {
		sa, err := b.serviceAccount(namespace, account, nil, after)
		return sa, pulumi.String("").ToStringOutput(), err
	}
	var arns []any
	for _, s := range secrets {
		arns = append(arns, s.ARN)
	}
	region := b.args.Region
	var inline pulumi.StringInput
	if len(arns) > 0 {
		inline = pulumi.All(arns...).ApplyT(func(v []any) string {
			var resources []string
			for _, arn := range v {
				resources = append(resources, arn.(string))
			}
			statements := []iampolicy.Statement{{
				Sid: "ReadOwnSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, Resource: resources,
			}}
			// Whatever key encrypts a secret, it decrypts through Secrets Manager for that
			// secret only.
			for i, arn := range resources {
				statements = append(statements, iampolicy.Statement{
					Sid: fmt.Sprintf("DecryptOwnSecret%d", i), Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: "*",
					Condition: iampolicy.Condition{
						"StringEquals": {"kms:ViaService": "secretsmanager." + region + ".amazonaws.com"},
						"StringLike":   {"kms:EncryptionContext:SecretARN": arn},
					},
				})
			}
			return iampolicy.Document{Version: "2012-10-17", Statement: statements}.JSON()
		}).(pulumi.StringOutput)
	}
	role, err := irsa.Role(b.ctx, b.name+"-"+account, irsa.Args{
		OIDCProviderARN: b.args.OIDCProviderARN, OIDCIssuerURL: b.args.OIDCIssuerURL,
		Namespace: namespace, ServiceAccount: account, Inline: inline,
	}, b.parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, err
	}
	sa, err := b.serviceAccount(namespace, account, pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn}, after)
	return sa, role.Arn, err
}

// serviceAccount is an account's ServiceAccount, annotated with its IAM role unless Local.
func (b *builder) serviceAccount(namespace, account string, annotations pulumi.StringMap, after []pulumi.Resource) (*corev1.ServiceAccount, error) {
	sa, err := corev1.NewServiceAccount(b.ctx, b.name+"-"+account, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(account), Namespace: pulumi.String(namespace), Annotations: annotations},
		// The IRSA token is projected by EKS's webhook whatever this says; this only keeps the
		// Kubernetes API token out of pods that never call the API.
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, b.opts(after...)...)
	if err != nil {
		return nil, fmt.Errorf("creating service account %s: %w", account, err)
	}
	return sa, nil
}

// externalSecrets creates the account's SecretStore (authenticating as its ServiceAccount) and
// one ExternalSecret per secret it reads, each kept as Kubernetes Secret <account>-<secret>
// with every JSON key of the secret as a file. extra adds fixed, non-secret keys to every
// such Secret (nil for none).
func (b *builder) externalSecrets(namespace, account string, secrets []namedSecret, extra pulumi.StringMap, sa *corev1.ServiceAccount, after ...pulumi.Resource) ([]pulumi.Resource, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if b.args.Local {
		return b.localSecrets(namespace, account, secrets, extra, after)
	}
	store, err := apiextensions.NewCustomResource(b.ctx, b.name+"-"+account+"-secrets", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("external-secrets.io/v1"),
		Kind:       pulumi.String("SecretStore"),
		Metadata:   meta(account, namespace, nil),
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{"provider": pulumi.Map{"aws": pulumi.Map{
			"service": pulumi.String("SecretsManager"), "region": pulumi.String(b.args.Region),
			"auth": pulumi.Map{"jwt": pulumi.Map{"serviceAccountRef": pulumi.Map{"name": sa.Metadata.Name().Elem()}}},
		}}}},
	}, b.opts(after...)...)
	if err != nil {
		return nil, fmt.Errorf("creating secret store %s: %w", account, err)
	}
	var out []pulumi.Resource
	for _, secret := range secrets {
		k8sName := account + "-" + secret.name
		target := pulumi.Map{"name": pulumi.String(k8sName), "creationPolicy": pulumi.String("Owner"), "deletionPolicy": pulumi.String("Delete")}
		if extra != nil {
			// The secret's own keys (mergePolicy Merge keeps them) plus the fixed ones.
			target["template"] = pulumi.Map{"mergePolicy": pulumi.String("Merge"), "data": extra}
		}
		es, err := apiextensions.NewCustomResource(b.ctx, b.name+"-"+k8sName, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("external-secrets.io/v1"),
			Kind:       pulumi.String("ExternalSecret"),
			Metadata: &metav1.ObjectMetaArgs{
				Name: pulumi.String(k8sName), Namespace: pulumi.String(namespace),
				// The provider waits until the Secret is synced, so pods never start without it
				// and a sync failure (IAM, network) fails here, not as a rollout timeout.
				Annotations: pulumi.StringMap{"pulumi.com/waitFor": pulumi.String("condition=Ready")},
			},
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
				"refreshInterval": pulumi.String(b.args.SecretRefreshInterval),
				"secretStoreRef":  pulumi.Map{"name": store.Metadata.Name().Elem(), "kind": pulumi.String("SecretStore")},
				// Every JSON key of the secret becomes a file; the Secret goes with the
				// ExternalSecret.
				"target":   target,
				"dataFrom": pulumi.Array{pulumi.Map{"extract": pulumi.Map{"key": secret.Name}}},
			}},
		}, b.opts()...)
		if err != nil {
			return nil, fmt.Errorf("creating external secret %s: %w", k8sName, err)
		}
		out = append(out, es)
	}
	return out, nil
}

// localSecrets write each secret's Value (plus extra) as the Kubernetes Secret
// <account>-<secret> the External Secrets Operator would keep in the cloud, so pods mount the
// same files.
func (b *builder) localSecrets(namespace, account string, secrets []namedSecret, extra pulumi.StringMap, after []pulumi.Resource) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, secret := range secrets {
		k8sName := account + "-" + secret.name
		data := pulumi.All(secret.Value.ToStringMapOutput(), extra.ToStringMapOutput()).ApplyT(func(v []any) map[string]string {
			m := maps.Clone(v[0].(map[string]string))
			maps.Copy(m, v[1].(map[string]string))
			return m
		}).(pulumi.StringMapOutput)
		s, err := corev1.NewSecret(b.ctx, b.name+"-"+k8sName, &corev1.SecretArgs{
			Metadata: meta(k8sName, namespace, nil), Type: pulumi.String("Opaque"),
			StringData: pulumi.ToSecret(data).(pulumi.StringMapOutput),
		}, b.opts(after...)...)
		if err != nil {
			return nil, fmt.Errorf("creating secret %s: %w", k8sName, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// binding creates the colour's Service and the TargetGroupBinding that registers its pods' IPs
// in the colour's target group (Local: the Service only).
func (b *builder) binding(s Service, colour string) (pulumi.Resource, error) {
	name := s.Name + "-" + colour
	svc, err := corev1.NewService(b.ctx, b.name+"-"+name, &corev1.ServiceArgs{
		Metadata: meta(name, b.args.Namespace, map[string]string{NameLabel: s.Name, ColourLabel: colour}),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.StringMap{NameLabel: pulumi.String(s.Name), ColourLabel: pulumi.String(colour)},
			Ports:    corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(s.Port), TargetPort: pulumi.String("http")}},
		},
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("creating service %s: %w", name, err)
	}
	if b.args.Local {
		return svc, nil
	}
	tg := b.args.TargetGroupARNs.ToStringMapOutput().MapIndex(pulumi.String(name))
	// The controller refuses a changed target group on a binding, and one group takes one
	// binding: a new group replaces the binding, deleting the old one first.
	binding, err := apiextensions.NewCustomResource(b.ctx, b.name+"-"+name+"-tgb", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("elbv2.k8s.aws/v1beta1"),
		Kind:       pulumi.String("TargetGroupBinding"),
		Metadata:   meta(name, b.args.Namespace, map[string]string{NameLabel: s.Name, ColourLabel: colour}),
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"serviceRef":     pulumi.Map{"name": svc.Metadata.Name().Elem(), "port": pulumi.Int(s.Port)},
			"targetGroupARN": tg,
			"targetType":     pulumi.String("ip"),
		}},
	}, append(b.opts(), pulumi.ReplaceOnChanges([]string{"spec.targetGroupARN"}), pulumi.DeleteBeforeReplace(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating target group binding %s: %w", name, err)
	}
	return binding, nil
}

// appConfig is the application's shared ConfigMap as a container's environment (none when
// ConfigMapName is unset); only containers in the application's namespace can read it.
func (b *builder) appConfig() corev1.EnvFromSourceArrayInput {
	if b.args.ConfigMapName == nil {
		return nil
	}
	return corev1.EnvFromSourceArray{corev1.EnvFromSourceArgs{ConfigMapRef: corev1.ConfigMapEnvSourceArgs{Name: b.args.ConfigMapName}}}
}

// image is the repository URL with the version: a digest after @, a tag after :.
func (b *builder) image(repository, version string) pulumi.StringOutput {
	sep := ":"
	if strings.HasPrefix(version, "sha256:") {
		sep = "@"
	}
	return pulumi.Sprintf("%s%s%s", b.args.Images.ToStringMapOutput().MapIndex(pulumi.String(repository)), sep, version)
}

// labelValue makes a version fit a label value (63 characters of [A-Za-z0-9_.-]).
func labelValue(v string) string {
	v = strings.NewReplacer(":", "-", "+", "_").Replace(v)
	return strings.Trim(v[:min(len(v), 63)], "-_.")
}

// podSpec is the pod every container of the service runs in: Pod Security "restricted",
// secrets as read-only files, /tmp as the only writable path.
func (b *builder) podSpec(s Service, container corev1.ContainerArgs, env map[string]pulumi.StringInput, sa *corev1.ServiceAccount, restart string) *corev1.PodSpecArgs {
	volumes := corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("256Mi")}}}
	mounts := corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")}}
	for _, secret := range s.Secrets {
		volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String("secret-" + secret), Secret: corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(s.Name + "-" + secret), DefaultMode: pulumi.Int(0o440),
		}})
		// A whole-directory mount (no subPath), so the kubelet refreshes it when the secret rotates.
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("secret-" + secret), MountPath: pulumi.String(SecretsDir + "/" + secret), ReadOnly: pulumi.Bool(true)})
	}
	container.VolumeMounts = mounts
	container.SecurityContext = corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true), RunAsNonRoot: pulumi.Bool(true),
		Capabilities:   corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	container.Resources = corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(s.CPU), "memory": pulumi.String(s.Memory)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(s.CPULimit), "memory": pulumi.String(s.MemoryLimit)},
	}
	all := map[string]pulumi.StringInput{"SECRETS_DIR": pulumi.String(SecretsDir)}
	for k, v := range s.Env {
		all[k] = pulumi.String(v)
	}
	maps.Copy(all, env) // the component's own variables win
	var vars corev1.EnvVarArray
	for _, k := range slices.Sorted(maps.Keys(all)) {
		vars = append(vars, corev1.EnvVarArgs{Name: pulumi.String(k), Value: all[k]})
	}
	container.Env = vars
	return &corev1.PodSpecArgs{
		ServiceAccountName:           sa.Metadata.Name().Elem(),
		AutomountServiceAccountToken: pulumi.Bool(false),
		PriorityClassName:            b.args.PriorityClassName,
		RestartPolicy:                pulumi.String(restart),
		SecurityContext: corev1.PodSecurityContextArgs{
			RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(runAsUser), RunAsGroup: pulumi.Int(runAsUser), FsGroup: pulumi.Int(runAsUser),
			SeccompProfile: corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{container},
		Volumes:    volumes,
	}
}

// deployment runs one colour of a service.
func (b *builder) deployment(s Service, colour, version string, sa *corev1.ServiceAccount, after []pulumi.Resource) (*appsv1.Deployment, error) {
	name := s.Name + "-" + colour
	selector := map[string]string{NameLabel: s.Name, ColourLabel: colour}
	labels := maps.Clone(selector)
	labels[VersionLabel], labels[ComponentLabel] = labelValue(version), "server"
	probe := func(path string, period, failures int) corev1.ProbeArgs {
		return corev1.ProbeArgs{
			HttpGet:       corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.String("http")},
			PeriodSeconds: pulumi.Int(period), FailureThreshold: pulumi.Int(failures), TimeoutSeconds: pulumi.Int(2),
		}
	}
	container := corev1.ContainerArgs{
		Name:    pulumi.String(s.Name),
		Image:   b.image(s.Image, version),
		EnvFrom: b.appConfig(),
		Command: pulumi.ToStringArray(s.Command),
		Args:    pulumi.ToStringArray(s.Args),
		Ports:   corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(s.Port)}},
		// Up to 5 minutes to start; then readiness gates traffic and liveness restarts a hung
		// process.
		StartupProbe:   probe(s.LivenessPath, 5, 60),
		ReadinessProbe: probe(s.ReadinessPath, 5, 3),
		LivenessProbe:  probe(s.LivenessPath, 10, 3),
		// The load balancer keeps sending for a moment after a pod starts terminating: keep
		// serving until it has deregistered the pod.
		Lifecycle: corev1.LifecycleArgs{PreStop: corev1.LifecycleHandlerArgs{Sleep: corev1.SleepActionArgs{Seconds: pulumi.Int(15)}}},
	}
	pod := b.podSpec(s, container, map[string]pulumi.StringInput{
		"PORT": pulumi.Sprintf("%d", s.Port), "RELEASE_COLOUR": pulumi.String(colour), "RELEASE_VERSION": pulumi.String(version),
	}, sa, "Always")
	pod.TerminationGracePeriodSeconds = pulumi.Int(45)
	spread := func(key string) corev1.TopologySpreadConstraintArgs {
		return corev1.TopologySpreadConstraintArgs{
			MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(key), WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
			LabelSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
		}
	}
	pod.TopologySpreadConstraints = corev1.TopologySpreadConstraintArray{spread("topology.kubernetes.io/zone"), spread("kubernetes.io/hostname")}
	d, err := appsv1.NewDeployment(b.ctx, b.name+"-"+name, &appsv1.DeploymentArgs{
		Metadata: meta(name, b.args.Namespace, labels),
		Spec: appsv1.DeploymentSpecArgs{
			// No replicas: the autoscaler owns the count (it raises a new Deployment to
			// MinReplicas at once); a count here would be reset on every update.
			Selector:             metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			RevisionHistoryLimit: pulumi.Int(5),
			MinReadySeconds:      pulumi.Int(10),
			// Never below the current count during a rollout: new pods first.
			Strategy: appsv1.DeploymentStrategyArgs{Type: pulumi.String("RollingUpdate"), RollingUpdate: appsv1.RollingUpdateDeploymentArgs{
				MaxSurge: pulumi.String("25%"), MaxUnavailable: pulumi.Int(0),
			}},
			Template: corev1.PodTemplateSpecArgs{Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)}, Spec: pod},
		},
	}, b.opts(after...)...)
	if err != nil {
		return nil, fmt.Errorf("creating deployment %s: %w", name, err)
	}
	return d, nil
}

// autoscaler creates the colour's autoscaler (CPU and memory), naming the Deployment it scales
// before that exists.
func (b *builder) autoscaler(s Service, colour string) (pulumi.Resource, error) {
	name := s.Name + "-" + colour
	target := func(resource string, percent int) autoscalingv2.MetricSpecArgs {
		return autoscalingv2.MetricSpecArgs{Type: pulumi.String("Resource"), Resource: autoscalingv2.ResourceMetricSourceArgs{
			Name:   pulumi.String(resource),
			Target: autoscalingv2.MetricTargetArgs{Type: pulumi.String("Utilization"), AverageUtilization: pulumi.Int(percent)},
		}}
	}
	hpa, err := autoscalingv2.NewHorizontalPodAutoscaler(b.ctx, b.name+"-"+name, &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: meta(name, b.args.Namespace, nil),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReferenceArgs{ApiVersion: pulumi.String("apps/v1"), Kind: pulumi.String("Deployment"), Name: pulumi.String(name)},
			MinReplicas:    pulumi.Int(s.MinReplicas), MaxReplicas: pulumi.Int(s.MaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{target("cpu", 70), target("memory", 80)},
			// Scale up at once, down slowly: a burst must not flap the pod count.
			Behavior: autoscalingv2.HorizontalPodAutoscalerBehaviorArgs{ScaleDown: autoscalingv2.HPAScalingRulesArgs{StabilizationWindowSeconds: pulumi.Int(300)}},
		},
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("creating autoscaler %s: %w", name, err)
	}
	return hpa, nil
}

// disruptionBudget lets one of the colour's pods leave at a time during drains and node-group
// updates.
func (b *builder) disruptionBudget(s Service, colour string) error {
	name := s.Name + "-" + colour
	if _, err := policyv1.NewPodDisruptionBudget(b.ctx, b.name+"-"+name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta(name, b.args.Namespace, nil),
		Spec: policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{NameLabel: pulumi.String(s.Name), ColourLabel: pulumi.String(colour)}},
		},
	}, b.opts()...); err != nil {
		return fmt.Errorf("creating disruption budget %s: %w", name, err)
	}
	return nil
}

// migration runs the service's migration command with the colour's version. The Job's name
// carries the colour and the version, so each version migrates once per colour; the provider
// waits for it to succeed and fails the update (nothing after it moves) when it fails. Only a
// new version makes a new Job: a change of the service's env or resources must not re-run an
// old version's migrations against a newer schema (spec changes are ignored).
func (b *builder) migration(s Service, colour, version string, sa *corev1.ServiceAccount, after []pulumi.Resource) (pulumi.Resource, error) {
	name := jobName(s.Name+"-migrate-"+colour, version)
	container := corev1.ContainerArgs{Name: pulumi.String("migrate"), Image: b.image(s.Image, version), EnvFrom: b.appConfig(), Command: pulumi.ToStringArray(s.Migrate)}
	labels := map[string]string{NameLabel: s.Name, ComponentLabel: "migration", VersionLabel: labelValue(version)}
	// The version is in the logical name too: a new version is a new Job resource, built from
	// the new inputs (a replacement would reuse the ignored spec, the old image).
	job, err := batchv1.NewJob(b.ctx, b.name+"-"+name, &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(b.args.Namespace), Labels: pulumi.ToStringMap(labels), Annotations: retryFailedJob},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit:          pulumi.Int(1),
			ActiveDeadlineSeconds: pulumi.Int(900),
			Template: corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec:     b.podSpec(s, container, map[string]pulumi.StringInput{"RELEASE_VERSION": pulumi.String(version)}, sa, "Never"),
			},
		},
	}, append(b.opts(after...), pulumi.IgnoreChanges([]string{"spec"}), jobTimeouts)...)
	if err != nil {
		return nil, fmt.Errorf("creating migration job %s: %w", name, err)
	}
	return job, nil
}

// jobTimeouts let the provider wait out a Job's own deadline (its default wait is 10 minutes).
var jobTimeouts = pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "20m", Update: "20m"})

// jobName is prefix-<version> cut to a label's 63 characters, with a hash when cut.
func jobName(prefix, version string) string {
	n := strings.ToLower(prefix + "-" + strings.NewReplacer(":", "-", ".", "-", "_", "-", "+", "-").Replace(version))
	if len(n) <= 63 {
		return strings.TrimRight(n, "-")
	}
	sum := sha256.Sum256([]byte(n))
	return strings.TrimRight(n[:54], "-") + "-" + hex.EncodeToString(sum[:])[:8]
}

// databaseUsersScript creates (or updates) the application's role with the master login (an
// rds_superuser, not a superuser: it may create and alter roles it made, not their SUPERUSER
// attribute, and on PostgreSQL 16 cannot SET ROLE to them, so the schema stays the master's
// with USAGE and CREATE granted). The password is set as its SCRAM verifier. TLS is verified
// against the region's RDS certificate bundle: RDS certificates chain to Amazon RDS root CAs
// in no public trust store (Local: the in-cluster server's CA, ca.crt in the master secret).
const databaseUsersScript = `set -eu
m="$SECRETS_DIR/master" a="$SECRETS_DIR/app" ca=/tmp/rds-ca.pem
if [ -f "$m/ca.crt" ]; then ca="$m/ca.crt"; else wget -q -O "$ca" "https://truststore.pki.rds.amazonaws.com/$AWS_REGION/$AWS_REGION-bundle.pem"; fi
export PGHOST="$(cat $m/host)" PGPORT="$(cat $m/port)" PGUSER="$(cat $m/username)" PGPASSWORD="$(cat $m/password)" PGDATABASE="$(cat $m/dbname)" PGSSLMODE=verify-full PGSSLROOTCERT="$ca"
psql -v ON_ERROR_STOP=1 -v app_user="$(cat $a/username)" -v app_verifier="$(cat $a/verifier)" -v db="$(cat $m/dbname)" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'app_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN PASSWORD :'app_verifier';
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app_user";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS app;
GRANT USAGE, CREATE ON SCHEMA app TO :"app_user";
ALTER ROLE :"app_user" SET search_path = app;
SQL
`

// databaseUsers runs the Job that creates the application's database user, in a namespace of
// its own: the master login it needs is a Kubernetes Secret there (synced from the RDS-managed
// secret by the Job's own identity, so a rotated password arrives by itself), which no pod of
// the application's namespace can mount. The application's login is written from its Pulumi
// secret, so a run always sees the current one; the Job's name carries a hash of the script, the
// image and Revision, so a changed login runs it again.
func (b *builder) databaseUsers(d *DatabaseUsers) (pulumi.Resource, error) {
	const account = "database-users"
	ns, err := corev1.NewNamespace(b.ctx, b.name+"-"+account, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(d.Namespace), Labels: pulumi.ToStringMap(d.NamespaceLabels)},
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", d.Namespace, err)
	}
	before, err := b.databaseUsersPolicies(d.Namespace, ns)
	if err != nil {
		return nil, err
	}
	master := []namedSecret{{"master", d.MasterSecret}}
	sa, _, err := b.identity(d.Namespace, account, master, ns)
	if err != nil {
		return nil, err
	}
	where := pulumi.StringMap{"host": d.Host, "port": pulumi.String(strconv.Itoa(b.args.DatabasePort)), "dbname": d.DBName}
	synced, err := b.externalSecrets(d.Namespace, account, master, where, sa, ns)
	if err != nil {
		return nil, err
	}
	before = append(before, synced...)
	app, err := corev1.NewSecret(b.ctx, b.name+"-"+account+"-app", &corev1.SecretArgs{
		Metadata:   meta(account+"-app", d.Namespace, nil),
		Type:       pulumi.String("Opaque"),
		StringData: d.App,
	}, b.opts(ns)...)
	if err != nil {
		return nil, fmt.Errorf("creating secret %s-app: %w", account, err)
	}
	before = append(before, app)
	s := Service{Name: account, Secrets: []string{"master", "app"}, CPU: "50m", Memory: "64Mi", CPULimit: "250m", MemoryLimit: "128Mi"}
	container := corev1.ContainerArgs{
		Name: pulumi.String("psql"), Image: pulumi.String(d.Image),
		Command: pulumi.ToStringArray([]string{"/bin/sh", "-c", databaseUsersScript}),
	}
	// No application ConfigMap: it lives in the application's namespace, not this one.
	env := map[string]pulumi.StringInput{"HOME": pulumi.String("/tmp")}
	if !b.args.Local {
		env["AWS_REGION"] = pulumi.String(b.args.Region)
	}
	pod := b.podSpec(s, container, env, sa, "Never")
	revision := d.Revision
	if revision == nil {
		revision = pulumi.String("")
	}
	name := revision.ToStringOutput().ApplyT(func(rev string) string {
		sum := sha256.Sum256([]byte(databaseUsersScript + d.Image + rev))
		return account + "-" + hex.EncodeToString(sum[:])[:10]
	}).(pulumi.StringOutput)
	labels := map[string]string{NameLabel: account, ComponentLabel: "database-users"}
	job, err := batchv1.NewJob(b.ctx, b.name+"-"+account, &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: name, Namespace: pulumi.String(d.Namespace), Labels: pulumi.ToStringMap(labels), Annotations: retryFailedJob},
		Spec: batchv1.JobSpecArgs{
			BackoffLimit: pulumi.Int(3), ActiveDeadlineSeconds: pulumi.Int(600),
			Template: corev1.PodTemplateSpecArgs{Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)}, Spec: pod},
		},
	}, append(b.opts(before...), jobTimeouts)...)
	if err != nil {
		return nil, fmt.Errorf("creating job %s: %w", account, err)
	}
	b.app.Ready = append(b.app.Ready, job)
	return job, nil
}

// retryFailedJob makes the next `up` replace a Job that failed (after the cause is fixed)
// instead of waiting on it again.
var retryFailedJob = pulumi.StringMap{"pulumi.com/replaceUnready": pulumi.String("true")}

// databaseUsersPolicies isolate the Job's namespace: nothing in; out only DNS, HTTPS (the RDS
// certificate bundle) and the database subnets on the database's port.
func (b *builder) databaseUsersPolicies(namespace string, ns pulumi.Resource) ([]pulumi.Resource, error) {
	dns := networkingv1.NetworkPolicyPeerArgs{
		NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
		PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
	}
	egress := networkingv1.NetworkPolicyEgressRuleArray{
		networkingv1.NetworkPolicyEgressRuleArgs{To: networkingv1.NetworkPolicyPeerArray{dns}, Ports: networkingv1.NetworkPolicyPortArray{
			networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
			networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
		}},
	}
	if !b.args.Local { // the RDS certificate bundle (Local: the CA comes in the master secret)
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{Ports: tcp(443)})
	}
	egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{To: b.dataPeers(), Ports: tcp(b.args.DatabasePort)})
	var out []pulumi.Resource
	for _, p := range []struct {
		name string
		spec networkingv1.NetworkPolicySpecArgs
	}{
		{"default-deny", networkingv1.NetworkPolicySpecArgs{PodSelector: metav1.LabelSelectorArgs{}, PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"})}},
		{"allow-egress", networkingv1.NetworkPolicySpecArgs{PodSelector: metav1.LabelSelectorArgs{}, PolicyTypes: pulumi.ToStringArray([]string{"Egress"}), Egress: egress}},
	} {
		spec := p.spec
		np, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-database-users-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: meta(p.name, namespace, nil), Spec: &spec,
		}, b.opts(ns)...)
		if err != nil {
			return nil, fmt.Errorf("creating network policy %s of %s: %w", p.name, namespace, err)
		}
		out = append(out, np)
	}
	return out, nil
}

// dataPeers are where the database and the cache are: their subnets, or (Local) their namespace.
func (b *builder) dataPeers() networkingv1.NetworkPolicyPeerArray {
	if b.args.Local {
		return networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
			NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(b.args.DataNamespace)}},
		}}
	}
	return ipBlocks(b.args.DataCIDRs)
}

func ipBlocks(cidrs []string) networkingv1.NetworkPolicyPeerArray {
	var out networkingv1.NetworkPolicyPeerArray
	for _, c := range cidrs {
		out = append(out, networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}})
	}
	return out
}

func tcp(port int) networkingv1.NetworkPolicyPortArray {
	return networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(port)}}
}

// networkPolicies open each service's flows on top of the namespace's default deny (DNS and
// HTTPS out are namespace-wide): the load balancer's subnets in to routed services, declared
// peers in, and out to the data stores a service reads and to the services it may call.
func (b *builder) networkPolicies() error {
	a := b.args
	pods := func(names ...string) networkingv1.NetworkPolicyPeerArray {
		var out networkingv1.NetworkPolicyPeerArray
		for _, n := range names {
			out = append(out, networkingv1.NetworkPolicyPeerArgs{PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{NameLabel: pulumi.String(n)}}})
		}
		return out
	}
	type flows struct {
		ingress networkingv1.NetworkPolicyIngressRuleArray
		egress  networkingv1.NetworkPolicyEgressRuleArray
	}
	byName := map[string]*flows{}
	names := []string{}
	for _, s := range a.Services {
		byName[s.Name], names = &flows{}, append(names, s.Name)
	}
	for _, s := range a.Services {
		f := byName[s.Name]
		if s.Routed && !a.Local { // Local: reached by port-forward, which policies do not see
			f.ingress = append(f.ingress, networkingv1.NetworkPolicyIngressRuleArgs{From: ipBlocks(a.LoadBalancerCIDRs), Ports: tcp(s.Port)})
		}
		if len(s.Peers) > 0 {
			f.ingress = append(f.ingress, networkingv1.NetworkPolicyIngressRuleArgs{From: pods(s.Peers...), Ports: tcp(s.Port)})
			for _, peer := range s.Peers {
				byName[peer].egress = append(byName[peer].egress, networkingv1.NetworkPolicyEgressRuleArgs{To: pods(s.Name), Ports: tcp(s.Port)})
			}
		}
		if s.ReadsDatabase {
			f.egress = append(f.egress, networkingv1.NetworkPolicyEgressRuleArgs{To: b.dataPeers(), Ports: tcp(a.DatabasePort)})
		}
		if s.ReadsCache {
			f.egress = append(f.egress, networkingv1.NetworkPolicyEgressRuleArgs{To: b.dataPeers(), Ports: tcp(a.CachePort)})
		}
	}
	for _, n := range names {
		f := byName[n]
		var types []string
		spec := networkingv1.NetworkPolicySpecArgs{PodSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{NameLabel: pulumi.String(n)}}}
		if len(f.ingress) > 0 {
			types, spec.Ingress = append(types, "Ingress"), f.ingress
		}
		if len(f.egress) > 0 {
			types, spec.Egress = append(types, "Egress"), f.egress
		}
		if len(types) == 0 {
			continue
		}
		spec.PolicyTypes = pulumi.ToStringArray(types)
		if _, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-"+n+"-flows", &networkingv1.NetworkPolicyArgs{
			Metadata: meta(n+"-flows", a.Namespace, nil), Spec: &spec,
		}, b.opts()...); err != nil {
			return fmt.Errorf("creating network policy %s-flows: %w", n, err)
		}
	}
	return nil
}
