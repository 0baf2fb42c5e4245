// Package program is the account baseline's Pulumi program (baseline/ runs it): the account
// singletons the ScaleMate stacks need
// and must not create themselves (a second stack in the account would fail on them): once per
// AWS account and region, after bootstrap/ and before the first environment stack.
//
// It creates the audit trail (a multi-region CloudTrail with log file validation, encrypted
// with a key of its own, into a versioned bucket, object-locked where asked, and into CloudWatch
// Logs with the CIS AWS Foundations metric filters and alarms), threat detection (GuardDuty with
// EKS audit logs, EKS runtime monitoring with the managed agent, RDS login events, S3 data
// events and malware protection), compliance checking (Security Hub with the Foundational
// Security Best Practices and CIS standards; AWS Config recording every resource), IAM Access
// Analyzer, Inspector (EC2 and ECR scanning), and the account defaults: EBS encryption, the S3
// public access block, IMDSv2. High and critical findings of GuardDuty, Security Hub and
// Inspector reach the security topic through EventBridge: the "security incident" trigger.
package program

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/accessanalyzer"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cfg"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/inspector2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/securityhub"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssmincidents"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/kmskey"
	"github.com/scalemate/infra/internal/s3bucket"
	"github.com/scalemate/infra/internal/sessionprefs"
	"github.com/scalemate/infra/internal/validate"
)

// Name prefixes every physical name of the baseline.
const Name = "scalemate-baseline"

// Settings are the baseline stack's config, validated before anything is registered.
type Settings struct {
	// Region is aws:region: the region whose singletons this stack owns.
	Region string
	// AlertEmails are subscribed to the security topic. At least one, or an on-call webhook.
	AlertEmails []string
	// OnCallWebhookURL is an on-call tool's HTTPS endpoint (a secret). Optional.
	OnCallWebhookURL string
	// LogRetentionDays keeps the trail's CloudWatch copy and the trail bucket's objects. Default 365.
	LogRetentionDays int
	// ObjectLock locks the trail's objects for LogRetentionDays (production accounts). Default false.
	ObjectLock bool
	// IncidentManager creates Incident Manager's replication set (the stacks' incident response
	// plans need it). AWS takes no new Incident Manager customers since 7 Nov 2025: only for an
	// account already onboarded, and only if it has no set yet (one per account; import an
	// existing one). Default false.
	IncidentManager bool
	// HomeRegion is the one region of the account that holds what is account-wide: the
	// multi-region trail with its CIS alarms, the account's S3 public access block, and Config's
	// recording of global resources (IAM). Every other region's baseline stack has the regional
	// services only. Default aws:region.
	HomeRegion string
	// SessionLogRetentionDays keeps the Session Manager session log. Default LogRetentionDays.
	SessionLogRetentionDays int
}

func load(ctx *pulumi.Context) (Settings, error) {
	c := config.New(ctx, "")
	s := Settings{Region: config.New(ctx, "aws").Get("region"), LogRetentionDays: 365, ObjectLock: c.GetBool("objectLock")}
	_ = c.TryObject("alertEmails", &s.AlertEmails)
	s.OnCallWebhookURL = c.Get("onCallWebhookUrl")
	s.IncidentManager = c.GetBool("incidentManager")
	s.HomeRegion = c.Get("homeRegion")
	if s.HomeRegion == "" {
		s.HomeRegion = s.Region
	}
	if v, err := c.TryInt("logRetentionDays"); err == nil && v != 0 {
		s.LogRetentionDays = v
	}
	s.SessionLogRetentionDays = s.LogRetentionDays
	if v, err := c.TryInt("sessionLogRetentionDays"); err == nil && v != 0 {
		s.SessionLogRetentionDays = v
	}
	var p validate.Problems
	p.NotEmpty("aws:region", s.Region)
	p.LogRetention("scalemate-baseline:logRetentionDays", s.LogRetentionDays)
	p.LogRetention("scalemate-baseline:sessionLogRetentionDays", s.SessionLogRetentionDays)
	if len(s.AlertEmails) == 0 && s.OnCallWebhookURL == "" {
		p.Addf("scalemate-baseline:alertEmails", "set at least one address (or scalemate-baseline:onCallWebhookUrl): security findings must reach someone")
	}
	for i, e := range s.AlertEmails {
		if !emailRE.MatchString(e) {
			p.Addf(fmt.Sprintf("scalemate-baseline:alertEmails[%d]", i), "%q is not an email address", e)
		}
	}
	if s.OnCallWebhookURL != "" && !ctx.IsConfigSecret("scalemate-baseline:onCallWebhookUrl") {
		p.Addf("scalemate-baseline:onCallWebhookUrl", "holds a credential and is in plain text; set it as a secret: pulumi config set --secret scalemate-baseline:onCallWebhookUrl <value>")
	}
	return s, p.Err("invalid config for the account baseline")
}

// Run is the program: it reads the stack's config, refuses a bad one before anything exists, and
// creates the baseline.
func Run(ctx *pulumi.Context) error {
	s, err := load(ctx)
	if err != nil {
		return err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the caller's account: %w", err)
	}
	a := account{Partition: iampolicy.Partition(s.Region), ID: caller.AccountId, Region: s.Region}
	keep := []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}

	key, err := kmskey.New(ctx, Name, kmskey.Args{
		Description: "The audit trail, its CloudWatch copy, AWS Config's history and the security topic",
		Alias:       Name, Policy: pulumi.String(keyPolicy(a)), Protect: true,
	})
	if err != nil {
		return err
	}
	topic, err := securityTopic(ctx, s, a, key)
	if err != nil {
		return err
	}
	home := s.Region == s.HomeRegion
	if home {
		trail, err := auditTrail(ctx, s, a, key, topic, keep)
		if err != nil {
			return err
		}
		ctx.Export("trailArn", trail.trail.Arn)
		ctx.Export("trailBucket", trail.bucket.Bucket)
	}
	if home && s.IncidentManager {
		// Incident Manager's account-wide set, before any stack's contacts or response plan.
		// Protected: deleting it deletes every incident record.
		if _, err := ssmincidents.NewReplicationSet(ctx, Name, &ssmincidents.ReplicationSetArgs{
			Regions: ssmincidents.ReplicationSetRegionArray{ssmincidents.ReplicationSetRegionArgs{Name: pulumi.String(s.Region)}},
		}, pulumi.Protect(true)); err != nil {
			return fmt.Errorf("creating the Incident Manager replication set: %w", err)
		}
	}
	if err := threatDetection(ctx); err != nil {
		return err
	}
	if err := compliance(ctx, a, key, home); err != nil {
		return err
	}
	if err := accountDefaults(ctx, a, home); err != nil {
		return err
	}
	if err := sessionPreferences(ctx, s, a); err != nil {
		return err
	}
	if err := findingsToTopic(ctx, topic); err != nil {
		return err
	}
	ctx.Export("securityTopicArn", topic.Arn)
	return nil
}

// account is where the baseline runs.
type account struct{ Partition, ID, Region string }

func (a account) arn(service, resource string) string {
	return "arn:" + a.Partition + ":" + service + ":" + a.Region + ":" + a.ID + ":" + resource
}

// keyPolicy lets the account administer the key and the services that write what it encrypts
// use it, each for this account only.
func keyPolicy(a account) string {
	root := "arn:" + a.Partition + ":iam::" + a.ID + ":root"
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Sid: "AccountAdministers", Effect: "Allow", Principal: map[string]any{"AWS": root}, Action: []string{"kms:*"}, Resource: "*"},
		// CloudTrail's three statements (CloudTrail user guide, "Configure AWS KMS key policies for
		// CloudTrail"): encrypt for this account's trails, describe the key, and decrypt (the
		// bucket uses an S3 Bucket Key).
		{Sid: "CloudTrailEncrypts", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
			Action: []string{"kms:GenerateDataKey*"}, Resource: "*",
			Condition: iampolicy.Condition{
				"StringLike":   {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:" + a.Partition + ":cloudtrail:*:" + a.ID + ":trail/*"},
				"StringEquals": {"aws:SourceArn": a.arn("cloudtrail", "trail/"+Name)},
			}},
		{Sid: "CloudTrailDescribesAndDecrypts", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
			Action: []string{"kms:DescribeKey", "kms:Decrypt"}, Resource: "*",
			Condition: iampolicy.Condition{"StringEquals": {"aws:SourceArn": a.arn("cloudtrail", "trail/"+Name)}}},
		{Sid: "LogsEncrypt", Effect: "Allow", Principal: map[string]any{"Service": "logs." + a.Region + ".amazonaws.com"},
			Action: []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}, Resource: "*",
			Condition: iampolicy.Condition{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": a.arn("logs", "*")}}},
		{Sid: "ServicesPublish", Effect: "Allow",
			Principal: map[string]any{"Service": []string{"config.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"}},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey*"}, Resource: "*",
			Condition: iampolicy.Condition{"StringEquals": {"aws:SourceAccount": a.ID}}},
	}}.JSON()
}

// securityTopic is where findings and the CIS alarms go: encrypted, published to by CloudWatch
// (this account) and EventBridge (this account's rules), subscribed by the security contacts.
func securityTopic(ctx *pulumi.Context, s Settings, a account, key *kms.Key) (*sns.Topic, error) {
	topic, err := sns.NewTopic(ctx, Name, &sns.TopicArgs{Name: pulumi.String(Name), KmsMasterKeyId: key.Arn})
	if err != nil {
		return nil, fmt.Errorf("creating the security topic: %w", err)
	}
	policy := topic.Arn.ApplyT(func(arn string) string {
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
			{Sid: "AlarmsPublish", Effect: "Allow", Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"}, Action: []string{"sns:Publish"},
				Resource: arn, Condition: iampolicy.Condition{"StringEquals": {"aws:SourceAccount": a.ID}}},
			{Sid: "RulesPublish", Effect: "Allow", Principal: map[string]any{"Service": "events.amazonaws.com"}, Action: []string{"sns:Publish"},
				Resource: arn, Condition: iampolicy.Condition{"ArnLike": {"aws:SourceArn": a.arn("events", "rule/"+Name+"-*")}}},
			{Sid: "TLSOnly", Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: []string{"sns:Publish"}, Resource: arn,
				Condition: iampolicy.Condition{"Bool": {"aws:SecureTransport": "false"}}},
		}}.JSON()
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, Name, &sns.TopicPolicyArgs{Arn: topic.Arn, Policy: policy}); err != nil {
		return nil, fmt.Errorf("setting the security topic's policy: %w", err)
	}
	for _, e := range s.AlertEmails {
		if _, err := sns.NewTopicSubscription(ctx, Name+"-"+e, &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(e),
		}); err != nil {
			return nil, err
		}
	}
	if s.OnCallWebhookURL != "" {
		if _, err := sns.NewTopicSubscription(ctx, Name+"-on-call", &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("https"), Endpoint: pulumi.ToSecret(pulumi.String(s.OnCallWebhookURL)).(pulumi.StringOutput),
			EndpointAutoConfirms: pulumi.Bool(true),
		}); err != nil {
			return nil, err
		}
	}
	return topic, nil
}

// trail is the audit trail and its bucket.
type trail struct {
	trail  *cloudtrail.Trail
	bucket *s3.BucketV2
}

// auditTrail is the account's multi-region trail: validated log files into a KMS-encrypted,
// versioned bucket (object-locked where asked), and a CloudWatch Logs copy with the CIS metric
// filters and their alarms.
func auditTrail(ctx *pulumi.Context, s Settings, a account, key *kms.Key, topic *sns.Topic, keep []pulumi.ResourceOption) (*trail, error) {
	lock := 0
	if s.ObjectLock {
		lock = s.LogRetentionDays
	}
	b, err := s3bucket.New(ctx, Name+"-trail", s3bucket.Args{
		Prefix: Name + "-trail-", KMSKeyARN: key.Arn, ExpireDays: s.LogRetentionDays,
		NoncurrentDays: 30, ObjectLockDays: lock, DeferPolicy: true, Protect: true,
	})
	if err != nil {
		return nil, err
	}
	trailARN := a.arn("cloudtrail", "trail/"+Name)
	grants := b.BucketV2.Arn.ApplyT(func(arn string) []iampolicy.Statement {
		return []iampolicy.Statement{
			{Sid: "TrailChecksTheBucket", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
				Action: []string{"s3:GetBucketAcl"}, Resource: arn, Condition: iampolicy.Condition{"StringEquals": {"aws:SourceArn": trailARN}}},
			{Sid: "TrailWrites", Effect: "Allow", Principal: map[string]any{"Service": "cloudtrail.amazonaws.com"},
				Action: []string{"s3:PutObject"}, Resource: arn + "/AWSLogs/" + a.ID + "/*",
				Condition: iampolicy.Condition{"StringEquals": {"aws:SourceArn": trailARN, "s3:x-amz-acl": "bucket-owner-full-control"}}},
		}
	})
	policy, err := s3bucket.Policy(ctx, Name+"-trail", b, grants, keep...)
	if err != nil {
		return nil, err
	}

	logs, err := cloudwatch.NewLogGroup(ctx, Name+"-trail", &cloudwatch.LogGroupArgs{
		Name: pulumi.String("/aws/cloudtrail/" + Name), RetentionInDays: pulumi.Int(s.LogRetentionDays), KmsKeyId: key.Arn,
	}, keep...)
	if err != nil {
		return nil, fmt.Errorf("creating the trail's log group: %w", err)
	}
	role, err := iam.NewRole(ctx, Name+"-trail", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("cloudtrail.amazonaws.com")),
		Description:      pulumi.String("CloudTrail delivers the account's trail to CloudWatch Logs"),
		InlinePolicies: iam.RoleInlinePolicyArray{iam.RoleInlinePolicyArgs{
			Name: pulumi.String("deliver"),
			Policy: logs.Arn.ApplyT(func(arn string) string {
				return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
					Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: arn + ":log-stream:*",
				}}}.JSON()
			}).(pulumi.StringOutput),
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the trail's delivery role: %w", err)
	}
	t, err := cloudtrail.NewTrail(ctx, Name, &cloudtrail.TrailArgs{
		Name: pulumi.String(Name), S3BucketName: b.BucketV2.Bucket, KmsKeyId: key.Arn,
		IsMultiRegionTrail: pulumi.Bool(true), IncludeGlobalServiceEvents: pulumi.Bool(true), EnableLogFileValidation: pulumi.Bool(true),
		CloudWatchLogsGroupArn: pulumi.Sprintf("%s:*", logs.Arn), CloudWatchLogsRoleArn: role.Arn,
	}, append(keep, pulumi.DependsOn([]pulumi.Resource{policy}))...)
	if err != nil {
		return nil, fmt.Errorf("creating the trail: %w", err)
	}
	for _, f := range CISFilters {
		if _, err := cloudwatch.NewLogMetricFilter(ctx, Name+"-"+f.Name, &cloudwatch.LogMetricFilterArgs{
			Name: pulumi.String(Name + "-" + f.Name), LogGroupName: logs.Name, Pattern: pulumi.String(f.Pattern),
			MetricTransformation: cloudwatch.LogMetricFilterMetricTransformationArgs{
				Name: pulumi.String(f.Name), Namespace: pulumi.String(MetricNamespace), Value: pulumi.String("1"),
			},
		}); err != nil {
			return nil, fmt.Errorf("creating metric filter %s: %w", f.Name, err)
		}
		if _, err := cloudwatch.NewMetricAlarm(ctx, Name+"-"+f.Name, &cloudwatch.MetricAlarmArgs{
			Name: pulumi.String(Name + "-" + f.Name), AlarmDescription: pulumi.String("[" + f.Control + "] " + f.Description),
			Namespace: pulumi.String(MetricNamespace), MetricName: pulumi.String(f.Name), Statistic: pulumi.String("Sum"),
			Period: pulumi.Int(300), EvaluationPeriods: pulumi.Int(1), Threshold: pulumi.Float64(1),
			ComparisonOperator: pulumi.String("GreaterThanOrEqualToThreshold"), TreatMissingData: pulumi.String("notBreaching"),
			AlarmActions: pulumi.Array{topic.Arn},
		}); err != nil {
			return nil, fmt.Errorf("creating alarm %s: %w", f.Name, err)
		}
	}
	return &trail{trail: t, bucket: b.BucketV2}, nil
}

// threatDetection is GuardDuty with every protection the platform's resources need.
func threatDetection(ctx *pulumi.Context) error {
	// Protected: a destroy would delete every finding.
	detector, err := guardduty.NewDetector(ctx, Name, &guardduty.DetectorArgs{
		Enable: pulumi.Bool(true), FindingPublishingFrequency: pulumi.String("FIFTEEN_MINUTES"),
	}, pulumi.Protect(true))
	if err != nil {
		return fmt.Errorf("creating the GuardDuty detector: %w", err)
	}
	for _, f := range GuardDutyFeatures {
		args := &guardduty.DetectorFeatureArgs{DetectorId: detector.ID(), Name: pulumi.String(f), Status: pulumi.String("ENABLED")}
		if f == "RUNTIME_MONITORING" {
			// GuardDuty installs and updates its security agent as an EKS add-on. All three are
			// stated: the provider reads back every one, and a missing one would plan a
			// replacement on each run (terraform-provider-aws #36695).
			args.AdditionalConfigurations = guardduty.DetectorFeatureAdditionalConfigurationArray{
				guardduty.DetectorFeatureAdditionalConfigurationArgs{Name: pulumi.String("EKS_ADDON_MANAGEMENT"), Status: pulumi.String("ENABLED")},
				guardduty.DetectorFeatureAdditionalConfigurationArgs{Name: pulumi.String("ECS_FARGATE_AGENT_MANAGEMENT"), Status: pulumi.String("DISABLED")},
				guardduty.DetectorFeatureAdditionalConfigurationArgs{Name: pulumi.String("EC2_AGENT_MANAGEMENT"), Status: pulumi.String("DISABLED")},
			}
		}
		if _, err := guardduty.NewDetectorFeature(ctx, Name+"-"+f, args); err != nil {
			return fmt.Errorf("enabling GuardDuty %s: %w", f, err)
		}
	}
	return nil
}

// compliance is Security Hub with its standards, AWS Config recording every resource, and IAM
// Access Analyzer.
func compliance(ctx *pulumi.Context, a account, key *kms.Key, home bool) error {
	hub, err := securityhub.NewAccount(ctx, Name, &securityhub.AccountArgs{
		EnableDefaultStandards: pulumi.Bool(false), AutoEnableControls: pulumi.Bool(true),
	}, pulumi.Protect(true))
	if err != nil {
		return fmt.Errorf("enabling Security Hub: %w", err)
	}
	for name, standard := range SecurityHubStandards {
		if _, err := securityhub.NewStandardsSubscription(ctx, Name+"-"+name, &securityhub.StandardsSubscriptionArgs{
			StandardsArn: pulumi.String("arn:" + a.Partition + ":securityhub:" + a.Region + "::" + standard),
		}, pulumi.DependsOn([]pulumi.Resource{hub})); err != nil {
			return fmt.Errorf("subscribing to %s: %w", name, err)
		}
	}
	// Config has a bucket of its own: it cannot deliver to a bucket with Object Lock.
	b, err := s3bucket.New(ctx, Name+"-config", s3bucket.Args{
		Prefix: Name + "-config-", KMSKeyARN: key.Arn, NoncurrentDays: 90, DeferPolicy: true, Protect: true,
	})
	if err != nil {
		return err
	}
	grants := b.BucketV2.Arn.ApplyT(func(arn string) []iampolicy.Statement {
		return []iampolicy.Statement{
			{Sid: "ConfigChecksTheBucket", Effect: "Allow", Principal: map[string]any{"Service": "config.amazonaws.com"},
				Action: []string{"s3:GetBucketAcl", "s3:ListBucket"}, Resource: arn, Condition: iampolicy.Condition{"StringEquals": {"aws:SourceAccount": a.ID}}},
			{Sid: "ConfigWrites", Effect: "Allow", Principal: map[string]any{"Service": "config.amazonaws.com"},
				Action: []string{"s3:PutObject"}, Resource: arn + "/AWSLogs/" + a.ID + "/Config/*",
				Condition: iampolicy.Condition{"StringEquals": {"aws:SourceAccount": a.ID, "s3:x-amz-acl": "bucket-owner-full-control"}}},
		}
	})
	policy, err := s3bucket.Policy(ctx, Name+"-config", b, grants, pulumi.Protect(true), pulumi.RetainOnDelete(true))
	if err != nil {
		return err
	}
	deliver := pulumi.All(b.BucketV2.Arn, key.Arn).ApplyT(func(v []any) string {
		bucket, k := v[0].(string), v[1].(string)
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
			{Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: bucket + "/AWSLogs/" + a.ID + "/Config/*"},
			{Effect: "Allow", Action: []string{"s3:GetBucketAcl"}, Resource: bucket},
			{Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: k},
		}}.JSON()
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, Name+"-config", &iam.RoleArgs{
		AssumeRolePolicy:  pulumi.String(iampolicy.ServiceTrust("config.amazonaws.com")),
		Description:       pulumi.String("AWS Config records the account's resources"),
		ManagedPolicyArns: pulumi.StringArray{pulumi.String(iampolicy.ManagedPolicyARN(a.Partition, "service-role/AWS_ConfigRole"))},
		InlinePolicies:    iam.RoleInlinePolicyArray{iam.RoleInlinePolicyArgs{Name: pulumi.String("deliver"), Policy: deliver}},
	})
	if err != nil {
		return fmt.Errorf("creating AWS Config's role: %w", err)
	}
	recorder, err := cfg.NewRecorder(ctx, Name, &cfg.RecorderArgs{
		Name: pulumi.String(Name), RoleArn: role.Arn,
		// Global resources (IAM) once, in the home region.
		RecordingGroup: cfg.RecorderRecordingGroupArgs{AllSupported: pulumi.Bool(true), IncludeGlobalResourceTypes: pulumi.Bool(home)},
	}, pulumi.Protect(true))
	if err != nil {
		return fmt.Errorf("creating the AWS Config recorder: %w", err)
	}
	channel, err := cfg.NewDeliveryChannel(ctx, Name, &cfg.DeliveryChannelArgs{
		Name: pulumi.String(Name), S3BucketName: b.BucketV2.Bucket, S3KmsKeyArn: key.Arn,
	}, pulumi.DependsOn([]pulumi.Resource{recorder, policy}))
	if err != nil {
		return fmt.Errorf("creating the AWS Config delivery channel: %w", err)
	}
	if _, err := cfg.NewRecorderStatus(ctx, Name, &cfg.RecorderStatusArgs{
		Name: recorder.Name, IsEnabled: pulumi.Bool(true),
	}, pulumi.DependsOn([]pulumi.Resource{channel})); err != nil {
		return fmt.Errorf("starting the AWS Config recorder: %w", err)
	}
	if _, err := accessanalyzer.NewAnalyzer(ctx, Name, &accessanalyzer.AnalyzerArgs{
		AnalyzerName: pulumi.String(Name), Type: pulumi.String("ACCOUNT"),
	}); err != nil {
		return fmt.Errorf("creating the access analyzer: %w", err)
	}
	if _, err := inspector2.NewEnabler(ctx, Name, &inspector2.EnablerArgs{
		AccountIds: pulumi.StringArray{pulumi.String(a.ID)}, ResourceTypes: pulumi.ToStringArray([]string{"EC2", "ECR"}),
	}); err != nil {
		return fmt.Errorf("enabling Inspector: %w", err)
	}
	return nil
}

// Session limits: an idle shell or tunnel ends after 20 minutes, any session after 4 hours.
const (
	sessionIdleMinutes = 20
	sessionMaxMinutes  = 240
)

// sessionPreferences are the region's Session Manager preferences (the operators' way in: no
// SSH, no bastion): every session encrypted with a key of its own and streamed to an encrypted
// log group. The targets' grants are the node pools' (internal/sessionprefs); the operators'
// roles need kms:GenerateDataKey on the key to start a session.
func sessionPreferences(ctx *pulumi.Context, s Settings, a account) error {
	root := "arn:" + a.Partition + ":iam::" + a.ID + ":root"
	key, err := kmskey.New(ctx, Name+"-sessions", kmskey.Args{
		Description: "SSM Session Manager: session data and the session log",
		Alias:       strings.TrimPrefix(sessionprefs.KeyAlias, "alias/"), Protect: true,
		Policy: pulumi.String(iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
			// IAM policies grant the key: the node roles decrypt, operators' roles encrypt.
			{Sid: "AccountAdministers", Effect: "Allow", Principal: map[string]any{"AWS": root}, Action: []string{"kms:*"}, Resource: "*"},
			{Sid: "LogsEncrypt", Effect: "Allow", Principal: map[string]any{"Service": "logs." + a.Region + ".amazonaws.com"},
				Action: []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}, Resource: "*",
				Condition: iampolicy.Condition{"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": a.arn("logs", "log-group:"+sessionprefs.LogGroup)}}},
		}}.JSON()),
	})
	if err != nil {
		return err
	}
	logs, err := cloudwatch.NewLogGroup(ctx, Name+"-sessions", &cloudwatch.LogGroupArgs{
		Name: pulumi.String(sessionprefs.LogGroup), RetentionInDays: pulumi.Int(s.SessionLogRetentionDays), KmsKeyId: key.Arn,
	}, pulumi.Protect(true), pulumi.RetainOnDelete(true))
	if err != nil {
		return fmt.Errorf("creating the session log group: %w", err)
	}
	// The console creates this document on first use of its preferences page; where it exists,
	// import it (README) rather than create it.
	if _, err := ssm.NewDocument(ctx, Name+"-session-preferences", &ssm.DocumentArgs{
		Name: pulumi.String(sessionprefs.DocumentName), DocumentType: pulumi.String("Session"), DocumentFormat: pulumi.String("JSON"),
		Content: key.Arn.ApplyT(func(arn string) string {
			return sessionprefs.Document(sessionprefs.Preferences{KeyARN: arn, IdleMinutes: sessionIdleMinutes, MaxMinutes: sessionMaxMinutes})
		}).(pulumi.StringOutput),
	}, pulumi.DependsOn([]pulumi.Resource{logs})); err != nil {
		return fmt.Errorf("setting the Session Manager preferences: %w", err)
	}
	return nil
}

// accountDefaults are the region's defaults for what the stacks and anyone else create: EBS
// volumes encrypted, no public S3 access, IMDSv2 only.
func accountDefaults(ctx *pulumi.Context, a account, home bool) error {
	if _, err := ebs.NewEncryptionByDefault(ctx, Name, &ebs.EncryptionByDefaultArgs{Enabled: pulumi.Bool(true)}); err != nil {
		return fmt.Errorf("turning on EBS encryption by default: %w", err)
	}
	if home { // account-wide, not regional
		if _, err := s3.NewAccountPublicAccessBlock(ctx, Name, &s3.AccountPublicAccessBlockArgs{
			AccountId: pulumi.String(a.ID), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
			IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
		}); err != nil {
			return fmt.Errorf("blocking public S3 access for the account: %w", err)
		}
	}
	if _, err := ec2.NewInstanceMetadataDefaults(ctx, Name, &ec2.InstanceMetadataDefaultsArgs{
		HttpTokens: pulumi.String("required"), HttpEndpoint: pulumi.String("enabled"),
	}); err != nil {
		return fmt.Errorf("requiring IMDSv2 by default: %w", err)
	}
	return nil
}

// findingsToTopic sends high and critical findings to the security topic.
func findingsToTopic(ctx *pulumi.Context, topic *sns.Topic) error {
	for name, pattern := range FindingPatterns {
		rule, err := cloudwatch.NewEventRule(ctx, Name+"-"+name, &cloudwatch.EventRuleArgs{
			Name: pulumi.String(Name + "-" + name), Description: pulumi.String("High and critical " + name + " findings to the security topic"),
			EventPattern: pulumi.String(pattern),
		})
		if err != nil {
			return fmt.Errorf("creating the %s findings rule: %w", name, err)
		}
		if _, err := cloudwatch.NewEventTarget(ctx, Name+"-"+name, &cloudwatch.EventTargetArgs{Rule: rule.Name, Arn: topic.Arn}); err != nil {
			return fmt.Errorf("targeting the %s findings rule: %w", name, err)
		}
	}
	return nil
}
