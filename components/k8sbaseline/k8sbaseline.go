// Package k8sbaseline is what a fresh EKS cluster needs before the application is deployed: an
// app and a platform namespace under Pod Security "restricted", default-deny network policies
// with the few flows each namespace needs, resource quotas and container defaults, priority
// classes, an encrypted gp3 default StorageClass, the app's IRSA service account and config,
// and the platform add-ons as pinned Helm releases with their own IRSA roles: the AWS Load
// Balancer Controller, the cluster autoscaler and metrics-server.
//
// The caller passes the Kubernetes and AWS providers through opts (pulumi.Providers); every
// child is parented to the component and inherits them.
package k8sbaseline

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	schedulingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/scheduling/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/validate"
)

// Priority class values: platform add-ons outrank the app, and both stay far below the
// system-* classes (2,000,000,000+) of kube-system.
const (
	PlatformPriority = 1_000_000
	AppPriority      = 100_000
)

// StorageClassName is the default StorageClass the component creates.
const StorageClassName = "gp3"

// Quota is a namespace's ResourceQuota: the most all its pods together may request and be
// limited to. Quantities use Kubernetes notation ("500m", "4", "8Gi"); an empty field takes the
// namespace's default.
type Quota struct {
	// RequestsCPU is requests.cpu.
	RequestsCPU string
	// RequestsMemory is requests.memory.
	RequestsMemory string
	// LimitsCPU is limits.cpu.
	LimitsCPU string
	// LimitsMemory is limits.memory.
	LimitsMemory string
	// Pods is the most pods, running or pending.
	Pods int
}

// ContainerDefaults is a namespace's LimitRange: the requests and limits a container gets when it
// declares none (the quota refuses pods without them). An empty field takes the namespace's
// default.
type ContainerDefaults struct {
	// RequestCPU is the default CPU request.
	RequestCPU string
	// RequestMemory is the default memory request.
	RequestMemory string
	// LimitCPU is the default CPU limit.
	LimitCPU string
	// LimitMemory is the default memory limit.
	LimitMemory string
}

// Args configures a Baseline.
type Args struct {
	// Local is a cluster without AWS (the local tier): the application's namespace, quota,
	// defaults, policies, ConfigMap and priority class as in the cloud, and nothing of the
	// cloud's: no add-ons (their IAM roles, AWS controllers and platform namespace), no EBS
	// StorageClass (the cluster's default holds volumes). ClusterName, Region, VPCID, VPCCIDR
	// and the OIDC provider are then unused. Default false.
	Local bool
	// ClusterName is the EKS cluster's name: the autoscaler discovers node groups by its tag and
	// the load balancer controller tags what it creates with it. Required.
	ClusterName pulumi.StringInput
	// KubernetesVersion is the cluster's minor version, one of the keys of AutoscalerImageTags
	// (e.g. "1.34"): the autoscaler's image must match it and Pod Security enforcement is pinned
	// to it. Required.
	KubernetesVersion string
	// Region is the cluster's AWS region. Required.
	Region string
	// VPCID is the cluster's VPC. The load balancer controller would read it (and the region) from
	// the instance metadata service, which pods cannot reach because nodes set the IMDS hop limit
	// to 1, so both are passed in its values. Required.
	VPCID pulumi.StringInput
	// VPCCIDR is the VPC's IPv4 block: the source of load balancer traffic (IP targets) and of the
	// control plane's webhook and aggregated API calls, which the network policies admit. Required.
	VPCCIDR string
	// OIDCProviderARN is the cluster's IAM OIDC provider, trusted by the add-ons' IRSA roles. Required.
	OIDCProviderARN pulumi.StringInput
	// OIDCIssuerURL is the cluster's OIDC issuer (https://...). Required.
	OIDCIssuerURL pulumi.StringInput

	// AppNamespace is the application's namespace. Default scalemate.
	AppNamespace string
	// AppConfigName names the application's ConfigMap. Default scalemate-app-config.
	AppConfigName string
	// AppConfig is the data of the ConfigMap AppConfigName: endpoints and feature flags, which
	// every service of the app reads. Keys that look like secrets (password, secret, token,
	// credential, ...key) are refused: those belong in Secrets Manager. Default empty.
	AppConfig pulumi.StringMap
	// AppQuota caps the app namespace. Default requests 4 CPU / 8Gi, limits 8 CPU / 16Gi, 50 pods.
	AppQuota Quota
	// AppContainerDefaults are the app namespace's container defaults. Default requests 100m /
	// 128Mi, limits 500m / 512Mi.
	AppContainerDefaults ContainerDefaults

	// PlatformNamespace holds the add-ons. Default platform.
	PlatformNamespace string
	// PlatformQuota caps the platform namespace; it must fit the add-ons during a rolling update.
	// Default requests 2 CPU / 4Gi, limits 6 CPU / 8Gi, 30 pods.
	PlatformQuota Quota
	// PlatformContainerDefaults are the platform namespace's container defaults. Default requests
	// 50m / 64Mi, limits 250m / 256Mi.
	PlatformContainerDefaults ContainerDefaults
	// ChartVersions overrides the pinned chart versions of DefaultChartVersions by add-on name;
	// each must be vendored in ChartsDir. Default none.
	ChartVersions map[string]string
	// ChartsDir is the absolute path of the vendored chart archives (<chart>-<version>.tgz, as
	// `helm package` makes them) and of their lock, charts.lock.json: the releases install from
	// these archives, never from a chart repository. Each add-on's archive must be locked and
	// match its sha256 before anything is registered. Required unless Local (New; Check skips
	// it when empty).
	ChartsDir string
	// ChartsRef is ChartsDir as the Helm provider names it: absolute, or relative to the
	// provider's working directory (starting ./ or ../). Each release's state records it, so a
	// relative one keeps the checkout's location out of the state: an absolute path differs
	// from one machine to the next, and each difference would upgrade every release.
	// Default ChartsDir.
	ChartsRef string
	// Replicas overrides the replica counts of DefaultReplicas by add-on name, 1 to 10. Default none.
	Replicas map[string]int
	// CriticalAddonNodeSelector pins the add-ons to the nodes it selects (an on-demand system pool
	// tainted CriticalAddonsOnly, which they then tolerate), away from spot interruptions.
	// Default none: they run anywhere.
	CriticalAddonNodeSelector map[string]string
	// ReleaseDependencies are what the add-on releases wait for (the node groups, CoreDNS): an
	// atomic install fails when its pods cannot be scheduled or resolve names, and a
	// component's dependsOn does not reach its children. Default none.
	ReleaseDependencies []pulumi.Resource
	// PreviewGroup is the Kubernetes group of the pipeline's preview roles: it may read
	// everything and dry-run any write, never write (RBAC plus a ValidatingAdmissionPolicy).
	// Empty creates neither.
	PreviewGroup string
}

// Baseline is the component resource.
type Baseline struct {
	pulumi.ResourceState

	// AppNamespace is the application's namespace.
	AppNamespace pulumi.StringOutput `pulumi:"appNamespace"`
	// AppConfigMap is the ConfigMap holding AppConfig.
	AppConfigMap pulumi.StringOutput `pulumi:"appConfigMap"`
	// AppPriorityClass is the PriorityClass the app's pods should name.
	AppPriorityClass pulumi.StringOutput `pulumi:"appPriorityClass"`
	// PlatformNamespace holds the add-ons.
	PlatformNamespace pulumi.StringOutput `pulumi:"platformNamespace"`
	// StorageClassName is the default StorageClass (encrypted gp3).
	StorageClassName pulumi.StringOutput `pulumi:"storageClassName"`
	// LoadBalancerControllerRoleARN is the IRSA role of the AWS Load Balancer Controller.
	LoadBalancerControllerRoleARN pulumi.StringOutput `pulumi:"loadBalancerControllerRoleArn"`
	// ClusterAutoscalerRoleARN is the IRSA role of the cluster autoscaler.
	ClusterAutoscalerRoleARN pulumi.StringOutput `pulumi:"clusterAutoscalerRoleArn"`

	// Ready are what application objects wait for: the app namespace with its quota, defaults
	// and policies, its ConfigMap and priority class, and the add-on releases (the load balancer
	// controller's TargetGroupBinding kind and webhooks, the External Secrets Operator).
	Ready []pulumi.Resource
}

var (
	appQuotaDefault          = Quota{RequestsCPU: "4", RequestsMemory: "8Gi", LimitsCPU: "8", LimitsMemory: "16Gi", Pods: 50}
	appContainerDefault      = ContainerDefaults{RequestCPU: "100m", RequestMemory: "128Mi", LimitCPU: "500m", LimitMemory: "512Mi"}
	platformQuotaDefault     = Quota{RequestsCPU: "2", RequestsMemory: "4Gi", LimitsCPU: "6", LimitsMemory: "8Gi", Pods: 30}
	platformContainerDefault = ContainerDefaults{RequestCPU: "50m", RequestMemory: "64Mi", LimitCPU: "250m", LimitMemory: "256Mi"}
	reservedNamespaces       = []string{"default", "kube-system", "kube-public", "kube-node-lease"}
	regionRE                 = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	configKeyRE              = regexp.MustCompile(`^[-._a-zA-Z0-9]{1,253}$`)
	secretWords              = []string{"password", "passwd", "secret", "token", "credential"}
	wordBoundaryRE           = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

func (q Quota) withDefaults(d Quota) Quota {
	q.RequestsCPU = cmp.Or(q.RequestsCPU, d.RequestsCPU)
	q.RequestsMemory = cmp.Or(q.RequestsMemory, d.RequestsMemory)
	q.LimitsCPU = cmp.Or(q.LimitsCPU, d.LimitsCPU)
	q.LimitsMemory = cmp.Or(q.LimitsMemory, d.LimitsMemory)
	if q.Pods == 0 {
		q.Pods = d.Pods
	}
	return q
}

func (c ContainerDefaults) withDefaults(d ContainerDefaults) ContainerDefaults {
	c.RequestCPU = cmp.Or(c.RequestCPU, d.RequestCPU)
	c.RequestMemory = cmp.Or(c.RequestMemory, d.RequestMemory)
	c.LimitCPU = cmp.Or(c.LimitCPU, d.LimitCPU)
	c.LimitMemory = cmp.Or(c.LimitMemory, d.LimitMemory)
	return c
}

func (a Args) withDefaults() Args {
	a.AppNamespace = cmp.Or(a.AppNamespace, "scalemate")
	a.AppConfigName = cmp.Or(a.AppConfigName, "scalemate-app-config")
	a.PlatformNamespace = cmp.Or(a.PlatformNamespace, "platform")
	a.AppQuota = a.AppQuota.withDefaults(appQuotaDefault)
	a.AppContainerDefaults = a.AppContainerDefaults.withDefaults(appContainerDefault)
	a.PlatformQuota = a.PlatformQuota.withDefaults(platformQuotaDefault)
	a.PlatformContainerDefaults = a.PlatformContainerDefaults.withDefaults(platformContainerDefault)
	// Copies, so that defaulting never writes into the caller's maps.
	versions := maps.Clone(DefaultChartVersions)
	maps.Copy(versions, a.ChartVersions)
	a.ChartVersions = versions
	replicas := maps.Clone(DefaultReplicas)
	maps.Copy(replicas, a.Replicas)
	a.Replicas = replicas
	return a
}

// Check validates every setting except the inputs wired from other components (cluster name,
// VPC, OIDC provider, app role) and an empty ChartsDir, so a program can check all its
// components before registering anything.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid k8sbaseline args for %q", name))
}

func (a Args) validate(name string) error {
	var p validate.Problems
	for _, in := range []struct {
		field string
		set   bool
	}{
		{"ClusterName", a.ClusterName != nil || a.Local}, {"VPCID", a.VPCID != nil || a.Local},
		{"OIDCProviderARN", a.OIDCProviderARN != nil || a.Local}, {"OIDCIssuerURL", a.OIDCIssuerURL != nil || a.Local},
		{"ChartsDir", a.ChartsDir != "" || a.Local},
	} {
		if !in.set {
			p.Addf(in.field, "must be set")
		}
	}
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid k8sbaseline args for %q", name))
}

// maxNameLen keeps the add-on roles' generated names (name-lb-controller plus 8 random
// characters) within IAM's 64.
const maxNameLen = 64 - len("-lb-controller") - 8

func (a Args) check(p *validate.Problems, name string) {
	orig := a
	a = a.withDefaults()
	if len(name) > maxNameLen {
		p.Addf("name", "%q is longer than %d characters, too long to prefix the add-ons' IAM role names", name, maxNameLen)
	}
	p.OneOf("KubernetesVersion", a.KubernetesVersion, slices.Sorted(maps.Keys(AutoscalerImageTags))...)
	if !regionRE.MatchString(a.Region) && !a.Local {
		p.Addf("Region", "%q is not an AWS region (e.g. eu-west-1)", a.Region)
	}
	if !a.Local {
		p.CIDR("VPCCIDR", a.VPCCIDR)
	}
	checkNamespace(p, "AppNamespace", a.AppNamespace)
	checkNamespace(p, "PlatformNamespace", a.PlatformNamespace)
	if a.AppNamespace == a.PlatformNamespace {
		p.Addf("PlatformNamespace", "%q is also AppNamespace; the add-ons need a namespace of their own", a.PlatformNamespace)
	}
	if !validate.IsDNSLabel(a.AppConfigName) {
		p.Addf("AppConfigName", "%q is not a ConfigMap name (a DNS label: lower-case letters, digits, dashes, at most 63)", a.AppConfigName)
	}
	for _, k := range slices.Sorted(maps.Keys(orig.AppConfig)) {
		if !configKeyRE.MatchString(k) {
			p.Addf("AppConfig", "key %q is not a ConfigMap key (letters, digits, '-', '_', '.')", k)
		} else if looksSecret(k) {
			p.Addf("AppConfig", "key %q looks like a secret; ConfigMaps are readable by anyone who can read the namespace, so keep it in Secrets Manager and pass its ARN instead", k)
		}
	}
	checkResources(p, "AppQuota", "AppContainerDefaults", a.AppQuota, a.AppContainerDefaults)
	versionsChecked := p.Len()
	for _, addon := range slices.Sorted(maps.Keys(orig.ChartVersions)) {
		if _, ok := addons[addon]; !ok {
			p.Addf("ChartVersions", "%q is not an add-on; use one of %s", addon, strings.Join(AddonNames(), ", "))
		} else if !semverRE.MatchString(orig.ChartVersions[addon]) {
			p.Addf("ChartVersions", "%s: %q is not an exact chart version (e.g. 1.14.0); a range would upgrade unreviewed", addon, orig.ChartVersions[addon])
		}
	}
	if a.ChartsDir != "" && !a.Local && p.Len() == versionsChecked {
		checkCharts(p, a)
	}
	for k := range a.CriticalAddonNodeSelector {
		if strings.TrimSpace(k) == "" {
			p.Addf("CriticalAddonNodeSelector", "label keys must not be empty")
		}
	}
	// The add-ons' footprint is compared with the platform quota only when both are readable.
	before := p.Len()
	checkResources(p, "PlatformQuota", "PlatformContainerDefaults", a.PlatformQuota, a.PlatformContainerDefaults)
	for _, addon := range slices.Sorted(maps.Keys(orig.Replicas)) {
		if _, ok := addons[addon]; !ok {
			p.Addf("Replicas", "%q is not an add-on; use one of %s", addon, strings.Join(AddonNames(), ", "))
		} else {
			p.IntRange("Replicas["+addon+"]", orig.Replicas[addon], 1, 10)
		}
	}
	if p.Len() == before && !a.Local {
		checkPlatformFits(p, a)
	}
}

func checkNamespace(p *validate.Problems, field, ns string) {
	switch {
	case !validate.IsDNSLabel(ns):
		p.Addf(field, "%q is not a namespace name (a DNS label: lower-case letters, digits, dashes, at most 63)", ns)
	case slices.Contains(reservedNamespaces, ns):
		p.Addf(field, "%q is reserved for Kubernetes; use a namespace of your own", ns)
	}
}

// looksSecret reports whether a config key names a credential: it contains password, secret,
// token or credential, or its last word ends in "key" (apiKey, API_KEY, private-key); a key
// ending in ARN, name or id refers to a secret and is allowed.
func looksSecret(key string) bool {
	words := strings.FieldsFunc(strings.ToLower(wordBoundaryRE.ReplaceAllString(key, "${1}_${2}")), func(r rune) bool {
		return r == '_' || r == '-' || r == '.'
	})
	// A reference to a secret (its ARN, name or id in Secrets Manager) is what belongs here.
	if len(words) > 1 && slices.Contains([]string{"arn", "name", "id"}, words[len(words)-1]) {
		return false
	}
	lower := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return len(words) > 0 && strings.HasSuffix(words[len(words)-1], "key")
}

type quantityField struct {
	field, value string
	parsed       float64
}

// checkResources validates one namespace's quota and container defaults: every quantity parses
// and is positive, a request never exceeds its limit, and a default container fits the quota.
func checkResources(p *validate.Problems, quotaField, defaultsField string, q Quota, c ContainerDefaults) {
	fields := []*quantityField{
		{field: quotaField + ".RequestsCPU", value: q.RequestsCPU}, {field: quotaField + ".LimitsCPU", value: q.LimitsCPU},
		{field: quotaField + ".RequestsMemory", value: q.RequestsMemory}, {field: quotaField + ".LimitsMemory", value: q.LimitsMemory},
		{field: defaultsField + ".RequestCPU", value: c.RequestCPU}, {field: defaultsField + ".LimitCPU", value: c.LimitCPU},
		{field: defaultsField + ".RequestMemory", value: c.RequestMemory}, {field: defaultsField + ".LimitMemory", value: c.LimitMemory},
	}
	ok := true
	for _, f := range fields {
		v, parsed := validate.Quantity(f.value)
		switch {
		case !parsed:
			p.Addf(f.field, "%q is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 4Gi)", f.value)
			ok = false
		case v <= 0:
			p.Addf(f.field, "%q must be greater than zero", f.value)
			ok = false
		}
		f.parsed = v
	}
	p.IntRange(quotaField+".Pods", q.Pods, 1, 10000)
	if !ok {
		return
	}
	// Pairs of (smaller, larger): requests within limits, one default container within the quota.
	for _, pair := range [][2]int{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {4, 0}, {5, 1}, {6, 2}, {7, 3}} {
		small, large := fields[pair[0]], fields[pair[1]]
		if small.parsed > large.parsed {
			p.Addf(small.field, "%s is more than %s %s", small.value, large.field, large.value)
		}
	}
}

// Footprint adds up what pods request and are limited to (cores and bytes).
type Footprint struct {
	RequestsCPU, RequestsMemory, LimitsCPU, LimitsMemory float64
	Pods                                                 int
}

// Add counts n pods of one container with resources c (quantities that do not parse count 0).
func (f *Footprint) Add(c ContainerDefaults, n int) {
	for _, x := range []struct {
		sum *float64
		q   string
	}{{&f.RequestsCPU, c.RequestCPU}, {&f.RequestsMemory, c.RequestMemory}, {&f.LimitsCPU, c.LimitCPU}, {&f.LimitsMemory, c.LimitMemory}} {
		v, _ := validate.Quantity(x.q)
		*x.sum += v * float64(n)
	}
	f.Pods += n
}

// checkPlatformFits records a problem when the platform quota cannot hold the add-ons while each
// rolls out one extra pod (the Deployments' default surge); pods over quota are never created and
// the Helm release would time out and roll back.
func checkPlatformFits(p *validate.Problems, a Args) {
	var need Footprint
	for _, name := range AddonNames() {
		need.Add(addons[name].resources, (a.Replicas[name]+1)*max(addons[name].deployments, 1))
	}
	reqCPU, reqMem, limCPU, limMem, pods := need.RequestsCPU, need.RequestsMemory, need.LimitsCPU, need.LimitsMemory, need.Pods
	q := a.PlatformQuota
	for _, c := range []struct {
		field, value string
		need         float64
		unit         string
	}{
		{"PlatformQuota.RequestsCPU", q.RequestsCPU, reqCPU, " CPU"}, {"PlatformQuota.LimitsCPU", q.LimitsCPU, limCPU, " CPU"},
		{"PlatformQuota.RequestsMemory", q.RequestsMemory, reqMem / (1 << 20), "Mi"}, {"PlatformQuota.LimitsMemory", q.LimitsMemory, limMem / (1 << 20), "Mi"},
	} {
		have, _ := validate.Quantity(c.value)
		if c.unit == "Mi" {
			have /= 1 << 20
		}
		if have < c.need-1e-9 {
			p.Addf(c.field, "%s is less than the %g%s the add-ons need during a rolling update (replicas + 1 each)", c.value, c.need, c.unit)
		}
	}
	if q.Pods < pods {
		p.Addf("PlatformQuota.Pods", "%d is less than the %d pods the add-ons need during a rolling update (replicas + 1 each)", q.Pods, pods)
	}
}

// New creates the baseline. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Baseline, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	b := &Baseline{}
	if err := ctx.RegisterComponentResource("scalemate:k8sbaseline:Baseline", name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)

	app, err := namespace(ctx, name+"-app", args.AppNamespace, args.KubernetesVersion, appNamespaceLabels, args.AppQuota, args.AppContainerDefaults, parent)
	if err != nil {
		return nil, err
	}
	if err := appPolicies(ctx, name+"-app", app, parent); err != nil {
		return nil, err
	}
	appClass, err := priorityClass(ctx, name+"-app", args.AppNamespace+"-app", AppPriority,
		"Application pods: above unclassed workloads, below the platform add-ons.", parent)
	if err != nil {
		return nil, err
	}
	cm, err := appConfig(ctx, name+"-app-config", app.name, args, parent)
	if err != nil {
		return nil, err
	}
	b.Ready = append(slices.Clone(app.ready), cm, appClass)
	b.AppNamespace, b.AppConfigMap, b.AppPriorityClass = app.name, cm.Metadata.Name().Elem(), appClass.Metadata.Name().Elem()
	if args.Local {
		empty := pulumi.String("").ToStringOutput()
		b.PlatformNamespace, b.StorageClassName, b.LoadBalancerControllerRoleARN, b.ClusterAutoscalerRoleARN = empty, empty, empty, empty
		return b, b.registerOutputs(ctx)
	}

	platform, err := namespace(ctx, name+"-platform", args.PlatformNamespace, args.KubernetesVersion, nil, args.PlatformQuota, args.PlatformContainerDefaults, parent)
	if err != nil {
		return nil, err
	}
	if err := platformPolicies(ctx, name+"-platform", platform, args, parent); err != nil {
		return nil, err
	}

	platformClass, err := priorityClass(ctx, name+"-platform", args.PlatformNamespace+"-critical", PlatformPriority,
		"Platform add-ons (load balancer controller, autoscaler, metrics): scheduled before, and may preempt, application pods.", parent)
	if err != nil {
		return nil, err
	}
	if args.PreviewGroup != "" {
		if err := previewAccess(ctx, name, args.PreviewGroup, parent); err != nil {
			return nil, err
		}
	}
	storageClass, err := defaultStorageClass(ctx, name, parent)
	if err != nil {
		return nil, err
	}

	roles, releases, err := installAddons(ctx, name, platform, platformClass.Metadata.Name().Elem(), args, parent)
	if err != nil {
		return nil, err
	}

	b.Ready = append(b.Ready, releases...)
	b.PlatformNamespace = platform.name
	b.StorageClassName = storageClass.Metadata.Name().Elem()
	b.LoadBalancerControllerRoleARN, b.ClusterAutoscalerRoleARN = roles[LoadBalancerController], roles[ClusterAutoscaler]
	return b, b.registerOutputs(ctx)
}

func (b *Baseline) registerOutputs(ctx *pulumi.Context) error {
	return ctx.RegisterResourceOutputs(b, pulumi.Map{
		"appNamespace": b.AppNamespace, "appConfigMap": b.AppConfigMap,
		"appPriorityClass": b.AppPriorityClass, "platformNamespace": b.PlatformNamespace, "storageClassName": b.StorageClassName,
		"loadBalancerControllerRoleArn": b.LoadBalancerControllerRoleARN, "clusterAutoscalerRoleArn": b.ClusterAutoscalerRoleARN,
	})
}

// ns is a created namespace: its name (an output, so users wait for it) and the resources that
// must exist before pods are created in it (quota, container defaults, network policies). The
// add-ons also wait for their priority class, through the name in their values.
type ns struct {
	name  pulumi.StringOutput
	ready []pulumi.Resource
}

// namespace creates a namespace under Pod Security "restricted" with its quota and container
// defaults.
func namespace(ctx *pulumi.Context, logical, name, k8sVersion string, extraLabels map[string]string, q Quota, c ContainerDefaults, opts ...pulumi.ResourceOption) (*ns, error) {
	labels := PodSecurityLabels(k8sVersion)
	maps.Copy(labels, extraLabels)
	n, err := corev1.NewNamespace(ctx, logical, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: pulumi.ToStringMap(labels)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", name, err)
	}
	out := &ns{name: n.Metadata.Name().Elem()}
	quota, err := corev1.NewResourceQuota(ctx, logical, &corev1.ResourceQuotaArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("compute"), Namespace: out.name},
		Spec: &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{
			"requests.cpu": pulumi.String(q.RequestsCPU), "requests.memory": pulumi.String(q.RequestsMemory),
			"limits.cpu": pulumi.String(q.LimitsCPU), "limits.memory": pulumi.String(q.LimitsMemory),
			"pods": pulumi.String(strconv.Itoa(q.Pods)),
		}},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating resource quota of %s: %w", name, err)
	}
	limits, err := corev1.NewLimitRange(ctx, logical, &corev1.LimitRangeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("container-defaults"), Namespace: out.name},
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.StringMap{"cpu": pulumi.String(c.RequestCPU), "memory": pulumi.String(c.RequestMemory)},
			Default:        pulumi.StringMap{"cpu": pulumi.String(c.LimitCPU), "memory": pulumi.String(c.LimitMemory)},
		}}},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating limit range of %s: %w", name, err)
	}
	out.ready = append(out.ready, n, quota, limits)
	return out, nil
}

// appNamespaceLabels make the load balancer controller add a readiness gate to every pod a
// TargetGroupBinding targets: a pod is Ready only once the load balancer sees it healthy, so a
// rollout (and the traffic switch that waits for it) never outruns the load balancer.
var appNamespaceLabels = map[string]string{"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}

// PodSecurityLabels enforce the restricted Pod Security Standard. Enforcement is pinned to the
// cluster's minor version: EKS upgrades clusters itself at the end of support, and an upgrade
// must not start rejecting pods at their next rollout; the pin moves with KubernetesVersion, in a
// reviewed change. Warnings and audit annotations follow "latest", so a tightening of the
// standard shows up in kubectl and the audit log before it is enforced.
func PodSecurityLabels(k8sVersion string) map[string]string {
	const p = "pod-security.kubernetes.io/"
	return map[string]string{
		p + "enforce": "restricted", p + "enforce-version": "v" + k8sVersion,
		p + "warn": "restricted", p + "warn-version": "latest",
		p + "audit": "restricted", p + "audit-version": "latest",
	}
}

func priorityClass(ctx *pulumi.Context, logical, name string, value int, description string, opts ...pulumi.ResourceOption) (*schedulingv1.PriorityClass, error) {
	// preemptionPolicy is left to its default, PreemptLowerPriority. Value and preemption policy
	// are immutable: changing either replaces the class.
	pc, err := schedulingv1.NewPriorityClass(ctx, logical, &schedulingv1.PriorityClassArgs{
		Metadata:      &metav1.ObjectMetaArgs{Name: pulumi.String(name)},
		Value:         pulumi.Int(value),
		GlobalDefault: pulumi.Bool(false),
		Description:   pulumi.String(description),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating priority class %s: %w", name, err)
	}
	return pc, nil
}

const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

// defaultStorageClass creates the encrypted gp3 class as the default. EKS clusters from 1.30 (all
// the versions this component accepts) do not mark their gp2 class as default, so nothing else
// is: no patch of gp2 either, which would fail on a cluster where EKS creates gp2 late or never.
func defaultStorageClass(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*storagev1.StorageClass, error) {
	gp3, err := storagev1.NewStorageClass(ctx, name+"-gp3", &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(StorageClassName),
			Annotations: pulumi.StringMap{defaultClassAnnotation: pulumi.String("true")},
		},
		Provisioner: pulumi.String("ebs.csi.aws.com"),
		Parameters: pulumi.StringMap{
			"type": pulumi.String("gp3"), "encrypted": pulumi.String("true"), "csi.storage.k8s.io/fstype": pulumi.String("ext4"),
		},
		// Volumes are created in the zone of the pod that claims them, not in a random one.
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
		ReclaimPolicy:        pulumi.String("Delete"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating storage class gp3: %w", err)
	}
	return gp3, nil
}

// appConfig creates the application's ConfigMap.
func appConfig(ctx *pulumi.Context, logical string, namespace pulumi.StringOutput, args Args, opts ...pulumi.ResourceOption) (*corev1.ConfigMap, error) {
	data := args.AppConfig
	if data == nil {
		data = pulumi.StringMap{}
	}
	cm, err := corev1.NewConfigMap(ctx, logical, &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(args.AppConfigName), Namespace: namespace},
		Data:     data,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating config map %s: %w", args.AppConfigName, err)
	}
	return cm, nil
}
