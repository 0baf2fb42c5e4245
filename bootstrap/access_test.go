package main

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/fakecloud"
	"github.com/scalemate/infra/internal/mocktest"
)

// A small model of IAM's evaluation (explicit deny, then allow; Action/NotAction and Resource
// wildcards; StringEquals, StringNotEquals, StringLike and Null conditions), enough to ask the
// questions the review asked of the pipeline's roles.

type statement struct {
	Effect    string
	Action    stringList
	NotAction stringList
	Resource  stringList
	Condition map[string]map[string]stringList
}

type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

type policy struct{ Statement []statement }

// request is one API call: its action, resource and condition context.
type request struct {
	action, resource string
	context          map[string]string
}

func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// path.Match treats '/' specially; IAM does not.
	ok, _ := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return ok
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

func (st statement) matches(r request) bool {
	if len(st.Action) > 0 && !anyGlob(st.Action, r.action, true) {
		return false
	}
	if len(st.NotAction) > 0 && anyGlob(st.NotAction, r.action, true) {
		return false
	}
	if !anyGlob(st.Resource, r.resource, false) {
		return false
	}
	for op, kv := range st.Condition {
		for key, values := range kv {
			got, present := r.context[key]
			anyMatch := func(match func(want string) bool) bool {
				return present && slices.ContainsFunc(values, match)
			}
			switch op {
			case "StringEquals", "Bool":
				if !anyMatch(func(w string) bool { return got == w }) {
					return false
				}
			case "StringLike", "ArnLike":
				if !anyMatch(func(w string) bool { return glob(w, got, false) }) {
					return false
				}
			case "StringNotEquals":
				if anyMatch(func(w string) bool { return got == w }) {
					return false
				}
			case "StringNotLike", "ArnNotLike":
				if anyMatch(func(w string) bool { return glob(w, got, false) }) {
					return false
				}
			case "Null":
				if (values[0] == "true") == present {
					return false
				}
			default:
				panic("condition operator not modelled: " + op)
			}
		}
	}
	return true
}

// allowed is IAM's verdict for one set of policies (identity and resource policies of one
// account): an explicit deny wins, then any allow.
func allowed(policies []policy, r request) bool {
	allow := false
	for _, p := range policies {
		for _, st := range p.Statement {
			if st.matches(r) {
				if st.Effect == "Deny" {
					return false
				}
				allow = true
			}
		}
	}
	return allow
}

// The AWS managed policies the roles attach, as documented (their statements that matter here).
var (
	powerUserAccess = policy{Statement: []statement{
		{Effect: "Allow", NotAction: stringList{"iam:*", "organizations:*", "account:*"}, Resource: stringList{"*"}},
		{Effect: "Allow", Action: stringList{"iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
			"organizations:DescribeOrganization", "account:ListRegions", "account:GetAccountInformation"}, Resource: stringList{"*"}},
	}}
	// ReadOnlyAccess lists reads service by service; S3's are s3:Get* and s3:List* (every
	// object), Secrets Manager's exclude GetSecretValue.
	readOnlyAccess = policy{Statement: []statement{
		{Effect: "Allow", Action: stringList{"*:List*", "*:Describe*", "s3:Get*", "eks:Get*", "rds:Get*", "iam:Get*",
			"secretsmanager:GetResourcePolicy", "kms:GetKeyPolicy"}, Resource: stringList{"*"}},
	}}
)

func parsePolicy(t *testing.T, doc any) policy {
	t.Helper()
	var p policy
	require.NoError(t, json.Unmarshal([]byte(doc.(string)), &p))
	return p
}

// roleModel is what decides a pipeline role's calls: its identity policies (managed and
// inline) and the state bucket's policy. Requests are made as the role, over TLS.
type roleModel struct {
	name     string
	policies []policy
}

func (m roleModel) allows(r request) bool {
	c := map[string]string{"aws:PrincipalArn": roleARN(githubRoleName(m.name)), "aws:SecureTransport": "true"}
	for k, v := range r.context {
		c[k] = v
	}
	r.context = c
	return allowed(m.policies, r)
}

func modelRole(t *testing.T, rec *mocktest.Recorder, name string) roleModel {
	t.Helper()
	role := rec.Must(t, "aws:iam/role:Role", name)
	ps := []policy{parsePolicy(t, role.Input("inlinePolicies").([]any)[0].(map[string]any)["policy"]),
		parsePolicy(t, rec.Must(t, "aws:s3/bucketPolicy:BucketPolicy", "state").Input("policy"))}
	for _, arn := range role.Input("managedPolicyArns").([]any) {
		switch arn {
		case "arn:aws:iam::aws:policy/PowerUserAccess":
			ps = append(ps, powerUserAccess)
		case "arn:aws:iam::aws:policy/ReadOnlyAccess":
			ps = append(ps, readOnlyAccess)
		default:
			t.Fatalf("managed policy %v is not modelled", arn)
		}
	}
	return roleModel{name: name, policies: ps}
}

const acct = fakecloud.AccountID

// The ARNs the mocks give the state bucket and the keys.
const (
	stateBucketARN = "arn:aws:s3:us-west-2:" + acct + ":state"
	stateKeyARN    = "arn:aws:kms:us-west-2:" + acct + ":pulumi"
)

func secretsKeyARN(env string) string { return "arn:aws:kms:us-west-2:" + acct + ":secrets-" + env }

func roleARN(name string) string   { return "arn:aws:iam::" + acct + ":role/" + name }
func policyARN(name string) string { return "arn:aws:iam::" + acct + ":policy/" + name }

func boundaryOf(env string) map[string]string {
	return map[string]string{"iam:PermissionsBoundary": policyARN(BoundaryName(env))}
}

// Review 2026-11-30 #10: a deploy role cannot create or widen a role that escapes the
// environment's boundary, cannot remove or rewrite the boundary, and cannot reach into another
// environment's roles or tagged resources.
func TestDeployRolesCannotEscalate(t *testing.T) {
	rec := runBootstrap(t)
	dev := modelRole(t, rec, "deploy-dev")
	tagged := func(env string) map[string]string { return map[string]string{"aws:ResourceTag/Environment": env} }
	cases := []struct {
		name string
		req  request
		want bool
	}{
		{"create a role with the dev boundary", request{"iam:CreateRole", roleARN("scalemate-dev-app"), boundaryOf("dev")}, true},
		{"create a role without a boundary", request{"iam:CreateRole", roleARN("scalemate-dev-app"), nil}, false},
		{"create a role with prod's boundary", request{"iam:CreateRole", roleARN("scalemate-dev-app"), boundaryOf("prod")}, false},
		{"create a prod role", request{"iam:CreateRole", roleARN("scalemate-prod-app"), boundaryOf("dev")}, false},
		{"create a role outside the prefix", request{"iam:CreateRole", roleARN("admin"), boundaryOf("dev")}, false},
		{"attach a policy to a bounded role", request{"iam:AttachRolePolicy", roleARN("scalemate-dev-app"), boundaryOf("dev")}, true},
		{"attach a policy to an unbounded role", request{"iam:AttachRolePolicy", roleARN("scalemate-dev-app"), nil}, false},
		{"put an inline policy on an unbounded role", request{"iam:PutRolePolicy", roleARN("scalemate-dev-app"), nil}, false},
		{"remove a boundary", request{"iam:DeleteRolePermissionsBoundary", roleARN("scalemate-dev-app"), nil}, false},
		{"rewrite the boundary", request{"iam:CreatePolicyVersion", policyARN(BoundaryName("dev")), nil}, false},
		{"create a user", request{"iam:CreateUser", "arn:aws:iam::" + acct + ":user/x", nil}, false},
		{"create a customer managed policy", request{"iam:CreatePolicy", policyARN("scalemate-dev-x"), nil}, false},
		{"pass its own role", request{"iam:PassRole", roleARN("scalemate-dev-node"), nil}, true},
		{"pass the prod deploy role", request{"iam:PassRole", roleARN("scalemate-github-deploy-prod"), nil}, false},
		{"change its own trust", request{"iam:UpdateAssumeRolePolicy", roleARN("scalemate-github-deploy-dev"), nil}, false},
		{"delete a dev snapshot", request{"rds:DeleteDBSnapshot", "arn:aws:rds:us-west-2:" + acct + ":snapshot:x", tagged("dev")}, true},
		{"delete a prod snapshot", request{"rds:DeleteDBSnapshot", "arn:aws:rds:us-west-2:" + acct + ":snapshot:x", tagged("prod")}, false},
		{"tag a new bucket as prod", request{"s3:CreateBucket", "arn:aws:s3:::x", map[string]string{"aws:RequestTag/Environment": "prod"}}, false},
		{"attach AdministratorAccess to a bounded role", request{"iam:AttachRolePolicy", roleARN("scalemate-dev-app"),
			map[string]string{"iam:PermissionsBoundary": policyARN(BoundaryName("dev")), "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}, false},
		{"attach AmazonS3FullAccess to a bounded role", request{"iam:AttachRolePolicy", roleARN("scalemate-dev-app"),
			map[string]string{"iam:PermissionsBoundary": policyARN(BoundaryName("dev")), "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}}, false},
		{"attach a workload policy to a bounded role", request{"iam:AttachRolePolicy", roleARN("scalemate-dev-app"),
			map[string]string{"iam:PermissionsBoundary": policyARN(BoundaryName("dev")), "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}}, true},
		{"decrypt with its secrets key", request{"kms:Decrypt", secretsKeyARN("dev"), nil}, true},
		{"decrypt with prod's secrets key", request{"kms:Decrypt", secretsKeyARN("prod"), nil}, false},
		{"decrypt with the state key directly", request{"kms:Decrypt", stateKeyARN, nil}, false},
		{"decrypt with the state key through S3", request{"kms:Decrypt", stateKeyARN, map[string]string{"kms:ViaService": "s3.us-west-2.amazonaws.com"}}, true},
		{"write prod's assets bucket", request{"s3:PutObject", "arn:aws:s3:::scalemate-prod-assets-a1b2c3/index.html", nil}, false},
		{"write its assets bucket", request{"s3:PutObject", "arn:aws:s3:::scalemate-dev-assets-a1b2c3/index.html", nil}, true},
		{"write its state", request{"s3:PutObject", stateBucketARN + "/.pulumi/stacks/scalemate/dev.json", nil}, true},
		{"write prod's state", request{"s3:PutObject", stateBucketARN + "/.pulumi/stacks/scalemate/prod.json", nil}, false},
		{"read prod's state", request{"s3:GetObject", stateBucketARN + "/.pulumi/stacks/scalemate/prod.json", nil}, false},
		{"delete prod's history", request{"s3:DeleteObject", stateBucketARN + "/.pulumi/history/scalemate/prod/1.json", nil}, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, dev.allows(c.req), c.name)
	}
}

// The boundary caps what any role the pipeline creates can do, whatever is attached to it:
// AdministratorAccess on a bounded role is still no IAM, no other environment.
func TestBoundaryCapsPipelineRoles(t *testing.T) {
	rec := runBootstrap(t)
	boundary := parsePolicy(t, rec.Must(t, "aws:iam/policy:Policy", "boundary-dev").Input("policy"))
	admin := policy{Statement: []statement{{Effect: "Allow", Action: stringList{"*"}, Resource: stringList{"*"}}}}
	effective := func(r request) bool { return allowed([]policy{admin}, r) && allowed([]policy{boundary}, r) }
	assert.True(t, effective(request{"s3:GetObject", "arn:aws:s3:::scalemate-dev-assets/x", nil}))
	assert.True(t, effective(request{"iam:CreateServiceLinkedRole", "*", nil}), "the load balancer controller creates ELB's service-linked role")
	assert.False(t, effective(request{"iam:CreateRole", roleARN("scalemate-dev-x"), boundaryOf("dev")}))
	assert.False(t, effective(request{"iam:AttachRolePolicy", roleARN("scalemate-dev-x"), nil}))
	assert.False(t, effective(request{"sts:AssumeRole", roleARN("scalemate-github-deploy-prod"), nil}))
	assert.False(t, effective(request{"organizations:LeaveOrganization", "*", nil}))
	assert.False(t, effective(request{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:" + acct + ":secret:scalemate-prod/postgres",
		map[string]string{"aws:ResourceTag/Environment": "prod"}}))
	assert.False(t, effective(request{"s3:GetObject", stateBucketARN + "/.pulumi/stacks/scalemate/prod.json", nil}), "no state")
	assert.False(t, effective(request{"kms:Decrypt", secretsKeyARN("dev"), nil}), "no pipeline key")
	assert.False(t, effective(request{"s3:PutObject", "arn:aws:s3:::scalemate-prod-assets-a1b2c3/x", nil}), "no other environment's bucket")
	assert.Equal(t, "scalemate-dev-boundary", rec.Must(t, "aws:iam/policy:Policy", "boundary-dev").Input("name"))

	// A role the dev pipeline created (and could assume) is kept out of every state object by
	// the bucket's policy as well.
	bucket := parsePolicy(t, rec.Must(t, "aws:s3/bucketPolicy:BucketPolicy", "state").Input("policy"))
	made := map[string]string{"aws:PrincipalArn": roleARN("scalemate-dev-x"), "aws:SecureTransport": "true"}
	assert.False(t, allowed([]policy{admin, bucket}, request{"s3:GetObject", stateBucketARN + "/.pulumi/stacks/scalemate/prod.json", made}))
	assert.False(t, allowed([]policy{admin, bucket}, request{"s3:PutObject", stateBucketARN + "/.pulumi/stacks/scalemate/dev.json", made}))
}

// Review #3: the preview role reads its own stack and its environment's secrets (a refresh of a
// secret version reads the value back) and writes nothing but the stack's lock.
func TestPreviewRolesReadTheirEnvironmentOnly(t *testing.T) {
	rec := runBootstrap(t)
	bucket := stateBucketARN
	secret := func(env string) string {
		return "arn:aws:secretsmanager:us-west-2:" + acct + ":secret:scalemate-" + env + "/postgres-AbCdEf"
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		preview := modelRole(t, rec, "preview-"+env)
		other := map[string]string{"dev": "prod", "staging": "prod", "prod": "dev"}[env]
		role := rec.Must(t, "aws:iam/role:Role", "preview-"+env)
		assert.Contains(t, role.Input("assumeRolePolicy"), `"repo:scalemate/infra:environment:`+env+`-preview"`)
		assert.True(t, preview.allows(request{"s3:GetObject", bucket + "/.pulumi/stacks/scalemate/" + env + ".json", nil}), env)
		assert.False(t, preview.allows(request{"s3:GetObject", bucket + "/.pulumi/stacks/scalemate/" + other + ".json", nil}), env)
		assert.True(t, preview.allows(request{"s3:PutObject", bucket + "/.pulumi/locks/organization/scalemate/" + env + "/1.json", nil}), env)
		assert.False(t, preview.allows(request{"s3:PutObject", bucket + "/.pulumi/stacks/scalemate/" + env + ".json", nil}), env)
		assert.True(t, preview.allows(request{"secretsmanager:GetSecretValue", secret(env), nil}), env)
		assert.False(t, preview.allows(request{"secretsmanager:GetSecretValue", secret(other), nil}), env)
		assert.True(t, preview.allows(request{"kms:Decrypt", secretsKeyARN(env), nil}), env)
		assert.False(t, preview.allows(request{"kms:Decrypt", secretsKeyARN(other), nil}), env)
		assert.True(t, preview.allows(request{"kms:Decrypt", "arn:aws:kms:us-west-2:" + acct + ":key/k",
			map[string]string{"kms:ViaService": "secretsmanager.us-west-2.amazonaws.com", "kms:CallerAccount": acct}}), env)
		assert.False(t, preview.allows(request{"kms:Decrypt", "arn:aws:kms:us-west-2:" + acct + ":key/k", nil}), "direct decrypt")
		for _, write := range []string{"eks:UpdateClusterConfig", "rds:DeleteDBInstance", "iam:CreateRole", "secretsmanager:PutSecretValue", "ec2:RunInstances"} {
			assert.False(t, preview.allows(request{write, "*", nil}), env+" "+write)
		}
	}
}

// With one account per environment, the bootstrap of an account creates only the roles of the
// environments mapped to it, and every ARN its policies name is in that account.
func TestOneAccountPerEnvironment(t *testing.T) {
	cfg, err := mocktest.StackConfig("Pulumi.bootstrap.yaml")
	require.NoError(t, err)
	cfg["scalemate-bootstrap:accounts"] = `{"dev":"111111111111","staging":"222222222222","prod":"` + acct + `"}`
	rec, err := mocktest.Run("scalemate-bootstrap", "bootstrap", cfg, run)
	require.NoError(t, err)
	var names []string
	for _, r := range rec.OfType("aws:iam/role:Role") {
		names = append(names, r.Name)
	}
	assert.ElementsMatch(t, []string{"deploy-prod", "preview-prod"}, names)
	access := rec.Must(t, "aws:iam/role:Role", "deploy-prod").Input("inlinePolicies").([]any)[0].(map[string]any)["policy"].(string)
	assert.NotContains(t, access, "::*:", "no ARN of another account")

	for _, c := range []struct{ accounts, want string }{
		{`{"dev":"111111111111"}`, `scalemate-bootstrap:accounts: environment "staging" has no account id`},
		{`{"dev":"1111","staging":"2","prod":"3"}`, `scalemate-bootstrap:accounts.dev: "1111" is not a 12-digit AWS account id`},
		{`{"dev":"111111111111","staging":"222222222222","prod":"333333333333"}`, `no environment is mapped to this account (` + acct + `)`},
	} {
		cfg["scalemate-bootstrap:accounts"] = c.accounts
		rec, err := mocktest.Run("scalemate-bootstrap", "bootstrap", cfg, run)
		require.Error(t, err, c.accounts)
		assert.Contains(t, err.Error(), c.want)
		assert.Empty(t, rec.All(), "nothing registered")
	}
}

// Review #1: the account's CodeBuild credential for GitHub, through a CodeConnections
// connection, which the stacks' runner webhooks need.
func TestRunnerConnection(t *testing.T) {
	rec := runBootstrap(t)
	conn := rec.Must(t, "aws:codeconnections/connection:Connection", "github")
	assert.Equal(t, "GitHub", conn.Input("providerType"))
	cred := rec.Must(t, "aws:codebuild/sourceCredential:SourceCredential", "github")
	assert.Equal(t, "CODECONNECTIONS", cred.Input("authType"))
	assert.Equal(t, "GITHUB", cred.Input("serverType"))
	assert.Contains(t, cred.Input("token"), "connection", "the connection's ARN")
}
