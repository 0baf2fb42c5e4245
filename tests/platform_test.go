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
