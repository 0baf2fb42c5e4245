//go:build engine

package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/engine/offline"
)

// Review 2026-11-30 #8: docs/disaster-recovery.md §A walked on staging (deletion protection on,
// not Pulumi-protected). The config change the runbook gives builds the restored primary (and
// its replica) beside the old ones and moves everything to it in one up; the old instances are
// retained, not deleted (RDS would refuse: they are deletion-protected), so the update
// succeeds and they keep running until deleted by hand after verification. The database's key
// stays: its logical name does not follow the identifier.
func TestRunbookRestoreBesideTheOld(t *testing.T) {
	ctx := context.Background()
	step := walk(t, "staging")
	live := step(nil, nil)
	res, err := tools.Up(ctx, live)
	require.NoError(t, err, res.StdErr)

	// The runbook's step 2, as written there.
	restored := step(func(cfg map[string]any) {
		cfg["scalemate:postgres"] = map[string]any{
			"identifier": "scalemate-staging-r1",
			"restore":    map[string]any{"sourceDbInstanceIdentifier": "scalemate-staging", "restoreTime": "2026-11-27T09:45:00Z"},
		}
	}, nil)
	ch, reported := offline.Watch()
	res, err = tools.Up(ctx, restored, optup.EventStreams(ch))
	require.NoError(t, err, res.StdErr)
	replaced, keySeen := map[string]bool{}, false
	for _, st := range reported().Steps {
		if st.Op == apitype.OpDeleteReplaced && st.Old != nil && strings.Contains(st.URN, "aws:rds/instance:Instance") {
			replaced[st.URN[strings.LastIndex(st.URN, "::")+2:]] = st.Old.RetainOnDelete
		}
		if strings.HasSuffix(st.URN, "scalemate:postgres:Postgres$aws:kms/key:Key::scalemate-staging") {
			assert.Contains(t, []apitype.OpType{apitype.OpSame, apitype.OpUpdate}, st.Op, "the key that encrypts the old snapshots stays (its description may follow the identifier)")
			keySeen = true
		}
	}
	assert.True(t, keySeen)
	assert.Equal(t, map[string]bool{"scalemate-staging": true, "scalemate-staging-replica-1": true}, replaced,
		"the old primary and replica are replaced and retained, not deleted")
	primary := stateInputs(t, restored, "aws:rds/instance:Instance::scalemate-staging")
	assert.Equal(t, "scalemate-staging-r1", primary["identifier"])
	assert.Equal(t, "scalemate-staging", primary["restoreToPointInTime"].(map[string]any)["sourceDbInstanceIdentifier"])
	cm := stateInputs(t, restored, "kubernetes:core/v1:ConfigMap::scalemate-staging-app-config")
	require.NotNil(t, cm)
	assert.Contains(t, cm["data"].(map[string]any)["POSTGRES_HOST"], "proxy", "staging's application goes through the proxy, which now targets the new primary")
}
