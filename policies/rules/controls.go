package rules

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resource types judged by the controls below.
const (
	TypeCertificate        = "aws:acm/certificate:Certificate"
	TypeCodeBuild          = "aws:codebuild/project:Project"
	TypeBucketPolicy       = "aws:s3/bucketPolicy:BucketPolicy"
	TypeRecorderStatus     = "aws:cfg/recorderStatus:RecorderStatus"
	TypeECRLifecycle       = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	TypeCacheSubnetGroup   = "aws:elasticache/subnetGroup:SubnetGroup"
	TypeTopicPolicy        = "aws:sns/topicPolicy:TopicPolicy"
	TypeInspectorEnabler   = "aws:inspector2/enabler:Enabler"
	TypeAccessAnalyzer     = "aws:accessanalyzer/analyzer:Analyzer"
	TypeTargetGroup        = "aws:lb/targetGroup:TargetGroup"
	TypeK8sNetworkPolicy   = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	TypeClusterRoleBinding = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
	TypeResponseHeaders    = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
	TypeVPCEndpoint        = "aws:ec2/vpcEndpoint:VpcEndpoint"
	// hstsMinAge is a year, the least HSTS max-age that Checkov and preload lists accept.
	hstsMinAge = 31536000
)

// controlRules are public controls for types the program registers that the other rule sets
// did not read (coverage by construction: tests/coverage_test.go).
func controlRules() []Rule {
	return []Rule{
		{Name: "acm-key-strength", Pack: Security, Level: Mandatory, Anchor: "FSBP ACM.2",
			Summary: "ACM certificates use RSA keys of at least 2048 bits or ECDSA", Types: []string{TypeCertificate},
			Resource: func(c *Check, r analyzed.Resource) {
				// Absent is RSA_2048, ACM's default.
				if f := r.Get("keyAlgorithm"); c.Known(r, f, "keyAlgorithm") && f.String() == "RSA_1024" {
					c.Violate(r, "keyAlgorithm is RSA_1024")
				}
			}},
		{Name: "codebuild-no-privileged-mode", Pack: Security, Level: Mandatory, Anchor: "FSBP CodeBuild.5, CKV_AWS_316",
			Summary: "CodeBuild projects do not run in privileged mode", Types: []string{TypeCodeBuild},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("environment", "privilegedMode"); c.Known(r, f, "environment.privilegedMode") && f.Bool() {
					c.Violate(r, "environment.privilegedMode is true")
				}
			}},
		{Name: "codebuild-no-plaintext-credentials", Pack: Security, Level: Mandatory, Anchor: "FSBP CodeBuild.2",
			Summary: "CodeBuild projects keep no AWS credentials in plaintext environment variables", Types: []string{TypeCodeBuild},
			Resource: func(c *Check, r analyzed.Resource) {
				vars := r.Get("environment", "environmentVariables")
				if !c.Known(r, vars, "environment.environmentVariables") {
					return
				}
				for _, v := range vars.Items() {
					name, typ := v.Get("name").String(), v.Get("type").String()
					if (typ == "" || typ == "PLAINTEXT") && (name == "AWS_ACCESS_KEY_ID" || name == "AWS_SECRET_ACCESS_KEY") {
						c.Violate(r, "%s is a plaintext environment variable", name)
					}
				}
			}},
		{Name: "s3-bucket-tls-only", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.5",
			Summary: "S3 bucket policies deny requests without TLS (aws:SecureTransport false)", Types: []string{TypeBucket, TypeBucketPolicy},
			Stack: checkBucketTLS},
		boolRule("config-recorder-on", "FSBP Config.1, CIS 3.3", "The AWS Config recorder is on", TypeRecorderStatus, "isEnabled", "isEnabled is not true", nil),
		{Name: "ecr-lifecycle-policy", Pack: Security, Level: Mandatory, Anchor: "FSBP ECR.3",
			Summary: "ECR repositories have a lifecycle policy", Types: []string{TypeECRRepository, TypeECRLifecycle},
			Stack: func(c *Check, rs []analyzed.Resource) {
				requireCompanion(c, rs, TypeECRRepository, TypeECRLifecycle, "no lifecycle policy is attached to the repository")
			}},
		{Name: "elasticache-own-subnet-group", Pack: Security, Level: Mandatory, Anchor: "FSBP ElastiCache.7",
			Summary: "ElastiCache replication groups use a subnet group of the stack, not the default one", Types: []string{TypeCache, TypeCacheSubnetGroup},
			Stack: func(c *Check, rs []analyzed.Resource) {
				for _, r := range ofType(rs, TypeCache) {
					if _, ok := c.dependencyOf(rs, r, TypeCacheSubnetGroup); ok {
						continue
					}
					if f := r.Get("subnetGroupName"); c.Known(r, f, "subnetGroupName") && (f.String() == "" || f.String() == "default") {
						c.Violate(r, "the replication group uses the default subnet group")
					}
				}
			}},
		{Name: "sns-topic-policy-not-public", Pack: Security, Level: Mandatory, Anchor: "FSBP SNS.4",
			Summary: "SNS topic policies allow no public access (no * principal without a condition)", Types: []string{TypeTopicPolicy},
			Resource: notPublic("the topic policy")},
		{Name: "inspector-scans-ec2-ecr", Pack: Security, Level: Mandatory, Anchor: "FSBP Inspector.1, Inspector.2",
			Summary: "Amazon Inspector scans EC2 instances and ECR images", Types: []string{TypeInspectorEnabler},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("resourceTypes")
				if !c.Known(r, f, "resourceTypes") {
					return
				}
				for _, want := range []string{"EC2", "ECR"} {
					if !slices.Contains(f.Strings(), want) {
						c.Violate(r, "resourceTypes lacks %s", want)
					}
				}
			}},
		{Name: "access-analyzer-account", Pack: Security, Level: Mandatory, Anchor: "CIS AWS Foundations 1.20",
			Summary: "IAM Access Analyzer analyses external access to the account or organization", Types: []string{TypeAccessAnalyzer},
			Resource: func(c *Check, r analyzed.Resource) {
				// Absent is ACCOUNT, the provider's default.
				if f := r.Get("type"); c.Known(r, f, "type") && f.String() != "" && f.String() != "ACCOUNT" && f.String() != "ORGANIZATION" {
					c.Violate(r, "type is %s, not an external-access analyzer (ACCOUNT or ORGANIZATION)", f.String())
				}
			}},
		{Name: "target-group-health-check", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_261",
			Summary: "Load balancer target groups check their targets' health", Types: []string{TypeTargetGroup},
			Resource: func(c *Check, r analyzed.Resource) {
				hc := r.Get("healthCheck")
				if !c.Known(r, hc, "healthCheck") {
					return
				}
				if hc.Absent() {
					c.Violate(r, "no healthCheck is defined")
					return
				}
				if f := hc.Get("enabled"); !f.Absent() && !f.Bool() {
					c.Violate(r, "healthCheck.enabled is false")
				}
			}},
		{Name: "k8s-namespace-default-deny", Pack: Security, Level: Mandatory, Anchor: "CIS Kubernetes 5.3.2",
			Summary: "Every namespace the stack creates has a default-deny NetworkPolicy for ingress and egress", Types: []string{TypeK8sNamespace, TypeK8sNetworkPolicy},
			Stack: checkDefaultDeny},
		{Name: "k8s-no-cluster-admin-binding", Pack: Security, Level: Mandatory, Anchor: "kube-linter cluster-admin-role-binding, CIS Kubernetes 5.1.1",
			Summary: "No ClusterRoleBinding grants cluster-admin", Types: []string{TypeClusterRoleBinding},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("roleRef", "name"); c.Known(r, f, "roleRef.name") && f.String() == "cluster-admin" {
					c.Violate(r, "the binding grants cluster-admin")
				}
			}},
		{Name: "cloudfront-s3-origin-access-control", Pack: Security, Level: Mandatory, Anchor: "FSBP CloudFront.13",
			Summary: "CloudFront S3 origins use origin access control", Types: []string{TypeDistribution},
			Resource: func(c *Check, r analyzed.Resource) {
				origins := r.Get("origins")
				if origins.Computed() {
					c.CannotCheck(r, "origins")
					return
				}
				// Origin by origin: one with access control passes whatever its domain; one
				// without needs a known domain that is not S3's.
				for _, o := range origins.Items() {
					if o.Computed() {
						c.CannotCheck(r, "origins")
						continue
					}
					oac, domain := o.Get("originAccessControlId"), o.Get("domainName")
					if oac.Unknown() || oac.String() != "" {
						continue
					}
					if !c.Known(r, domain, "origins.domainName") {
						continue
					}
					if strings.Contains(domain.String(), ".s3.") {
						c.Violate(r, "S3 origin %s has no origin access control", o.Get("originId").String())
					}
				}
			}},
		{Name: "kms-deletion-window", Pack: Security, Level: Mandatory, Anchor: "FSBP KMS.3, AWS KMS best practice",
			Summary: "KMS keys keep the longest deletion window (30 days) where the tier requires protection", Types: []string{TypeKMSKey},
			Resource: func(c *Check, r analyzed.Resource) {
				if !c.T.RequireProtect {
					return
				}
				// Absent is 30 days, the provider's default.
				if f := r.Get("deletionWindowInDays"); c.Known(r, f, "deletionWindowInDays") && !f.Absent() && f.Int() < 30 {
					c.Violate(r, "deletionWindowInDays is %d; %s keeps 30", f.Int(), c.T.Tier)
				}
			}},
		{Name: "cloudfront-response-headers-policy", Pack: Security, Level: Mandatory, Anchor: "CKV2_AWS_32",
			Summary: "Every CloudFront cache behaviour has a response headers policy", Types: []string{TypeDistribution, TypeResponseHeaders},
			Stack: checkResponseHeaders},
		{Name: "cloudfront-hsts", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_259",
			Summary: "CloudFront response headers policies send Strict-Transport-Security (override, max-age of a year or more, includeSubDomains)",
			Types:   []string{TypeResponseHeaders}, Resource: checkHSTS},
		{Name: "vpc-gateway-endpoint-policy", Pack: Security, Level: Mandatory, Anchor: "AWS Well-Architected SEC05-BP02, AWS data perimeter (identity perimeter)",
			Summary: "VPC gateway endpoints have a policy; none lets any principal reach every resource without a condition " +
				"(interface endpoints are left open: STS web-identity calls there carry no principal)",
			Types: []string{TypeVPCEndpoint}, Resource: checkGatewayEndpoint},
		{Name: "elasticache-cmk", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_191",
			Summary: "ElastiCache replication groups encrypt at rest with a customer managed KMS key", Types: []string{TypeCache},
			Resource: requireSet("kmsKeyId", "no kmsKeyId: the AWS owned key encrypts the cache")},
		{Name: "elasticache-multi-az", Pack: Security, Level: Mandatory, Anchor: "AWS ElastiCache best practice (Multi-AZ with automatic failover), FSBP ElastiCache.3",
			Summary: "Replicated ElastiCache groups are Multi-AZ where the tier requires it", Types: []string{TypeCache},
			Resource: func(c *Check, r analyzed.Resource) {
				if !c.T.RequireMultiAZ {
					return
				}
				replicas, clusters := r.Get("replicasPerNodeGroup"), r.Get("numCacheClusters")
				if !c.Known(r, replicas, "replicasPerNodeGroup") || !c.Known(r, clusters, "numCacheClusters") ||
					(replicas.Int() < 1 && clusters.Int() < 2) {
					return // a single node has nothing to fail over to (elasticache-automatic-failover)
				}
				if f := r.Get("multiAzEnabled"); c.Known(r, f, "multiAzEnabled") && !f.Bool() {
					c.Violate(r, "multiAzEnabled is not true")
				}
			}},
		{Name: "rds-performance-insights-kms", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_354",
			Summary: "RDS Performance Insights data is encrypted with a customer managed KMS key", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("performanceInsightsEnabled"); !c.Known(r, f, "performanceInsightsEnabled") || !f.Bool() {
					return
				}
				requireSet("performanceInsightsKmsKeyId", "Performance Insights is on without performanceInsightsKmsKeyId")(c, r)
			}},
		{Name: "security-group-descriptions", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_23",
			Summary: "Security groups and their rules say what they are for (a description, not the provider's default)",
			Types:   []string{TypeSecurityGroup, TypeSGRule}, Resource: checkSGDescriptions},
		{Name: "waf-rule-metrics", Pack: Security, Level: Mandatory, Anchor: "FSBP WAF.10, WAF.12",
			Summary: "Web ACLs have rules, and CloudWatch metrics on the ACL and on every rule", Types: []string{TypeWebACL},
			Resource: checkWAFMetrics},
		{Name: "iam-oidc-trust-conditions", Pack: Security, Level: Mandatory, Anchor: "AWS IAM roles for service accounts, CKV_AWS_358",
			Summary: "Roles trusted through an OIDC provider pin the token's audience (aud) and subject (sub), without a wildcard subject",
			Types:   []string{TypeRole}, Resource: checkOIDCTrust},
		{Name: "kms-key-policy-not-public", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_33",
			Summary: "KMS key policies allow no * principal without a condition", Types: []string{TypeKMSKey},
			// Absent is KMS's default policy: the account administers the key through IAM.
			Resource: notPublic("the key policy")},
		{Name: "iam-no-kms-decrypt-all-keys", Pack: Security, Level: Mandatory, Anchor: "FSBP KMS.1, KMS.2",
			Summary: "IAM policies allow no decryption (kms:Decrypt, kms:ReEncryptFrom) on every KMS key without a condition",
			Types:   []string{TypeRole, TypeRolePolicy}, Resource: checkDecryptAll},
	}
}

// checkBucketTLS: every bucket has a policy that denies insecure transport.
func checkBucketTLS(c *Check, rs []analyzed.Resource) {
	for _, b := range ofType(rs, TypeBucket) {
		policies := c.dependentsOf(rs, b, TypeBucketPolicy)
		if len(policies) == 0 {
			c.Violate(b, "no bucket policy denies requests without TLS")
			continue
		}
		denied := false
		for _, p := range policies {
			doc := p.Get("policy")
			if !c.Known(p, doc, "policy") {
				denied = true // reported as unknown, not as missing
				continue
			}
			denied = denied || deniesInsecureTransport(c.policyDocument(p, doc, "policy"))
		}
		if !denied {
			c.Violate(b, "the bucket policy does not deny aws:SecureTransport false")
		}
	}
}

// deniesInsecureTransport reports a Deny statement conditioned on aws:SecureTransport false.
func deniesInsecureTransport(statements []statement) bool {
	for _, st := range statements {
		if st.Effect != "Deny" {
			continue
		}
		var cond map[string]map[string]json.RawMessage
		if json.Unmarshal(st.Condition, &cond) != nil {
			continue
		}
		for op, kv := range cond {
			if !strings.HasPrefix(op, "Bool") {
				continue
			}
			if v, ok := kv["aws:SecureTransport"]; ok && (string(v) == `"false"` || string(v) == `false` || string(v) == `["false"]`) {
				return true
			}
		}
	}
	return false
}

// checkDefaultDeny: each namespace the stack creates holds a NetworkPolicy that selects every
// pod and denies both directions (policyTypes Ingress and Egress, no rules of its own).
func checkDefaultDeny(c *Check, rs []analyzed.Resource) {
	policies := ofType(rs, TypeK8sNetworkPolicy)
	for _, ns := range ofType(rs, TypeK8sNamespace) {
		if ns.Props.Len() == 0 {
			continue // not part of this operation
		}
		name := ns.Get("metadata", "name")
		if !c.Known(ns, name, "metadata.name") {
			continue
		}
		denied, unknown := false, false
		for _, p := range policies {
			if p.Props.Len() == 0 || p.Get("metadata", "namespace").Unknown() || p.Get("spec").Unknown() {
				unknown = unknown || p.Props.Len() > 0
				continue
			}
			if p.Get("metadata", "namespace").String() != name.String() {
				continue
			}
			spec := p.Get("spec")
			types := spec.Get("policyTypes").Strings()
			if len(spec.Get("podSelector").Keys()) == 0 && slices.Contains(types, "Ingress") && slices.Contains(types, "Egress") &&
				spec.Get("ingress").Absent() && spec.Get("egress").Absent() {
				denied = true
			}
		}
		switch {
		case denied:
		case unknown:
			c.CannotCheck(ns, "the network policies")
		default:
			c.Violate(ns, "namespace %s has no default-deny NetworkPolicy", name.String())
		}
	}
}

// checkResponseHeaders: each behaviour names a response headers policy. An ID not known yet is
// judged by where it comes from: a headers policy of the stack the distribution depends on.
func checkResponseHeaders(c *Check, rs []analyzed.Resource) {
	for _, d := range ofType(rs, TypeDistribution) {
		_, ofStack := c.dependencyOf(rs, d, TypeResponseHeaders)
		if d.Get("orderedCacheBehaviors").Computed() {
			c.CannotCheck(d, "orderedCacheBehaviors") // the default behaviour is still judged
		}
		for _, b := range cloudFrontBehaviours(d) {
			id := b.Get("responseHeadersPolicyId")
			switch {
			case b.Absent():
			case b.Computed():
				c.CannotCheck(d, "a cache behaviour")
			case id.Unknown():
				if !ofStack {
					c.CannotCheck(d, "responseHeadersPolicyId")
				}
			case id.String() == "":
				c.Violate(d, "behaviour %q has no response headers policy", b.Get("pathPattern").String())
			}
		}
	}
}

func checkHSTS(c *Check, r analyzed.Resource) {
	sts := r.Get("securityHeadersConfig", "strictTransportSecurity")
	if !c.Known(r, sts, "securityHeadersConfig.strictTransportSecurity") {
		return
	}
	if sts.Absent() {
		c.Violate(r, "no Strict-Transport-Security header")
		return
	}
	if !sts.Get("override").Bool() {
		c.Violate(r, "strictTransportSecurity.override is not true: an origin's weaker header wins")
	}
	if age := sts.Get("accessControlMaxAgeSec").Int(); age < hstsMinAge {
		c.Violate(r, "strictTransportSecurity.accessControlMaxAgeSec is %d, under a year (%d)", age, hstsMinAge)
	}
	if !sts.Get("includeSubdomains").Bool() {
		c.Violate(r, "strictTransportSecurity.includeSubdomains is not true")
	}
}

// checkGatewayEndpoint: a gateway endpoint (S3, DynamoDB) without a policy, or with one that
// allows any principal every resource unconditionally, carries other accounts' credentials
// out of the VPC (the data-perimeter concern).
func checkGatewayEndpoint(c *Check, r analyzed.Resource) {
	// Absent is Gateway, the provider's default.
	if t := r.Get("vpcEndpointType"); !c.Known(r, t, "vpcEndpointType") || (t.String() != "" && t.String() != "Gateway") {
		return
	}
	p := r.Get("policy")
	if !c.Known(r, p, "policy") {
		return
	}
	if p.Absent() || p.String() == "" {
		c.Violate(r, "no endpoint policy: any principal, any bucket")
		return
	}
	for _, st := range c.policyDocument(r, p, "policy") {
		everything := len(st.NotResource) > 0 || slices.ContainsFunc(stringsOf(st.Resource), func(r string) bool {
			return r == "*" || strings.HasPrefix(r, "arn:") && strings.HasSuffix(r, ":::*") || strings.HasSuffix(r, ":::*/*")
		})
		if st.Effect == "Allow" && st.anyone() && !st.conditioned() && everything {
			c.Violate(r, "the endpoint policy lets any principal reach every resource without a condition")
		}
	}
}

// providerDefaultSGDescription is what the AWS provider writes when a group has no description.
const providerDefaultSGDescription = "Managed by Pulumi"

func checkSGDescriptions(c *Check, r analyzed.Resource) {
	if f := r.Get("description"); c.Known(r, f, "description") && (f.String() == "" || f.String() == providerDefaultSGDescription) {
		what := "the security group"
		if r.Type == TypeSGRule {
			what = "the rule"
		}
		c.Violate(r, "%s has no description of its own", what)
	}
	for _, dir := range []string{"ingress", "egress"} {
		rules := r.Get(dir)
		if r.Type != TypeSecurityGroup || !c.Known(r, rules, dir) {
			continue
		}
		for _, rule := range rules.Items() {
			if f := rule.Get("description"); c.Known(r, f, dir+".description") && f.String() == "" {
				c.Violate(r, "an %s rule has no description", dir)
			}
		}
	}
}

func checkWAFMetrics(c *Check, r analyzed.Resource) {
	if f := r.Get("visibilityConfig", "cloudwatchMetricsEnabled"); c.Known(r, f, "visibilityConfig.cloudwatchMetricsEnabled") && !f.Bool() {
		c.Violate(r, "the web ACL's CloudWatch metrics are off")
	}
	rules := r.Get("rules")
	if !c.Known(r, rules, "rules") {
		return
	}
	if len(rules.Items()) == 0 {
		c.Violate(r, "the web ACL has no rules")
	}
	for _, rule := range rules.Items() {
		if f := rule.Get("visibilityConfig", "cloudwatchMetricsEnabled"); c.Known(r, f, "rules.visibilityConfig.cloudwatchMetricsEnabled") && !f.Bool() {
			c.Violate(r, "rule %q has its CloudWatch metrics off", rule.Get("name").String())
		}
	}
}

// checkOIDCTrust: a statement that lets a web identity from an OIDC provider assume the role
// pins both the audience and the subject with StringEquals or StringLike (a negated operator or
// Null pins nothing), and the subject names its workload: no wildcard in an IRSA subject's
// namespace or service account, nor in a GitHub subject's repository.
func checkOIDCTrust(c *Check, r analyzed.Resource) {
	f := r.Get("assumeRolePolicy")
	if !c.Known(r, f, "assumeRolePolicy") {
		return
	}
	for _, st := range c.policyDocument(r, f, "assumeRolePolicy") {
		var principal struct{ Federated json.RawMessage }
		if st.Effect != "Allow" || json.Unmarshal(st.Principal, &principal) != nil || !strings.Contains(string(principal.Federated), ":oidc-provider/") {
			continue
		}
		var cond map[string]map[string]json.RawMessage
		_ = json.Unmarshal(st.Condition, &cond)
		claims := map[string][]string{}
		for op, kv := range cond {
			if op != "StringEquals" && op != "StringLike" {
				continue
			}
			for key, raw := range kv {
				claim := strings.ToLower(key[strings.LastIndex(key, ":")+1:])
				claims[claim] = append(claims[claim], stringsOf(raw)...)
			}
		}
		for _, claim := range []string{"aud", "sub"} {
			if len(claims[claim]) == 0 {
				c.Violate(r, "the OIDC trust pins no %s (StringEquals or StringLike)", claim)
			}
		}
		if slices.ContainsFunc(claims["sub"], wildcardSubject) {
			c.Violate(r, "the OIDC trust admits any subject of a kind (a wildcard in the workload's name)")
		}
	}
}

// wildcardSubject is a subject condition that a whole kind of workload meets: empty, starting
// with a wildcard, an IRSA subject (system:serviceaccount:<namespace>:<account>) with a
// wildcard in either name, or a GitHub subject (repo:<owner>/<repo>:...) with one in the
// repository.
func wildcardSubject(s string) bool {
	wild := func(p string) bool { return p == "" || strings.ContainsAny(p, "*?") }
	parts := strings.Split(s, ":")
	switch {
	case s == "" || strings.HasPrefix(s, "*") || strings.HasPrefix(s, "?"):
		return true
	case parts[0] == "system" && len(parts) >= 2 && parts[1] == "serviceaccount":
		return len(parts) != 4 || wild(parts[2]) || wild(parts[3])
	case parts[0] == "repo":
		return len(parts) < 2 || wild(parts[1])
	}
	return false
}

// decryptActions are what KMS.1 and KMS.2 look for.
var decryptActions = []string{"kms:decrypt", "kms:reencryptfrom"}

// checkDecryptAll: an inline policy (a role's inlinePolicies, or a RolePolicy) that allows a
// decryption action (named, matched by a wildcard, or left out of a NotAction) on every key
// ("*", or a key ARN pattern) without a condition (kms:ViaService, a key tag) can read
// whatever any key of the account encrypts.
func checkDecryptAll(c *Check, r analyzed.Resource) {
	for _, d := range inlineDocuments(r) {
		if !c.Known(r, d, "policy") {
			continue
		}
		for _, st := range c.policyDocument(r, d, "policy") {
			everyKey := len(st.NotResource) > 0 || slices.ContainsFunc(stringsOf(st.Resource), func(res string) bool {
				return res == "*" || strings.HasPrefix(res, "arn:") && strings.HasSuffix(res, ":key/*")
			})
			if st.Effect != "Allow" || st.conditioned() || !everyKey {
				continue
			}
			for _, action := range decryptActions {
				if allows(st, action) {
					c.Violate(r, "an inline policy allows %s on every KMS key", action)
				}
			}
		}
	}
}

// allows reports whether a statement's Action (or NotAction) covers action, IAM wildcards and
// case-insensitivity included.
func allows(st statement, action string) bool {
	matches := func(patterns []string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { ok, _ := path.Match(strings.ToLower(p), action); return ok })
	}
	if len(st.NotAction) > 0 {
		return !matches(stringsOf(st.NotAction))
	}
	return matches(stringsOf(st.Action))
}

// stringsOf is a JSON string or string array as a list.
func stringsOf(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// notPublic judges a resource policy (the "policy" input): no Allow to any principal without a
// condition.
func notPublic(what string) func(c *Check, r analyzed.Resource) {
	return func(c *Check, r analyzed.Resource) {
		f := r.Get("policy")
		if !c.Known(r, f, "policy") {
			return
		}
		for _, st := range c.policyDocument(r, f, "policy") {
			if st.Effect == "Allow" && st.anyone() && !st.conditioned() {
				c.Violate(r, "%s allows any principal without a condition", what)
			}
		}
	}
}

// requireKey judges a customer managed key ARN input: set, or the message.
func requireSet(field, message string) func(c *Check, r analyzed.Resource) {
	return func(c *Check, r analyzed.Resource) {
		if f := r.Get(field); c.Known(r, f, field) && f.String() == "" {
			c.Violate(r, "%s", message)
		}
	}
}
