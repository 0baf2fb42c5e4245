// Package monitoring is an environment's observability: KMS-encrypted warning and critical SNS
// topics with email and on-call webhook subscriptions, CloudWatch alarms with per-environment
// thresholds on the database, the cache, the cluster's nodes and pods (Container Insights), the
// application's error log lines and the CDN and WAF; composite "service unhealthy" alarms that a
// deployment pipeline uses as its rollback trigger; a dashboard with the same metrics; saved
// Logs Insights queries; the Container Insights log groups with retention; and a cost budget.
package monitoring

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/validate"
)

// Args configures a Monitoring. Each target (Postgres, Cache, Cluster, Edge, Budget) is
// optional: only what is given is watched.
type Args struct {
	// Region is the main region (ARN partition, the dashboard's home). Required.
	Region string
	// Warning and Critical are the topics' subscribers; together at least one. Critical
	// alarms are published to both topics, so the warning audience sees every page.
	Warning, Critical Channel
	// Thresholds are the alarm thresholds; a zero field takes DefaultThresholds' value.
	Thresholds Thresholds
	// LogRetentionDays is the retention of the log groups the component creates (one of
	// CloudWatch's allowed values). Required.
	LogRetentionDays int
	// MetricNamespace holds the metrics derived from logs. Default ScaleMate/<name>.
	MetricNamespace string
	// Postgres, Cache, Cluster and Edge are what to watch.
	Postgres *PostgresTarget
	Cache    *CacheTarget
	Cluster  *ClusterTarget
	Edge     *EdgeTarget
	// Canaries are Synthetics canaries on the public URLs (the users' view): their success
	// and latency alarms page and join the rollback trigger.
	Canaries *CanaryTarget
	// Budget adds an AWS Budgets cost budget notifying the warning topic.
	Budget *Budget
	// Incident adds AWS Systems Manager Incident Manager on-call: the contacts, an escalation
	// plan through them and a response plan that every critical alarm of the main region starts.
	// The account's Incident Manager replication set must exist and hold the stack's region (the
	// account baseline); Incident Manager takes no new customers since 7 Nov 2025, so this is
	// for accounts already onboarded. Optional.
	Incident *Incident
	// Protect guards and retains the topics' KMS keys (production). Default false.
	Protect bool
}

// Incident is the on-call rotation of the stack's critical alarms.
type Incident struct {
	// Contacts are engaged in order, one escalation stage each, by email (each contact
	// activates the channel once with the code AWS sends). At least one.
	Contacts []Contact
	// StageMinutes is how long a stage waits for an acknowledgement before the next contact is
	// engaged, 1 to 30. Default 10.
	StageMinutes int
}

// Contact is one person on call.
type Contact struct {
	// Alias is the contact's id: lower-case letters, digits, '-' and '_'. Required, unique.
	Alias string
	// Name is shown in incidents. Default Alias.
	Name string
	// Email is where the contact is engaged. Required.
	Email string
}

// Channel is who a topic notifies.
type Channel struct {
	// Emails get each alarm by email (each address confirms its subscription once).
	Emails []string
	// HTTPSEndpoints are on-call tool webhooks (PagerDuty, Opsgenie, ...); they often embed a
	// key, so they are stored as secrets.
	HTTPSEndpoints []pulumi.StringInput
}

// PostgresTarget is an RDS PostgreSQL primary and its read replicas.
type PostgresTarget struct {
	// PrimaryIdentifier and ReplicaIdentifiers are DB instance identifiers. Primary required.
	PrimaryIdentifier  string
	ReplicaIdentifiers []string
	// InstanceClass sizes the freeable-memory and connection thresholds (db.r7g.xlarge).
	InstanceClass string
	// MemoryGiB overrides the memory derived from InstanceClass.
	MemoryGiB float64
	// AllocatedStorageGiB sizes the free-storage threshold. Required.
	AllocatedStorageGiB int
	// MaxConnections is max_connections. Default RDS's LEAST(memory/9531392, 5000).
	MaxConnections int
}

// CacheTarget is an ElastiCache replication group's nodes.
type CacheTarget struct {
	// NodeIDs are the member cache cluster ids. Required.
	NodeIDs []string
	// Replicated turns on the replication-lag alarm.
	Replicated bool
}

// ClusterTarget is an EKS cluster with the CloudWatch observability addon.
type ClusterTarget struct {
	// Name is the EKS cluster name. Required.
	Name string
	// AppNamespace is the namespace whose error log lines are counted. Required.
	AppNamespace string
	// RestartNamespaces get a pod-restart alarm each. Default [AppNamespace].
	RestartNamespaces []string
}

// EdgeTarget is the CloudFront distribution and its WAF. Their metrics exist only in
// us-east-1, and an alarm notifies topics of its own region only, so the edge alarms and a
// copy of both topics are created with Provider.
type EdgeTarget struct {
	// Provider is a us-east-1 AWS provider. Required.
	Provider *aws.Provider
	// DistributionID is the CloudFront distribution. Required.
	DistributionID pulumi.StringInput
	// WebACLName is the CLOUDFRONT-scope web ACL's metric name; "" skips the WAF alarm.
	WebACLName string
	// WAFLogGroupName gets the saved "WAF blocks" query; nil skips it.
	WAFLogGroupName pulumi.StringInput
}

// CanaryTarget is a set of CloudWatch Synthetics canaries in the main region.
type CanaryTarget struct {
	// Names are the canaries' names (their metrics' CanaryName), by check key. At least one.
	Names map[string]string
	// StepNames are the checks' step names (StepName of the step's Duration), by check key;
	// the latency alarm watches the step, which leaves out the run's start-up. A key without
	// one watches the whole run's Duration.
	StepNames map[string]string
	// FrequencyMinutes is their schedule, 1 to 60: an alarm period holds at least one run.
	// Required.
	FrequencyMinutes int
}

// Budget is a monthly cost budget.
type Budget struct {
	// MonthlyUSD is the limit. Required, positive.
	MonthlyUSD float64
	// TagKey and TagValue select the environment's costs (an activated cost allocation tag,
	// e.g. Environment=prod). Both or neither; neither budgets the whole account.
	TagKey, TagValue string
}

// Thresholds are the alarm thresholds (per environment, chosen by the caller).
type Thresholds struct {
	DatabaseCPUPercent         float64 // primary CPU, percent. Default 80.
	DatabaseFreeStoragePercent float64 // free storage, percent of first allocated. Default 5.
	DatabaseFreeMemoryPercent  float64 // freeable memory, percent of the class's. Default 10.
	DatabaseConnectionsPercent float64 // connections, percent of max_connections. Default 80.
	DatabaseReplicaLagSeconds  float64 // read replica lag, seconds. Default 60.
	CacheCPUPercent            float64 // host and engine CPU per node, percent. Default 80.
	CacheMemoryPercent         float64 // memory used per node, percent. Default 85.
	CacheEvictions             float64 // evictions per node per 5 minutes. Default 100.
	CacheReplicationLagSeconds float64 // replica lag, seconds. Default 10.
	NodeCPUPercent             float64 // average node CPU, percent. Default 80.
	NodeMemoryPercent          float64 // average node memory, percent. Default 85.
	PodRestarts                float64 // container restarts in a namespace per 5 minutes. Default 3.
	AppErrors                  float64 // application error lines per 5 minutes. Default 10.
	CDN5xxPercent              float64 // CDN 5xx responses, percent. Default 1.
	CDN4xxPercent              float64 // CDN 4xx responses, percent. Default 10.
	WAFBlockedRequests         float64 // WAF blocks per 5 minutes. Default 1000.
	SlowRequestMillis          float64 // the saved "slow requests" query's cut-off. Default 1000.
	CanarySuccessPercent       float64 // a canary's successful runs, percent, below which it alarms. Default 90.
	CanaryDurationMillis       float64 // a canary step's average duration, ms. Default 2000.
	// An alarm fires when DatapointsToAlarm of the last EvaluationPeriods 5-minute periods
	// breach. Default 2 of 3.
	EvaluationPeriods, DatapointsToAlarm int
}

// DefaultThresholds are production-grade thresholds.
func DefaultThresholds() Thresholds {
	return Thresholds{
		DatabaseCPUPercent: 80, DatabaseFreeStoragePercent: 5, DatabaseFreeMemoryPercent: 10,
		DatabaseConnectionsPercent: 80, DatabaseReplicaLagSeconds: 60,
		CacheCPUPercent: 80, CacheMemoryPercent: 85, CacheEvictions: 100, CacheReplicationLagSeconds: 10,
		NodeCPUPercent: 80, NodeMemoryPercent: 85, PodRestarts: 3, AppErrors: 10,
		CDN5xxPercent: 1, CDN4xxPercent: 10, WAFBlockedRequests: 1000, SlowRequestMillis: 1000,
		CanarySuccessPercent: 90, CanaryDurationMillis: 2000,
		EvaluationPeriods: 3, DatapointsToAlarm: 2,
	}
}

// Monitoring is the component resource.
type Monitoring struct {
	pulumi.ResourceState

	// WarningTopicARN and CriticalTopicARN are the main region's topics.
	WarningTopicARN  pulumi.StringOutput `pulumi:"warningTopicArn"`
	CriticalTopicARN pulumi.StringOutput `pulumi:"criticalTopicArn"`
	// HealthAlarms are the composite alarms, each with its region: a deployment rolls back
	// when one is in ALARM.
	HealthAlarms pulumi.StringMapOutput `pulumi:"healthAlarms"`
	// AlarmNames lists every metric alarm.
	AlarmNames pulumi.StringArrayOutput `pulumi:"alarmNames"`
	// DashboardName is the environment's dashboard.
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`
	// ContainerLogGroups must exist before the CloudWatch observability addon, or the agent
	// creates them itself without retention.
	ContainerLogGroups []pulumi.Resource
}

var (
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	aliasRE = regexp.MustCompile(`^[a-z0-9_-]{1,200}$`)
	// Incident Manager's display-name pattern.
	displayRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.\-]{0,255}$`)
	classRE   = regexp.MustCompile(`^db\.([a-z][a-z0-9]*)\.([0-9]*x?large|micro|small|medium)$`)
)

func (a Args) withDefaults(name string) Args {
	if a.MetricNamespace == "" {
		a.MetricNamespace = "ScaleMate/" + name
	}
	def := DefaultThresholds()
	a.Thresholds = fillZeros(a.Thresholds, def)
	if pg := a.Postgres; pg != nil {
		c := *pg
		if c.MemoryGiB == 0 {
			c.MemoryGiB, _ = classMemoryGiB(c.InstanceClass)
		}
		if c.MaxConnections == 0 {
			c.MaxConnections = min(int(c.MemoryGiB*gib/9531392), 5000)
		}
		a.Postgres = &c
	}
	if k := a.Cluster; k != nil && len(k.RestartNamespaces) == 0 {
		c := *k
		c.RestartNamespaces = []string{c.AppNamespace}
		a.Cluster = &c
	}
	return a
}

// fillZeros returns t with every zero field taken from def.
func fillZeros(t, def Thresholds) Thresholds {
	pick := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	floats := []*float64{&t.DatabaseCPUPercent, &t.DatabaseFreeStoragePercent, &t.DatabaseFreeMemoryPercent,
		&t.DatabaseConnectionsPercent, &t.DatabaseReplicaLagSeconds, &t.CacheCPUPercent, &t.CacheMemoryPercent,
		&t.CacheEvictions, &t.CacheReplicationLagSeconds, &t.NodeCPUPercent, &t.NodeMemoryPercent, &t.PodRestarts,
		&t.AppErrors, &t.CDN5xxPercent, &t.CDN4xxPercent, &t.WAFBlockedRequests, &t.SlowRequestMillis,
		&t.CanarySuccessPercent, &t.CanaryDurationMillis}
	defs := []float64{def.DatabaseCPUPercent, def.DatabaseFreeStoragePercent, def.DatabaseFreeMemoryPercent,
		def.DatabaseConnectionsPercent, def.DatabaseReplicaLagSeconds, def.CacheCPUPercent, def.CacheMemoryPercent,
		def.CacheEvictions, def.CacheReplicationLagSeconds, def.NodeCPUPercent, def.NodeMemoryPercent, def.PodRestarts,
		def.AppErrors, def.CDN5xxPercent, def.CDN4xxPercent, def.WAFBlockedRequests, def.SlowRequestMillis,
		def.CanarySuccessPercent, def.CanaryDurationMillis}
	for i, f := range floats {
		*f = pick(*f, defs[i])
	}
	if t.EvaluationPeriods == 0 {
		t.EvaluationPeriods = def.EvaluationPeriods
	}
	if t.DatapointsToAlarm == 0 {
		t.DatapointsToAlarm = min(def.DatapointsToAlarm, t.EvaluationPeriods)
	}
	return t
}

// classMemoryGiB is the memory of an RDS instance class: burstable t classes by size, other
// families at 4 (m), 8 (r) or 16 (x) GiB per vCPU, with 2 vCPUs at large and 4 per xlarge.
func classMemoryGiB(class string) (float64, bool) {
	m := classRE.FindStringSubmatch(class)
	if m == nil {
		return 0, false
	}
	family, size := m[1], m[2]
	if strings.HasPrefix(family, "t") {
		gb, ok := map[string]float64{"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}[size]
		return gb, ok
	}
	perVCPU, ok := map[byte]float64{'m': 4, 'r': 8, 'x': 16}[family[0]]
	if !ok {
		return 0, false
	}
	var vcpus float64
	switch {
	case size == "large":
		vcpus = 2
	case size == "xlarge":
		vcpus = 4
	default:
		var n float64
		if _, err := fmt.Sscanf(size, "%gxlarge", &n); err != nil || n < 2 {
			return 0, false
		}
		vcpus = 4 * n
	}
	return perVCPU * vcpus, true
}

// Check validates args as New would, without registering anything.
func (a Args) Check(name string) error {
	var p validate.Problems
	a = a.withDefaults(name)
	p.NotEmpty("Region", a.Region)
	p.LogRetention("LogRetentionDays", a.LogRetentionDays)
	subscribers := 0
	for _, ch := range []struct {
		field string
		c     Channel
	}{{"Warning", a.Warning}, {"Critical", a.Critical}} {
		for i, e := range ch.c.Emails {
			if !emailRE.MatchString(e) {
				p.Addf(fmt.Sprintf("%s.Emails[%d]", ch.field, i), "%q is not an email address", e)
			}
		}
		subscribers += len(ch.c.Emails) + len(ch.c.HTTPSEndpoints)
	}
	if subscribers == 0 {
		p.Addf("Warning", "no subscriber on either topic: give Warning or Critical an email or an HTTPS endpoint, or nobody hears the alarms")
	}
	a.checkThresholds(&p)
	if pg := a.Postgres; pg != nil {
		p.NotEmpty("Postgres.PrimaryIdentifier", pg.PrimaryIdentifier)
		if pg.MemoryGiB <= 0 {
			p.Addf("Postgres.InstanceClass", "%q is not a class whose memory is known (db.<m|r|x|t family>.<size>); set Postgres.MemoryGiB", pg.InstanceClass)
		}
		if pg.AllocatedStorageGiB <= 0 {
			p.Addf("Postgres.AllocatedStorageGiB", "must be positive, got %d", pg.AllocatedStorageGiB)
		}
		if n := len(pg.ReplicaIdentifiers); n > maxMetricsPerAlarm-1 {
			p.Addf("Postgres.ReplicaIdentifiers", "%d replicas; one alarm watches at most %d", n, maxMetricsPerAlarm-1)
		}
	}
	if c := a.Cache; c != nil {
		if len(c.NodeIDs) == 0 {
			p.Addf("Cache.NodeIDs", "must list the cache's nodes")
		}
	}
	if k := a.Cluster; k != nil {
		p.NotEmpty("Cluster.Name", k.Name)
		for _, ns := range append([]string{k.AppNamespace}, k.RestartNamespaces...) {
			if !validate.IsDNSLabel(ns) {
				p.Addf("Cluster.AppNamespace", "%q is not a Kubernetes namespace name", ns)
			}
		}
	}
	if e := a.Edge; e != nil {
		if e.Provider == nil {
			p.Addf("Edge.Provider", "is required: CloudFront metrics exist only in us-east-1")
		}
		if e.DistributionID == nil {
			p.Addf("Edge.DistributionID", "is required")
		}
	}
	if c := a.Canaries; c != nil {
		if len(c.Names) == 0 {
			p.Addf("Canaries.Names", "must name at least one canary")
		}
		p.IntRange("Canaries.FrequencyMinutes", c.FrequencyMinutes, 1, 60)
	}
	if b := a.Budget; b != nil {
		if b.MonthlyUSD <= 0 {
			p.Addf("Budget.MonthlyUSD", "must be positive, got %g", b.MonthlyUSD)
		}
		if (b.TagKey == "") != (b.TagValue == "") {
			p.Addf("Budget.TagKey", "set TagKey and TagValue together (got %q=%q)", b.TagKey, b.TagValue)
		}
	}
	if in := a.Incident; in != nil {
		if len(in.Contacts) == 0 {
			p.Addf("Incident.Contacts", "at least one contact is required")
		}
		if in.StageMinutes != 0 {
			p.IntRange("Incident.StageMinutes", in.StageMinutes, 1, 30)
		}
		seen := map[string]bool{}
		for i, c := range in.Contacts {
			f := fmt.Sprintf("Incident.Contacts[%d]", i)
			switch {
			case !aliasRE.MatchString(c.Alias):
				p.Addf(f+".Alias", "%q is not a contact alias (1-255 lower-case letters, digits, '-' or '_')", c.Alias)
			case seen[c.Alias]:
				p.Addf(f+".Alias", "%q is listed twice", c.Alias)
			}
			seen[c.Alias] = true
			if !displayRE.MatchString(c.Name) {
				p.Addf(f+".Name", "%q has characters Incident Manager refuses (letters, digits, spaces, '_', '.', '-')", c.Name)
			}
			if !emailRE.MatchString(c.Email) {
				p.Addf(f+".Email", "%q is not an email address", c.Email)
			}
		}
	}
	return p.Err(fmt.Sprintf("invalid monitoring args for %q", name))
}

func (a Args) checkThresholds(p *validate.Problems) {
	t := a.Thresholds
	percents := map[string]float64{
		"DatabaseCPUPercent": t.DatabaseCPUPercent, "DatabaseFreeStoragePercent": t.DatabaseFreeStoragePercent,
		"DatabaseFreeMemoryPercent": t.DatabaseFreeMemoryPercent, "DatabaseConnectionsPercent": t.DatabaseConnectionsPercent,
		"CacheCPUPercent": t.CacheCPUPercent, "CacheMemoryPercent": t.CacheMemoryPercent, "NodeCPUPercent": t.NodeCPUPercent,
		"NodeMemoryPercent": t.NodeMemoryPercent, "CDN5xxPercent": t.CDN5xxPercent, "CDN4xxPercent": t.CDN4xxPercent,
		"CanarySuccessPercent": t.CanarySuccessPercent,
	}
	for _, field := range slices.Sorted(maps.Keys(percents)) {
		if v := percents[field]; v <= 0 || v > 100 {
			p.Addf("Thresholds."+field, "%g is not a percentage in (0, 100]", v)
		}
	}
	counts := map[string]float64{
		"DatabaseReplicaLagSeconds": t.DatabaseReplicaLagSeconds, "CacheReplicationLagSeconds": t.CacheReplicationLagSeconds,
		"CacheEvictions": t.CacheEvictions, "PodRestarts": t.PodRestarts, "AppErrors": t.AppErrors,
		"WAFBlockedRequests": t.WAFBlockedRequests, "SlowRequestMillis": t.SlowRequestMillis,
		"CanaryDurationMillis": t.CanaryDurationMillis,
	}
	for _, field := range slices.Sorted(maps.Keys(counts)) {
		if v := counts[field]; v < 0 {
			p.Addf("Thresholds."+field, "must not be negative, got %g", v)
		}
	}
	p.IntRange("Thresholds.EvaluationPeriods", t.EvaluationPeriods, 1, 24)
	if t.DatapointsToAlarm < 1 || t.DatapointsToAlarm > t.EvaluationPeriods {
		p.Addf("Thresholds.DatapointsToAlarm", "%d must be 1 to EvaluationPeriods (%d)", t.DatapointsToAlarm, t.EvaluationPeriods)
	}
}
