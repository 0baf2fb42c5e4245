package main

import (
	"maps"
	"slices"
	"strings"

	"github.com/scalemate/infra/internal/iampolicy"
)

// account is where the bootstrap runs: every ARN the pipeline's policies name is in it.
type account struct{ Partition, ID string }

// shared is what the pipeline's policies name: the state bucket, the key that encrypts it, and
// each environment's secrets key.
type shared struct {
	Bucket, StateKey string
	SecretsKeys      map[string]string
}

// keys are every pipeline key.
func (sh shared) keys() []string {
	out := []string{sh.StateKey}
	for _, env := range slices.Sorted(maps.Keys(sh.SecretsKeys)) {
		out = append(out, sh.SecretsKeys[env])
	}
	return out
}

// otherBuckets denies env's roles the buckets of the account's other environments (named
// scalemate-<env>-...): S3 does not evaluate resource tags for buckets.
func otherBuckets(env string, envs []string) []iampolicy.Statement {
	var arns []string
	for _, other := range envs {
		if other != env {
			arns = append(arns, "arn:aws:s3:::scalemate-"+other+"-*", "arn:aws:s3:::scalemate-"+other+"-*/*")
		}
	}
	if len(arns) == 0 {
		return nil
	}
	return []iampolicy.Statement{{Sid: "NotOtherEnvironmentBuckets", Effect: "Deny", Action: []string{"s3:*"}, Resource: arns}}
}

// otherSecretsKeys are the secrets keys of the account's other environments.
func otherSecretsKeys(env string, sh shared) []string {
	var out []string
	for _, other := range slices.Sorted(maps.Keys(sh.SecretsKeys)) {
		if other != env {
			out = append(out, sh.SecretsKeys[other])
		}
	}
	return out
}

// viaS3 limits a key to what S3 does with it (the state bucket's encryption).
var viaS3 = iampolicy.Condition{"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}

func (a account) arn(service, resource string) string {
	return "arn:" + a.Partition + ":" + service + "::" + a.ID + ":" + resource
}

// BoundaryName is the permissions boundary every role of environment env must carry; the
// environment stacks set it on each role they create (infra's role transformation).
func BoundaryName(env string) string { return "scalemate-" + env + "-boundary" }

// otherEnvironment denies touching what another environment's stack tagged (default tags give
// every resource `Environment`), for environments that share an account.
func otherEnvironment(env string) []iampolicy.Statement {
	return []iampolicy.Statement{
		{Sid: "NotOtherEnvironments", Effect: "Deny", Action: []string{"*"}, Resource: "*", Condition: iampolicy.Condition{
			"StringNotEquals": {"aws:ResourceTag/Environment": env}, "Null": {"aws:ResourceTag/Environment": "false"},
		}},
		{Sid: "NoOtherEnvironmentTags", Effect: "Deny", Action: []string{"*"}, Resource: "*", Condition: iampolicy.Condition{
			"StringNotEquals": {"aws:RequestTag/Environment": env}, "Null": {"aws:RequestTag/Environment": "false"},
		}},
	}
}

// boundaryPolicy is the ceiling of every role the env pipeline creates (IRSA, node, cluster,
// flow-log, backup, RDS, runner roles). It grants nothing by itself; it caps: no IAM beyond
// reading and service-linked roles, no organization or account changes, no assuming other roles,
// nothing of the pipeline's own (state, its keys), and nothing of another environment (tagged
// resources, its buckets). A role the pipeline creates can therefore never be more than a
// workload role, whatever policy is attached to it.
func boundaryPolicy(a account, env string, envs []string, sh shared) string {
	statements := []iampolicy.Statement{
		{Sid: "Workloads", Effect: "Allow", NotAction: []string{"iam:*", "organizations:*", "account:*", "sts:AssumeRole"}, Resource: "*"},
		{Sid: "IAMRead", Effect: "Allow", Action: []string{"iam:Get*", "iam:List*", "iam:CreateServiceLinkedRole"}, Resource: "*"},
		{Sid: "PassOwnRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: a.arn("iam", "role/scalemate-"+env+"-*")},
		{Sid: "NotTheState", Effect: "Deny", Action: []string{"s3:*"}, Resource: []string{sh.Bucket, sh.Bucket + "/*"}},
		{Sid: "NotThePipelineKeys", Effect: "Deny", Action: []string{"kms:*"}, Resource: sh.keys()},
	}
	statements = append(statements, otherBuckets(env, envs)...)
	return iampolicy.Document{Version: "2012-10-17", Statement: append(statements, otherEnvironment(env)...)}.JSON()
}

// adminPolicies are AWS managed policies no role the pipeline creates may carry.
var adminPolicies = []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "*FullAccess"}

// deployAccess is what a deploy role adds to PowerUserAccess (which excludes IAM):
//   - read and write its own stack's state (the state key through S3 only) and use its
//     environment's secrets key;
//   - create and change only its own environment's roles (the program names them
//     scalemate-<env>-...), only with the environment's permissions boundary on them, and never
//     with an administrator policy;
//   - explicitly denied, anything that would let it escape: removing or rewriting a boundary, the
//     GitHub roles, the state bucket's configuration, the keys' administration, another
//     environment's buckets and any resource another environment's stack tagged.
func deployAccess(a account, env string, envs []string, sh shared) string {
	stack := "scalemate/" + env
	role := a.arn("iam", "role/scalemate-"+env+"-*")
	withBoundary := iampolicy.Condition{"StringEquals": {"iam:PermissionsBoundary": a.arn("iam", "policy/"+BoundaryName(env))}}
	var admin []string
	for _, p := range adminPolicies {
		admin = append(admin, iampolicy.ManagedPolicyARN(a.Partition, p))
	}
	statements := []iampolicy.Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketVersioning"}, Resource: sh.Bucket},
		{Sid: "ReadAllStateMeta", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: sh.Bucket + "/.pulumi/meta.yaml"},
		{Sid: "OwnState", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: []string{
			sh.Bucket + "/.pulumi/stacks/" + stack + ".json*", sh.Bucket + "/.pulumi/history/" + stack + "/*",
			sh.Bucket + "/.pulumi/backups/" + stack + "/*", sh.Bucket + "/.pulumi/locks/*/" + stack + "/*",
		}},
		{Sid: "StateKeyThroughS3", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, Resource: sh.StateKey, Condition: viaS3},
		{Sid: "OwnSecretsKey", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, Resource: sh.SecretsKeys[env]},
		{Sid: "RolesWithBoundary", Effect: "Allow", Resource: role, Condition: withBoundary, Action: []string{
			"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
			"iam:PutRolePolicy", "iam:DeleteRolePolicy",
		}},
		{Sid: "OwnRoles", Effect: "Allow", Resource: role, Action: []string{
			"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags",
			"iam:ListInstanceProfilesForRole", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole",
			"iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
		}},
		{Sid: "ClusterOIDC", Effect: "Allow", Action: []string{
			"iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
			"iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
			"iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
		}, Resource: a.arn("iam", "oidc-provider/oidc.eks.*")},
		{Sid: "NoAdminPolicies", Effect: "Deny", Action: []string{"iam:AttachRolePolicy"}, Resource: "*",
			Condition: iampolicy.Condition{"ArnLike": {"iam:PolicyARN": admin}}},
		{Sid: "BoundaryStays", Effect: "Deny", Action: []string{"iam:DeleteRolePermissionsBoundary"}, Resource: "*"},
		{Sid: "BoundaryUnchanged", Effect: "Deny", Resource: a.arn("iam", "policy/scalemate-*-boundary"), Action: []string{
			"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
		}},
		{Sid: "NoEscape", Effect: "Deny", Action: []string{"iam:*"}, Resource: a.arn("iam", "role/scalemate-github-*")},
		{Sid: "NoStateBucketChanges", Effect: "Deny", Action: []string{"s3:PutBucket*", "s3:DeleteBucket*", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"}, Resource: sh.Bucket},
		{Sid: "NoKeyAdmin", Effect: "Deny", Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:RevokeGrant"}, Resource: sh.keys()},
		// PowerUserAccess reaches every key: the state key only through S3, other
		// environments' secrets keys not at all.
		{Sid: "StateKeyOnlyThroughS3", Effect: "Deny", Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
			Resource: sh.StateKey, Condition: iampolicy.Condition{"StringNotLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
	}
	if others := otherSecretsKeys(env, sh); len(others) > 0 {
		statements = append(statements, iampolicy.Statement{Sid: "NotOtherSecretsKeys", Effect: "Deny", Action: []string{"kms:*"}, Resource: others})
	}
	statements = append(statements, otherBuckets(env, envs)...)
	return iampolicy.Document{Version: "2012-10-17", Statement: append(statements, otherEnvironment(env)...)}.JSON()
}

// previewAccess is what a preview role adds to ReadOnlyAccess: read its own stack's state and
// take the stack's lock (its only write), decrypt with its environment's secrets key, and read
// the values of its environment's Secrets Manager secrets, which a refresh of their versions
// reads back (the drift job). Its Kubernetes access (server-side dry-run, no write) is the
// environment stack's access entry.
func previewAccess(a account, env string, sh shared) string {
	stack := "scalemate/" + env
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: sh.Bucket},
		{Sid: "ReadState", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{
			sh.Bucket + "/.pulumi/meta.yaml", sh.Bucket + "/.pulumi/stacks/" + stack + ".json",
		}},
		{Sid: "StackLock", Effect: "Allow", Action: []string{"s3:PutObject", "s3:DeleteObject"}, Resource: sh.Bucket + "/.pulumi/locks/*/" + stack + "/*"},
		{Sid: "StateKeyThroughS3", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, Resource: sh.StateKey, Condition: viaS3},
		{Sid: "OwnSecretsKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:DescribeKey"}, Resource: sh.SecretsKeys[env]},
		{Sid: "OwnSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: "arn:" + a.Partition + ":secretsmanager:*:" + a.ID + ":secret:scalemate-" + env + "*"},
		{Sid: "OwnSecretsKeys", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: "*", Condition: iampolicy.Condition{
			"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}, "StringEquals": {"kms:CallerAccount": a.ID},
		}},
	}}.JSON()
}

// stateGuards are the state bucket's per-environment statements: of the program's roles
// (scalemate-*), only environment env's pipeline roles (deploy-env, preview-env) read or write
// env's state; PowerUserAccess and ReadOnlyAccess alone reach every object of the bucket, so the dev
// pipeline could read prod's state or overwrite it. Humans with their own roles (break-glass)
// are not affected.
func stateGuards(a account, envs []string, bucketARN string) []iampolicy.Statement {
	var out []iampolicy.Statement
	for _, env := range envs {
		stack := "scalemate/" + env
		out = append(out, iampolicy.Statement{
			Sid: "Only" + strings.ToUpper(env[:1]) + env[1:] + "PipelineUsesItsState", Effect: "Deny", Principal: map[string]any{"AWS": "*"},
			Action: []string{"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"},
			Resource: []string{
				bucketARN + "/.pulumi/stacks/" + stack + ".json*", bucketARN + "/.pulumi/history/" + stack + "/*",
				bucketARN + "/.pulumi/backups/" + stack + "/*", bucketARN + "/.pulumi/locks/*/" + stack + "/*",
			},
			Condition: iampolicy.Condition{
				// Every role of the program's (the pipelines' and what they create), not only the
				// GitHub ones: a role the dev pipeline made must not reach prod's state either.
				"ArnLike":    {"aws:PrincipalArn": a.arn("iam", "role/scalemate-*")},
				"ArnNotLike": {"aws:PrincipalArn": a.arn("iam", "role/"+githubRoleName("*-"+env))},
			},
		})
	}
	return out
}
