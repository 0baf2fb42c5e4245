package rules

import (
	"encoding/json"
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
					if _, ok := dependencyOf(rs, r, TypeCacheSubnetGroup); ok {
						continue
					}
					if f := r.Get("subnetGroupName"); c.Known(r, f, "subnetGroupName") && (f.String() == "" || f.String() == "default") {
						c.Violate(r, "the replication group uses the default subnet group")
					}
				}
			}},
		{Name: "sns-topic-policy-not-public", Pack: Security, Level: Mandatory, Anchor: "FSBP SNS.4",
			Summary: "SNS topic policies allow no public access (no * principal without a condition)", Types: []string{TypeTopicPolicy},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("policy")
				if !c.Known(r, f, "policy") {
					return
				}
				for _, st := range c.policyDocument(r, f, "policy") {
					if st.Effect == "Allow" && anyPrincipal(st.Principal) && len(st.Condition) == 0 {
						c.Violate(r, "the topic policy allows any principal without a condition")
					}
				}
			}},
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
	}
}

// checkBucketTLS: every bucket has a policy that denies insecure transport.
func checkBucketTLS(c *Check, rs []analyzed.Resource) {
	for _, b := range ofType(rs, TypeBucket) {
		policies := dependentsOf(rs, b, TypeBucketPolicy)
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
