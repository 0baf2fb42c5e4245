package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/backup"
	"github.com/scalemate/infra/components/cluster"
	"github.com/scalemate/infra/components/network"
	"github.com/scalemate/infra/components/postgres"
	"github.com/scalemate/infra/components/redis"
	"github.com/scalemate/infra/stacks"
)

// AppNamespace is the application's namespace; the k8s baseline creates it.
const AppNamespace = "scalemate"

// dataTier holds the data components' settings that come from the stack, before they are
// wired to the network and cluster.
type dataTier struct {
	postgresName, redisName, backupName string
	postgres                            postgres.Args
	redis                               redis.Args
	backup                              backup.Args
}

// planDataTier turns the Spec into component args and runs the components' own checks, so a
// bad value fails the program before any resource (providers included) is registered.
func planDataTier(spec *stacks.Spec) (*dataTier, error) {
	prefix := spec.Project + "-" + spec.Stack
	pg, rd, bk := spec.Postgres, spec.Redis, spec.Backup
	protected, kept := spec.Tier == stacks.Prod, spec.Tier != stacks.Dev
	// Dev secrets are deleted at once, so a destroyed dev stack can be recreated with the same
	// secret names; elsewhere a deleted secret stays restorable for 30 days.
	secretRecoveryWindow := pulumi.IntRef(30)
	if spec.Tier == stacks.Dev {
		secretRecoveryWindow = pulumi.IntRef(0)
	}
	d := &dataTier{
		// Logical names never follow an identifier: a restore under a new identifier replaces
		// the database or cache in place of the old one, while its key (which encrypts the old
		// one's snapshots) and its other children stay (review 2026-11-30 #7).
		postgresName: prefix, redisName: prefix + "-cache", backupName: prefix,
		postgres: postgres.Args{
			Region:                           spec.Region,
			AvailabilityZones:                spec.AvailabilityZones(),
			Identifier:                       pg.Identifier,
			EngineVersion:                    pg.EngineVersion,
			InstanceClass:                    pg.InstanceClass,
			ReplicaInstanceClass:             pg.ReplicaInstanceClass,
			AllocatedStorageGiB:              pg.AllocatedStorageGiB,
			MaxAllocatedStorageGiB:           pg.MaxAllocatedStorageGiB,
			MultiAZ:                          pg.MultiAZ,
			ReadReplicas:                     pg.ReadReplicas,
			BackupRetentionDays:              pulumi.IntRef(pg.BackupRetentionDays),
			BackupWindow:                     pg.BackupWindow,
			MaintenanceWindow:                pg.MaintenanceWindow,
			DeletionProtection:               kept,
			FinalSnapshot:                    kept,
			ApplyImmediately:                 spec.Tier == stacks.Dev,
			SlowQueryMillis:                  pulumi.IntRef(pg.SlowQueryMillis),
			Parameters:                       pg.Parameters,
			MonitoringIntervalSeconds:        pulumi.IntRef(pg.MonitoringIntervalSeconds),
			PerformanceInsightsRetentionDays: pg.PerformanceInsightsRetentionDays,
			LogRetentionDays:                 spec.LogRetentionDays,
			Proxy:                            pg.Proxy,
			BlueGreenUpdate:                  pg.BlueGreenUpdate,
			AllowMajorVersionUpgrade:         pg.AllowMajorVersionUpgrade,
			SecretRecoveryWindowDays:         secretRecoveryWindow,
			Protect:                          protected,
		},
		redis: redis.Args{
			Identifier:               rd.Identifier,
			Engine:                   rd.Engine,
			EngineVersion:            rd.EngineVersion,
			NodeType:                 rd.NodeType,
			Shards:                   rd.Shards,
			ReplicasPerShard:         rd.ReplicasPerShard,
			SnapshotRetentionDays:    pulumi.IntRef(rd.SnapshotRetentionDays),
			SnapshotWindow:           rd.SnapshotWindow,
			MaintenanceWindow:        rd.MaintenanceWindow,
			FinalSnapshot:            kept,
			RestoreSnapshotName:      rd.RestoreSnapshotName,
			AuthTokenVersion:         rd.AuthTokenVersion,
			AuthTokenUpdateStrategy:  rd.AuthTokenUpdateStrategy,
			SecretRecoveryWindowDays: secretRecoveryWindow,
			LogRetentionDays:         spec.LogRetentionDays,
			ApplyImmediately:         spec.Tier == stacks.Dev,
			Protect:                  protected,
		},
		backup: backup.Args{
			Region:               spec.Region,
			DailyRetentionDays:   bk.DailyRetentionDays,
			WeeklyRetentionDays:  bk.WeeklyRetentionDays,
			MonthlyRetentionDays: bk.MonthlyRetentionDays,
			VaultLock:            bk.VaultLock,
			CopyRegion:           bk.DRRegion,
			RestoreTesting:       bk.RestoreTesting,
			StartHourUTC:         pulumi.IntRef(bk.StartHourUTC),
			Protect:              protected,
		},
	}
	if r := pg.Restore; r != nil {
		d.postgres.SnapshotIdentifier = r.SnapshotIdentifier
		if r.SourceDBInstanceIdentifier != "" || r.SourceDbiResourceID != "" || r.SourceAutomatedBackupsARN != "" {
			d.postgres.RestoreToPointInTime = &postgres.PointInTime{
				SourceDBInstanceIdentifier: r.SourceDBInstanceIdentifier, SourceDbiResourceID: r.SourceDbiResourceID,
				SourceAutomatedBackupsARN: r.SourceAutomatedBackupsARN,
				RestoreTime:               r.RestoreTime, UseLatestRestorableTime: r.UseLatestRestorableTime,
			}
		}
	}
	r := &refusals{stack: spec.Stack}
	r.component(d.postgres.Check(d.postgresName), stacks.KeyPostgres, withCommon(map[string]string{
		"SnapshotIdentifier":   stacks.KeyPostgres + ".restore.snapshotIdentifier",
		"RestoreToPointInTime": stacks.KeyPostgres + ".restore",
	}))
	r.component(d.redis.Check(d.redisName), stacks.KeyRedis, withCommon(nil))
	r.component(d.backup.Check(d.backupName), stacks.KeyBackup, withCommon(map[string]string{"CopyRegion": stacks.KeyBackup + ".drRegion"}))
	if err := r.err(); err != nil {
		return d, err
	}
	return d, nil
}

// dataOutputs are what the data tier gives the rest of the program.
type dataOutputs struct {
	postgres *postgres.Postgres
	redis    *redis.Redis
}

// deployDataTier creates the database, the cache and their backups, in the network's isolated
// subnets, reachable from the cluster only. The application reads their secrets through
// identities of its own (components/app).
func deployDataTier(ctx *pulumi.Context, spec *stacks.Spec, d *dataTier, p *Providers, net *network.Network, cl *cluster.Cluster) (*dataOutputs, error) {
	onAWS := pulumi.Providers(p.AWS)
	clients := []pulumi.StringInput{cl.SecurityGroupID}

	d.postgres.VPCID, d.postgres.SubnetIDs, d.postgres.ClientSecurityGroupIDs = net.VPCID, net.IsolatedSubnetIDs, clients
	d.postgres.SecretsEndpointCIDR = net.CIDR
	pg, err := postgres.New(ctx, d.postgresName, d.postgres, onAWS)
	if err != nil {
		return nil, err
	}
	d.redis.VPCID, d.redis.SubnetIDs, d.redis.ClientSecurityGroupIDs = net.VPCID, net.IsolatedSubnetIDs, clients
	rd, err := redis.New(ctx, d.redisName, d.redis, onAWS)
	if err != nil {
		return nil, err
	}

	d.backup.ResourceARNs = []pulumi.StringInput{pg.PrimaryARN}
	d.backup.RDSRestoreTarget = &backup.RDSRestoreTarget{DBSubnetGroupName: pg.SubnetGroupName, SecurityGroupID: pg.SecurityGroupID}
	if spec.Backup.DRRegion != "" {
		dr, err := aws.NewProvider(ctx, "aws-"+spec.Backup.DRRegion, &aws.ProviderArgs{
			Region: pulumi.String(spec.Backup.DRRegion), DefaultTags: aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(spec.Tags())},
		})
		if err != nil {
			return nil, fmt.Errorf("creating %s AWS provider: %w", spec.Backup.DRRegion, err)
		}
		d.backup.CopyProvider = dr
	}
	if _, err := backup.New(ctx, d.backupName, d.backup, onAWS); err != nil {
		return nil, err
	}

	return &dataOutputs{postgres: pg, redis: rd}, nil
}
