//go:build engine

// The cloud stacks' Kubernetes objects judged by a real API server (issue 16): each stack's
// objects, as the program registers them (under mocks, so without AWS), are replayed through the
// real CLI and the real Kubernetes provider to a real kube-apiserver with RBAC, PodSecurity and
// ResourceQuota admission and simulated nodes (scripts/kube-local.sh). The provider's await logic
// runs for real: the update passes only when every object is admitted and every Deployment
// becomes available, so every Pod passes its namespace's Pod Security level, quota and limit
// range. Kinds that need AWS or an add-on's CRDs are left out, by name.
package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
	"github.com/scalemate/infra/internal/mockstack"
)

// notOnAPlainServer are the kinds a bare API server cannot take: the add-ons' Helm releases (their
// charts and CRDs come from the cloud stacks' add-ons) and the custom resources of those add-ons.
var notOnAPlainServer = []string{
	"kubernetes:helm.sh/v3:Release",
	"kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding",
	"kubernetes:external-secrets.io/v1:SecretStore",
	"kubernetes:external-secrets.io/v1:ExternalSecret",
}

// localCluster starts a control plane for the test and returns its kubeconfig, kubectl for it,
// and the directory holding the real pulumi-resource-kubernetes.
func localCluster(t *testing.T) (kubeconfig string, kubectl func(stdin string, args ...string) (string, error), providerDir string) {
	t.Helper()
	scripts := filepath.Join(tools.Root, "scripts")
	bin, err := exec.Command(filepath.Join(scripts, "kube-toolchain.sh")).Output()
	require.NoError(t, err, "building the Kubernetes toolchain")
	binDir := strings.TrimSpace(string(bin))
	dir := t.TempDir()
	up := exec.Command(filepath.Join(scripts, "kube-local.sh"), "up", dir)
	up.Stdout, up.Stderr = os.Stderr, os.Stderr
	require.NoError(t, up.Run(), "starting the local control plane")
	t.Cleanup(func() { _ = exec.Command(filepath.Join(scripts, "kube-local.sh"), "down", dir).Run() })
	kubeconfig = filepath.Join(dir, "kubeconfig")
	kubectl = func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(binDir, "kubectl"), args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	return kubeconfig, kubectl, filepath.Join(filepath.Dir(binDir), "provider")
}

// object is one Kubernetes object the program registers, as the real provider gets it.
type object struct {
	Type, Name string
	Inputs     map[string]any
}

// applyOrder puts what others live in or refer to first: namespaces and cluster-wide classes,
// then identities, quotas and configuration, then the rest.
func applyOrder(o object) int {
	switch strings.Split(o.Type, ":")[2] {
	case "Namespace", "PriorityClass", "StorageClass", "CustomResourceDefinition":
		return 0
	case "ServiceAccount", "ResourceQuota", "LimitRange", "ConfigMap", "Secret", "Role", "ClusterRole", "ValidatingAdmissionPolicy":
		return 1
	}
	return 2
}

// cloudObjects are a stack's Kubernetes objects, minus the kinds a plain server cannot take
// (returned with their counts).
func cloudObjects(t *testing.T, stack string) ([]object, map[string]int) {
	rec, err := mockstack.Run(tools.Root, stack, nil)
	require.NoError(t, err)
	var objects []object
	skipped, names := map[string]int{}, map[string]int{}
	for _, r := range rec.All() {
		if !strings.HasPrefix(r.Type, "kubernetes:") || !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		if slices.Contains(notOnAPlainServer, r.Type) {
			skipped[r.Type]++
			continue
		}
		m, _ := plainValue(resource.NewObjectProperty(r.Inputs))
		name := r.Name
		if names[r.Type+name]++; names[r.Type+name] > 1 { // the same name under two parents
			name = fmt.Sprintf("%s-%d", name, names[r.Type+name])
		}
		objects = append(objects, object{Type: r.Type, Name: name, Inputs: m.(map[string]any)})
	}
	slices.SortStableFunc(objects, func(a, b object) int { return applyOrder(a) - applyOrder(b) })
	return objects, skipped
}

// plainValue turns a registered input into the value a manifest holds: secrets and outputs
// unwrapped, unknowns dropped.
func plainValue(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsOutput():
		if !v.OutputValue().Known {
			return nil, false
		}
		return plainValue(v.OutputValue().Element)
	case v.IsComputed(), v.IsNull():
		return nil, false
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			if p, ok := plainValue(e); ok {
				out[string(k)] = p
			}
		}
		return out, true
	case v.IsArray():
		out := []any{}
		for _, e := range v.ArrayValue() {
			if p, ok := plainValue(e); ok {
				out = append(out, p)
			}
		}
		return out, true
	}
	return v.V, true
}

// replayed is any Kubernetes object registered by its type token.
type replayed struct{ pulumi.CustomResourceState }

// replay is a program that registers objects through the real Kubernetes provider, pointed at
// kubeconfig, in apply order; extra are registered last.
func replay(objects []object, kubeconfig string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		kc, err := os.ReadFile(kubeconfig)
		if err != nil {
			return err
		}
		p, err := kubernetes.NewProvider(ctx, "local", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String(string(kc))})
		if err != nil {
			return err
		}
		// A refused Pod would keep a Deployment's await waiting for 10 minutes.
		timeouts := pulumi.Timeouts(&pulumi.CustomTimeouts{Create: "3m", Update: "3m"})
		var before, current []pulumi.Resource
		order := 0
		for _, o := range objects {
			if applyOrder(o) != order {
				order, before, current = applyOrder(o), append(before, current...), nil
			}
			var r replayed
			if err := ctx.RegisterResource(o.Type, o.Name, pulumi.ToMap(o.Inputs), &r,
				pulumi.Provider(p), pulumi.DependsOn(before), timeouts); err != nil {
				return err
			}
			current = append(current, &r)
		}
		return nil
	}
}

func TestCloudKubernetesObjectsOnARealAPIServer(t *testing.T) {
	t.Parallel() // beside the local stack's test
	ctx := context.Background()
	for _, name := range []string{"dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			// A control plane each, side by side: the provider mostly waits (for rollouts and
			// Services' endpoints to settle), so three at once cost little more than one.
			t.Parallel()
			kubeconfig, kubectl, providerDir := localCluster(t)
			env := map[string]string{"PATH": providerDir + string(os.PathListSeparator) + tools.StandIns + string(os.PathListSeparator) + os.Getenv("PATH")}
			objects, skipped := cloudObjects(t, name)
			t.Logf("%s: %d objects through the real provider; left out: %v", name, len(objects), skipped)
			backend := t.TempDir()
			s, err := tools.Stack(ctx, name, offline.StackOptions{Backend: backend, Env: env, Program: replay(objects, kubeconfig)})
			require.NoError(t, err)
			res, err := s.Up(ctx, optup.SuppressProgress())
			require.NoError(t, err, "every object admitted and every Deployment available")
			assert.Equal(t, len(objects)+2, (*res.Summary.ResourceChanges)["create"], "the objects, their provider and the stack")

			// What the server stored is what the program asks for: no perpetual diff (an input
			// the API server drops, such as an empty label map, would show here).
			prev, err := s.Preview(ctx, optpreview.Diff())
			require.NoError(t, err)
			assert.Zero(t, prev.ChangeSummary[apitype.OpUpdate]+prev.ChangeSummary[apitype.OpReplace]+prev.ChangeSummary[apitype.OpCreate], "%v\n%s", prev.ChangeSummary, prev.StdOut)

			events, _ := kubectl("", "get", "events", "-A", "--field-selector=reason=FailedCreate", "-o", "custom-columns=OBJ:.involvedObject.name,MSG:.message")
			assert.NotContains(t, events, "violates PodSecurity", "every Pod passes its namespace's Pod Security level")
			assert.NotContains(t, events, "exceeded quota", "every Pod fits its namespace's quota")

			// The same server refuses a Pod that breaks "restricted" in the application's namespace.
			privileged := object{Type: "kubernetes:core/v1:Pod", Name: "privileged", Inputs: map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "privileged", "namespace": "scalemate"},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox", "securityContext": map[string]any{"privileged": true}}}},
			}}
			s, err = tools.Stack(ctx, name, offline.StackOptions{Backend: backend, Env: env, Program: replay(append(slices.Clone(objects), privileged), kubeconfig)})
			require.NoError(t, err)
			_, err = s.Up(ctx, optup.SuppressProgress())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "violates PodSecurity")
		})
	}
}
