package tests

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/components/k8sbaseline"
	"github.com/scalemate/infra/components/postgres"
	"github.com/scalemate/infra/internal/instancetype"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/policies/analyzed"
	"github.com/scalemate/infra/policies/costmodel"
	"github.com/scalemate/infra/policies/rules"
	"github.com/scalemate/infra/stacks"
)

// evaluate runs every rule of both packs over a stack as the packs would see it.
func evaluate(t *testing.T, stack string, rs []analyzed.Resource) []rules.Finding {
	t.Helper()
	th, err := rules.ForStack(stack, nil)
	require.NoError(t, err)
	return rules.Evaluate(rules.All(), rs, th)
}

func mandatoryViolations(fs []rules.Finding) []string {
	var out []string
	for _, f := range fs {
		if !f.Unknown && f.Level == rules.Mandatory {
			out = append(out, f.String())
		}
	}
	return out
}

// The three real stacks raise no mandatory violation in either pack.
func TestStacksPassPolicies(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			fs := evaluate(t, stack, mustRunStack(t, stack).Analyzed())
			assert.Empty(t, mandatoryViolations(fs))
		})
	}
}

// Estimates per stack stay within budget and equal what the README publishes (update both
// on purpose).
func TestStackCostEstimates(t *testing.T) {
	want := map[string]float64{"dev": 294.59, "staging": 1176.19, "prod": 3630.83}
	for stack, usd := range want {
		est := costmodel.Estimate(mustRunStack(t, stack).Analyzed())
		assert.InDelta(t, usd, est.Total, 0.01, "%s\n%s", stack, est.Table())
		th, _ := rules.ForStack(stack, nil)
		assert.Less(t, est.Total, th.MonthlyBudgetUSD, stack)
		assert.Empty(t, est.Unpriced, "%s: every sized resource has a price", stack)
	}
}

// --- careless changes -------------------------------------------------------------------

type mutation func(rs []analyzed.Resource) []analyzed.Resource

// setPath returns m with the value at path replaced (maps are created as needed).
func setPath(m property.Map, path []string, v property.Value) property.Map {
	if len(path) == 1 {
		return m.Set(path[0], v)
	}
	inner := property.Map{}
	if cur, ok := m.GetOk(path[0]); ok && cur.IsMap() {
		inner = cur.AsMap()
	}
	return m.Set(path[0], property.New(setPath(inner, path[1:], v)))
}

// inContainers changes one field (a dotted path) of every container of every object of a type,
// leaving the rest of each pod as the program made it: the careless change trips one rule.
func inContainers(typ, path string, v any) mutation {
	return func(rs []analyzed.Resource) []analyzed.Resource {
		for i, r := range rs {
			if r.Type != typ {
				continue
			}
			spec, ok := r.Props.GetOk("spec")
			if !ok || !spec.IsMap() {
				continue
			}
			tmpl := spec.AsMap().Get("template").AsMap()
			pod := tmpl.Get("spec").AsMap()
			var containers []property.Value
			for _, c := range pod.Get("containers").AsArray().AsSlice() {
				containers = append(containers, property.New(setPath(c.AsMap(), strings.Split(path, "."), toValue(v))))
			}
			pod = pod.Set("containers", property.New(property.NewArray(containers)))
			tmpl = tmpl.Set("spec", property.New(pod))
			rs[i].Props = r.Props.Set("spec", property.New(spec.AsMap().Set("template", property.New(tmpl))))
		}
		return rs
	}
}

// set changes a property of every resource of one type, as a careless code change would.
func set(typ, path string, v any) mutation {
	return func(rs []analyzed.Resource) []analyzed.Resource {
		for i, r := range rs {
			if r.Type == typ {
				rs[i].Props = setPath(r.Props, strings.Split(path, "."), toValue(v))
			}
		}
		return rs
	}
}

func toValue(v any) property.Value {
	switch v := v.(type) {
	case nil:
		return property.New(property.Null)
	case bool:
		return property.New(v)
	case int:
		return property.New(float64(v))
	case string:
		return property.New(v)
	case []string:
		var vs []property.Value
		for _, s := range v {
			vs = append(vs, property.New(s))
		}
		return property.New(property.NewArray(vs))
	case []any:
		var vs []property.Value
		for _, x := range v {
			vs = append(vs, toValue(x))
		}
		return property.New(property.NewArray(vs))
	case map[string]any:
		m := map[string]property.Value{}
		for k, x := range v {
			m[k] = toValue(x)
		}
		return property.New(property.NewMap(m))
	}
	panic(fmt.Sprintf("toValue: %T", v))
}

// drop removes every resource of one type.
func drop(typ string) mutation {
	return func(rs []analyzed.Resource) []analyzed.Resource {
		return slices.DeleteFunc(rs, func(r analyzed.Resource) bool { return r.Type == typ })
	}
}

// dropAlarmsBut drops every metric alarm except those watching a log metric filter's metric.
func dropAlarmsBut(filterType string) mutation {
	return func(rs []analyzed.Resource) []analyzed.Resource {
		watched := map[string]bool{}
		for _, f := range rs {
			if f.Type == filterType {
				mt := f.Get("metricTransformation")
				watched[mt.Get("namespace").String()+"/"+mt.Get("name").String()] = true
			}
		}
		return slices.DeleteFunc(rs, func(r analyzed.Resource) bool {
			return r.Type == rules.TypeMetricAlarm && !watched[r.Get("namespace").String()+"/"+r.Get("metricName").String()]
		})
	}
}

// add appends a resource someone added without the guard rails.
func add(typ string, props map[string]any) mutation {
	return func(rs []analyzed.Resource) []analyzed.Resource {
		return append(rs, analyzed.Resource{Type: typ, Name: "added", URN: "urn:pulumi:x::scalemate::" + typ + "::added",
			Props: toValue(props).AsMap()})
	}
}

// unprotect drops the protect option of every resource of one type.
func unprotect(typ string) mutation {
	return func(rs []analyzed.Resource) []analyzed.Resource {
		for i := range rs {
			if rs[i].Type == typ {
				rs[i].Protect = false
			}
		}
		return rs
	}
}

type careless struct {
	stack string
	// config edits a real stack's config (a careless pull request to Pulumi.<stack>.yaml);
	// mutate edits what the program registers (a careless code change).
	config map[string]string
	mutate mutation
}

var carelessChanges = map[string]careless{
	// config changes the stack validation allows but the tier's policy refuses
	"rds-multi-az":                 {stack: "staging", config: map[string]string{stacks.KeyPostgres: `{"multiAz":false}`}},
	"rds-backup-retention":         {stack: "staging", config: map[string]string{stacks.KeyPostgres: `{"backupRetentionDays":3}`}},
	"elasticache-snapshots":        {stack: "prod", config: map[string]string{stacks.KeyRedis: `{"snapshotRetentionDays":3}`}},
	"eks-endpoint-restricted":      {stack: "prod", config: map[string]string{stacks.KeyCluster: `{"publicAccessCidrs":["198.51.100.0/24"]}`}},
	"log-group-retention":          {stack: "prod", config: map[string]string{stacks.KeyLogRetentionDays: "90"}},
	"backup-vault-locked":          {stack: "prod", config: map[string]string{stacks.KeyBackup: `{"vaultLock":"none"}`}},
	"spot-workers":                 {stack: "dev", config: map[string]string{stacks.KeyNodePools: `{"workers":{"capacityType":"ON_DEMAND"}}`}},
	"allowed-node-instance-types":  {stack: "dev", config: map[string]string{stacks.KeyNodePools: `{"workers":{"instanceTypes":["c6i.large","c5.large"]}}`}},
	"allowed-db-instance-classes":  {stack: "prod", config: map[string]string{stacks.KeyPostgres: `{"instanceClass":"db.m6g.large","replicaInstanceClass":"db.t4g.large"}`}},
	"allowed-cache-node-types":     {stack: "prod", config: map[string]string{stacks.KeyRedis: `{"nodeType":"cache.m6g.large"}`}},
	"node-pool-caps":               {stack: "dev", config: map[string]string{stacks.KeyNodePools: `{"workers":{"maxSize":20}}`}},
	"db-replica-cap":               {stack: "dev", config: map[string]string{stacks.KeyPostgres: `{"readReplicas":1}`}},
	"nat-gateway-count":            {stack: "dev", config: map[string]string{stacks.KeyNetwork: `{"natGateways":"perAz"}`}},
	"log-retention-cap":            {stack: "dev", config: map[string]string{stacks.KeyLogRetentionDays: "365"}},
	"monthly-budget":               {stack: "staging", config: map[string]string{stacks.KeyRedis: `{"nodeType":"cache.r7g.large","replicasPerShard":2}`, stacks.KeyPostgres: `{"instanceClass":"db.r7g.large"}`}},
	"stateful-resources-protected": {stack: "prod", mutate: unprotect(rules.TypeDBInstance)},

	// code changes
	"rds-storage-encrypted":             {stack: "prod", mutate: set(rules.TypeDBInstance, "storageEncrypted", false)},
	"rds-not-public":                    {stack: "dev", mutate: set(rules.TypeDBInstance, "publiclyAccessible", true)},
	"rds-deletion-protection":           {stack: "prod", mutate: set(rules.TypeDBInstance, "deletionProtection", false)},
	"rds-iam-authentication":            {stack: "dev", mutate: set(rules.TypeDBInstance, "iamDatabaseAuthenticationEnabled", false)},
	"rds-auto-minor-upgrade":            {stack: "dev", mutate: set(rules.TypeDBInstance, "autoMinorVersionUpgrade", false)},
	"rds-copy-tags-to-snapshot":         {stack: "dev", mutate: set(rules.TypeDBInstance, "copyTagsToSnapshot", false)},
	"rds-log-exports":                   {stack: "dev", mutate: set(rules.TypeDBInstance, "enabledCloudwatchLogsExports", []string{"upgrade"})},
	"rds-custom-master-username":        {stack: "dev", mutate: set(rules.TypeDBInstance, "username", "postgres")},
	"rds-force-ssl":                     {stack: "dev", mutate: drop(rules.TypeDBParamGroup)},
	"rds-proxy-tls":                     {stack: "staging", mutate: set(rules.TypeDBProxy, "requireTls", false)},
	"elasticache-encryption-at-rest":    {stack: "dev", mutate: set(rules.TypeCache, "atRestEncryptionEnabled", false)},
	"elasticache-encryption-in-transit": {stack: "dev", mutate: set(rules.TypeCache, "transitEncryptionEnabled", false)},
	"elasticache-auth":                  {stack: "dev", mutate: set(rules.TypeCache, "authToken", nil)},
	"elasticache-automatic-failover":    {stack: "prod", mutate: set(rules.TypeCache, "automaticFailoverEnabled", false)},
	"elasticache-auto-minor-upgrade":    {stack: "dev", mutate: set(rules.TypeCache, "autoMinorVersionUpgrade", false)},
	"eks-secrets-encryption":            {stack: "dev", mutate: set(rules.TypeCluster, "encryptionConfig", nil)},
	"eks-control-plane-logging":         {stack: "dev", mutate: set(rules.TypeCluster, "enabledClusterLogTypes", []string{"api"})},
	"eks-nodegroup-no-ssh":              {stack: "dev", mutate: set(rules.TypeNodeGroup, "remoteAccess", map[string]any{"ec2SshKey": "ops"})},
	"launch-template-imdsv2":            {stack: "dev", mutate: set(rules.TypeLaunchTemplate, "metadataOptions.httpTokens", "optional")},
	"launch-template-ebs-encrypted": {stack: "dev", mutate: set(rules.TypeLaunchTemplate, "blockDeviceMappings",
		[]any{map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"volumeType": "gp3", "volumeSize": 50}}})},
	"gp3-volumes":                    {stack: "dev", mutate: set(rules.TypeDBInstance, "storageType", "gp2")},
	"security-group-no-open-ingress": {stack: "dev", mutate: add(rules.TypeSGRule, map[string]any{"description": "SSH for debugging", "type": "ingress", "fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": []string{"0.0.0.0/0"}})},
	"default-security-group-closed":  {stack: "dev", mutate: drop(rules.TypeDefaultSG)},

	// the account baseline's resources, added to a stack's as a careless change would make them
	"cloudtrail-multi-region-validated":  {stack: "baseline", mutate: set(rules.TypeTrail, "isMultiRegionTrail", false)},
	"cloudtrail-encrypted-to-cloudwatch": {stack: "prod", mutate: add(rules.TypeTrail, map[string]any{"isMultiRegionTrail": true, "enableLogFileValidation": true})},
	"guardduty-enabled": {stack: "prod", mutate: func(rs []analyzed.Resource) []analyzed.Resource {
		// A disabled detector with every protection on: only guardduty-enabled applies.
		rs = add(rules.TypeDetector, map[string]any{"enable": false})(rs)
		detector := rs[len(rs)-1]
		for _, f := range []string{"EKS_AUDIT_LOGS", "RUNTIME_MONITORING", "RDS_LOGIN_EVENTS", "S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"} {
			rs = append(rs, analyzed.Resource{Type: rules.TypeDetectorFeature, Name: f, URN: "urn:pulumi:x::scalemate::feature::" + f,
				Props: toValue(map[string]any{"name": f, "status": "ENABLED"}).AsMap(), Dependencies: []string{detector.URN}})
		}
		return rs
	}},
	"guardduty-protections":          {stack: "prod", mutate: add(rules.TypeDetector, map[string]any{"enable": true})},
	"securityhub-fsbp":               {stack: "prod", mutate: add(rules.TypeSecurityHub, map[string]any{"enableDefaultStandards": false})},
	"config-records-all":             {stack: "prod", mutate: add(rules.TypeConfigRecorder, map[string]any{"recordingGroup": map[string]any{"allSupported": false}})},
	"ebs-encryption-by-default":      {stack: "prod", mutate: add(rules.TypeEBSDefault, map[string]any{"enabled": false})},
	"imdsv2-by-default":              {stack: "prod", mutate: add(rules.TypeMetadataDefaults, map[string]any{"httpTokens": "optional"})},
	"s3-account-public-access-block": {stack: "prod", mutate: add(rules.TypeAccountPublicAccess, map[string]any{"blockPublicAcls": false})},
	"ssm-session-logs-encrypted": {stack: "prod", mutate: add(rules.TypeSSMDocument, map[string]any{"documentType": "Session",
		"content": `{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{"cloudWatchLogGroupName":"","kmsKeyId":""}}`})},
	"client-vpn-connection-logging": {stack: "staging", mutate: add(rules.TypeClientVPN, map[string]any{"connectionLogOptions": map[string]any{"enabled": false}})},
	"canary-watched":                {stack: "prod", mutate: dropAlarmsBut(rules.TypeLogMetricFilter)},
	// A component that reaches for AWS in the local tier (a secret in Secrets Manager).
	"local-tier-no-cloud-resources": {stack: "local", mutate: add(rules.TypeRole, map[string]any{"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})},
	"vpc-flow-logs":                 {stack: "dev", mutate: drop(rules.TypeFlowLog)},
	"subnet-no-public-ip-on-launch": {stack: "dev", mutate: set(rules.TypeSubnet, "mapPublicIpOnLaunch", true)},
	"kms-key-rotation":              {stack: "dev", mutate: set(rules.TypeKMSKey, "enableKeyRotation", false)},
	"secret-kms-cmk":                {stack: "dev", mutate: set(rules.TypeSecret, "kmsKeyId", nil)},
	"alarm-has-action":              {stack: "dev", mutate: add(rules.TypeMetricAlarm, map[string]any{"alarmName": "cpu"})},
	"sns-topic-encrypted":           {stack: "dev", mutate: add(rules.TypeSNSTopic, map[string]any{"name": "alerts"})},
	"ecr-immutable-tags":            {stack: "dev", mutate: set(rules.TypeECRRepository, "imageTagMutability", "MUTABLE")},
	"ecr-scan-on-push":              {stack: "dev", mutate: set(rules.TypeECRRepository, "imageScanningConfiguration.scanOnPush", false)},
	"ecr-kms-encrypted":             {stack: "prod", mutate: set(rules.TypeECRRepository, "encryptionConfigurations", []any{map[string]any{"encryptionType": "AES256"}})},
	"k8s-namespace-restricted":      {stack: "staging", mutate: set(rules.TypeK8sNamespace, "metadata.labels", map[string]any{"pod-security.kubernetes.io/enforce": "baseline"})},
	"backup-vault-encrypted":        {stack: "dev", mutate: set(rules.TypeBackupVault, "kmsKeyArn", nil)},
	"s3-public-access-blocked":      {stack: "dev", mutate: drop(rules.TypeBucketPAB)},
	"s3-encrypted":                  {stack: "dev", mutate: drop(rules.TypeBucketSSE)},
	"cloudfront-https-only":         {stack: "dev", mutate: set(rules.TypeDistribution, "defaultCacheBehavior.viewerProtocolPolicy", "allow-all")},
	"cloudfront-tls-1-2":            {stack: "staging", mutate: set(rules.TypeDistribution, "viewerCertificate.minimumProtocolVersion", "TLSv1")},
	"cloudfront-waf":                {stack: "dev", mutate: set(rules.TypeDistribution, "webAclId", "")},
	"cdn-price-class":               {stack: "dev", mutate: set(rules.TypeDistribution, "priceClass", "PriceClass_All")},
	"waf-logging": {stack: "dev", mutate: add(rules.TypeWebACL, map[string]any{"scope": "CLOUDFRONT",
		"visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": true},
		"rules":            []any{map[string]any{"name": "common", "visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": true}}}})},
	"iam-no-admin-access":             {stack: "dev", mutate: add(rules.TypeRoleAttachment, map[string]any{"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})},
	"iam-trust-no-wildcard-principal": {stack: "dev", mutate: set(rules.TypeRole, "assumeRolePolicy", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)},
	"k8s-image-immutable":             {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "image", "123456789012.dkr.ecr.us-west-2.amazonaws.com/scalemate-dev/api:latest")},
	"k8s-resources-set":               {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "resources", map[string]any{"requests": map[string]any{"cpu": "100m"}})},
	"k8s-read-only-root-filesystem":   {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "securityContext.readOnlyRootFilesystem", false)},
	"k8s-probes":                      {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "readinessProbe", nil)},
	"k8s-not-default-namespace":       {stack: "dev", mutate: set(rules.TypeK8sService, "metadata.namespace", "default")},
	"k8s-service-not-exposed":         {stack: "dev", mutate: set(rules.TypeK8sService, "spec.type", "LoadBalancer")},
	"k8s-disruption-budget":           {stack: "prod", mutate: drop(rules.TypeK8sPDB)},
	"alb-https-only":                  {stack: "dev", mutate: set(rules.TypeListener, "sslPolicy", "ELBSecurityPolicy-2016-08")},
	"alb-drop-invalid-headers":        {stack: "dev", mutate: set(rules.TypeLoadBalancer, "dropInvalidHeaderFields", false)},
	"alb-access-logs":                 {stack: "dev", mutate: set(rules.TypeLoadBalancer, "accessLogs.enabled", false)},

	// public controls added for the types the coverage test listed
	"k8s-no-secret-in-env":        {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "env", []any{map[string]any{"name": "DB_PASSWORD", "value": "hunter2"}})},
	"k8s-no-ssh-port":             {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "ports", []any{map[string]any{"containerPort": 22}})},
	"kms-key-policy-not-public":   {stack: "dev", mutate: set(rules.TypeKMSKey, "policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`)},
	"iam-no-kms-decrypt-all-keys": {stack: "dev", mutate: add(rules.TypeRolePolicy, map[string]any{"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`})},
	"rds-engine-standard-support": {stack: "dev", mutate: set(rules.TypeDBInstance, "engineVersion", "13.20")},
	"s3-lifecycle-configured":     {stack: "dev", mutate: drop(rules.TypeBucketLifecycle)},
	"s3-versioning":               {stack: "dev", mutate: set(rules.TypeBucketVersioning, "versioningConfiguration.status", "Suspended")},
	"s3-acls-disabled":            {stack: "dev", mutate: set(rules.TypeBucketOwnership, "rule.objectOwnership", "ObjectWriter")},
	"s3-audit-log-object-lock":    {stack: "baseline", mutate: drop(rules.TypeBucketObjectLock)},
	"cis-trail-metric-filters":    {stack: "baseline", mutate: drop(rules.TypeLogMetricFilter)},
	"log-metric-filter-alarmed":   {stack: "dev", mutate: set(rules.TypeLogMetricFilter, "metricTransformation.name", "Unwatched")},
	"backup-plan-frequency-retention": {stack: "prod", mutate: set(rules.TypeBackupPlan, "rules",
		[]any{map[string]any{"ruleName": "weekly", "schedule": "cron(0 3 ? * SUN *)", "lifecycle": map[string]any{"deleteAfter": 35}}})},
	"k8s-service-account-token-not-mounted": {stack: "dev", mutate: set(rules.TypeK8sServiceAccount, "automountServiceAccountToken", true)},
	"k8s-rbac-least-privilege":              {stack: "dev", mutate: drop(rules.TypeAdmissionBinding)},
	"eks-access-entry-least-privilege":      {stack: "dev", mutate: set(rules.TypeAccessEntry, "kubernetesGroups", []string{"system:masters"})},
	"cloudfront-response-headers-policy":    {stack: "dev", mutate: set(rules.TypeDistribution, "defaultCacheBehavior.responseHeadersPolicyId", "")},
	"cloudfront-hsts":                       {stack: "dev", mutate: set(rules.TypeResponseHeaders, "securityHeadersConfig.strictTransportSecurity.override", false)},
	"vpc-gateway-endpoint-policy":           {stack: "dev", mutate: set(rules.TypeVPCEndpoint, "policy", nil)},
	"elasticache-cmk":                       {stack: "dev", mutate: set(rules.TypeCache, "kmsKeyId", nil)},
	"elasticache-multi-az":                  {stack: "staging", mutate: set(rules.TypeCache, "multiAzEnabled", false)},
	"rds-performance-insights-kms":          {stack: "prod", mutate: set(rules.TypeDBInstance, "performanceInsightsKmsKeyId", nil)},
	"security-group-descriptions":           {stack: "dev", mutate: set(rules.TypeSecurityGroup, "description", "Managed by Pulumi")},
	"waf-rule-metrics":                      {stack: "dev", mutate: set(rules.TypeWebACL, "visibilityConfig.cloudwatchMetricsEnabled", false)},
	"iam-oidc-trust-conditions":             {stack: "dev", mutate: set(rules.TypeRole, "assumeRolePolicy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub":"*","oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:aud":"sts.amazonaws.com"}}}]}`)},
	"acm-key-strength":                      {stack: "prod", mutate: set(rules.TypeCertificate, "keyAlgorithm", "RSA_1024")},
	"codebuild-no-privileged-mode":          {stack: "dev", mutate: set(rules.TypeCodeBuild, "environment.privilegedMode", true)},
	"codebuild-no-plaintext-credentials":    {stack: "dev", mutate: set(rules.TypeCodeBuild, "environment.environmentVariables", []any{map[string]any{"name": "AWS_SECRET_ACCESS_KEY", "value": "x"}})},
	"s3-bucket-tls-only":                    {stack: "dev", mutate: drop(rules.TypeBucketPolicy)},
	"config-recorder-on":                    {stack: "prod", mutate: add(rules.TypeRecorderStatus, map[string]any{"isEnabled": false})},
	"inspector-scans-ec2-ecr":               {stack: "prod", mutate: add(rules.TypeInspectorEnabler, map[string]any{"resourceTypes": []any{"EC2"}})},
	"access-analyzer-account":               {stack: "prod", mutate: add(rules.TypeAccessAnalyzer, map[string]any{"type": "ACCOUNT_UNUSED_ACCESS"})},
	"ecr-lifecycle-policy":                  {stack: "dev", mutate: drop(rules.TypeECRLifecycle)},
	"elasticache-own-subnet-group": {stack: "dev", mutate: func(rs []analyzed.Resource) []analyzed.Resource {
		return set(rules.TypeCache, "subnetGroupName", "default")(drop(rules.TypeCacheSubnetGroup)(rs))
	}},
	"sns-topic-policy-not-public":         {stack: "dev", mutate: set(rules.TypeTopicPolicy, "policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"}]}`)},
	"target-group-health-check":           {stack: "dev", mutate: set(rules.TypeTargetGroup, "healthCheck.enabled", false)},
	"k8s-namespace-default-deny":          {stack: "staging", mutate: drop(rules.TypeK8sNetworkPolicy)},
	"k8s-no-cluster-admin-binding":        {stack: "dev", mutate: set(rules.TypeClusterRoleBinding, "roleRef.name", "cluster-admin")},
	"cloudfront-s3-origin-access-control": {stack: "dev", mutate: set(rules.TypeDistribution, "origins", []any{map[string]any{"originId": "assets", "domainName": "scalemate-dev-assets.s3.us-west-2.amazonaws.com"}})},
	"kms-deletion-window":                 {stack: "prod", mutate: set(rules.TypeKMSKey, "deletionWindowInDays", 7)},
	"alb-desync-mitigation":               {stack: "dev", mutate: set(rules.TypeLoadBalancer, "desyncMitigationMode", "monitor")},
	"alb-deletion-protection":             {stack: "prod", config: map[string]string{stacks.KeyApp: `{"release":{"blue":{"version":"v1.0.0"}}}`}, mutate: set(rules.TypeLoadBalancer, "enableDeletionProtection", false)},
	"alb-waf":                             {stack: "dev", mutate: drop(rules.TypeWebACLAssociation)},
	"k8s-pod-security-restricted":         {stack: "dev", mutate: inContainers(rules.TypeK8sDeployment, "securityContext.privileged", true)},
}

// The component offers no PostgreSQL major that the cost pack refuses as paid Extended Support.
func TestPostgresMajorsInStandardSupport(t *testing.T) {
	for _, major := range postgres.SupportedMajors() {
		assert.Contains(t, rules.PostgresStandardSupport, major)
	}
}

// The RBAC rule recognises the preview group's guard by the expression the baseline writes.
func TestDryRunGuardExpression(t *testing.T) {
	assert.Equal(t, k8sbaseline.DryRunOnlyExpression, rules.DryRunOnly)
}

// For every mandatory rule, a careless change to a real stack is reported by that rule.
func TestCarelessChangesAreReported(t *testing.T) {
	for _, r := range rules.All() {
		if r.Level != rules.Mandatory {
			continue
		}
		c, ok := carelessChanges[r.Name]
		if !assert.True(t, ok, "mandatory rule %s has no careless-change test", r.Name) {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			run := runStack
			if c.stack == "baseline" {
				run = func(t testing.TB, _ string, edit func(map[string]string)) (*mocktest.Recorder, error) {
					return runBaseline(t, edit)
				}
			}
			rec, err := run(t, c.stack, func(cfg map[string]string) {
				for k, v := range c.config {
					cfg[k] = v
				}
			})
			require.NoError(t, err, "the stack validation lets this change through; the policy must catch it")
			rs := rec.Analyzed()
			if c.mutate != nil {
				rs = c.mutate(rs)
			}
			var hits, others []string
			for _, f := range evaluate(t, c.stack, rs) {
				switch {
				case f.Unknown || f.Level != rules.Mandatory:
				case f.Rule == r.Name:
					hits = append(hits, f.Message)
				case !slices.Contains(others, f.Rule):
					others = append(others, f.Rule)
				}
			}
			assert.NotEmpty(t, hits, "%s does not catch the change", r.Name)
			// Exactly that rule: a change that trips others too proves less about this one.
			assert.Empty(t, others, "the change for %s trips other mandatory rules", r.Name)
		})
	}
}

// One catalog: every instance family a node pool may name (internal/instancetype) is offered
// and priced by the cost model with its sizes, and nothing else is.
func TestCatalogCoversInstanceFamilies(t *testing.T) {
	var priced []string
	for _, f := range costmodel.EC2Families {
		priced = append(priced, f.Prefix)
		for _, size := range f.Sizes {
			_, err := instancetype.Parse(f.Prefix + "." + size)
			assert.NoError(t, err, "%s.%s", f.Prefix, size)
		}
	}
	assert.ElementsMatch(t, instancetype.Families(), priced)
}

// The cost pack's tier thresholds allow nothing the catalog does not offer.
func TestCatalogCoversThresholds(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		th, err := rules.ForStack(stack, nil)
		require.NoError(t, err)
		for _, list := range []struct {
			patterns []string
			catalog  map[string]costmodel.Price
		}{{th.AllowedDBClasses, costmodel.RDS}, {th.AllowedCacheNodeTypes, costmodel.Cache}} {
			for _, p := range list.patterns {
				matched := false
				for typ := range list.catalog {
					if ok, _ := path.Match(p, typ); ok {
						matched = true
					}
				}
				assert.True(t, matched, "%s allows %s, which the catalog does not offer", stack, p)
			}
		}
	}
}
