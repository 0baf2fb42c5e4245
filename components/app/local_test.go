package app

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

const tSecret = "kubernetes:core/v1:Secret"

// localArgs are baseArgs on a cluster without AWS.
func localArgs() Args {
	a := baseArgs()
	a.Local, a.Region, a.OIDCProviderARN, a.OIDCIssuerURL = true, "", nil, nil
	a.TargetGroupARNs, a.LoadBalancerCIDRs, a.DataCIDRs, a.DataNamespace = nil, nil, nil, "scalemate-data"
	a.Images = pulumi.StringMap{"api": pulumi.String("localhost:5001/api"), "web": pulumi.String("localhost:5001/web")}
	a.Secrets = map[string]Secret{"postgres": {Value: pulumi.ToSecret(pulumi.StringMap{"username": pulumi.String("app"), "password": pulumi.String("pw")}).(pulumi.StringMapOutput)}}
	a.DatabaseUsers.MasterSecret = Secret{Value: pulumi.ToSecret(pulumi.StringMap{"username": pulumi.String("postgres"), "password": pulumi.String("master"), "ca.crt": pulumi.String("PEM")}).(pulumi.StringMapOutput)}
	return a
}

func TestLocalModeNeedsNoAWS(t *testing.T) {
	rec := run(t, localArgs())
	for _, r := range rec.All() {
		assert.NotContains(t, r.Type, "aws:", "%s %s: no AWS resource", r.Type, r.Name)
	}
	assert.Empty(t, rec.OfType(tTGB), "no load balancer to bind to")
	assert.Empty(t, rec.OfType(tStore), "no External Secrets Operator")
	assert.Empty(t, rec.OfType(tExternal))
	assert.Len(t, rec.OfType(tDeployment), 4, "the same workloads as in the cloud")

	// The Secrets the operator would keep, with the same names, written from their values.
	app := rec.Must(t, tSecret, "app-api-postgres")
	assert.Equal(t, map[string]any{"username": "app", "password": "pw"}, app.Input("stringData"))
	assert.True(t, app.Inputs["stringData"].ContainsSecrets(), "kept secret in the state")
	master := rec.Must(t, tSecret, "app-database-users-master")
	assert.Equal(t, "scalemate-database-users", get(master.Input("metadata"), "namespace"))
	assert.Equal(t, map[string]any{"username": "postgres", "password": "master", "ca.crt": "PEM", "host": "db.example.internal", "port": "5432", "dbname": "app"},
		master.Input("stringData"), "the master login with where to reach it, as the cloud's template adds")

	sa := rec.Must(t, "kubernetes:core/v1:ServiceAccount", "app-api")
	assert.Nil(t, get(sa.Input("metadata"), "annotations"), "no IAM role")
	job := rec.Must(t, tJob, "app-database-users")
	env := get(job.Input("spec"), "template", "spec", "containers", 0, "env")
	assert.NotContains(t, env, map[string]any{"name": "AWS_REGION", "value": ""})

	// Routed services are reached through their stable Service (port-forward), following the
	// active colour.
	web := rec.Must(t, tService, "app-web")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "web", "scalemate.io/colour": "blue"}, get(web.Input("spec"), "selector"))

	// The data stores are pods in their namespace, not subnets.
	flows := rec.Must(t, tPolicy, "app-api-flows")
	assert.Contains(t, get(flows.Input("spec"), "egress"), map[string]any{
		"to":    []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "scalemate-data"}}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": 5432.0}},
	})
	assert.Nil(t, get(flows.Input("spec"), "ingress", 0, "from", 0, "ipBlock"), "no load balancer subnets admitted")
	users := rec.Must(t, tPolicy, "app-database-users-allow-egress")
	for _, rule := range get(users.Input("spec"), "egress").([]any) {
		assert.NotEqual(t, 443.0, get(rule, "ports", 0, "port"), "no HTTPS out: the CA is in the master secret")
	}
}

func TestLocalModeArgsRefused(t *testing.T) {
	a := localArgs()
	a.DataNamespace = ""
	a.Secrets = map[string]Secret{"postgres": {Name: pulumi.String("arn:sm/app"), ARN: pulumi.String("arn:sm/app")}}
	_, err := mocktest.Component(New, "app", a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Secrets[postgres]: Value must be set (Local: no Secrets Manager)`)
	assert.Contains(t, err.Error(), `reads the database or cache but DataNamespace "" is not a namespace name`)
	assert.Contains(t, err.Error(), `DatabaseUsers: cannot reach the database: DataNamespace ""`)
	assert.NotContains(t, err.Error(), "OIDCProviderARN")
	assert.NotContains(t, err.Error(), "Region")
}
