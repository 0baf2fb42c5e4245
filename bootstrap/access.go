package main

import (
	"strings"

	"github.com/scalemate/infra/internal/iampolicy"
)

// account is where the bootstrap runs: every ARN the pipeline's policies name is in it.
type account struct{ Partition, ID string }

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
// flow-log, backup, RDS roles). It grants nothing by itself; it caps: no IAM beyond reading and
// service-linked roles, no organization or account changes, no assuming other roles, and nothing
// on another environment's resources. A role the pipeline creates can therefore never be more
// than a workload role, whatever policy is attached to it.
func boundaryPolicy(a account, env string) string {
	return iampolicy.Document{Version: "2012-10-17", Statement: append([]iampolicy.Statement{
		{Sid: "Workloads", Effect: "Allow", NotAction: []string{"iam:*", "organizations:*", "account:*", "sts:AssumeRole"}, Resource: "*"},
		{Sid: "IAMRead", Effect: "Allow", Action: []string{"iam:Get*", "iam:List*", "iam:CreateServiceLinkedRole"}, Resource: "*"},
		{Sid: "PassOwnRoles", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: a.arn("iam", "role/scalemate-"+env+"-*")},
	}, otherEnvironment(env)...)}.JSON()
}

// deployAccess is what a deploy role adds to PowerUserAccess (which excludes IAM):
//   - read and write its own stack's state and decrypt with the key;
//   - create and change only its own environment's roles (the program names them
//     scalemate-<env>-...), and only with the environment's permissions boundary on them;
//   - explicitly denied, anything that would let it escape: removing or rewriting a boundary, the
//     GitHub roles, the state bucket's configuration, the key's administration, and any resource
//     another environment's stack tagged.
func deployAccess(a account, env, bucketARN, keyARN string) string {
	stack := "scalemate/" + env
	role := a.arn("iam", "role/scalemate-"+env+"-*")
	withBoundary := iampolicy.Condition{"StringEquals": {"iam:PermissionsBoundary": a.arn("iam", "policy/"+BoundaryName(env))}}
	return iampolicy.Document{Version: "2012-10-17", Statement: append([]iampolicy.Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketVersioning"}, Resource: bucketARN},
		{Sid: "ReadAllStateMeta", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: bucketARN + "/.pulumi/meta.yaml"},
		{Sid: "OwnState", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: []string{
			bucketARN + "/.pulumi/stacks/" + stack + ".json*", bucketARN + "/.pulumi/history/" + stack + "/*",
			bucketARN + "/.pulumi/backups/" + stack + "/*", bucketARN + "/.pulumi/locks/*/" + stack + "/*",
		}},
		{Sid: "StateKey", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, Resource: keyARN},
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
		{Sid: "BoundaryStays", Effect: "Deny", Action: []string{"iam:DeleteRolePermissionsBoundary"}, Resource: "*"},
		{Sid: "BoundaryUnchanged", Effect: "Deny", Resource: a.arn("iam", "policy/scalemate-*-boundary"), Action: []string{
			"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
		}},
		{Sid: "NoEscape", Effect: "Deny", Action: []string{"iam:*"}, Resource: a.arn("iam", "role/scalemate-github-*")},
		{Sid: "NoStateBucketChanges", Effect: "Deny", Action: []string{"s3:PutBucket*", "s3:DeleteBucket*", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"}, Resource: bucketARN},
		{Sid: "NoKeyAdmin", Effect: "Deny", Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:RevokeGrant"}, Resource: keyARN},
	}, otherEnvironment(env)...)}.JSON()
}

// previewAccess is what a preview role adds to ReadOnlyAccess: read its own stack's state and
// take the stack's lock (its only write), decrypt the stack's secrets, and read the values of its
// environment's Secrets Manager secrets, which a refresh of their versions reads back (the drift
// job). Its Kubernetes access (server-side dry-run, no write) is the environment stack's access
// entry.
func previewAccess(a account, env, bucketARN, keyARN string) string {
	stack := "scalemate/" + env
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: bucketARN},
		{Sid: "ReadState", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{
			bucketARN + "/.pulumi/meta.yaml", bucketARN + "/.pulumi/stacks/" + stack + ".json",
		}},
		{Sid: "StackLock", Effect: "Allow", Action: []string{"s3:PutObject", "s3:DeleteObject"}, Resource: bucketARN + "/.pulumi/locks/*/" + stack + "/*"},
		{Sid: "StateKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:DescribeKey"}, Resource: keyARN},
		{Sid: "OwnSecrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: "arn:" + a.Partition + ":secretsmanager:*:" + a.ID + ":secret:scalemate-" + env + "*"},
		{Sid: "OwnSecretsKeys", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: "*", Condition: iampolicy.Condition{
			"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}, "StringEquals": {"kms:CallerAccount": a.ID},
		}},
	}}.JSON()
}

// stateGuards are the state bucket's per-environment statements: of the pipeline's roles
// (scalemate-github-*), only environment env's own (deploy-env, preview-env) read or write env's
// state; PowerUserAccess and ReadOnlyAccess alone reach every object of the bucket, so the dev
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
				"ArnLike":    {"aws:PrincipalArn": a.arn("iam", "role/"+githubRoleName("*"))},
				"ArnNotLike": {"aws:PrincipalArn": a.arn("iam", "role/"+githubRoleName("*-"+env))},
			},
		})
	}
	return out
}
