package rules

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/analyzed"
)

var seq int

// res builds an analyzed resource of type typ with the given inputs (plain Go values).
func res(typ string, props map[string]any, deps ...analyzed.Resource) analyzed.Resource {
	seq++
	r := analyzed.Resource{Type: typ, Name: fmt.Sprintf("r%d", seq), URN: fmt.Sprintf("urn:pulumi:test::p::%s::r%d", typ, seq),
		Props: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(props))}
	for _, d := range deps {
		r.Dependencies = append(r.Dependencies, d.URN)
	}
	return r
}

func protected(r analyzed.Resource) analyzed.Resource { r.Protect = true; return r }

// with returns a copy of m with the given keys changed.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

var (
	goodDB = map[string]any{
		"engine": "postgres", "instanceClass": "db.r7g.xlarge", "storageEncrypted": true, "publiclyAccessible": false,
		"backupRetentionPeriod": 30, "multiAz": true, "deletionProtection": true, "iamDatabaseAuthenticationEnabled": true,
		"autoMinorVersionUpgrade": true, "copyTagsToSnapshot": true, "enabledCloudwatchLogsExports": []any{"postgresql", "upgrade"},
		"username": "platform_admin", "monitoringInterval": 60, "storageType": "gp3", "allocatedStorage": 100,
	}
	goodCache = map[string]any{
		"engine": "valkey", "nodeType": "cache.r7g.large", "atRestEncryptionEnabled": true, "transitEncryptionEnabled": true,
		"authToken": "x", "automaticFailoverEnabled": true, "snapshotRetentionLimit": 14, "autoMinorVersionUpgrade": true,
		"numNodeGroups": 3, "replicasPerNodeGroup": 2,
	}
	goodCluster = map[string]any{
		"version":                "1.34",
		"vpcConfig":              map[string]any{"endpointPublicAccess": false, "endpointPrivateAccess": true},
		"encryptionConfig":       map[string]any{"resources": []any{"secrets"}, "provider": map[string]any{"keyArn": "arn:key"}},
		"enabledClusterLogTypes": []any{"api", "audit", "authenticator"},
	}
	goodLT = map[string]any{
		"metadataOptions":     map[string]any{"httpTokens": "required", "httpPutResponseHopLimit": 1},
		"blockDeviceMappings": []any{map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"encrypted": "true", "volumeType": "gp3", "volumeSize": 50}}},
	}
	goodNodeGroup = map[string]any{
		"instanceTypes": []any{"m6i.large", "m5.large"}, "capacityType": "SPOT",
		"scalingConfig": map[string]any{"minSize": 1, "maxSize": 3, "desiredSize": 1},
	}
	goodPod = map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
		"volumes":         []any{map[string]any{"name": "tmp", "emptyDir": map[string]any{}}},
		"containers": []any{map[string]any{"name": "app", "securityContext": map[string]any{
			"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}}},
	}}}}
	goodDistribution = map[string]any{
		"priceClass": "PriceClass_100", "webAclId": "arn:acl",
		"defaultCacheBehavior":  map[string]any{"viewerProtocolPolicy": "redirect-to-https"},
		"orderedCacheBehaviors": []any{map[string]any{"pathPattern": "/api/*", "viewerProtocolPolicy": "https-only"}},
		"viewerCertificate":     map[string]any{"acmCertificateArn": "arn:cert", "minimumProtocolVersion": "TLSv1.2_2021"},
	}
	adminDoc    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	scopedDoc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":["arn:log"]}]}`
	serviceDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["eks.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}`
	anyoneTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
)

// irsaTrust is an IRSA trust policy whose sub condition is the given JSON value.
func irsaTrust(sub string) string {
	const issuer = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/` + issuer +
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + issuer + `:sub":` + sub + `,"` + issuer + `:aud":"sts.amazonaws.com"}}}]}`
}

// ruleCase is a compliant and a violating stack for one rule, judged with a tier's thresholds.
type ruleCase struct {
	tier      string
	good, bad func() []analyzed.Resource
}

func one(typ string, props map[string]any) func() []analyzed.Resource {
	return func() []analyzed.Resource { return []analyzed.Resource{res(typ, props)} }
}

func vpcWith(children ...string) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		vpc := res(TypeVPC, map[string]any{"cidrBlock": "10.0.0.0/16"})
		out := []analyzed.Resource{vpc}
		for _, c := range children {
			out = append(out, res(c, map[string]any{}, vpc))
		}
		return out
	}
}

func dbWithParams(params []any) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		pg := res(TypeDBParamGroup, map[string]any{"family": "postgres16", "parameters": params})
		return []analyzed.Resource{pg, res(TypeDBInstance, with(goodDB, "parameterGroupName", "pg"), pg)}
	}
}

func bucketWith(children map[string]map[string]any) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		b := res(TypeBucket, map[string]any{})
		out := []analyzed.Resource{b}
		for typ, props := range children {
			out = append(out, res(typ, props, b))
		}
		return out
	}
}

func nodeGroups(max ...int) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		var out []analyzed.Resource
		for _, m := range max {
			out = append(out, res(TypeNodeGroup, with(goodNodeGroup, "scalingConfig", map[string]any{"minSize": 1, "maxSize": m, "desiredSize": 1})))
		}
		return out
	}
}

func replicas(n int) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		out := []analyzed.Resource{res(TypeDBInstance, goodDB)}
		for i := 0; i < n; i++ {
			out = append(out, res(TypeDBInstance, map[string]any{"replicateSourceDb": "db", "instanceClass": "db.r7g.xlarge"}))
		}
		return out
	}
}

func nats(n int) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		var out []analyzed.Resource
		for i := 0; i < n; i++ {
			out = append(out, res(TypeNATGateway, map[string]any{}))
		}
		return out
	}
}

func withPod(mutate func(ctr, spec map[string]any)) map[string]any {
	ctr := map[string]any{"name": "app", "securityContext": map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}}
	spec := map[string]any{"securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}, "containers": []any{ctr}}
	mutate(ctr, spec)
	return map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec}}}
}

var cases = map[string]ruleCase{
	"s3-lifecycle-configured": {"dev", bucketWith(map[string]map[string]any{TypeBucketLifecycle: {}}), bucketWith(nil)},
	"s3-versioning": {"dev", bucketWith(map[string]map[string]any{TypeBucketVersioning: {"versioningConfiguration": map[string]any{"status": "Enabled"}}}),
		bucketWith(map[string]map[string]any{TypeBucketVersioning: {"versioningConfiguration": map[string]any{"status": "Suspended"}}})},
	"s3-acls-disabled": {"dev", func() []analyzed.Resource {
		// The assets bucket enforces ownership; the log bucket keeps ACLs for CloudFront.
		assets, logs := res(TypeBucket, map[string]any{}), res(TypeBucket, map[string]any{})
		return []analyzed.Resource{assets, logs,
			res(TypeBucketOwnership, map[string]any{"rule": map[string]any{"objectOwnership": "BucketOwnerEnforced"}}, assets),
			res(TypeBucketOwnership, map[string]any{"rule": map[string]any{"objectOwnership": "BucketOwnerPreferred"}}, logs),
			res(TypeDistribution, with(goodDistribution, "loggingConfig", map[string]any{"bucket": "logs.s3.amazonaws.com"}), assets, logs)}
	}, bucketWith(map[string]map[string]any{TypeBucketOwnership: {"rule": map[string]any{"objectOwnership": "BucketOwnerPreferred"}}})},
	"s3-audit-log-object-lock": {"prod", func() []analyzed.Resource {
		b := res(TypeBucket, map[string]any{"objectLockEnabled": true})
		return []analyzed.Resource{b, res(TypeBucketObjectLock, map[string]any{"rule": map[string]any{"defaultRetention": map[string]any{"mode": "COMPLIANCE", "days": 365}}}, b),
			res(TypeTrail, map[string]any{"isMultiRegionTrail": true}, b)}
	}, func() []analyzed.Resource {
		b := res(TypeBucket, map[string]any{})
		return []analyzed.Resource{b, res(TypeTrail, map[string]any{"isMultiRegionTrail": true}, b)}
	}},
	"backup-plan-frequency-retention": {"prod", one(TypeBackupPlan, map[string]any{"rules": []any{
		map[string]any{"ruleName": "daily", "schedule": "cron(0 3 ? * * *)", "lifecycle": map[string]any{"deleteAfter": 35}},
		map[string]any{"ruleName": "weekly", "schedule": "cron(0 3 ? * SUN *)", "lifecycle": map[string]any{"deleteAfter": 90}},
	}}), one(TypeBackupPlan, map[string]any{"rules": []any{
		map[string]any{"ruleName": "weekly", "schedule": "cron(0 3 ? * SUN *)", "lifecycle": map[string]any{"deleteAfter": 7}},
	}})},
	"log-metric-filter-alarmed": {"dev", func() []analyzed.Resource {
		return []analyzed.Resource{
			res(TypeLogMetricFilter, map[string]any{"metricTransformation": map[string]any{"namespace": "ScaleMate/dev", "name": "AppErrors"}}),
			res(TypeMetricAlarm, map[string]any{"namespace": "ScaleMate/dev", "metricName": "AppErrors", "alarmActions": []any{"arn:topic"}}),
		}
	}, func() []analyzed.Resource {
		return []analyzed.Resource{
			res(TypeLogMetricFilter, map[string]any{"metricTransformation": map[string]any{"namespace": "ScaleMate/dev", "name": "AppErrors"}}),
			res(TypeMetricAlarm, map[string]any{"namespace": "ScaleMate/dev", "metricName": "Other"}),
		}
	}},
	"cis-trail-metric-filters": {"prod", func() []analyzed.Resource {
		out := []analyzed.Resource{res(TypeTrail, map[string]any{"cloudWatchLogsGroupArn": "arn:logs:*"})}
		for _, e := range cisEvents {
			out = append(out, res(TypeLogMetricFilter, map[string]any{"pattern": "{ $.x = " + e.term + " }"}))
		}
		return out
	}, func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeTrail, map[string]any{"cloudWatchLogsGroupArn": "arn:logs:*"}),
			res(TypeLogMetricFilter, map[string]any{"pattern": `{ $.userIdentity.type = "Root" }`})}
	}},
	"k8s-service-account-token-not-mounted": {"dev", one(TypeK8sServiceAccount, map[string]any{"automountServiceAccountToken": false}),
		one(TypeK8sServiceAccount, map[string]any{"metadata": map[string]any{"name": "api"}})},
	"k8s-rbac-least-privilege": {"dev", func() []analyzed.Resource {
		// The preview role: wildcard writes, kept to dry runs by an admission policy.
		policy := res(TypeAdmissionPolicy, map[string]any{"spec": map[string]any{
			"failurePolicy": "Fail", "validations": []any{map[string]any{"expression": DryRunOnly}},
			"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{
				"apiGroups": []any{"*"}, "resources": []any{"*/*"}, "operations": []any{"CREATE", "UPDATE", "DELETE", "CONNECT"}}}},
			"matchConditions": []any{map[string]any{"expression": `"scalemate:preview" in request.userInfo.groups`}},
		}})
		guard := res(TypeAdmissionBinding, map[string]any{"spec": map[string]any{"validationActions": []any{"Deny"}}}, policy)
		role := res(TypeClusterRole, map[string]any{"rules": []any{
			map[string]any{"apiGroups": []any{"*"}, "resources": []any{"*"}, "verbs": []any{"get", "list", "watch"}},
			map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"*"}, "verbs": []any{"create", "patch"}},
		}})
		return []analyzed.Resource{policy, guard, role, res(TypeClusterRoleBinding, map[string]any{"roleRef": map[string]any{"name": "preview"},
			"subjects": []any{map[string]any{"kind": "Group", "name": "scalemate:preview"}}}, role, guard)}
	}, func() []analyzed.Resource {
		role := res(TypeClusterRole, map[string]any{"rules": []any{
			map[string]any{"apiGroups": []any{"apps"}, "resources": []any{"*"}, "verbs": []any{"create", "patch"}},
		}})
		return []analyzed.Resource{role, res(TypeClusterRoleBinding, map[string]any{"roleRef": map[string]any{"name": "deployer"}}, role)}
	}},
	"eks-access-entry-least-privilege": {"dev", one(TypeAccessEntry, map[string]any{"type": "STANDARD", "kubernetesGroups": []any{"scalemate:preview"}}),
		one(TypeAccessEntry, map[string]any{"type": "STANDARD", "kubernetesGroups": []any{"system:masters"}})},
	"cloudfront-response-headers-policy": {"dev", func() []analyzed.Resource {
		headers := res(TypeResponseHeaders, map[string]any{})
		behaviour := map[string]any{"viewerProtocolPolicy": "redirect-to-https", "responseHeadersPolicyId": "rhp"}
		return []analyzed.Resource{headers, res(TypeDistribution, with(goodDistribution, "defaultCacheBehavior", behaviour,
			"orderedCacheBehaviors", []any{with(behaviour, "pathPattern", "/api/*")}), headers)}
	}, one(TypeDistribution, goodDistribution)},
	"cloudfront-hsts": {"dev", one(TypeResponseHeaders, map[string]any{"securityHeadersConfig": map[string]any{"strictTransportSecurity": map[string]any{
		"override": true, "accessControlMaxAgeSec": 63072000, "includeSubdomains": true, "preload": true}}}),
		one(TypeResponseHeaders, map[string]any{"securityHeadersConfig": map[string]any{"strictTransportSecurity": map[string]any{
			"override": false, "accessControlMaxAgeSec": 3600, "includeSubdomains": true}}})},
	"vpc-gateway-endpoint-policy": {"dev", one(TypeVPCEndpoint, map[string]any{"vpcEndpointType": "Gateway", "policy": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}},` +
		`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::prod-us-west-2-starport-layer-bucket/*"]}]}`}),
		one(TypeVPCEndpoint, map[string]any{"vpcEndpointType": "Gateway", "serviceName": "com.amazonaws.us-west-2.s3"})},
	"elasticache-cmk":      {"dev", one(TypeCache, with(goodCache, "kmsKeyId", "arn:key")), one(TypeCache, goodCache)},
	"elasticache-multi-az": {"staging", one(TypeCache, with(goodCache, "multiAzEnabled", true)), one(TypeCache, with(goodCache, "multiAzEnabled", false))},
	"rds-performance-insights-kms": {"dev", one(TypeDBInstance, with(goodDB, "performanceInsightsEnabled", true, "performanceInsightsKmsKeyId", "arn:key")),
		one(TypeDBInstance, with(goodDB, "performanceInsightsEnabled", true))},
	"security-group-descriptions": {"dev", one(TypeSecurityGroup, map[string]any{"description": "HTTPS from the VPC to interface endpoints",
		"ingress": []any{map[string]any{"description": "HTTPS from the VPC", "fromPort": 443, "toPort": 443, "protocol": "tcp"}}}),
		one(TypeSecurityGroup, map[string]any{"description": "Managed by Pulumi", "ingress": []any{map[string]any{"fromPort": 443, "toPort": 443, "protocol": "tcp"}}})},
	"waf-rule-metrics": {"dev", one(TypeWebACL, map[string]any{"visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": true},
		"rules": []any{map[string]any{"name": "common", "visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": true}}}}),
		one(TypeWebACL, map[string]any{"visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": true},
			"rules": []any{map[string]any{"name": "common", "visibilityConfig": map[string]any{"cloudwatchMetricsEnabled": false}}}})},
	"iam-oidc-trust-conditions": {"dev", one(TypeRole, map[string]any{"assumeRolePolicy": irsaTrust(`"system:serviceaccount:scalemate:api"`)}),
		one(TypeRole, map[string]any{"assumeRolePolicy": irsaTrust(`"*"`)})},
	"rds-storage-encrypted":          {"prod", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "storageEncrypted", false))},
	"rds-not-public":                 {"prod", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "publiclyAccessible", true))},
	"rds-backup-retention":           {"prod", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "backupRetentionPeriod", 3))},
	"rds-multi-az":                   {"prod", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "multiAz", false))},
	"rds-deletion-protection":        {"staging", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "deletionProtection", false))},
	"rds-iam-authentication":         {"dev", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "iamDatabaseAuthenticationEnabled", false))},
	"rds-auto-minor-upgrade":         {"dev", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "autoMinorVersionUpgrade", false))},
	"rds-copy-tags-to-snapshot":      {"dev", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "copyTagsToSnapshot", false))},
	"rds-log-exports":                {"dev", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "enabledCloudwatchLogsExports", []any{"upgrade"}))},
	"rds-custom-master-username":     {"dev", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "username", "postgres"))},
	"rds-enhanced-monitoring":        {"dev", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "monitoringInterval", 0))},
	"rds-force-ssl":                  {"dev", dbWithParams([]any{map[string]any{"name": "rds.force_ssl", "value": "1"}}), dbWithParams([]any{map[string]any{"name": "rds.force_ssl", "value": "0"}})},
	"rds-proxy-tls":                  {"dev", one(TypeDBProxy, map[string]any{"requireTls": true}), one(TypeDBProxy, map[string]any{"requireTls": false})},
	"elasticache-encryption-at-rest": {"dev", one(TypeCache, goodCache), one(TypeCache, with(goodCache, "atRestEncryptionEnabled", false))},
	"elasticache-encryption-in-transit": {"dev", one(TypeCache, goodCache),
		one(TypeCache, with(goodCache, "transitEncryptionEnabled", false))},
	"elasticache-auth":               {"dev", one(TypeCache, goodCache), one(TypeCache, with(goodCache, "authToken", nil))},
	"elasticache-automatic-failover": {"prod", one(TypeCache, goodCache), one(TypeCache, with(goodCache, "automaticFailoverEnabled", false))},
	"elasticache-snapshots":          {"prod", one(TypeCache, goodCache), one(TypeCache, with(goodCache, "snapshotRetentionLimit", 1))},
	"elasticache-auto-minor-upgrade": {"dev", one(TypeCache, goodCache), one(TypeCache, with(goodCache, "autoMinorVersionUpgrade", false))},
	"eks-endpoint-restricted": {"dev", one(TypeCluster, with(goodCluster, "vpcConfig", map[string]any{"endpointPublicAccess": true, "publicAccessCidrs": []any{"198.51.100.0/24"}})),
		one(TypeCluster, with(goodCluster, "vpcConfig", map[string]any{"endpointPublicAccess": true, "publicAccessCidrs": []any{"0.0.0.0/0"}}))},
	"eks-secrets-encryption":    {"dev", one(TypeCluster, goodCluster), one(TypeCluster, with(goodCluster, "encryptionConfig", nil))},
	"eks-control-plane-logging": {"dev", one(TypeCluster, goodCluster), one(TypeCluster, with(goodCluster, "enabledClusterLogTypes", []any{"api"}))},
	"eks-supported-version":     {"dev", one(TypeCluster, goodCluster), one(TypeCluster, with(goodCluster, "version", "1.27"))},
	"eks-nodegroup-no-ssh":      {"dev", one(TypeNodeGroup, goodNodeGroup), one(TypeNodeGroup, with(goodNodeGroup, "remoteAccess", map[string]any{"ec2SshKey": "k"}))},
	"launch-template-imdsv2": {"dev", one(TypeLaunchTemplate, goodLT),
		one(TypeLaunchTemplate, with(goodLT, "metadataOptions", map[string]any{"httpTokens": "optional"}))},
	"launch-template-metadata-hop-limit": {"dev", one(TypeLaunchTemplate, goodLT),
		one(TypeLaunchTemplate, with(goodLT, "metadataOptions", map[string]any{"httpTokens": "required", "httpPutResponseHopLimit": 2}))},
	"launch-template-ebs-encrypted": {"dev", one(TypeLaunchTemplate, goodLT),
		one(TypeLaunchTemplate, with(goodLT, "blockDeviceMappings", []any{map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"volumeType": "gp3"}}}))},
	"security-group-no-open-ingress": {"dev",
		one(TypeSecurityGroup, map[string]any{"ingress": []any{map[string]any{"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": []any{"0.0.0.0/0"}}}}),
		func() []analyzed.Resource {
			return []analyzed.Resource{res(TypeSGRule, map[string]any{"type": "ingress", "fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": []any{"0.0.0.0/0"}})}
		}},
	"default-security-group-closed": {"dev", vpcWith(TypeDefaultSG, TypeFlowLog), vpcWith(TypeFlowLog)},
	"cloudtrail-multi-region-validated": {"prod", one(TypeTrail, map[string]any{"isMultiRegionTrail": true, "enableLogFileValidation": true}),
		one(TypeTrail, map[string]any{"isMultiRegionTrail": true, "enableLogFileValidation": false})},
	"cloudtrail-encrypted-to-cloudwatch": {"prod", one(TypeTrail, map[string]any{"kmsKeyId": "arn:key", "cloudWatchLogsGroupArn": "arn:lg:*"}),
		one(TypeTrail, map[string]any{"kmsKeyId": "arn:key"})},
	"guardduty-enabled": {"prod", one(TypeDetector, map[string]any{"enable": true}), one(TypeDetector, map[string]any{"enable": false})},
	"guardduty-protections": {"prod", func() []analyzed.Resource {
		d := res(TypeDetector, map[string]any{"enable": true})
		out := []analyzed.Resource{d}
		for _, f := range requiredDetectorFeatures {
			out = append(out, res(TypeDetectorFeature, map[string]any{"name": f, "status": "ENABLED"}, d))
		}
		return out
	}, func() []analyzed.Resource {
		d := res(TypeDetector, map[string]any{"enable": true})
		return []analyzed.Resource{d, res(TypeDetectorFeature, map[string]any{"name": "EKS_AUDIT_LOGS", "status": "ENABLED"}, d)}
	}},
	"securityhub-fsbp": {"prod", func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeSecurityHub, nil),
			res(TypeStandardsSub, map[string]any{"standardsArn": "arn:aws:securityhub:us-west-2::standards/aws-foundational-security-best-practices/v/1.0.0"})}
	}, func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeSecurityHub, nil),
			res(TypeStandardsSub, map[string]any{"standardsArn": "arn:aws:securityhub:us-west-2::standards/cis-aws-foundations-benchmark/v/3.0.0"})}
	}},
	"config-records-all": {"prod", one(TypeConfigRecorder, map[string]any{"recordingGroup": map[string]any{"allSupported": true}}),
		one(TypeConfigRecorder, map[string]any{"recordingGroup": map[string]any{"allSupported": false, "resourceTypes": []any{"AWS::S3::Bucket"}}})},
	"ebs-encryption-by-default": {"prod", one(TypeEBSDefault, map[string]any{"enabled": true}), one(TypeEBSDefault, map[string]any{"enabled": false})},
	"imdsv2-by-default":         {"prod", one(TypeMetadataDefaults, map[string]any{"httpTokens": "required"}), one(TypeMetadataDefaults, map[string]any{"httpTokens": "optional"})},
	"s3-account-public-access-block": {"prod",
		one(TypeAccountPublicAccess, map[string]any{"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}),
		one(TypeAccountPublicAccess, map[string]any{"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": false})},
	"canary-watched": {"dev", func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeCanary, map[string]any{"name": "prod-home"}),
			res(TypeMetricAlarm, map[string]any{"namespace": "CloudWatchSynthetics", "dimensions": map[string]any{"CanaryName": "prod-home"}, "alarmActions": []any{"arn:topic"}})}
	}, func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeCanary, map[string]any{"name": "prod-home"}),
			res(TypeMetricAlarm, map[string]any{"namespace": "CloudWatchSynthetics", "dimensions": map[string]any{"CanaryName": "prod-api"}, "alarmActions": []any{"arn:topic"}})}
	}},
	"client-vpn-connection-logging": {"dev", one(TypeClientVPN, map[string]any{"connectionLogOptions": map[string]any{"enabled": true, "cloudwatchLogGroup": "vpn"}}),
		one(TypeClientVPN, map[string]any{"connectionLogOptions": map[string]any{"enabled": false}})},
	"ssm-session-logs-encrypted": {"prod",
		one(TypeSSMDocument, map[string]any{"documentType": "Session", "content": `{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{"kmsKeyId":"arn:key","cloudWatchLogGroupName":"sessions","cloudWatchEncryptionEnabled":true}}`}),
		one(TypeSSMDocument, map[string]any{"documentType": "Session", "content": `{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{"cloudWatchLogGroupName":"sessions","cloudWatchEncryptionEnabled":false}}`})},
	"vpc-flow-logs": {"dev", vpcWith(TypeDefaultSG, TypeFlowLog), vpcWith(TypeDefaultSG)},
	"local-tier-no-cloud-resources": {"local", one(TypeK8sDeployment, map[string]any{"kind": "Deployment"}),
		one(TypeDBInstance, map[string]any{"instanceClass": "db.t4g.medium"})},
	"subnet-no-public-ip-on-launch": {"dev", one(TypeSubnet, map[string]any{"mapPublicIpOnLaunch": false}), one(TypeSubnet, map[string]any{"mapPublicIpOnLaunch": true})},
	"kms-key-rotation":              {"dev", one(TypeKMSKey, map[string]any{"enableKeyRotation": true}), one(TypeKMSKey, map[string]any{"enableKeyRotation": false})},
	"secret-kms-cmk":                {"dev", one(TypeSecret, map[string]any{"kmsKeyId": "arn:key"}), one(TypeSecret, map[string]any{"name": "s"})},
	"log-group-retention":           {"prod", one(TypeLogGroup, map[string]any{"retentionInDays": 365}), one(TypeLogGroup, map[string]any{"retentionInDays": 30})},
	"alarm-has-action": {"dev", one(TypeMetricAlarm, map[string]any{"alarmActions": []any{"arn:topic"}}),
		one(TypeMetricAlarm, map[string]any{"actionsEnabled": false, "alarmActions": []any{"arn:topic"}})},
	"ecr-immutable-tags": {"dev", one(TypeECRRepository, map[string]any{"imageTagMutability": "IMMUTABLE"}),
		one(TypeECRRepository, map[string]any{"imageTagMutability": "MUTABLE"})},
	"ecr-scan-on-push": {"dev", one(TypeECRRepository, map[string]any{"imageScanningConfiguration": map[string]any{"scanOnPush": true}}),
		one(TypeECRRepository, map[string]any{"name": "api"})},
	"ecr-kms-encrypted": {"dev", one(TypeECRRepository, map[string]any{"encryptionConfigurations": []any{map[string]any{"encryptionType": "KMS", "kmsKey": "arn:key"}}}),
		one(TypeECRRepository, map[string]any{"encryptionConfigurations": []any{map[string]any{"encryptionType": "AES256"}}})},
	"k8s-namespace-restricted": {"dev", one(TypeK8sNamespace, map[string]any{"metadata": map[string]any{"labels": map[string]any{"pod-security.kubernetes.io/enforce": "restricted"}}}),
		one(TypeK8sNamespace, map[string]any{"metadata": map[string]any{"labels": map[string]any{"pod-security.kubernetes.io/enforce": "privileged"}}})},
	"sns-topic-encrypted":    {"dev", one(TypeSNSTopic, map[string]any{"kmsMasterKeyId": "arn:key"}), one(TypeSNSTopic, map[string]any{"name": "t"})},
	"backup-vault-encrypted": {"dev", one(TypeBackupVault, map[string]any{"kmsKeyArn": "arn:key"}), one(TypeBackupVault, map[string]any{"name": "v"})},
	"backup-vault-locked": {"prod", func() []analyzed.Resource {
		v := res(TypeBackupVault, map[string]any{"kmsKeyArn": "arn:key"})
		return []analyzed.Resource{v, res(TypeVaultLock, map[string]any{"minRetentionDays": 7}, v)}
	}, one(TypeBackupVault, map[string]any{"kmsKeyArn": "arn:key"})},
	"stateful-resources-protected": {"prod",
		func() []analyzed.Resource {
			return []analyzed.Resource{protected(res(TypeDBInstance, goodDB)), protected(res(TypeKMSKey, nil))}
		},
		func() []analyzed.Resource {
			return []analyzed.Resource{protected(res(TypeDBInstance, goodDB)), res(TypeKMSKey, nil)}
		}},
	"s3-public-access-blocked": {"dev",
		bucketWith(map[string]map[string]any{TypeBucketPAB: {"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}}),
		bucketWith(map[string]map[string]any{TypeBucketPAB: {"blockPublicAcls": true, "blockPublicPolicy": false, "ignorePublicAcls": true, "restrictPublicBuckets": true}})},
	"s3-encrypted": {"dev", bucketWith(map[string]map[string]any{TypeBucketSSE: {}}), bucketWith(nil)},
	"s3-bucket-tls-only": {"dev",
		bucketWith(map[string]map[string]any{TypeBucketPolicy: {"policy": `{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`}}),
		bucketWith(map[string]map[string]any{TypeBucketPolicy: {"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}]}`}})},
	"acm-key-strength": {"prod", one(TypeCertificate, map[string]any{"keyAlgorithm": "EC_prime256v1"}), one(TypeCertificate, map[string]any{"keyAlgorithm": "RSA_1024"})},
	"codebuild-no-privileged-mode": {"prod", one(TypeCodeBuild, map[string]any{"environment": map[string]any{"privilegedMode": false}}),
		one(TypeCodeBuild, map[string]any{"environment": map[string]any{"privilegedMode": true}})},
	"codebuild-no-plaintext-credentials": {"prod",
		one(TypeCodeBuild, map[string]any{"environment": map[string]any{"environmentVariables": []any{map[string]any{"name": "STACK", "value": "prod", "type": "PLAINTEXT"}}}}),
		one(TypeCodeBuild, map[string]any{"environment": map[string]any{"environmentVariables": []any{map[string]any{"name": "AWS_SECRET_ACCESS_KEY", "value": "x"}}}})},
	"config-recorder-on":      {"prod", one(TypeRecorderStatus, map[string]any{"isEnabled": true}), one(TypeRecorderStatus, map[string]any{"isEnabled": false})},
	"inspector-scans-ec2-ecr": {"prod", one(TypeInspectorEnabler, map[string]any{"resourceTypes": []any{"EC2", "ECR"}}), one(TypeInspectorEnabler, map[string]any{"resourceTypes": []any{"ECR"}})},
	"access-analyzer-account": {"prod", one(TypeAccessAnalyzer, map[string]any{"type": "ACCOUNT"}), one(TypeAccessAnalyzer, map[string]any{"type": "ACCOUNT_UNUSED_ACCESS"})},
	"ecr-lifecycle-policy": {"dev", func() []analyzed.Resource {
		repo := res(TypeECRRepository, map[string]any{})
		return []analyzed.Resource{repo, res(TypeECRLifecycle, map[string]any{"policy": "{}"}, repo)}
	}, one(TypeECRRepository, map[string]any{})},
	"elasticache-own-subnet-group": {"dev", func() []analyzed.Resource {
		group := res(TypeCacheSubnetGroup, map[string]any{"name": "cache"})
		return []analyzed.Resource{group, res(TypeCache, with(goodCache, "subnetGroupName", "cache"), group)}
	}, one(TypeCache, with(goodCache, "subnetGroupName", "default"))},
	"sns-topic-policy-not-public": {"dev",
		one(TypeTopicPolicy, map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"},{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`}),
		one(TypeTopicPolicy, map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sns:Publish","Resource":"*"}]}`})},
	"target-group-health-check": {"dev", one(TypeTargetGroup, map[string]any{"healthCheck": map[string]any{"enabled": true, "path": "/healthz"}}), one(TypeTargetGroup, map[string]any{"healthCheck": map[string]any{"enabled": false}})},
	"k8s-namespace-default-deny": {"dev", func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeK8sNamespace, map[string]any{"metadata": map[string]any{"name": "app"}}),
			res(TypeK8sNetworkPolicy, map[string]any{"metadata": map[string]any{"name": "default-deny", "namespace": "app"},
				"spec": map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}}})}
	}, func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeK8sNamespace, map[string]any{"metadata": map[string]any{"name": "app"}}),
			res(TypeK8sNetworkPolicy, map[string]any{"metadata": map[string]any{"name": "ingress-only", "namespace": "app"},
				"spec": map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}}})}
	}},
	"k8s-no-cluster-admin-binding": {"dev", one(TypeClusterRoleBinding, map[string]any{"roleRef": map[string]any{"name": "scalemate-preview"}}),
		one(TypeClusterRoleBinding, map[string]any{"roleRef": map[string]any{"name": "cluster-admin"}})},
	"cloudfront-s3-origin-access-control": {"dev",
		one(TypeDistribution, with(goodDistribution, "origins", []any{map[string]any{"originId": "assets", "domainName": "b.s3.us-west-2.amazonaws.com", "originAccessControlId": "oac"}})),
		one(TypeDistribution, with(goodDistribution, "origins", []any{map[string]any{"originId": "assets", "domainName": "b.s3.us-west-2.amazonaws.com"}}))},
	"kms-deletion-window":   {"prod", one(TypeKMSKey, map[string]any{"deletionWindowInDays": 30}), one(TypeKMSKey, map[string]any{"deletionWindowInDays": 7})},
	"cloudfront-https-only": {"dev", one(TypeDistribution, goodDistribution), one(TypeDistribution, with(goodDistribution, "defaultCacheBehavior", map[string]any{"viewerProtocolPolicy": "allow-all"}))},
	"cloudfront-tls-1-2": {"dev", one(TypeDistribution, goodDistribution),
		one(TypeDistribution, with(goodDistribution, "viewerCertificate", map[string]any{"acmCertificateArn": "arn:cert", "minimumProtocolVersion": "TLSv1"}))},
	"cloudfront-waf": {"dev", one(TypeDistribution, goodDistribution), one(TypeDistribution, with(goodDistribution, "webAclId", nil))},
	"waf-logging": {"dev", func() []analyzed.Resource {
		acl := res(TypeWebACL, map[string]any{})
		return []analyzed.Resource{acl, res(TypeWebACLLogging, map[string]any{}, acl)}
	}, one(TypeWebACL, map[string]any{})},
	"iam-no-admin-access": {"dev", one(TypeRolePolicy, map[string]any{"policy": scopedDoc}), func() []analyzed.Resource {
		return []analyzed.Resource{
			res(TypeRolePolicy, map[string]any{"policy": adminDoc}),
			res(TypeRoleAttachment, map[string]any{"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
		}
	}},
	"iam-trust-no-wildcard-principal": {"dev", one(TypeRole, map[string]any{"assumeRolePolicy": serviceDoc}), one(TypeRole, map[string]any{"assumeRolePolicy": anyoneTrust})},
	"k8s-pod-security-restricted": {"dev", one(TypeK8sDeployment, goodPod),
		one(TypeK8sDeployment, withPod(func(ctr, spec map[string]any) {
			spec["hostNetwork"] = true
			ctr["securityContext"].(map[string]any)["privileged"] = true
		}))},
	"k8s-no-secret-in-env": {"dev", one(TypeK8sDeployment, withPod(func(ctr, spec map[string]any) {
		ctr["env"] = []any{map[string]any{"name": "SECRETS_DIR", "value": "/var/run/secrets/scalemate"}, map[string]any{"name": "LOG_LEVEL", "value": "info"},
			map[string]any{"name": "DB_PASSWORD", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "db", "key": "password"}}}}
	})), one(TypeK8sDeployment, withPod(func(ctr, spec map[string]any) {
		ctr["env"] = []any{map[string]any{"name": "DB_PASSWORD", "value": "hunter2"}}
	}))},
	"k8s-no-ssh-port": {"dev", one(TypeK8sDeployment, withPod(func(ctr, spec map[string]any) {
		ctr["ports"] = []any{map[string]any{"containerPort": 8080}}
	})), one(TypeK8sDeployment, withPod(func(ctr, spec map[string]any) {
		ctr["ports"] = []any{map[string]any{"containerPort": 22}}
	}))},
	"kms-key-policy-not-public": {"dev", one(TypeKMSKey, map[string]any{"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`}),
		one(TypeKMSKey, map[string]any{"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}`})},
	"iam-no-kms-decrypt-all-keys": {"dev", one(TypeRolePolicy, map[string]any{"policy": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":"arn:aws:kms:us-west-2:111122223333:key/abc"},` +
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-west-2.amazonaws.com"}}}]}`}),
		one(TypeRolePolicy, map[string]any{"policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","s3:GetObject"],"Resource":"*"}]}`})},
	"rds-engine-standard-support": {"prod", one(TypeDBInstance, with(goodDB, "engineVersion", "16.4")), one(TypeDBInstance, with(goodDB, "engineVersion", "13"))},

	"allowed-node-instance-types": {"dev", one(TypeNodeGroup, goodNodeGroup), one(TypeNodeGroup, with(goodNodeGroup, "instanceTypes", []any{"m6i.4xlarge"}))},
	"allowed-db-instance-classes": {"prod", one(TypeDBInstance, goodDB), one(TypeDBInstance, with(goodDB, "instanceClass", "db.t4g.medium"))},
	"allowed-cache-node-types":    {"prod", one(TypeCache, goodCache), one(TypeCache, with(goodCache, "nodeType", "cache.t4g.small"))},
	"node-pool-caps":              {"dev", nodeGroups(3, 5), nodeGroups(3, 6)},
	"db-replica-cap":              {"staging", replicas(1), replicas(2)},
	"spot-workers":                {"dev", one(TypeNodeGroup, goodNodeGroup), one(TypeNodeGroup, with(goodNodeGroup, "capacityType", "ON_DEMAND"))},
	"gp3-volumes":                 {"dev", one(TypeLaunchTemplate, goodLT), one(TypeDBInstance, with(goodDB, "storageType", "gp2"))},
	"nat-gateway-count":           {"staging", nats(1), nats(3)},
	"log-retention-cap":           {"dev", one(TypeLogGroup, map[string]any{"retentionInDays": 7}), one(TypeLogGroup, map[string]any{"retentionInDays": 365})},
	"cdn-price-class":             {"dev", one(TypeDistribution, goodDistribution), one(TypeDistribution, with(goodDistribution, "priceClass", "PriceClass_All"))},
	"monthly-budget": {"dev", one(TypeDBInstance, with(goodDB, "instanceClass", "db.t4g.medium", "multiAz", false)),
		func() []analyzed.Resource {
			return []analyzed.Resource{res(TypeDBInstance, goodDB), res(TypeCache, goodCache)}
		}},
}

func violations(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if !f.Unknown {
			out = append(out, f)
		}
	}
	return out
}

// Every rule passes its compliant case and catches its violating one.
func TestEveryRuleHasCompliantAndViolatingCase(t *testing.T) {
	for _, r := range All() {
		c, ok := cases[r.Name]
		if !assert.True(t, ok, "rule %s has no test case", r.Name) {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			th, err := ForTier(c.tier)
			require.NoError(t, err)
			assert.Empty(t, violations(r.Run(c.good(), th)), "compliant case")
			bad := violations(r.Run(c.bad(), th))
			require.NotEmpty(t, bad, "violating case")
			for _, f := range bad {
				assert.Equal(t, r.Name, f.Rule)
				assert.NotEmpty(t, f.Message)
			}
		})
	}
	assert.Len(t, cases, len(All()), "a case for a rule that no longer exists")
}

// computed replaces every input with an unknown value, as a preview of a new resource has.
func computed(r analyzed.Resource) analyzed.Resource {
	m := map[string]property.Value{}
	for k := range r.Props.AllStable {
		m[k] = property.New(property.Computed)
	}
	r.Props = property.NewMap(m)
	return r
}

// Unknown values never crash a rule and never pass a mandatory resource rule silently.
func TestUnknownValuesDuringPreview(t *testing.T) {
	for _, r := range All() {
		t.Run(r.Name, func(t *testing.T) {
			th, err := ForTier(cases[r.Name].tier)
			require.NoError(t, err)
			var rs []analyzed.Resource
			for _, x := range cases[r.Name].good() {
				rs = append(rs, computed(x))
			}
			var findings []Finding
			require.NotPanics(t, func() { findings = r.Run(rs, th) })
			assert.Empty(t, violations(findings), "an unknown value is not a violation")
			// eks-nodegroup-no-ssh reads remoteAccess, which a compliant group leaves unset:
			// absent stays absent in a preview, so there is nothing unknown to report.
			if r.Resource != nil && r.Level == Mandatory && r.Name != "eks-nodegroup-no-ssh" {
				assert.NotEmpty(t, findings, "a mandatory rule reports what it could not check")
				for _, f := range findings {
					assert.True(t, f.Unknown)
					assert.Equal(t, Advisory, f.Level)
					assert.Contains(t, f.Message, "cannot check until update")
				}
			}
		})
	}
}

func TestRuleMetadata(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		assert.False(t, seen[r.Name], "duplicate rule %s", r.Name)
		seen[r.Name] = true
		assert.Regexp(t, `^[a-z0-9]+(-[a-z0-9]+)*$`, r.Name)
		assert.Contains(t, []string{Security, Cost}, r.Pack, r.Name)
		assert.Contains(t, []string{Mandatory, Advisory}, r.Level, r.Name)
		assert.NotEmpty(t, r.Anchor, r.Name)
		assert.NotContains(t, r.Anchor, "?", "%s: anchor must name a real control", r.Name)
		assert.True(t, (r.Resource == nil) != (r.Stack == nil), "%s: exactly one of Resource and Stack", r.Name)
		if r.Resource != nil {
			assert.NotEmpty(t, r.Types, "%s: resource rules name their types", r.Name)
		}
		assert.True(t, strings.HasSuffix(r.Description(), "["+r.Anchor+"]"))
	}
}

// The rule count per pack (go test -v shows it; the README's policy table lists them).
func TestRuleCount(t *testing.T) {
	for _, pack := range []string{Security, Cost} {
		n, mandatory := 0, 0
		for _, r := range OfPack(pack) {
			n++
			if r.Level == Mandatory {
				mandatory++
			}
		}
		t.Logf("%s pack: %d rules (%d mandatory)", pack, n, mandatory)
		assert.Greater(t, n, 0)
	}
}

func TestThresholdOverrides(t *testing.T) {
	th, err := ForStack("dev-alice", map[string]any{"monthlyBudgetUsd": 900.0, "allowedInstanceTypes": []any{"m7i.large"}})
	require.NoError(t, err)
	assert.Equal(t, "dev", th.Tier, "dev-alice is a dev stack")
	assert.Equal(t, 900.0, th.MonthlyBudgetUSD)
	assert.Equal(t, []string{"m7i.large"}, th.AllowedInstanceTypes)
	assert.True(t, th.RequireSpot, "other settings keep the tier's")

	th, err = ForStack("feature-x", map[string]any{"tier": "staging"})
	require.NoError(t, err)
	assert.Equal(t, "staging", th.Tier)
	th, _ = ForStack("feature-x", nil)
	assert.Equal(t, "prod", th.Tier, "unknown stacks get the strictest thresholds")

	_, err = ForStack("dev", map[string]any{"monthlyBudget": 1.0})
	assert.ErrorContains(t, err, `unknown field "monthlyBudget"`)
	_, err = ForStack("dev", map[string]any{"tier": "qa"})
	assert.ErrorContains(t, err, `tier "qa" is not one of local, dev, staging, prod`)
}

// Thresholds are validated when the pack is configured: a negative, non-finite or malformed
// setting is refused, naming it, with the list of valid settings; every tier's defaults pass.
func TestBadThresholdsRefused(t *testing.T) {
	for _, tier := range Tiers {
		th, err := ForTier(tier)
		require.NoError(t, err)
		require.NoError(t, th.Validate(), tier)
	}
	for _, tc := range []struct {
		overrides map[string]any
		want      string
	}{
		{map[string]any{"maxNodesPerPool": -1.0}, "maxNodesPerPool is -1; it must be 0 or more"},
		{map[string]any{"monthlyBudgetUsd": -5.0}, "monthlyBudgetUsd is -5"},
		{map[string]any{"monthlyBudgetUsd": math.NaN()}, "monthlyBudgetUsd is NaN; it must be a finite number"},
		{map[string]any{"monthlyBudgetUsd": math.Inf(1)}, "monthlyBudgetUsd is +Inf"},
		{map[string]any{"allowedInstanceTypes": []any{"m5.["}}, `allowedInstanceTypes has "m5.[", which is not a glob pattern`},
		{map[string]any{"allowedDbClasses": []any{""}}, `allowedDbClasses has ""`},
		{map[string]any{"kubernetesVersions": []any{"v1.35"}}, `kubernetesVersions has "v1.35"`},
		{map[string]any{"maxDbReplicas": "2"}, "maxDbReplicas"},
		{map[string]any{"maxDbReplicas": 2.5}, "maxDbReplicas"},
		{map[string]any{"maxDbReplicas": 1e300}, "maxDbReplicas"},
		{map[string]any{"requireSpot": "true"}, "requireSpot"},
		{map[string]any{"allowedPriceClasses": "PriceClass_100"}, "allowedPriceClasses"},
		{map[string]any{"maxNatGateways": -1.0, "minLogRetentionDays": -2.0}, "minLogRetentionDays is -2; it must be 0 or more; maxNatGateways is -1"},
	} {
		_, err := ForStack("dev", tc.overrides)
		require.Error(t, err, "%v", tc.overrides)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), "known settings: tier, minBackupRetentionDays")
	}
}

// A size the price table lacks is a violation of the budget rule, never $0 in its total.
func TestUnpricedIsAFinding(t *testing.T) {
	th, err := ForTier("prod")
	require.NoError(t, err)
	var budget Rule
	for _, r := range All() {
		if r.Name == "monthly-budget" {
			budget = r
		}
	}
	fs := budget.Run([]analyzed.Resource{res(TypeDBInstance, with(goodDB, "instanceClass", "db.x2iedn.32xlarge"))}, th)
	require.Len(t, violations(fs), 1)
	assert.Contains(t, fs[0].Message, "cannot price")
	assert.Contains(t, fs[0].Message, "db.x2iedn.32xlarge")
}

// The settings schema offers exactly the tiers ForTier knows: a policy config naming "local"
// must not be refused by the engine's schema check.
func TestSettingsSchemaTiers(t *testing.T) {
	enum := SettingsSchema()["tier"]["enum"].([]any)
	require.Len(t, enum, len(Tiers))
	for _, tier := range enum {
		th, err := ForTier(tier.(string))
		require.NoError(t, err)
		assert.Equal(t, tier, th.Tier)
	}
	assert.Contains(t, enum, "local")
}

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's rule table")

// The README's rule table is generated: every rule with its pack, level, anchor and how many
// mutations of the fields it reads it reports (TestNoSilentPass).
func TestReadmeListsEveryRule(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(raw)
	caught := mutate(t)
	var table strings.Builder
	table.WriteString("| rule | pack | level | requires | anchor | mutations caught |\n|---|---|---|---|---|---|\n")
	for _, r := range All() {
		fmt.Fprintf(&table, "| `%s` | %s | %s | %s | %s | %d |\n", r.Name, r.Pack, r.Level, r.Summary, r.Anchor, caught[r.Name])
	}
	start := strings.Index(readme, "| rule | pack | level | requires | anchor |")
	require.GreaterOrEqual(t, start, 0, "README has the rule table")
	end := start + strings.Index(readme[start:], "\n\n") + 1
	if *updateReadme {
		require.NoError(t, os.WriteFile("../../README.md", []byte(readme[:start]+table.String()+readme[end:]), 0o644))
		return
	}
	assert.Equal(t, table.String(), readme[start:end], "README rule table is out of date: go test ./policies/rules -run TestReadmeListsEveryRule -update-readme")
}

// A Kubernetes object handed over without any input is not part of the operation (an update that
// excludes the Kubernetes layer): nothing to judge. An AWS resource without inputs still is.
func TestObjectsOutsideTheOperationAreNotJudged(t *testing.T) {
	th, err := ForStack("dev", nil)
	require.NoError(t, err)
	ns := res(TypeK8sNamespace, map[string]any{})
	assert.Empty(t, Evaluate(SecurityRules(), []analyzed.Resource{ns}, th))
	labelled := res(TypeK8sNamespace, map[string]any{"apiVersion": "v1", "kind": "Namespace"})
	assert.NotEmpty(t, Evaluate(SecurityRules(), []analyzed.Resource{labelled}, th), "a registered namespace without the label violates")
	assert.NotEmpty(t, Evaluate(SecurityRules(), []analyzed.Resource{res(TypeDBInstance, map[string]any{})}, th))
	// A canary that waits for the excluded Kubernetes layer is excluded with it.
	assert.Empty(t, Evaluate(SecurityRules(), []analyzed.Resource{res(TypeCanary, map[string]any{})}, th))
}

// Review 2026-12-01: an alarm over a metric query watches its canary; one whose actions are
// off does not; a YAML preferences document is read as such.
func TestAccessRulesReadEveryForm(t *testing.T) {
	th, err := ForStack("dev", nil)
	require.NoError(t, err)
	rule := func(name string) Rule {
		for _, r := range All() {
			if r.Name == name {
				return r
			}
		}
		t.Fatalf("no rule %s", name)
		return Rule{}
	}
	canary := res(TypeCanary, map[string]any{"name": "dev-home"})
	query := res(TypeMetricAlarm, map[string]any{"alarmActions": []any{"arn:topic"}, "metricQueries": []any{
		map[string]any{"id": "m0", "metric": map[string]any{"namespace": "CloudWatchSynthetics", "metricName": "SuccessPercent", "dimensions": map[string]any{"CanaryName": "dev-home"}}},
		map[string]any{"id": "e", "expression": "m0"}}})
	assert.Empty(t, violations(rule("canary-watched").Run([]analyzed.Resource{canary, query}, th)))
	off := res(TypeMetricAlarm, map[string]any{"actionsEnabled": false, "alarmActions": []any{"arn:topic"},
		"namespace": "CloudWatchSynthetics", "dimensions": map[string]any{"CanaryName": "dev-home"}})
	assert.NotEmpty(t, violations(rule("canary-watched").Run([]analyzed.Resource{canary, off}, th)))

	yamlDoc := res(TypeSSMDocument, map[string]any{"documentType": "Session", "documentFormat": "YAML",
		"content": "schemaVersion: '1.0'\nsessionType: Standard_Stream\ninputs:\n  kmsKeyId: arn:key\n  cloudWatchLogGroupName: sessions\n  cloudWatchEncryptionEnabled: true\n"})
	assert.Empty(t, violations(rule("ssm-session-logs-encrypted").Run([]analyzed.Resource{yamlDoc}, th)))
}

// Edge cases a review found (2026-12-01): each is judged as the comment says.
func TestControlEdgeCases(t *testing.T) {
	byName := map[string]Rule{}
	for _, r := range All() {
		byName[r.Name] = r
	}
	plan := func(schedule string) analyzed.Resource {
		return res(TypeBackupPlan, map[string]any{"rules": []any{map[string]any{"schedule": schedule, "lifecycle": map[string]any{"deleteAfter": 35}}}})
	}
	endpoint := func(statement string) analyzed.Resource {
		return res(TypeVPCEndpoint, map[string]any{"policy": `{"Version":"2012-10-17","Statement":[` + statement + `]}`})
	}
	negated := strings.Replace(irsaTrust(`"system:serviceaccount:scalemate:api"`), `"StringEquals"`, `"StringNotEquals"`, 1)
	for _, tc := range []struct {
		rule, why string
		r         analyzed.Resource
		violates  bool
	}{
		{"backup-plan-frequency-retention", "every day of the week as a range is daily", plan("cron(0 5 ? * MON-SUN *)"), false},
		{"backup-plan-frequency-retention", "an absent schedule is AWS Backup's daily default",
			res(TypeBackupPlan, map[string]any{"rules": []any{map[string]any{"lifecycle": map[string]any{"deleteAfter": 35}}}}), false},
		{"backup-plan-frequency-retention", "AWS Backup takes no rate()", plan("rate(1 day)"), true},
		{"backup-plan-frequency-retention", "weekdays only is not daily", plan("cron(0 5 ? * MON-FRI *)"), true},
		{"vpc-gateway-endpoint-policy", "every bucket spelled as an ARN", endpoint(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::*/*"}`), true},
		{"vpc-gateway-endpoint-policy", "an empty condition is none", endpoint(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{}}`), true},
		{"vpc-gateway-endpoint-policy", "NotResource grants the rest", endpoint(`{"Effect":"Allow","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::x/*"}`), true},
		{"backup-plan-frequency-retention", "one year only is not daily", plan("cron(0 5 * * ? 2024)"), true},
		{"iam-no-kms-decrypt-all-keys", "a wildcard action", res(TypeRolePolicy, map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Action":"kms:De*","Resource":"arn:aws:kms:*:*:key/*"}]}`}), true},
		{"iam-no-kms-decrypt-all-keys", "NotAction leaves decryption in", res(TypeRolePolicy, map[string]any{"policy": `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`}), true},
		{"iam-no-kms-decrypt-all-keys", "encryption only", res(TypeRolePolicy, map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`}), false},
		{"k8s-no-secret-in-env", "a secret's name is not the secret", res(TypeK8sDeployment, withPod(func(ctr, _ map[string]any) {
			ctr["env"] = []any{map[string]any{"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:x"}, map[string]any{"name": "API_TOKEN", "value": ""}}
		})), false},
		{"iam-oidc-trust-conditions", "a negated operator pins nothing", res(TypeRole, map[string]any{"assumeRolePolicy": negated}), true},
		{"iam-oidc-trust-conditions", "any account of a namespace", res(TypeRole, map[string]any{"assumeRolePolicy": irsaTrust(`"system:serviceaccount:scalemate:*"`)}), true},
		{"iam-oidc-trust-conditions", "one repository's branches", res(TypeRole, map[string]any{"assumeRolePolicy": irsaTrust(`"repo:scalemate/infra:ref:refs/heads/*"`)}), false},
		{"iam-oidc-trust-conditions", "keys are case-insensitive", res(TypeRole, map[string]any{"assumeRolePolicy": strings.ReplaceAll(irsaTrust(`"system:serviceaccount:scalemate:api"`), ":sub", ":Sub")}), false},
	} {
		t.Run(tc.rule+" "+tc.why, func(t *testing.T) {
			th, err := ForTier("prod")
			require.NoError(t, err)
			assert.Equal(t, tc.violates, len(violations(byName[tc.rule].Run([]analyzed.Resource{tc.r}, th))) > 0)
		})
	}

	// The dry-run guard must name the group the role is bound to.
	rbac := cases["k8s-rbac-least-privilege"].good()
	for i, r := range rbac {
		if r.Type == TypeClusterRoleBinding {
			r.Props = res(r.Type, map[string]any{"roleRef": map[string]any{"name": "preview"},
				"subjects": []any{map[string]any{"kind": "Group", "name": "developers"}}}).Props
			rbac[i] = r
		}
	}
	th, _ := ForTier("dev")
	assert.NotEmpty(t, violations(byName["k8s-rbac-least-privilege"].Run(rbac, th)), "a guard for another group guards nothing")

	// A guard that does not match CONNECT leaves exec and port-forward open.
	rbac = cases["k8s-rbac-least-privilege"].good()
	for i, r := range rbac {
		if r.Type == TypeAdmissionPolicy {
			rbac[i].Props = setAt(property.New(r.Props), []string{"spec", "matchConstraints", "resourceRules"}, property.New(property.NewArray([]property.Value{
				property.New(property.NewMap(map[string]property.Value{
					"apiGroups":  property.New(property.NewArray([]property.Value{property.New("*")})),
					"resources":  property.New(property.NewArray([]property.Value{property.New("*/*")})),
					"operations": property.New(property.NewArray([]property.Value{property.New("CREATE"), property.New("UPDATE"), property.New("DELETE")})),
				})),
			}))).AsMap()
		}
	}
	assert.NotEmpty(t, violations(byName["k8s-rbac-least-privilege"].Run(rbac, th)), "CONNECT unguarded")
}
