// Package postgres is RDS for PostgreSQL for production data: a primary on encrypted gp3 with
// storage autoscaling, Multi-AZ, backups with point-in-time recovery, N read replicas spread over
// AZs, a master password RDS keeps and rotates in Secrets Manager, an optional RDS Proxy, logs with retention,
// Performance Insights and enhanced monitoring, and restore from a snapshot or a point in time.
package postgres

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/kmskey"
	"github.com/scalemate/infra/internal/scram"
	"github.com/scalemate/infra/internal/sgrule"
	"github.com/scalemate/infra/internal/validate"
	"github.com/scalemate/infra/internal/window"
)

// Port is PostgreSQL's port on the instances and the proxy.
const Port = 5432

var (
	identifierRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	versionRE    = regexp.MustCompile(`^([0-9]{2})(\.[0-9]+)?$`)
	classRE      = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	userRE       = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	// Names RDS reserves or that every scanner tries first.
	reservedUsers        = []string{"postgres", "admin", "root", "rdsadmin", "master", "user"}
	monitoringIntervals  = []int{0, 1, 5, 10, 15, 30, 60}
	supportedMajors      = []string{"14", "15", "16", "17"} // 13 is in paid RDS Extended Support since 2026-02-28
	performanceInsightsR = "7, or a multiple of 31 up to 731"
)

// PointInTime restores a new primary from another instance's automated backups. Name the
// source one way: by identifier while it exists, or by resource id / automated-backups ARN
// once it is gone (retained automated backups, DeleteAutomatedBackups false).
type PointInTime struct {
	// SourceDBInstanceIdentifier is a live instance whose backups are used.
	SourceDBInstanceIdentifier string
	// SourceDbiResourceID is the source's resource id (db-...), also valid after deletion.
	SourceDbiResourceID string
	// SourceAutomatedBackupsARN is the ARN of the source's retained automated backups.
	SourceAutomatedBackupsARN string
	// RestoreTime is an RFC 3339 UTC time within the source's retention; empty with
	// UseLatestRestorableTime.
	RestoreTime string
	// UseLatestRestorableTime restores to the latest restorable time (typically 5 minutes ago).
	UseLatestRestorableTime bool
}

// SupportedMajors are the PostgreSQL major versions EngineVersion accepts.
func SupportedMajors() []string { return slices.Clone(supportedMajors) }

// Args configures a Postgres. The component's name is the primary's identifier unless
// Identifier is set.
type Args struct {
	// Region is the provider's region. Required.
	Region string
	// VPCID is the VPC of the security groups. Required.
	VPCID pulumi.StringInput
	// SubnetIDs are the isolated subnets (2+ AZs) of the DB subnet group. Required.
	SubnetIDs pulumi.StringArrayInput
	// AvailabilityZones are the subnets' AZs; read replica i goes to AZ i+1 (mod n) so replicas
	// and the primary spread. Required when ReadReplicas > 0.
	AvailabilityZones []string
	// ClientSecurityGroupIDs may connect on 5432 (the EKS node/cluster security group). Required.
	ClientSecurityGroupIDs []pulumi.StringInput
	// Identifier names the primary; replicas are <Identifier>-replica-<n>. Change it together
	// with a restore to build the restored database next to the old one. Default: the name.
	Identifier string
	// EngineVersion is a major ("16") or major.minor ("16.4") version; minor upgrades are
	// automatic. Required.
	EngineVersion string
	// InstanceClass of the primary, e.g. db.r7g.large. Required.
	InstanceClass string
	// ReplicaInstanceClass of the read replicas. Default InstanceClass.
	ReplicaInstanceClass string
	// AllocatedStorageGiB is the initial gp3 size, 20 to 65536. Default 20.
	AllocatedStorageGiB int
	// MaxAllocatedStorageGiB is the storage autoscaling ceiling, at least AllocatedStorageGiB.
	// Default 5 x AllocatedStorageGiB.
	MaxAllocatedStorageGiB int
	// MultiAZ keeps a synchronous standby in another AZ. Default false.
	MultiAZ bool
	// ReadReplicas is how many asynchronous read replicas to run, 0 to 5. Default 0.
	ReadReplicas int
	// BackupRetentionDays keeps automated backups (and point-in-time recovery) 0 to 35 days;
	// 0 disables both and is refused when ReadReplicas > 0. Default (nil) 7.
	BackupRetentionDays *int
	// BackupWindow is the daily backup window, UTC. Default 03:00-04:00.
	BackupWindow string
	// MaintenanceWindow is the weekly maintenance window, UTC; must not overlap BackupWindow.
	// Default sun:05:00-sun:06:00.
	MaintenanceWindow string
	// DeletionProtection makes AWS refuse to delete the instances. Pulumi then retains them
	// when they leave the program or are replaced (a restore): the old instance keeps running
	// beside the new one until it is deleted by hand, after the new one is verified, instead of
	// failing the update. Default false.
	DeletionProtection bool
	// FinalSnapshot takes a snapshot named <Identifier>-final when the primary is deleted.
	// Default false.
	FinalSnapshot bool
	// ApplyImmediately applies changes now instead of in the maintenance window. Default false.
	ApplyImmediately bool
	// DatabaseName is the initial database. Default "app".
	DatabaseName string
	// MasterUsername must not be a default name (postgres, admin, ...). Default "platform_admin".
	MasterUsername string
	// ApplicationUsername is the least-privilege user the application connects as: its
	// generated password is kept in the secret AppSecretARN and the proxy accepts it. The role
	// itself is created in the database by whoever holds the master secret (the application's
	// database-users Job). Default "scalemate_app".
	ApplicationUsername string
	// SlowQueryMillis logs statements slower than this (log_min_duration_statement; 0 logs
	// every statement, -1 none). Default (nil) 1000.
	SlowQueryMillis *int
	// Parameters override or add parameter group settings; they apply at the next reboot
	// (pending-reboot works for static and dynamic parameters alike).
	Parameters map[string]string
	// MonitoringIntervalSeconds is enhanced monitoring's granularity: 0 (off), 1, 5, 10, 15, 30
	// or 60. Default (nil) 60.
	MonitoringIntervalSeconds *int
	// PerformanceInsightsRetentionDays is 7 (free) or a multiple of 31 up to 731; Performance
	// Insights is off on micro and small classes, which do not support it. Default 7.
	PerformanceInsightsRetentionDays int
	// LogRetentionDays is the retention of the exported postgresql and upgrade logs. Default 30.
	LogRetentionDays int
	// Proxy puts an RDS Proxy (TLS required, Secrets Manager auth) in front of the primary.
	Proxy bool
	// SecretsEndpointCIDR is where the proxy reaches Secrets Manager on 443 to read its logins:
	// the VPC's block, whose secretsmanager interface endpoint answers (the proxy runs in the
	// data subnets, which have no internet route). Required with Proxy.
	SecretsEndpointCIDR pulumi.StringInput
	// AllowMajorVersionUpgrade lets a change of EngineVersion's major go through (RDS refuses
	// it otherwise). Arm it for that one change: left on, any later edit of the version queues
	// an unattended major upgrade for the maintenance window. Default false.
	AllowMajorVersionUpgrade bool
	// BlueGreenUpdate lets engine and class changes go through an RDS blue/green deployment.
	// The provider cannot carry read replicas through it, so it is refused with ReadReplicas > 0.
	BlueGreenUpdate bool
	// SnapshotIdentifier creates the primary from this DB snapshot (disaster recovery).
	SnapshotIdentifier string
	// RestoreToPointInTime creates the primary from another instance's backups.
	RestoreToPointInTime *PointInTime
	// SecretRecoveryWindowDays is how long a deleted secret can be restored: 0 (deleted at
	// once, so a destroyed dev stack can be recreated with the same name) or 7 to 30.
	// Default (nil) 30.
	SecretRecoveryWindowDays *int
	// Protect guards the instances, key and secret against deletion by Pulumi and retains
	// the key and secret if they leave the program (production). Default false.
	Protect bool
}

// Postgres is the component resource.
type Postgres struct {
	pulumi.ResourceState

	// WriterEndpoint is the primary's address.
	WriterEndpoint pulumi.StringOutput `pulumi:"writerEndpoint"`
	// ReaderEndpoints are the read replicas' addresses.
	ReaderEndpoints pulumi.StringArrayOutput `pulumi:"readerEndpoints"`
	// ProxyEndpoint is the RDS Proxy's address, empty without a proxy.
	ProxyEndpoint pulumi.StringOutput `pulumi:"proxyEndpoint"`
	// Port is 5432.
	Port pulumi.IntOutput `pulumi:"port"`
	// DatabaseName is the initial database's name.
	DatabaseName pulumi.StringOutput `pulumi:"databaseName"`
	// SecretARN is the master user's secret (username, password), which RDS manages and rotates
	// (ManageMasterUserPassword), encrypted with KMSKeyARN: for break-glass access, the proxy and
	// the job that creates the application's user. Pulumi never knows the password.
	SecretARN pulumi.StringOutput `pulumi:"secretArn"`
	// AppSecretARN is the same for the application's least-privilege user.
	AppSecretARN pulumi.StringOutput `pulumi:"appSecretArn"`
	// LoginRevision changes whenever the application's login gets a new version: whoever sets
	// its password in the database runs again on it.
	LoginRevision pulumi.StringOutput `pulumi:"loginRevision"`
	// AppLogin is the application user's name and SCRAM-SHA-256 verifier (username, verifier),
	// a secret: setting the password with the verifier keeps the password itself out of
	// statement text and logs.
	AppLogin pulumi.StringMapOutput `pulumi:"appLogin"`
	// KMSKeyARN encrypts storage, Performance Insights and the secret.
	KMSKeyARN pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// PrimaryARN is the primary instance's ARN (for AWS Backup selections).
	PrimaryARN pulumi.StringOutput `pulumi:"primaryArn"`
	// PrimaryIdentifier is the primary's identifier (for alarms).
	PrimaryIdentifier pulumi.StringOutput `pulumi:"primaryIdentifier"`
	// ReplicaIdentifiers are the read replicas' identifiers (for alarms).
	ReplicaIdentifiers pulumi.StringArrayOutput `pulumi:"replicaIdentifiers"`
	// SecurityGroupID is the database security group.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// SubnetGroupName is the DB subnet group (restores and restore tests reuse it).
	SubnetGroupName pulumi.StringOutput `pulumi:"subnetGroupName"`
}

func (a Args) withDefaults(name string) Args {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defStr := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	defStr(&a.Identifier, name)
	defStr(&a.ReplicaInstanceClass, a.InstanceClass)
	def(&a.AllocatedStorageGiB, 20)
	def(&a.MaxAllocatedStorageGiB, 5*a.AllocatedStorageGiB)
	defStr(&a.BackupWindow, "03:00-04:00")
	defStr(&a.MaintenanceWindow, "sun:05:00-sun:06:00")
	defStr(&a.DatabaseName, "app")
	defStr(&a.MasterUsername, "platform_admin")
	defStr(&a.ApplicationUsername, "scalemate_app")
	def(&a.PerformanceInsightsRetentionDays, 7)
	def(&a.LogRetentionDays, 30)
	defPtr := func(v **int, d int) {
		if *v == nil {
			*v = &d
		}
	}
	defPtr(&a.BackupRetentionDays, 7)
	defPtr(&a.SlowQueryMillis, 1000)
	defPtr(&a.MonitoringIntervalSeconds, 60)
	defPtr(&a.SecretRecoveryWindowDays, 30)
	return a
}

// Family is the parameter group family of an engine version ("16.4" -> "postgres16").
func Family(engineVersion string) string {
	major, _, _ := strings.Cut(engineVersion, ".")
	return "postgres" + major
}

// Check validates every setting except the inputs wired from other components (VPC, subnets,
// client groups), so a program can check all its components before registering anything.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid postgres args for %q", name))
}

func (a Args) validate(name string) error {
	var p validate.Problems
	p.Placement(a.VPCID != nil, a.SubnetIDs != nil, len(a.ClientSecurityGroupIDs))
	if a.Proxy && a.SecretsEndpointCIDR == nil {
		p.Addf("SecretsEndpointCIDR", "must be set with Proxy: the proxy reads its logins from Secrets Manager through the VPC's interface endpoint")
	}
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid postgres args for %q", name))
}

func (a Args) check(p *validate.Problems, name string) {
	a = a.withDefaults(name)
	p.NotEmpty("Region", a.Region)
	if !identifierRE.MatchString(a.Identifier) || strings.Contains(a.Identifier, "--") || strings.HasSuffix(a.Identifier, "-") {
		p.Addf("Identifier", "%q is not an RDS identifier (lower-case letters, digits and single dashes, at most 63, starting with a letter)", a.Identifier)
	} else if a.ReadReplicas > 0 && len(a.Identifier) > 63-len("-replica-N") {
		p.Addf("Identifier", "%q is too long for replica names <Identifier>-replica-N (at most %d characters)", a.Identifier, 63-len("-replica-N"))
	}
	if m := versionRE.FindStringSubmatch(a.EngineVersion); m == nil || !slices.Contains(supportedMajors, m[1]) {
		p.Addf("EngineVersion", "%q is not a supported PostgreSQL version; use a major (%s) or major.minor", a.EngineVersion, strings.Join(supportedMajors, ", "))
	}
	for field, class := range map[string]string{"InstanceClass": a.InstanceClass, "ReplicaInstanceClass": a.ReplicaInstanceClass} {
		if !classRE.MatchString(class) {
			p.Addf(field, "%q is not a DB instance class (e.g. db.r7g.large)", class)
		}
	}
	p.IntRange("AllocatedStorageGiB", a.AllocatedStorageGiB, 20, 65536)
	if a.MaxAllocatedStorageGiB < a.AllocatedStorageGiB || a.MaxAllocatedStorageGiB > 65536 {
		p.Addf("MaxAllocatedStorageGiB", "%d must be between AllocatedStorageGiB (%d) and 65536", a.MaxAllocatedStorageGiB, a.AllocatedStorageGiB)
	}
	p.IntRange("ReadReplicas", a.ReadReplicas, 0, 5)
	p.IntRange("BackupRetentionDays", *a.BackupRetentionDays, 0, 35)
	if a.ReadReplicas > 0 && *a.BackupRetentionDays == 0 {
		p.Addf("BackupRetentionDays", "must be at least 1 with read replicas (RDS replicates from backups)")
	}
	if a.BlueGreenUpdate && *a.BackupRetentionDays == 0 {
		p.Addf("BackupRetentionDays", "must be at least 1 with BlueGreenUpdate (the green copy is built from backups)")
	}
	if a.ReadReplicas > 0 && len(a.AvailabilityZones) == 0 {
		p.Addf("AvailabilityZones", "must be set to spread %d read replicas", a.ReadReplicas)
	}
	if err := window.Check(a.BackupWindow, a.MaintenanceWindow, window.MinRDS); err != nil {
		p.Addf("BackupWindow", "%v", err)
	}
	if !identifierRE.MatchString(a.DatabaseName) || strings.Contains(a.DatabaseName, "-") {
		p.Addf("DatabaseName", "%q is not a database name (lower-case letters, digits and _)", a.DatabaseName)
	}
	if !userRE.MatchString(a.MasterUsername) || slices.Contains(reservedUsers, a.MasterUsername) {
		p.Addf("MasterUsername", "%q is not allowed; use a lower-case name that is not one of %s", a.MasterUsername, strings.Join(reservedUsers, ", "))
	}
	switch {
	case !userRE.MatchString(a.ApplicationUsername) || slices.Contains(reservedUsers, a.ApplicationUsername):
		p.Addf("ApplicationUsername", "%q is not allowed; use a lower-case name that is not one of %s", a.ApplicationUsername, strings.Join(reservedUsers, ", "))
	case a.ApplicationUsername == a.MasterUsername:
		p.Addf("ApplicationUsername", "%q is the master user; the application gets a user of its own", a.ApplicationUsername)
	}
	p.IntRange("SlowQueryMillis", *a.SlowQueryMillis, -1, 3600000)
	if !slices.Contains(monitoringIntervals, *a.MonitoringIntervalSeconds) {
		p.Addf("MonitoringIntervalSeconds", "%d is not allowed; use one of 0, 1, 5, 10, 15, 30, 60", *a.MonitoringIntervalSeconds)
	}
	if r := a.PerformanceInsightsRetentionDays; r != 7 && (r%31 != 0 || r > 731) {
		p.Addf("PerformanceInsightsRetentionDays", "%d is not allowed; use %s", r, performanceInsightsR)
	}
	p.IntRange("LogRetentionDays", a.LogRetentionDays, 1, 3653)
	if w := *a.SecretRecoveryWindowDays; w != 0 && (w < 7 || w > 30) {
		p.Addf("SecretRecoveryWindowDays", "%d is not allowed; use 0 (delete at once) or 7 to 30", w)
	}
	if a.BlueGreenUpdate && a.ReadReplicas > 0 {
		p.Addf("BlueGreenUpdate", "cannot be used with %d read replicas: the switchover leaves them replicating from the retired primary (terraform-provider-aws #33702)", a.ReadReplicas)
	}
	if a.SnapshotIdentifier != "" && a.RestoreToPointInTime != nil {
		p.Addf("SnapshotIdentifier", "and RestoreToPointInTime are both set; restore from one or the other")
	}
	if pit := a.RestoreToPointInTime; pit != nil {
		sources := 0
		for _, s := range []string{pit.SourceDBInstanceIdentifier, pit.SourceDbiResourceID, pit.SourceAutomatedBackupsARN} {
			if s != "" {
				sources++
			}
		}
		if sources != 1 {
			p.Addf("RestoreToPointInTime", "name the source exactly one way: SourceDBInstanceIdentifier, SourceDbiResourceID or SourceAutomatedBackupsARN (%d given)", sources)
		}
		switch {
		case pit.RestoreTime == "" && !pit.UseLatestRestorableTime:
			p.Addf("RestoreToPointInTime", "set RestoreTime or UseLatestRestorableTime")
		case pit.RestoreTime != "" && pit.UseLatestRestorableTime:
			p.Addf("RestoreToPointInTime", "RestoreTime and UseLatestRestorableTime are both set; use one")
		case pit.RestoreTime != "":
			if _, err := time.Parse(time.RFC3339, pit.RestoreTime); err != nil {
				p.Addf("RestoreToPointInTime.RestoreTime", "%q is not an RFC 3339 time (e.g. 2026-11-27T09:45:00Z)", pit.RestoreTime)
			}
		}
	}
}

// parameters are the parameter group settings: TLS only, slow-query logging, pg_stat_statements,
// then the caller's overrides.
func (a Args) parameters() rds.ParameterGroupParameterArray {
	settings := map[string]string{
		"rds.force_ssl":              "1",
		"log_min_duration_statement": strconv.Itoa(*a.SlowQueryMillis),
		"shared_preload_libraries":   "pg_stat_statements",
		"pg_stat_statements.track":   "all",
		"log_lock_waits":             "1",
	}
	maps.Copy(settings, a.Parameters)
	var out rds.ParameterGroupParameterArray
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		// The built-in settings are dynamic except shared_preload_libraries; overrides may be
		// static (max_connections, shared_buffers), which RDS accepts only as pending-reboot.
		method := "immediate"
		if _, override := a.Parameters[k]; override || k == "shared_preload_libraries" {
			method = "pending-reboot"
		}
		out = append(out, rds.ParameterGroupParameterArgs{Name: pulumi.String(k), Value: pulumi.String(settings[k]), ApplyMethod: pulumi.String(method)})
	}
	return out
}

// New creates the database. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Postgres, error) {
	args = args.withDefaults(name)
	if err := args.validate(name); err != nil {
		return nil, err
	}
	pg := &Postgres{}
	if err := ctx.RegisterComponentResource("scalemate:postgres:Postgres", name, pg, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(pg)
	stateful := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect)}
	// Instances AWS will not delete are retained instead (see DeletionProtection).
	instanceOpts := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect || args.DeletionProtection)}
	partition := iampolicy.Partition(args.Region)

	key, err := kmskey.New(ctx, name, kmskey.Args{
		Description: "RDS storage, Performance Insights and secret of " + args.Identifier, Alias: args.Identifier + "-postgres", Protect: args.Protect,
		// The final snapshot and the retained automated backups are encrypted with it.
		Retain: args.FinalSnapshot,
	}, parent)
	if err != nil {
		return nil, err
	}

	subnets, err := rds.NewSubnetGroup(ctx, name, &rds.SubnetGroupArgs{
		Description: pulumi.String("Isolated subnets of " + args.Identifier),
		SubnetIds:   args.SubnetIDs,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating DB subnet group: %w", err)
	}
	dbSG, proxySG, err := securityGroups(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	params, err := rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		Family:      pulumi.String(Family(args.EngineVersion)),
		Description: pulumi.String("TLS-only, slow-query logging and pg_stat_statements for " + args.Identifier),
		Parameters:  args.parameters(),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating parameter group: %w", err)
	}

	var monitoringRole pulumi.StringPtrInput
	if *args.MonitoringIntervalSeconds > 0 {
		role, err := iam.NewRole(ctx, name+"-monitoring", &iam.RoleArgs{
			AssumeRolePolicy:  pulumi.String(iampolicy.ServiceTrust("monitoring.rds.amazonaws.com")),
			Description:       pulumi.String("RDS enhanced monitoring of " + args.Identifier),
			ManagedPolicyArns: pulumi.StringArray{pulumi.String(iampolicy.ManagedPolicyARN(partition, "service-role/AmazonRDSEnhancedMonitoringRole"))},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating monitoring role: %w", err)
		}
		monitoringRole = role.Arn
	}

	instances := append([]string{args.Identifier}, ReplicaIdentifiers(args.Identifier, args.ReadReplicas)...)
	var logGroups []pulumi.Resource
	for _, id := range instances {
		for _, log := range []string{"postgresql", "upgrade"} {
			// Created before the instances so RDS writes into groups that have retention.
			g, err := cloudwatch.NewLogGroup(ctx, id+"-"+log, &cloudwatch.LogGroupArgs{
				Name:            pulumi.String("/aws/rds/instance/" + id + "/" + log),
				RetentionInDays: pulumi.Int(args.LogRetentionDays),
			}, parent)
			if err != nil {
				return nil, fmt.Errorf("creating %s log group of %s: %w", log, id, err)
			}
			logGroups = append(logGroups, g)
		}
	}

	common := func(class string) rds.InstanceArgs {
		// Performance Insights does not exist on micro and small classes.
		insights := !strings.HasSuffix(class, ".micro") && !strings.HasSuffix(class, ".small")
		ia := rds.InstanceArgs{
			InstanceClass:                    pulumi.String(class),
			StorageType:                      pulumi.String("gp3"),
			StorageEncrypted:                 pulumi.Bool(true),
			KmsKeyId:                         key.Arn,
			ParameterGroupName:               params.Name,
			VpcSecurityGroupIds:              pulumi.StringArray{dbSG.ID()},
			PubliclyAccessible:               pulumi.Bool(false),
			IamDatabaseAuthenticationEnabled: pulumi.Bool(true),
			AutoMinorVersionUpgrade:          pulumi.Bool(true),
			CopyTagsToSnapshot:               pulumi.Bool(true),
			MaintenanceWindow:                pulumi.String(args.MaintenanceWindow),
			ApplyImmediately:                 pulumi.Bool(args.ApplyImmediately),
			DeletionProtection:               pulumi.Bool(args.DeletionProtection),
			PerformanceInsightsEnabled:       pulumi.Bool(insights),
			MonitoringInterval:               pulumi.Int(*args.MonitoringIntervalSeconds),
			MonitoringRoleArn:                monitoringRole,
			EnabledCloudwatchLogsExports:     pulumi.ToStringArray([]string{"postgresql", "upgrade"}),
			CaCertIdentifier:                 pulumi.String("rds-ca-rsa2048-g1"),
			// Storage autoscaling is per instance: replicas must grow with the primary.
			MaxAllocatedStorage:      pulumi.Int(args.MaxAllocatedStorageGiB),
			AllowMajorVersionUpgrade: pulumi.Bool(args.AllowMajorVersionUpgrade),
		}
		if insights {
			ia.PerformanceInsightsKmsKeyId = key.Arn
			ia.PerformanceInsightsRetentionPeriod = pulumi.Int(args.PerformanceInsightsRetentionDays)
			// Stated, not left to AWS: Performance Insights moved into CloudWatch Database
			// Insights, and a mode AWS sets itself would show up as drift. Standard is the
			// free mode; advanced needs 465 days of retention.
			ia.DatabaseInsightsMode = pulumi.String("standard")
		}
		return ia
	}

	primaryArgs := common(args.InstanceClass)
	primaryArgs.Identifier = pulumi.String(args.Identifier)
	primaryArgs.Engine = pulumi.String("postgres")
	primaryArgs.EngineVersion = pulumi.String(args.EngineVersion)
	primaryArgs.AllocatedStorage = pulumi.Int(args.AllocatedStorageGiB)
	primaryArgs.DbSubnetGroupName = subnets.Name
	primaryArgs.MultiAz = pulumi.Bool(args.MultiAZ)
	primaryArgs.DbName = pulumi.String(args.DatabaseName)
	primaryArgs.Username = pulumi.String(args.MasterUsername)
	// RDS keeps the master password in a Secrets Manager secret of its own, encrypted with the
	// database's key, and rotates it (every 7 days): no password in Pulumi's state or config.
	primaryArgs.ManageMasterUserPassword = pulumi.Bool(true)
	primaryArgs.MasterUserSecretKmsKeyId = key.Arn
	primaryArgs.BackupRetentionPeriod = pulumi.Int(*args.BackupRetentionDays)
	primaryArgs.BackupWindow = pulumi.String(args.BackupWindow)
	// Where a final snapshot is kept, automated backups outlive the instance too, so a deleted
	// database can still be restored to a point in time; without one (dev), nothing is left.
	primaryArgs.DeleteAutomatedBackups = pulumi.Bool(!args.FinalSnapshot)
	primaryArgs.SkipFinalSnapshot = pulumi.Bool(!args.FinalSnapshot)
	if args.FinalSnapshot {
		// A suffix fixed at creation keeps the name unique across destroy/recreate cycles.
		suffix, err := random.NewRandomId(ctx, name+"-final-snapshot", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, parent)
		if err != nil {
			return nil, fmt.Errorf("generating final snapshot suffix: %w", err)
		}
		primaryArgs.FinalSnapshotIdentifier = pulumi.Sprintf("%s-final-%s", args.Identifier, suffix.Hex)
	}
	if args.BlueGreenUpdate {
		primaryArgs.BlueGreenUpdate = rds.InstanceBlueGreenUpdateArgs{Enabled: pulumi.Bool(true)}
	}
	if args.SnapshotIdentifier != "" {
		primaryArgs.SnapshotIdentifier = pulumi.String(args.SnapshotIdentifier)
		primaryArgs.DbName = nil // restored from the snapshot
	}
	if pit := args.RestoreToPointInTime; pit != nil {
		r := rds.InstanceRestoreToPointInTimeArgs{}
		switch {
		case pit.SourceDBInstanceIdentifier != "":
			r.SourceDbInstanceIdentifier = pulumi.String(pit.SourceDBInstanceIdentifier)
		case pit.SourceDbiResourceID != "":
			r.SourceDbiResourceId = pulumi.String(pit.SourceDbiResourceID)
		default:
			r.SourceDbInstanceAutomatedBackupsArn = pulumi.String(pit.SourceAutomatedBackupsARN)
		}
		if pit.UseLatestRestorableTime {
			r.UseLatestRestorableTime = pulumi.Bool(true)
		} else {
			r.RestoreTime = pulumi.String(pit.RestoreTime)
		}
		primaryArgs.RestoreToPointInTime = r
		primaryArgs.DbName = nil
	}
	primary, err := rds.NewInstance(ctx, name, &primaryArgs, append(slices.Clone(instanceOpts), pulumi.DependsOn(logGroups))...)
	if err != nil {
		return nil, fmt.Errorf("creating primary instance: %w", err)
	}

	var readers, replicaIDs pulumi.StringArray
	for i, id := range instances[1:] {
		replicaArgs := common(args.ReplicaInstanceClass)
		replicaArgs.Identifier = pulumi.String(id)
		replicaArgs.ReplicateSourceDb = primary.Identifier
		replicaArgs.AvailabilityZone = pulumi.String(args.AvailabilityZones[(i+1)%len(args.AvailabilityZones)])
		replicaArgs.SkipFinalSnapshot = pulumi.Bool(true) // the primary holds the data
		replica, err := rds.NewInstance(ctx, fmt.Sprintf("%s-replica-%d", name, i+1), &replicaArgs,
			append(slices.Clone(instanceOpts), pulumi.DependsOn(logGroups))...)
		if err != nil {
			return nil, fmt.Errorf("creating read replica %s: %w", id, err)
		}
		readers = append(readers, replica.Address)
		replicaIDs = append(replicaIDs, replica.Identifier)
	}

	masterSecret := primary.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()
	// URL-safe: applications build connection URLs from it.
	appPassword, err := random.NewRandomPassword(ctx, name+"-app", &random.RandomPasswordArgs{
		Length: pulumi.Int(40), Special: pulumi.Bool(true), OverrideSpecial: pulumi.String("-_"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating application password: %w", err)
	}
	appSecret, appVersion, err := credentials(ctx, name+"-app", args.Identifier+"/postgres/app", "Application user of "+args.Identifier,
		args.ApplicationUsername, appPassword.Result, primary.Address, key.Arn, args, stateful)
	if err != nil {
		return nil, err
	}

	pg.ProxyEndpoint = pulumi.String("").ToStringOutput()
	if args.Proxy {
		logins := []login{{masterSecret, nil, "master credentials (RDS-managed)"}, {appSecret.Arn, appVersion, "application user"}}
		if pg.ProxyEndpoint, err = proxy(ctx, name, args, primary, logins, key, args.SubnetIDs, proxySG, parent); err != nil {
			return nil, err
		}
	}

	pg.WriterEndpoint, pg.ReaderEndpoints, pg.Port = primary.Address, readers.ToStringArrayOutput(), pulumi.Int(Port).ToIntOutput()
	pg.SecretARN, pg.AppSecretARN, pg.KMSKeyARN, pg.PrimaryARN = masterSecret, appSecret.Arn, key.Arn, primary.Arn
	pg.LoginRevision, pg.DatabaseName = appVersion.VersionId, pulumi.String(args.DatabaseName).ToStringOutput()
	pg.AppLogin = pulumi.ToSecret(appPassword.Result.ApplyT(func(pw string) (map[string]string, error) {
		verifier, err := scram.Verifier(pw, scram.Salt(pw, args.Identifier+"/"+args.ApplicationUsername))
		return map[string]string{"username": args.ApplicationUsername, "verifier": verifier}, err
	})).(pulumi.StringMapOutput)
	pg.PrimaryIdentifier, pg.ReplicaIdentifiers = primary.Identifier, replicaIDs.ToStringArrayOutput()
	pg.SecurityGroupID, pg.SubnetGroupName = dbSG.ID().ToStringOutput(), subnets.Name
	return pg, ctx.RegisterResourceOutputs(pg, pulumi.Map{
		"writerEndpoint": pg.WriterEndpoint, "readerEndpoints": pg.ReaderEndpoints, "proxyEndpoint": pg.ProxyEndpoint,
		"port": pg.Port, "secretArn": pg.SecretARN, "appSecretArn": pg.AppSecretARN, "loginRevision": pg.LoginRevision, "databaseName": pg.DatabaseName, "appLogin": pg.AppLogin, "kmsKeyArn": pg.KMSKeyARN, "primaryArn": pg.PrimaryARN,
		"primaryIdentifier": pg.PrimaryIdentifier, "replicaIdentifiers": pg.ReplicaIdentifiers,
		"securityGroupId": pg.SecurityGroupID, "subnetGroupName": pg.SubnetGroupName,
	})
}

// securityGroups creates the database group (5432 from clients and the proxy only, no egress)
// and, with a proxy, the proxy's group (5432 from clients, out only to the database).
func securityGroups(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOption) (db, proxy *ec2.SecurityGroup, err error) {
	db, err = ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VPCID,
		Description: pulumi.String("PostgreSQL " + args.Identifier + ": 5432 from the cluster and the proxy only"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(args.Identifier)},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating database security group: %w", err)
	}
	rule := func(suffix, direction string, sg *ec2.SecurityGroup, peer pulumi.StringInput) error {
		return sgrule.Allow(ctx, name+"-"+suffix, direction, sg.ID(), peer, Port, "PostgreSQL "+suffix, parent)
	}
	for i, client := range args.ClientSecurityGroupIDs {
		if err := rule(fmt.Sprintf("from-client-%d", i), sgrule.Ingress, db, client); err != nil {
			return nil, nil, err
		}
	}
	if !args.Proxy {
		return db, nil, nil
	}
	proxy, err = ec2.NewSecurityGroup(ctx, name+"-proxy", &ec2.SecurityGroupArgs{
		VpcId:       args.VPCID,
		Description: pulumi.String("RDS Proxy of " + args.Identifier + ": 5432 from the cluster, out to the database only"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(args.Identifier + "-proxy")},
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating proxy security group: %w", err)
	}
	for i, client := range args.ClientSecurityGroupIDs {
		if err := rule(fmt.Sprintf("proxy-from-client-%d", i), sgrule.Ingress, proxy, client); err != nil {
			return nil, nil, err
		}
	}
	if err := rule("proxy-to-db", sgrule.Egress, proxy, db.ID()); err != nil {
		return nil, nil, err
	}
	// Without this the proxy cannot fetch its logins and its targets stay unavailable.
	if _, err := ec2.NewSecurityGroupRule(ctx, name+"-proxy-to-secrets", &ec2.SecurityGroupRuleArgs{
		Type: pulumi.String(sgrule.Egress), SecurityGroupId: proxy.ID(), Protocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(443), ToPort: pulumi.Int(443), CidrBlocks: pulumi.StringArray{args.SecretsEndpointCIDR},
		Description: pulumi.String("Secrets Manager through the VPC's interface endpoint"),
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("letting the proxy reach Secrets Manager: %w", err)
	}
	if err := rule("from-proxy", sgrule.Ingress, db, proxy.ID()); err != nil {
		return nil, nil, err
	}
	return db, proxy, nil
}

// credentials stores one database user's login as a Secrets Manager secret (the JSON RDS Proxy
// and the RDS console read) under the database's key.
func credentials(ctx *pulumi.Context, logical, secretName, description, username string, password, host pulumi.StringOutput,
	keyARN pulumi.StringOutput, args Args, opts []pulumi.ResourceOption,
) (*secretsmanager.Secret, *secretsmanager.SecretVersion, error) {
	secret, err := secretsmanager.NewSecret(ctx, logical, &secretsmanager.SecretArgs{
		Name:                 pulumi.String(secretName),
		Description:          pulumi.String(description),
		KmsKeyId:             keyARN,
		RecoveryWindowInDays: pulumi.Int(*args.SecretRecoveryWindowDays),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating secret %s: %w", secretName, err)
	}
	version, err := secretsmanager.NewSecretVersion(ctx, logical, &secretsmanager.SecretVersionArgs{
		SecretId: secret.ID(),
		SecretString: pulumi.All(password, host).ApplyT(func(v []any) (string, error) {
			b, err := json.Marshal(map[string]any{
				"engine": "postgres", "username": username, "password": v[0].(string),
				"host": v[1].(string), "port": Port, "dbname": args.DatabaseName,
			})
			return string(b), err
		}).(pulumi.StringOutput),
	}, opts[0]) // the parent only: a version is replaced, never protected
	if err != nil {
		return nil, nil, fmt.Errorf("storing secret %s: %w", secretName, err)
	}
	return secret, version, nil
}

// login is one secret the proxy authenticates clients with, and the version to wait for (nil
// for the RDS-managed master secret, which exists with the instance).
type login struct {
	secretARN   pulumi.StringOutput
	version     *secretsmanager.SecretVersion
	description string
}

// proxy creates an RDS Proxy that requires TLS and authenticates clients with the logins'
// secrets (the master user and the application's user).
func proxy(ctx *pulumi.Context, name string, args Args, primary *rds.Instance, logins []login,
	key *kms.Key, subnets pulumi.StringArrayInput, sg *ec2.SecurityGroup, parent pulumi.ResourceOption,
) (pulumi.StringOutput, error) {
	role, err := iam.NewRole(ctx, name+"-proxy", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("rds.amazonaws.com")),
		Description:      pulumi.String("RDS Proxy of " + args.Identifier + ": reads the login secrets"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating proxy role: %w", err)
	}
	var secretARNs pulumi.StringArray
	var auths rds.ProxyAuthArray
	var versions []pulumi.Resource
	for _, l := range logins {
		secretARNs = append(secretARNs, l.secretARN)
		auths = append(auths, rds.ProxyAuthArgs{
			AuthScheme: pulumi.String("SECRETS"), SecretArn: l.secretARN, IamAuth: pulumi.String("DISABLED"),
			Description: pulumi.String(l.description),
		})
		if l.version != nil {
			versions = append(versions, l.version)
		}
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-proxy", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.All(secretARNs, key.Arn).ApplyT(func(v []any) string {
			return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
				{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, Resource: v[0].([]string)},
				{Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: v[1].(string),
					Condition: iampolicy.Condition{"StringEquals": {"kms:ViaService": "secretsmanager." + args.Region + ".amazonaws.com"}}},
			}}.JSON()
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("granting proxy role: %w", err)
	}
	p, err := rds.NewProxy(ctx, name, &rds.ProxyArgs{
		Name:                pulumi.String(args.Identifier),
		EngineFamily:        pulumi.String("POSTGRESQL"),
		RequireTls:          pulumi.Bool(true),
		IdleClientTimeout:   pulumi.Int(1800),
		RoleArn:             role.Arn,
		VpcSubnetIds:        subnets,
		VpcSecurityGroupIds: pulumi.StringArray{sg.ID()},
		Auths:               auths,
	}, parent, pulumi.DependsOn(versions))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating RDS Proxy: %w", err)
	}
	group, err := rds.NewProxyDefaultTargetGroup(ctx, name, &rds.ProxyDefaultTargetGroupArgs{
		DbProxyName: p.Name,
		ConnectionPoolConfig: rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs{
			MaxConnectionsPercent:     pulumi.Int(90),
			MaxIdleConnectionsPercent: pulumi.Int(50),
			ConnectionBorrowTimeout:   pulumi.Int(120),
		},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("configuring proxy target group: %w", err)
	}
	if _, err := rds.NewProxyTarget(ctx, name, &rds.ProxyTargetArgs{
		DbProxyName: p.Name, TargetGroupName: group.Name, DbInstanceIdentifier: primary.Identifier,
	}, parent); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("registering proxy target: %w", err)
	}
	return p.Endpoint, nil
}

// ReplicaIdentifiers are the identifiers of n read replicas of the primary named identifier.
func ReplicaIdentifiers(identifier string, n int) []string {
	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprintf("%s-replica-%d", identifier, i))
	}
	return ids
}
