//go:build engine

package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
)

// release is the scalemate:app.release config of a step.
func release(active, blue, green string, canary int) func(map[string]any) {
	return func(cfg map[string]any) {
		r := map[string]any{"active": active, "canaryPercent": canary}
		if blue != "" {
			r["blue"] = map[string]any{"version": blue}
		}
		if green != "" {
			r["green"] = map[string]any{"version": green}
		}
		cfg["scalemate:app"] = map[string]any{"release": r}
	}
}

// ruleWeights reads the api listener rule's weights per colour from the stack's state.
func ruleWeights(t *testing.T, s auto.Stack) map[string]float64 {
	t.Helper()
	for _, r := range state(t, s) {
		if !strings.HasSuffix(r.URN, "aws:lb/listenerRule:ListenerRule::scalemate-dev-api") {
			continue
		}
		out := map[string]float64{}
		actions := r.Inputs["actions"].([]any)
		forward, _ := actions[0].(map[string]any)["forward"].(map[string]any)
		if forward == nil {
			return out // the maintenance page
		}
		for _, g := range forward["targetGroups"].([]any) {
			m := g.(map[string]any)
			arn := m["arn"].(string)
			out[arn[strings.LastIndex(arn, "-")+1:]] = m["weight"].(float64)
		}
		return out
	}
	t.Fatal("no api listener rule in the state")
	return nil
}

// secretSig marks a secret value in Pulumi's state.
const secretSig = "4dabf18193072939515e22adb298388d"

// outsideSecrets reports whether s occurs in the state document v outside a secret value.
func outsideSecrets(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case []any:
		for _, e := range x {
			if outsideSecrets(e, s) {
				return true
			}
		}
	case map[string]any:
		if _, secret := x[secretSig]; secret {
			return false
		}
		for _, e := range x {
			if outsideSecrets(e, s) {
				return true
			}
		}
	}
	return false
}

// stateInputs are the inputs of the state's resource whose URN ends with suffix (nil if none).
func stateInputs(t *testing.T, s auto.Stack, suffix string) map[string]any {
	t.Helper()
	for _, r := range state(t, s) {
		if strings.HasSuffix(r.URN, suffix) {
			return r.Inputs
		}
	}
	return nil
}

// A release walked through the real engine: blue serves; green joins as a 10 % canary with
// only the expected changes and no replacement of the load balancer, its listeners or target
// groups; green is promoted; traffic is rolled back to blue; green is staged again with a new
// version (its migration runs that version); and a failing migration stops the next release
// with the weights unchanged.
func TestReleaseWalk(t *testing.T) {
	ctx := context.Background()
	step := walk(t, "dev")
	up := func(s auto.Stack) {
		t.Helper()
		res, err := tools.Up(ctx, s)
		require.NoError(t, err, res.StdErr)
	}

	blue := step(nil, nil) // the committed stack: blue v1.0.0
	up(blue)
	assert.Equal(t, map[string]float64{"blue": 100, "green": 0}, ruleWeights(t, blue))
	// The generated application password, the origin secret and the app user's verifier appear in the state
	// only as Pulumi secrets (encrypted at rest; the Automation API's export decrypts them
	// inside their secret markers).
	dep, err := blue.Export(ctx)
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(dep.Deployment, &doc))
	for _, plain := range []string{"fake-scalemate-dev-app-Aa1!", "fake-scalemate-dev-origin-verify-Aa1!", "SCRAM-SHA-256$"} {
		assert.Contains(t, string(dep.Deployment), plain, "the export shows secrets (inside markers)")
		assert.False(t, outsideSecrets(doc, plain), "%s appears in the state outside a secret", plain)
	}

	// Canary: the preview shows green's objects created and the rules updated, nothing replaced.
	canary := step(release("blue", "v1.0.0", "v1.1.0", 10), nil)
	ch, reported := offline.Watch()
	_, err = canary.Preview(ctx, optpreview.PolicyPacks(tools.Packs...), optpreview.EventStreams(ch))
	require.NoError(t, err)
	var updates, creates []string
	for _, st := range reported().Steps {
		urn := st.URN
		switch st.Op {
		case apitype.OpSame, apitype.OpRead:
		case apitype.OpUpdate:
			updates = append(updates, urn[strings.LastIndex(urn, "::")+2:])
		case apitype.OpCreate:
			creates = append(creates, urn[strings.LastIndex(urn, "::")+2:])
		default:
			t.Errorf("unexpected %s of %s", st.Op, urn)
		}
		for _, kept := range []string{"aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener", "aws:lb/targetGroup:TargetGroup"} {
			if strings.Contains(urn, kept) {
				assert.Equal(t, apitype.OpSame, st.Op, "%s must not change in a release", urn)
			}
		}
	}
	assert.ElementsMatch(t, []string{"scalemate-dev-api", "scalemate-dev-web"}, updates, "only the rules' weights change")
	assert.ElementsMatch(t, []string{
		"scalemate-dev-app-api-green", "scalemate-dev-app-web-green", "scalemate-dev-app-worker-green", // Deployments
		"scalemate-dev-app-api-green", "scalemate-dev-app-web-green", "scalemate-dev-app-worker-green", // autoscalers
		"scalemate-dev-app-api-green", "scalemate-dev-app-web-green", "scalemate-dev-app-worker-green", // disruption budgets
		"scalemate-dev-app-api-migrate-green-v1-1-0",
	}, creates)
	up(canary)
	assert.Equal(t, map[string]float64{"blue": 90, "green": 10}, ruleWeights(t, canary))

	promoted := step(release("green", "v1.0.0", "v1.1.0", 0), nil)
	up(promoted)
	assert.Equal(t, map[string]float64{"blue": 0, "green": 100}, ruleWeights(t, promoted))

	rolledBack := step(release("blue", "v1.0.0", "v1.1.0", 0), nil)
	up(rolledBack)
	assert.Equal(t, map[string]float64{"blue": 100, "green": 0}, ruleWeights(t, rolledBack), "a rollback is the same up with the previous weights")

	// The next release reuses the idle colour: green gets v1.2.0, whose migration runs with the
	// new image (a new Job, not the old one renamed).
	staged := step(release("blue", "v1.0.0", "v1.2.0", 0), nil)
	up(staged)
	job := stateInputs(t, staged, "kubernetes:batch/v1:Job::scalemate-dev-app-api-migrate-green-v1-2-0")
	assert.Contains(t, job["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"], ":v1.2.0")
	assert.Nil(t, stateInputs(t, staged, "kubernetes:batch/v1:Job::scalemate-dev-app-api-migrate-green-v1-1-0"), "the previous version's Job is gone")

	// The next release's migration fails: the update fails and no weight moves.
	failing := step(release("blue", "v1.0.0", "v1.3.0", 10), map[string]string{"SCALEMATE_STANDIN_FAIL": "app-api-migrate-green-v1-3-0"})
	_, err = tools.Up(ctx, failing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rehearsed failure")
	assert.Equal(t, map[string]float64{"blue": 100, "green": 0}, ruleWeights(t, failing), "nothing switched")
}
