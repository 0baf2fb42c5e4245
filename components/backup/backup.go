// Package backup is AWS Backup for the data stores beyond their own automated backups: a
// KMS-encrypted vault (optionally locked), a plan with daily, weekly and monthly rules, copies
// to a vault in a second region for disaster recovery, and a restore testing plan that proves
// the backups restore instead of assuming it.
package backup

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/kmskey"
	"github.com/scalemate/infra/internal/validate"
)

// Vault lock modes.
const (
	LockNone = "none"
	// LockGovernance enforces retention bounds; principals with the right IAM permission can
	// still remove the lock.
	LockGovernance = "governance"
	// LockCompliance becomes immutable after a 3-day grace period: nobody, not even the root
	// user, can shorten retention or delete the vault while it holds recovery points.
	LockCompliance = "compliance"
)

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{1,49}$`)

// RDSRestoreTarget is where restore tests put the restored RDS instance (the default VPC may
// not exist). Optional.
type RDSRestoreTarget struct {
	// DBSubnetGroupName is the subnet group of the restored instance.
	DBSubnetGroupName pulumi.StringInput
	// SecurityGroupID is the restored instance's security group.
	SecurityGroupID pulumi.StringInput
}

// Args configures a Backup.
type Args struct {
	// Region is the provider's region. Required.
	Region string
	// ResourceARNs are the resources to back up (RDS instances, ...). Required.
	ResourceARNs []pulumi.StringInput
	// DailyRetentionDays keeps daily recovery points, at least 1. Default 7.
	DailyRetentionDays int
	// WeeklyRetentionDays keeps Sunday recovery points; 0 means no weekly rule.
	WeeklyRetentionDays int
	// MonthlyRetentionDays keeps first-of-month recovery points; 0 means no monthly rule.
	MonthlyRetentionDays int
	// VaultLock is LockNone, LockGovernance or LockCompliance. Default LockNone.
	VaultLock string
	// StartHourUTC is when backup jobs start (0-23, a one-hour start window). AWS Backup does not
	// start a database backup during its maintenance window or the hour before it, nor while
	// the engine's own backup runs: pick an hour clear of both. Default (nil) 1.
	StartHourUTC *int
	// CopyProvider deploys the disaster-recovery vault in a second region; every rule copies
	// there. Default none (no copies).
	CopyProvider pulumi.ProviderResource
	// CopyRegion names CopyProvider's region (for descriptions and validation). Required with
	// CopyProvider.
	CopyRegion string
	// RestoreTesting restores the latest recovery point of each RDS resource weekly and
	// deletes it after the validation window. Default false.
	RestoreTesting bool
	// RDSRestoreTarget places restore-test instances. Recommended with RestoreTesting.
	RDSRestoreTarget *RDSRestoreTarget
	// Protect guards the vaults and keys against deletion by Pulumi and retains them if they
	// leave the program (production). Default false.
	Protect bool
}

// Backup is the component resource.
type Backup struct {
	pulumi.ResourceState

	// VaultARN is the primary vault.
	VaultARN pulumi.StringOutput `pulumi:"vaultArn"`
	// CopyVaultARN is the disaster-recovery vault, empty without copies.
	CopyVaultARN pulumi.StringOutput `pulumi:"copyVaultArn"`
	// PlanID is the backup plan.
	PlanID pulumi.StringOutput `pulumi:"planId"`
}

type rule struct {
	name, schedule string
	days           int
}

func (a Args) withDefaults() Args {
	if a.DailyRetentionDays == 0 {
		a.DailyRetentionDays = 7
	}
	if a.VaultLock == "" {
		a.VaultLock = LockNone
	}
	if a.StartHourUTC == nil {
		a.StartHourUTC = pulumi.IntRef(1)
	}
	return a
}

// StartWindow is the daily window ("hh:00-hh:00", UTC) in which backup jobs start, for
// checking it against the database's own windows.
func (a Args) StartWindow() string {
	h := *a.withDefaults().StartHourUTC
	return fmt.Sprintf("%02d:00-%02d:00", h, (h+1)%24)
}

// rules are the plan's rules at StartHourUTC: daily, Sundays, and the first of the month.
func (a Args) rules() []rule {
	h := *a.StartHourUTC
	out := []rule{{"daily", fmt.Sprintf("cron(0 %d ? * * *)", h), a.DailyRetentionDays}}
	if a.WeeklyRetentionDays > 0 {
		out = append(out, rule{"weekly", fmt.Sprintf("cron(0 %d ? * SUN *)", h), a.WeeklyRetentionDays})
	}
	if a.MonthlyRetentionDays > 0 {
		out = append(out, rule{"monthly", fmt.Sprintf("cron(0 %d 1 * ? *)", h), a.MonthlyRetentionDays})
	}
	return out
}

// Check validates every setting except the inputs wired from other components (resources,
// copy provider), so a program can check all its components before registering anything.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid backup args for %q", name))
}

func (a Args) validate(name string) error {
	var p validate.Problems
	if len(a.ResourceARNs) == 0 {
		p.Addf("ResourceARNs", "must list at least one resource")
	}
	if (a.CopyProvider == nil) != (a.CopyRegion == "") {
		p.Addf("CopyRegion", "CopyProvider and CopyRegion go together")
	}
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid backup args for %q", name))
}

func (a Args) check(p *validate.Problems, name string) {
	a = a.withDefaults()
	if !nameRE.MatchString(name) {
		p.Addf("name", "%q is not a backup vault/plan name (letters, digits, - and _, 2 to 50)", name)
	} else if a.RestoreTesting && len(name) > 50-len("_restore_test") {
		p.Addf("name", "%q is too long for the restore testing plan name <name>_restore_test (at most %d characters)", name, 50-len("_restore_test"))
	}
	p.IntRange("StartHourUTC", *a.StartHourUTC, 0, 23)
	p.NotEmpty("Region", a.Region)
	p.IntRange("DailyRetentionDays", a.DailyRetentionDays, 1, 36500)
	p.IntRange("WeeklyRetentionDays", a.WeeklyRetentionDays, 0, 36500)
	p.IntRange("MonthlyRetentionDays", a.MonthlyRetentionDays, 0, 36500)
	if a.WeeklyRetentionDays > 0 && a.WeeklyRetentionDays < 7 {
		p.Addf("WeeklyRetentionDays", "%d keeps a weekly point for less than a week; use 0 (no weekly rule) or at least 7", a.WeeklyRetentionDays)
	}
	if a.MonthlyRetentionDays > 0 && a.MonthlyRetentionDays < 31 {
		p.Addf("MonthlyRetentionDays", "%d keeps a monthly point for less than a month; use 0 (no monthly rule) or at least 31", a.MonthlyRetentionDays)
	}
	p.OneOf("VaultLock", a.VaultLock, LockNone, LockGovernance, LockCompliance)
	if a.CopyRegion != "" && a.CopyRegion == a.Region {
		p.Addf("CopyRegion", "%q is the primary region; disaster-recovery copies need another region", a.CopyRegion)
	}
}

// New creates the vaults, plan, selection and restore testing.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Backup, error) {
	args = args.withDefaults()
	if err := args.validate(name); err != nil {
		return nil, err
	}
	b := &Backup{}
	if err := ctx.RegisterComponentResource("scalemate:backup:Backup", name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)
	rules := args.rules()

	vault, err := b.vault(ctx, name, "", args, rules, parent)
	if err != nil {
		return nil, err
	}
	b.CopyVaultARN = pulumi.String("").ToStringOutput()
	if args.CopyProvider != nil {
		copyVault, err := b.vault(ctx, name, "-"+args.CopyRegion, args, rules, parent, pulumi.Provider(args.CopyProvider))
		if err != nil {
			return nil, err
		}
		b.CopyVaultARN = copyVault.Arn
	}

	var planRules backup.PlanRuleArray
	for _, r := range rules {
		pr := backup.PlanRuleArgs{
			RuleName:          pulumi.String(r.name),
			TargetVaultName:   vault.Name,
			Schedule:          pulumi.String(r.schedule),
			StartWindow:       pulumi.Int(60),
			CompletionWindow:  pulumi.Int(360),
			Lifecycle:         backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(r.days)},
			RecoveryPointTags: pulumi.StringMap{"scalemate.io/backup-rule": pulumi.String(r.name)},
		}
		if args.CopyProvider != nil {
			pr.CopyActions = backup.PlanRuleCopyActionArray{backup.PlanRuleCopyActionArgs{
				DestinationVaultArn: b.CopyVaultARN,
				Lifecycle:           backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(r.days)},
			}}
		}
		planRules = append(planRules, pr)
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{Name: pulumi.String(name), Rules: planRules}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating backup plan: %w", err)
	}
	partition := iampolicy.Partition(args.Region)
	role, err := iam.NewRole(ctx, name+"-backup", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("backup.amazonaws.com")),
		Description:      pulumi.String("AWS Backup of " + name + ": backups, copies and restore tests"),
		ManagedPolicyArns: pulumi.StringArray{
			pulumi.String(iampolicy.ManagedPolicyARN(partition, "service-role/AWSBackupServiceRolePolicyForBackup")),
			pulumi.String(iampolicy.ManagedPolicyARN(partition, "service-role/AWSBackupServiceRolePolicyForRestores")),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating backup role: %w", err)
	}
	if _, err := backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name:       pulumi.String(name),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  pulumi.StringArray(args.ResourceARNs),
	}, parent); err != nil {
		return nil, fmt.Errorf("selecting resources: %w", err)
	}
	if args.RestoreTesting {
		if err := restoreTesting(ctx, name, args, vault, role, parent); err != nil {
			return nil, err
		}
	}

	b.VaultARN, b.PlanID = vault.Arn, plan.ID().ToStringOutput()
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"vaultArn": b.VaultARN, "copyVaultArn": b.CopyVaultARN, "planId": b.PlanID})
}

// vault creates a KMS key and a vault (suffix "" for the primary, "-<region>" for the copy),
// locked when asked, with retention bounds that fit every rule.
func (b *Backup) vault(ctx *pulumi.Context, name, suffix string, args Args, rules []rule, opts ...pulumi.ResourceOption) (*backup.Vault, error) {
	keep := append(slices.Clone(opts), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))
	key, err := kmskey.New(ctx, name+suffix+"-vault", kmskey.Args{Description: "AWS Backup vault " + name + suffix, Protect: args.Protect}, opts...)
	if err != nil {
		return nil, err
	}
	vault, err := backup.NewVault(ctx, name+suffix, &backup.VaultArgs{
		Name:      pulumi.String(name + suffix),
		KmsKeyArn: key.Arn,
	}, keep...)
	if err != nil {
		return nil, fmt.Errorf("creating vault%s: %w", suffix, err)
	}
	if args.VaultLock == LockNone {
		return vault, nil
	}
	minDays, maxDays := rules[0].days, rules[0].days
	for _, r := range rules {
		minDays, maxDays = min(minDays, r.days), max(maxDays, r.days)
	}
	lock := &backup.VaultLockConfigurationArgs{
		BackupVaultName:  vault.Name,
		MinRetentionDays: pulumi.Int(minDays),
		MaxRetentionDays: pulumi.Int(maxDays),
	}
	if args.VaultLock == LockCompliance {
		lock.ChangeableForDays = pulumi.Int(3) // the grace period before the lock is permanent
	}
	// Every lock argument forces replacement and the lock is keyed by the vault: delete the old
	// lock before writing the new one, or the delete would remove the new lock. Not protected,
	// so retention can change; a compliance lock refuses changes after its grace period anyway.
	if _, err := backup.NewVaultLockConfiguration(ctx, name+suffix, lock, append(slices.Clone(opts), pulumi.DeleteBeforeReplace(true))...); err != nil {
		return nil, fmt.Errorf("locking vault%s: %w", suffix, err)
	}
	return vault, nil
}

// restoreTesting restores the latest snapshot of each protected RDS instance every Monday and
// keeps it for a validation window before AWS Backup deletes it.
func restoreTesting(ctx *pulumi.Context, name string, args Args, vault *backup.Vault, role *iam.Role, parent pulumi.ResourceOption) error {
	// Restore testing plan names allow letters, digits and underscores only.
	planName := regexp.MustCompile(`[^a-zA-Z0-9_]`).ReplaceAllString(name, "_") + "_restore_test"
	plan, err := backup.NewRestoreTestingPlan(ctx, name, &backup.RestoreTestingPlanArgs{
		Name:               pulumi.String(planName),
		ScheduleExpression: pulumi.String("cron(0 6 ? * MON *)"),
		StartWindowHours:   pulumi.Int(24),
		RecoveryPointSelection: backup.RestoreTestingPlanRecoveryPointSelectionArgs{
			Algorithm:           pulumi.String("LATEST_WITHIN_WINDOW"),
			IncludeVaults:       pulumi.StringArray{vault.Arn},
			RecoveryPointTypes:  pulumi.StringArray{pulumi.String("SNAPSHOT")},
			SelectionWindowDays: pulumi.Int(7),
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("creating restore testing plan: %w", err)
	}
	overrides := pulumi.StringMap{}
	if t := args.RDSRestoreTarget; t != nil {
		overrides["dbSubnetGroupName"] = t.DBSubnetGroupName
		overrides["vpcSecurityGroupIds"] = pulumi.Sprintf(`["%s"]`, t.SecurityGroupID)
	}
	if _, err := backup.NewRestoreTestingSelection(ctx, name+"-rds", &backup.RestoreTestingSelectionArgs{
		Name:                     pulumi.String(planName[:len(planName)-len("_restore_test")] + "_rds"),
		RestoreTestingPlanName:   plan.Name,
		ProtectedResourceType:    pulumi.String("RDS"),
		ProtectedResourceArns:    pulumi.StringArray(args.ResourceARNs),
		IamRoleArn:               role.Arn,
		ValidationWindowHours:    pulumi.Int(4),
		RestoreMetadataOverrides: overrides,
	}, parent); err != nil {
		return fmt.Errorf("selecting resources for restore tests: %w", err)
	}
	return nil
}
