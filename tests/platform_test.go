package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/stacks"
)

const (
	typeAlarm     = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeComposite = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	typeNamespace = "kubernetes:core/v1:Namespace"
	typeNetPol    = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeRelease   = "kubernetes:helm.sh/v3:Release"
	typeRepo      = "aws:ecr/repository:Repository"
)

// Every alarm of every stack notifies someone; the thresholds follow the tier.
func TestAlarmsHaveActionsAndTierThresholds(t *testing.T) {
	thresholds := map[string]map[string]float64{
		"dev":     {"postgres-cpu": 90, "nodes-memory": 90, "app-errors": 50, "cdn-5xx": 5},
		"staging": {"postgres-cpu": 85, "nodes-memory": 90, "app-errors": 20, "cdn-5xx": 2, "postgres-replica-lag": 120},
		"prod":    {"postgres-cpu": 80, "nodes-memory": 85, "app-errors": 10, "cdn-5xx": 1, "postgres-replica-lag": 60},
	}
	for stack, want := range thresholds {
		t.Run(stack, func(t *testing.T) {
			rec := mustRunStack(t, stack)
			alarms := append(rec.OfType(typeAlarm), rec.OfType(typeComposite)...)
			require.GreaterOrEqual(t, len(alarms), 18)
			for _, a := range alarms {
				actions, _ := a.Input("alarmActions").([]any)
				assert.NotEmpty(t, actions, "alarm %s has no action", a.Name)
			}
			for key, v := range want {
				assert.EqualValues(t, v, rec.Must(t, typeAlarm, "scalemate-"+stack+"-"+key).Input("threshold"), "%s %s", stack, key)
			}
			_, lag := rec.Named(typeAlarm, "scalemate-"+stack+"-postgres-replica-lag")
			assert.Equal(t, stack != "dev", lag, "replica lag is watched where there are replicas")
			rec.Must(t, typeComposite, "scalemate-"+stack+"-service-unhealthy")
			rec.Must(t, typeComposite, "scalemate-"+stack+"-edge-unhealthy")
			budget := rec.Must(t, "aws:budgets/budget:Budget", "scalemate-"+stack+"-monthly")
			assert.Equal(t, map[string]string{"dev": "400.00", "staging": "1500.00", "prod": "5000.00"}[stack], budget.Input("limitAmount"))
		})
	}
}

// Bad application config is refused with its key before anything is registered.
func TestBadAppConfigRefused(t *testing.T) {
	rec, err := runStack(t, "dev", func(cfg map[string]string) {
		cfg[stacks.KeyApp] = `{"featureFlags":{"apiToken":"abc"}}`
	})
	rec.Refused(t, err, stacks.KeyApp, `"FEATURE_apiToken" looks like a secret`)
	rec, err = runStack(t, "dev", func(cfg map[string]string) {
		cfg[stacks.KeyApp] = `{"images":["API"]}`
	})
	rec.Refused(t, err, stacks.KeyApp+`.services.api.image: "api" is not one of scalemate:app.images (API)`)
	rec, err = runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyOnCallWebhook] = "http://pager.example.com/hook"
	})
	rec.Refused(t, err, stacks.KeyOnCallWebhook+": must be an https:// URL")
}

// A max_connections parameter moves the connections alarm with it.
func TestConnectionsAlarmFollowsMaxConnections(t *testing.T) {
	rec, err := runStack(t, "staging", func(cfg map[string]string) {
		cfg[stacks.KeyPostgres] = `{"parameters":{"max_connections":"500"}}`
	})
	require.NoError(t, err)
	assert.EqualValues(t, 400, rec.Must(t, typeAlarm, "scalemate-staging-postgres-connections").Input("threshold"))
}

// Prod pages through the on-call webhook when one is configured, and keeps it secret.
func TestOnCallWebhookIsASecretSubscription(t *testing.T) {
	rec, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyOnCallWebhook] = "https://events.pagerduty.example/integration/abc123"
	})
	require.NoError(t, err)
	hook := rec.Must(t, "aws:sns/topicSubscription:TopicSubscription", "scalemate-prod-critical-https-0")
	assert.True(t, hook.Inputs["endpoint"].ContainsSecrets())
	assert.Equal(t, "https", hook.Input("protocol"))
	_, dev := mustRunStack(t, "dev").Named("aws:sns/topicSubscription:TopicSubscription", "scalemate-dev-critical-https-0")
	assert.False(t, dev, "no webhook configured, no subscription")
}

// Every namespace the program creates is PSA restricted and denies by default.
func TestNamespacesRestrictedAndDefaultDeny(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		rec := mustRunStack(t, stack)
		namespaces := rec.OfType(typeNamespace)
		require.Len(t, namespaces, 3, stack) // app, platform, database-users
		for _, ns := range namespaces {
			meta := ns.Input("metadata").(map[string]any)
			labels := meta["labels"].(map[string]any)
			for _, mode := range []string{"enforce", "warn", "audit"} {
				assert.Equal(t, "restricted", labels["pod-security.kubernetes.io/"+mode], "%s %s", stack, ns.Name)
			}
			denied := false
			for _, p := range rec.OfType(typeNetPol) {
				pm := p.Input("metadata").(map[string]any)
				spec := p.Input("spec").(map[string]any)
				sel, _ := spec["podSelector"].(map[string]any)
				if pm["namespace"] == meta["name"] && len(sel) == 0 && spec["ingress"] == nil && spec["egress"] == nil {
					assert.ElementsMatch(t, []any{"Ingress", "Egress"}, spec["policyTypes"])
					denied = true
				}
			}
			assert.True(t, denied, "%s: namespace %v has no default-deny policy", stack, meta["name"])
		}
	}
}

// The platform add-ons are pinned Helm releases that roll back a failed upgrade; images are
// immutable and scanned, kept per tier.
func TestAddOnsAndRegistryPerTier(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		rec := mustRunStack(t, stack)
		releases := rec.OfType(typeRelease)
		require.Len(t, releases, 4, stack)
		for _, r := range releases {
			for _, g := range rec.OfType(typeNodeGroup) {
				assert.Contains(t, r.Dependencies, g.URN, "%s waits for nodes to schedule on", r.Name)
			}
			assert.Contains(t, r.Dependencies, rec.Must(t, typeAddon, "scalemate-"+stack+"-coredns").URN, "%s waits for DNS", r.Name)
			assert.Regexp(t, `^\d+\.\d+\.\d+$`, r.Input("version"), r.Name)
			assert.Equal(t, true, r.Input("atomic"), r.Name)
			assert.Equal(t, "platform", r.Input("namespace"), r.Name)
		}
		repos := rec.OfType(typeRepo)
		require.Len(t, repos, 3, stack)
		for _, r := range repos {
			assert.True(t, strings.HasPrefix(r.Input("name").(string), "scalemate-"+stack+"/"), r.Name)
			assert.Equal(t, "IMMUTABLE", r.Input("imageTagMutability"))
			assert.Equal(t, stack == "dev", r.Input("forceDelete"), r.Name)
			assert.Equal(t, stack == "prod", r.Protect, r.Name)
		}
		cm := rec.Must(t, "kubernetes:core/v1:ConfigMap", "scalemate-"+stack+"-app-config")
		data := cm.Input("data").(map[string]any)
		assert.Contains(t, data["POSTGRES_HOST"], ".rds.amazonaws.com")
		for k, v := range data {
			assert.NotContains(t, v, "fake-", "ConfigMap %s holds a generated secret", k)
		}
	}
}

// Issue 14: where the tier configures contacts, a critical alarm's actions include the incident
// response plan (its escalation plan engages the contacts); without contacts, none.
func TestCriticalAlarmsStartIncidentsWhereConfigured(t *testing.T) {
	rec, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyMonitoring] = `{"criticalEmails":["oncall@scalemate.io"],"incidentContacts":[{"alias":"alice","email":"alice@scalemate.io"},{"alias":"bob","email":"bob@scalemate.io"}]}`
	})
	require.NoError(t, err)
	plan := rec.Must(t, "aws:ssmincidents/responsePlan:ResponsePlan", "scalemate-prod")
	alarm := rec.Must(t, typeAlarm, "scalemate-prod-postgres-free-storage")
	assert.Contains(t, alarm.Input("alarmActions"), "arn:aws:ssmincidents:us-west-2:123456789012:scalemate-prod")
	assert.Contains(t, alarm.Dependencies, plan.URN)
	_, none := mustRunStack(t, "staging").Named("aws:ssmincidents/responsePlan:ResponsePlan", "scalemate-staging")
	assert.False(t, none)

	_, err = runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyMonitoring] = `{"incidentContacts":[{"alias":"Alice","email":"alice@scalemate.io"}]}`
	})
	assert.ErrorContains(t, err, `scalemate:monitoring.incidentContacts[0].alias: "Alice" is not a contact alias`)
}

// The users' view: each tier's canaries request the CDN's public name (or, in dev, its
// CloudFront domain) on the tier's schedule, start after the application serves, and their
// success and latency alarms join the composite rollback trigger.
func TestCanariesJoinTheRollbackTrigger(t *testing.T) {
	for stack, c := range map[string]struct {
		rate, url string
		period    float64
	}{
		"dev":     {"rate(15 minutes)", "https://dscalemat.cloudfront.net", 900},
		"staging": {"rate(5 minutes)", "https://app.staging.scalemate.io", 300},
		"prod":    {"rate(1 minute)", "https://app.scalemate.io", 60},
	} {
		rec := mustRunStack(t, stack)
		rule := rec.Must(t, "aws:cloudwatch/compositeAlarm:CompositeAlarm", "scalemate-"+stack+"-service-unhealthy").Input("alarmRule").(string)
		for check, path := range map[string]string{"home": "/", "api": "/api/healthz/ready"} {
			canary := rec.Must(t, "aws:synthetics/canary:Canary", stack+"-"+check)
			assert.Equal(t, map[string]any{"expression": c.rate}, canary.Input("schedule"), stack)
			assert.Equal(t, c.url+path, canary.Input("runConfig").(map[string]any)["environmentVariables"].(map[string]any)["CHECK_URL"], stack)
			for _, alarm := range []string{"success", "latency"} {
				name := "scalemate-" + stack + "-canary-" + check + "-" + alarm
				assert.Contains(t, rule, `ALARM("`+name+`")`, stack)
				assert.EqualValues(t, c.period, rec.Must(t, typeAlarm, name).Input("period"), name)
			}
		}
		deployment := rec.Must(t, "kubernetes:apps/v1:Deployment", "scalemate-"+stack+"-app-web-blue").URN
		home := rec.Must(t, "aws:synthetics/canary:Canary", stack+"-home")
		assert.Contains(t, home.Dependencies, deployment, "canaries start once the application serves")
		if stack != "dev" {
			alias := rec.Must(t, "aws:route53/record:Record", "scalemate-"+stack+"-alias-a-"+strings.ReplaceAll(strings.TrimPrefix(c.url, "https://"), ".", "-")).URN
			assert.Contains(t, home.Dependencies, alias, "and once the CDN's name resolves")
		}
		assert.Equal(t, map[string]any{"CanaryName": stack + "-api", "StepName": "GET /api/healthz/ready"},
			rec.Must(t, typeAlarm, "scalemate-"+stack+"-canary-api-latency").Input("dimensions"))
	}

	// Prod cannot go blind; dev can drop its canaries, or one default check.
	_, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyMonitoring] = `{"criticalEmails":["oncall@scalemate.io"],"canaryMinutes":0}`
	})
	assert.ErrorContains(t, err, "scalemate:monitoring.canaryMinutes: prod watches what its users see")
	rec, err := runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyMonitoring] = `{"canaryMinutes":0}` })
	require.NoError(t, err)
	assert.Empty(t, rec.OfType("aws:synthetics/canary:Canary"))
	rec, err = runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyMonitoring] = `{"canaries":{"api":"","status":"/status"}}` })
	require.NoError(t, err)
	assert.Len(t, rec.OfType("aws:synthetics/canary:Canary"), 2, "home and status")
	rec.Must(t, "aws:synthetics/canary:Canary", "dev-status")

	for value, want := range map[string]string{
		`{"canaryMinutes":90}`:                        "scalemate:monitoring.canaryMinutes: 90",
		`{"canaries":{"home":"index.html"}}`:          `scalemate:monitoring.canaries.home: "index.html" is not a URL path`,
		`{"canaries":{"a-very-long-check-name":"/"}}`: `scalemate:monitoring.canaries.a-very-long-check-name: makes the canary name "dev-a-very-long-check-name"`,
	} {
		_, err := runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyMonitoring] = value })
		assert.ErrorContains(t, err, want, value)
	}
}

// The optional VPN: off by default; with a server certificate and a client CA it is a mutual
// TLS endpoint in the VPC, admitted to the private cluster API, logged for the tier's
// retention; its mistakes name their config keys.
func TestClientVPNBehindAFlag(t *testing.T) {
	assert.Empty(t, mustRunStack(t, "prod").OfType("aws:ec2clientvpn/endpoint:Endpoint"))
	const cert = "arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	rec, err := runStack(t, "prod", func(cfg map[string]string) {
		cfg[stacks.KeyNetwork] = `{"clientVpn":{"serverCertificateArn":"` + cert + `","clientRootCertificateArn":"` + cert + `"}}`
	})
	require.NoError(t, err)
	ep := rec.Must(t, "aws:ec2clientvpn/endpoint:Endpoint", "scalemate-prod-vpn")
	assert.Equal(t, true, ep.Input("splitTunnel"))
	assert.Len(t, rec.OfType("aws:ec2clientvpn/networkAssociation:NetworkAssociation"), 2)
	assert.EqualValues(t, 365, rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "scalemate-prod-vpn").Input("retentionInDays"))
	api := rec.Must(t, "aws:ec2/securityGroupRule:SecurityGroupRule", "scalemate-prod-vpn-to-cluster-api")
	assert.Equal(t, "scalemate-prod-api-id", api.Input("securityGroupId"), "the control plane's extra security group")

	for value, want := range map[string]string{
		`{"clientVpn":{"serverCertificateArn":"` + cert + `"}}`:                                                                      "scalemate:network.clientVpn.clientRootCertificateArn: set it (mutual TLS) or SAMLProviderARN",
		`{"clientVpn":{"serverCertificateArn":"` + cert + `","clientRootCertificateArn":"` + cert + `","clientCidr":"10.0.0.0/22"}}`: "scalemate:network.clientVpn.clientCidr: 10.0.0.0/22 overlaps the VPC",
		`{"clientVpn":{"serverCertificateArn":"` + cert + `","clientRootCertificateArn":"` + cert + `","azCount":4}}`:                "scalemate:network.clientVpn.azCount: 4 AZs, but the VPC spans 3",
	} {
		_, err := runStack(t, "prod", func(cfg map[string]string) { cfg[stacks.KeyNetwork] = value })
		assert.ErrorContains(t, err, want, value)
	}
}
