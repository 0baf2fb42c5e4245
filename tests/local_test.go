// The local stack (Pulumi.local.yaml) under mocks: the cloud's application and baseline from the
// same components, no AWS, the data stores in the cluster, and the packs' local thresholds.
package tests

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/costmodel"
	"github.com/scalemate/infra/policies/rules"
	"github.com/scalemate/infra/stacks"
)

func TestLocalStack(t *testing.T) {
	local := mustRunStack(t, "local")
	dev := mustRunStack(t, "dev")
	kinds := map[string]int{}
	for _, r := range local.All() {
		assert.False(t, strings.HasPrefix(r.Type, "aws:") || r.Type == "pulumi:providers:aws", "%s %s: no AWS resource", r.Type, r.Name)
		kinds[r.Type]++
	}

	// The same workloads as dev, from the same component: names, probes, security contexts.
	for _, d := range dev.OfType("kubernetes:apps/v1:Deployment") {
		name := strings.Replace(d.Name, "scalemate-dev-", "scalemate-local-", 1)
		l, ok := local.Named(d.Type, name)
		if !assert.True(t, ok, "%s in the local stack too", name) {
			continue
		}
		for _, path := range [][]any{{"metadata", "name"}, {"metadata", "namespace"}} {
			assert.Equal(t, dig(d.Inputs.Mappable(), path...), dig(l.Inputs.Mappable(), path...), "%s %v", name, path)
		}
		dc, lc := dig(d.Inputs.Mappable(), "spec", "template", "spec", "containers"), dig(l.Inputs.Mappable(), "spec", "template", "spec", "containers")
		for _, k := range []string{"securityContext", "readinessProbe", "livenessProbe", "ports", "resources"} {
			assert.Equal(t, dig(dc, 0, k), dig(lc, 0, k), "%s container %s", name, k)
		}
		assert.True(t, strings.HasPrefix(dig(lc, 0, "image").(string), "localhost:5001/"), "images from the local registry")
	}
	assert.Equal(t, 3, kinds["kubernetes:apps/v1:StatefulSet"], "PostgreSQL, Valkey, the object store")
	assert.Zero(t, kinds["kubernetes:helm.sh/v3:Release"], "no AWS add-ons")
	assert.Zero(t, kinds["kubernetes:external-secrets.io/v1:ExternalSecret"])

	// The application reads the in-cluster stores through the cloud's config keys.
	cm := local.Must(t, "kubernetes:core/v1:ConfigMap", "scalemate-local-app-config")
	data := cm.Input("data").(map[string]any)
	assert.Equal(t, "postgres.scalemate-data.svc", data["POSTGRES_HOST"])
	assert.Equal(t, "cache.scalemate-data.svc", data["REDIS_HOST"])
	assert.Equal(t, "true", data["REDIS_TLS"])
	secret := local.Must(t, "kubernetes:core/v1:Secret", "scalemate-local-app-api-postgres")
	keys := slices.Sorted(maps.Keys(secret.Input("stringData").(map[string]any)))
	assert.Equal(t, []string{"ca.crt", "dbname", "engine", "host", "password", "port", "username"}, keys, "the cloud's keys, plus the CA")
	assert.Equal(t, "scalemate_app", secret.Input("stringData").(map[string]any)["username"], "the least-privilege user, not the master")

	// The packs judge it with the local thresholds: no mandatory violation, and no cost.
	fs := evaluate(t, "local", local.Analyzed())
	assert.Empty(t, mandatoryViolations(fs))
	th, err := rules.ForStack("local", nil)
	require.NoError(t, err)
	assert.Equal(t, "local", th.Tier)
	assert.Zero(t, costmodel.Estimate(local.Analyzed()).Total)

	// An AWS resource in a local stack is refused by the security pack.
	devFindings := rules.Evaluate(rules.All(), dev.Analyzed(), th)
	assert.Contains(t, strings.Join(mandatoryViolations(devFindings), "\n"), "local-tier-no-cloud-resources")
}

func TestLocalStackRefusesCloudKeys(t *testing.T) {
	_, err := runStack(t, "local", func(cfg map[string]string) { cfg[stacks.KeyEdge] = `{"zoneName":"dev.scalemate.io"}` })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scalemate:edge: configures AWS, which the local tier has none of")
}
