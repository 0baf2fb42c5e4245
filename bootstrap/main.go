// Command bootstrap is the Pulumi program for what the ScaleMate stacks stand on, created once
// per AWS account: an S3 state bucket (versioned, KMS-encrypted, public access blocked, TLS
// only, old versions expired), the GitHub Actions OIDC provider, the GitHub connection the
// stacks' in-VPC CodeBuild runners use, and per environment a secrets key (the stacks' secrets
// provider, awskms://alias/scalemate-<env>-secrets), a permissions boundary, a deploy role
// (assumable only by workflows running in that GitHub environment) and a read-only preview role
// for pull requests and drift checks.
package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/codebuild"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/codeconnections"
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
	// StateKeyAlias is the state bucket's key.
	StateKeyAlias = "alias/scalemate-pulumi"
	// NoncurrentStateDays keeps old state versions this long (state history for rollbacks).
	NoncurrentStateDays = 90
)

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

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
	var accounts map[string]string
	_ = cfg.TryObject("accounts", &accounts)
	// Invokes run before any resource: a wrong account registers nothing.
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the caller's account: %w", err)
	}
	envs, err = hostedEnvironments(envs, accounts, caller.AccountId)
	if err != nil {
		return err
	}
	acct := account{Partition: strings.Split(caller.Arn, ":")[1], ID: caller.AccountId}
	keep := []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}

	key, err := kms.NewKey(ctx, "pulumi", &kms.KeyArgs{
		Description:       pulumi.String("Pulumi state bucket of ScaleMate"),
		EnableKeyRotation: pulumi.Bool(true), DeletionWindowInDays: pulumi.Int(30),
	}, keep...)
	if err != nil {
		return err
	}
	if _, err := kms.NewAlias(ctx, "pulumi", &kms.AliasArgs{Name: pulumi.String(StateKeyAlias), TargetKeyId: key.KeyId}); err != nil {
		return err
	}

	bucket, err := stateBucket(ctx, key, acct, envs)
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
	github, err := runnerConnection(ctx)
	if err != nil {
		return err
	}
	// One secrets key per environment: a stack's secrets (its config's data key, its state's
	// secrets) are readable only by that environment's roles. The shared key encrypts the state
	// bucket and is usable through S3 only.
	envKeys := map[string]*kms.Key{}
	var envKeyARNs []any
	for _, env := range envs {
		k, err := kms.NewKey(ctx, "secrets-"+env, &kms.KeyArgs{
			Description:       pulumi.String("Pulumi stack secrets of the ScaleMate " + env + " environment"),
			EnableKeyRotation: pulumi.Bool(true), DeletionWindowInDays: pulumi.Int(30),
		}, keep...)
		if err != nil {
			return err
		}
		if _, err := kms.NewAlias(ctx, "secrets-"+env, &kms.AliasArgs{Name: pulumi.String(SecretsAlias(env)), TargetKeyId: k.KeyId}); err != nil {
			return err
		}
		envKeys[env] = k
		envKeyARNs = append(envKeyARNs, k.Arn)
	}
	// What every policy names: the bucket, the state key and each environment's secrets key.
	pipeline := pulumi.All(append([]any{bucket.Arn, key.Arn}, envKeyARNs...)...).ApplyT(func(v []any) shared {
		sh := shared{Bucket: v[0].(string), StateKey: v[1].(string), SecretsKeys: map[string]string{}}
		for i, env := range envs {
			sh.SecretsKeys[env] = v[2+i].(string)
		}
		return sh
	})
	document := func(f func(shared) string) pulumi.StringOutput {
		return pipeline.ApplyT(func(v any) string { return f(v.(shared)) }).(pulumi.StringOutput)
	}
	deployRoles, previewRoles, boundaries, providers := pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}
	for _, env := range envs {
		boundary, err := iam.NewPolicy(ctx, "boundary-"+env, &iam.PolicyArgs{
			Name:        pulumi.String(BoundaryName(env)),
			Description: pulumi.String("Permissions boundary of every role the " + env + " pipeline creates"),
			Policy:      document(func(sh shared) string { return boundaryPolicy(acct, env, envs, sh) }),
		})
		if err != nil {
			return fmt.Errorf("creating the %s permissions boundary: %w", env, err)
		}
		boundaries[env] = boundary.Arn
		// Only a workflow job running in GitHub environment <env> gets this sub claim; prod's
		// environment carries the required reviewers and allows the main branch only.
		role, err := githubRole(ctx, "deploy-"+env, oidc.Arn, "repo:"+repo+":environment:"+env,
			"ScaleMate "+env+" deployments from GitHub Actions", []string{"PowerUserAccess"},
			document(func(sh shared) string { return deployAccess(acct, env, envs, sh) }))
		if err != nil {
			return err
		}
		deployRoles[env] = role.Arn
		// One preview role per environment, so a pull request's preview of dev reads nothing of
		// prod; it is assumable from the <env>-preview GitHub environment only.
		preview, err := githubRole(ctx, "preview-"+env, oidc.Arn, "repo:"+repo+":environment:"+env+"-preview",
			"ScaleMate "+env+" pull-request previews and drift checks (read-only)", []string{"ReadOnlyAccess"},
			document(func(sh shared) string { return previewAccess(acct, env, sh) }))
		if err != nil {
			return err
		}
		previewRoles[env] = preview.Arn
		providers[env] = pulumi.String("awskms://" + SecretsAlias(env))
	}

	ctx.Export("accountId", pulumi.String(acct.ID))
	ctx.Export("stateBucket", bucket.Bucket)
	ctx.Export("backendUrl", pulumi.Sprintf("s3://%s", bucket.Bucket))
	ctx.Export("secretsProviders", providers)
	ctx.Export("deployRoleArns", deployRoles)
	ctx.Export("previewRoleArns", previewRoles)
	ctx.Export("permissionsBoundaryArns", boundaries)
	ctx.Export("githubConnectionArn", github.Arn)
	return nil
}

// SecretsAlias is the alias of environment env's secrets key: its stacks use
// --secrets-provider awskms://<alias>.
func SecretsAlias(env string) string { return "alias/scalemate-" + env + "-secrets" }

// runnerConnection is how CodeBuild reaches GitHub for the stacks' in-VPC runners: a
// CodeConnections connection (a GitHub App installation; it stays PENDING until someone
// completes the handshake in the console once) and the account's CodeBuild source credential
// for GitHub that uses it. CodeBuild allows one credential per server type and region, hence here
// and not per stack. The stacks' runner webhooks fail until the connection is AVAILABLE.
func runnerConnection(ctx *pulumi.Context) (*codeconnections.Connection, error) {
	conn, err := codeconnections.NewConnection(ctx, "github", &codeconnections.ConnectionArgs{
		Name: pulumi.String("scalemate-github"), ProviderType: pulumi.String("GitHub"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the GitHub connection: %w", err)
	}
	if _, err := codebuild.NewSourceCredential(ctx, "github", &codebuild.SourceCredentialArgs{
		AuthType: pulumi.String("CODECONNECTIONS"), ServerType: pulumi.String("GITHUB"), Token: conn.Arn,
	}); err != nil {
		return nil, fmt.Errorf("creating CodeBuild's GitHub credential: %w", err)
	}
	return conn, nil
}

// hostedEnvironments is the environments this account's bootstrap creates roles for. With
// `accounts` (environment -> account id, one account per environment) they are those mapped to
// the caller's account; an environment listed in `environments` but mapped elsewhere is refused,
// so a prod role is never created in the dev account.
func hostedEnvironments(envs []string, accounts map[string]string, callerAccount string) ([]string, error) {
	if len(accounts) == 0 {
		return envs, nil
	}
	var hosted []string
	for _, env := range envs {
		id, ok := accounts[env]
		if !ok {
			return nil, fmt.Errorf("scalemate-bootstrap:accounts: environment %q has no account id; add it or remove it from environments", env)
		}
		if !accountIDRE.MatchString(id) {
			return nil, fmt.Errorf("scalemate-bootstrap:accounts.%s: %q is not a 12-digit AWS account id", env, id)
		}
		if id == callerAccount {
			hosted = append(hosted, env)
		}
	}
	if len(hosted) == 0 {
		return nil, fmt.Errorf("scalemate-bootstrap:accounts: no environment is mapped to this account (%s); run the bootstrap with credentials of one of %v",
			callerAccount, slices.Sorted(maps.Values(accounts)))
	}
	return hosted, nil
}

// stateBucket is the versioned, KMS-encrypted, private, TLS-only bucket that holds state. Its
// policy lets a pipeline role write only its own stack's state (PowerUserAccess alone would let
// the dev pipeline overwrite prod's).
func stateBucket(ctx *pulumi.Context, key *kms.Key, a account, envs []string) (*s3.BucketV2, error) {
	b, err := s3bucket.New(ctx, "state", s3bucket.Args{
		Prefix: "scalemate-pulumi-state-", KMSKeyARN: key.Arn, NoncurrentDays: NoncurrentStateDays, Protect: true,
		DeferPolicy: true,
	})
	if err != nil {
		return nil, err
	}
	guards := b.BucketV2.Arn.ApplyT(func(arn string) []iampolicy.Statement { return stateGuards(a, envs, arn) })
	if _, err := s3bucket.Policy(ctx, "state", b, guards, pulumi.Protect(true), pulumi.RetainOnDelete(true)); err != nil {
		return nil, err
	}
	return b.BucketV2, nil
}

// githubRoleName is the IAM name of a pipeline role (deploy-<env>, preview-<env>).
func githubRoleName(name string) string { return "scalemate-github-" + name }

// githubRole is a role that GitHub Actions jobs whose OIDC subject matches sub may assume.
func githubRole(ctx *pulumi.Context, name string, provider pulumi.StringOutput, sub, description string,
	managed []string, access pulumi.StringOutput,
) (*iam.Role, error) {
	trust := provider.ApplyT(func(arn string) string {
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
			Effect: "Allow", Principal: map[string]any{"Federated": arn},
			Action: []string{"sts:AssumeRoleWithWebIdentity"},
			Condition: iampolicy.Condition{
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
		Name: pulumi.String(githubRoleName(name)), Description: pulumi.String(description),
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
