package stacks

// Postgres is the PostgreSQL database (scalemate:postgres). Field checks (ranges, formats) are
// the postgres component's; the program runs them before registering anything.
type Postgres struct {
	// EngineVersion is a major or major.minor version. Default 16.
	EngineVersion string `json:"engineVersion"`
	// InstanceClass of the primary. Default db.t4g.medium / db.m7g.large / db.r7g.xlarge.
	InstanceClass string `json:"instanceClass"`
	// ReplicaInstanceClass of the read replicas. Default InstanceClass.
	ReplicaInstanceClass string `json:"replicaInstanceClass,omitempty"`
	// AllocatedStorageGiB is the initial gp3 size. Default 20 / 50 / 100.
	AllocatedStorageGiB int `json:"allocatedStorageGiB"`
	// MaxAllocatedStorageGiB is the storage autoscaling ceiling. Default 100 / 200 / 1000.
	MaxAllocatedStorageGiB int `json:"maxAllocatedStorageGiB"`
	// MultiAZ keeps a standby in another AZ; required in prod. Default false / true / true.
	MultiAZ bool `json:"multiAz"`
	// ReadReplicas is 0 to 5. Default 0 / 1 / 2.
	ReadReplicas int `json:"readReplicas"`
	// BackupRetentionDays (and point-in-time recovery window), 1 to 35. Default 1 / 7 / 30.
	BackupRetentionDays int `json:"backupRetentionDays"`
	// BackupWindow is hh:mm-hh:mm UTC. Default 03:00-04:00.
	BackupWindow string `json:"backupWindow"`
	// MaintenanceWindow is ddd:hh:mm-ddd:hh:mm UTC. Default sun:05:00-sun:06:00.
	MaintenanceWindow string `json:"maintenanceWindow"`
	// Proxy adds an RDS Proxy. Default false / true / true.
	Proxy bool `json:"proxy"`
	// BlueGreenUpdate routes engine/class changes through RDS blue/green (not with replicas).
	// Default false.
	BlueGreenUpdate bool `json:"blueGreenUpdate"`
	// AllowMajorVersionUpgrade arms a major engine upgrade for the change that raises
	// engineVersion's major; set it in that change only and remove it after. Default false.
	AllowMajorVersionUpgrade bool `json:"allowMajorVersionUpgrade"`
	// SlowQueryMillis is log_min_duration_statement. Default 1000 / 500 / 500.
	SlowQueryMillis int `json:"slowQueryMillis"`
	// PerformanceInsightsRetentionDays is 7 or a multiple of 31. Default 7 / 7 / 31.
	PerformanceInsightsRetentionDays int `json:"performanceInsightsRetentionDays"`
	// MonitoringIntervalSeconds of enhanced monitoring. Default 60 / 60 / 15.
	MonitoringIntervalSeconds int `json:"monitoringIntervalSeconds"`
	// Parameters override parameter group settings.
	Parameters map[string]string `json:"parameters,omitempty"`
	// Identifier names the primary. Default <project>-<stack>; change it together with Restore
	// to build the restored database beside the old one.
	Identifier string `json:"identifier,omitempty"`
	// Restore creates the primary from a snapshot or a point in time (disaster recovery).
	Restore *PostgresRestore `json:"restore,omitempty"`
}

// PostgresRestore is where a restored primary comes from: a snapshot, or another instance's
// backups at a point in time.
// Keep it in config for the life of the restored database: removing it replaces the database.
type PostgresRestore struct {
	SnapshotIdentifier         string `json:"snapshotIdentifier,omitempty"`
	SourceDBInstanceIdentifier string `json:"sourceDbInstanceIdentifier,omitempty"`
	// SourceDbiResourceID or SourceAutomatedBackupsARN name a source that no longer exists.
	SourceDbiResourceID       string `json:"sourceDbiResourceId,omitempty"`
	SourceAutomatedBackupsARN string `json:"sourceAutomatedBackupsArn,omitempty"`
	RestoreTime               string `json:"restoreTime,omitempty"`
	UseLatestRestorableTime   bool   `json:"useLatestRestorableTime,omitempty"`
}

// Redis is the cache (scalemate:redis). Field checks are the redis component's.
type Redis struct {
	// Engine is valkey or redis. Default valkey.
	Engine string `json:"engine"`
	// EngineVersion. Default 8.0 (valkey).
	EngineVersion string `json:"engineVersion,omitempty"`
	// NodeType. Default cache.t4g.small / cache.m7g.large / cache.r7g.large.
	NodeType string `json:"nodeType"`
	// Shards in cluster mode. Default 1 / 2 / 3.
	Shards int `json:"shards"`
	// ReplicasPerShard; at least 1 in prod. Default 1 / 1 / 2.
	ReplicasPerShard int `json:"replicasPerShard"`
	// SnapshotRetentionDays, 0 to 35. Default 1 / 7 / 14.
	SnapshotRetentionDays int `json:"snapshotRetentionDays"`
	// SnapshotWindow is hh:mm-hh:mm UTC. Default 05:00-06:00.
	SnapshotWindow string `json:"snapshotWindow"`
	// MaintenanceWindow is ddd:hh:mm-ddd:hh:mm UTC. Default sun:07:00-sun:08:00.
	MaintenanceWindow string `json:"maintenanceWindow"`
	// Identifier is the replication group id. Default <project>-<stack>-cache; change it with
	// restoreSnapshotName so the restored cache is built beside the old one.
	Identifier string `json:"identifier,omitempty"`
	// RestoreSnapshotName seeds a new cluster from a snapshot (replaces the cluster; keep it
	// for the life of the restored cache).
	RestoreSnapshotName string `json:"restoreSnapshotName,omitempty"`
	// AuthTokenVersion: raise it to rotate the AUTH token in place. Default 1.
	AuthTokenVersion int `json:"authTokenVersion"`
	// AuthTokenUpdateStrategy is ROTATE (old and new token valid) or SET (only the new one,
	// once every client uses it). Default ROTATE.
	AuthTokenUpdateStrategy string `json:"authTokenUpdateStrategy"`
}

// Backup is AWS Backup for the database (scalemate:backup). Field checks are the backup
// component's.
type Backup struct {
	// DailyRetentionDays. Default 7 / 14 / 35.
	DailyRetentionDays int `json:"dailyRetentionDays"`
	// WeeklyRetentionDays; 0 is no weekly rule. Default 0 / 35 / 90.
	WeeklyRetentionDays int `json:"weeklyRetentionDays"`
	// MonthlyRetentionDays; 0 is no monthly rule. Default 0 / 0 / 365.
	MonthlyRetentionDays int `json:"monthlyRetentionDays"`
	// VaultLock is none, governance or compliance. Default none / none / governance.
	VaultLock string `json:"vaultLock"`
	// DRRegion receives copies of every recovery point; empty for none. Default none in dev and
	// staging; in prod us-east-2 (us-west-2 when the main region is us-east-2).
	DRRegion string `json:"drRegion,omitempty"`
	// RestoreTesting restores the latest snapshot weekly to prove it works. Default false /
	// true / true.
	RestoreTesting bool `json:"restoreTesting"`
	// StartHourUTC is when backup jobs start; it must clear the database's backup window and
	// its maintenance window (and the hour before it). Default 1.
	StartHourUTC int `json:"startHourUtc"`
}
