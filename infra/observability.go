package infra

import (
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/canary"
	"github.com/scalemate/infra/components/cdn"
	"github.com/scalemate/infra/components/monitoring"
	"github.com/scalemate/infra/components/postgres"
	"github.com/scalemate/infra/components/redis"
	"github.com/scalemate/infra/components/waf"
	"github.com/scalemate/infra/stacks"
)

// alarmThresholds are each tier's alarm thresholds: dev tolerates more before it notifies,
// prod notifies early and after 2 breaching periods of 3.
func alarmThresholds(t stacks.Tier) monitoring.Thresholds {
	th := monitoring.DefaultThresholds()
	switch t {
	case stacks.Dev:
		th.DatabaseCPUPercent, th.CacheCPUPercent, th.CacheMemoryPercent, th.NodeCPUPercent, th.NodeMemoryPercent = 90, 90, 90, 90, 90
		th.DatabaseReplicaLagSeconds, th.CacheReplicationLagSeconds, th.CacheEvictions = 300, 30, 1000
		th.PodRestarts, th.AppErrors, th.CDN5xxPercent, th.CDN4xxPercent, th.WAFBlockedRequests = 10, 50, 5, 25, 5000
		th.SlowRequestMillis, th.DatapointsToAlarm = 2000, 3
	case stacks.Staging:
		th.DatabaseCPUPercent, th.CacheCPUPercent, th.CacheMemoryPercent, th.NodeCPUPercent, th.NodeMemoryPercent = 85, 85, 90, 85, 90
		th.DatabaseReplicaLagSeconds, th.CacheReplicationLagSeconds, th.CacheEvictions = 120, 15, 500
		th.PodRestarts, th.AppErrors, th.CDN5xxPercent, th.CDN4xxPercent, th.WAFBlockedRequests = 5, 20, 2, 15, 2000
		th.DatapointsToAlarm = 3
	}
	return th
}

// PlatformNamespace holds the platform's add-ons (load balancer controller, autoscaler, ...).
const PlatformNamespace = "platform"

// planMonitoring turns the Spec into the monitoring args and checks them; the edge target is
// wired in deployMonitoring, once the CDN exists.
func planMonitoring(spec *stacks.Spec, data *dataTier, users *canary.Args) (monitoring.Args, error) {
	prefix := spec.Project + "-" + spec.Stack
	mon, pg, rd := spec.Monitoring, data.postgres, data.redis
	args := monitoring.Args{
		Region:           spec.Region,
		Warning:          monitoring.Channel{Emails: mon.WarningEmails},
		Critical:         monitoring.Channel{Emails: mon.CriticalEmails},
		Thresholds:       alarmThresholds(spec.Tier),
		LogRetentionDays: spec.LogRetentionDays,
		Postgres: &monitoring.PostgresTarget{
			PrimaryIdentifier: pg.Identifier, ReplicaIdentifiers: postgres.ReplicaIdentifiers(pg.Identifier, pg.ReadReplicas),
			InstanceClass: pg.InstanceClass, AllocatedStorageGiB: pg.AllocatedStorageGiB,
		},
		Cache: &monitoring.CacheTarget{
			NodeIDs:    redis.MemberIDs(rd.Identifier, rd.Shards, rd.ReplicasPerShard, true),
			Replicated: rd.ReplicasPerShard > 0,
		},
		Cluster: &monitoring.ClusterTarget{
			Name: prefix, AppNamespace: AppNamespace, RestartNamespaces: []string{AppNamespace, PlatformNamespace, "kube-system"},
		},
		Budget:  &monitoring.Budget{MonthlyUSD: mon.MonthlyBudgetUSD, TagKey: "Environment", TagValue: spec.Stack},
		Protect: spec.Tier == stacks.Prod,
	}
	// A max_connections set in the parameter group replaces RDS's memory-based default.
	if v, err := strconv.Atoi(pg.Parameters["max_connections"]); err == nil {
		args.Postgres.MaxConnections = v
	}
	if len(mon.IncidentContacts) > 0 {
		args.Incident = &monitoring.Incident{StageMinutes: mon.EscalationStageMinutes}
		for _, c := range mon.IncidentContacts {
			args.Incident.Contacts = append(args.Incident.Contacts, monitoring.Contact{Alias: c.Alias, Name: c.Name, Email: c.Email})
		}
	}
	if users != nil {
		args.Canaries = &monitoring.CanaryTarget{Names: canary.CanaryNames(users.NamePrefix, users.Checks), StepNames: map[string]string{},
			FrequencyMinutes: users.FrequencyMinutes}
		for key, path := range users.Checks {
			args.Canaries.StepNames[key] = canary.StepName(path)
		}
	}
	if spec.OnCallWebhookURL != "" {
		args.Critical.HTTPSEndpoints = []pulumi.StringInput{pulumi.String(spec.OnCallWebhookURL)} // the component keeps it secret
	}
	r := &refusals{stack: spec.Stack}
	r.component(args.Check(prefix), stacks.KeyMonitoring, withCommon(map[string]string{
		"Warning.Emails": stacks.KeyMonitoring + ".warningEmails", "Critical.Emails": stacks.KeyMonitoring + ".criticalEmails",
		"Critical.HTTPSEndpoints": stacks.KeyOnCallWebhook, "Warning": stacks.KeyMonitoring + ".warningEmails",
		"Budget.MonthlyUSD": stacks.KeyMonitoring + ".monthlyBudgetUsd", "Postgres": stacks.KeyPostgres, "Cache": stacks.KeyRedis,
		"Incident.Contacts": stacks.KeyMonitoring + ".incidentContacts", "Incident.StageMinutes": stacks.KeyMonitoring + ".escalationStageMinutes",
		"Canaries": stacks.KeyMonitoring + ".canaries",
	}))
	if err := r.err(); err != nil {
		return args, err
	}
	return args, nil
}

// deployMonitoring watches the data tier, the cluster and the edge.
func deployMonitoring(ctx *pulumi.Context, spec *stacks.Spec, args monitoring.Args, p *Providers, e *edge, c *cdn.CDN, w *waf.WAF) (*monitoring.Monitoring, error) {
	args.Edge = &monitoring.EdgeTarget{Provider: p.AWSEdge, DistributionID: c.DistributionID, WebACLName: e.name, WAFLogGroupName: w.LogGroupName}
	return monitoring.New(ctx, spec.Project+"-"+spec.Stack, args, pulumi.Providers(p.AWS))
}

// canaryRetentionDays keeps the canaries' run results: a debugging aid, not an audit record.
const canaryRetentionDays = 31

// planCanaries turns the stack's checks into the canaries' args (nil when it runs none); the
// URL is wired in deployCanaries, once the CDN exists.
func planCanaries(spec *stacks.Spec) (*canary.Args, error) {
	checks := spec.Monitoring.CanaryChecks()
	if checks == nil {
		return nil, nil
	}
	args := &canary.Args{
		Region: spec.Region, NamePrefix: spec.Stack, Checks: checks, FrequencyMinutes: spec.Monitoring.CanaryMinutes,
		RetentionDays: min(spec.LogRetentionDays, canaryRetentionDays),
	}
	r := &refusals{stack: spec.Stack}
	r.component(args.Check(), stacks.KeyMonitoring, withCommon(map[string]string{
		"Checks": stacks.KeyMonitoring + ".canaries", "FrequencyMinutes": stacks.KeyMonitoring + ".canaryMinutes",
	}))
	return args, r.err()
}

// deployCanaries requests the public URL (the CDN's first domain name, or its own) once the
// application serves and the CDN with its DNS names exists: a canary failing before then would
// hold the rollback trigger in ALARM.
func deployCanaries(ctx *pulumi.Context, spec *stacks.Spec, args *canary.Args, p *Providers, e *edge, c *cdn.CDN, serving []pulumi.Resource) error {
	if args == nil {
		return nil
	}
	serving = append(serving, c)
	args.BaseURL = pulumi.Sprintf("https://%s", c.DomainName)
	if len(e.cdn.DomainNames) > 0 {
		args.BaseURL = pulumi.String("https://" + e.cdn.DomainNames[0])
	}
	args.After = serving
	users, err := canary.New(ctx, spec.Project+"-"+spec.Stack, *args, pulumi.Providers(p.AWS))
	if err != nil {
		return err
	}
	ctx.Export("canaryNames", users.NameOutputs)
	return nil
}
