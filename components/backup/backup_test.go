package backup

import (
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

const dbARN = "arn:aws:rds:us-west-2:123456789012:db:app"

func baseArgs() Args {
	return Args{Region: "us-west-2", ResourceARNs: []pulumi.StringInput{pulumi.String(dbARN)}}
}

// run creates the component; withCopy adds a provider for a second region first.
func run(args Args, withCopy bool) (*mocktest.Recorder, error) {
	return mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		if withCopy {
			p, err := aws.NewProvider(ctx, "dr", &aws.ProviderArgs{Region: pulumi.String("us-east-2")})
			if err != nil {
				return err
			}
			args.CopyProvider, args.CopyRegion = p, "us-east-2"
		}
		_, err := New(ctx, "bk", args)
		return err
	})
}

func mustRun(t *testing.T, args Args, withCopy bool) *mocktest.Recorder {
	t.Helper()
	rec, err := run(args, withCopy)
	require.NoError(t, err)
	return rec
}

func rulesOf(t *testing.T, rec *mocktest.Recorder) map[string]map[string]any {
	t.Helper()
	plan := rec.Must(t, "aws:backup/plan:Plan", "bk")
	out := map[string]map[string]any{}
	for _, r := range plan.Input("rules").([]any) {
		m := r.(map[string]any)
		out[m["ruleName"].(string)] = m
	}
	return out
}

func TestDailyOnlyByDefault(t *testing.T) {
	rec := mustRun(t, baseArgs(), false)
	rules := rulesOf(t, rec)
	require.Len(t, rules, 1)
	assert.Equal(t, "cron(0 1 ? * * *)", rules["daily"]["schedule"], "01:00 UTC, clear of the default RDS windows")
	assert.Equal(t, map[string]any{"deleteAfter": 7.0}, rules["daily"]["lifecycle"])
	assert.Nil(t, rules["daily"]["copyActions"])
	assert.Empty(t, rec.OfType("aws:backup/vaultLockConfiguration:VaultLockConfiguration"))
	assert.Empty(t, rec.OfType("aws:backup/restoreTestingPlan:RestoreTestingPlan"))

	vault := rec.Must(t, "aws:backup/vault:Vault", "bk")
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:bk-vault", vault.Input("kmsKeyArn"))
	sel := rec.Must(t, "aws:backup/selection:Selection", "bk")
	assert.Equal(t, []any{dbARN}, sel.Input("resources"))
	role, _ := rec.Named("aws:iam/role:Role", "bk-backup")
	assert.Len(t, role.Input("managedPolicyArns"), 2)
}

func TestProductionPlanWithCopiesLockAndRestoreTests(t *testing.T) {
	args := baseArgs()
	args.DailyRetentionDays, args.WeeklyRetentionDays, args.MonthlyRetentionDays = 35, 90, 365
	args.VaultLock, args.RestoreTesting, args.Protect = LockGovernance, true, true
	args.StartHourUTC = pulumi.IntRef(22)
	args.RDSRestoreTarget = &RDSRestoreTarget{DBSubnetGroupName: pulumi.String("db-subnets"), SecurityGroupID: pulumi.String("sg-db")}
	rec := mustRun(t, args, true)

	rules := rulesOf(t, rec)
	require.Len(t, rules, 3)
	assert.Equal(t, "cron(0 22 ? * SUN *)", rules["weekly"]["schedule"])
	assert.Equal(t, "cron(0 22 1 * ? *)", rules["monthly"]["schedule"])
	for name, r := range rules {
		copies := r["copyActions"].([]any)
		require.Len(t, copies, 1, name)
		c := copies[0].(map[string]any)
		assert.Equal(t, "arn:aws:backup:us-west-2:123456789012:bk-us-east-2", c["destinationVaultArn"], "%s copies to the DR vault", name)
		assert.Equal(t, r["lifecycle"], c["lifecycle"], "%s copies are kept as long as the originals", name)
	}

	copyVault := rec.Must(t, "aws:backup/vault:Vault", "bk-us-east-2")
	assert.Contains(t, copyVault.Provider, "pulumi:providers:aws::dr::", "the DR vault lives in the second region")
	assert.True(t, copyVault.Protect && copyVault.RetainOnDelete)

	locks := rec.OfType("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
	require.Len(t, locks, 2, "both vaults are locked")
	for _, lock := range locks {
		assert.EqualValues(t, 35, lock.Input("minRetentionDays"), lock.Name)
		assert.EqualValues(t, 365, lock.Input("maxRetentionDays"), lock.Name)
		assert.Nil(t, lock.Input("changeableForDays"), "governance mode stays changeable")
		assert.False(t, lock.Protect, "retention changes replace the lock")
		assert.True(t, lock.DeleteBeforeReplace, "the old lock goes first: both are keyed by the vault")
	}
	assert.Equal(t, "22:00-23:00", args.StartWindow())

	plan := rec.Must(t, "aws:backup/restoreTestingPlan:RestoreTestingPlan", "bk")
	assert.Equal(t, "bk_restore_test", plan.Input("name"))
	sel := rec.Must(t, "aws:backup/restoreTestingSelection:RestoreTestingSelection", "bk-rds")
	assert.Equal(t, "RDS", sel.Input("protectedResourceType"))
	assert.Equal(t, []any{dbARN}, sel.Input("protectedResourceArns"))
	assert.Equal(t, map[string]any{"dbSubnetGroupName": "db-subnets", "vpcSecurityGroupIds": `["sg-db"]`}, sel.Input("restoreMetadataOverrides"))
}

func TestComplianceLockHasGracePeriod(t *testing.T) {
	args := baseArgs()
	args.VaultLock = LockCompliance
	locks := mustRun(t, args, false).OfType("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
	require.Len(t, locks, 1)
	assert.EqualValues(t, 3, locks[0].Input("changeableForDays"))
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"no resources": {func(a *Args) { a.ResourceARNs = nil }, "ResourceARNs: must list at least one resource"},
		"weekly":       {func(a *Args) { a.WeeklyRetentionDays = 3 }, "WeeklyRetentionDays: 3 keeps a weekly point for less than a week"},
		"monthly":      {func(a *Args) { a.MonthlyRetentionDays = 14 }, "MonthlyRetentionDays: 14 keeps a monthly point for less than a month"},
		"lock":         {func(a *Args) { a.VaultLock = "legal-hold" }, `VaultLock: "legal-hold" is not allowed`},
		"copy region":  {func(a *Args) { a.CopyRegion = "us-east-2" }, "CopyRegion: CopyProvider and CopyRegion go together"},
		"hour":         {func(a *Args) { a.StartHourUTC = pulumi.IntRef(24) }, "StartHourUTC: 24 is out of range; allowed 0 to 23"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args, false)
			rec.Refused(t, err, `invalid backup args for "bk"`, c.want)
		})
	}
}
