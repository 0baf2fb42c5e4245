package k8sbaseline

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalBaselineIsTheApplicationsOnly(t *testing.T) {
	args := Args{Local: true, KubernetesVersion: baseArgs().KubernetesVersion, AppConfig: pulumi.StringMap{"ENVIRONMENT": pulumi.String("local")}}
	require.NoError(t, args.Check("local"), "no cluster name, region, VPC or OIDC provider needed")
	rec := run(t, args)
	var types []string
	for _, r := range rec.All() {
		types = append(types, r.Type)
		assert.NotContains(t, r.Type, "aws:", "no AWS resource")
	}
	assert.NotContains(t, types, "kubernetes:helm.sh/v3:Release", "no add-ons")
	assert.NotContains(t, types, "kubernetes:storage.k8s.io/v1:StorageClass", "the cluster's own default StorageClass")

	// The application's namespace as in the cloud: restricted, with its quota, defaults and policies.
	cloud := run(t, baseArgs())
	for _, r := range cloud.All() {
		if r.Name == "base-app" || r.Type == "kubernetes:networking.k8s.io/v1:NetworkPolicy" && strings.HasPrefix(r.Name, "base-app") {
			local, ok := rec.Named(r.Type, r.Name)
			if assert.True(t, ok, "%s %s in the local baseline too", r.Type, r.Name) && r.Type != "scalemate:k8sbaseline:Baseline" {
				assert.Equal(t, r.Input("metadata"), local.Input("metadata"), "%s %s", r.Type, r.Name)
			}
		}
	}
	cm := rec.Must(t, "kubernetes:core/v1:ConfigMap", "base-app-config")
	assert.Equal(t, map[string]any{"ENVIRONMENT": "local"}, cm.Input("data"))
}
