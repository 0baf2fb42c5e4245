package app

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
)

const (
	tDeployment = "kubernetes:apps/v1:Deployment"
	tJob        = "kubernetes:batch/v1:Job"
	tTGB        = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
	tService    = "kubernetes:core/v1:Service"
	tHPA        = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	tPDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	tPolicy     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tStore      = "kubernetes:external-secrets.io/v1:SecretStore"
	tExternal   = "kubernetes:external-secrets.io/v1:ExternalSecret"
	tRole       = "aws:iam/role:Role"
)

func service(name string) Service {
	return Service{
		Name: name, Image: name, Port: 8080, ReadinessPath: "/ready", LivenessPath: "/live",
		CPU: "250m", Memory: "256Mi", CPULimit: "1", MemoryLimit: "512Mi", MinReplicas: 2, MaxReplicas: 6,
	}
}

func baseArgs() Args {
	api := service("api")
	api.Routed, api.Secrets, api.ReadsDatabase, api.Peers, api.Migrate = true, []string{"postgres"}, true, []string{"web"}, []string{"/app/migrate"}
	web := service("web")
	web.Routed = true
	return Args{
		Namespace: "scalemate", Region: "us-west-2",
		OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"),
		OIDCIssuerURL:   pulumi.String("https://oidc.eks.us-west-2.amazonaws.com/id/ABC"),
		Images: pulumi.StringMap{
			"api": pulumi.String("123456789012.dkr.ecr.us-west-2.amazonaws.com/s/api"),
			"web": pulumi.String("123456789012.dkr.ecr.us-west-2.amazonaws.com/s/web"),
		},
		Services: []Service{api, web},
		Active:   "blue",
		Versions: map[string]string{"blue": "v1.0.0", "green": "v1.1.0"},
		TargetGroupARNs: pulumi.StringMap{
			"api-blue": pulumi.String("arn:tg/api-blue"), "api-green": pulumi.String("arn:tg/api-green"),
			"web-blue": pulumi.String("arn:tg/web-blue"), "web-green": pulumi.String("arn:tg/web-green"),
		},
		LoadBalancerCIDRs: []string{"10.0.128.0/22"},
		DataCIDRs:         []string{"10.0.200.0/24"},
		Secrets: map[string]Secret{
			"postgres": {Name: pulumi.String("arn:sm/app"), ARN: pulumi.String("arn:sm/app")},
		},
		DatabaseUsers: &DatabaseUsers{
			Image:           "public.ecr.aws/docker/library/postgres:16.10-alpine@sha256:" + strings.Repeat("a", 64),
			MasterSecret:    Secret{Name: pulumi.String("arn:sm/rds!db-1"), ARN: pulumi.String("arn:sm/rds!db-1")},
			Host:            pulumi.String("db.example.internal"),
			DBName:          pulumi.String("app"),
			App:             pulumi.ToSecret(pulumi.StringMap{"username": pulumi.String("scalemate_app"), "verifier": pulumi.String("SCRAM-SHA-256$4096:x$y:z")}).(pulumi.StringMapOutput),
			NamespaceLabels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
			Revision:        pulumi.String("v1"),
		},
		ConfigMapName: pulumi.String("scalemate-app-config"),
	}
}

// get walks a registered input (mocktest.Get).
var get = mocktest.Get

func run(t *testing.T, args Args) *mocktest.Recorder {
	t.Helper()
	return mocktest.MustComponent(t, New, "app", args)
}

func TestColoursWithAVersionRun(t *testing.T) {
	args := baseArgs()
	args.Versions = map[string]string{"blue": "v1.0.0"}
	rec := run(t, args)
	assert.Len(t, rec.OfType(tDeployment), 2, "blue only: api and web")
	assert.Len(t, rec.OfType(tTGB), 4, "both colours are bound, so pods of a new colour get their readiness gate")
	assert.Len(t, rec.OfType(tHPA), 2)
	assert.Len(t, rec.OfType(tPDB), 2)

	rec = run(t, baseArgs())
	assert.Len(t, rec.OfType(tDeployment), 4)
	green := rec.Must(t, tDeployment, "app-api-green")
	pod := get(green.Input("spec"), "template", "spec")
	assert.Equal(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/s/api:v1.1.0", get(pod, "containers", 0, "image"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "api", "scalemate.io/colour": "green"}, get(green.Input("spec"), "selector", "matchLabels"))
	assert.Equal(t, "v1.1.0", get(green.Input("spec"), "template", "metadata", "labels", "app.kubernetes.io/version"))
}

func TestDigestVersion(t *testing.T) {
	args := baseArgs()
	digest := "sha256:" + strings.Repeat("b", 64)
	args.Versions = map[string]string{"blue": digest}
	rec := run(t, args)
	d := rec.Must(t, tDeployment, "app-web-blue")
	assert.Equal(t, "123456789012.dkr.ecr.us-west-2.amazonaws.com/s/web@"+digest, get(d.Input("spec"), "template", "spec", "containers", 0, "image"))
	assert.Equal(t, "sha256-"+strings.Repeat("b", 56), get(d.Input("metadata"), "labels", "app.kubernetes.io/version"), "a label value of at most 63")
	var name string
	for _, j := range rec.OfType(tJob) {
		if strings.HasPrefix(j.Name, "app-api-migrate-blue") {
			name = get(j.Input("metadata"), "name").(string)
		}
	}
	assert.LessOrEqual(t, len(name), 63)
	assert.True(t, strings.HasPrefix(name, "api-migrate-blue-sha256-"), name)
}

func TestPodSpec(t *testing.T) {
	rec := run(t, baseArgs())
	d := rec.Must(t, tDeployment, "app-api-blue")
	spec := d.Input("spec")
	pod := get(spec, "template", "spec")
	c := get(pod, "containers", 0)
	assert.Equal(t, "api", get(pod, "serviceAccountName"))
	assert.Equal(t, false, get(pod, "automountServiceAccountToken"))
	assert.Equal(t, 10001.0, get(pod, "securityContext", "runAsUser"))
	assert.Equal(t, "/ready", get(c, "readinessProbe", "httpGet", "path"))
	assert.Equal(t, "/live", get(c, "livenessProbe", "httpGet", "path"))
	assert.Equal(t, "/live", get(c, "startupProbe", "httpGet", "path"))
	assert.Equal(t, 15.0, get(c, "lifecycle", "preStop", "sleep", "seconds"), "serve until the load balancer has deregistered the pod")
	assert.Equal(t, 45.0, get(pod, "terminationGracePeriodSeconds"))
	assert.Equal(t, "scalemate-app-config", get(c, "envFrom", 0, "configMapRef", "name"))
	env := map[string]any{}
	for _, e := range get(c, "env").([]any) {
		env[get(e, "name").(string)] = get(e, "value")
	}
	assert.Equal(t, map[string]any{"PORT": "8080", "RELEASE_COLOUR": "blue", "RELEASE_VERSION": "v1.0.0", "SECRETS_DIR": SecretsDir}, env)
	assert.Equal(t, "api-postgres", get(pod, "volumes", 1, "secret", "secretName"))
	assert.Equal(t, SecretsDir+"/postgres", get(c, "volumeMounts", 1, "mountPath"))
	assert.Nil(t, get(c, "volumeMounts", 1, "subPath"), "subPath mounts never see a rotation")
	assert.Equal(t, "256Mi", get(pod, "volumes", 0, "emptyDir", "sizeLimit"))

	hpa := rec.Must(t, tHPA, "app-api-blue")
	assert.Equal(t, 2.0, get(hpa.Input("spec"), "minReplicas"))
	assert.Equal(t, 6.0, get(hpa.Input("spec"), "maxReplicas"))
	assert.Equal(t, "api-blue", get(hpa.Input("spec"), "scaleTargetRef", "name"))
	pdb := rec.Must(t, tPDB, "app-api-blue")
	assert.Equal(t, 1.0, get(pdb.Input("spec"), "maxUnavailable"))
}

// Objects are created in the order the release needs: secrets and bindings, then the
// migration, then the Deployment; Ready lists what the traffic switch waits for.
func TestOrdering(t *testing.T) {
	var ready []pulumi.Resource
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		a, err := New(ctx, "app", baseArgs())
		if err != nil {
			return err
		}
		ready = a.Ready
		return nil
	})
	require.NoError(t, err)
	green := rec.Must(t, tDeployment, "app-api-green")
	for _, dep := range []mocktest.Resource{rec.Must(t, tJob, "app-api-migrate-green-v1-1-0"), rec.Must(t, tTGB, "app-api-green-tgb"),
		rec.Must(t, tExternal, "app-api-postgres"), rec.Must(t, tJob, "app-database-users"), rec.Must(t, tHPA, "app-api-green")} {
		assert.Contains(t, green.Dependencies, dep.URN)
	}
	assert.Equal(t, "api-green", get(rec.Must(t, tHPA, "app-api-green").Input("spec"), "scaleTargetRef", "name"), "the autoscaler names the Deployment before it exists")
	assert.Len(t, ready, 4*2+2+1, "4 Deployments with their autoscalers, 2 migration Jobs and the database-users Job")
	// Peers switch to the active colour once it is rolled out.
	stable := rec.Must(t, tService, "app-api")
	assert.Contains(t, stable.Dependencies, rec.Must(t, tDeployment, "app-api-blue").URN)
	assert.NotContains(t, stable.Dependencies, green.URN)
}

func TestMigrationJob(t *testing.T) {
	rec := run(t, baseArgs())
	job := rec.Must(t, tJob, "app-api-migrate-green-v1-1-0")
	assert.Equal(t, "api-migrate-green-v1-1-0", get(job.Input("metadata"), "name"), "per colour: two colours of one version never share a Job")
	assert.Equal(t, "true", get(job.Input("metadata"), "annotations", "pulumi.com/replaceUnready"))
	assert.Equal(t, []string{"spec"}, job.IgnoreChanges, "only a new version (a new name) runs migrations again")
	spec := job.Input("spec")
	assert.Equal(t, 1.0, get(spec, "backoffLimit"))
	assert.Equal(t, "Never", get(spec, "template", "spec", "restartPolicy"))
	assert.Equal(t, []any{"/app/migrate"}, get(spec, "template", "spec", "containers", 0, "command"))
	assert.Equal(t, "scalemate-app-config", get(spec, "template", "spec", "containers", 0, "envFrom", 0, "configMapRef", "name"), "migrations see the same config as the service")
	assert.Equal(t, "migration", get(spec, "template", "metadata", "labels", "app.kubernetes.io/component"))
	assert.Nil(t, get(spec, "template", "metadata", "labels", "scalemate.io/colour"), "a Job's pod is never a Service's endpoint")
	for _, j := range rec.OfType(tJob) {
		assert.NotContains(t, j.Name, "web-migrate", "web has no migration")
	}
}

func TestBindings(t *testing.T) {
	rec := run(t, baseArgs())
	tgb := rec.Must(t, tTGB, "app-web-green-tgb")
	assert.Equal(t, "arn:tg/web-green", get(tgb.Input("spec"), "targetGroupARN"))
	assert.Equal(t, "ip", get(tgb.Input("spec"), "targetType"))
	assert.Equal(t, map[string]any{"name": "web-green", "port": 8080.0}, get(tgb.Input("spec"), "serviceRef"))
	assert.True(t, tgb.DeleteBeforeReplace, "one binding per target group: the old one goes first")
	svc := rec.Must(t, tService, "app-web-green")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "web", "scalemate.io/colour": "green"}, get(svc.Input("spec"), "selector"))
	stable := rec.Must(t, tService, "app-api")
	assert.Equal(t, "blue", get(stable.Input("spec"), "selector", "scalemate.io/colour"), "peers reach the active colour")
	_, ok := rec.Named(tService, "app-web")
	assert.False(t, ok, "nobody calls web inside the cluster")
}

func TestSecretsThroughTheServiceIdentity(t *testing.T) {
	rec := run(t, baseArgs())
	store := rec.Must(t, tStore, "app-api-secrets")
	aws := get(store.Input("spec"), "provider", "aws")
	assert.Equal(t, "SecretsManager", get(aws, "service"))
	assert.Equal(t, "us-west-2", get(aws, "region"))
	assert.Equal(t, "api", get(aws, "auth", "jwt", "serviceAccountRef", "name"))
	es := rec.Must(t, tExternal, "app-api-postgres")
	assert.Equal(t, "arn:sm/app", get(es.Input("spec"), "dataFrom", 0, "extract", "key"))
	assert.Equal(t, "api-postgres", get(es.Input("spec"), "target", "name"))
	_, ok := rec.Named(tStore, "app-web-secrets")
	assert.False(t, ok, "web reads no secret")

	role := rec.Must(t, tRole, "app-api")
	assert.Contains(t, role.Input("assumeRolePolicy"), "system:serviceaccount:scalemate:api")
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(get(role.Input("inlinePolicies"), 0, "policy").(string)), &doc))
	assert.Equal(t, []any{"arn:sm/app"}, doc.Statement[0].Resource)
	assert.Equal(t, "arn:sm/app", doc.Statement[1].Condition["StringLike"]["kms:EncryptionContext:SecretARN"])
	assert.Equal(t, "secretsmanager.us-west-2.amazonaws.com", doc.Statement[1].Condition["StringEquals"]["kms:ViaService"])

	assert.Equal(t, "condition=Ready", get(es.Input("metadata"), "annotations", "pulumi.com/waitFor"), "pods never start before their secrets")
}

// The master login (the RDS-managed secret) reaches only the database-users Job, in a namespace
// of its own, synced by the Job's own identity, which may read that secret alone; the
// application's password is set by its SCRAM verifier.
func TestDatabaseUsersJob(t *testing.T) {
	rec := run(t, baseArgs())
	role := rec.Must(t, tRole, "app-database-users")
	assert.Contains(t, role.Input("assumeRolePolicy"), "system:serviceaccount:scalemate-database-users:database-users")
	ns := rec.Must(t, "kubernetes:core/v1:Namespace", "app-database-users")
	assert.Equal(t, "restricted", get(ns.Input("metadata"), "labels", "pod-security.kubernetes.io/enforce"))
	app := rec.Must(t, "kubernetes:core/v1:Secret", "app-database-users-app")
	assert.Equal(t, "scalemate-database-users", get(app.Input("metadata"), "namespace"), "never in the application's namespace")
	assert.True(t, app.Inputs["stringData"].ContainsSecrets(), "the app login stays a Pulumi secret")
	assert.Contains(t, app.Dependencies, ns.URN)
	_, written := rec.Named("kubernetes:core/v1:Secret", "app-database-users-master")
	assert.False(t, written, "Pulumi never holds the master password")
	master := rec.Must(t, "kubernetes:external-secrets.io/v1:ExternalSecret", "app-database-users-master")
	assert.Equal(t, "scalemate-database-users", get(master.Input("metadata"), "namespace"))
	assert.Equal(t, "arn:sm/rds!db-1", get(master.Input("spec"), "dataFrom", 0, "extract", "key"))
	assert.Equal(t, map[string]any{"host": "db.example.internal", "port": "5432", "dbname": "app"}, get(master.Input("spec"), "target", "template", "data"))
	assert.Equal(t, "Merge", get(master.Input("spec"), "target", "template", "mergePolicy"), "the secret's username and password stay")
	assert.Contains(t, rec.Must(t, "kubernetes:core/v1:ServiceAccount", "app-database-users").Dependencies, ns.URN)
	job := rec.Must(t, tJob, "app-database-users")
	assert.Equal(t, "scalemate-database-users", get(job.Input("metadata"), "namespace"))
	assert.Equal(t, "true", get(job.Input("metadata"), "annotations", "pulumi.com/replaceUnready"), "a failed run is retried by the next up")
	c := get(job.Input("spec"), "template", "spec", "containers", 0)
	assert.Contains(t, get(c, "image"), "@sha256:")
	script := get(c, "command", 2).(string)
	assert.Contains(t, script, "CREATE ROLE")
	assert.Contains(t, script, "PASSWORD :'app_verifier'", "the password never reaches the server as text")
	assert.Contains(t, script, `PGSSLMODE=verify-full PGSSLROOTCERT="$ca"`, "the server certificate is verified")
	assert.Contains(t, script, `ca=/tmp/rds-ca.pem`, "against RDS's own CAs unless the master secret brings one (Local)")
	assert.NotContains(t, script, "SUPERUSER", "an rds_superuser may not name the SUPERUSER attribute")
	assert.Nil(t, get(c, "envFrom"), "the application's ConfigMap is not in this namespace")
	assert.Equal(t, "/var/run/secrets/scalemate/master", get(c, "volumeMounts", 1, "mountPath"))

	// A new login revision runs the Job again (a new name).
	args := baseArgs()
	args.DatabaseUsers.Revision = pulumi.String("v2")
	other := run(t, args).Must(t, tJob, "app-database-users")
	assert.NotEqual(t, get(job.Input("metadata"), "name"), get(other.Input("metadata"), "name"))

	deny := rec.Must(t, tPolicy, "app-database-users-default-deny").Input("spec")
	assert.Equal(t, []any{"Ingress", "Egress"}, get(deny, "policyTypes"))
	allow := rec.Must(t, tPolicy, "app-database-users-allow-egress").Input("spec")
	assert.Equal(t, []any{"Egress"}, get(allow, "policyTypes"))
	assert.Equal(t, 5432.0, get(allow, "egress", 2, "ports", 0, "port"))
	assert.Equal(t, "10.0.200.0/24", get(allow, "egress", 2, "to", 0, "ipBlock", "cidr"))
}

func TestNetworkPolicies(t *testing.T) {
	rec := run(t, baseArgs())
	api := rec.Must(t, tPolicy, "app-api-flows").Input("spec")
	assert.Equal(t, []any{"Ingress", "Egress"}, get(api, "policyTypes"))
	assert.Equal(t, "10.0.128.0/22", get(api, "ingress", 0, "from", 0, "ipBlock", "cidr"))
	assert.Equal(t, "web", get(api, "ingress", 1, "from", 0, "podSelector", "matchLabels", "app.kubernetes.io/name"))
	assert.Equal(t, 5432.0, get(api, "egress", 0, "ports", 0, "port"))
	web := rec.Must(t, tPolicy, "app-web-flows").Input("spec")
	assert.Equal(t, "api", get(web, "egress", 0, "to", 0, "podSelector", "matchLabels", "app.kubernetes.io/name"))
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"oidc":        {func(a *Args) { a.OIDCProviderARN = nil }, "OIDCProviderARN: must be set"},
		"tg":          {func(a *Args) { a.TargetGroupARNs = nil }, "TargetGroupARNs: must be set when a service is routed"},
		"namespace":   {func(a *Args) { a.Namespace = "Scale Mate" }, `Namespace: "Scale Mate" is not a namespace name`},
		"colour":      {func(a *Args) { a.Versions = map[string]string{"red": "v1"} }, `Versions: "red" is not a colour`},
		"latest":      {func(a *Args) { a.Versions = map[string]string{"blue": "latest"} }, `Versions[blue]: "latest" is not an immutable image tag or digest`},
		"active":      {func(a *Args) { a.Active = "purple" }, `Active: "purple" is not allowed`},
		"refresh":     {func(a *Args) { a.SecretRefreshInterval = "soon" }, `SecretRefreshInterval: "soon" is not a duration`},
		"no services": {func(a *Args) { a.Services = nil }, "Services: at least one service is required"},
		"name":        {func(a *Args) { a.Services[0].Name = "API" }, `Services[0].Name: "API" is not a DNS label`},
		"twice":       {func(a *Args) { a.Services[1].Name = "api" }, `Services[1].Name: "api" is listed twice`},
		"port":        {func(a *Args) { a.Services[0].Port = 80 }, "Services[0].Port: 80 is out of range"},
		"probe":       {func(a *Args) { a.Services[0].ReadinessPath = "" }, `Services[0].ReadinessPath: "" is not an HTTP path`},
		"quantity":    {func(a *Args) { a.Services[0].Memory = "1GB" }, `Services[0].Memory: "1GB" is not a positive Kubernetes quantity`},
		"replicas":    {func(a *Args) { a.Services[0].MinReplicas = 0 }, "Services[0].MinReplicas: must be at least 1"},
		"secret":      {func(a *Args) { a.Services[0].Secrets = []string{"stripe"} }, `Services[0].Secrets: "stripe" is not a key of Secrets`},
		"peer":        {func(a *Args) { a.Services[0].Peers = []string{"api"} }, `Services[0].Peers: "api" is not another service`},
		"env":         {func(a *Args) { a.Services[0].Env = map[string]string{"1X": "y"} }, `Services[0].Env: "1X" is not an environment variable name`},
		"lb cidrs":    {func(a *Args) { a.LoadBalancerCIDRs = nil }, "Services[0].Routed: needs LoadBalancerCIDRs"},
		"data cidrs":  {func(a *Args) { a.DataCIDRs = nil }, "Services[0]: reads the database or cache but DataCIDRs is empty"},
		"unpinned":    {func(a *Args) { a.DatabaseUsers.Image = "postgres:16" }, `DatabaseUsers.Image: "postgres:16" is not pinned by digest`},
		"users ns":    {func(a *Args) { a.DatabaseUsers.Namespace = "scalemate" }, `DatabaseUsers.Namespace: "scalemate" is not a namespace name other than Namespace`},
		"users psa":   {func(a *Args) { a.DatabaseUsers.NamespaceLabels = nil }, "DatabaseUsers.NamespaceLabels: must enforce Pod Security restricted"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			args.Services = append([]Service(nil), args.Services...)
			users := *args.DatabaseUsers
			args.DatabaseUsers = &users
			c.edit(&args)
			rec, err := mocktest.Component(New, "app", args)
			rec.Refused(t, err, `invalid app args for "app"`, c.want)
		})
	}
}

// Check leaves out what other components wire in (secrets among them).
func TestCheckSkipsWiredInputs(t *testing.T) {
	args := baseArgs()
	args.Secrets = nil
	assert.NoError(t, args.Check("app"))
	args.Versions = map[string]string{"blue": "main"}
	assert.ErrorContains(t, args.Check("app"), `Versions[blue]: "main" is not an immutable image tag or digest`)
}

func TestJobName(t *testing.T) {
	assert.Equal(t, "api-migrate-v1-2-3", jobName("api-migrate", "v1.2.3"))
	long := jobName("notification-migrate", "sha256:"+strings.Repeat("c", 64))
	assert.Len(t, long, 63)
	assert.NotEqual(t, long, jobName("notification-migrate", "sha256:"+strings.Repeat("d", 64)), "a cut name keeps a hash of the whole")
}
