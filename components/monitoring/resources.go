package monitoring

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/budgets"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/costexplorer"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssmcontacts"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssmincidents"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/kmskey"
)

// EdgeRegion is where CloudFront and CLOUDFRONT-scope WAF metrics are published.
const EdgeRegion = "us-east-1"

// appErrorsMetric counts the application's error log lines.
const appErrorsMetric = "AppErrors"

// ContainerInsightsLogGroups are the log groups the CloudWatch observability addon writes to.
var ContainerInsightsLogGroups = []string{"application", "dataplane", "host", "performance"}

// New creates the topics, alarms, dashboard, log groups, queries and budget.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if err := args.Check(name); err != nil {
		return nil, err
	}
	args = args.withDefaults(name)
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource("scalemate:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(m)
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, parent).AccountId()
	partition := iampolicy.Partition(args.Region)

	topics := map[bool]*channel{}
	var err error
	if topics[false], err = newChannel(ctx, name, args, account, partition, parent); err != nil {
		return nil, err
	}
	if args.Edge != nil {
		if topics[true], err = newChannel(ctx, name+"-edge", args, account, partition, parent, pulumi.Provider(args.Edge.Provider)); err != nil {
			return nil, err
		}
	}
	if args.Incident != nil {
		plan, err := onCall(ctx, name, args.Incident, parent)
		if err != nil {
			return nil, err
		}
		topics[false].incident, topics[false].hasIncident = plan, true
	}
	if args.Cluster != nil {
		if err := m.logs(ctx, name, args, parent); err != nil {
			return nil, err
		}
	}
	if args.Edge != nil && args.Edge.WAFLogGroupName != nil {
		if err := wafQuery(ctx, name, args.Edge, parent); err != nil {
			return nil, err
		}
	}

	all := alarms(args)
	health := pulumi.StringMap{}
	var names pulumi.StringArray
	for _, edge := range []bool{false, true} {
		ch := topics[edge]
		if ch == nil {
			continue
		}
		var critical []string
		var created []pulumi.Resource
		for _, al := range all {
			if al.Edge != edge {
				continue
			}
			a, err := newAlarm(ctx, name, args.Thresholds, al, ch, parent, ch.provider)
			if err != nil {
				return nil, err
			}
			names = append(names, a.Name)
			created = append(created, a)
			if (al.Severity == Critical && !al.NotRollback) || al.Rollback {
				critical = append(critical, name+"-"+al.Key)
			}
		}
		if len(critical) == 0 {
			continue
		}
		// The rollback trigger: any critical alarm of the region. It notifies the warning
		// topic only, as its members already page.
		key, region := "service-unhealthy", args.Region
		if edge {
			key, region = "edge-unhealthy", EdgeRegion
		}
		rule := make([]string, len(critical))
		for i, c := range critical {
			rule[i] = fmt.Sprintf("ALARM(%q)", c)
		}
		c, err := cloudwatch.NewCompositeAlarm(ctx, name+"-"+key, &cloudwatch.CompositeAlarmArgs{
			AlarmName:        pulumi.String(name + "-" + key),
			AlarmDescription: pulumi.String("Any critical alarm of " + name + " in " + region + " (storage exhaustion aside): deployments roll back while this is in ALARM"),
			AlarmRule:        pulumi.String(strings.Join(rule, " OR ")),
			AlarmActions:     pulumi.StringArray{ch.warning.Arn},
			OkActions:        pulumi.StringArray{ch.warning.Arn},
		}, parent, ch.provider, pulumi.DependsOn(created))
		if err != nil {
			return nil, fmt.Errorf("creating composite alarm %s: %w", key, err)
		}
		// Keyed by name: with us-east-1 as the main region both composites share a region.
		health[name+"-"+key] = c.AlarmName.ApplyT(func(string) string { return region }).(pulumi.StringOutput)
	}

	dash, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(name),
		DashboardBody: dashboardBody(args.Region, all),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating dashboard: %w", err)
	}
	if args.Budget != nil {
		if err := budget(ctx, name, args.Budget, topics[false], parent); err != nil {
			return nil, err
		}
		// Cost Explorer lives in us-east-1: its alerts go to that region's copy of the warning
		// topic where the stack has one.
		ch := topics[false]
		if topics[true] != nil {
			ch = topics[true]
		}
		if err := costAnomalies(ctx, name, args.Budget, ch, parent); err != nil {
			return nil, err
		}
	}
	if args.Cluster != nil {
		if err := lifecycleNotices(ctx, name, topics[false], parent); err != nil {
			return nil, err
		}
	}

	m.WarningTopicARN, m.CriticalTopicARN = topics[false].warning.Arn, topics[false].critical.Arn
	m.HealthAlarms = health.ToStringMapOutput()
	m.AlarmNames = names.ToStringArrayOutput()
	m.DashboardName = dash.DashboardName
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{
		"warningTopicArn": m.WarningTopicARN, "criticalTopicArn": m.CriticalTopicARN,
		"healthAlarms": m.HealthAlarms, "alarmNames": m.AlarmNames, "dashboardName": m.DashboardName,
	})
}

// EKSLifecyclePattern matches AWS Health's notices of an EKS version's end of standard support
// (and other planned EKS lifecycle changes), sent weeks ahead, per region.
const EKSLifecyclePattern = `{"source":["aws.health"],"detail-type":["AWS Health Event"],` +
	`"detail":{"service":["EKS"],"eventTypeCode":["AWS_EKS_PLANNED_LIFECYCLE_EVENT"]}}`

// lifecycleNotices sends AWS Health's EKS lifecycle notices to the warning topic: the alarm
// before a Kubernetes version leaves standard support (and AWS upgrades a STANDARD cluster
// itself). The notice lists the affected clusters; every stack of the account's region gets it.
func lifecycleNotices(ctx *pulumi.Context, name string, ch *channel, parent pulumi.ResourceOption) error {
	rule, err := cloudwatch.NewEventRule(ctx, name+"-eks-lifecycle", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(name + "-eks-lifecycle"),
		Description:  pulumi.String("AWS Health: planned EKS lifecycle events (a Kubernetes version's end of standard support) to " + name + "'s warning topic"),
		EventPattern: pulumi.String(EKSLifecyclePattern),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating the EKS lifecycle rule: %w", err)
	}
	if _, err := cloudwatch.NewEventTarget(ctx, name+"-eks-lifecycle", &cloudwatch.EventTargetArgs{
		Rule: rule.Name, Arn: ch.warning.Arn,
	}, parent); err != nil {
		return fmt.Errorf("targeting the EKS lifecycle rule: %w", err)
	}
	return nil
}

// channel is a region's pair of topics, and in the main region the response plan critical
// alarms start (nil without one).
type channel struct {
	warning, critical *sns.Topic
	provider          pulumi.ResourceOption
	incident          pulumi.StringOutput
	hasIncident       bool
}

// newChannel creates a KMS key the alarm and budget services may use, and the warning and
// critical topics encrypted with it. CloudWatch cannot publish to a topic encrypted with the
// AWS managed SNS key, hence the customer managed one.
func newChannel(ctx *pulumi.Context, name string, a Args, account pulumi.StringOutput, partition string, parent pulumi.ResourceOption, provider ...pulumi.ResourceOption) (*channel, error) {
	ch := &channel{provider: pulumi.Providers()}
	if len(provider) > 0 {
		ch.provider = provider[0]
	}
	publishers := []string{"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
	root := account.ApplyT(func(acct string) string { return "arn:" + partition + ":iam::" + acct + ":root" }).(pulumi.StringOutput)
	keyPolicy := root.ApplyT(func(r string) string {
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
			{Sid: "AccountAdministers", Effect: "Allow", Principal: map[string]any{"AWS": r}, Action: []string{"kms:*"}, Resource: "*"},
			{Sid: "AlarmsBudgetsAndEventsPublish", Effect: "Allow", Principal: map[string]any{"Service": append(slices.Clone(publishers), "events.amazonaws.com", "costalerts.amazonaws.com")},
				Action: []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: "*"},
		}}.JSON()
	}).(pulumi.StringOutput)
	key, err := kmskey.New(ctx, name+"-alerts", kmskey.Args{
		Description: "Encrypts the alert topics of " + name, Alias: name + "-alerts", Policy: keyPolicy, Protect: a.Protect,
	}, parent, ch.provider)
	if err != nil {
		return nil, err
	}
	for _, sev := range []Severity{Warning, Critical} {
		c := a.Warning
		if sev == Critical {
			c = a.Critical
		}
		topicName := name + "-" + string(sev)
		topic, err := sns.NewTopic(ctx, topicName, &sns.TopicArgs{
			Name: pulumi.String(topicName), DisplayName: pulumi.String(name + " " + string(sev)), KmsMasterKeyId: key.Arn,
		}, parent, ch.provider)
		if err != nil {
			return nil, fmt.Errorf("creating %s topic: %w", sev, err)
		}
		policy := pulumi.All(topic.Arn, root, account).ApplyT(func(v []any) string {
			arn, r, acct := v[0].(string), v[1].(string), v[2].(string)
			return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
				{Sid: "AccountManages", Effect: "Allow", Principal: map[string]any{"AWS": r}, Resource: arn, Action: []string{
					"sns:Publish", "sns:Subscribe", "sns:Receive", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
					"sns:ListSubscriptionsByTopic", "sns:AddPermission", "sns:RemovePermission", "sns:DeleteTopic"}},
				{Sid: "AlarmsAndBudgetsPublish", Effect: "Allow", Principal: map[string]any{"Service": publishers},
					Action: []string{"sns:Publish"}, Resource: arn,
					Condition: iampolicy.Condition{"StringEquals": {"aws:SourceAccount": acct}}},
				// Cost Anomaly Detection (its documented statement has no condition).
				{Sid: "CostAlertsPublish", Effect: "Allow", Principal: map[string]any{"Service": "costalerts.amazonaws.com"},
					Action: []string{"sns:Publish"}, Resource: arn},
				// EventBridge rules of this account (the EKS lifecycle notices), by rule ARN.
				{Sid: "RulesPublish", Effect: "Allow", Principal: map[string]any{"Service": "events.amazonaws.com"},
					Action: []string{"sns:Publish"}, Resource: arn,
					Condition: iampolicy.Condition{"ArnLike": {"aws:SourceArn": "arn:" + partition + ":events:*:" + acct + ":rule/" + name + "-*"}}},
				{Sid: "TLSOnly", Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: []string{"sns:Publish"}, Resource: arn,
					Condition: iampolicy.Condition{"Bool": {"aws:SecureTransport": "false"}}},
			}}.JSON()
		}).(pulumi.StringOutput)
		if _, err := sns.NewTopicPolicy(ctx, topicName, &sns.TopicPolicyArgs{Arn: topic.Arn, Policy: policy}, parent, ch.provider); err != nil {
			return nil, fmt.Errorf("creating %s topic policy: %w", sev, err)
		}
		for _, email := range c.Emails {
			if _, err := sns.NewTopicSubscription(ctx, topicName+"-"+email, &sns.TopicSubscriptionArgs{
				Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(email),
			}, parent, ch.provider); err != nil {
				return nil, fmt.Errorf("subscribing %s to the %s topic: %w", email, sev, err)
			}
		}
		for i, endpoint := range c.HTTPSEndpoints {
			if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-https-%d", topicName, i), &sns.TopicSubscriptionArgs{
				Topic: topic.Arn, Protocol: pulumi.String("https"), Endpoint: pulumi.ToSecret(endpoint).(pulumi.StringOutput),
				// On-call tools confirm the subscription themselves.
				EndpointAutoConfirms: pulumi.Bool(true),
			}, parent, ch.provider); err != nil {
				return nil, fmt.Errorf("subscribing HTTPS endpoint %d to the %s topic: %w", i, sev, err)
			}
		}
		if sev == Warning {
			ch.warning = topic
		} else {
			ch.critical = topic
		}
	}
	return ch, nil
}

// newAlarm creates one metric alarm; critical alarms notify both topics.
func newAlarm(ctx *pulumi.Context, name string, t Thresholds, al Alarm, ch *channel, opts ...pulumi.ResourceOption) (*cloudwatch.MetricAlarm, error) {
	actions := pulumi.Array{ch.warning.Arn}
	if al.Severity == Critical {
		actions = pulumi.Array{ch.critical.Arn, ch.warning.Arn}
	}
	okActions := actions
	if al.Severity == Critical && ch.hasIncident {
		// Starts an incident, whose escalation plan pages; recovering starts none.
		actions = append(slices.Clone(actions), ch.incident)
	}
	args := &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(name + "-" + al.Key),
		AlarmDescription:   pulumi.String(fmt.Sprintf("[%s] %s", al.Severity, al.Description)),
		ComparisonOperator: pulumi.String(al.Comparison),
		Threshold:          pulumi.Float64(al.Threshold),
		EvaluationPeriods:  pulumi.Int(t.EvaluationPeriods),
		DatapointsToAlarm:  pulumi.Int(t.DatapointsToAlarm),
		TreatMissingData:   pulumi.String(al.TreatMissingData),
		AlarmActions:       actions,
		OkActions:          okActions,
	}
	switch {
	case al.Query != "":
		args.MetricQueries = cloudwatch.MetricAlarmMetricQueryArray{cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String("q"), Expression: pulumi.String(al.Query), Period: pulumi.Int(al.period()),
			Label: pulumi.String(al.Key), ReturnData: pulumi.Bool(true),
		}}
	case len(al.Metrics) == 1:
		m := al.Metrics[0]
		args.Namespace, args.MetricName, args.Statistic, args.Period = pulumi.String(m.Namespace), pulumi.String(m.Name), pulumi.String(m.Stat), pulumi.Int(al.period())
		if len(m.Dimensions) > 0 {
			args.Dimensions = m.Dimensions
		}
	default:
		var queries cloudwatch.MetricAlarmMetricQueryArray
		for i, m := range al.Metrics {
			queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.Sprintf("m%d", i), ReturnData: pulumi.Bool(false),
				Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String(m.Namespace), MetricName: pulumi.String(m.Name), Stat: pulumi.String(m.Stat),
					Period: pulumi.Int(al.period()), Dimensions: m.Dimensions,
				},
			})
		}
		queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String("worst"), Expression: pulumi.String(expression(len(al.Metrics))),
			Label: pulumi.String(al.Metrics[0].Name + " (worst of " + fmt.Sprint(len(al.Metrics)) + ")"), ReturnData: pulumi.Bool(true),
		})
		args.MetricQueries = queries
	}
	a, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+al.Key, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating alarm %s: %w", al.Key, err)
	}
	return a, nil
}

// dashboardBody is one graph per alarm, with the alarm's threshold drawn in.
func dashboardBody(region string, all []Alarm) pulumi.StringOutput {
	var dims []any
	for _, al := range all {
		for _, m := range al.Metrics {
			dims = append(dims, m.Dimensions)
		}
	}
	return pulumi.All(dims...).ApplyT(func(values []any) (string, error) {
		widgets := []any{}
		i := 0
		for n, al := range all {
			var lines []any
			for _, m := range al.Metrics {
				d := values[i].(map[string]string)
				i++
				line := []any{m.Namespace, m.Name}
				for _, k := range slices.Sorted(maps.Keys(d)) {
					line = append(line, k, d[k])
				}
				lines = append(lines, append(line, map[string]any{"stat": m.Stat}))
			}
			if al.Query != "" {
				lines = append(lines, []any{map[string]any{"expression": al.Query, "label": al.Key, "id": "q"}})
			}
			r := region
			if al.Edge {
				r = EdgeRegion
			}
			widgets = append(widgets, map[string]any{
				"type": "metric", "x": (n % 2) * 12, "y": (n / 2) * 6, "width": 12, "height": 6,
				"properties": map[string]any{
					"title": al.Key, "region": r, "metrics": lines, "period": al.period(), "view": "timeSeries",
					"annotations": map[string]any{"horizontal": []any{map[string]any{"label": string(al.Severity), "value": al.Threshold}}},
				},
			})
		}
		b, err := json.Marshal(map[string]any{"widgets": widgets})
		return string(b), err
	}).(pulumi.StringOutput)
}

// logs creates the Container Insights log groups with retention, counts the application's
// error lines into a metric and saves the common Logs Insights searches. Fluent Bit in the
// addon sends each line with its Kubernetes metadata and, for JSON lines, the parsed fields
// under log_processed (the application logs JSON with level, path and duration_ms).
func (m *Monitoring) logs(ctx *pulumi.Context, name string, a Args, parent pulumi.ResourceOption) error {
	k := a.Cluster
	var app *cloudwatch.LogGroup
	for _, kind := range ContainerInsightsLogGroups {
		g, err := cloudwatch.NewLogGroup(ctx, name+"-containerinsights-"+kind, &cloudwatch.LogGroupArgs{
			Name:            pulumi.String("/aws/containerinsights/" + k.Name + "/" + kind),
			RetentionInDays: pulumi.Int(a.LogRetentionDays),
		}, parent)
		if err != nil {
			return fmt.Errorf("creating %s log group: %w", kind, err)
		}
		m.ContainerLogGroups = append(m.ContainerLogGroups, g)
		if kind == "application" {
			app = g
		}
	}
	if _, err := cloudwatch.NewLogMetricFilter(ctx, name+"-app-errors", &cloudwatch.LogMetricFilterArgs{
		Name:         pulumi.String(name + "-app-errors"),
		LogGroupName: app.Name,
		Pattern:      pulumi.String(ErrorPattern(k.AppNamespace)),
		MetricTransformation: cloudwatch.LogMetricFilterMetricTransformationArgs{
			Namespace: pulumi.String(a.MetricNamespace), Name: pulumi.String(appErrorsMetric),
			// 0 when nothing matches keeps the metric continuous for the alarm.
			Value: pulumi.String("1"), DefaultValue: pulumi.String("0"), Unit: pulumi.String("Count"),
		},
	}, parent); err != nil {
		return fmt.Errorf("creating error metric filter: %w", err)
	}
	ns := fmt.Sprintf("kubernetes.namespace_name = %q", k.AppNamespace)
	for _, q := range []struct{ key, query string }{
		{"errors-by-service", "fields @timestamp, kubernetes.container_name as service, log\n| filter " + ns +
			" and log_processed.level in [\"error\", \"ERROR\", \"fatal\", \"FATAL\"]\n| stats count(*) as errors by service\n| sort errors desc"},
		{"slow-requests", fmt.Sprintf("fields @timestamp, kubernetes.container_name as service, log_processed.path as path, log_processed.duration_ms as ms\n| filter %s and ms > %g\n| sort ms desc\n| limit 100", ns, a.Thresholds.SlowRequestMillis)},
	} {
		if _, err := cloudwatch.NewQueryDefinition(ctx, name+"-"+q.key, &cloudwatch.QueryDefinitionArgs{
			Name: pulumi.String(name + "/" + q.key), LogGroupNames: pulumi.StringArray{app.Name}, QueryString: pulumi.String(q.query),
		}, parent); err != nil {
			return fmt.Errorf("saving query %s: %w", q.key, err)
		}
	}
	return nil
}

// ErrorPattern is the metric filter pattern matching a namespace's error and fatal lines.
func ErrorPattern(namespace string) string {
	return fmt.Sprintf(`{ $.kubernetes.namespace_name = %q && ($.log_processed.level = "error" || $.log_processed.level = "ERROR" || $.log_processed.level = "fatal" || $.log_processed.level = "FATAL") }`, namespace)
}

// wafQuery saves the "WAF blocks" search next to the WAF's log group in us-east-1.
func wafQuery(ctx *pulumi.Context, name string, e *EdgeTarget, parent pulumi.ResourceOption) error {
	_, err := cloudwatch.NewQueryDefinition(ctx, name+"-waf-blocks", &cloudwatch.QueryDefinitionArgs{
		Name:          pulumi.String(name + "/waf-blocks"),
		LogGroupNames: pulumi.StringArray{e.WAFLogGroupName},
		QueryString: pulumi.String("fields @timestamp, httpRequest.clientIp as ip, httpRequest.country as country, terminatingRuleId as rule, httpRequest.uri as uri\n" +
			"| filter action = \"BLOCK\"\n| stats count(*) as blocked by rule, ip, country\n| sort blocked desc\n| limit 50"),
	}, parent, pulumi.Provider(e.Provider))
	if err != nil {
		return fmt.Errorf("saving query waf-blocks: %w", err)
	}
	return nil
}

// budget notifies the warning topic at 80 % and 100 % of actual spend and when the month's
// forecast passes the limit.
// onCall creates the contacts (engaged by email), an escalation plan through them in order and
// the response plan critical alarms start, and returns the response plan's ARN.
func onCall(ctx *pulumi.Context, name string, in *Incident, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	minutes := in.StageMinutes
	if minutes == 0 {
		minutes = 10
	}
	var stages ssmcontacts.PlanStageArray
	for _, c := range in.Contacts {
		display := c.Name
		if display == "" {
			display = c.Alias
		}
		// Aliases are unique in the account: prefixed, so stacks sharing one may list the same person.
		contact, err := ssmcontacts.NewContact(ctx, name+"-"+c.Alias, &ssmcontacts.ContactArgs{
			Alias: pulumi.String(name + "-" + c.Alias), DisplayName: pulumi.String(display), Type: pulumi.String("PERSONAL"),
		}, parent)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("creating contact %s: %w", c.Alias, err)
		}
		email, err := ssmcontacts.NewContactChannel(ctx, name+"-"+c.Alias, &ssmcontacts.ContactChannelArgs{
			ContactId: contact.Arn, Name: pulumi.String("email"), Type: pulumi.String("EMAIL"),
			DeliveryAddress: ssmcontacts.ContactChannelDeliveryAddressArgs{SimpleAddress: pulumi.String(c.Email)},
		}, parent)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("creating the email channel of %s: %w", c.Alias, err)
		}
		if _, err := ssmcontacts.NewPlan(ctx, name+"-"+c.Alias, &ssmcontacts.PlanArgs{
			ContactId: contact.Arn,
			Stages: ssmcontacts.PlanStageArray{ssmcontacts.PlanStageArgs{
				DurationInMinutes: pulumi.Int(0),
				Targets: ssmcontacts.PlanStageTargetArray{ssmcontacts.PlanStageTargetArgs{
					ChannelTargetInfo: ssmcontacts.PlanStageTargetChannelTargetInfoArgs{ContactChannelId: email.Arn, RetryIntervalInMinutes: pulumi.Int(5)},
				}},
			}},
		}, parent); err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("creating the engagement plan of %s: %w", c.Alias, err)
		}
		stages = append(stages, ssmcontacts.PlanStageArgs{
			DurationInMinutes: pulumi.Int(minutes),
			Targets: ssmcontacts.PlanStageTargetArray{ssmcontacts.PlanStageTargetArgs{
				// Essential: the contact's acknowledgement stops the escalation.
				ContactTargetInfo: ssmcontacts.PlanStageTargetContactTargetInfoArgs{ContactId: contact.Arn, IsEssential: pulumi.Bool(true)},
			}},
		})
	}
	escalation, err := ssmcontacts.NewContact(ctx, name+"-on-call", &ssmcontacts.ContactArgs{
		Alias: pulumi.String(name + "-on-call"), DisplayName: pulumi.String(name + " on call"), Type: pulumi.String("ESCALATION"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating the escalation plan: %w", err)
	}
	if _, err := ssmcontacts.NewPlan(ctx, name+"-on-call", &ssmcontacts.PlanArgs{ContactId: escalation.Arn, Stages: stages}, parent); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating the escalation stages: %w", err)
	}
	plan, err := ssmincidents.NewResponsePlan(ctx, name, &ssmincidents.ResponsePlanArgs{
		Name: pulumi.String(name), DisplayName: pulumi.String(name + " critical alarms"),
		IncidentTemplate: ssmincidents.ResponsePlanIncidentTemplateArgs{
			Title: pulumi.String(name + ": a critical alarm"), Impact: pulumi.Int(1),
			Summary: pulumi.String("A critical alarm of " + name + " is in ALARM: see its runbook link and the dashboard " + name),
		},
		Engagements: pulumi.StringArray{escalation.Arn},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating the response plan: %w", err)
	}
	return plan.Arn, nil
}

// costAnomalies watches the environment's spend for anomalies (Cost Anomaly Detection, a
// machine-learning monitor of the cost allocation tag) and sends each one at once to the warning
// topic: the budget catches a month that runs over, this a day that jumps.
func costAnomalies(ctx *pulumi.Context, name string, b *Budget, ch *channel, parent pulumi.ResourceOption) error {
	if b.TagKey == "" {
		return nil // an account-wide monitor belongs to the account, not to a stack
	}
	// No MatchOptions: they apply to cost categories only, and AWS would hand back a spec without
	// them, a diff that replaces the monitor and its learned history.
	spec, err := json.Marshal(map[string]any{"Tags": map[string]any{"Key": b.TagKey, "Values": []string{b.TagValue}}})
	if err != nil {
		return err
	}
	monitor, err := costexplorer.NewAnomalyMonitor(ctx, name+"-spend", &costexplorer.AnomalyMonitorArgs{
		Name: pulumi.String(name + "-spend"), MonitorType: pulumi.String("CUSTOM"), MonitorSpecification: pulumi.String(string(spec)),
	}, parent, ch.provider)
	if err != nil {
		return fmt.Errorf("creating the cost anomaly monitor: %w", err)
	}
	// An anomaly worth a message: 2 % of the monthly budget, at least 10 USD of impact.
	threshold := max(10, b.MonthlyUSD*0.02)
	if _, err := costexplorer.NewAnomalySubscription(ctx, name+"-spend", &costexplorer.AnomalySubscriptionArgs{
		Name: pulumi.String(name + "-spend"), Frequency: pulumi.String("IMMEDIATE"),
		MonitorArnLists: pulumi.StringArray{monitor.Arn},
		Subscribers: costexplorer.AnomalySubscriptionSubscriberArray{costexplorer.AnomalySubscriptionSubscriberArgs{
			Type: pulumi.String("SNS"), Address: ch.warning.Arn,
		}},
		ThresholdExpression: costexplorer.AnomalySubscriptionThresholdExpressionArgs{
			Dimension: costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs{
				Key: pulumi.String("ANOMALY_TOTAL_IMPACT_ABSOLUTE"), MatchOptions: pulumi.StringArray{pulumi.String("GREATER_THAN_OR_EQUAL")},
				Values: pulumi.StringArray{pulumi.String(fmt.Sprintf("%.0f", threshold))},
			},
		},
	}, parent, ch.provider); err != nil {
		return fmt.Errorf("subscribing to cost anomalies: %w", err)
	}
	return nil
}

func budget(ctx *pulumi.Context, name string, b *Budget, ch *channel, parent pulumi.ResourceOption) error {
	var notes budgets.BudgetNotificationArray
	for _, n := range []struct {
		kind      string
		threshold float64
	}{{"ACTUAL", 80}, {"ACTUAL", 100}, {"FORECASTED", 100}} {
		notes = append(notes, budgets.BudgetNotificationArgs{
			NotificationType: pulumi.String(n.kind), ComparisonOperator: pulumi.String("GREATER_THAN"),
			Threshold: pulumi.Float64(n.threshold), ThresholdType: pulumi.String("PERCENTAGE"),
			SubscriberSnsTopicArns: pulumi.StringArray{ch.warning.Arn},
		})
	}
	args := &budgets.BudgetArgs{
		Name: pulumi.String(name + "-monthly"), BudgetType: pulumi.String("COST"), TimeUnit: pulumi.String("MONTHLY"),
		LimitAmount: pulumi.String(fmt.Sprintf("%.2f", b.MonthlyUSD)), LimitUnit: pulumi.String("USD"),
		Notifications: notes,
	}
	if b.TagKey != "" {
		args.CostFilters = budgets.BudgetCostFilterArray{budgets.BudgetCostFilterArgs{
			Name: pulumi.String("TagKeyValue"), Values: pulumi.StringArray{pulumi.String("user:" + b.TagKey + "$" + b.TagValue)},
		}}
	}
	if _, err := budgets.NewBudget(ctx, name+"-monthly", args, parent); err != nil {
		return fmt.Errorf("creating budget: %w", err)
	}
	return nil
}
