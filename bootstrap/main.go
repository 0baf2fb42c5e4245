// Command bootstrap is the Pulumi program for what the ScaleMate stacks stand on, created once
// per AWS account: an S3 state bucket (versioned, KMS-encrypted, public access blocked, TLS
// only, old versions expired), the KMS key the stacks use as their secrets provider
// (awskms://alias/scalemate-pulumi), the GitHub Actions OIDC provider, and per environment a
// deploy role (assumable only by workflows running in that GitHub environment) plus one
// read-only preview role for pull requests.
package main

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/s3bucket"
)

const (
	githubIssuer = "token.actions.githubusercontent.com"
	// SecretsKeyAlias is what the stacks pass to --secrets-provider awskms://alias/...
	SecretsKeyAlias = "alias/scalemate-pulumi"
	// NoncurrentStateDays keeps old state versions this long (state history for rollbacks).
	NoncurrentStateDays = 90
)

// SessionSeconds is how long the pipeline's role sessions last (the workflows ask for it with
// role-duration-seconds).
const SessionSeconds = 4 * 3600

func main() { pulumi.Run(run) }

func run(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	repo := cfg.Require("githubRepository")
	var envs []string
	if err := cfg.TryObject("environments", &envs); err != nil || len(envs) == 0 {
		envs = []string{"dev", "staging", "prod"}
	}
	keep := []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}

	key, err := kms.NewKey(ctx, "pulumi", &kms.KeyArgs{
		Description:       pulumi.String("Pulumi state bucket and stack secrets of ScaleMate"),
		EnableKeyRotation: pulumi.Bool(true), DeletionWindowInDays: pulumi.Int(30),
	}, keep...)
	if err != nil {
		return err
	}
	if _, err := kms.NewAlias(ctx, "pulumi", &kms.AliasArgs{Name: pulumi.String(SecretsKeyAlias), TargetKeyId: key.KeyId}); err != nil {
		return err
	}

	bucket, err := stateBucket(ctx, key)
	if err != nil {
		return err
	}

	oidc, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
		Url:           pulumi.String("https://" + githubIssuer),
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
	})
	if err != nil {
		return err
	}
	roles := pulumi.StringMap{}
	for _, env := range envs {
		env := env
		// Only a workflow job running in GitHub environment <env> gets this sub claim; prod's
		// environment carries the required reviewers and allows the main branch only.
		access := pulumi.All(bucket.Arn, key.Arn).ApplyT(func(v []any) string {
			return deployAccess(env, v[0].(string), v[1].(string))
		}).(pulumi.StringOutput)
		role, err := githubRole(ctx, "deploy-"+env, oidc.Arn, "repo:"+repo+":environment:"+env,
			"ScaleMate "+env+" deployments from GitHub Actions", []string{"PowerUserAccess"}, access)
		if err != nil {
			return err
		}
		roles[env] = role.Arn
	}
	readOnly := pulumi.All(bucket.Arn, key.Arn).ApplyT(func(v []any) string {
		return previewAccess(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
	preview, err := githubRole(ctx, "preview", oidc.Arn, "repo:"+repo+":environment:*-preview",
		"ScaleMate pull-request previews and drift checks (read-only)", []string{"ReadOnlyAccess"}, readOnly)
	if err != nil {
		return err
	}

	ctx.Export("stateBucket", bucket.Bucket)
	ctx.Export("backendUrl", pulumi.Sprintf("s3://%s", bucket.Bucket))
	ctx.Export("secretsProvider", pulumi.String("awskms://"+SecretsKeyAlias))
	ctx.Export("deployRoleArns", roles)
	ctx.Export("previewRoleArn", preview.Arn)
	return nil
}

// stateBucket is the versioned, KMS-encrypted, private, TLS-only bucket that holds state.
func stateBucket(ctx *pulumi.Context, key *kms.Key) (*s3.BucketV2, error) {
	b, err := s3bucket.New(ctx, "state", s3bucket.Args{
		Prefix: "scalemate-pulumi-state-", KMSKeyARN: key.Arn, Versioning: true, NoncurrentDays: NoncurrentStateDays, Protect: true,
	})
	if err != nil {
		return nil, err
	}
	return b.BucketV2, nil
}

// deployAccess is what a deploy role adds to PowerUserAccess (which excludes IAM): read and
// write its own stack's state and decrypt with the key; manage only its own environment's IAM
// roles (the program names them scalemate-<env>-...); and, explicitly denied, anything that
// would let it escape: the GitHub roles, the state bucket's configuration, the key's
// administration.
func deployAccess(env, bucketARN, keyARN string) string {
	stack := "scalemate/" + env
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Sid: "ListState", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketVersioning"}, Resource: bucketARN},
		{Sid: "ReadAllStateMeta", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: bucketARN + "/.pulumi/meta.yaml"},
		{Sid: "OwnState", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: []string{
			bucketARN + "/.pulumi/stacks/" + stack + ".json*", bucketARN + "/.pulumi/history/" + stack + "/*",
			bucketARN + "/.pulumi/backups/" + stack + "/*", bucketARN + "/.pulumi/locks/*",
		}},
		{Sid: "StateKey", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, Resource: keyARN},
		{Sid: "OwnIAM", Effect: "Allow",
			Action:   []string{"iam:*Role*", "iam:*RolePolicy*", "iam:PassRole", "iam:TagRole", "iam:UntagRole"},
			Resource: "arn:aws:iam::*:role/scalemate-" + env + "-*"},
		{Sid: "ClusterOIDC", Effect: "Allow", Action: []string{"iam:*OpenIDConnectProvider*"}, Resource: "arn:aws:iam::*:oidc-provider/oidc.eks.*"},
		{Sid: "NoEscape", Effect: "Deny", Action: []string{"iam:*"}, Resource: "arn:aws:iam::*:role/scalemate-github-*"},
		{Sid: "NoStateBucketChanges", Effect: "Deny", Action: []string{"s3:PutBucket*", "s3:DeleteBucket*", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration"}, Resource: bucketARN},
		{Sid: "NoKeyAdmin", Effect: "Deny", Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:RevokeGrant"}, Resource: keyARN},
	}}.JSON()
}

// previewAccess lets previews read every stack's state and take locks, nothing more.
func previewAccess(bucketARN, keyARN string) string {
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: bucketARN},
		{Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: bucketARN + "/*"},
		{Effect: "Allow", Action: []string{"s3:PutObject", "s3:DeleteObject"}, Resource: bucketARN + "/.pulumi/locks/*"},
		{Effect: "Allow", Action: []string{"kms:Decrypt", "kms:DescribeKey"}, Resource: keyARN},
	}}.JSON()
}

// githubRole is a role that GitHub Actions jobs whose OIDC subject matches sub may assume.
func githubRole(ctx *pulumi.Context, name string, provider pulumi.StringOutput, sub, description string,
	managed []string, access pulumi.StringOutput,
) (*iam.Role, error) {
	trust := provider.ApplyT(func(arn string) string {
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
			Effect: "Allow", Principal: map[string]any{"Federated": arn},
			Action: []string{"sts:AssumeRoleWithWebIdentity"},
			Condition: map[string]map[string]string{
				"StringEquals": {githubIssuer + ":aud": "sts.amazonaws.com"},
				"StringLike":   {githubIssuer + ":sub": sub},
			},
		}}}.JSON()
	}).(pulumi.StringOutput)
	var arns pulumi.StringArray
	for _, m := range managed {
		arns = append(arns, pulumi.String(iampolicy.ManagedPolicyARN("aws", m)))
	}
	inline := iam.RoleInlinePolicyArray{iam.RoleInlinePolicyArgs{Name: pulumi.String("scalemate-access"), Policy: access}}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name: pulumi.String("scalemate-github-" + name), Description: pulumi.String(description),
		AssumeRolePolicy: trust, ManagedPolicyArns: arns, InlinePolicies: inline,
		// Four hours: a fresh staging or prod `up` (RDS Multi-AZ and its replica, cluster-mode
		// ElastiCache, EKS and its node groups, the previews with packs) can outlast one, and
		// credentials that expire mid-update leave pending operations in the state.
		MaxSessionDuration: pulumi.Int(SessionSeconds),
	})
	if err != nil {
		return nil, fmt.Errorf("creating role %s: %w", name, err)
	}
	return role, nil
}
