//go:build engine

// The local stack deployed for real (issue 16): Pulumi.local.yaml through the real CLI, the
// policy packs with the local thresholds, the real Kubernetes provider and a real API server
// with simulated nodes (scripts/kube-local.sh). The provider's await logic decides when each
// object is ready; the stack itself asks for no skipAwait.
package engine

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
	"github.com/scalemate/infra/stacks"
)

func TestLocalStackOnARealKubernetesAPIServer(t *testing.T) {
	t.Parallel() // beside the cloud replays, on a control plane of its own
	kubeconfig, kubectl, providerDir := localCluster(t)
	ctx := context.Background()
	env := map[string]string{
		"PATH":       providerDir + string(os.PathListSeparator) + tools.StandIns + string(os.PathListSeparator) + os.Getenv("PATH"),
		"KUBECONFIG": kubeconfig, // the stack's provider uses the ambient kubeconfig, as on a laptop
	}
	backend := t.TempDir()
	// The test server's context (scripts/kube-local.sh), and edit's changes.
	local := func(edit func(map[string]any)) offline.StackOptions {
		return offline.StackOptions{Backend: backend, Env: env, Config: func(cfg map[string]any) {
			cfg[stacks.KeyLocal].(map[string]any)["context"] = "scalemate-local"
			if edit != nil {
				edit(cfg)
			}
		}}
	}

	s, err := tools.Stack(ctx, "local", local(nil))
	require.NoError(t, err)
	res, err := tools.Up(ctx, s, optup.SuppressProgress())
	require.NoError(t, err, "preview with both packs (local thresholds), then every object admitted and ready")
	assert.Equal(t, "local", res.Outputs["tier"].Value)
	created := (*res.Summary.ResourceChanges)["create"]
	t.Logf("local: %d resources created", created)

	for _, ns := range []string{"scalemate", "scalemate-data"} {
		out, err := kubectl("", "get", "deployments,statefulsets", "-n", ns, "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.name} {.status.readyReplicas}/{.spec.replicas}{\"\\n\"}{end}")
		require.NoError(t, err, out)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			name, counts, _ := strings.Cut(line, " ")
			ready, want, _ := strings.Cut(counts, "/")
			assert.Equal(t, want, ready, "%s in %s is ready", name, ns)
		}
	}
	jobs, err := kubectl("", "get", "jobs", "-A", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.succeeded} {end}")
	require.NoError(t, err)
	assert.Contains(t, jobs, "database-users-", "the least-privilege user's Job ran")
	assert.Regexp(t, `api-migrate-[a-z0-9-]+=1`, jobs, "the migration ran before the rollout")

	// A second run changes nothing: deterministic certificates, no perpetual diff.
	prev, err := s.Preview(ctx, optpreview.Diff())
	require.NoError(t, err)
	assert.Zero(t, prev.ChangeSummary[apitype.OpUpdate]+prev.ChangeSummary[apitype.OpReplace]+prev.ChangeSummary[apitype.OpCreate], "%v\n%s", prev.ChangeSummary, prev.StdOut)

	// A StatefulSet's claim templates are immutable: a new volume size makes the real provider
	// replace the three stores' StatefulSets (their claims are retained) and nothing else.
	s, err = tools.Stack(ctx, "local", local(func(cfg map[string]any) {
		cfg[stacks.KeyLocal].(map[string]any)["volumeSize"] = "2Gi"
	}))
	require.NoError(t, err)
	prev, err = s.Preview(ctx, optpreview.Diff())
	require.NoError(t, err)
	assert.Equal(t, 3, prev.ChangeSummary[apitype.OpReplace], "the three StatefulSets: %v\n%s", prev.ChangeSummary, prev.StdOut)
	assert.Zero(t, prev.ChangeSummary[apitype.OpUpdate]+prev.ChangeSummary[apitype.OpCreate], "%v", prev.ChangeSummary)
	assert.Contains(t, prev.StdOut, "volumeClaimTemplates")

	// A workload that breaks Pod Security "restricted" in the application's namespace is
	// refused by the API server, through the same provider.
	privileged := object{Type: "kubernetes:core/v1:Pod", Name: "privileged", Inputs: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "privileged", "namespace": "scalemate"},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox:1.37", "securityContext": map[string]any{"privileged": true}}}},
	}}
	bad, err := tools.Stack(ctx, "local", offline.StackOptions{Backend: t.TempDir(), Env: env, Program: replay([]object{privileged}, kubeconfig)})
	require.NoError(t, err)
	_, err = bad.Up(ctx, optup.SuppressProgress())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `violates PodSecurity "restricted:`)

	s, err = tools.Stack(ctx, "local", local(nil))
	require.NoError(t, err)
	_, err = s.Destroy(ctx, optdestroy.SuppressProgress())
	require.NoError(t, err, "the local environment goes away with its namespaces")
}
