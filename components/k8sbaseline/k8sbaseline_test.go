package k8sbaseline

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
)

const (
	tNamespace   = "kubernetes:core/v1:Namespace"
	tPolicy      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tQuota       = "kubernetes:core/v1:ResourceQuota"
	tLimitRange  = "kubernetes:core/v1:LimitRange"
	tPriority    = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
	tStorage     = "kubernetes:storage.k8s.io/v1:StorageClass"
	tStoragePtch = "kubernetes:storage.k8s.io/v1:StorageClassPatch"
	tSA          = "kubernetes:core/v1:ServiceAccount"
	tConfigMap   = "kubernetes:core/v1:ConfigMap"
	tRole        = "aws:iam/role:Role"
	tRelease     = "kubernetes:helm.sh/v3:Release"
)

func baseArgs() Args {
	return Args{
		ClusterName:       pulumi.String("scalemate-dev"),
		KubernetesVersion: "1.34",
		Region:            "eu-west-1",
		VPCID:             pulumi.String("vpc-123"),
		VPCCIDR:           "10.20.0.0/16",
		OIDCProviderARN:   pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
		OIDCIssuerURL:     pulumi.String("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"),
		ChartsDir:         vendoredCharts,
	}
}

func run(t *testing.T, args Args) *mocktest.Recorder {
	t.Helper()
	return mocktest.MustComponent(t, New, "base", args)
}

// get walks nested maps: get(m, "spec", "podSelector").
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestNamespacesEnforceRestricted(t *testing.T) {
	rec := run(t, baseArgs())
	for logical, want := range map[string]string{"base-app": "scalemate", "base-platform": "platform"} {
		ns := rec.Must(t, tNamespace, logical)
		assert.Equal(t, want, get(ns.Input("metadata"), "name"))
		labels := get(ns.Input("metadata"), "labels").(map[string]any)
		for _, mode := range []string{"enforce", "warn", "audit"} {
			assert.Equal(t, "restricted", labels["pod-security.kubernetes.io/"+mode], "%s %s", logical, mode)
		}
		assert.Equal(t, "v1.34", labels["pod-security.kubernetes.io/enforce-version"], "enforcement pinned to the cluster's version")
		assert.Equal(t, "latest", labels["pod-security.kubernetes.io/warn-version"])
		assert.Equal(t, "latest", labels["pod-security.kubernetes.io/audit-version"])
	}
}

func TestEveryNamespaceDefaultDeniesAndAllowsDNS(t *testing.T) {
	rec := run(t, baseArgs())
	for prefix, namespace := range map[string]string{"base-app": "scalemate", "base-platform": "platform"} {
		deny := rec.Must(t, tPolicy, prefix+"-default-deny")
		assert.Equal(t, namespace, get(deny.Input("metadata"), "namespace"))
		assert.Equal(t, "default-deny", get(deny.Input("metadata"), "name"))
		spec := deny.Input("spec")
		assert.Equal(t, map[string]any{}, get(spec, "podSelector"), "selects every pod")
		assert.Equal(t, []any{"Ingress", "Egress"}, get(spec, "policyTypes"))
		assert.Nil(t, get(spec, "ingress"))
		assert.Nil(t, get(spec, "egress"))

		dns := rec.Must(t, tPolicy, prefix+"-allow-dns")
		assert.Equal(t, namespace, get(dns.Input("metadata"), "namespace"))
		egress := get(dns.Input("spec"), "egress").([]any)
		require.Len(t, egress, 1)
		assert.Equal(t, []any{map[string]any{
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "kube-system"}},
			"podSelector":       map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}},
		}}, get(egress[0], "to"), "one peer: kube-dns pods in kube-system, not either")
		assert.ElementsMatch(t, []any{
			map[string]any{"protocol": "UDP", "port": 53.0}, map[string]any{"protocol": "TCP", "port": 53.0},
		}, get(egress[0], "ports"))
	}
}

// The app namespace opens only DNS and HTTPS out; every other flow is a workload's own
// (components/app), and pods there wait for the load balancer's health check.
func TestAppNamespaceFlowsAndReadinessGates(t *testing.T) {
	rec := run(t, baseArgs())
	https := rec.Must(t, tPolicy, "base-app-allow-https-egress")
	assert.Equal(t, []any{map[string]any{"ports": []any{map[string]any{"protocol": "TCP", "port": 443.0}}}}, get(https.Input("spec"), "egress"))
	for _, gone := range []string{"base-app-allow-from-load-balancer", "base-app-allow-to-data"} {
		_, ok := rec.Named(tPolicy, gone)
		assert.False(t, ok, "%s is per service now", gone)
	}
	app := rec.Must(t, tNamespace, "base-app")
	assert.Equal(t, "enabled", get(app.Input("metadata"), "labels", "elbv2.k8s.aws/pod-readiness-gate-inject"))
	platform := rec.Must(t, tNamespace, "base-platform")
	assert.Nil(t, get(platform.Input("metadata"), "labels", "elbv2.k8s.aws/pod-readiness-gate-inject"))
}

func TestPlatformFlows(t *testing.T) {
	rec := run(t, baseArgs())
	for addon, port := range map[string]float64{LoadBalancerController: 9443, MetricsServer: 10250, ExternalSecrets: 10250} {
		p := rec.Must(t, tPolicy, "base-platform-allow-control-plane-to-"+addon)
		assert.Equal(t, map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": addons[addon].podName}}, get(p.Input("spec"), "podSelector"))
		assert.Equal(t, []any{map[string]any{
			"from":  []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.20.0.0/16"}}},
			"ports": []any{map[string]any{"protocol": "TCP", "port": port}},
		}}, get(p.Input("spec"), "ingress"), addon)
	}
	_, ok := rec.Named(tPolicy, "base-platform-allow-control-plane-to-"+ClusterAutoscaler)
	assert.False(t, ok, "the autoscaler serves nothing to the control plane")

	kubelets := rec.Must(t, tPolicy, "base-platform-allow-metrics-server-to-kubelets")
	assert.Equal(t, []any{map[string]any{
		"to":    []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.20.0.0/16"}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 10250.0}},
	}}, get(kubelets.Input("spec"), "egress"))
	rec.Must(t, tPolicy, "base-platform-allow-https-egress")
	_, ok = rec.Named(tPolicy, "base-platform-allow-from-load-balancer")
	assert.False(t, ok)
}

func TestQuotasAndContainerDefaults(t *testing.T) {
	args := baseArgs()
	args.AppQuota = Quota{RequestsCPU: "16", RequestsMemory: "32Gi", LimitsCPU: "32", LimitsMemory: "64Gi", Pods: 200}
	args.AppContainerDefaults = ContainerDefaults{RequestCPU: "250m", LimitMemory: "1Gi"}
	rec := run(t, args)
	cases := []struct {
		logical, namespace string
		hard               map[string]any
		request, limit     map[string]any
	}{
		{"base-app", "scalemate",
			map[string]any{"requests.cpu": "16", "requests.memory": "32Gi", "limits.cpu": "32", "limits.memory": "64Gi", "pods": "200"},
			map[string]any{"cpu": "250m", "memory": "128Mi"}, map[string]any{"cpu": "500m", "memory": "1Gi"}},
		{"base-platform", "platform",
			map[string]any{"requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "6", "limits.memory": "8Gi", "pods": "30"},
			map[string]any{"cpu": "50m", "memory": "64Mi"}, map[string]any{"cpu": "250m", "memory": "256Mi"}},
	}
	for _, c := range cases {
		q := rec.Must(t, tQuota, c.logical)
		assert.Equal(t, c.namespace, get(q.Input("metadata"), "namespace"))
		assert.Equal(t, c.hard, get(q.Input("spec"), "hard"), c.logical)
		lr := rec.Must(t, tLimitRange, c.logical)
		assert.Equal(t, c.namespace, get(lr.Input("metadata"), "namespace"))
		assert.Equal(t, []any{map[string]any{"type": "Container", "defaultRequest": c.request, "default": c.limit}},
			get(lr.Input("spec"), "limits"), c.logical)
	}
}

func TestPriorityClasses(t *testing.T) {
	rec := run(t, baseArgs())
	for logical, want := range map[string]struct {
		name  string
		value float64
	}{"base-platform": {"platform-critical", PlatformPriority}, "base-app": {"scalemate-app", AppPriority}} {
		pc := rec.Must(t, tPriority, logical)
		assert.Equal(t, want.name, get(pc.Input("metadata"), "name"))
		assert.Equal(t, want.value, pc.Input("value"))
		assert.Equal(t, false, pc.Input("globalDefault"))
		assert.Nil(t, pc.Input("preemptionPolicy"), "left to the default")
	}
	assert.Greater(t, PlatformPriority, AppPriority)
}

func TestStorageClasses(t *testing.T) {
	rec := run(t, baseArgs())
	gp3 := rec.Must(t, tStorage, "base-gp3")
	assert.Equal(t, "gp3", get(gp3.Input("metadata"), "name"))
	assert.Equal(t, "true", get(gp3.Input("metadata"), "annotations", "storageclass.kubernetes.io/is-default-class"))
	assert.Equal(t, "ebs.csi.aws.com", gp3.Input("provisioner"))
	assert.Equal(t, map[string]any{"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}, gp3.Input("parameters"))
	assert.Equal(t, "WaitForFirstConsumer", gp3.Input("volumeBindingMode"))
	assert.Equal(t, true, gp3.Input("allowVolumeExpansion"))
	assert.Equal(t, "Delete", gp3.Input("reclaimPolicy"))

	assert.Empty(t, rec.OfType(tStoragePtch), "no patch of EKS's gp2: from 1.30 it is not default, and it may not exist yet (review 2026-11-30 #20)")
}

func TestReleasesArePinnedAndAtomic(t *testing.T) {
	args := baseArgs()
	args.ChartsDir = chartsWith(t, func(dir string, lock *chartLock) { vendor(t, dir, lock, "metrics-server", "3.12.2") })
	args.ChartVersions = map[string]string{MetricsServer: "3.12.2"}
	rec := run(t, args)
	want := map[string]string{
		LoadBalancerController: DefaultChartVersions[LoadBalancerController],
		ClusterAutoscaler:      DefaultChartVersions[ClusterAutoscaler],
		MetricsServer:          "3.12.2",
		ExternalSecrets:        DefaultChartVersions[ExternalSecrets],
	}
	require.Len(t, rec.OfType(tRelease), len(want))
	for addon, version := range want {
		r := rec.Must(t, tRelease, "base-"+addon)
		assert.Equal(t, args.ChartsDir+"/"+addon+"-"+version+".tgz", r.Input("chart"), "the vendored archive")
		assert.Equal(t, addon, r.Input("name"))
		assert.Equal(t, version, r.Input("version"), addon)
		assert.Regexp(t, `^\d+\.\d+\.\d+$`, r.Input("version"))
		assert.Nil(t, r.Input("repositoryOpts"), "no chart repository at deploy time")
		assert.Equal(t, "platform", r.Input("namespace"))
		assert.Equal(t, true, r.Input("atomic"), addon)
		assert.Equal(t, true, r.Input("cleanupOnFail"), addon)
		assert.Equal(t, 10.0, r.Input("maxHistory"))
		assert.Equal(t, "platform-critical", get(r.Input("values"), "priorityClassName"))
	}
	assert.Equal(t, "3.12.2", args.ChartVersions[MetricsServer])
	assert.Len(t, args.ChartVersions, 1, "defaults are not written into the caller's map")
}

// The External Secrets Operator's three Deployments each get placement, priority, resources and
// a restricted pod context; its CRDs come with the chart, and it waits for the controller's
// fail-closed Service webhook like the other charts.
func TestExternalSecretsOperator(t *testing.T) {
	args := baseArgs()
	args.CriticalAddonNodeSelector = map[string]string{"scalemate.io/pool": "system"}
	args.Replicas = map[string]int{ExternalSecrets: 2}
	rec := run(t, args)
	eso := rec.Must(t, tRelease, "base-"+ExternalSecrets)
	values := eso.Input("values")
	assert.Equal(t, true, get(values, "installCRDs"), "CRDs upgrade with the chart")
	assert.Equal(t, true, get(values, "leaderElect"), "two controllers elect a leader")
	for _, component := range []string{"", "webhook", "certController"} {
		v := values
		if component != "" {
			v = get(values, component)
		}
		assert.Equal(t, 2.0, get(v, "replicaCount"), component)
		assert.Equal(t, "platform-critical", get(v, "priorityClassName"), component)
		assert.Equal(t, "50m", get(v, "resources", "requests", "cpu"), component)
		assert.Equal(t, true, get(v, "podSecurityContext", "runAsNonRoot"), component)
		assert.Equal(t, "RuntimeDefault", get(v, "podSecurityContext", "seccompProfile", "type"), component)
		assert.Equal(t, map[string]any{"enabled": true, "maxUnavailable": 1.0}, get(v, "podDisruptionBudget"), component)
		assert.Equal(t, "system", get(v, "nodeSelector", "scalemate.io/pool"), component)
	}
	assert.Contains(t, eso.Dependencies, rec.Must(t, tRelease, "base-"+LoadBalancerController).URN)
	_, hasRole := rec.Named(tRole, "base-external-secrets")
	assert.False(t, hasRole, "the operator holds no AWS credentials: each SecretStore assumes its service's role")
}

// Pods of the add-ons are admitted by the restricted namespace only with these contexts.
func TestAddonsPassRestrictedPodSecurity(t *testing.T) {
	rec := run(t, baseArgs())
	keys := map[string][2]string{ // pod-level key, container-level key
		LoadBalancerController: {"podSecurityContext", "securityContext"},
		ClusterAutoscaler:      {"securityContext", "containerSecurityContext"},
		MetricsServer:          {"podSecurityContext", "securityContext"},
	}
	for addon, k := range keys {
		values := rec.Must(t, tRelease, "base-"+addon).Input("values")
		pod, container := get(values, k[0]), get(values, k[1])
		assert.Equal(t, true, get(pod, "runAsNonRoot"), addon)
		assert.Equal(t, "RuntimeDefault", get(pod, "seccompProfile", "type"), addon)
		assert.Equal(t, false, get(container, "allowPrivilegeEscalation"), addon)
		assert.Equal(t, true, get(container, "runAsNonRoot"), addon)
		assert.Equal(t, []any{"ALL"}, get(container, "capabilities", "drop"), addon)
		assert.Equal(t, "RuntimeDefault", get(container, "seccompProfile", "type"), addon)
		// Explicit resources: the chart's requests must not collide with the namespace defaults.
		assert.NotEmpty(t, get(values, "resources", "limits", "memory"), addon)
	}
}

func TestLoadBalancerController(t *testing.T) {
	rec := run(t, baseArgs())
	values := rec.Must(t, tRelease, "base-"+LoadBalancerController).Input("values")
	assert.Equal(t, "scalemate-dev", get(values, "clusterName"))
	assert.Equal(t, "eu-west-1", get(values, "region"))
	assert.Equal(t, "vpc-123", get(values, "vpcId"))
	assert.Equal(t, 2.0, get(values, "replicaCount"))
	assert.Equal(t, map[string]any{"maxUnavailable": 1.0}, get(values, "podDisruptionBudget"))

	role := rec.Must(t, tRole, "base-lb-controller")
	assert.Equal(t, "aws-load-balancer-controller", get(values, "serviceAccount", "name"))
	assert.Equal(t, true, get(values, "serviceAccount", "create"))
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:base-lb-controller",
		get(values, "serviceAccount", "annotations", "eks.amazonaws.com/role-arn"))
	assertIRSATrust(t, role, "system:serviceaccount:platform:aws-load-balancer-controller")

	var doc struct{ Statement []any }
	require.NoError(t, json.Unmarshal([]byte(inlinePolicy(t, role)), &doc))
	assert.Len(t, doc.Statement, 16, "the upstream v2.14 policy, whole")
	assert.Less(t, len(inlinePolicy(t, role)), 10240, "IAM's inline policy size limit per role")
}

func TestLoadBalancerControllerPolicyPartition(t *testing.T) {
	for region, partition := range map[string]string{"eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"} {
		doc, err := loadBalancerControllerPolicy(iampolicy.Partition(region))
		require.NoError(t, err)
		assert.Contains(t, doc, `"arn:`+partition+`:elasticloadbalancing:*:*:targetgroup/*/*"`, region)
		if partition != "aws" {
			assert.NotContains(t, doc, `"arn:aws:`, region)
		}
	}
}

func TestClusterAutoscaler(t *testing.T) {
	args := baseArgs()
	args.KubernetesVersion = "1.33"
	rec := run(t, args)
	values := rec.Must(t, tRelease, "base-"+ClusterAutoscaler).Input("values")
	assert.Equal(t, "scalemate-dev", get(values, "autoDiscovery", "clusterName"))
	assert.Equal(t, "eu-west-1", get(values, "awsRegion"))
	assert.Equal(t, "v1.33.3", get(values, "image", "tag"), "the autoscaler's minor follows the cluster's")
	assert.Equal(t, 1.0, get(values, "replicaCount"))
	assert.Equal(t, map[string]any{
		"balance-similar-node-groups": true, "expander": "least-waste",
		"skip-nodes-with-system-pods": false, "skip-nodes-with-local-storage": false,
	}, get(values, "extraArgs"))
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:base-autoscaler",
		get(values, "rbac", "serviceAccount", "annotations", "eks.amazonaws.com/role-arn"))
	assert.Nil(t, get(values, "serviceAccount"), "this chart reads rbac.serviceAccount")

	role := rec.Must(t, tRole, "base-autoscaler")
	assertIRSATrust(t, role, "system:serviceaccount:platform:cluster-autoscaler")
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(inlinePolicy(t, role)), &doc))
	var scale, discover *iampolicy.Statement
	for i := range doc.Statement {
		if strings.HasPrefix(doc.Statement[i].Action[0], "autoscaling:SetDesired") {
			scale = &doc.Statement[i]
		} else {
			discover = &doc.Statement[i]
		}
	}
	require.NotNil(t, scale)
	require.NotNil(t, discover)
	assert.ElementsMatch(t, []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}, scale.Action)
	assert.Equal(t, iampolicy.Condition{"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/scalemate-dev": "owned"}}, scale.Condition)
	assert.Nil(t, discover.Condition)
	for _, a := range discover.Action {
		assert.Regexp(t, `:(Describe|Get)`, a, "only reads are unconditioned")
	}
}

func TestMetricsServer(t *testing.T) {
	args := baseArgs()
	rec := run(t, args)
	values := rec.Must(t, tRelease, "base-"+MetricsServer).Input("values")
	assert.Equal(t, 1.0, get(values, "replicas"))
	assert.Equal(t, false, get(values, "podDisruptionBudget", "enabled"), "a budget over one pod blocks drains")
	assert.Len(t, rec.OfType(tRole), 2, "metrics-server calls no AWS API")

	args.Replicas = map[string]int{MetricsServer: 2}
	values = run(t, args).Must(t, tRelease, "base-"+MetricsServer).Input("values")
	assert.Equal(t, 2.0, get(values, "replicas"))
	assert.Equal(t, true, get(values, "podDisruptionBudget", "enabled"))
}

func TestCriticalAddonPlacement(t *testing.T) {
	rec := run(t, baseArgs())
	for _, addon := range AddonNames() {
		values := rec.Must(t, tRelease, "base-"+addon).Input("values")
		assert.Nil(t, get(values, "nodeSelector"), addon)
		assert.Nil(t, get(values, "tolerations"), addon)
	}

	args := baseArgs()
	args.CriticalAddonNodeSelector = map[string]string{"scalemate.io/pool": "system"}
	rec = run(t, args)
	for _, addon := range AddonNames() {
		values := rec.Must(t, tRelease, "base-"+addon).Input("values")
		assert.Equal(t, map[string]any{"scalemate.io/pool": "system"}, get(values, "nodeSelector"), addon)
		assert.Equal(t, []any{map[string]any{"key": "CriticalAddonsOnly", "operator": "Exists"}}, get(values, "tolerations"), addon)
	}
}

// Pods of a release must not be created before the namespace's policies, quota, container
// defaults and priority class exist.
func TestReleasesWaitForTheirNamespace(t *testing.T) {
	rec := run(t, baseArgs())
	for _, addon := range AddonNames() {
		deps := rec.Must(t, tRelease, "base-"+addon).Dependencies
		for _, need := range []mocktest.Resource{
			rec.Must(t, tNamespace, "base-platform"),
			rec.Must(t, tPolicy, "base-platform-default-deny"),
			rec.Must(t, tPolicy, "base-platform-allow-dns"),
			rec.Must(t, tPolicy, "base-platform-allow-control-plane-to-"+LoadBalancerController),
			rec.Must(t, tQuota, "base-platform"),
			rec.Must(t, tLimitRange, "base-platform"),
			rec.Must(t, tPriority, "base-platform"),
		} {
			assert.Contains(t, deps, need.URN, "%s waits for %s", addon, need.Name)
		}
	}
	assert.Contains(t, rec.Must(t, tRelease, "base-"+LoadBalancerController).Dependencies,
		rec.Must(t, tRole, "base-lb-controller").URN)
	// The controller's Service webhook fails closed: the other charts wait for it.
	controller := rec.Must(t, tRelease, "base-"+LoadBalancerController).URN
	for _, addon := range []string{ClusterAutoscaler, MetricsServer} {
		assert.Contains(t, rec.Must(t, tRelease, "base-"+addon).Dependencies, controller, addon)
	}
}

// The app's shared config is a ConfigMap; identities are per service (components/app), so the
// baseline creates no app ServiceAccount.
func TestAppConfig(t *testing.T) {
	args := baseArgs()
	args.AppConfig = pulumi.StringMap{"API_BASE_URL": pulumi.String("https://api.example.com"), "featureNewBilling": pulumi.String("on")}
	rec := run(t, args)
	_, ok := rec.Named(tSA, "base-app")
	assert.False(t, ok)

	cm := rec.Must(t, tConfigMap, "base-app-config")
	assert.Equal(t, "scalemate-app-config", get(cm.Input("metadata"), "name"))
	assert.Equal(t, "scalemate", get(cm.Input("metadata"), "namespace"))
	assert.Equal(t, map[string]any{"API_BASE_URL": "https://api.example.com", "featureNewBilling": "on"}, cm.Input("data"))
}

func TestOutputs(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	_, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		b, err := New(ctx, "base", baseArgs())
		if err != nil {
			return err
		}
		for k, o := range map[string]pulumi.StringOutput{
			"app": b.AppNamespace, "platform": b.PlatformNamespace, "sc": b.StorageClassName,
			"cm": b.AppConfigMap, "pc": b.AppPriorityClass, "lbc": b.LoadBalancerControllerRoleARN, "ca": b.ClusterAutoscalerRoleARN,
		} {
			o.ApplyT(func(s string) string {
				mu.Lock()
				got[k] = s
				mu.Unlock()
				return s
			})
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"app": "scalemate", "platform": "platform", "sc": "gp3", "cm": "scalemate-app-config",
		"pc":  "scalemate-app",
		"lbc": "arn:aws:iam:us-west-2:123456789012:base-lb-controller",
		"ca":  "arn:aws:iam:us-west-2:123456789012:base-autoscaler",
	}, got)
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"cluster name":  {func(a *Args) { a.ClusterName = nil }, "ClusterName: must be set"},
		"vpc cidr":      {func(a *Args) { a.VPCCIDR = "10.20.0.0" }, `VPCCIDR: "10.20.0.0" is not a CIDR block`},
		"vpc cidr host": {func(a *Args) { a.VPCCIDR = "10.20.0.1/16" }, `VPCCIDR: "10.20.0.1/16" has host bits set`},
		"config name":   {func(a *Args) { a.AppConfigName = "App Config" }, `AppConfigName: "App Config" is not a ConfigMap name`},
		"region":        {func(a *Args) { a.Region = "Ireland" }, `Region: "Ireland" is not an AWS region`},
		"k8s version":   {func(a *Args) { a.KubernetesVersion = "1.29" }, `KubernetesVersion: "1.29" is not allowed; use one of 1.31, 1.32, 1.33, 1.34, 1.35`},
		"api key": {func(a *Args) { a.AppConfig = pulumi.StringMap{"stripeApiKey": pulumi.String("x")} },
			`AppConfig: key "stripeApiKey" looks like a secret`},
		"password": {func(a *Args) { a.AppConfig = pulumi.StringMap{"DB_PASSWORD": pulumi.String("x")} },
			`AppConfig: key "DB_PASSWORD" looks like a secret`},
		"bad key":         {func(a *Args) { a.AppConfig = pulumi.StringMap{"a b": pulumi.String("x")} }, `AppConfig: key "a b" is not a ConfigMap key`},
		"quantity":        {func(a *Args) { a.AppQuota.LimitsMemory = "16GB" }, `AppQuota.LimitsMemory: "16GB" is not a Kubernetes quantity`},
		"zero quantity":   {func(a *Args) { a.PlatformContainerDefaults.RequestCPU = "0" }, `PlatformContainerDefaults.RequestCPU: "0" must be greater than zero`},
		"request > limit": {func(a *Args) { a.AppContainerDefaults.RequestMemory = "1Gi" }, "AppContainerDefaults.RequestMemory: 1Gi is more than AppContainerDefaults.LimitMemory 512Mi"},
		"default > quota": {func(a *Args) { a.AppContainerDefaults.LimitCPU = "10" }, "AppContainerDefaults.LimitCPU: 10 is more than AppQuota.LimitsCPU 8"},
		"platform small": {func(a *Args) { a.PlatformQuota.RequestsMemory, a.PlatformQuota.LimitsMemory = "2Gi", "3Gi" },
			"PlatformQuota.LimitsMemory: 3Gi is less than the 5072Mi the add-ons need during a rolling update"},
		"platform pods": {func(a *Args) { a.PlatformQuota.Pods = 5 }, "PlatformQuota.Pods: 5 is less than the 13 pods"},
		"pods":          {func(a *Args) { a.AppQuota.Pods = -1 }, "AppQuota.Pods: -1 is out of range"},
		"same ns":       {func(a *Args) { a.PlatformNamespace = "scalemate" }, `PlatformNamespace: "scalemate" is also AppNamespace`},
		"reserved ns":   {func(a *Args) { a.AppNamespace = "kube-system" }, `AppNamespace: "kube-system" is reserved`},
		"bad ns":        {func(a *Args) { a.AppNamespace = "Scale_Mate" }, `AppNamespace: "Scale_Mate" is not a namespace name`},
		"chart addon":   {func(a *Args) { a.ChartVersions = map[string]string{"ingress-nginx": "4.0.0"} }, `ChartVersions: "ingress-nginx" is not an add-on; use one of aws-load-balancer-controller, cluster-autoscaler, external-secrets, metrics-server`},
		"chart range":   {func(a *Args) { a.ChartVersions = map[string]string{MetricsServer: "^3.12"} }, `ChartVersions: metrics-server: "^3.12" is not an exact chart version`},
		"replicas":      {func(a *Args) { a.Replicas = map[string]int{ClusterAutoscaler: 0} }, "Replicas[cluster-autoscaler]: 0 is out of range; allowed 1 to 10"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := mocktest.Component(New, "base", args)
			rec.Refused(t, err, `invalid k8sbaseline args for "base"`, c.want)
		})
	}
}

// All problems are reported at once, and Check skips the wired inputs.
func TestCheckReportsEverything(t *testing.T) {
	args := Args{VPCCIDR: "nope", AppConfig: pulumi.StringMap{"sessionToken": pulumi.String("x")}}
	err := args.Check("base")
	require.Error(t, err)
	for _, want := range []string{"KubernetesVersion:", "Region:", "VPCCIDR:", `key "sessionToken" looks like a secret`} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "ClusterName", "wired from the cluster component, checked by New")
	assert.NoError(t, baseArgs().Check("base"))
	assert.ErrorContains(t, baseArgs().Check(strings.Repeat("x", 43)), "name: \"xxx")
}

func TestLooksSecret(t *testing.T) {
	for key, want := range map[string]bool{
		"DB_PASSWORD": true, "dbPassword": true, "clientSecret": true, "GITHUB_TOKEN": true, "awsCredentials": true,
		"apiKey": true, "API_KEY": true, "private-key": true, "stripe.apikey": true, "passwd": true,
		"API_BASE_URL": false, "featureNewBilling": false, "cacheKeyPrefix": false, "keyspace": false,
		"REDIS_ENDPOINT": false, "maxConnections": false,
		// references to a secret, not the secret
		"POSTGRES_SECRET_ARN": false, "tokenSecretName": false, "API_KEY_ID": false,
	} {
		assert.Equal(t, want, looksSecret(key), key)
	}
}

func assertIRSATrust(t *testing.T, role mocktest.Resource, subject string) {
	t.Helper()
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(role.Input("assumeRolePolicy").(string)), &doc))
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, doc.Statement[0].Action)
	assert.Equal(t, subject, doc.Statement[0].Condition["StringEquals"]["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"])
}

func inlinePolicy(t *testing.T, role mocktest.Resource) string {
	t.Helper()
	policies := role.Input("inlinePolicies").([]any)
	require.Len(t, policies, 1)
	return get(policies[0], "policy").(string)
}

// Review 2026-11-30 #3: the preview group may read and dry-run (RBAC authorizes a dry run as a
// write), and an admission policy refuses every write of the group that is not a dry run.
func TestPreviewGroupDryRunsOnly(t *testing.T) {
	rec := run(t, baseArgs())
	assert.Empty(t, rec.OfType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"), "no group, no policy")

	args := baseArgs()
	args.PreviewGroup = "scalemate:preview"
	rec = run(t, args)
	role := rec.Must(t, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "base-preview")
	rules := role.Input("rules").([]any)
	assert.Equal(t, []any{"get", "list", "watch"}, get(rules[0], "verbs"), "reads everywhere")
	for _, r := range rules[1:] {
		groups := get(r, "apiGroups").([]any)
		assert.NotContains(t, groups, "*", "writes (dry runs) only in the program's groups")
		assert.NotContains(t, groups, "admissionregistration.k8s.io", "admission policies are outside admission: no write there")
		assert.NotContains(t, get(r, "verbs"), "delete")
	}
	assert.NotContains(t, get(rules[1], "resources"), "*", "core kinds by name: no serviceaccounts/token or pods/exec")
	assert.Contains(t, get(rules[1], "resources"), "configmaps")
	binding := rec.Must(t, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "base-preview")
	assert.Equal(t, []any{map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "scalemate:preview"}}, binding.Input("subjects"))
	guard := rec.Must(t, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "base-preview-dry-run-only")
	assert.Contains(t, binding.Dependencies, guard.URN, "the group gets its rights only once the dry-run rule is in force")

	policy := rec.Must(t, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "base-preview-dry-run-only")
	assert.Equal(t, "Fail", get(policy.Input("spec"), "failurePolicy"))
	assert.Equal(t, []any{map[string]any{"name": "preview-group", "expression": `"scalemate:preview" in request.userInfo.groups`}}, get(policy.Input("spec"), "matchConditions"))
	assert.Equal(t, DryRunOnlyExpression, get(policy.Input("spec"), "validations").([]any)[0].(map[string]any)["expression"])
	ops := get(policy.Input("spec"), "matchConstraints", "resourceRules").([]any)[0].(map[string]any)
	assert.Equal(t, []any{"CREATE", "UPDATE", "DELETE", "CONNECT"}, ops["operations"], "exec and port-forward are CONNECT")
	assert.Equal(t, []any{"*/*"}, ops["resources"], "resources and subresources (alone: the API server refuses \"*\" beside it)")
	pb := rec.Must(t, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", "base-preview-dry-run-only")
	assert.Equal(t, []any{"Deny"}, get(pb.Input("spec"), "validationActions"))
}
