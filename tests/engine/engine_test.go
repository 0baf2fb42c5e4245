//go:build engine

// Engine tests: the real Pulumi CLI and engine, offline (engine/offline). They build the pinned
// CLI on first use (minutes) and run with `make test-engine` (part of `make test`).
package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
	"github.com/scalemate/infra/internal/mockstack"
	"github.com/scalemate/infra/policies/costmodel"
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

// walk gives the steps of one stack's walk through several updates: each call is the stack with
// its committed config changed by config (nil: unchanged), extra environment for the CLI and the
// stand-ins, and the walk's one backend.
func walk(t *testing.T, name string) func(config func(map[string]any), env map[string]string) auto.Stack {
	backend := t.TempDir()
	return func(config func(map[string]any), env map[string]string) auto.Stack {
		t.Helper()
		s, err := tools.Stack(context.Background(), name, offline.StackOptions{Backend: backend, Config: config, Env: env})
		require.NoError(t, err)
		return s
	}
}

func mandatory(r offline.Events) []string {
	var out []string
	for _, p := range r.Policies {
		if p.EnforcementLevel == "mandatory" {
			out = append(out, p.PolicyName+": "+p.Message)
		}
	}
	return out
}

// mockCount is how many resources the mock run of a stack registers.
func mockCount(t *testing.T, name string) int {
	rec, err := mockstack.Run(tools.Root, name, nil)
	require.NoError(t, err)
	return len(rec.All())
}

// Every stack previews through the engine with both packs: no mandatory violation, and the
// same resources the mock tests count (plus the stack itself and the default random provider).
// local too: every type it registers is one the stand-ins know (make preview STACK=local).
func TestPreviewEveryStackWithPolicies(t *testing.T) {
	for _, name := range []string{"local", "dev", "staging", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := stack(t, name, nil)
			ch, reported := offline.Watch()
			res, err := s.Preview(context.Background(), optpreview.PolicyPacks(tools.Packs...), optpreview.EventStreams(ch))
			r := reported()
			require.NoError(t, err, res.StdErr)
			assert.Empty(t, mandatory(r))
			creates := res.ChangeSummary[apitype.OpCreate]
			assert.Equal(t, mockCount(t, name)+1, creates, "engine creates = mock registrations + the stack itself")
			for _, pack := range []string{"scalemate-security@", "scalemate-cost@"} {
				assert.Contains(t, res.StdOut, pack, "the engine ran the pack")
			}
			// Readable: unknowns judged by provenance, the rest one line per rule (issue 15).
			section := policySection(res.StdOut)
			require.GreaterOrEqual(t, len(section), 3, "the section names both packs:\n%s", res.StdOut)
			assert.LessOrEqual(t, len(section), 25, "the policy section fits on one screen:\n%s", strings.Join(section, "\n"))
		})
	}
}

// up, up again (no changes), then one setting changed: the preview lists exactly that update.
func TestUpThenPullRequestDiff(t *testing.T) {
	ctx := context.Background()
	backend := t.TempDir()
	s, err := tools.Stack(ctx, "dev", offline.StackOptions{Backend: backend})
	require.NoError(t, err)
	up, err := tools.Up(ctx, s)
	require.NoError(t, err, up.StdErr)
	assert.Equal(t, "succeeded", up.Summary.Result)

	again, err := tools.Up(ctx, s)
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
	ch, reported := offline.Watch()
	pr, err := changed.Preview(ctx, optpreview.PolicyPacks(tools.Packs...), optpreview.EventStreams(ch), optpreview.Diff())
	r := reported()
	require.NoError(t, err, pr.StdErr)
	var updated []string
	for _, st := range r.Steps {
		if st.Op != apitype.OpSame && st.Op != apitype.OpRead {
			updated = append(updated, string(st.Op)+" "+st.URN)
		}
	}
	require.Len(t, updated, 1, "exactly one change: %v", updated)
	assert.Contains(t, updated[0], "update ")
	assert.Contains(t, updated[0], "aws:eks/nodeGroup:NodeGroup::scalemate-dev-workers")
	assert.Contains(t, pr.StdOut, "maxSize", "the PR diff shows the changed field")

	// The cost diff of a change, from the preview (the state against the planned inputs), as
	// the pull-request comment shows it: a read replica added costs its own line and its lag
	// alarm's, and no other resource's cost moves.
	replica, err := tools.Stack(ctx, "dev", offline.StackOptions{Backend: backend, Config: func(cfg map[string]any) {
		pg, _ := cfg["scalemate:postgres"].(map[string]any)
		if pg == nil {
			pg = map[string]any{}
		}
		pg["readReplicas"] = 1
		cfg["scalemate:postgres"] = pg
	}})
	require.NoError(t, err)
	ch, reported = offline.Watch()
	_, err = replica.Preview(ctx, optpreview.EventStreams(ch)) // without the packs: dev's replica cap is 0
	require.NoError(t, err)
	steps := reported().Steps
	diff := costmodel.DiffOf(costmodel.Estimate(offline.Before(steps)), costmodel.Estimate(offline.Resources(steps)))
	require.Len(t, diff.Changes, 2, "%s", diff.Table())
	added := map[string]costmodel.Change{}
	sum := 0.0
	for _, c := range diff.Changes {
		assert.Zero(t, c.Before, "created: %s", c.Name)
		added[c.Name] = c
		sum += c.After
	}
	assert.Contains(t, added["scalemate-dev-replica-1"].URN, "aws:rds/instance:Instance")
	assert.Greater(t, added["scalemate-dev-replica-1"].After, 10.0)
	assert.InDelta(t, 0.10, added["scalemate-dev-postgres-replica-lag"].After, 0.001)
	assert.InDelta(t, sum, diff.Delta(), 0.001, "the total moves by exactly what was added")
	assert.Greater(t, diff.Before, 100.0, "the current state is priced too")
	t.Logf("cost diff of a read replica on dev:\n%s", diff.Table())
}

// A config that a mandatory rule refuses fails `up` with the rule's message and creates
// nothing: a resource rule (log retention) and a stack rule (NAT gateway count).
func TestViolationBlocksUp(t *testing.T) {
	ctx := context.Background()
	for rule, c := range map[string]struct {
		key     string
		value   any
		message string
	}{
		"log-retention-cap": {"scalemate:logRetentionDays", 365, "dev keeps logs at most 30 days"},
		"nat-gateway-count": {"scalemate:network", map[string]any{"natGateways": "perAz"}, "2 NAT gateways; dev allows 1"},
	} {
		t.Run(rule, func(t *testing.T) {
			s := stack(t, "dev", func(cfg map[string]any) { cfg[c.key] = c.value })
			_, err := tools.Up(ctx, s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), rule)
			assert.Contains(t, err.Error(), c.message, "the rule's own message reaches the user")
			assert.Empty(t, cloudResources(t, s), "no cloud resource may exist after a blocked up")
		})
	}
}

// stateResource is a resource of an exported stack state.
type stateResource struct {
	URN    string         `json:"urn"`
	Type   string         `json:"type"`
	Custom bool           `json:"custom"`
	Inputs map[string]any `json:"inputs"`
}

// state is a stack's exported state.
func state(t *testing.T, s auto.Stack) []stateResource {
	t.Helper()
	dep, err := s.Export(context.Background())
	require.NoError(t, err)
	var st struct {
		Resources []stateResource `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(dep.Deployment, &st))
	return st.Resources
}

// cloudResources lists the custom resources in a stack's state other than providers.
func cloudResources(t *testing.T, s auto.Stack) []string {
	t.Helper()
	var out []string
	for _, r := range state(t, s) {
		if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			out = append(out, r.URN)
		}
	}
	return out
}

// Protected prod data stores make `destroy` fail; they stay in the state.
func TestDestroyRefusedForProtectedProd(t *testing.T) {
	ctx := context.Background()
	s := stack(t, "prod", nil)
	up, err := tools.Up(ctx, s)
	require.NoError(t, err, up.StdErr)
	_, err = s.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "protected")
	assert.Contains(t, strings.Join(cloudResources(t, s), " "), "aws:rds/instance:Instance::scalemate-prod", "the protected primary survives")
}

// A stack file whose credential is correctly set as a secret (encrypted for its real secrets
// provider, which an offline run cannot reach) previews offline: the value is set again as an
// offline secret with its placeholder, and the program sees a secret (issue 17).
func TestPreviewWithEncryptedSecret(t *testing.T) {
	s := stack(t, "prod", func(cfg map[string]any) {
		cfg["scalemate:onCallWebhookUrl"] = map[string]any{"secure": "v1:AAABAHdgMbLX9Yk0nLgm3A=="}
	})
	res, err := s.Preview(context.Background(), optpreview.PolicyPacks(tools.Packs...))
	require.NoError(t, err, res.StdErr)
	cfg, err := s.GetConfig(context.Background(), "scalemate:onCallWebhookUrl")
	require.NoError(t, err)
	assert.True(t, cfg.Secret)
	assert.Greater(t, res.ChangeSummary[apitype.OpCreate], mockCount(t, "prod")+1, "the webhook's subscriptions besides the committed stack's resources")
}

// The account baseline previews offline like the stacks, with both packs and no mandatory
// violation (`make preview PROJECT=baseline STACK=baseline`).
func TestPreviewBaseline(t *testing.T) {
	s, err := tools.Stack(context.Background(), "baseline", offline.StackOptions{Backend: t.TempDir(), Project: "baseline"})
	require.NoError(t, err)
	ch, reported := offline.Watch()
	res, err := s.Preview(context.Background(), optpreview.PolicyPacks(tools.Packs...), optpreview.EventStreams(ch))
	require.NoError(t, err, res.StdErr)
	assert.Empty(t, mandatory(reported()))
	assert.Greater(t, res.ChangeSummary[apitype.OpCreate], 50, "the baseline's resources")
}

// policySection is the engine's "Policies:" block of a preview's output.
func policySection(out string) []string {
	_, after, ok := strings.Cut(out, "\nPolicies:\n")
	if !ok {
		return nil
	}
	block, _, _ := strings.Cut(after, "\n\n")
	return append([]string{"Policies:"}, strings.Split(block, "\n")...)
}
