package k8sbaseline

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/utilities"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/irsa"
	"github.com/scalemate/infra/internal/validate"
)

// Add-on names: the keys of ChartVersions and Replicas, and the Helm release names.
const (
	LoadBalancerController = "aws-load-balancer-controller"
	ClusterAutoscaler      = "cluster-autoscaler"
	MetricsServer          = "metrics-server"
	ExternalSecrets        = "external-secrets"
)

// DefaultChartVersions pins each add-on's chart. aws-load-balancer-controller 1.14.0 is the
// controller v2.14.0, whose IAM policy lbc-iam-policy.json is: raise them together. Each version
// is vendored as an archive in the charts directory (Args.ChartsDir) and recorded, with its
// upstream commit and sha256, in its lock: scripts/vendor-chart.sh rebuilds one.
var DefaultChartVersions = map[string]string{
	LoadBalancerController: "1.14.0",
	ClusterAutoscaler:      "9.59.0",
	MetricsServer:          "3.13.1",
	// 2.6.0 is the newest release tested on Kubernetes 1.34 and 1.35 (its support table);
	// its CRDs are templates, so they upgrade with the chart.
	ExternalSecrets: "2.6.0",
}

// DefaultReplicas are the add-ons' replica counts. The load balancer controller serves
// admission webhooks, so it runs two behind a disruption budget; the autoscaler elects a
// leader anyway, and one metrics-server suffices until HPAs must survive its restarts.
var DefaultReplicas = map[string]int{LoadBalancerController: 2, ClusterAutoscaler: 1, MetricsServer: 1, ExternalSecrets: 1}

// AutoscalerImageTags is the cluster-autoscaler image per Kubernetes minor version: its minor
// must match the control plane's, so the image is chosen here rather than left to the chart.
var AutoscalerImageTags = map[string]string{
	"1.31": "v1.31.2",
	"1.32": "v1.32.7",
	"1.33": "v1.33.3",
	"1.34": "v1.34.3",
	"1.35": "v1.35.2",
}

var semverRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// addon describes one chart.
type addon struct {
	chart string
	// podName is the app.kubernetes.io/name label the chart puts on its pods.
	podName string
	// serviceAccount is the chart's ServiceAccount, which gets an IRSA role; "" for none.
	serviceAccount string
	// role suffixes the role's logical name, kept short: IAM role names (logical name plus 8
	// random characters) are limited to 64.
	role string
	// controlPlanePorts are the container ports the API server calls (webhooks, aggregated APIs).
	controlPlanePorts []int
	// resources of the one container of each pod. Set explicitly: the LimitRange's defaults would
	// otherwise apply, and a chart's own request above the default limit is refused.
	resources ContainerDefaults
	// deployments is how many Deployments of that shape the chart runs, each with the add-on's
	// replica count. Default 1.
	deployments int
}

var addons = map[string]addon{
	LoadBalancerController: {
		chart:   "aws-load-balancer-controller",
		podName: "aws-load-balancer-controller", serviceAccount: "aws-load-balancer-controller", role: "lb-controller",
		controlPlanePorts: []int{9443}, // webhook-server
		resources:         ContainerDefaults{RequestCPU: "100m", RequestMemory: "128Mi", LimitCPU: "500m", LimitMemory: "512Mi"},
	},
	ClusterAutoscaler: {
		chart:   "cluster-autoscaler",
		podName: "aws-cluster-autoscaler", serviceAccount: "cluster-autoscaler", role: "autoscaler",
		resources: ContainerDefaults{RequestCPU: "100m", RequestMemory: "300Mi", LimitCPU: "500m", LimitMemory: "600Mi"},
	},
	MetricsServer: {
		chart:             "metrics-server",
		podName:           "metrics-server",
		controlPlanePorts: []int{10250}, // https: the metrics.k8s.io APIService
		resources:         ContainerDefaults{RequestCPU: "100m", RequestMemory: "200Mi", LimitCPU: "500m", LimitMemory: "400Mi"},
	},
	// External Secrets Operator copies Secrets Manager values into Kubernetes Secrets for the
	// application's pods. It holds no AWS credentials of its own: each service's SecretStore
	// makes it assume that service's IRSA role. Three Deployments (controller, webhook,
	// cert-controller); the API server calls the webhook's pods on 10250.
	ExternalSecrets: {
		chart:   "external-secrets",
		podName: "external-secrets-webhook", controlPlanePorts: []int{10250},
		resources:   ContainerDefaults{RequestCPU: "50m", RequestMemory: "64Mi", LimitCPU: "250m", LimitMemory: "256Mi"},
		deployments: 3,
	},
}

// AddonNames lists the add-ons, sorted.
func AddonNames() []string { return slices.Sorted(maps.Keys(addons)) }

// ChartLock is the file in the charts directory that pins each vendored archive.
const ChartLock = "charts.lock.json"

// chartLock is ChartLock's content (charts/README.md describes the fields the component does not
// read: where each archive was built from).
type chartLock struct {
	Charts []lockedChart `json:"charts"`
}

type lockedChart struct {
	Chart   string `json:"chart"`
	Version string `json:"version"`
	// Archive is the file name in the charts directory: <chart>-<version>.tgz.
	Archive string `json:"archive"`
	// SHA256 is the archive's digest, hex.
	SHA256 string `json:"sha256"`
}

// ChartArchive is the vendored archive's file name for a chart version, as `helm package`
// names it.
func ChartArchive(chart, version string) string { return chart + "-" + version + ".tgz" }

func readChartLock(dir string) (*chartLock, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ChartLock))
	if err != nil {
		return nil, err
	}
	var l chartLock
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", ChartLock, err)
	}
	return &l, nil
}

func (l *chartLock) find(chart, version string) (lockedChart, bool) {
	for _, c := range l.Charts {
		if c.Chart == chart && c.Version == version {
			return c, true
		}
	}
	return lockedChart{}, false
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkCharts verifies, before anything is registered, that every add-on's chart version is
// vendored in ChartsDir: locked, present, and with the locked sha256. A release then installs
// exactly the reviewed archive, never what a chart repository serves at deploy time.
func checkCharts(p *validate.Problems, a Args) {
	if !filepath.IsAbs(a.ChartsDir) {
		p.Addf("ChartsDir", "%q is not an absolute path: the program reads it from whatever directory it runs in", a.ChartsDir)
		return
	}
	if ref := a.ChartsRef; ref != "" && !filepath.IsAbs(ref) && !strings.HasPrefix(ref, "./") && !strings.HasPrefix(ref, "../") {
		p.Addf("ChartsRef", "%q must be absolute or start with ./ or ../: the Helm provider takes any other name for a chart repository's", ref)
	}
	lock, err := readChartLock(a.ChartsDir)
	if err != nil {
		p.Addf("ChartsDir", "reading the chart lock: %v", err)
		return
	}
	for _, name := range AddonNames() {
		chart, version := addons[name].chart, a.ChartVersions[name]
		locked, ok := lock.find(chart, version)
		if !ok {
			p.Addf("ChartsDir", "%s %s is not in %s: vendor the chart (scripts/vendor-chart.sh) before using that version", chart, version, ChartLock)
			continue
		}
		if want := ChartArchive(chart, version); locked.Archive != want {
			p.Addf("ChartsDir", "%s locks %s %s as %q, not %q", ChartLock, chart, version, locked.Archive, want)
			continue
		}
		sum, err := fileSHA256(filepath.Join(a.ChartsDir, locked.Archive))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.Addf("ChartsDir", "%s is missing: %s locks it but it is not in %s", locked.Archive, ChartLock, a.ChartsDir)
		case err != nil:
			p.Addf("ChartsDir", "reading %s: %v", locked.Archive, err)
		case sum != locked.SHA256:
			p.Addf("ChartsDir", "%s has sha256 %s, but %s pins %s: the archive changed after it was reviewed", locked.Archive, sum, ChartLock, locked.SHA256)
		}
	}
}

//go:embed lbc-iam-policy.json
var loadBalancerControllerPolicyJSON []byte

// loadBalancerControllerPolicy is the controller's upstream IAM policy (docs/install/
// iam_policy.json of v2.14.0) for the given partition: upstream writes its ARNs for "aws".
func loadBalancerControllerPolicy(partition string) (string, error) {
	doc := bytes.ReplaceAll(loadBalancerControllerPolicyJSON, []byte(`"arn:aws:`), []byte(`"arn:`+partition+`:`))
	var out bytes.Buffer
	// Compact: IAM counts inline policy size without whitespace, but the diff stays readable.
	if err := json.Compact(&out, doc); err != nil {
		return "", fmt.Errorf("embedded load balancer controller policy: %w", err)
	}
	return out.String(), nil
}

// autoscalerPolicy is the cluster autoscaler's documented least-privilege policy: it reads
// groups, templates and instance types anywhere, but only scales and terminates in the groups
// tagged as this cluster's (EKS managed node groups tag their groups for auto-discovery).
func autoscalerPolicy(clusterName pulumi.StringInput) pulumi.StringOutput {
	return clusterName.ToStringOutput().ApplyT(func(cluster string) string {
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
			{
				Sid:      "ScaleOwnGroups",
				Effect:   "Allow",
				Action:   []string{"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"},
				Resource: "*",
				Condition: iampolicy.Condition{"StringEquals": {
					"aws:ResourceTag/k8s.io/cluster-autoscaler/" + cluster: "owned",
				}},
			},
			{
				Sid:    "Discover",
				Effect: "Allow",
				Action: []string{
					"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
					"autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
					"autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
					"ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
					"eks:DescribeNodegroup",
				},
				Resource: "*",
			},
		}}.JSON()
	}).(pulumi.StringOutput)
}

// installAddons creates the add-ons' IRSA roles and Helm releases in the platform namespace and
// returns the role ARNs by add-on.
func installAddons(ctx *pulumi.Context, name string, platform *ns, priorityClass pulumi.StringOutput, args Args, opts ...pulumi.ResourceOption) (map[string]pulumi.StringOutput, []pulumi.Resource, error) {
	lbcPolicy, err := loadBalancerControllerPolicy(iampolicy.Partition(args.Region))
	if err != nil {
		return nil, nil, err
	}
	var releases []pulumi.Resource
	policies := map[string]pulumi.StringInput{
		LoadBalancerController: pulumi.String(lbcPolicy),
		ClusterAutoscaler:      autoscalerPolicy(args.ClusterName),
	}
	roles := map[string]pulumi.StringOutput{}
	// The load balancer controller's webhook mutates every Service and fails closed: until its
	// pods are ready, the other charts' Services are refused (aws-load-balancer-controller
	// #4140). AddonNames sorts it first; the others wait for its (atomic, so ready) release.
	var controller pulumi.Resource
	for _, addonName := range AddonNames() {
		a := addons[addonName]
		logical := name + "-" + addonName
		values := addonValues(addonName, args, priorityClass)
		deps := append(slices.Clone(platform.ready), args.ReleaseDependencies...)
		if controller != nil {
			deps = append(deps, controller)
		}
		if a.serviceAccount != "" {
			role, err := irsa.Role(ctx, name+"-"+a.role, irsa.Args{
				OIDCProviderARN: args.OIDCProviderARN, OIDCIssuerURL: args.OIDCIssuerURL,
				Namespace: args.PlatformNamespace, ServiceAccount: a.serviceAccount, Inline: policies[addonName],
			}, opts...)
			if err != nil {
				return nil, nil, err
			}
			roles[addonName] = role.Arn
			sa := pulumi.Map{"create": pulumi.Bool(true), "name": pulumi.String(a.serviceAccount),
				"annotations": pulumi.Map{"eks.amazonaws.com/role-arn": role.Arn}}
			if addonName == ClusterAutoscaler {
				values["rbac"] = pulumi.Map{"serviceAccount": sa}
			} else {
				values["serviceAccount"] = sa
			}
			// The controller must hold its permissions before it starts reconciling.
			deps = append(deps, role)
		}
		version := args.ChartVersions[addonName]
		chart := strings.TrimSuffix(cmp.Or(args.ChartsRef, args.ChartsDir), "/") + "/" + ChartArchive(a.chart, version)
		rel, err := installRelease(ctx, logical, a, chart, version, platform.name, values,
			append(slices.Clone(opts), pulumi.DependsOn(deps))...)
		if err != nil {
			return nil, nil, fmt.Errorf("installing %s %s: %w", addonName, version, err)
		}
		if addonName == LoadBalancerController {
			controller = rel
		}
		releases = append(releases, rel)
	}
	return roles, releases, nil
}

// addonValues are a chart's values: placement, priority, resources, Pod Security "restricted"
// contexts (under each chart's own keys), and the add-on's own settings. The service account
// is added by the caller once its role exists.
func addonValues(addonName string, args Args, priorityClass pulumi.StringOutput) pulumi.Map {
	// PSA restricted: non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp.
	// The user is explicit so that images whose USER is a name (unverifiable as non-root) still
	// start; fsGroup makes the projected IRSA token readable by that user.
	podSecurity := pulumi.Map{
		"runAsNonRoot": pulumi.Bool(true), "runAsUser": pulumi.Int(65534), "runAsGroup": pulumi.Int(65534),
		"fsGroup": pulumi.Int(65534), "seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
	}
	containerSecurity := pulumi.Map{
		"runAsNonRoot": pulumi.Bool(true), "allowPrivilegeEscalation": pulumi.Bool(false),
		"readOnlyRootFilesystem": pulumi.Bool(true), "capabilities": pulumi.Map{"drop": pulumi.ToStringArray([]string{"ALL"})},
		"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")},
	}
	r := addons[addonName].resources
	v := pulumi.Map{
		"priorityClassName": priorityClass,
		"resources": pulumi.Map{
			"requests": pulumi.StringMap{"cpu": pulumi.String(r.RequestCPU), "memory": pulumi.String(r.RequestMemory)},
			"limits":   pulumi.StringMap{"cpu": pulumi.String(r.LimitCPU), "memory": pulumi.String(r.LimitMemory)},
		},
	}
	if len(args.CriticalAddonNodeSelector) > 0 {
		v["nodeSelector"] = pulumi.ToStringMap(args.CriticalAddonNodeSelector)
		v["tolerations"] = pulumi.Array{pulumi.Map{"key": pulumi.String("CriticalAddonsOnly"), "operator": pulumi.String("Exists")}}
	}
	replicas := args.Replicas[addonName]
	switch addonName {
	case LoadBalancerController:
		v["clusterName"] = args.ClusterName
		// Not discovered from instance metadata: pods cannot reach IMDS (hop limit 1).
		v["region"], v["vpcId"] = pulumi.String(args.Region), args.VPCID
		v["replicaCount"] = pulumi.Int(replicas)
		// The chart renders the budget only with 2+ replicas: webhooks stay served during drains.
		v["podDisruptionBudget"] = pulumi.Map{"maxUnavailable": pulumi.Int(1)}
		v["podSecurityContext"], v["securityContext"] = podSecurity, containerSecurity
	case ClusterAutoscaler:
		v["cloudProvider"], v["awsRegion"] = pulumi.String("aws"), pulumi.String(args.Region)
		v["autoDiscovery"] = pulumi.Map{"clusterName": args.ClusterName}
		v["image"] = pulumi.Map{"tag": pulumi.String(AutoscalerImageTags[args.KubernetesVersion])}
		v["replicaCount"] = pulumi.Int(replicas)
		v["extraArgs"] = pulumi.Map{
			// Spot and on-demand groups of the same shape are scaled evenly across zones.
			"balance-similar-node-groups": pulumi.Bool(true),
			"expander":                    pulumi.String("least-waste"),
			// kube-system and platform pods (all behind Deployments) must not pin nodes forever,
			// nor must pods whose emptyDir is scratch space (metrics-server's /tmp).
			"skip-nodes-with-system-pods":   pulumi.Bool(false),
			"skip-nodes-with-local-storage": pulumi.Bool(false),
		}
		v["securityContext"], v["containerSecurityContext"] = podSecurity, containerSecurity
	case ExternalSecrets:
		// The controller, the webhook and the cert-controller each take the same settings.
		res := v["resources"]
		component := func() pulumi.Map {
			m := pulumi.Map{
				"replicaCount": pulumi.Int(replicas), "priorityClassName": priorityClass, "resources": res,
				"podSecurityContext": pulumi.Map{"enabled": pulumi.Bool(true), "runAsNonRoot": pulumi.Bool(true),
					"seccompProfile": pulumi.Map{"type": pulumi.String("RuntimeDefault")}},
				"podDisruptionBudget": pulumi.Map{"enabled": pulumi.Bool(replicas > 1), "maxUnavailable": pulumi.Int(1)},
			}
			if sel, ok := v["nodeSelector"]; ok {
				m["nodeSelector"], m["tolerations"] = sel, v["tolerations"]
			}
			return m
		}
		v = component()
		v["installCRDs"] = pulumi.Bool(true)
		v["leaderElect"] = pulumi.Bool(replicas > 1)
		v["webhook"], v["certController"] = component(), component()
		// The chart's own NetworkPolicies deny all egress unless told otherwise; the
		// namespace's policies (created by this component) govern instead.
	case MetricsServer:
		v["replicas"] = pulumi.Int(replicas)
		v["podDisruptionBudget"] = pulumi.Map{"enabled": pulumi.Bool(replicas > 1), "maxUnavailable": pulumi.Int(1)}
		v["podSecurityContext"], v["securityContext"] = podSecurity, containerSecurity
	}
	return v
}

// release is the state of a kubernetes:helm.sh/v3:Release. The SDK's helm/v3 package registers
// this same resource, but importing it compiles 68 packages (534 s on the build machine) for one
// constructor. The provider sees only the type token and the inputs, named as its schema names
// them, so registering them directly is equivalent.
type release struct {
	pulumi.CustomResourceState

	Status pulumi.MapOutput `pulumi:"status"`
}

// installRelease installs a chart from its vendored archive: chart is the archive's path as the
// provider resolves it, and no repository is named, so nothing is fetched at deploy time. The
// provider reads the version from the archive (the input only records the intent).
func installRelease(ctx *pulumi.Context, logical string, a addon, chart, version string, namespace pulumi.StringOutput, values pulumi.Map, opts ...pulumi.ResourceOption) (*release, error) {
	var r release
	err := ctx.RegisterResource("kubernetes:helm.sh/v3:Release", logical, pulumi.Map{
		"name":      pulumi.String(a.chart),
		"chart":     pulumi.String(chart),
		"version":   pulumi.String(version),
		"namespace": namespace,
		"values":    values,
		// A failed install or upgrade rolls back to the last good revision and deletes what it
		// created, instead of leaving a half-applied release that blocks the next run.
		"atomic":        pulumi.Bool(true),
		"cleanupOnFail": pulumi.Bool(true),
		"maxHistory":    pulumi.Int(10),
		"timeout":       pulumi.Int(600),
		// Set by every generated SDK constructor of Release; sent alike so the provider treats
		// this release as it treats an SDK-created one.
		"compat": pulumi.String("true"),
	}, &r, utilities.PkgResourceDefaultOpts(opts)...)
	return &r, err
}
