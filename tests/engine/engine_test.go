//go:build engine

// Engine tests: the real Pulumi CLI and engine, offline (engine/offline). They build the pinned
// CLI on first use (minutes) and run with `make test-engine` (part of `make test`).
package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
	"github.com/scalemate/infra/infra"
	"github.com/scalemate/infra/internal/mocktest"
)

var tools *offline.Tools

func TestMain(m *testing.M) {
	root, _ := filepath.Abs("../..")
	var err error
	if tools, err = offline.Prepare(context.Background(), root); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// stack makes an offline stack with its own backend, so tests never share state.
func stack(t *testing.T, name string, config func(map[string]any)) auto.Stack {
	t.Helper()
	s, err := tools.Stack(context.Background(), name, offline.StackOptions{Backend: t.TempDir(), Config: config})
	require.NoError(t, err)
	return s
}

type run struct {
	policies []apitype.PolicyEvent
	steps    []apitype.StepEventMetadata
}

func watch() (chan events.EngineEvent, <-chan run) {
	ch := make(chan events.EngineEvent)
	done := make(chan run, 1)
	go func() {
		var r run
		for e := range ch {
			if e.PolicyEvent != nil {
				r.policies = append(r.policies, *e.PolicyEvent)
			}
			if e.ResourcePreEvent != nil {
				r.steps = append(r.steps, e.ResourcePreEvent.Metadata)
			}
		}
		done <- r
	}()
	return ch, done
}

func mandatory(r run) []string {
	var out []string
	for _, p := range r.policies {
		if p.EnforcementLevel == "mandatory" {
			out = append(out, p.PolicyName+": "+p.Message)
		}
	}
	return out
}

// mockCount is how many resources the mock run of a stack registers.
func mockCount(t *testing.T, name string) int {
	cfg, err := mocktest.StackConfig(filepath.Join(tools.Root, "Pulumi."+name+".yaml"))
	require.NoError(t, err)
	rec, err := mocktest.Run("scalemate", name, cfg, infra.Run)
	require.NoError(t, err)
	return len(rec.All())
}

// Every stack previews through the engine with both packs: no mandatory violation, and the
// same resources the mock tests count (plus the stack itself and the default random provider).
func TestPreviewEveryStackWithPolicies(t *testing.T) {
	for _, name := range []string{"dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := stack(t, name, nil)
			ch, done := watch()
			res, err := s.Preview(context.Background(), optpreview.PolicyPacks(tools.Packs...), optpreview.EventStreams(ch))
			r := <-done
			require.NoError(t, err, res.StdErr)
			assert.Empty(t, mandatory(r))
			creates := res.ChangeSummary[apitype.OpCreate]
			assert.Equal(t, mockCount(t, name)+2, creates, "engine creates = mock registrations + stack + default random provider")
			var packs []string
			for _, p := range r.policies {
				packs = append(packs, p.PolicyPackName)
			}
			assert.Contains(t, strings.Join(packs, " "), "scalemate-", "the packs ran (preview unknowns are reported as advisory)")
		})
	}
}

// up, up again (no changes), then one setting changed: the preview lists exactly that update.
func TestUpThenPullRequestDiff(t *testing.T) {
	ctx := context.Background()
	backend := t.TempDir()
	s, err := tools.Stack(ctx, "dev", offline.StackOptions{Backend: backend})
	require.NoError(t, err)
	up, err := s.Up(ctx, optup.PolicyPacks(tools.Packs...))
	require.NoError(t, err, up.StdErr)
	assert.Equal(t, "succeeded", up.Summary.Result)

	again, err := s.Up(ctx, optup.PolicyPacks(tools.Packs...))
	require.NoError(t, err)
	for op, n := range *again.Summary.ResourceChanges {
		if op != string(apitype.OpSame) {
			assert.Zero(t, n, "a second up with no change must change nothing (%s)", op)
		}
	}

	changed, err := tools.Stack(ctx, "dev", offline.StackOptions{Backend: backend, Config: func(cfg map[string]any) {
		cfg["scalemate:nodePools"] = map[string]any{"workers": map[string]any{"maxSize": 4}}
	}})
	require.NoError(t, err)
	ch, done := watch()
	pr, err := changed.Preview(ctx, optpreview.PolicyPacks(tools.Packs...), optpreview.EventStreams(ch), optpreview.Diff())
	r := <-done
	require.NoError(t, err, pr.StdErr)
	var updated []string
	for _, st := range r.steps {
		if st.Op != apitype.OpSame && st.Op != apitype.OpRead {
			updated = append(updated, string(st.Op)+" "+st.URN)
		}
	}
	require.Len(t, updated, 1, "exactly one change: %v", updated)
	assert.Contains(t, updated[0], "update ")
	assert.Contains(t, updated[0], "aws:eks/nodeGroup:NodeGroup::scalemate-dev-workers")
	assert.Contains(t, pr.StdOut, "maxSize", "the PR diff shows the changed field")
}

// A config that a mandatory rule refuses fails `up` with the rule's message and creates nothing.
func TestViolationBlocksUp(t *testing.T) {
	ctx := context.Background()
	s := stack(t, "dev", func(cfg map[string]any) {
		cfg["scalemate:logRetentionDays"] = 365 // valid CloudWatch value, but dev keeps logs 30 days at most
	})
	_, err := s.Up(ctx, optup.PolicyPacks(tools.Packs...))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "log-retention-cap")
	dep, err := s.Export(ctx)
	require.NoError(t, err)
	assert.NotContains(t, string(dep.Deployment), "aws:", "no AWS resource may exist after a blocked up")
}

// Protected prod data stores make `destroy` fail; they stay in the state.
func TestDestroyRefusedForProtectedProd(t *testing.T) {
	ctx := context.Background()
	s := stack(t, "prod", nil)
	up, err := s.Up(ctx, optup.PolicyPacks(tools.Packs...))
	require.NoError(t, err, up.StdErr)
	_, err = s.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "protected")
	dep, err := s.Export(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(dep.Deployment), "aws:rds/instance:Instance")
}
