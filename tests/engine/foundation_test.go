//go:build engine

package engine

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
)

// Review 2026-11-30 #1: the first deploy of a stack whose cluster API is private. `make
// foundation` (what the deploy workflow's GitHub-hosted job runs when the stack has no runner
// yet) creates the AWS half, the runner included, and nothing through the Kubernetes provider;
// the next up, on the runner, creates the rest.
func TestFoundationThenRunner(t *testing.T) {
	ctx := context.Background()
	mk, err := os.ReadFile(filepath.Join(tools.Root, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^KUBERNETES_LAYER = (.+)$`).FindSubmatch(mk)
	require.NotNil(t, m, "the Makefile names the Kubernetes layer")
	layer := string(m[1])

	s, err := tools.Stack(ctx, "dev", offline.StackOptions{Backend: t.TempDir()})
	require.NoError(t, err)
	res, err := s.Up(ctx, optup.PolicyPacks(tools.Packs...), optup.Exclude([]string{layer}), optup.ExcludeDependents())
	require.NoError(t, err, res.StdErr)
	var kube, total int
	for _, r := range state(t, s) {
		total++
		if strings.HasPrefix(r.Type, "kubernetes:") {
			kube++
		}
	}
	assert.Zero(t, kube, "nothing goes through the Kubernetes provider")
	assert.NotNil(t, stateInputs(t, s, "aws:codebuild/project:Project::scalemate-dev-runner"), "the runner exists")
	assert.NotNil(t, stateInputs(t, s, "aws:ec2/securityGroupRule:SecurityGroupRule::scalemate-dev-runner-to-cluster-api"))
	out, err := s.Outputs(ctx)
	require.NoError(t, err)
	assert.Equal(t, "scalemate-dev-runner", out["runnerProject"].Value, "the workflow's check finds the runner")

	res, err = tools.Up(ctx, s)
	require.NoError(t, err, res.StdErr)
	assert.Greater(t, len(state(t, s)), total, "the runner's up creates the Kubernetes layer")
}
