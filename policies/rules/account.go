package rules

import (
	"slices"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resource types of the account baseline.
const (
	TypeTrail               = "aws:cloudtrail/trail:Trail"
	TypeDetector            = "aws:guardduty/detector:Detector"
	TypeDetectorFeature     = "aws:guardduty/detectorFeature:DetectorFeature"
	TypeSecurityHub         = "aws:securityhub/account:Account"
	TypeStandardsSub        = "aws:securityhub/standardsSubscription:StandardsSubscription"
	TypeConfigRecorder      = "aws:cfg/recorder:Recorder"
	TypeEBSDefault          = "aws:ebs/encryptionByDefault:EncryptionByDefault"
	TypeMetadataDefaults    = "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults"
	TypeAccountPublicAccess = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
)

// requiredDetectorFeatures are the GuardDuty protections the platform's resources need: EKS
// audit logs and runtime monitoring, RDS login events, S3 data events, malware protection.
var requiredDetectorFeatures = []string{"EKS_AUDIT_LOGS", "RUNTIME_MONITORING", "RDS_LOGIN_EVENTS", "S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"}

// accountRules judge the account baseline (baseline/): the audit trail, threat detection,
// compliance checking and the account defaults.
func accountRules() []Rule {
	return []Rule{
		{Name: "cloudtrail-multi-region-validated", Pack: Security, Level: Mandatory, Anchor: "FSBP CloudTrail.1, CloudTrail.4, CIS 3.1/3.2, CKV_AWS_67/36",
			Summary: "Trails record every region and validate their log files", Types: []string{TypeTrail},
			Resource: func(c *Check, r analyzed.Resource) {
				for _, field := range []string{"isMultiRegionTrail", "enableLogFileValidation"} {
					if f := r.Get(field); c.Known(r, f, field) && !f.Bool() {
						c.Violate(r, "%s is not true", field)
					}
				}
			}},
		{Name: "cloudtrail-encrypted-to-cloudwatch", Pack: Security, Level: Mandatory, Anchor: "FSBP CloudTrail.2, CloudTrail.5, CIS 3.4/3.7, CKV_AWS_35",
			Summary: "Trails are encrypted with a KMS key and delivered to CloudWatch Logs", Types: []string{TypeTrail},
			Resource: func(c *Check, r analyzed.Resource) {
				for _, field := range []string{"kmsKeyId", "cloudWatchLogsGroupArn"} {
					if f := r.Get(field); c.Known(r, f, field) && f.String() == "" {
						c.Violate(r, "%s is not set", field)
					}
				}
			}},
		boolRule("guardduty-enabled", "FSBP GuardDuty.1", "GuardDuty detectors are enabled", TypeDetector, "enable", "enable is not true", nil),
		{Name: "guardduty-protections", Pack: Security, Level: Mandatory, Anchor: "FSBP GuardDuty.5/6/7/8/9/10",
			Summary: "A GuardDuty detector has EKS audit and runtime monitoring, RDS, S3 and malware protection on",
			Types:   []string{TypeDetector, TypeDetectorFeature}, Stack: checkDetectorFeatures},
		{Name: "securityhub-fsbp", Pack: Security, Level: Mandatory, Anchor: "FSBP SecurityHub.1, CIS 4.16",
			Summary: "Security Hub subscribes to the Foundational Security Best Practices",
			Types:   []string{TypeSecurityHub, TypeStandardsSub}, Stack: checkStandards},
		{Name: "config-records-all", Pack: Security, Level: Mandatory, Anchor: "FSBP Config.1, CIS 3.3",
			Summary: "AWS Config records every supported resource type", Types: []string{TypeConfigRecorder},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("recordingGroup", "allSupported"); c.Known(r, f, "recordingGroup.allSupported") && !f.Bool() {
					c.Violate(r, "recordingGroup.allSupported is not true")
				}
			}},
		boolRule("ebs-encryption-by-default", "FSBP EC2.7, CIS 2.2.1", "EBS encryption is on by default", TypeEBSDefault, "enabled", "enabled is not true", nil),
		{Name: "imdsv2-by-default", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.8 (account default)",
			Summary: "New instances require IMDSv2 by default", Types: []string{TypeMetadataDefaults},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("httpTokens"); c.Known(r, f, "httpTokens") && f.String() != "required" {
					c.Violate(r, "httpTokens is %q, not required", f.String())
				}
			}},
		{Name: "s3-account-public-access-block", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.1, CIS 2.1.4",
			Summary: "The account's S3 public access block has all four settings on", Types: []string{TypeAccountPublicAccess},
			Resource: func(c *Check, r analyzed.Resource) {
				for _, field := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					if f := r.Get(field); c.Known(r, f, field) && !f.Bool() {
						c.Violate(r, "%s is not true", field)
					}
				}
			}},
	}
}

// checkDetectorFeatures wants every required protection enabled on each detector.
func checkDetectorFeatures(c *Check, rs []analyzed.Resource) {
	for _, d := range rs {
		if d.Type != TypeDetector {
			continue
		}
		on, unknown := map[string]bool{}, false
		for _, f := range rs {
			if f.Type != TypeDetectorFeature || !slices.Contains(f.Dependencies, d.URN) {
				continue
			}
			name, status := f.Get("name"), f.Get("status")
			if name.Unknown() || status.Unknown() {
				c.CannotCheck(f, "name and status")
				unknown = true
				continue
			}
			if status.String() == "ENABLED" {
				on[name.String()] = true
			}
		}
		if unknown {
			continue
		}
		for _, need := range requiredDetectorFeatures {
			if !on[need] {
				c.Violate(d, "%s is not enabled on the detector", need)
			}
		}
	}
}

// checkStandards wants a Security Hub account to subscribe to the Foundational Security Best
// Practices.
func checkStandards(c *Check, rs []analyzed.Resource) {
	for _, h := range rs {
		if h.Type != TypeSecurityHub {
			continue
		}
		subscribed, unknown := false, false
		for _, s := range rs {
			if s.Type != TypeStandardsSub {
				continue
			}
			arn := s.Get("standardsArn")
			if arn.Unknown() {
				c.CannotCheck(s, "standardsArn")
				unknown = true
			}
			subscribed = subscribed || strings.Contains(arn.String(), "aws-foundational-security-best-practices")
		}
		if !subscribed && !unknown {
			c.Violate(h, "no subscription to the Foundational Security Best Practices standard")
		}
	}
}
