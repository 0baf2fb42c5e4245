package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/stacks"
)

const (
	typeDBInstance = "aws:rds/instance:Instance"
	typeDBProxy    = "aws:rds/proxy:Proxy"
	typeCache      = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeVault      = "aws:backup/vault:Vault"
	typeVaultLock  = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
	typeRestoreTP  = "aws:backup/restoreTestingPlan:RestoreTestingPlan"
	typeSecret     = "aws:secretsmanager/secret:Secret"
)

// dataExpectations are the data tier's promises per tier (DESIGN.md section 2).
var dataExpectations = map[string]struct {
	multiAZ                   bool
	replicas                  int
	backupDays                float64
	proxy, kept, protected    bool
	shards, replicasPerShard  float64
	vaults, locks, restoreTPs int
}{
	"dev":     {multiAZ: false, replicas: 0, backupDays: 1, shards: 1, replicasPerShard: 1, vaults: 1},
	"staging": {multiAZ: true, replicas: 1, backupDays: 7, proxy: true, kept: true, shards: 2, replicasPerShard: 1, vaults: 1, restoreTPs: 1},
	"prod":    {multiAZ: true, replicas: 2, backupDays: 30, proxy: true, kept: true, protected: true, shards: 3, replicasPerShard: 2, vaults: 2, locks: 2, restoreTPs: 1},
}

func TestDataTierPerTier(t *testing.T) {
	for stack, want := range dataExpectations {
		t.Run(stack, func(t *testing.T) {
			rec := mustRunStack(t, stack)
			primary := rec.Must(t, typeDBInstance, "scalemate-"+stack)
			assert.Equal(t, want.multiAZ, primary.Input("multiAz"))
			assert.Equal(t, want.backupDays, primary.Input("backupRetentionPeriod"))
			assert.Equal(t, want.kept, primary.Input("deletionProtection"))
			assert.Equal(t, !want.kept, primary.Input("skipFinalSnapshot"))
			assert.Equal(t, want.protected, primary.Protect)
			assert.Equal(t, true, primary.Input("storageEncrypted"))
			assert.Equal(t, false, primary.Input("publiclyAccessible"))
			assert.Len(t, rec.OfType(typeDBInstance), 1+want.replicas)
			if want.proxy {
				assert.Len(t, rec.OfType(typeDBProxy), 1)
			} else {
				assert.Empty(t, rec.OfType(typeDBProxy))
			}

			cache := rec.Must(t, typeCache, "scalemate-"+stack+"-cache")
			assert.Equal(t, "enabled", cache.Input("clusterMode"))
			assert.Equal(t, want.shards, cache.Input("numNodeGroups"))
			assert.Equal(t, want.replicasPerShard, cache.Input("replicasPerNodeGroup"))
			assert.Equal(t, true, cache.Input("multiAzEnabled"))
			assert.Equal(t, "required", cache.Input("transitEncryptionMode"))
			assert.Equal(t, want.protected, cache.Protect)

			assert.Len(t, rec.OfType(typeVault), want.vaults)
			assert.Len(t, rec.OfType(typeVaultLock), want.locks)
			assert.Len(t, rec.OfType(typeRestoreTP), want.restoreTPs)
			for _, s := range rec.OfType(typeSecret) {
				assert.Equal(t, want.protected, s.Protect, "secret %s", s.Name)
				window := 30.0
				if stack == "dev" {
					window = 0 // a destroyed dev stack can be recreated with the same secret names
				}
				assert.Equal(t, window, s.Input("recoveryWindowInDays"), "secret %s", s.Name)
			}
		})
	}
}

// The data stores sit in the isolated subnets and admit only the cluster's security group.
func TestDataTierNetworkPlacement(t *testing.T) {
	rec := mustRunStack(t, "staging")
	group := rec.Must(t, "aws:rds/subnetGroup:SubnetGroup", "scalemate-staging")
	for _, id := range group.Input("subnetIds").([]any) {
		assert.Contains(t, id, "-isolated-", "DB subnet group uses isolated subnets")
	}
	for _, rule := range rec.OfType("aws:ec2/securityGroupRule:SecurityGroupRule") {
		if strings.Contains(rule.Name, "from-client") {
			assert.Equal(t, "sg-scalemate-staging", rule.Input("sourceSecurityGroupId"), "%s admits the EKS cluster security group", rule.Name)
		}
	}
}

// Prod copies every backup to the DR region through a provider of its own.
func TestProdBackupsCopiedToDRRegion(t *testing.T) {
	rec := mustRunStack(t, "prod")
	dr := rec.Must(t, typeAWSProv, "aws-us-east-2")
	assert.Equal(t, "us-east-2", dr.Input("region"))
	copyVault := rec.Must(t, typeVault, "scalemate-prod-us-east-2")
	assert.Contains(t, copyVault.Provider, "pulumi:providers:aws::aws-us-east-2::")
	assert.True(t, copyVault.Protect)
}

// Bad data-tier values fail with the config key and nothing registered.
func TestBadDataConfigRegistersNothing(t *testing.T) {
	cases := []struct{ stack, key, value, want string }{
		{"dev", stacks.KeyPostgres, `{"readReplicas":9}`, "scalemate:postgres.readReplicas: 9 is out of range"},
		{"dev", stacks.KeyPostgres, `{"readReplicas":9}`, "scalemate:postgres.readReplicas: 9 is out of range; allowed 0 to 5"},
		{"dev", stacks.KeyPostgres, `{"backupRetentionDays":40}`, "scalemate:postgres.backupRetentionDays: 40 is out of range; allowed 0 to 35"},
		{"staging", stacks.KeyPostgres, `{"blueGreenUpdate":true}`, "scalemate:postgres.blueGreenUpdate: cannot be used with 1 read replicas"},
		{"dev", stacks.KeyPostgres, `{"restore":{"snapshotIdentifier":"s1","sourceDbInstanceIdentifier":"db","useLatestRestorableTime":true}}`, "scalemate:postgres.restore.snapshotIdentifier: and RestoreToPointInTime are both set"},
		{"dev", stacks.KeyPostgres, `{"restore":{}}`, "scalemate:postgres.restore: set snapshotIdentifier, or the point-in-time source"},
		{"dev", stacks.KeyRedis, `{"shards":501}`, "scalemate:redis.shards: 501 is out of range"},
		{"dev", stacks.KeyRedis, `{"engine":"memcached"}`, `scalemate:redis.engine: "memcached" is not allowed`},
		{"dev", stacks.KeyBackup, `{"weeklyRetentionDays":3}`, "scalemate:backup.weeklyRetentionDays: 3 keeps a weekly point for less than a week"},
		{"prod", stacks.KeyBackup, `{"drRegion":"us-west-2"}`, `scalemate:backup.drRegion: "us-west-2" is the main region`},
		{"prod", stacks.KeyPostgres, `{"multiAz":false}`, "scalemate:postgres.multiAz: prod needs a Multi-AZ standby"},
		{"prod", stacks.KeyRedis, `{"replicasPerShard":0}`, "scalemate:redis.replicasPerShard: prod needs at least 1 replica per shard"},
	}
	for _, c := range cases {
		t.Run(c.stack+" "+c.value, func(t *testing.T) {
			rec, err := runStack(t, c.stack, func(cfg map[string]string) { cfg[c.key] = c.value })
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, rec.All(), "no resource may be registered when config is invalid")
		})
	}
}

// A destroyed dev stack leaves nothing billed: its buckets go with their objects and its
// database's automated backups with it; elsewhere both are kept (review 2026-11-30 #19).
func TestDevDestroyLeavesNothingBilled(t *testing.T) {
	for stack, dev := range map[string]bool{"dev": true, "staging": false, "prod": false} {
		rec := mustRunStack(t, stack)
		buckets := rec.OfType("aws:s3/bucketV2:BucketV2")
		require.Len(t, buckets, 4, "CDN logs and assets, load balancer logs, canary artifacts")
		for _, b := range buckets {
			if b.Name == "scalemate-"+stack+"-artifacts" {
				// Canary artifacts expire in weeks and hold nothing worth keeping, in every tier.
				assert.Equal(t, true, b.Input("forceDestroy"), stack)
				continue
			}
			assert.Equal(t, dev, b.Input("forceDestroy"), "%s %s", stack, b.Name)
		}
		assert.Equal(t, dev, rec.Must(t, "aws:rds/instance:Instance", "scalemate-"+stack).Input("deleteAutomatedBackups"), stack)
	}
}

// A restore under a new identifier changes no logical name: the cache is replaced in place of
// the old one and its KMS key, which encrypts the old cache's final snapshot, stays
// (review 2026-11-30 #7).
func TestRestoreKeepsTheDataStoreKeys(t *testing.T) {
	before := mustRunStack(t, "staging")
	after, err := runStack(t, "staging", func(cfg map[string]string) {
		cfg[stacks.KeyRedis] = `{"identifier":"scalemate-staging-cache-r1","restoreSnapshotName":"scalemate-staging-cache-final-a1b2"}`
	})
	require.NoError(t, err)
	var keys []string
	for _, k := range before.OfType("aws:kms/key:Key") {
		keys = append(keys, k.URN)
	}
	for _, k := range after.OfType("aws:kms/key:Key") {
		assert.Contains(t, keys, k.URN, "the key %s keeps its logical name", k.Name)
	}
	cache := after.Must(t, "aws:elasticache/replicationGroup:ReplicationGroup", "scalemate-staging-cache")
	assert.Equal(t, "scalemate-staging-cache-r1", cache.Input("replicationGroupId"))
}
