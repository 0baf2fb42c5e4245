//go:build engine

package engine

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/fakecloud"
)

// Review 2026-11-30 #9: changing a node pool's instance types replaces its node group, and the
// engine creates the replacement from the program's inputs (ignoreChanges does not carry the
// old group's size into it). The new group must start at the size the old one was autoscaled
// to, not at minSize: the program reads it at `up` time.
func TestNodePoolReplacementKeepsCapacity(t *testing.T) {
	ctx := context.Background()
	const group = "aws:eks/nodeGroup:NodeGroup::scalemate-dev-workers"
	step := walk(t, "dev")
	desired := func(s auto.Stack) any {
		in := stateInputs(t, s, group)
		require.NotNil(t, in)
		return in["scalingConfig"].(map[string]any)["desiredSize"]
	}

	first := step(nil, nil)
	res, err := tools.Up(ctx, first)
	require.NoError(t, err, res.StdErr)
	assert.EqualValues(t, 1, desired(first), "created at minSize")

	// The autoscaler has grown dev's workers (min 1, max 3) to 3 nodes.
	live := map[string]string{fakecloud.LiveInvokesEnv: `aws:eks/getNodeGroups:getNodeGroups={"clusterName":"c","id":"c","names":["scalemate-dev-workers-1a2b3c4"]};` +
		`aws:eks/getNodeGroup:getNodeGroup={"clusterName":"c","nodeGroupName":"scalemate-dev-workers-1a2b3c4","scalingConfigs":[{"minSize":1,"maxSize":3,"desiredSize":3}]}`}
	changed := step(func(cfg map[string]any) {
		cfg["scalemate:nodePools"] = map[string]any{"workers": map[string]any{"instanceTypes": []any{"m6i.large", "m6a.large"}}}
	}, live)
	res, err = tools.Up(ctx, changed)
	require.NoError(t, err, res.StdErr)
	assert.Equal(t, map[string]int{"replace": 1}, map[string]int{"replace": (*res.Summary.ResourceChanges)["replace"]}, "the group was replaced")
	assert.Equal(t, []any{"m6i.large", "m6a.large"}, stateInputs(t, changed, group)["instanceTypes"])
	assert.EqualValues(t, 3, desired(changed), "the replacement starts at the live size, not minSize")

	// Unchanged otherwise: the live size is not a diff (ignoreChanges), so a later up is quiet.
	res, err = tools.Up(ctx, changed)
	require.NoError(t, err, res.StdErr)
	assert.Zero(t, (*res.Summary.ResourceChanges)["update"]+(*res.Summary.ResourceChanges)["replace"], "nothing changes")
}
