package rules

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
	"github.com/scalemate/infra/policies/costmodel"
)

// Resource type tokens the rules know.
const (
	TypeDBInstance      = "aws:rds/instance:Instance"
	TypeDBParamGroup    = "aws:rds/parameterGroup:ParameterGroup"
	TypeDBProxy         = "aws:rds/proxy:Proxy"
	TypeCache           = "aws:elasticache/replicationGroup:ReplicationGroup"
	TypeCluster         = "aws:eks/cluster:Cluster"
	TypeNodeGroup       = "aws:eks/nodeGroup:NodeGroup"
	TypeLaunchTemplate  = "aws:ec2/launchTemplate:LaunchTemplate"
	TypeKMSKey          = "aws:kms/key:Key"
	TypeSecurityGroup   = "aws:ec2/securityGroup:SecurityGroup"
	TypeSGRule          = "aws:ec2/securityGroupRule:SecurityGroupRule"
	TypeDefaultSG       = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	TypeVPC             = "aws:ec2/vpc:Vpc"
	TypeFlowLog         = "aws:ec2/flowLog:FlowLog"
	TypeSubnet          = "aws:ec2/subnet:Subnet"
	TypeNATGateway      = "aws:ec2/natGateway:NatGateway"
	TypeLogGroup        = "aws:cloudwatch/logGroup:LogGroup"
	TypeMetricAlarm     = "aws:cloudwatch/metricAlarm:MetricAlarm"
	TypeCompositeAlarm  = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	TypeECRRepository   = "aws:ecr/repository:Repository"
	TypeSNSTopic        = "aws:sns/topic:Topic"
	TypeRole            = "aws:iam/role:Role"
	TypeRolePolicy      = "aws:iam/rolePolicy:RolePolicy"
	TypeRoleAttachment  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	TypeSecret          = "aws:secretsmanager/secret:Secret"
	TypeBackupVault     = "aws:backup/vault:Vault"
	TypeVaultLock       = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
	TypeBucket          = "aws:s3/bucketV2:BucketV2"
	TypeBucketPAB       = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	TypeBucketSSE       = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	TypeDistribution    = "aws:cloudfront/distribution:Distribution"
	TypeWebACL          = "aws:wafv2/webAcl:WebAcl"
	TypeWebACLLogging   = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
	TypeK8sDeployment   = "kubernetes:apps/v1:Deployment"
	TypeK8sStatefulSet  = "kubernetes:apps/v1:StatefulSet"
	TypeK8sDaemonSet    = "kubernetes:apps/v1:DaemonSet"
	TypeK8sPod          = "kubernetes:core/v1:Pod"
	TypeK8sNamespace    = "kubernetes:core/v1:Namespace"
	adminPolicySuffix   = ":iam::aws:policy/AdministratorAccess"
	requiredLogExport   = "postgresql"
	openIPv4            = "0.0.0.0/0"
	openIPv6            = "::/0"
	forceSSLParameter   = "rds.force_ssl"
	reservedDBUserNames = "postgres,admin,root,master,user"
)

// requiredEKSLogs are the control-plane logs every cluster keeps.
var requiredEKSLogs = []string{"api", "audit", "authenticator"}

// isReplica reports an RDS read replica (it inherits backups, credentials and storage). The
// engine hands stack policies the outputs, where a primary has replicateSourceDb "".
func isReplica(r analyzed.Resource) bool { return costmodel.IsReplica(r) }

// boolRule builds a resource rule that requires a boolean input to be true.
func boolRule(name, anchor, summary, typ, field, message string, applies func(Thresholds, analyzed.Resource) bool) Rule {
	return Rule{Name: name, Pack: Security, Level: Mandatory, Anchor: anchor, Summary: summary, Types: []string{typ},
		Resource: func(c *Check, r analyzed.Resource) {
			if applies != nil && !applies(c.T, r) {
				return
			}
			if f := r.Get(field); c.Known(r, f, field) && !f.Bool() {
				c.Violate(r, "%s", message)
			}
		}}
}

func primaries(_ Thresholds, r analyzed.Resource) bool { return !isReplica(r) }

// SecurityRules are the security pack's rules.
func SecurityRules() []Rule {
	return append([]Rule{
		// RDS
		boolRule("rds-storage-encrypted", "FSBP RDS.3, CKV_AWS_16", "RDS instances encrypt storage at rest",
			TypeDBInstance, "storageEncrypted", "storageEncrypted is not true", nil),
		{Name: "rds-not-public", Pack: Security, Level: Mandatory, Anchor: "FSBP RDS.2, CKV_AWS_17",
			Summary: "RDS instances are not publicly accessible", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("publiclyAccessible"); c.Known(r, f, "publiclyAccessible") && f.Bool() {
					c.Violate(r, "publiclyAccessible is true")
				}
			}},
		{Name: "rds-backup-retention", Pack: Security, Level: Mandatory, Anchor: "FSBP RDS.11, CKV_AWS_133",
			Summary: "RDS primaries keep automated backups (point-in-time recovery) for the tier's minimum", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if isReplica(r) {
					return
				}
				if f := r.Get("backupRetentionPeriod"); c.Known(r, f, "backupRetentionPeriod") && f.Int() < c.T.MinBackupRetentionDays {
					c.Violate(r, "backupRetentionPeriod is %d days; %s needs at least %d", f.Int(), c.T.Tier, c.T.MinBackupRetentionDays)
				}
			}},
		boolRule("rds-multi-az", "FSBP RDS.5, CKV_AWS_157", "RDS primaries run Multi-AZ where the tier requires it",
			TypeDBInstance, "multiAz", "multiAz is not true", func(t Thresholds, r analyzed.Resource) bool { return t.RequireMultiAZ && !isReplica(r) }),
		boolRule("rds-deletion-protection", "FSBP RDS.8, CKV_AWS_293", "RDS primaries have deletion protection where the tier requires it",
			TypeDBInstance, "deletionProtection", "deletionProtection is not true", func(t Thresholds, r analyzed.Resource) bool {
				return t.RequireDeletionProtection && !isReplica(r)
			}),
		boolRule("rds-iam-authentication", "FSBP RDS.10, CKV_AWS_161", "RDS instances enable IAM database authentication",
			TypeDBInstance, "iamDatabaseAuthenticationEnabled", "iamDatabaseAuthenticationEnabled is not true", nil),
		boolRule("rds-auto-minor-upgrade", "FSBP RDS.13, CKV_AWS_226", "RDS instances apply minor engine upgrades automatically",
			TypeDBInstance, "autoMinorVersionUpgrade", "autoMinorVersionUpgrade is not true", nil),
		boolRule("rds-copy-tags-to-snapshot", "FSBP RDS.17", "RDS primaries copy tags to snapshots",
			TypeDBInstance, "copyTagsToSnapshot", "copyTagsToSnapshot is not true", primaries),
		{Name: "rds-log-exports", Pack: Security, Level: Mandatory, Anchor: "FSBP RDS.9, CKV_AWS_129",
			Summary: "RDS PostgreSQL instances export the postgresql log to CloudWatch", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("enabledCloudwatchLogsExports"); c.Known(r, f, "enabledCloudwatchLogsExports") && !slices.Contains(f.Strings(), requiredLogExport) {
					c.Violate(r, "enabledCloudwatchLogsExports %v lacks %s", f.Strings(), requiredLogExport)
				}
			}},
		{Name: "rds-custom-master-username", Pack: Security, Level: Mandatory, Anchor: "FSBP RDS.25",
			Summary: "RDS primaries use a custom master user name", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if isReplica(r) || !r.Get("snapshotIdentifier").Absent() {
					return
				}
				if f := r.Get("username"); c.Known(r, f, "username") && (f.String() == "" || slices.Contains(strings.Split(reservedDBUserNames, ","), f.String())) {
					c.Violate(r, "master username %q is a default one", f.String())
				}
			}},
		{Name: "rds-enhanced-monitoring", Pack: Security, Level: Advisory, Anchor: "CKV_AWS_118",
			Summary: "RDS instances have enhanced monitoring", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("monitoringInterval"); c.Known(r, f, "monitoringInterval") && f.Int() == 0 {
					c.Violate(r, "monitoringInterval is 0")
				}
			}},
		{Name: "rds-force-ssl", Pack: Security, Level: Mandatory, Anchor: "CKV2_AWS_69",
			Summary: "RDS PostgreSQL instances use a parameter group with rds.force_ssl=1",
			Types:   []string{TypeDBInstance, TypeDBParamGroup}, Stack: checkForceSSL},
		boolRule("rds-proxy-tls", "Well-Architected SEC09-BP02 (encrypt data in transit)", "RDS Proxies require TLS", TypeDBProxy, "requireTls", "requireTls is not true", nil),

		// ElastiCache
		boolRule("elasticache-encryption-at-rest", "FSBP ElastiCache.4, CKV_AWS_29", "ElastiCache replication groups encrypt data at rest",
			TypeCache, "atRestEncryptionEnabled", "atRestEncryptionEnabled is not true", nil),
		boolRule("elasticache-encryption-in-transit", "FSBP ElastiCache.5, CKV_AWS_30", "ElastiCache replication groups encrypt data in transit",
			TypeCache, "transitEncryptionEnabled", "transitEncryptionEnabled is not true", nil),
		{Name: "elasticache-auth", Pack: Security, Level: Mandatory, Anchor: "FSBP ElastiCache.6, CKV_AWS_31",
			Summary: "ElastiCache replication groups require AUTH (token or RBAC user group)", Types: []string{TypeCache},
			Resource: func(c *Check, r analyzed.Resource) {
				token, users := r.Get("authToken"), r.Get("userGroupIds")
				if !c.Known(r, token, "authToken") || token.String() != "" || !c.Known(r, users, "userGroupIds") {
					return // a token, vouched for, or not known yet
				}
				if len(users.Items()) == 0 {
					c.Violate(r, "neither authToken nor userGroupIds is set")
				}
			}},
		boolRule("elasticache-automatic-failover", "FSBP ElastiCache.3", "ElastiCache replication groups fail over automatically where the tier requires Multi-AZ",
			TypeCache, "automaticFailoverEnabled", "automaticFailoverEnabled is not true", func(t Thresholds, _ analyzed.Resource) bool { return t.RequireMultiAZ }),
		{Name: "elasticache-snapshots", Pack: Security, Level: Mandatory, Anchor: "FSBP ElastiCache.1",
			Summary: "ElastiCache replication groups keep daily snapshots for the tier's minimum", Types: []string{TypeCache},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("snapshotRetentionLimit"); c.Known(r, f, "snapshotRetentionLimit") && f.Int() < c.T.MinCacheSnapshotDays {
					c.Violate(r, "snapshotRetentionLimit is %d; %s needs at least %d", f.Int(), c.T.Tier, c.T.MinCacheSnapshotDays)
				}
			}},
		boolRule("elasticache-auto-minor-upgrade", "FSBP ElastiCache.2", "ElastiCache replication groups apply minor upgrades automatically",
			TypeCache, "autoMinorVersionUpgrade", "autoMinorVersionUpgrade is not true", nil),

		// EKS
		{Name: "eks-endpoint-restricted", Pack: Security, Level: Mandatory, Anchor: "FSBP EKS.1, CKV_AWS_38, CKV_AWS_39",
			Summary: "EKS API endpoints are not open to the internet (private only where the tier requires it)", Types: []string{TypeCluster},
			Resource: func(c *Check, r analyzed.Resource) {
				public := r.Get("vpcConfig", "endpointPublicAccess")
				if !c.Known(r, public, "vpcConfig.endpointPublicAccess") || !public.Bool() {
					return
				}
				if c.T.RequirePrivateAPIEndpoint {
					c.Violate(r, "the public endpoint is on; %s allows the private endpoint only", c.T.Tier)
					return
				}
				cidrs := r.Get("vpcConfig", "publicAccessCidrs")
				if c.Known(r, cidrs, "vpcConfig.publicAccessCidrs") && (cidrs.Absent() || slices.Contains(cidrs.Strings(), openIPv4)) {
					c.Violate(r, "the public endpoint accepts 0.0.0.0/0 (publicAccessCidrs unset or open)")
				}
			}},
		{Name: "eks-secrets-encryption", Pack: Security, Level: Mandatory, Anchor: "FSBP EKS.3, CKV_AWS_58",
			Summary: "EKS clusters envelope-encrypt Kubernetes Secrets with a KMS key", Types: []string{TypeCluster},
			Resource: func(c *Check, r analyzed.Resource) {
				enc := r.Get("encryptionConfig")
				resources, key := enc.Get("resources"), enc.Get("provider", "keyArn")
				if !c.Known(r, resources, "encryptionConfig.resources") {
					return
				}
				if !slices.Contains(resources.Strings(), "secrets") {
					c.Violate(r, "encryptionConfig does not encrypt secrets")
					return
				}
				if c.Known(r, key, "encryptionConfig.provider.keyArn") && key.String() == "" {
					c.Violate(r, "encryptionConfig names no KMS key")
				}
			}},
		{Name: "eks-control-plane-logging", Pack: Security, Level: Mandatory, Anchor: "FSBP EKS.8, CKV_AWS_37",
			Summary: "EKS clusters log the api, audit and authenticator control-plane streams", Types: []string{TypeCluster},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("enabledClusterLogTypes")
				if !c.Known(r, f, "enabledClusterLogTypes") {
					return
				}
				for _, need := range requiredEKSLogs {
					if !slices.Contains(f.Strings(), need) {
						c.Violate(r, "enabledClusterLogTypes lacks %s", need)
					}
				}
			}},
		{Name: "eks-supported-version", Pack: Security, Level: Advisory, Anchor: "FSBP EKS.2",
			Summary: "EKS clusters run a Kubernetes version in standard support", Types: []string{TypeCluster},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("version"); c.Known(r, f, "version") && !slices.Contains(c.T.KubernetesVersions, f.String()) {
					c.Violate(r, "version %q is not one of %s", f.String(), strings.Join(c.T.KubernetesVersions, ", "))
				}
			}},
		{Name: "eks-nodegroup-no-ssh", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_100",
			Summary: "EKS node groups allow no SSH remote access (use SSM Session Manager)", Types: []string{TypeNodeGroup},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("remoteAccess"); c.Known(r, f, "remoteAccess") && !f.Absent() {
					c.Violate(r, "remoteAccess is set")
				}
			}},

		// EC2 launch templates, security groups, VPC
		{Name: "launch-template-imdsv2", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.170, CKV_AWS_79",
			Summary: "Launch templates require IMDSv2 (httpTokens required)", Types: []string{TypeLaunchTemplate},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("metadataOptions", "httpTokens"); c.Known(r, f, "metadataOptions.httpTokens") && f.String() != "required" {
					c.Violate(r, "metadataOptions.httpTokens is %q, want required", f.String())
				}
			}},
		{Name: "launch-template-metadata-hop-limit", Pack: Security, Level: Advisory, Anchor: "CKV_AWS_341",
			Summary: "Launch templates keep the metadata hop limit at 1 (pods cannot reach node credentials)", Types: []string{TypeLaunchTemplate},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("metadataOptions", "httpPutResponseHopLimit"); c.Known(r, f, "metadataOptions.httpPutResponseHopLimit") && f.Int() > 1 {
					c.Violate(r, "httpPutResponseHopLimit is %d", f.Int())
				}
			}},
		{Name: "launch-template-ebs-encrypted", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.7, CKV_AWS_8",
			Summary: "Launch template block devices are encrypted", Types: []string{TypeLaunchTemplate},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("blockDeviceMappings")
				if !c.Known(r, f, "blockDeviceMappings") {
					return
				}
				for _, m := range f.Items() {
					if enc := m.Get("ebs", "encrypted"); enc.String() != "true" {
						c.Violate(r, "block device %s is not encrypted", m.Get("deviceName").String())
					}
				}
			}},
		{Name: "security-group-no-open-ingress", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.18, FSBP EC2.19, CKV_AWS_24, CKV_AWS_25, CKV_AWS_260",
			Summary: "Security groups admit the internet (0.0.0.0/0, ::/0) on no port but 80 and 443", Types: []string{TypeSecurityGroup, TypeSGRule},
			Resource: checkOpenIngress},
		{Name: "default-security-group-closed", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.2, CKV2_AWS_12",
			Summary: "Every VPC's default security group is managed with no rules",
			Types:   []string{TypeVPC, TypeDefaultSG}, Stack: checkDefaultSGs},
		{Name: "vpc-flow-logs", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.6, CKV2_AWS_11",
			Summary: "Every VPC has flow logs",
			Types:   []string{TypeVPC, TypeFlowLog}, Stack: checkFlowLogs},
		{Name: "subnet-no-public-ip-on-launch", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.15",
			Summary: "Subnets do not assign public IPs on launch", Types: []string{TypeSubnet},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("mapPublicIpOnLaunch"); c.Known(r, f, "mapPublicIpOnLaunch") && f.Bool() {
					c.Violate(r, "mapPublicIpOnLaunch is true")
				}
			}},

		// KMS, secrets, logs, alarms, SNS, backup
		boolRule("kms-key-rotation", "FSBP KMS.4, CKV_AWS_7", "KMS keys rotate yearly", TypeKMSKey, "enableKeyRotation", "enableKeyRotation is not true", nil),
		{Name: "secret-kms-cmk", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_149",
			Summary: "Secrets Manager secrets are encrypted with a customer managed KMS key", Types: []string{TypeSecret},
			Resource: requireSet("kmsKeyId", "kmsKeyId is not set (aws/secretsmanager key)")},
		{Name: "log-group-retention", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_338, FSBP CloudWatch.16",
			Summary: "CloudWatch log groups set a retention of at least the tier's minimum", Types: []string{TypeLogGroup},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("retentionInDays")
				if !c.Known(r, f, "retentionInDays") {
					return
				}
				if f.Absent() || f.Int() == 0 {
					c.Violate(r, "retentionInDays is not set (logs kept forever)")
				} else if f.Int() < c.T.MinLogRetentionDays {
					c.Violate(r, "retentionInDays is %d; %s keeps logs at least %d days", f.Int(), c.T.Tier, c.T.MinLogRetentionDays)
				}
			}},
		{Name: "alarm-has-action", Pack: Security, Level: Mandatory, Anchor: "FSBP CloudWatch.15",
			Summary: "CloudWatch alarms notify someone (actions enabled, an alarm action)", Types: []string{TypeMetricAlarm, TypeCompositeAlarm},
			Resource: func(c *Check, r analyzed.Resource) {
				enabled, actions := r.Get("actionsEnabled"), r.Get("alarmActions")
				if !c.Known(r, enabled, "actionsEnabled") {
					return
				}
				if !enabled.Absent() && !enabled.Bool() {
					c.Violate(r, "the alarm's actions are disabled")
					return
				}
				if actions.Computed() {
					c.Known(r, actions, "alarmActions") // the whole list is unknown: reported
					return
				}
				items := actions.Items()
				if len(items) == 0 {
					c.Violate(r, "the alarm has no alarm action")
				}
				for _, a := range items {
					c.Known(r, a, "alarmActions[]") // an action not known yet: this stack's topic, or reported
				}
			}},
		{Name: "sns-topic-encrypted", Pack: Security, Level: Mandatory, Anchor: "FSBP SNS.1, CKV_AWS_26",
			Summary: "SNS topics are encrypted with a KMS key", Types: []string{TypeSNSTopic},
			Resource: requireSet("kmsMasterKeyId", "kmsMasterKeyId is not set")},
		{Name: "backup-vault-encrypted", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_166",
			Summary: "Backup vaults are encrypted with a customer managed KMS key", Types: []string{TypeBackupVault},
			Resource: requireSet("kmsKeyArn", "kmsKeyArn is not set")},
		{Name: "backup-vault-locked", Pack: Security, Level: Mandatory, Anchor: "Well-Architected REL09-BP02 / SEC (immutable backups), AWS Backup Vault Lock",
			Summary: "Backup vaults are locked where the tier requires it",
			Types:   []string{TypeBackupVault, TypeVaultLock}, Stack: checkVaultLocks},
		{Name: "stateful-resources-protected", Pack: Security, Level: Mandatory, Anchor: "ScaleMate DESIGN.md: stateful resources protected in prod",
			Summary: "Databases, caches, KMS keys, secrets and vaults carry Pulumi's protect option where the tier requires it",
			Types:   []string{TypeDBInstance, TypeCache, TypeKMSKey, TypeSecret, TypeBackupVault, TypeCluster}, Stack: checkProtected},

		// S3, CloudFront, WAF
		{Name: "s3-public-access-blocked", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.8, CKV2_AWS_6",
			Summary: "S3 buckets have a public access block with all four settings on",
			Types:   []string{TypeBucket, TypeBucketPAB}, Stack: checkBucketPublicAccess},
		{Name: "s3-encrypted", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_145, FSBP S3.17",
			Summary: "S3 buckets have a server-side encryption configuration",
			Types:   []string{TypeBucket, TypeBucketSSE}, Stack: checkBucketEncryption},
		{Name: "cloudfront-https-only", Pack: Security, Level: Mandatory, Anchor: "FSBP CloudFront.3, CKV_AWS_34",
			Summary: "CloudFront behaviours redirect or refuse plain HTTP", Types: []string{TypeDistribution},
			Resource: func(c *Check, r analyzed.Resource) {
				if ordered := r.Get("orderedCacheBehaviors"); ordered.Computed() {
					c.CannotCheck(r, "orderedCacheBehaviors") // the default behaviour is still judged
				}
				for _, b := range cloudFrontBehaviours(r) {
					if p := b.Get("viewerProtocolPolicy"); c.Known(r, p, "viewerProtocolPolicy") && p.String() == "allow-all" {
						c.Violate(r, "behaviour %q allows plain HTTP", b.Get("pathPattern").String())
					}
				}
			}},
		{Name: "cloudfront-tls-1-2", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_174",
			Summary: "CloudFront serves custom domains with TLSv1.2_2021 or newer", Types: []string{TypeDistribution},
			Resource: func(c *Check, r analyzed.Resource) {
				cert := r.Get("viewerCertificate")
				if !c.Known(r, cert, "viewerCertificate") || cert.Get("cloudfrontDefaultCertificate").Bool() {
					return
				}
				if v := cert.Get("minimumProtocolVersion").String(); v != "TLSv1.2_2021" && v != "TLSv1.3_2025" {
					c.Violate(r, "minimumProtocolVersion is %q", v)
				}
			}},
		{Name: "cloudfront-waf", Pack: Security, Level: Mandatory, Anchor: "FSBP CloudFront.6, CKV_AWS_68",
			Summary: "CloudFront distributions are protected by a WAF web ACL", Types: []string{TypeDistribution},
			Resource: requireSet("webAclId", "webAclId is not set")},
		{Name: "waf-logging", Pack: Security, Level: Mandatory, Anchor: "FSBP WAF.11, CKV2_AWS_31",
			Summary: "WAF web ACLs log to a destination",
			Types:   []string{TypeWebACL, TypeWebACLLogging}, Stack: checkWAFLogging},

		// IAM
		{Name: "iam-no-admin-access", Pack: Security, Level: Mandatory, Anchor: "FSBP IAM.1, CKV_AWS_62, CKV_AWS_274",
			Summary: "No role gets AdministratorAccess or an inline policy allowing * on *", Types: []string{TypeRole, TypeRolePolicy, TypeRoleAttachment},
			Resource: checkNoAdmin},
		{Name: "iam-trust-no-wildcard-principal", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_60",
			Summary: "Role trust policies name their principals (no * principal)", Types: []string{TypeRole},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("assumeRolePolicy")
				if !c.Known(r, f, "assumeRolePolicy") {
					return
				}
				for _, st := range c.policyDocument(r, f, "assumeRolePolicy") {
					if st.Effect == "Allow" && anyPrincipal(st.Principal) {
						c.Violate(r, "the trust policy allows any principal")
					}
				}
			}},

		// ECR
		{Name: "ecr-immutable-tags", Pack: Security, Level: Mandatory, Anchor: "FSBP ECR.2, CKV_AWS_51",
			Summary: "ECR repositories make image tags immutable", Types: []string{TypeECRRepository},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("imageTagMutability"); c.Known(r, f, "imageTagMutability") && f.String() != "IMMUTABLE" {
					c.Violate(r, "imageTagMutability is %q: a pushed tag can be replaced under running deployments", f.String())
				}
			}},
		{Name: "ecr-scan-on-push", Pack: Security, Level: Mandatory, Anchor: "FSBP ECR.1, CKV_AWS_163",
			Summary: "ECR repositories scan images for vulnerabilities on push", Types: []string{TypeECRRepository},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("imageScanningConfiguration", "scanOnPush"); c.Known(r, f, "imageScanningConfiguration") && !f.Bool() {
					c.Violate(r, "imageScanningConfiguration.scanOnPush is not true")
				}
			}},
		{Name: "ecr-kms-encrypted", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_136",
			Summary: "ECR repositories encrypt images with a KMS key", Types: []string{TypeECRRepository},
			Resource: func(c *Check, r analyzed.Resource) {
				// The type decides (KMS without a key is the AWS-managed key): an unknown key
				// ARN inside a known configuration does not matter.
				cfg := r.Get("encryptionConfigurations")
				items := cfg.Items()
				if len(items) == 0 {
					if c.Known(r, cfg, "encryptionConfigurations") {
						c.Violate(r, "encryptionConfigurations does not use KMS (AES256 default)")
					}
					return
				}
				if typ := items[0].Get("encryptionType"); c.Known(r, typ, "encryptionConfigurations.encryptionType") && typ.String() != "KMS" {
					c.Violate(r, "encryptionConfigurations does not use KMS (AES256 default)")
				}
			}},

		// Kubernetes (Pod Security Standards, restricted profile)
		{Name: "k8s-namespace-restricted", Pack: Security, Level: Mandatory, Anchor: "Pod Security Admission, Pod Security Standards (restricted)",
			Summary: "Namespaces enforce the restricted Pod Security Standard", Types: []string{TypeK8sNamespace},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("metadata", "labels")
				if !c.Known(r, f, "metadata.labels") {
					return
				}
				if v := f.Get("pod-security.kubernetes.io/enforce"); v.String() != "restricted" {
					c.Violate(r, "label pod-security.kubernetes.io/enforce is %q, not restricted", v.String())
				}
			}},
		{Name: "k8s-pod-security-restricted", Pack: Security, Level: Mandatory, Anchor: "Pod Security Standards (restricted), CKV_K8S_16/20/23/26/28/30/31",
			Summary: "Workloads run non-root with a RuntimeDefault seccomp profile, without privilege escalation, host namespaces, host ports, " +
				"host paths or added capabilities", Types: workloadTypes,
			Resource: checkPodSecurity},
	}, append(append(append(append(append(append(append(workloadRules(), accountRules()...), accessRules()...), localRules()...), controlRules()...), storageRules()...), monitoringRules()...), kubernetesRules()...)...)
}

// graph indexes the resources a stack rule sees: by URN and by what depends on each, so that
// following dependencies costs the few edges involved rather than a scan of the stack.
type graph struct {
	first      *analyzed.Resource
	byURN      map[string]int
	dependents map[string][]int
}

// graphOf is the index of rs, built once per rule run.
func (c *Check) graphOf(rs []analyzed.Resource) *graph {
	if len(rs) == 0 {
		return &graph{}
	}
	if c.graph != nil && c.graph.first == &rs[0] && len(c.graph.byURN) > 0 {
		return c.graph
	}
	g := &graph{first: &rs[0], byURN: make(map[string]int, len(rs)), dependents: map[string][]int{}}
	for i, r := range rs {
		if _, dup := g.byURN[r.URN]; !dup {
			g.byURN[r.URN] = i
		}
		for _, d := range r.Dependencies {
			if list := g.dependents[d]; len(list) == 0 || list[len(list)-1] != i {
				g.dependents[d] = append(list, i)
			}
		}
	}
	c.graph = g
	return g
}

// dependencyOf is the first resource of rs (in order) of one of types that r depends on (the
// analyzer passes each resource's dependencies, so a database finds its parameter group even
// when the group's name is auto-generated and unknown during preview).
func (c *Check) dependencyOf(rs []analyzed.Resource, r analyzed.Resource, types ...string) (analyzed.Resource, bool) {
	g, best := c.graphOf(rs), -1
	for _, urn := range r.Dependencies {
		if i, ok := g.byURN[urn]; ok && slices.Contains(types, rs[i].Type) && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return analyzed.Resource{}, false
	}
	return rs[best], true
}

// dependentsOf are the resources of rs of one of types that depend on r, in order.
func (c *Check) dependentsOf(rs []analyzed.Resource, r analyzed.Resource, types ...string) []analyzed.Resource {
	var out []analyzed.Resource
	for _, i := range c.graphOf(rs).dependents[r.URN] {
		if slices.Contains(types, rs[i].Type) {
			out = append(out, rs[i])
		}
	}
	return out
}

func checkForceSSL(c *Check, rs []analyzed.Resource) {
	for _, db := range ofType(rs, TypeDBInstance) {
		if e := db.Get("engine"); !c.Known(db, e, "engine") || (e.String() != "" && e.String() != "postgres") {
			continue
		}
		name := db.Get("parameterGroupName")
		g, ok := c.dependencyOf(rs, db, TypeDBParamGroup)
		if !ok && !c.Known(db, name, "parameterGroupName") {
			continue
		}
		if !ok {
			c.Violate(db, "parameter group %q is not managed by this stack (default groups allow plaintext)", name.String())
			continue
		}
		params := g.Get("parameters")
		if !c.Known(db, params, "the parameter group's parameters") {
			continue
		}
		forced := false
		for _, p := range params.Items() {
			if p.Get("name").String() == forceSSLParameter && p.Get("value").String() == "1" {
				forced = true
			}
		}
		if !forced {
			c.Violate(db, "parameter group %q does not set rds.force_ssl=1", name.String())
		}
	}
}

func checkOpenIngress(c *Check, r analyzed.Resource) {
	open := func(cidrs []string) bool { return slices.Contains(cidrs, openIPv4) || slices.Contains(cidrs, openIPv6) }
	webOnly := func(rule analyzed.Field) bool {
		from, to := rule.Get("fromPort").Int(), rule.Get("toPort").Int()
		return (from == 443 && to == 443) || (from == 80 && to == 80)
	}
	check := func(rule analyzed.Field) {
		cidrs := append(rule.Get("cidrBlocks").Strings(), rule.Get("ipv6CidrBlocks").Strings()...)
		if open(cidrs) && !webOnly(rule) {
			c.Violate(r, "ingress %d-%d/%s is open to the internet", rule.Get("fromPort").Int(), rule.Get("toPort").Int(), rule.Get("protocol").String())
		}
	}
	if r.Type == TypeSGRule {
		if r.Get("type").String() != "ingress" {
			return
		}
		if !c.Known(r, r.Get("cidrBlocks"), "cidrBlocks") || !c.Known(r, r.Get("ipv6CidrBlocks"), "ipv6CidrBlocks") {
			return
		}
		check(r.Root()) // a standalone rule reads like an inline one
		return
	}
	ingress := r.Get("ingress")
	if !c.Known(r, ingress, "ingress") {
		return
	}
	for _, rule := range ingress.Items() {
		check(rule)
	}
}

func checkDefaultSGs(c *Check, rs []analyzed.Resource) {
	for _, sg := range ofType(rs, TypeDefaultSG) {
		if !c.Known(sg, sg.Get("ingress"), "ingress") || !c.Known(sg, sg.Get("egress"), "egress") {
			continue
		}
		if len(sg.Get("ingress").Items())+len(sg.Get("egress").Items()) > 0 {
			c.Violate(sg, "the default security group has rules")
		}
	}
	requireCompanion(c, rs, TypeVPC, TypeDefaultSG, "the VPC's default security group is not managed (AWS's default allows all traffic within it)")
}

// requireCompanion reports every resource of typ that no resource of companion depends on
// (a VPC without flow log, a bucket without encryption configuration, ...).
func requireCompanion(c *Check, rs []analyzed.Resource, typ, companion, message string) {
	for _, r := range ofType(rs, typ) {
		if len(c.dependentsOf(rs, r, companion)) == 0 {
			c.Violate(r, "%s", message)
		}
	}
}

func checkFlowLogs(c *Check, rs []analyzed.Resource) {
	requireCompanion(c, rs, TypeVPC, TypeFlowLog, "no flow log is attached to the VPC")
}

func checkVaultLocks(c *Check, rs []analyzed.Resource) {
	if c.T.RequireVaultLock {
		requireCompanion(c, rs, TypeBackupVault, TypeVaultLock, "the vault has no lock configuration; "+c.T.Tier+" requires one")
	}
}

func checkBucketPublicAccess(c *Check, rs []analyzed.Resource) {
	for _, b := range ofType(rs, TypeBucket) {
		blocks := c.dependentsOf(rs, b, TypeBucketPAB)
		if len(blocks) == 0 {
			c.Violate(b, "no public access block is attached to the bucket")
			continue
		}
		for _, f := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			if v := blocks[0].Get(f); c.Known(blocks[0], v, f) && !v.Bool() {
				c.Violate(b, "the public access block does not set %s", f)
			}
		}
	}
}

func checkBucketEncryption(c *Check, rs []analyzed.Resource) {
	requireCompanion(c, rs, TypeBucket, TypeBucketSSE, "no server-side encryption configuration is attached to the bucket")
}

func checkWAFLogging(c *Check, rs []analyzed.Resource) {
	requireCompanion(c, rs, TypeWebACL, TypeWebACLLogging, "the web ACL has no logging configuration")
}

// cloudFrontBehaviours are the default and ordered cache behaviours of a distribution.
func cloudFrontBehaviours(r analyzed.Resource) []analyzed.Field {
	return append([]analyzed.Field{r.Get("defaultCacheBehavior")}, r.Get("orderedCacheBehaviors").Items()...)
}

func checkProtected(c *Check, rs []analyzed.Resource) {
	if !c.T.RequireProtect {
		return
	}
	for _, r := range ofType(rs, TypeDBInstance, TypeCache, TypeKMSKey, TypeSecret, TypeBackupVault, TypeCluster) {
		if !r.Protect {
			c.Violate(r, "%s is not protected; %s protects stateful resources", r.Name, c.T.Tier)
		}
	}
}

// statement is the part of an IAM policy statement the rules read.
type statement struct {
	Effect                  string
	Action, NotAction       json.RawMessage
	Resource, NotResource   json.RawMessage
	Principal, NotPrincipal json.RawMessage
	Condition               json.RawMessage
}

// conditioned reports a statement with at least one condition ("Condition": {} is none).
func (st statement) conditioned() bool {
	var cond map[string]json.RawMessage
	return json.Unmarshal(st.Condition, &cond) == nil && len(cond) > 0
}

// anyone reports a statement whose principal is everyone, or everyone but some (NotPrincipal).
func (st statement) anyone() bool { return anyPrincipal(st.Principal) || len(st.NotPrincipal) > 0 }

// policyDocument is the statements of an IAM document field; a value that is not a JSON
// policy document (an object, malformed JSON, no statements) is a violation, never a pass.
func (c *Check) policyDocument(r analyzed.Resource, f analyzed.Field, field string) []statement {
	if f.Absent() {
		return nil
	}
	doc := f.String() // a non-string is reported as a type mismatch
	if doc == "" {
		return nil
	}
	list := statements(doc)
	if list == nil {
		c.Violate(r, "%s is not a JSON policy document with statements", field)
	}
	return list
}

// anyPrincipal reports a principal of "*" or {"AWS": "*"} (or a list holding "*"), however
// the JSON is spaced.
func anyPrincipal(raw json.RawMessage) bool {
	if hasStar(raw) {
		return true
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && hasStar(m["AWS"])
}

func statements(doc string) []statement {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	var list []statement
	if json.Unmarshal(d.Statement, &list) != nil {
		var one statement
		if json.Unmarshal(d.Statement, &one) == nil {
			list = []statement{one}
		}
	}
	return list
}

// hasStar reports whether a JSON string or string array is, or contains, "*".
func hasStar(raw json.RawMessage) bool { return slices.Contains(stringsOf(raw), "*") }

// inlineDocuments are the policy documents a role carries inline, or a RolePolicy's own.
func inlineDocuments(r analyzed.Resource) []analyzed.Field {
	if r.Type == TypeRolePolicy {
		return []analyzed.Field{r.Get("policy")}
	}
	var docs []analyzed.Field
	for _, p := range r.Get("inlinePolicies").Items() {
		docs = append(docs, p.Get("policy"))
	}
	return docs
}

func checkNoAdmin(c *Check, r analyzed.Resource) {
	switch r.Type {
	case TypeRoleAttachment:
		if f := r.Get("policyArn"); c.Known(r, f, "policyArn") && strings.HasSuffix(f.String(), adminPolicySuffix) {
			c.Violate(r, "attaches AdministratorAccess")
		}
		return
	case TypeRole:
		if f := r.Get("managedPolicyArns"); c.Known(r, f, "managedPolicyArns") {
			for _, arn := range f.Strings() {
				if strings.HasSuffix(arn, adminPolicySuffix) {
					c.Violate(r, "attaches AdministratorAccess")
				}
			}
		}
	}
	for _, d := range inlineDocuments(r) {
		if !c.Known(r, d, "policy") {
			continue
		}
		for _, st := range c.policyDocument(r, d, "policy") {
			if st.Effect == "Allow" && hasStar(st.Action) && hasStar(st.Resource) {
				c.Violate(r, "an inline policy allows * on *")
			}
		}
	}
}

// restrictedVolumes are the volume types the restricted Pod Security Standard allows.
var restrictedVolumes = []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}

// volumeKind is a pod volume's source type: its one key besides name.
func volumeKind(v analyzed.Field) string {
	for _, k := range v.Keys() {
		if k != "name" {
			return k
		}
	}
	return "without a source"
}

func checkPodSecurity(c *Check, r analyzed.Resource) {
	spec := r.Get("spec", "template", "spec")
	if r.Type == TypeK8sPod {
		spec = r.Get("spec")
	}
	if !c.Known(r, spec, "spec") {
		return
	}
	for _, host := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if spec.Get(host).Bool() {
			c.Violate(r, "%s is true", host)
		}
	}
	podNonRoot := spec.Get("securityContext", "runAsNonRoot").Bool()
	podSeccomp := spec.Get("securityContext", "seccompProfile", "type").String()
	for _, v := range spec.Get("volumes").Items() {
		if kind := volumeKind(v); !slices.Contains(restrictedVolumes, kind) {
			c.Violate(r, "volume %s is %s: restricted pods use %s", v.Get("name").String(), kind, strings.Join(restrictedVolumes, ", "))
		}
	}
	containers := append(spec.Get("containers").Items(), spec.Get("initContainers").Items()...)
	for _, ctr := range containers {
		name := ctr.Get("name").String()
		sc := ctr.Get("securityContext")
		if sc.Get("privileged").Bool() {
			c.Violate(r, "container %s is privileged", name)
		}
		// The container's profile, when it has one, overrides the pod's.
		seccomp := podSeccomp
		if own := sc.Get("seccompProfile"); !own.Absent() {
			seccomp = own.Get("type").String()
		}
		if seccomp != "RuntimeDefault" && seccomp != "Localhost" {
			c.Violate(r, "container %s has no RuntimeDefault or Localhost seccomp profile", name)
		}
		for _, p := range ctr.Get("ports").Items() {
			if p.Get("hostPort").Int() != 0 {
				c.Violate(r, "container %s binds host port %d", name, p.Get("hostPort").Int())
			}
		}
		if ape := sc.Get("allowPrivilegeEscalation"); ape.Absent() || ape.Bool() {
			c.Violate(r, "container %s does not set allowPrivilegeEscalation: false", name)
		}
		if !podNonRoot && !sc.Get("runAsNonRoot").Bool() {
			c.Violate(r, "container %s may run as root (runAsNonRoot not true)", name)
		}
		drop := sc.Get("capabilities", "drop").Strings()
		if !slices.Contains(drop, "ALL") {
			c.Violate(r, "container %s does not drop ALL capabilities", name)
		}
		if add := sc.Get("capabilities", "add").Strings(); len(add) > 0 && !(len(add) == 1 && add[0] == "NET_BIND_SERVICE") {
			c.Violate(r, "container %s adds capabilities %v", name, add)
		}
	}
}
