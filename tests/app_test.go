package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/stacks"
)

const (
	typeLB         = "aws:lb/loadBalancer:LoadBalancer"
	typeTG         = "aws:lb/targetGroup:TargetGroup"
	typeRule       = "aws:lb/listenerRule:ListenerRule"
	typeDeployment = "kubernetes:apps/v1:Deployment"
	typeHPA        = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	typePDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	typeJob        = "kubernetes:batch/v1:Job"
	typeTGB        = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
	typeExtSecret  = "kubernetes:external-secrets.io/v1:ExternalSecret"
)

// dig walks nested maps and lists: dig(v, "spec", "template", 0).
// dig walks a registered input (mocktest.Get).
var dig = mocktest.Get

// plainText reports whether s occurs in v outside a secret.
func plainText(v resource.PropertyValue, s string) bool {
	switch {
	case v.IsSecret():
		return false
	case v.IsOutput():
		return plainText(v.OutputValue().Element, s)
	case v.IsString():
		return strings.Contains(v.StringValue(), s)
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			if plainText(e, s) {
				return true
			}
		}
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if plainText(e, s) {
				return true
			}
		}
	}
	return false
}

// weights are a listener rule's target groups (by colour suffix) and weights.
func weights(t *testing.T, rule mocktest.Resource) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, g := range dig(rule.Input("actions"), 0, "forward", "targetGroups").([]any) {
		arn := dig(g, "arn").(string)
		out[arn[strings.LastIndex(arn, "-")+1:]] = dig(g, "weight").(float64)
	}
	return out
}

func withRelease(release string) func(cfg map[string]string) {
	return func(cfg map[string]string) { cfg[stacks.KeyApp] = `{"release":` + release + `}` }
}

// The committed stacks serve blue v1.0.0 through the load balancer behind the CDN.
func TestApplicationPerTier(t *testing.T) {
	minReplicas := map[string]float64{"dev": 1, "staging": 2, "prod": 3}
	for stack, protected := range map[string]bool{"dev": false, "staging": true, "prod": true} {
		t.Run(stack, func(t *testing.T) {
			rec := mustRunStack(t, stack)
			prefix := "scalemate-" + stack
			lb := rec.Must(t, typeLB, prefix)
			assert.Equal(t, protected, lb.Input("enableDeletionProtection"), "deletion protection outside dev")
			assert.Len(t, rec.OfType(typeTG), 4, "api and web, blue and green")
			assert.Len(t, rec.OfType(typeTGB), 4)
			for _, svc := range []string{"api", "web"} {
				rule := rec.Must(t, typeRule, prefix+"-"+svc)
				assert.Equal(t, map[string]float64{"blue": 100, "green": 0}, weights(t, rule), svc)
				for _, d := range rec.OfType(typeDeployment) {
					assert.Contains(t, rule.Dependencies, d.URN, "%s's traffic moves after %s is ready", svc, d.Name)
				}
				for _, j := range rec.OfType(typeJob) {
					assert.Contains(t, rule.Dependencies, j.URN, "%s's traffic moves after %s", svc, j.Name)
				}
			}
			var deployments []string
			for _, d := range rec.OfType(typeDeployment) {
				deployments = append(deployments, d.Name)
			}
			assert.ElementsMatch(t, []string{prefix + "-app-api-blue", prefix + "-app-web-blue", prefix + "-app-worker-blue"}, deployments,
				"green runs nothing until it has a version")
			for _, h := range rec.OfType(typeHPA) {
				assert.Equal(t, minReplicas[stack], dig(h.Input("spec"), "minReplicas"), h.Name)
			}
			assert.Len(t, rec.OfType(typePDB), 3)

			// The CDN's origin is the load balancer's name, and the rule checks the CDN's header.
			d := rec.Must(t, typeDistribution, prefix)
			origin := dig(d.Input("origins"), 0).(map[string]any)
			header := dig(origin, "customHeaders", 0, "value")
			rule := rec.Must(t, typeRule, prefix+"-web")
			assert.Equal(t, header, dig(rule.Input("conditions"), 0, "httpHeader", "values", 0), "the rule admits what the CDN sends")
			alias := rec.Must(t, "aws:route53/record:Record", prefix)
			assert.Equal(t, origin["domainName"], alias.Input("name"))

			// The origin's web ACL judges content only: every source address is CloudFront's.
			acl := rec.Must(t, typeWebACL, prefix+"-origin")
			assert.Equal(t, "REGIONAL", acl.Input("scope"))
			for _, r := range acl.Input("rules").([]any) {
				assert.NotContains(t, []string{"rate-limit-per-ip", "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList"}, dig(r, "name"))
			}
			assoc := rec.Must(t, "aws:wafv2/webAclAssociation:WebAclAssociation", prefix)
			assert.Equal(t, "arn:aws:wafv2:us-west-2:123456789012:"+prefix+"-origin", assoc.Input("webAclArn"))
		})
	}
}

// Every container passes Pod Security "restricted", runs an immutable image of the stack's own
// repository, probes, requests and limits, and spreads over zones.
func TestWorkloadsAreHardened(t *testing.T) {
	rec := mustRunStack(t, "prod")
	for _, d := range rec.OfType(typeDeployment) {
		pod := dig(d.Input("spec"), "template", "spec")
		c := dig(pod, "containers", 0)
		assert.Regexp(t, `^123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com/scalemate-prod/(api|web|worker):v1\.0\.0$`, dig(c, "image"), d.Name)
		for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
			assert.NotNil(t, dig(c, probe, "httpGet", "path"), "%s %s", d.Name, probe)
		}
		for _, r := range []string{"requests", "limits"} {
			assert.NotEmpty(t, dig(c, "resources", r, "cpu"), d.Name)
			assert.NotEmpty(t, dig(c, "resources", r, "memory"), d.Name)
		}
		sc := dig(c, "securityContext")
		assert.Equal(t, false, dig(sc, "allowPrivilegeEscalation"), d.Name)
		assert.Equal(t, true, dig(sc, "readOnlyRootFilesystem"), d.Name)
		assert.Equal(t, true, dig(sc, "runAsNonRoot"), d.Name)
		assert.Equal(t, []any{"ALL"}, dig(sc, "capabilities", "drop"), d.Name)
		assert.Equal(t, "RuntimeDefault", dig(pod, "securityContext", "seccompProfile", "type"), d.Name)
		assert.Equal(t, "/tmp", dig(c, "volumeMounts", 0, "mountPath"), "%s: /tmp is the only writable path", d.Name)
		assert.Equal(t, "topology.kubernetes.io/zone", dig(pod, "topologySpreadConstraints", 0, "topologyKey"), d.Name)
		assert.Equal(t, 0.0, dig(d.Input("spec"), "strategy", "rollingUpdate", "maxUnavailable"), "%s: new pods before old ones go", d.Name)
		assert.Nil(t, dig(d.Input("spec"), "replicas"), "%s: the autoscaler owns the count", d.Name)
		assert.Equal(t, "scalemate", dig(d.Input("metadata"), "namespace"))
	}
}

// Each service reads its own secrets through a role of its own; only the database-users Job
// can read the master login.
func TestSecretsPerServiceIdentity(t *testing.T) {
	rec := mustRunStack(t, "dev")
	reads := func(role string) []string {
		r := rec.Must(t, "aws:iam/role:Role", role)
		policies, _ := r.Input("inlinePolicies").([]any)
		if len(policies) == 0 {
			return nil
		}
		var doc iampolicy.Document
		require.NoError(t, json.Unmarshal([]byte(dig(policies, 0, "policy").(string)), &doc))
		var out []string
		for _, s := range doc.Statement {
			if s.Sid == "ReadOwnSecrets" {
				for _, arn := range s.Resource.([]any) {
					out = append(out, arn.(string))
				}
			}
		}
		return out
	}
	const arn = "arn:aws:secretsmanager:us-west-2:123456789012:"
	assert.ElementsMatch(t, []string{arn + "scalemate-dev-app", arn + "scalemate-dev-cache-auth"}, reads("scalemate-dev-app-api"))
	assert.ElementsMatch(t, []string{arn + "scalemate-dev-app", arn + "scalemate-dev-cache-auth"}, reads("scalemate-dev-app-worker"))
	assert.Empty(t, reads("scalemate-dev-app-web"), "web reads no secret")
	// Only the database-users Job's identity reads the (RDS-managed) master secret, and nothing else.
	assert.Equal(t, []string{"arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db-scalemate-dev-AbCdEf"}, reads("scalemate-dev-app-database-users"))
	assert.Contains(t, rec.Must(t, "aws:iam/role:Role", "scalemate-dev-app-api").Input("assumeRolePolicy"), "system:serviceaccount:scalemate:api")

	es := rec.Must(t, typeExtSecret, "scalemate-dev-app-api-postgres")
	assert.Equal(t, arn+"scalemate-dev-app", dig(es.Input("spec"), "dataFrom", 0, "extract", "key"))
	assert.Equal(t, "api", dig(es.Input("spec"), "secretStoreRef", "name"))
	api := rec.Must(t, typeDeployment, "scalemate-dev-app-api-blue")
	pod := dig(api.Input("spec"), "template", "spec")
	assert.Equal(t, "api-postgres", dig(pod, "volumes", 1, "secret", "secretName"))
	assert.Equal(t, "/var/run/secrets/scalemate/postgres", dig(pod, "containers", 0, "volumeMounts", 1, "mountPath"), "a directory mount follows rotation")
	cm := rec.Must(t, "kubernetes:core/v1:ConfigMap", "scalemate-dev-app-config")
	for k := range cm.Input("data").(map[string]any) {
		assert.NotContains(t, k, "SECRET", "no secret reference left in the ConfigMap")
	}
	// The passwords appear nowhere but inside Pulumi secrets (encrypted in state).
	for _, r := range rec.All() {
		for _, pw := range []string{"fake-scalemate-dev-app-Aa1!", "fake-scalemate-dev-master-Aa1!", "SCRAM-SHA-256$"} {
			assert.False(t, plainText(resource.NewObjectProperty(r.Inputs), pw), "%s %s holds a password outside a secret", r.Type, r.Name)
		}
	}
}

// Network policies open each service's flows only.
func TestServiceFlows(t *testing.T) {
	rec := mustRunStack(t, "dev")
	api := rec.Must(t, typeNetPol, "scalemate-dev-app-api-flows")
	spec := api.Input("spec")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "api"}, dig(spec, "podSelector", "matchLabels"))
	assert.Equal(t, []any{
		map[string]any{"ipBlock": map[string]any{"cidr": "10.10.128.0/22"}}, map[string]any{"ipBlock": map[string]any{"cidr": "10.10.132.0/22"}},
	}, dig(spec, "ingress", 0, "from"), "the load balancer's public subnets only")
	var public []any
	for _, sn := range rec.OfType("aws:ec2/subnet:Subnet") {
		if strings.Contains(sn.Name, "public") {
			public = append(public, sn.Input("cidrBlock"))
		}
	}
	assert.ElementsMatch(t, []any{"10.10.128.0/22", "10.10.132.0/22"}, public, "the same blocks as the network's public subnets")
	assert.Equal(t, []any{
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "web"}}},
		map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "worker"}}},
	}, dig(spec, "ingress", 1, "from"), "declared peers")
	var ports []any
	for _, e := range dig(spec, "egress").([]any) {
		ports = append(ports, dig(e, "ports", 0, "port"))
	}
	assert.ElementsMatch(t, []any{5432.0, 6379.0}, ports)

	web := rec.Must(t, typeNetPol, "scalemate-dev-app-web-flows")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "api"}, dig(web.Input("spec"), "egress", 0, "to", 0, "podSelector", "matchLabels"), "web may call api")
	assert.Len(t, dig(web.Input("spec"), "egress"), 1, "web reaches no data store")
}

// A canary: green runs a new version and takes 10 %, after its migration Job and rollout.
func TestCanaryAndPromotion(t *testing.T) {
	rec, err := runStack(t, "staging", withRelease(`{"active":"blue","blue":{"version":"v1.0.0"},"green":{"version":"v1.1.0"},"canaryPercent":10}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"blue": 90, "green": 10}, weights(t, rec.Must(t, typeRule, "scalemate-staging-api")))
	green := rec.Must(t, typeDeployment, "scalemate-staging-app-api-green")
	assert.Contains(t, dig(green.Input("spec"), "template", "spec", "containers", 0, "image"), ":v1.1.0")
	job := rec.Must(t, typeJob, "scalemate-staging-app-api-migrate-green-v1-1-0")
	assert.Equal(t, "api-migrate-green-v1-1-0", dig(job.Input("metadata"), "name"), "one Job per version and colour")
	assert.Contains(t, green.Dependencies, job.URN, "the new version starts after its migration")
	assert.Contains(t, rec.Must(t, typeRule, "scalemate-staging-api").Dependencies, green.URN)
	tgb := rec.Must(t, typeTGB, "scalemate-staging-app-api-green-tgb")
	assert.Contains(t, green.Dependencies, tgb.URN, "pods get their readiness gate only if the binding exists first")

	rec, err = runStack(t, "staging", withRelease(`{"active":"green","blue":{"version":"v1.0.0"},"green":{"version":"v1.1.0"}}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"blue": 0, "green": 100}, weights(t, rec.Must(t, typeRule, "scalemate-staging-web")))
	rec.Must(t, typeDeployment, "scalemate-staging-app-web-blue") // kept for an instant rollback
	svc := rec.Must(t, "kubernetes:core/v1:Service", "scalemate-staging-app-api")
	assert.Equal(t, "green", dig(svc.Input("spec"), "selector", "scalemate.io/colour"), "peers follow the active colour")
}

// Without any version the load balancer answers with its maintenance page.
func TestFirstDeployServesMaintenance(t *testing.T) {
	rec, err := runStack(t, "dev", withRelease(`{}`))
	require.NoError(t, err)
	assert.Empty(t, rec.OfType(typeDeployment))
	assert.Len(t, rec.OfType(typeTGB), 4, "bindings exist before any pod")
	action := dig(rec.Must(t, typeRule, "scalemate-dev-api").Input("actions"), 0)
	assert.Equal(t, "fixed-response", dig(action, "type"))
	assert.Equal(t, "503", dig(action, "fixedResponse", "statusCode"))
}

func TestBadReleaseConfigRegistersNothing(t *testing.T) {
	for _, c := range []struct{ value, want string }{
		{`{"release":{"canaryPercent":120,"green":{"version":"v2.0.0"},"blue":{"version":"v1.0.0"}}}`, "scalemate:app.release.canaryPercent: 120 is out of range; allowed 0 to 100"},
		{`{"release":{"active":"red"}}`, `scalemate:app.release.active: "red" is not allowed; use one of blue, green`},
		{`{"release":{"blue":{"version":"latest"}}}`, `scalemate:app.release.blue.version: "latest" is not an immutable version`},
		{`{"release":{"blue":{"version":"v1.0.0"},"canaryPercent":10}}`, "scalemate:app.release.canaryPercent: 10% would go to green, which runs no version"},
		{`{"release":{"active":"green","blue":{"version":"v1.0.0"}}}`, "scalemate:app.release.active: green runs no version but blue runs v1.0.0"},
		{`{"release":{"blue":{"colour":"x"}}}`, `scalemate:app: unknown field "colour"`},
		{`{"services":{"api":{"route":"/*"}}}`, "scalemate:app.services.api.readinessPath: must be set"},
		{`{"services":{"api":{"readinessPath":"/ready","route":"/*","secrets":["stripe"]}}}`, `scalemate:app.services.api.secrets[0]: "stripe" is not a secret of this stack`},
		{`{"services":{"api":{"readinessPath":"/ready","route":"/*"}},"secrets":{"stripe":"arn:aws:secretsmanager:us-west-2:1:secret:x"}}`, `scalemate:app.secrets.stripe: "arn:aws:secretsmanager:us-west-2:1:secret:x" is an ARN`},
		{`{"services":{"api":{"readinessPath":"/ready","route":"/*"}},"secrets":{"stripe":"prod/stripe key"}}`, `scalemate:app.secrets.stripe: "prod/stripe key" is not a Secrets Manager name`},
		{`{"services":{"api":{"readinessPath":"/ready","route":"/*","peers":["billing"]}}}`, `scalemate:app.services.api.peers[0]: "billing" is not another service`},
		{`{"services":{"api":{"readinessPath":"/ready","route":"/*"},"web":{"readinessPath":"/ready","route":"/*"}}}`, `scalemate:app.services.web.route: "/*" is also the route of api`},
		{`{"services":{"api":{"readinessPath":"/ready","image":"billing","route":"/*"}}}`, `scalemate:app.services.api.image: "billing" is not one of scalemate:app.images`},
		{`{"services":{"worker":{"readinessPath":"/ready"}}}`, "scalemate:app.services: no service has a route"},
		{`{"services":{"api":{"readinessPath":"/ready","route":"/*","cpu":"2","cpuLimit":"1"}}}`, "scalemate:app.services.api.cpu: 2 is more than cpuLimit 1"},
		{`{"services":{"notifications-svc":{"readinessPath":"/ready","route":"/*"}}}`, `"notifications-svc" is not a service name`},
	} {
		t.Run(c.want, func(t *testing.T) {
			rec, err := runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyApp] = c.value })
			rec.Refused(t, err, c.want)
		})
	}
	// A routed prod service keeps two pods per colour.
	rec, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyApp] = `{"services":{"api":{"readinessPath":"/ready","route":"/*","minReplicas":1}},"release":{"blue":{"version":"v1.0.0"}}}`
	})
	rec.Refused(t, err, "scalemate:app.services.api.minReplicas: 1: a routed prod service keeps at least 2 pods per colour")
}

// Secrets the stack names but does not own are read by ARN pattern of their name.
func TestNamedSecrets(t *testing.T) {
	rec, err := runStack(t, "dev", func(cfg map[string]string) {
		cfg[stacks.KeyApp] = `{"services":{"api":{"readinessPath":"/ready","route":"/*","secrets":["stripe"]}},"secrets":{"stripe":"scalemate/dev/stripe"},"release":{"blue":{"version":"v1.0.0"}}}`
	})
	require.NoError(t, err)
	es := rec.Must(t, typeExtSecret, "scalemate-dev-app-api-stripe")
	assert.Equal(t, "scalemate/dev/stripe", dig(es.Input("spec"), "dataFrom", 0, "extract", "key"))
	role := rec.Must(t, "aws:iam/role:Role", "scalemate-dev-app-api")
	assert.Contains(t, dig(role.Input("inlinePolicies"), 0, "policy"), `arn:aws:secretsmanager:us-west-2:123456789012:secret:scalemate/dev/stripe-??????`)
}

// The app namespace's quota holds both colours at their autoscalers' maximum with a rolling
// update's surge and the migration Jobs (dev: 3 services x 2 colours x (2 + 1) pods + 2 Jobs).
func TestAppQuotaHoldsBothColours(t *testing.T) {
	rec := mustRunStack(t, "dev")
	hard := dig(rec.Must(t, "kubernetes:core/v1:ResourceQuota", "scalemate-dev-app").Input("spec"), "hard")
	assert.Equal(t, map[string]any{
		"requests.cpu": "5000m", "requests.memory": "5120Mi", "limits.cpu": "20000m", "limits.memory": "10240Mi", "pods": "30",
	}, hard)
	// Prod's floor is larger than its defaults need.
	rec = mustRunStack(t, "prod")
	assert.Equal(t, "48", dig(rec.Must(t, "kubernetes:core/v1:ResourceQuota", "scalemate-prod-app").Input("spec"), "hard", "requests.cpu"))
}
