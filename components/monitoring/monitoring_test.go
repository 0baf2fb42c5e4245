package monitoring

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

const (
	alarmType     = "aws:cloudwatch/metricAlarm:MetricAlarm"
	compositeType = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	topicARN      = "arn:aws:sns:us-west-2:123456789012:mon-"
)

func baseArgs() Args {
	return Args{
		Region:           "us-west-2",
		Warning:          Channel{Emails: []string{"team@example.com"}},
		Critical:         Channel{HTTPSEndpoints: []pulumi.StringInput{pulumi.String("https://events.pagerduty.example/key123")}},
		LogRetentionDays: 30,
		Postgres: &PostgresTarget{PrimaryIdentifier: "db", ReplicaIdentifiers: []string{"db-replica-1", "db-replica-2"},
			InstanceClass: "db.r7g.xlarge", AllocatedStorageGiB: 100},
		Cache:   &CacheTarget{NodeIDs: []string{"cache-0001-001", "cache-0001-002"}, Replicated: true},
		Cluster: &ClusterTarget{Name: "eks", AppNamespace: "app"},
		Budget:  &Budget{MonthlyUSD: 5000, TagKey: "Environment", TagValue: "prod"},
	}
}

// runWithEdge runs New with an edge target, whose provider must be created inside the program.
func runWithEdge(t *testing.T, args Args) *mocktest.Recorder {
	t.Helper()
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		edge, err := aws.NewProvider(ctx, "edge", &aws.ProviderArgs{Region: pulumi.String(EdgeRegion)})
		if err != nil {
			return err
		}
		args.Edge = &EdgeTarget{Provider: edge, DistributionID: pulumi.String("E123"), WebACLName: "acl",
			WAFLogGroupName: pulumi.String("aws-waf-logs-acl")}
		_, err = New(ctx, "mon", args)
		return err
	})
	require.NoError(t, err)
	return rec
}

func TestEveryAlarmNotifiesByItsSeverity(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	all := rec.OfType(alarmType)
	var keys []string
	for _, a := range all {
		keys = append(keys, strings.TrimPrefix(a.Name, "mon-"))
		actions, _ := a.Input("alarmActions").([]any)
		require.NotEmpty(t, actions, "%s has no action", a.Name)
		assert.Equal(t, actions, a.Input("okActions"), a.Name)
		desc := a.Input("alarmDescription").(string)
		edge := strings.HasPrefix(a.Name, "mon-cdn") || strings.HasPrefix(a.Name, "mon-waf")
		prefix := topicARN
		if edge {
			prefix += "edge-"
			assert.Contains(t, a.Provider, "::edge::", "%s must live in us-east-1", a.Name)
		}
		if strings.HasPrefix(desc, "[critical]") {
			assert.Equal(t, []any{prefix + "critical", prefix + "warning"}, actions, a.Name)
		} else {
			assert.Equal(t, []any{prefix + "warning"}, actions, a.Name)
		}
	}
	assert.ElementsMatch(t, []string{
		"postgres-cpu", "postgres-free-storage", "postgres-freeable-memory", "postgres-connections", "postgres-replica-lag",
		"cache-cpu", "cache-engine-cpu", "cache-memory", "cache-evictions", "cache-replication-lag",
		"nodes-cpu", "nodes-memory", "nodes-failed", "nodes-reporting", "pod-restarts-app", "app-errors",
		"cdn-5xx", "cdn-4xx", "waf-blocked-spike",
	}, keys)
}

func TestThresholdsFollowTheTargets(t *testing.T) {
	args := baseArgs()
	args.Thresholds = Thresholds{DatabaseCPUPercent: 70, EvaluationPeriods: 5}
	rec := runWithEdge(t, args)

	cpu := rec.Must(t, alarmType, "mon-postgres-cpu")
	assert.EqualValues(t, 70, cpu.Input("threshold"))
	assert.EqualValues(t, 5, cpu.Input("evaluationPeriods"))
	assert.EqualValues(t, 2, cpu.Input("datapointsToAlarm"))
	assert.Equal(t, map[string]any{"DBInstanceIdentifier": "db"}, cpu.Input("dimensions"))
	assert.Equal(t, "AWS/RDS", cpu.Input("namespace"))

	// 5 % of 100 GiB (below storage autoscaling's 10 %), and 10 % of the r7g.xlarge's 32 GiB.
	assert.EqualValues(t, 5*float64(1<<30), rec.Must(t, alarmType, "mon-postgres-free-storage").Input("threshold"))
	assert.Equal(t, "notBreaching", rec.Must(t, alarmType, "mon-postgres-free-storage").Input("treatMissingData"))
	assert.Equal(t, "breaching", rec.Must(t, alarmType, "mon-nodes-reporting").Input("treatMissingData"), "a silent agent must show")
	assert.EqualValues(t, math.Round(3.2*float64(1<<30)), rec.Must(t, alarmType, "mon-postgres-freeable-memory").Input("threshold"))
	// RDS's default max_connections for 32 GiB is 3604; the alarm fires above 80 %.
	assert.EqualValues(t, 2883, rec.Must(t, alarmType, "mon-postgres-connections").Input("threshold"))
	assert.EqualValues(t, 85, rec.Must(t, alarmType, "mon-cache-memory").Input("threshold"))
	assert.EqualValues(t, 1, rec.Must(t, alarmType, "mon-cdn-5xx").Input("threshold"))
}

func TestPodRestartsSumPodsWithMetricsInsights(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	queries := rec.Must(t, alarmType, "mon-pod-restarts-app").Input("metricQueries").([]any)
	require.Len(t, queries, 1)
	q := queries[0].(map[string]any)
	assert.Equal(t, "SELECT SUM(pod_number_of_container_restarts) FROM SCHEMA(ContainerInsights, ClusterName, Namespace, PodName) WHERE ClusterName = 'eks' AND Namespace = 'app'", q["expression"])
	assert.EqualValues(t, 300, q["period"])
	assert.Equal(t, true, q["returnData"])
}

func TestAlarmOverSeveralNodesWatchesTheWorst(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	lag := rec.Must(t, alarmType, "mon-postgres-replica-lag")
	assert.Nil(t, lag.Input("metricName"))
	queries := lag.Input("metricQueries").([]any)
	require.Len(t, queries, 3)
	for i, id := range []string{"db-replica-1", "db-replica-2"} {
		q := queries[i].(map[string]any)
		assert.Equal(t, false, q["returnData"])
		assert.Equal(t, map[string]any{"DBInstanceIdentifier": id}, q["metric"].(map[string]any)["dimensions"])
	}
	worst := queries[2].(map[string]any)
	assert.Equal(t, "MAX([m0,m1])", worst["expression"])
	assert.Equal(t, true, worst["returnData"])
}

func TestLargeCachesGetAnAlarmPerNineNodes(t *testing.T) {
	args := baseArgs()
	args.Cache = &CacheTarget{NodeIDs: make([]string, 12)}
	for i := range args.Cache.NodeIDs {
		args.Cache.NodeIDs[i] = fmt.Sprintf("cache-%d", i)
	}
	rec := runWithEdge(t, args)
	_, single := rec.Named(alarmType, "mon-cache-memory")
	assert.False(t, single)
	assert.Len(t, rec.Must(t, alarmType, "mon-cache-memory-1").Input("metricQueries"), 10, "9 nodes and the MAX expression: CloudWatch's limit")
	assert.Len(t, rec.Must(t, alarmType, "mon-cache-memory-2").Input("metricQueries"), 4)
	assert.Contains(t, rec.Must(t, compositeType, "mon-service-unhealthy").Input("alarmRule"), `ALARM("mon-cache-memory-2")`)
}

func TestCompositeAlarmsAreTheRollbackTriggers(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	main := rec.Must(t, compositeType, "mon-service-unhealthy")
	rule := main.Input("alarmRule").(string)
	for _, critical := range []string{"cache-memory", "nodes-failed", "app-errors"} {
		assert.Contains(t, rule, `ALARM("mon-`+critical+`")`)
	}
	assert.NotContains(t, rule, "postgres-free-storage", "a deployment neither causes nor cures a full disk")
	assert.NotContains(t, rule, "postgres-cpu", "warnings do not roll a deployment back")
	assert.NotContains(t, rule, "cdn-5xx", "a composite alarm cannot read another region's alarms")
	assert.Equal(t, []any{topicARN + "warning"}, main.Input("alarmActions"))
	edge := rec.Must(t, compositeType, "mon-edge-unhealthy")
	assert.Equal(t, `ALARM("mon-cdn-5xx")`, edge.Input("alarmRule"))
	assert.Contains(t, edge.Provider, "::edge::")
}

// The users' view: each canary's success rate and latency page and join the rollback trigger,
// over a period that holds at least one run.
func TestCanaryAlarmsJoinTheRollbackTrigger(t *testing.T) {
	args := baseArgs()
	args.Canaries = &CanaryTarget{Names: map[string]string{"home": "prod-home", "api": "prod-api"},
		StepNames: map[string]string{"api": "GET /api/healthz/ready"}, FrequencyMinutes: 15}
	rec := runWithEdge(t, args)
	rule := rec.Must(t, compositeType, "mon-service-unhealthy").Input("alarmRule").(string)
	for _, key := range []string{"home", "api"} {
		success := rec.Must(t, alarmType, "mon-canary-"+key+"-success")
		assert.Equal(t, "CloudWatchSynthetics", success.Input("namespace"))
		assert.Equal(t, "SuccessPercent", success.Input("metricName"))
		assert.Equal(t, map[string]any{"CanaryName": "prod-" + key}, success.Input("dimensions"))
		assert.Equal(t, "LessThanThreshold", success.Input("comparisonOperator"))
		assert.EqualValues(t, 90, success.Input("threshold"))
		assert.EqualValues(t, 900, success.Input("period"), "a 15-minute canary has one datapoint per 15 minutes")
		assert.Contains(t, success.Input("alarmActions"), topicARN+"critical")
		latency := rec.Must(t, alarmType, "mon-canary-"+key+"-latency")
		assert.Equal(t, "Duration", latency.Input("metricName"))
		assert.EqualValues(t, 2000, latency.Input("threshold"))
		assert.NotContains(t, latency.Input("alarmActions"), topicARN+"critical", "slowness pages nobody")
		for _, alarm := range []string{"success", "latency"} {
			assert.Contains(t, rule, `ALARM("mon-canary-`+key+`-`+alarm+`")`)
		}
	}
	assert.EqualValues(t, 300, rec.Must(t, alarmType, "mon-nodes-cpu").Input("period"), "other alarms keep 5 minutes")
	assert.Equal(t, map[string]any{"CanaryName": "prod-api", "StepName": "GET /api/healthz/ready"}, rec.Must(t, alarmType, "mon-canary-api-latency").Input("dimensions"),
		"the step's duration leaves out the run's start-up")
	assert.Equal(t, map[string]any{"CanaryName": "prod-home"}, rec.Must(t, alarmType, "mon-canary-home-latency").Input("dimensions"))

	// A canary every minute: one-minute periods, so a 10-minute bake sees it fail.
	args.Canaries.FrequencyMinutes = 1
	rec = runWithEdge(t, args)
	assert.EqualValues(t, 60, rec.Must(t, alarmType, "mon-canary-home-success").Input("period"))
}

func TestTopicsAreEncryptedAndSubscribed(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	for _, name := range []string{"mon-warning", "mon-critical", "mon-edge-warning", "mon-edge-critical"} {
		topic := rec.Must(t, "aws:sns/topic:Topic", name)
		assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:"+strings.TrimSuffix(strings.TrimSuffix(name, "-warning"), "-critical")+"-alerts",
			topic.Input("kmsMasterKeyId"), name)
		var policy struct{ Statement []map[string]any }
		require.NoError(t, json.Unmarshal([]byte(rec.Must(t, "aws:sns/topicPolicy:TopicPolicy", name).Input("policy").(string)), &policy))
		assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}, policy.Statement[1]["Condition"])
	}
	key := rec.Must(t, "aws:kms/key:Key", "mon-alerts")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
	assert.Contains(t, key.Input("policy"), "cloudwatch.amazonaws.com")
	assert.False(t, key.Protect)

	email := rec.Must(t, "aws:sns/topicSubscription:TopicSubscription", "mon-warning-team@example.com")
	assert.Equal(t, "email", email.Input("protocol"))
	hook := rec.Must(t, "aws:sns/topicSubscription:TopicSubscription", "mon-critical-https-0")
	assert.Equal(t, "https", hook.Input("protocol"))
	assert.True(t, hook.Inputs["endpoint"].ContainsSecrets(), "webhook URLs carry keys")
	rec.Must(t, "aws:sns/topicSubscription:TopicSubscription", "mon-edge-critical-https-0")
}

func TestProtectedKeys(t *testing.T) {
	args := baseArgs()
	args.Protect = true
	rec := runWithEdge(t, args)
	for _, name := range []string{"mon-alerts", "mon-edge-alerts"} {
		key := rec.Must(t, "aws:kms/key:Key", name)
		assert.True(t, key.Protect, name)
		assert.True(t, key.RetainOnDelete, name)
	}
}

func TestLogGroupsFilterAndQueries(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	for _, kind := range ContainerInsightsLogGroups {
		g := rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "mon-containerinsights-"+kind)
		assert.Equal(t, "/aws/containerinsights/eks/"+kind, g.Input("name"))
		assert.EqualValues(t, 30, g.Input("retentionInDays"))
	}
	f := rec.Must(t, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "mon-app-errors")
	assert.Equal(t, "/aws/containerinsights/eks/application", f.Input("logGroupName"))
	assert.Contains(t, f.Input("pattern"), `$.kubernetes.namespace_name = "app"`)
	assert.Equal(t, map[string]any{"name": "AppErrors", "namespace": "ScaleMate/mon", "value": "1", "defaultValue": "0", "unit": "Count"},
		f.Input("metricTransformation"))
	assert.Equal(t, "ScaleMate/mon", rec.Must(t, alarmType, "mon-app-errors").Input("namespace"))

	slow := rec.Must(t, "aws:cloudwatch/queryDefinition:QueryDefinition", "mon-slow-requests")
	assert.Equal(t, "mon/slow-requests", slow.Input("name"))
	assert.Contains(t, slow.Input("queryString"), "ms > 1000")
	rec.Must(t, "aws:cloudwatch/queryDefinition:QueryDefinition", "mon-errors-by-service")
	waf := rec.Must(t, "aws:cloudwatch/queryDefinition:QueryDefinition", "mon-waf-blocks")
	assert.Equal(t, []any{"aws-waf-logs-acl"}, waf.Input("logGroupNames"))
	assert.Contains(t, waf.Provider, "::edge::")
}

func TestDashboardGraphsEveryAlarm(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	var body struct {
		Widgets []struct {
			Properties struct {
				Title, Region string
				Metrics       [][]any
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(rec.Must(t, "aws:cloudwatch/dashboard:Dashboard", "mon").Input("dashboardBody").(string)), &body))
	require.Len(t, body.Widgets, len(rec.OfType(alarmType)))
	regions := map[string]string{}
	for _, w := range body.Widgets {
		regions[w.Properties.Title] = w.Properties.Region
	}
	assert.Equal(t, "us-east-1", regions["cdn-5xx"])
	assert.Equal(t, "us-west-2", regions["postgres-cpu"])
	for _, w := range body.Widgets {
		if w.Properties.Title == "cache-memory" {
			assert.Len(t, w.Properties.Metrics, 2, "one line per node")
			assert.Equal(t, []any{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", "cache-0001-001", map[string]any{"stat": "Maximum"}}, w.Properties.Metrics[0])
		}
	}
}

func TestBudget(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	b := rec.Must(t, "aws:budgets/budget:Budget", "mon-monthly")
	assert.Equal(t, "5000.00", b.Input("limitAmount"))
	assert.Equal(t, []any{map[string]any{"name": "TagKeyValue", "values": []any{"user:Environment$prod"}}}, b.Input("costFilters"))
	var kinds []string
	for _, n := range b.Input("notifications").([]any) {
		n := n.(map[string]any)
		kinds = append(kinds, n["notificationType"].(string))
		assert.Equal(t, []any{topicARN + "warning"}, n["subscriberSnsTopicArns"])
	}
	assert.Equal(t, []string{"ACTUAL", "ACTUAL", "FORECASTED"}, kinds)
}

func TestOnlyGivenTargetsAreWatched(t *testing.T) {
	args := Args{Region: "us-west-2", Warning: Channel{Emails: []string{"a@example.com"}}, LogRetentionDays: 7,
		Postgres: &PostgresTarget{PrimaryIdentifier: "db", InstanceClass: "db.t4g.medium", AllocatedStorageGiB: 20}}
	rec, err := mocktest.Component(New, "mon", args)
	require.NoError(t, err)
	assert.Len(t, rec.OfType(alarmType), 4, "no replica lag without replicas")
	assert.Empty(t, rec.OfType("aws:cloudwatch/logGroup:LogGroup"))
	assert.Empty(t, rec.OfType("aws:budgets/budget:Budget"))
	assert.Empty(t, rec.OfType("aws:sns/topicSubscription:TopicSubscription")[1:])
	assert.Empty(t, rec.OfType(compositeType), "no alarm here a deployment could trip")
	// t4g.medium: 4 GiB, max_connections 450, alarm above 360.
	assert.EqualValues(t, 360, rec.Must(t, alarmType, "mon-postgres-connections").Input("threshold"))
}

func TestClassMemory(t *testing.T) {
	for class, want := range map[string]float64{
		"db.t4g.medium": 4, "db.t3.small": 2, "db.m7g.large": 8, "db.r7g.xlarge": 32, "db.r6g.2xlarge": 64, "db.x2g.large": 32, "db.m5.12xlarge": 192,
	} {
		got, ok := classMemoryGiB(class)
		assert.True(t, ok, class)
		assert.Equal(t, want, got, class)
	}
	for _, class := range []string{"r7g.xlarge", "db.z1d.large", "db.m7g.huge", ""} {
		_, ok := classMemoryGiB(class)
		assert.False(t, ok, class)
	}
}

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Args)
		want   []string
	}{
		{"retention", func(a *Args) { a.LogRetentionDays = 10 }, []string{"LogRetentionDays: 10 is not a CloudWatch retention period; use one of 1, 3, 5, 7, 14, 30,"}},
		{"nobody listens", func(a *Args) { a.Warning, a.Critical = Channel{}, Channel{} }, []string{"Warning: no subscriber"}},
		{"email", func(a *Args) { a.Warning.Emails = []string{"ops"} }, []string{`Warning.Emails[0]: "ops" is not an email address`}},
		{"percent", func(a *Args) { a.Thresholds.NodeCPUPercent = 120 }, []string{"Thresholds.NodeCPUPercent: 120 is not a percentage"}},
		{"datapoints", func(a *Args) { a.Thresholds.EvaluationPeriods, a.Thresholds.DatapointsToAlarm = 2, 3 }, []string{"Thresholds.DatapointsToAlarm: 3 must be 1 to EvaluationPeriods (2)"}},
		{"class", func(a *Args) { a.Postgres.InstanceClass = "db.q9.large" }, []string{`Postgres.InstanceClass: "db.q9.large" is not a class whose memory is known`}},
		{"no nodes", func(a *Args) { a.Cache.NodeIDs = nil }, []string{"Cache.NodeIDs: must list the cache's nodes"}},
		{"namespace", func(a *Args) { a.Cluster.AppNamespace = "App_NS" }, []string{`Cluster.AppNamespace: "App_NS" is not a Kubernetes namespace name`}},
		{"budget", func(a *Args) { a.Budget.MonthlyUSD, a.Budget.TagValue = 0, "" }, []string{"Budget.MonthlyUSD: must be positive", "Budget.TagKey: set TagKey and TagValue together"}},
		{"edge", func(a *Args) { a.Edge = &EdgeTarget{} }, []string{"Edge.Provider: is required", "Edge.DistributionID: is required"}},
		{"canaries", func(a *Args) { a.Canaries = &CanaryTarget{FrequencyMinutes: 90} }, []string{"Canaries.Names: must name at least one canary", "Canaries.FrequencyMinutes"}},
		{"canary success", func(a *Args) { a.Thresholds.CanarySuccessPercent = 101 }, []string{"Thresholds.CanarySuccessPercent: 101 is not a percentage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := baseArgs()
			pg, cache, cl, b := *args.Postgres, *args.Cache, *args.Cluster, *args.Budget
			args.Postgres, args.Cache, args.Cluster, args.Budget = &pg, &cache, &cl, &b
			tc.change(&args)
			rec, err := mocktest.Component(New, "mon", args)
			rec.Refused(t, err, tc.want...)
		})
	}
}

// Review 2026-11-30 #6: AWS Health's notice that the cluster's Kubernetes version leaves
// standard support reaches the warning topic, which EventBridge may publish to (topic policy and
// key policy).
func TestEKSLifecycleNoticesReachTheWarningTopic(t *testing.T) {
	rec := runWithEdge(t, baseArgs())
	rule := rec.Must(t, "aws:cloudwatch/eventRule:EventRule", "mon-eks-lifecycle")
	var pattern map[string]any
	require.NoError(t, json.Unmarshal([]byte(rule.Input("eventPattern").(string)), &pattern))
	assert.Equal(t, []any{"aws.health"}, pattern["source"])
	assert.Equal(t, map[string]any{"service": []any{"EKS"}, "eventTypeCode": []any{"AWS_EKS_PLANNED_LIFECYCLE_EVENT"}}, pattern["detail"])
	target := rec.Must(t, "aws:cloudwatch/eventTarget:EventTarget", "mon-eks-lifecycle")
	assert.Equal(t, "arn:aws:sns:us-west-2:123456789012:mon-warning", target.Input("arn"))
	topicPolicy := rec.Must(t, "aws:sns/topicPolicy:TopicPolicy", "mon-warning").Input("policy")
	assert.Contains(t, topicPolicy, `"Principal":{"Service":"events.amazonaws.com"}`)
	assert.Contains(t, topicPolicy, `"ArnLike":{"aws:SourceArn":"arn:aws:events:*:123456789012:rule/mon-*"}`, "this account's rules of this stack only")
	assert.Contains(t, rec.Must(t, "aws:kms/key:Key", "mon-alerts").Input("policy"), "events.amazonaws.com")

	noCluster := baseArgs()
	noCluster.Cluster = nil
	_, ok := runWithEdge(t, noCluster).Named("aws:cloudwatch/eventRule:EventRule", "mon-eks-lifecycle")
	assert.False(t, ok, "no cluster, no notice")
}

// Issue 14: cost anomalies of the environment's tag reach the warning topic at once (in
// us-east-1, where Cost Explorer lives), beside the budget's actual and forecast notices.
func TestCostAnomaliesReachTheWarningTopic(t *testing.T) {
	args := baseArgs()
	args.Budget = &Budget{MonthlyUSD: 1500, TagKey: "Environment", TagValue: "staging"}
	rec := runWithEdge(t, args)
	monitor := rec.Must(t, "aws:costexplorer/anomalyMonitor:AnomalyMonitor", "mon-spend")
	assert.Equal(t, "CUSTOM", monitor.Input("monitorType"))
	assert.JSONEq(t, `{"Tags":{"Key":"Environment","Values":["staging"]}}`, monitor.Input("monitorSpecification").(string))
	assert.Contains(t, monitor.Provider, "::edge::")
	sub := rec.Must(t, "aws:costexplorer/anomalySubscription:AnomalySubscription", "mon-spend")
	assert.Equal(t, "IMMEDIATE", sub.Input("frequency"))
	assert.Equal(t, []any{map[string]any{"type": "SNS", "address": "arn:aws:sns:us-west-2:123456789012:mon-edge-warning"}}, sub.Input("subscribers"))
	assert.Equal(t, []any{"30"}, sub.Input("thresholdExpression").(map[string]any)["dimension"].(map[string]any)["values"], "2 % of the budget")
	assert.Contains(t, rec.Must(t, "aws:sns/topicPolicy:TopicPolicy", "mon-edge-warning").Input("policy"), "costalerts.amazonaws.com")
	budget := rec.Must(t, "aws:budgets/budget:Budget", "mon-monthly")
	assert.Contains(t, fmt.Sprint(budget.Input("notifications")), "FORECASTED")
}

// Issue 14: with contacts, critical alarms of the main region start an incident whose
// escalation plan engages the contacts in order; warning alarms only mail.
func TestCriticalAlarmsStartAnIncident(t *testing.T) {
	args := baseArgs()
	args.Incident = &Incident{Contacts: []Contact{{Alias: "alice", Email: "alice@example.com"}, {Alias: "bob", Name: "Bob", Email: "bob@example.com"}}, StageMinutes: 5}
	rec := runWithEdge(t, args)
	plan := rec.Must(t, "aws:ssmincidents/responsePlan:ResponsePlan", "mon")
	assert.Equal(t, []any{"arn:aws:ssmcontacts:us-west-2:123456789012:mon-on-call"}, plan.Input("engagements"))
	stages := rec.Must(t, "aws:ssmcontacts/plan:Plan", "mon-on-call").Input("stages").([]any)
	require.Len(t, stages, 2, "one stage per contact, in order")
	assert.EqualValues(t, 5, stages[0].(map[string]any)["durationInMinutes"])
	assert.Equal(t, "arn:aws:ssmcontacts:us-west-2:123456789012:mon-alice", stages[0].(map[string]any)["targets"].([]any)[0].(map[string]any)["contactTargetInfo"].(map[string]any)["contactId"])
	assert.Equal(t, "EMAIL", rec.Must(t, "aws:ssmcontacts/contactChannel:ContactChannel", "mon-bob").Input("type"))
	assert.Equal(t, "mon-alice", rec.Must(t, "aws:ssmcontacts/contact:Contact", "mon-alice").Input("alias"), "unique in an account shared by stacks")
	assert.Equal(t, true, stages[0].(map[string]any)["targets"].([]any)[0].(map[string]any)["contactTargetInfo"].(map[string]any)["isEssential"], "an acknowledgement stops the escalation")
	for _, a := range rec.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		critical := strings.HasPrefix(a.Input("alarmDescription").(string), "[critical]")
		edge := strings.Contains(a.Provider, "::edge::")
		assert.Equal(t, critical && !edge, slices.Contains(a.Input("alarmActions").([]any), any("arn:aws:ssmincidents:us-west-2:123456789012:mon")), a.Name)
		assert.NotContains(t, a.Input("okActions"), "arn:aws:ssmincidents:us-west-2:123456789012:mon", "recovering starts no incident")
	}

	args.Incident = &Incident{Contacts: []Contact{{Alias: "Alice", Email: "alice"}}}
	rec2, err := mocktest.Component(New, "mon", args)
	rec2.Refused(t, err, `Incident.Contacts[0].Alias: "Alice" is not a contact alias`, `Incident.Contacts[0].Email: "alice" is not an email address`)
}
