package program

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func runBaseline(t *testing.T, edit func(map[string]string), secret ...string) (*mocktest.Recorder, error) {
	t.Helper()
	cfg, err := mocktest.StackConfig(filepath.Join("..", "Pulumi.baseline.yaml"))
	require.NoError(t, err)
	if edit != nil {
		edit(cfg)
	}
	return mocktest.RunSecrets("scalemate-baseline", "baseline", cfg, secret, Run)
}

// The audit trail: every region, validated log files, encrypted with the baseline's key into a
// versioned, object-locked bucket only CloudTrail (for this trail) and Config write to, and a
// CloudWatch copy whose CIS metric filters alarm to the security topic.
func TestAuditTrail(t *testing.T) {
	rec, err := runBaseline(t, nil)
	require.NoError(t, err)
	trail := rec.Must(t, "aws:cloudtrail/trail:Trail", Name)
	assert.Equal(t, true, trail.Input("isMultiRegionTrail"))
	assert.Equal(t, true, trail.Input("enableLogFileValidation"))
	assert.Equal(t, true, trail.Input("includeGlobalServiceEvents"))
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:scalemate-baseline", trail.Input("kmsKeyId"))
	assert.True(t, trail.Protect)
	policy := rec.Must(t, "aws:s3/bucketPolicy:BucketPolicy", Name+"-trail")
	assert.Contains(t, trail.Dependencies, policy.URN, "CloudTrail checks the bucket policy when the trail is created")
	assert.Contains(t, policy.Input("policy"), `"aws:SourceArn":"arn:aws:cloudtrail:us-west-2:123456789012:trail/scalemate-baseline"`)
	key := rec.Must(t, "aws:kms/key:Key", Name).Input("policy").(string)
	assert.Contains(t, key, `"Sid":"CloudTrailDescribesAndDecrypts","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":["kms:DescribeKey","kms:Decrypt"]`,
		"CloudTrail describes the key without an encryption context, and decrypts for the S3 Bucket Key")
	lock := rec.Must(t, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", Name+"-trail")
	assert.Equal(t, map[string]any{"mode": "COMPLIANCE", "days": 365.0}, lock.Input("rule").(map[string]any)["defaultRetention"])
	assert.Equal(t, true, rec.Must(t, "aws:s3/bucketV2:BucketV2", Name+"-trail").Input("objectLockEnabled"))

	assert.Len(t, rec.OfType("aws:cloudwatch/logMetricFilter:LogMetricFilter"), len(CISFilters))
	root := rec.Must(t, "aws:cloudwatch/metricAlarm:MetricAlarm", Name+"-root-usage")
	assert.Equal(t, []any{"arn:aws:sns:us-west-2:123456789012:scalemate-baseline"}, root.Input("alarmActions"))
	assert.Contains(t, root.Input("alarmDescription"), "CloudWatch.1")

	rec, err = runBaseline(t, func(cfg map[string]string) { cfg["scalemate-baseline:objectLock"] = "false" })
	require.NoError(t, err)
	_, locked := rec.Named("aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", Name+"-trail")
	assert.False(t, locked)
}

// Threat detection, compliance checking and the account defaults, once for the account.
func TestDetectionComplianceAndDefaults(t *testing.T) {
	rec, err := runBaseline(t, nil)
	require.NoError(t, err)
	assert.True(t, rec.Must(t, "aws:guardduty/detector:Detector", Name).Protect, "a destroy would delete the findings")
	_, set := rec.Named("aws:ssmincidents/replicationSet:ReplicationSet", Name)
	assert.False(t, set, "Incident Manager takes no new customers: only where asked")
	rec, err = runBaseline(t, func(cfg map[string]string) { cfg["scalemate-baseline:incidentManager"] = "true" })
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"name": "us-west-2"}}, rec.Must(t, "aws:ssmincidents/replicationSet:ReplicationSet", Name).Input("regions"),
		"Incident Manager's account-wide set, which the stacks' response plans need")
	config := rec.Must(t, "aws:cfg/deliveryChannel:DeliveryChannel", Name)
	assert.Contains(t, config.Dependencies, rec.Must(t, "aws:s3/bucketPolicy:BucketPolicy", Name+"-config").URN)
	assert.Equal(t, nil, rec.Must(t, "aws:s3/bucketV2:BucketV2", Name+"-config").Input("objectLockEnabled"), "Config cannot deliver to a locked bucket")
	var features []string
	for _, f := range rec.OfType("aws:guardduty/detectorFeature:DetectorFeature") {
		features = append(features, f.Input("name").(string))
		if f.Input("name") == "RUNTIME_MONITORING" {
			assert.Contains(t, f.Input("additionalConfigurations"), map[string]any{"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"})
			assert.Len(t, f.Input("additionalConfigurations"), 3, "all three stated, or the provider plans a replacement each run")
		}
	}
	assert.ElementsMatch(t, []string{"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING"}, features)
	var standards []any
	for _, s := range rec.OfType("aws:securityhub/standardsSubscription:StandardsSubscription") {
		standards = append(standards, s.Input("standardsArn"))
	}
	assert.ElementsMatch(t, []any{
		"arn:aws:securityhub:us-west-2::standards/aws-foundational-security-best-practices/v/1.0.0",
		"arn:aws:securityhub:us-west-2::standards/cis-aws-foundations-benchmark/v/3.0.0",
		"arn:aws:securityhub:us-west-2::standards/cis-aws-foundations-benchmark/v/1.4.0",
	}, standards)
	recorder := rec.Must(t, "aws:cfg/recorder:Recorder", Name)
	assert.Equal(t, map[string]any{"allSupported": true, "includeGlobalResourceTypes": true}, recorder.Input("recordingGroup"))
	status := rec.Must(t, "aws:cfg/recorderStatus:RecorderStatus", Name)
	assert.Contains(t, status.Dependencies, rec.Must(t, "aws:cfg/deliveryChannel:DeliveryChannel", Name).URN, "recording starts once delivery exists")
	assert.Equal(t, "ACCOUNT", rec.Must(t, "aws:accessanalyzer/analyzer:Analyzer", Name).Input("type"))
	assert.Equal(t, []any{"EC2", "ECR"}, rec.Must(t, "aws:inspector2/enabler:Enabler", Name).Input("resourceTypes"))
	assert.Equal(t, true, rec.Must(t, "aws:ebs/encryptionByDefault:EncryptionByDefault", Name).Input("enabled"))
	pab := rec.Must(t, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", Name)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, pab.Input(k), k)
	}
	assert.Equal(t, "required", rec.Must(t, "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults", Name).Input("httpTokens"))
}

// High and critical findings of GuardDuty, Security Hub and Inspector reach the security topic,
// which EventBridge may publish to for this account's baseline rules only.
func TestFindingsReachTheSecurityTopic(t *testing.T) {
	rec, err := runBaseline(t, nil)
	require.NoError(t, err)
	for name := range FindingPatterns {
		rule := rec.Must(t, "aws:cloudwatch/eventRule:EventRule", Name+"-"+name)
		var pattern map[string]any
		require.NoError(t, json.Unmarshal([]byte(rule.Input("eventPattern").(string)), &pattern), name)
		target := rec.Must(t, "aws:cloudwatch/eventTarget:EventTarget", Name+"-"+name)
		assert.Equal(t, "arn:aws:sns:us-west-2:123456789012:scalemate-baseline", target.Input("arn"))
	}
	topicPolicy := rec.Must(t, "aws:sns/topicPolicy:TopicPolicy", Name).Input("policy")
	assert.Contains(t, topicPolicy, `"ArnLike":{"aws:SourceArn":"arn:aws:events:us-west-2:123456789012:rule/scalemate-baseline-*"}`)
	assert.Equal(t, "email", rec.Must(t, "aws:sns/topicSubscription:TopicSubscription", Name+"-security@scalemate.io").Input("protocol"))
}

func TestBadBaselineConfigRegistersNothing(t *testing.T) {
	for _, c := range []struct {
		edit   func(map[string]string)
		secret []string
		want   string
	}{
		{func(cfg map[string]string) { cfg["scalemate-baseline:alertEmails"] = `[]` }, nil, "scalemate-baseline:alertEmails: set at least one address"},
		{func(cfg map[string]string) { cfg["scalemate-baseline:alertEmails"] = `["security"]` }, nil, `scalemate-baseline:alertEmails[0]: "security" is not an email address`},
		{func(cfg map[string]string) { cfg["scalemate-baseline:onCallWebhookUrl"] = "https://pager.example/key" }, nil, "scalemate-baseline:onCallWebhookUrl: holds a credential and is in plain text"},
		{func(cfg map[string]string) { cfg["scalemate-baseline:logRetentionDays"] = "8" }, nil, "scalemate-baseline:logRetentionDays"},
	} {
		rec, err := runBaseline(t, c.edit, c.secret...)
		rec.Refused(t, err, c.want)
	}
	_, err := runBaseline(t, func(cfg map[string]string) { cfg["scalemate-baseline:onCallWebhookUrl"] = "https://pager.example/key" }, "scalemate-baseline:onCallWebhookUrl")
	assert.NoError(t, err, "set as a secret")
}

// In another region of the account the baseline has the regional services only: no second
// multi-region trail, no second account-wide block, global resources recorded once.
func TestOtherRegionsHaveRegionalServicesOnly(t *testing.T) {
	rec, err := runBaseline(t, func(cfg map[string]string) { cfg["scalemate-baseline:homeRegion"] = "us-east-1" })
	require.NoError(t, err)
	assert.Empty(t, rec.OfType("aws:cloudtrail/trail:Trail"))
	assert.Empty(t, rec.OfType("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"))
	assert.Empty(t, rec.OfType("aws:cloudwatch/metricAlarm:MetricAlarm"))
	assert.Empty(t, rec.OfType("aws:ssmincidents/replicationSet:ReplicationSet"))
	assert.Equal(t, false, rec.Must(t, "aws:cfg/recorder:Recorder", Name).Input("recordingGroup").(map[string]any)["includeGlobalResourceTypes"])
	rec.Must(t, "aws:guardduty/detector:Detector", Name)
	rec.Must(t, "aws:securityhub/account:Account", Name)
}

// Session Manager, the operators' way in: every session encrypted with a key of its own and
// streamed to an encrypted log group kept for the account's retention.
func TestSessionManagerPreferences(t *testing.T) {
	rec, err := runBaseline(t, func(cfg map[string]string) { cfg["scalemate-baseline:sessionLogRetentionDays"] = "90" })
	require.NoError(t, err)
	doc := rec.Must(t, "aws:ssm/document:Document", Name+"-session-preferences")
	assert.Equal(t, "SSM-SessionManagerRunShell", doc.Input("name"))
	assert.Equal(t, "Session", doc.Input("documentType"))
	var content struct {
		SessionType string
		Inputs      map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(doc.Input("content").(string)), &content))
	assert.Equal(t, "Standard_Stream", content.SessionType)
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:scalemate-baseline-sessions", content.Inputs["kmsKeyId"])
	assert.Equal(t, "/scalemate/ssm-sessions", content.Inputs["cloudWatchLogGroupName"])
	assert.Equal(t, true, content.Inputs["cloudWatchEncryptionEnabled"])
	assert.Equal(t, false, content.Inputs["runAsEnabled"])
	assert.Equal(t, "20", content.Inputs["idleSessionTimeout"])

	logs := rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", Name+"-sessions")
	assert.EqualValues(t, 90, logs.Input("retentionInDays"))
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:scalemate-baseline-sessions", logs.Input("kmsKeyId"))
	assert.True(t, logs.Protect)
	assert.Contains(t, doc.Dependencies, logs.URN, "the preferences name a log group that exists")
	key := rec.Must(t, "aws:kms/key:Key", Name+"-sessions")
	assert.Contains(t, key.Input("policy"), `"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-west-2:123456789012:log-group:/scalemate/ssm-sessions"`)
	assert.Equal(t, "alias/scalemate-sessions", rec.Must(t, "aws:kms/alias:Alias", Name+"-sessions").Input("name"))

	_, err = runBaseline(t, func(cfg map[string]string) { cfg["scalemate-baseline:sessionLogRetentionDays"] = "100" })
	assert.ErrorContains(t, err, "scalemate-baseline:sessionLogRetentionDays: 100 is not a CloudWatch retention period")
}
