package localdata

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

const image = "public.ecr.aws/docker/library/postgres:16.10-alpine@sha256:029660641a0cfc575b14f336ba448fb8a75fd595d42e1fa316b9fb4378742297"

func baseArgs() Args {
	return Args{
		NamespaceLabels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
		Clients:         []string{"scalemate"}, DatabaseOnlyClients: []string{"scalemate-database-users"},
		PostgresImage: image,
	}
}

// get walks a registered input (mocktest.Get).
var get = mocktest.Get

func TestStoresRunRestrictedWithTLSAndVolumes(t *testing.T) {
	rec := mocktest.MustComponent(t, New, "data", baseArgs())
	sets := rec.OfType("kubernetes:apps/v1:StatefulSet")
	require.Len(t, sets, 3)
	for _, s := range sets {
		spec := s.Input("spec")
		pod := get(spec, "template", "spec")
		c := get(pod, "containers", 0)
		assert.Equal(t, true, get(pod, "securityContext", "runAsNonRoot"), s.Name)
		assert.NotZero(t, get(pod, "securityContext", "runAsUser"), s.Name)
		assert.Equal(t, "RuntimeDefault", get(pod, "securityContext", "seccompProfile", "type"), s.Name)
		assert.Equal(t, false, get(c, "securityContext", "allowPrivilegeEscalation"), s.Name)
		assert.Equal(t, []any{"ALL"}, get(c, "securityContext", "capabilities", "drop"), s.Name)
		assert.Equal(t, true, get(c, "securityContext", "readOnlyRootFilesystem"), s.Name)
		assert.NotNil(t, get(c, "readinessProbe"), s.Name)
		assert.NotNil(t, get(c, "resources", "limits", "memory"), s.Name)
		assert.Equal(t, "1Gi", get(spec, "volumeClaimTemplates", 0, "spec", "resources", "requests", "storage"), s.Name)
		assert.Nil(t, get(spec, "volumeClaimTemplates", 0, "spec", "storageClassName"), "the cluster's default class")
		assert.Equal(t, "Retain", get(spec, "persistentVolumeClaimRetentionPolicy", "whenDeleted"), "data outlives the StatefulSet")
	}
	pg := get(rec.Must(t, "kubernetes:apps/v1:StatefulSet", "data-postgres").Input("spec"), "template", "spec", "containers", 0)
	args := strings.Join(toStrings(get(pg, "args")), " ")
	for _, want := range []string{"ssl=on", "ssl_min_protocol_version=TLSv1.2", "password_encryption=scram-sha-256", "hba_file=/etc/postgresql/hba/pg_hba.conf"} {
		assert.Contains(t, args, want)
	}
	assert.Equal(t, image, get(pg, "image"), "the cloud's major version")
	hba := rec.Must(t, "kubernetes:core/v1:ConfigMap", "data-postgres-hba")
	assert.Equal(t, "local all all scram-sha-256\nhostssl all all all scram-sha-256\n", get(hba.Input("data"), "pg_hba.conf"), "TLS only, as rds.force_ssl")
	cache := get(rec.Must(t, "kubernetes:apps/v1:StatefulSet", "data-cache").Input("spec"), "template", "spec", "containers", 0)
	cargs := strings.Join(toStrings(get(cache, "args")), " ")
	assert.Contains(t, cargs, "--port 0 --tls-port 6379", "TLS only")
	assert.Contains(t, cargs, "--requirepass $(VALKEY_PASSWORD)", "AUTH")
	assert.Contains(t, cargs, "--appendonly yes", "persistence")

	tls := rec.Must(t, "kubernetes:core/v1:Secret", "data-tls")
	assert.True(t, tls.Inputs["stringData"].ContainsSecrets())
	data := tls.Input("stringData").(map[string]any)
	assert.Contains(t, data["tls.crt"], "BEGIN CERTIFICATE")
	assert.Contains(t, data["tls.key"], "BEGIN PRIVATE KEY")

	// Each store admits its own clients on its own port only.
	names := func(from any) []any {
		var out []any
		for _, f := range from.([]any) {
			out = append(out, get(f, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"))
		}
		return out
	}
	pgPolicy := rec.Must(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "data-allow-postgres").Input("spec")
	assert.Equal(t, "postgres", get(pgPolicy, "podSelector", "matchLabels", "app.kubernetes.io/name"))
	assert.Equal(t, []any{"scalemate", "scalemate-database-users"}, names(get(pgPolicy, "ingress", 0, "from")))
	assert.Equal(t, 5432.0, get(pgPolicy, "ingress", 0, "ports", 0, "port"))
	cachePolicy := rec.Must(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "data-allow-cache").Input("spec")
	assert.Equal(t, []any{"scalemate"}, names(get(cachePolicy, "ingress", 0, "from")), "the database-users Job has no business with the cache")
	rec.Must(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "data-default-deny")
	for _, p := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		assert.NotEqual(t, "objects", get(p.Input("spec"), "podSelector", "matchLabels", "app.kubernetes.io/name"), "the object store admits nobody")
	}
	assert.Equal(t, 30.0, get(pg, "startupProbe", "failureThreshold"), "initdb's minutes are not a liveness failure")
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestArgsRefused(t *testing.T) {
	a := baseArgs()
	a.NamespaceLabels, a.Clients, a.PostgresImage = nil, []string{"scalemate-data"}, "postgres:16"
	a.MasterUsername, a.AppUsername, a.Bucket, a.VolumeSize, a.CacheImage = "postgres", "postgres", "B", "1Mi", "valkey/valkey:latest"
	_, err := mocktest.Component(New, "data", a)
	require.Error(t, err)
	for _, want := range []string{
		"NamespaceLabels: must enforce Pod Security restricted",
		`Clients: "scalemate-data" is not a namespace name other than Namespace`,
		`PostgresImage: "postgres:16" is not pinned by digest`,
		`MasterUsername: "postgres" is not allowed`,
		`AppUsername: "postgres" is also MasterUsername`,
		`Bucket: "B" is not a bucket name`,
		`VolumeSize: "1Mi" is not a volume size of at least 64Mi`,
		`CacheImage: "valkey/valkey:latest" is not pinned`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
