package redis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{
		VPCID:                  pulumi.String("vpc-1"),
		SubnetIDs:              pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		ClientSecurityGroupIDs: []pulumi.StringInput{pulumi.String("sg-nodes")},
		NodeType:               "cache.t4g.small",
		Shards:                 1,
		ReplicasPerShard:       1,
	}
}

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "cache", args)
}

func group(t *testing.T, args Args) (*mocktest.Recorder, mocktest.Resource) {
	t.Helper()
	rec := mocktest.MustComponent(t, New, "cache", args)
	return rec, rec.Must(t, "aws:elasticache/replicationGroup:ReplicationGroup", "cache")
}

func TestClusterModeDefaults(t *testing.T) {
	rec, g := group(t, baseArgs())
	assert.Equal(t, "cache", g.Input("replicationGroupId"))
	assert.Equal(t, "valkey", g.Input("engine"))
	assert.Equal(t, "8.0", g.Input("engineVersion"))
	assert.Equal(t, "enabled", g.Input("clusterMode"))
	assert.EqualValues(t, 1, g.Input("numNodeGroups"))
	assert.EqualValues(t, 1, g.Input("replicasPerNodeGroup"))
	assert.Nil(t, g.Input("numCacheClusters"))
	assert.Equal(t, true, g.Input("automaticFailoverEnabled"))
	assert.Equal(t, true, g.Input("multiAzEnabled"))
	assert.Equal(t, true, g.Input("atRestEncryptionEnabled"))
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:cache", g.Input("kmsKeyId"))
	assert.Equal(t, true, g.Input("transitEncryptionEnabled"))
	assert.Equal(t, "required", g.Input("transitEncryptionMode"))
	assert.True(t, g.Inputs["authToken"].IsSecret())
	assert.Equal(t, "ROTATE", g.Input("authTokenUpdateStrategy"))
	assert.EqualValues(t, 1, g.Input("snapshotRetentionLimit"))
	assert.Equal(t, "05:00-06:00", g.Input("snapshotWindow"))
	assert.Nil(t, g.Input("finalSnapshotIdentifier"))
	assert.False(t, g.Protect)

	pg := rec.Must(t, "aws:elasticache/parameterGroup:ParameterGroup", "cache")
	assert.Equal(t, "valkey8", pg.Input("family"))
	assert.Equal(t, []any{map[string]any{"name": "cluster-enabled", "value": "yes"}}, pg.Input("parameters"))

	logs := g.Input("logDeliveryConfigurations").([]any)
	require.Len(t, logs, 2)
	for _, l := range logs {
		m := l.(map[string]any)
		assert.Equal(t, "cloudwatch-logs", m["destinationType"])
		assert.True(t, strings.HasPrefix(m["destination"].(string), "/aws/vendedlogs/elasticache/cache/"))
	}
	for _, lg := range rec.OfType("aws:cloudwatch/logGroup:LogGroup") {
		assert.EqualValues(t, 30, lg.Input("retentionInDays"))
	}

	v := rec.Must(t, "aws:secretsmanager/secretVersion:SecretVersion", "cache-auth")
	assert.True(t, v.Inputs["secretString"].ContainsSecrets())
	var secret map[string]any
	require.NoError(t, json.Unmarshal([]byte(v.Input("secretString").(string)), &secret))
	assert.Equal(t, "clustercfg.cache.abc123.usw2.cache.amazonaws.com", secret["host"], "cluster mode clients use the configuration endpoint")
	assert.Equal(t, true, secret["tls"])

	rule := rec.Must(t, "aws:ec2/securityGroupRule:SecurityGroupRule", "cache-from-client-0")
	assert.EqualValues(t, 6379, rule.Input("fromPort"))
	assert.Equal(t, "sg-nodes", rule.Input("sourceSecurityGroupId"))
}

func TestProductionShape(t *testing.T) {
	args := baseArgs()
	args.Shards, args.ReplicasPerShard = 3, 2
	args.SnapshotRetentionDays, args.FinalSnapshot, args.Protect = pulumi.IntRef(14), true, true
	args.Engine, args.EngineVersion = "redis", "7.1"
	rec, g := group(t, args)
	assert.EqualValues(t, 3, g.Input("numNodeGroups"))
	assert.EqualValues(t, 2, g.Input("replicasPerNodeGroup"))
	assert.Equal(t, "cache-final-a1b2c3d4", g.Input("finalSnapshotIdentifier"))
	assert.True(t, g.Protect && g.RetainOnDelete)
	pg, _ := rec.Named("aws:elasticache/parameterGroup:ParameterGroup", "cache")
	assert.Equal(t, "redis7", pg.Input("family"))
	key, _ := rec.Named("aws:kms/key:Key", "cache")
	assert.True(t, key.Protect && key.RetainOnDelete)
}

func TestWithoutClusterMode(t *testing.T) {
	off := false
	args := baseArgs()
	args.ClusterMode = &off
	args.Shards, args.ReplicasPerShard = 0, 0
	rec, g := group(t, args)
	assert.Equal(t, "disabled", g.Input("clusterMode"))
	assert.EqualValues(t, 1, g.Input("numCacheClusters"))
	assert.Nil(t, g.Input("numNodeGroups"))
	assert.Equal(t, false, g.Input("automaticFailoverEnabled"), "nothing to fail over to")
	assert.Equal(t, false, g.Input("multiAzEnabled"))
	pg, _ := rec.Named("aws:elasticache/parameterGroup:ParameterGroup", "cache")
	assert.Equal(t, []any{map[string]any{"name": "cluster-enabled", "value": "no"}}, pg.Input("parameters"))
}

// Raising AuthTokenVersion changes the password's keepers (a new token), not the group's identity.
func TestAuthTokenRotationAndRestore(t *testing.T) {
	args := baseArgs()
	args.AuthTokenVersion = 2
	args.RestoreSnapshotName = "cache-final"
	rec, g := group(t, args)
	pw := rec.Must(t, "random:index/randomPassword:RandomPassword", "cache-auth")
	assert.Equal(t, map[string]any{"version": "2"}, pw.Input("keepers"))
	assert.Equal(t, "cache-final", g.Input("snapshotName"))
	assert.Equal(t, "ROTATE", g.Input("authTokenUpdateStrategy"))

	// The second step of a rotation invalidates the old token.
	args.AuthTokenUpdateStrategy = "SET"
	_, g = group(t, args)
	assert.Equal(t, "SET", g.Input("authTokenUpdateStrategy"))
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	off := false
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"engine":       {func(a *Args) { a.Engine = "memcached" }, `Engine: "memcached" is not allowed; use one of valkey, redis`},
		"version":      {func(a *Args) { a.Engine, a.EngineVersion = "redis", "6.2" }, `EngineVersion: "6.2" is not allowed; use one of 7.0, 7.1`},
		"node type":    {func(a *Args) { a.NodeType = "r7g.large" }, `NodeType: "r7g.large" is not a cache node type`},
		"shards":       {func(a *Args) { a.Shards = 0 }, "Shards: 0 is out of range; allowed 1 to 500"},
		"strategy":     {func(a *Args) { a.AuthTokenUpdateStrategy = "DELETE" }, `AuthTokenUpdateStrategy: "DELETE" is not allowed; use one of ROTATE, SET`},
		"short window": {func(a *Args) { a.SnapshotWindow = "05:00-05:30" }, `"05:00-05:30" is shorter than the 60 minutes`},
		"no cluster":   {func(a *Args) { a.ClusterMode, a.Shards = &off, 2 }, "Shards: 2 shards need ClusterMode"},
		"replicas":     {func(a *Args) { a.ReplicasPerShard = 6 }, "ReplicasPerShard: 6 is out of range; allowed 0 to 5"},
		"snapshots":    {func(a *Args) { a.SnapshotRetentionDays = pulumi.IntRef(40) }, "SnapshotRetentionDays: 40 is out of range"},
		"windows":      {func(a *Args) { a.SnapshotWindow = "07:30-08:30" }, "SnapshotWindow: daily window 07:30-08:30 overlaps maintenance window sun:07:00-sun:08:00"},
		"id":           {func(a *Args) { a.Identifier = "a-very-long-replication-group-identifier-x" }, "is not a replication group id"},
		"clients":      {func(a *Args) { a.ClientSecurityGroupIDs = nil }, "ClientSecurityGroupIDs: must list at least one"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args)
			rec.Refused(t, err, `invalid redis args for "cache"`, c.want)
		})
	}
}

func TestMemberIDs(t *testing.T) {
	assert.Equal(t, []string{"c-0001-001", "c-0001-002", "c-0002-001", "c-0002-002"}, MemberIDs("c", 2, 1, true))
	assert.Equal(t, []string{"c-001", "c-002", "c-003"}, MemberIDs("c", 1, 2, false))
}
