package postgres

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{
		Region:                 "us-west-2",
		VPCID:                  pulumi.String("vpc-1"),
		SubnetIDs:              pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"}),
		AvailabilityZones:      []string{"us-west-2a", "us-west-2b", "us-west-2c"},
		ClientSecurityGroupIDs: []pulumi.StringInput{pulumi.String("sg-nodes")},
		EngineVersion:          "16.4",
		InstanceClass:          "db.t4g.medium",
		BackupRetentionDays:    pulumi.IntRef(1),
	}
}

func prodArgs() Args {
	a := baseArgs()
	a.InstanceClass = "db.r7g.xlarge"
	a.MultiAZ, a.ReadReplicas, a.BackupRetentionDays = true, 2, pulumi.IntRef(30)
	a.Proxy, a.DeletionProtection, a.FinalSnapshot, a.Protect = true, true, true, true
	a.SecretsEndpointCIDR = pulumi.String("10.30.0.0/16")
	return a
}

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "db", args)
}

func mustRun(t *testing.T, args Args) *mocktest.Recorder {
	t.Helper()
	return mocktest.MustComponent(t, New, "db", args)
}

func instance(t *testing.T, rec *mocktest.Recorder, name string) mocktest.Resource {
	t.Helper()
	r, ok := rec.Named("aws:rds/instance:Instance", name)
	require.True(t, ok, "instance %s", name)
	return r
}

func TestPrimaryDefaults(t *testing.T) {
	rec := mustRun(t, baseArgs())
	db := instance(t, rec, "db")
	assert.Equal(t, "db", db.Input("identifier"))
	assert.Equal(t, "postgres", db.Input("engine"))
	assert.Equal(t, "16.4", db.Input("engineVersion"))
	assert.Equal(t, "gp3", db.Input("storageType"))
	assert.Equal(t, true, db.Input("storageEncrypted"))
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:db", db.Input("kmsKeyId"))
	assert.EqualValues(t, 20, db.Input("allocatedStorage"))
	assert.EqualValues(t, 100, db.Input("maxAllocatedStorage"), "storage autoscaling up to 5x")
	assert.Equal(t, false, db.Input("multiAz"))
	assert.Equal(t, false, db.Input("publiclyAccessible"))
	assert.Equal(t, true, db.Input("iamDatabaseAuthenticationEnabled"))
	assert.Equal(t, true, db.Input("copyTagsToSnapshot"))
	assert.Equal(t, true, db.Input("autoMinorVersionUpgrade"))
	assert.EqualValues(t, 1, db.Input("backupRetentionPeriod"))
	assert.Equal(t, "03:00-04:00", db.Input("backupWindow"))
	assert.Equal(t, "sun:05:00-sun:06:00", db.Input("maintenanceWindow"))
	assert.Equal(t, true, db.Input("skipFinalSnapshot"))
	assert.Equal(t, false, db.Input("deletionProtection"))
	assert.Equal(t, "platform_admin", db.Input("username"))
	assert.Equal(t, true, db.Input("manageMasterUserPassword"), "RDS keeps the master password (TestMasterPasswordManagedByRDS)")
	assert.Equal(t, true, db.Input("performanceInsightsEnabled"))
	assert.EqualValues(t, 7, db.Input("performanceInsightsRetentionPeriod"))
	assert.EqualValues(t, 60, db.Input("monitoringInterval"))
	assert.Equal(t, "arn:aws:iam:us-west-2:123456789012:db-monitoring", db.Input("monitoringRoleArn"))
	assert.Equal(t, []any{"postgresql", "upgrade"}, db.Input("enabledCloudwatchLogsExports"))
	assert.Nil(t, db.Input("blueGreenUpdate"))
	assert.False(t, db.Protect)
	assert.Empty(t, rec.OfType("aws:rds/proxy:Proxy"))
	assert.Len(t, rec.OfType("aws:rds/instance:Instance"), 1)

	key, _ := rec.Named("aws:kms/key:Key", "db")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
}

// A component built from the required args alone gets the documented defaults.
func TestDocumentedDefaults(t *testing.T) {
	args := baseArgs()
	args.BackupRetentionDays = nil
	rec := mustRun(t, args)
	db := instance(t, rec, "db")
	assert.EqualValues(t, 7, db.Input("backupRetentionPeriod"), "point-in-time recovery on by default")
	assert.EqualValues(t, 60, db.Input("monitoringInterval"))
	assert.Equal(t, false, db.Input("allowMajorVersionUpgrade"), "a major upgrade is armed for one change only (review #17)")
	args.AllowMajorVersionUpgrade = true
	assert.Equal(t, true, instance(t, mustRun(t, args), "db").Input("allowMajorVersionUpgrade"))
	secret, _ := rec.Named("aws:secretsmanager/secret:Secret", "db-app")
	assert.EqualValues(t, 30, secret.Input("recoveryWindowInDays"))

	args.SecretRecoveryWindowDays, args.BackupRetentionDays, args.MonitoringIntervalSeconds = pulumi.IntRef(0), pulumi.IntRef(0), pulumi.IntRef(0)
	rec = mustRun(t, args)
	db = instance(t, rec, "db")
	assert.EqualValues(t, 0, db.Input("backupRetentionPeriod"), "an explicit 0 is kept, not defaulted")
	assert.EqualValues(t, 0, db.Input("monitoringInterval"))
	assert.Nil(t, db.Input("monitoringRoleArn"))
	secret, _ = rec.Named("aws:secretsmanager/secret:Secret", "db-app")
	assert.EqualValues(t, 0, secret.Input("recoveryWindowInDays"), "dev secrets can go at once")
}

func TestPerformanceInsightsOnlyWhereSupported(t *testing.T) {
	args := baseArgs()
	args.InstanceClass = "db.t4g.small"
	db := instance(t, mustRun(t, args), "db")
	assert.Equal(t, false, db.Input("performanceInsightsEnabled"))
	assert.Nil(t, db.Input("performanceInsightsRetentionPeriod"))
}

func TestParameterGroup(t *testing.T) {
	args := baseArgs()
	args.SlowQueryMillis = pulumi.IntRef(250)
	args.Parameters = map[string]string{"work_mem": "65536", "max_connections": "400"}
	rec := mustRun(t, args)
	pg := rec.Must(t, "aws:rds/parameterGroup:ParameterGroup", "db")
	assert.Equal(t, "postgres16", pg.Input("family"))
	got, method := map[string]string{}, map[string]string{}
	for _, p := range pg.Input("parameters").([]any) {
		m := p.(map[string]any)
		got[m["name"].(string)] = m["value"].(string)
		method[m["name"].(string)] = m["applyMethod"].(string)
	}
	assert.Equal(t, "pending-reboot", method["shared_preload_libraries"], "static")
	assert.Equal(t, "pending-reboot", method["max_connections"], "overrides may be static; RDS takes them only at reboot")
	assert.Equal(t, "immediate", method["rds.force_ssl"])
	assert.Equal(t, "1", got["rds.force_ssl"])
	assert.Equal(t, "250", got["log_min_duration_statement"])
	assert.Equal(t, "pg_stat_statements", got["shared_preload_libraries"])
	assert.Equal(t, "65536", got["work_mem"])
	assert.Equal(t, "400", got["max_connections"])
}

func TestLogGroupsExistBeforeInstances(t *testing.T) {
	args := baseArgs()
	args.LogRetentionDays = 365
	args.ReadReplicas = 1
	rec := mustRun(t, args)
	groups := rec.OfType("aws:cloudwatch/logGroup:LogGroup")
	require.Len(t, groups, 4, "postgresql and upgrade logs of the primary and the replica")
	for _, g := range groups {
		assert.EqualValues(t, 365, g.Input("retentionInDays"))
	}
	for _, name := range []string{"db", "db-replica-1"} {
		deps := strings.Join(instance(t, rec, name).Dependencies, " ")
		assert.Contains(t, deps, "LogGroup::"+name+"-postgresql")
	}
}

func TestProductionLayout(t *testing.T) {
	rec := mustRun(t, prodArgs())
	db := instance(t, rec, "db")
	assert.Equal(t, true, db.Input("multiAz"))
	assert.Equal(t, true, db.Input("deletionProtection"))
	assert.Equal(t, false, db.Input("skipFinalSnapshot"))
	assert.Equal(t, "db-final-a1b2c3d4", db.Input("finalSnapshotIdentifier"), "unique across destroy/recreate")
	assert.True(t, db.Protect)
	assert.True(t, db.RetainOnDelete)

	for i, az := range []string{"us-west-2b", "us-west-2c"} {
		name := []string{"db-replica-1", "db-replica-2"}[i]
		r := instance(t, rec, name)
		assert.Equal(t, "db", r.Input("replicateSourceDb"))
		assert.Equal(t, az, r.Input("availabilityZone"), "replica %d goes to AZ %d", i+1, i+2)
		assert.EqualValues(t, 100, r.Input("maxAllocatedStorage"), "replicas autoscale storage like the primary")
		assert.Nil(t, r.Input("password"), "replicas inherit credentials")
		assert.Equal(t, true, r.Input("performanceInsightsEnabled"))
		assert.Equal(t, "standard", r.Input("databaseInsightsMode"), "stated, so an AWS-side change is drift (review #22)")
		assert.EqualValues(t, 60, r.Input("monitoringInterval"))
		assert.True(t, r.Protect)
	}

	proxy := rec.Must(t, "aws:rds/proxy:Proxy", "db")
	assert.Equal(t, true, proxy.Input("requireTls"))
	assert.Equal(t, "POSTGRESQL", proxy.Input("engineFamily"))
	auths := proxy.Input("auths").([]any)
	require.Len(t, auths, 2, "the master user and the application's user")
	for i, arn := range []string{masterSecretARN, "arn:aws:secretsmanager:us-west-2:123456789012:db-app"} {
		auth := auths[i].(map[string]any)
		assert.Equal(t, "SECRETS", auth["authScheme"])
		assert.Equal(t, arn, auth["secretArn"])
	}
	secrets := rec.Must(t, "aws:ec2/securityGroupRule:SecurityGroupRule", "db-proxy-to-secrets")
	assert.Equal(t, "egress", secrets.Input("type"))
	assert.Equal(t, 443.0, secrets.Input("fromPort"))
	assert.Equal(t, []any{"10.30.0.0/16"}, secrets.Input("cidrBlocks"), "the proxy reaches Secrets Manager through the VPC's endpoint (review #12)")
	target := rec.Must(t, "aws:rds/proxyTarget:ProxyTarget", "db")
	assert.Equal(t, "db", target.Input("dbInstanceIdentifier"))

	policy := rec.Must(t, "aws:iam/rolePolicy:RolePolicy", "db-proxy")
	assert.Contains(t, policy.Input("policy"), `"Resource":["`+masterSecretARN+`","arn:aws:secretsmanager:us-west-2:123456789012:db-app"]`, "the proxy reads exactly its logins")

	for name, user := range map[string]string{"db-app": "scalemate_app"} {
		secret := rec.Must(t, "aws:secretsmanager/secret:Secret", name)
		assert.True(t, secret.Protect && secret.RetainOnDelete)
		assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:db", secret.Input("kmsKeyId"))
		version := rec.Must(t, "aws:secretsmanager/secretVersion:SecretVersion", name)
		assert.True(t, version.Inputs["secretString"].ContainsSecrets(), "%s: the password stays a Pulumi secret", name)
		assert.Contains(t, version.Input("secretString"), `"username":"`+user+`"`)
	}
	assert.Equal(t, "db/postgres/app", rec.Must(t, "aws:secretsmanager/secret:Secret", "db-app").Input("name"))
}

func TestSecurityGroupsAdmitOnlyClientsAndProxy(t *testing.T) {
	rec := mustRun(t, prodArgs())
	rules := map[string]mocktest.Resource{}
	for _, r := range rec.OfType("aws:ec2/securityGroupRule:SecurityGroupRule") {
		rules[r.Name] = r
		if r.Name == "db-proxy-to-secrets" {
			continue // 443 to the VPC's Secrets Manager endpoint, checked in TestProductionLayout
		}
		assert.EqualValues(t, 5432, r.Input("fromPort"))
		assert.EqualValues(t, 5432, r.Input("toPort"))
		assert.Nil(t, r.Input("cidrBlocks"), "%s: only security groups, never CIDRs", r.Name)
	}
	assert.Equal(t, "sg-nodes", rules["db-from-client-0"].Input("sourceSecurityGroupId"))
	assert.Equal(t, "db-id", rules["db-from-client-0"].Input("securityGroupId"))
	assert.Equal(t, "db-proxy-id", rules["db-from-proxy"].Input("sourceSecurityGroupId"))
	assert.Equal(t, "egress", rules["db-proxy-to-db"].Input("type"))
	assert.Len(t, rules, 5)
	for _, sg := range rec.OfType("aws:ec2/securityGroup:SecurityGroup") {
		assert.Nil(t, sg.Input("ingress"))
		assert.Nil(t, sg.Input("egress"), "no inline egress: the groups only allow what the rules add")
	}
}

// masterSecretARN is the fake ARN of the RDS-managed master secret of instance "db".
const masterSecretARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db-db-AbCdEf"

// Review 2026-11-30 #18: RDS manages and rotates the master password in a secret of its own
// under the database's key; Pulumi generates, stores and exports no master password.
func TestMasterPasswordManagedByRDS(t *testing.T) {
	rec := mustRun(t, baseArgs())
	db := instance(t, rec, "db")
	assert.Equal(t, true, db.Input("manageMasterUserPassword"))
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:db", db.Input("masterUserSecretKmsKeyId"))
	assert.Nil(t, db.Input("password"), "no password in the program or its state")
	_, generated := rec.Named("random:index/randomPassword:RandomPassword", "db-master")
	assert.False(t, generated)
	_, stored := rec.Named("aws:secretsmanager/secret:Secret", "db-master")
	assert.False(t, stored)
	for _, r := range rec.OfType("aws:rds/instance:Instance") {
		if r.Name != "db" {
			assert.Nil(t, r.Input("manageMasterUserPassword"), "%s: a replica has the primary's users", r.Name)
		}
	}
}

func TestRestores(t *testing.T) {
	args := baseArgs()
	args.SnapshotIdentifier = "db-final"
	args.Identifier = "db-restored"
	db := instance(t, mustRun(t, args), "db")
	assert.Equal(t, "db-final", db.Input("snapshotIdentifier"))
	assert.Equal(t, "db-restored", db.Input("identifier"))
	assert.Nil(t, db.Input("dbName"), "the database comes from the snapshot")

	args = baseArgs()
	args.RestoreToPointInTime = &PointInTime{SourceDBInstanceIdentifier: "db", RestoreTime: "2026-11-27T09:45:00Z"}
	db = instance(t, mustRun(t, args), "db")
	assert.Equal(t, map[string]any{"sourceDbInstanceIdentifier": "db", "restoreTime": "2026-11-27T09:45:00Z"}, db.Input("restoreToPointInTime"))

	// The source instance is gone: its retained automated backups still restore.
	args = baseArgs()
	args.RestoreToPointInTime = &PointInTime{SourceDbiResourceID: "db-ABCDEFGHIJKL", UseLatestRestorableTime: true}
	db = instance(t, mustRun(t, args), "db")
	assert.Equal(t, map[string]any{"sourceDbiResourceId": "db-ABCDEFGHIJKL", "useLatestRestorableTime": true}, db.Input("restoreToPointInTime"))

	args = baseArgs()
	args.BlueGreenUpdate = true
	db = instance(t, mustRun(t, args), "db")
	assert.Equal(t, map[string]any{"enabled": true}, db.Input("blueGreenUpdate"))
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"version":       {func(a *Args) { a.EngineVersion = "9.6" }, `EngineVersion: "9.6" is not a supported PostgreSQL version`},
		"class":         {func(a *Args) { a.InstanceClass = "r7g.large" }, `InstanceClass: "r7g.large" is not a DB instance class`},
		"replicas":      {func(a *Args) { a.ReadReplicas = -1 }, "ReadReplicas: -1 is out of range; allowed 0 to 5"},
		"retention":     {func(a *Args) { a.BackupRetentionDays = pulumi.IntRef(36) }, "BackupRetentionDays: 36 is out of range; allowed 0 to 35"},
		"replica no bk": {func(a *Args) { a.ReadReplicas, a.BackupRetentionDays = 1, pulumi.IntRef(0) }, "BackupRetentionDays: must be at least 1 with read replicas"},
		"windows":       {func(a *Args) { a.BackupWindow = "05:30-06:30" }, "BackupWindow: daily window 05:30-06:30 overlaps maintenance window sun:05:00-sun:06:00"},
		"user":          {func(a *Args) { a.MasterUsername = "postgres" }, `MasterUsername: "postgres" is not allowed`},
		"storage":       {func(a *Args) { a.AllocatedStorageGiB, a.MaxAllocatedStorageGiB = 100, 50 }, "MaxAllocatedStorageGiB: 50 must be between AllocatedStorageGiB (100) and 65536"},
		"both restores": {func(a *Args) {
			a.SnapshotIdentifier, a.RestoreToPointInTime = "s", &PointInTime{SourceDBInstanceIdentifier: "db", UseLatestRestorableTime: true}
		}, "SnapshotIdentifier: and RestoreToPointInTime are both set"},
		"pit time": {func(a *Args) {
			a.RestoreToPointInTime = &PointInTime{SourceDBInstanceIdentifier: "db", RestoreTime: "yesterday"}
		}, `RestoreToPointInTime.RestoreTime: "yesterday" is not an RFC 3339 time`},
		"pit neither":   {func(a *Args) { a.RestoreToPointInTime = &PointInTime{SourceDBInstanceIdentifier: "db"} }, "RestoreToPointInTime: set RestoreTime or UseLatestRestorableTime"},
		"blue/green":    {func(a *Args) { a.BlueGreenUpdate, a.ReadReplicas = true, 2 }, "BlueGreenUpdate: cannot be used with 2 read replicas"},
		"b/g no bk":     {func(a *Args) { a.BlueGreenUpdate, a.BackupRetentionDays = true, pulumi.IntRef(0) }, "BackupRetentionDays: must be at least 1 with BlueGreenUpdate"},
		"long id":       {func(a *Args) { a.ReadReplicas, a.Identifier = 1, strings.Repeat("a", 60) }, "is too long for replica names"},
		"secret window": {func(a *Args) { a.SecretRecoveryWindowDays = pulumi.IntRef(3) }, "SecretRecoveryWindowDays: 3 is not allowed; use 0 (delete at once) or 7 to 30"},
		"pit sources": {func(a *Args) {
			a.RestoreToPointInTime = &PointInTime{SourceDBInstanceIdentifier: "db", SourceDbiResourceID: "db-X", UseLatestRestorableTime: true}
		}, "name the source exactly one way"},
		"monitoring":   {func(a *Args) { a.MonitoringIntervalSeconds = pulumi.IntRef(20) }, "MonitoringIntervalSeconds: 20 is not allowed"},
		"pi retention": {func(a *Args) { a.PerformanceInsightsRetentionDays = 30 }, "PerformanceInsightsRetentionDays: 30 is not allowed; use 7, or a multiple of 31 up to 731"},
		"clients":      {func(a *Args) { a.ClientSecurityGroupIDs = nil }, "ClientSecurityGroupIDs: must list at least one security group"},
		"identifier":   {func(a *Args) { a.Identifier = "Prod_DB" }, `Identifier: "Prod_DB" is not an RDS identifier`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args)
			rec.Refused(t, err, `invalid postgres args for "db"`, c.want)
		})
	}
}

// Review 2026-11-30 #8: instances AWS will not delete (deletion protection) are retained when
// they leave the program or are replaced by a restore, so the update succeeds and the old
// instance keeps running beside the new one; without it they are deleted.
func TestDeletionProtectedInstancesAreRetained(t *testing.T) {
	args := prodArgs()
	args.Protect = false // staging: deletion protection, no Pulumi protection
	rec := mustRun(t, args)
	for _, r := range rec.OfType("aws:rds/instance:Instance") {
		assert.True(t, r.RetainOnDelete, r.Name)
		assert.False(t, r.Protect, r.Name)
	}
	args.DeletionProtection = false
	for _, r := range mustRun(t, args).OfType("aws:rds/instance:Instance") {
		assert.False(t, r.RetainOnDelete, r.Name)
	}
}
