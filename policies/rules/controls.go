package rules

import (
	"encoding/json"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resource types judged by the controls below.
const (
	TypeCertificate  = "aws:acm/certificate:Certificate"
	TypeCodeBuild    = "aws:codebuild/project:Project"
	TypeBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
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
