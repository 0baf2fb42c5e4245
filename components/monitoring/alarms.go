package monitoring

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Severity decides who hears an alarm: warnings reach the warning topic, critical alarms page
// through the critical topic and are copied to the warning topic (escalation).
type Severity string

const (
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Metric is one CloudWatch metric with the statistic an alarm or a graph reads.
type Metric struct {
	Namespace, Name, Stat string
	// Dimensions are values, some known only after creation (a distribution id).
	Dimensions pulumi.StringMap
}

// Alarm is one metric alarm: what it watches, when it fires and who hears it. With several
// metrics the alarm watches the largest of them (MAX over nodes or replicas).
type Alarm struct {
	// Key is the short, stable name: the alarm is <component name>-<Key>.
	Key         string
	Description string
	Severity    Severity
	Metrics     []Metric
	// Query is a Metrics Insights query the alarm watches instead of Metrics, for metrics
	// published only per pod that the alarm aggregates.
	Query string
	// Comparison is a CloudWatch comparison operator.
	Comparison string
	Threshold  float64
	// Edge alarms live in us-east-1, where CloudFront and its WAF publish metrics.
	Edge bool
	// TreatMissingData is how gaps count; notBreaching unless a gap itself is bad.
	TreatMissingData string
	// NotRollback keeps a critical alarm out of the rollback trigger: a deployment neither
	// causes nor cures it.
	NotRollback bool
	// Rollback puts a warning in the rollback trigger: it does not page, but a deployment that
	// causes it is rolled back.
	Rollback bool
	// Period is the alarm's period in seconds. Default 300.
	Period int
}

// period is the alarm's period: Period, or the default.
func (al Alarm) period() int {
	if al.Period > 0 {
		return al.Period
	}
	return period
}

// period is every alarm's period: 5 minutes, the finest RDS, ElastiCache and Container Insights
// metrics support at standard resolution without extra cost.
const period = 300

const (
	above = "GreaterThanThreshold"
	below = "LessThanThreshold"
	gib   = 1 << 30
)

func metric(namespace, name, stat string, dims map[string]pulumi.StringInput) Metric {
	m := Metric{Namespace: namespace, Name: name, Stat: stat, Dimensions: pulumi.StringMap{}}
	for k, v := range dims {
		m.Dimensions[k] = v
	}
	return m
}

func each(ids []string, namespace, name, stat, dim string) []Metric {
	var out []Metric
	for _, id := range ids {
		out = append(out, metric(namespace, name, stat, map[string]pulumi.StringInput{dim: pulumi.String(id)}))
	}
	return out
}

// alarms lists every metric alarm for args (already defaulted and validated), in a stable order.
func alarms(a Args) []Alarm {
	t := a.Thresholds
	var out []Alarm
	add := func(al Alarm) {
		if al.TreatMissingData == "" {
			al.TreatMissingData = "notBreaching"
		}
		out = append(out, al)
	}
	if pg := a.Postgres; pg != nil {
		primary := map[string]pulumi.StringInput{"DBInstanceIdentifier": pulumi.String(pg.PrimaryIdentifier)}
		memGiB := pg.MemoryGiB
		add(Alarm{Key: "postgres-cpu", Severity: Warning, Comparison: above, Threshold: t.DatabaseCPUPercent,
			Description: fmt.Sprintf("PostgreSQL primary CPU above %g %%", t.DatabaseCPUPercent),
			Metrics:     []Metric{metric("AWS/RDS", "CPUUtilization", "Average", primary)}})
		// Storage autoscaling grows the volume at 10 % free; below the default 5 % of the initial
		// size it has not (ceiling reached, or in its 6-hour cooldown). A deployment neither
		// causes nor cures that, so it pages without triggering a rollback.
		add(Alarm{Key: "postgres-free-storage", Severity: Critical, Comparison: below, NotRollback: true,
			Threshold:   math.Round(float64(pg.AllocatedStorageGiB) * gib * t.DatabaseFreeStoragePercent / 100),
			Description: fmt.Sprintf("PostgreSQL free storage below %g %% of the %d GiB first allocated: storage autoscaling is at its ceiling or cooling down", t.DatabaseFreeStoragePercent, pg.AllocatedStorageGiB),
			Metrics:     []Metric{metric("AWS/RDS", "FreeStorageSpace", "Minimum", primary)}})
		add(Alarm{Key: "postgres-freeable-memory", Severity: Warning, Comparison: below,
			Threshold:   math.Round(memGiB * gib * t.DatabaseFreeMemoryPercent / 100),
			Description: fmt.Sprintf("PostgreSQL freeable memory below %g %% of %s's %g GiB", t.DatabaseFreeMemoryPercent, pg.InstanceClass, memGiB),
			Metrics:     []Metric{metric("AWS/RDS", "FreeableMemory", "Minimum", primary)}})
		add(Alarm{Key: "postgres-connections", Severity: Warning, Comparison: above,
			Threshold:   math.Floor(float64(pg.MaxConnections) * t.DatabaseConnectionsPercent / 100),
			Description: fmt.Sprintf("PostgreSQL connections above %g %% of max_connections (%d)", t.DatabaseConnectionsPercent, pg.MaxConnections),
			Metrics:     []Metric{metric("AWS/RDS", "DatabaseConnections", "Maximum", primary)}})
		if len(pg.ReplicaIdentifiers) > 0 {
			add(Alarm{Key: "postgres-replica-lag", Severity: Warning, Comparison: above, Threshold: t.DatabaseReplicaLagSeconds,
				Description: fmt.Sprintf("A PostgreSQL read replica lags more than %g s", t.DatabaseReplicaLagSeconds),
				Metrics:     each(pg.ReplicaIdentifiers, "AWS/RDS", "ReplicaLag", "Maximum", "DBInstanceIdentifier")})
		}
	}
	if c := a.Cache; c != nil {
		// An alarm holds at most 10 metric queries, the MAX expression being one: larger
		// caches get an alarm per 9 nodes.
		groups := slices.Collect(slices.Chunk(c.NodeIDs, maxMetricsPerAlarm-1))
		for i, nodes := range groups {
			suffix := ""
			if len(groups) > 1 {
				suffix = fmt.Sprintf("-%d", i+1)
			}
			add(Alarm{Key: "cache-cpu" + suffix, Severity: Warning, Comparison: above, Threshold: t.CacheCPUPercent,
				Description: fmt.Sprintf("A cache node's host CPU above %g %%", t.CacheCPUPercent),
				Metrics:     each(nodes, "AWS/ElastiCache", "CPUUtilization", "Average", "CacheClusterId")})
			add(Alarm{Key: "cache-engine-cpu" + suffix, Severity: Warning, Comparison: above, Threshold: t.CacheCPUPercent,
				Description: fmt.Sprintf("A cache node's engine thread above %g %% (the engine is single-threaded)", t.CacheCPUPercent),
				Metrics:     each(nodes, "AWS/ElastiCache", "EngineCPUUtilization", "Average", "CacheClusterId")})
			add(Alarm{Key: "cache-memory" + suffix, Severity: Critical, Comparison: above, Threshold: t.CacheMemoryPercent,
				Description: fmt.Sprintf("A cache node uses more than %g %% of its memory; evictions follow", t.CacheMemoryPercent),
				Metrics:     each(nodes, "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Maximum", "CacheClusterId")})
			add(Alarm{Key: "cache-evictions" + suffix, Severity: Warning, Comparison: above, Threshold: t.CacheEvictions,
				Description: fmt.Sprintf("A cache node evicted more than %g keys in 5 minutes", t.CacheEvictions),
				Metrics:     each(nodes, "AWS/ElastiCache", "Evictions", "Sum", "CacheClusterId")})
			if c.Replicated {
				// Only replicas publish ReplicationLag, and roles move on failover: watch every node.
				add(Alarm{Key: "cache-replication-lag" + suffix, Severity: Warning, Comparison: above, Threshold: t.CacheReplicationLagSeconds,
					Description: fmt.Sprintf("A cache replica lags more than %g s behind its primary", t.CacheReplicationLagSeconds),
					Metrics:     each(nodes, "AWS/ElastiCache", "ReplicationLag", "Maximum", "CacheClusterId")})
			}
		}
	}
	if k := a.Cluster; k != nil {
		cluster := map[string]pulumi.StringInput{"ClusterName": pulumi.String(k.Name)}
		add(Alarm{Key: "nodes-cpu", Severity: Warning, Comparison: above, Threshold: t.NodeCPUPercent,
			Description: fmt.Sprintf("Average node CPU above %g %%: the autoscaler may be at its ceiling", t.NodeCPUPercent),
			Metrics:     []Metric{metric("ContainerInsights", "node_cpu_utilization", "Average", cluster)}})
		add(Alarm{Key: "nodes-memory", Severity: Warning, Comparison: above, Threshold: t.NodeMemoryPercent,
			Description: fmt.Sprintf("Average node memory above %g %%", t.NodeMemoryPercent),
			Metrics:     []Metric{metric("ContainerInsights", "node_memory_utilization", "Average", cluster)}})
		add(Alarm{Key: "nodes-failed", Severity: Critical, Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1,
			Description: "At least one worker node reports a failing condition",
			Metrics:     []Metric{metric("ContainerInsights", "cluster_failed_node_count", "Maximum", cluster)}})
		// The heartbeat: the other Container Insights alarms treat missing data as fine, so a
		// blind or stopped agent must show somewhere.
		add(Alarm{Key: "nodes-reporting", Severity: Warning, Comparison: below, Threshold: 1, TreatMissingData: "breaching",
			Description: "Container Insights reports no nodes: the cluster has none, or the CloudWatch agent is down",
			Metrics:     []Metric{metric("ContainerInsights", "cluster_node_count", "Minimum", cluster)}})
		for _, ns := range k.RestartNamespaces {
			// Restarts are published per pod (the change since the last scrape), not per
			// namespace: a Metrics Insights query sums them.
			add(Alarm{Key: "pod-restarts-" + ns, Severity: Warning, Comparison: above, Threshold: t.PodRestarts,
				Description: fmt.Sprintf("Containers in namespace %s restarted more than %g times in 5 minutes", ns, t.PodRestarts),
				Query:       fmt.Sprintf("SELECT SUM(pod_number_of_container_restarts) FROM SCHEMA(ContainerInsights, ClusterName, Namespace, PodName) WHERE ClusterName = '%s' AND Namespace = '%s'", k.Name, ns)})
		}
		add(Alarm{Key: "app-errors", Severity: Critical, Comparison: above, Threshold: t.AppErrors,
			Description: fmt.Sprintf("Namespace %s logged more than %g error lines in 5 minutes", k.AppNamespace, t.AppErrors),
			Metrics:     []Metric{metric(a.MetricNamespace, appErrorsMetric, "Sum", nil)}})
	}
	if c := a.Canaries; c != nil {
		// A period is one run (a minute at the finest), so a deployment's bake sees a failing
		// canary; missing runs (a stopped canary) count as fine, or a new canary would hold the
		// rollback trigger in ALARM until its first run.
		p := c.FrequencyMinutes * 60
		for _, key := range slices.Sorted(maps.Keys(c.Names)) {
			canary := map[string]pulumi.StringInput{"CanaryName": pulumi.String(c.Names[key])}
			add(Alarm{Key: "canary-" + key + "-success", Severity: Critical, Comparison: below, Threshold: t.CanarySuccessPercent, Period: p,
				Description: fmt.Sprintf("Canary %s: fewer than %g %% of the runs reached the public URL with a 2xx", c.Names[key], t.CanarySuccessPercent),
				Metrics:     []Metric{metric("CloudWatchSynthetics", "SuccessPercent", "Average", canary)}})
			// Slowness rolls a deployment back but pages nobody: a cold start can be slow too.
			latency := map[string]pulumi.StringInput{"CanaryName": pulumi.String(c.Names[key])}
			what := "runs"
			if step := c.StepNames[key]; step != "" {
				latency["StepName"], what = pulumi.String(step), "requests ("+step+")"
			}
			add(Alarm{Key: "canary-" + key + "-latency", Severity: Warning, Rollback: true, Comparison: above, Threshold: t.CanaryDurationMillis, Period: p,
				Description: fmt.Sprintf("Canary %s: %s took more than %g ms on average (users see a slow product)", c.Names[key], what, t.CanaryDurationMillis),
				Metrics:     []Metric{metric("CloudWatchSynthetics", "Duration", "Average", latency)}})
		}
	}
	if e := a.Edge; e != nil {
		dist := map[string]pulumi.StringInput{"DistributionId": e.DistributionID, "Region": pulumi.String("Global")}
		add(Alarm{Key: "cdn-5xx", Severity: Critical, Comparison: above, Threshold: t.CDN5xxPercent, Edge: true,
			Description: fmt.Sprintf("More than %g %% of CDN responses are 5xx", t.CDN5xxPercent),
			Metrics:     []Metric{metric("AWS/CloudFront", "5xxErrorRate", "Average", dist)}})
		add(Alarm{Key: "cdn-4xx", Severity: Warning, Comparison: above, Threshold: t.CDN4xxPercent, Edge: true,
			Description: fmt.Sprintf("More than %g %% of CDN responses are 4xx", t.CDN4xxPercent),
			Metrics:     []Metric{metric("AWS/CloudFront", "4xxErrorRate", "Average", dist)}})
		if e.WebACLName != "" {
			add(Alarm{Key: "waf-blocked-spike", Severity: Warning, Comparison: above, Threshold: t.WAFBlockedRequests, Edge: true,
				Description: fmt.Sprintf("The WAF blocked more than %g requests in 5 minutes (attack or a rule gone wrong)", t.WAFBlockedRequests),
				Metrics: []Metric{metric("AWS/WAFV2", "BlockedRequests", "Sum",
					map[string]pulumi.StringInput{"WebACL": pulumi.String(e.WebACLName), "Rule": pulumi.String("ALL")})}})
		}
	}
	return out
}

// expression is the metric math an alarm over several metrics watches: the largest.
func expression(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d", i)
	}
	return "MAX([" + strings.Join(ids, ",") + "])"
}

// maxMetricsPerAlarm is CloudWatch's limit of metric queries (metrics and expressions) in one
// alarm.
const maxMetricsPerAlarm = 10
