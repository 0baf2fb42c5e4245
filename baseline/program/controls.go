package program

import "regexp"

// MetricNamespace holds the CIS metric filters' metrics.
const MetricNamespace = "ScaleMate/Audit"

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// Filter is one CIS AWS Foundations monitoring control: a metric filter on the trail's
// CloudWatch copy and an alarm on its first match.
type Filter struct {
	Name, Control, Description, Pattern string
}

// CISFilters are the CIS AWS Foundations Benchmark's log metric filters and alarms (section 4 of
// v1.4; Security Hub scores them as CloudWatch.1 to CloudWatch.14 under CIS 1.4.0), patterns as
// the benchmark gives them, with explicit grouping.
var CISFilters = []Filter{
	{"unauthorized-api-calls", "CIS 4.1, CloudWatch.2", "API calls refused for lack of permission",
		`{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`},
	{"console-login-without-mfa", "CIS 4.2, CloudWatch.3", "A console sign-in without MFA",
		`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`},
	{"root-usage", "CIS 4.3, CloudWatch.1", "The root user was used",
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`},
	{"iam-policy-changes", "CIS 4.4, CloudWatch.4", "An IAM policy changed",
		`{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy)) }`},
	{"cloudtrail-changes", "CIS 4.5, CloudWatch.5", "A trail's configuration changed",
		`{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`},
	{"console-auth-failures", "CIS 4.6, CloudWatch.6", "A console sign-in failed",
		`{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`},
	{"cmk-disabled-or-deleted", "CIS 4.7, CloudWatch.7", "A customer managed key was disabled or scheduled for deletion",
		`{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }`},
	{"s3-bucket-policy-changes", "CIS 4.8, CloudWatch.8", "An S3 bucket's policy, ACL, CORS, lifecycle or replication changed",
		`{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }`},
	{"config-changes", "CIS 4.9, CloudWatch.9", "AWS Config's recording or delivery changed",
		`{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }`},
	{"security-group-changes", "CIS 4.10, CloudWatch.10", "A security group changed",
		`{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`},
	{"nacl-changes", "CIS 4.11, CloudWatch.11", "A network ACL changed",
		`{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`},
	{"network-gateway-changes", "CIS 4.12, CloudWatch.12", "A network gateway changed",
		`{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`},
	{"route-table-changes", "CIS 4.13, CloudWatch.13", "A route table changed",
		`{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }`},
	{"vpc-changes", "CIS 4.14, CloudWatch.14", "A VPC or its peering changed",
		`{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) }`},
	{"organizations-changes", "CIS 4.15", "The AWS Organization changed",
		`{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }`},
}

// GuardDutyFeatures are the protections turned on: S3 data events, EKS audit logs, malware
// scans of EBS volumes, RDS login events, and runtime monitoring (with the EKS agent).
var GuardDutyFeatures = []string{"S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING"}

// SecurityHubStandards are the standards subscribed, by a short name.
var SecurityHubStandards = map[string]string{
	"fsbp": "standards/aws-foundational-security-best-practices/v/1.0.0",
	"cis":  "standards/cis-aws-foundations-benchmark/v/3.0.0",
	// CIS 1.4.0 is the version whose controls score the metric-filter alarms (CloudWatch.1-14).
	"cis-1-4": "standards/cis-aws-foundations-benchmark/v/1.4.0",
}

// FindingPatterns are the EventBridge patterns of high and critical findings, by source.
var FindingPatterns = map[string]string{
	"guardduty": `{"source":["aws.guardduty"],"detail-type":["GuardDuty Finding"],"detail":{"severity":[{"numeric":[">=",7]}]}}`,
	// GuardDuty's and Inspector's findings are imported into Security Hub too: not twice.
	"securityhub": `{"source":["aws.securityhub"],"detail-type":["Security Hub Findings - Imported"],` +
		`"detail":{"findings":{"Severity":{"Label":["HIGH","CRITICAL"]},"Workflow":{"Status":["NEW"]},"RecordState":["ACTIVE"],` +
		`"ProductName":[{"anything-but":["GuardDuty","Inspector"]}]}}}`,
	"inspector": `{"source":["aws.inspector2"],"detail-type":["Inspector2 Finding"],"detail":{"severity":["HIGH","CRITICAL"],"status":["ACTIVE"]}}`,
}
