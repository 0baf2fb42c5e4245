package tests

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/baseline/program"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/policies/rules"
)

// registeredTypes is every resource type token that a stack of the program, or the account
// baseline, registers under mocks.
func registeredTypes(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	add := func(where string, rec *mocktest.Recorder) {
		for _, r := range rec.All() {
			if strings.HasPrefix(r.Type, "pulumi:") || strings.HasPrefix(r.Type, "scalemate:") {
				continue // the stack, providers and component resources: nothing in the cloud
			}
			if !slices.Contains(out[r.Type], where) {
				out[r.Type] = append(out[r.Type], where)
			}
		}
	}
	for _, stack := range []string{"local", "dev", "staging", "prod"} {
		rec, err := runStack(t, stack, nil)
		require.NoError(t, err, stack)
		add(stack, rec)
	}
	rec, err := runBaseline(t, nil)
	require.NoError(t, err)
	add("baseline", rec)
	return out
}

// runBaseline runs the account baseline under mocks with Pulumi.baseline.yaml's config, edited.
func runBaseline(t testing.TB, edit func(cfg map[string]string)) (*mocktest.Recorder, error) {
	t.Helper()
	cfg, err := mocktest.StackConfig(filepath.Join("..", "baseline", "Pulumi.baseline.yaml"))
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	return mocktest.RunSecrets("scalemate-baseline", "baseline", cfg, nil, program.Run)
}

// Coverage by construction: every type the program registers has rules, or an explicit entry
// saying why no control applies (rules.NoControl). A new resource type fails here until
// someone decides.
func TestEveryRegisteredTypeIsJudged(t *testing.T) {
	judged := rules.JudgedTypes()
	var missing, todo []string
	for typ, where := range registeredTypes(t) {
		if _, ok := judged[typ]; ok {
			continue
		}
		if reason, ok := rules.NoControl[typ]; ok && reason != "" {
			continue
		}
		if control, ok := rules.ControlsToDo[typ]; ok && control != "" {
			todo = append(todo, typ+": "+control)
			continue
		}
		missing = append(missing, typ+" ("+strings.Join(where, ", ")+")")
	}
	sort.Strings(missing)
	require.Empty(t, missing, "types with neither a rule nor a rules.NoControl reason")
	sort.Strings(todo)
	t.Logf("%d types have rules; of the registered others, %d have no public control and %d a control to implement:\n  %s",
		len(judged), len(rules.NoControl), len(todo), strings.Join(todo, "\n  "))
}

// The tables hold only what is registered and not judged: a type that gains a rule, or leaves
// the program, leaves them.
func TestCoverageTablesAreCurrent(t *testing.T) {
	registered := registeredTypes(t)
	judged := rules.JudgedTypes()
	for _, table := range []map[string]string{rules.NoControl, rules.ControlsToDo} {
		for typ := range table {
			_, isRegistered := registered[typ]
			_, isJudged := judged[typ]
			assert.True(t, isRegistered && !isJudged, "%s: registered %v, judged %v", typ, isRegistered, isJudged)
		}
	}
}
