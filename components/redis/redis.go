// Package redis is an ElastiCache replication group (Valkey or Redis OSS) in cluster mode:
// shards with replicas spread over AZs with automatic failover, encryption at rest (own KMS
// key) and in transit (TLS required), an AUTH token kept in Secrets Manager and rotatable in
// place, daily snapshots, slow and engine logs with retention, and restore from a snapshot.
package redis

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/kmskey"
	"github.com/scalemate/infra/internal/sgrule"
	"github.com/scalemate/infra/internal/validate"
	"github.com/scalemate/infra/internal/window"
)

// Port is the engine's port.
const Port = 6379

// EngineVersions lists the supported versions per engine.
var EngineVersions = map[string][]string{
	"valkey": {"7.2", "8.0", "8.1"},
	"redis":  {"7.0", "7.1"},
}

var (
	idRE       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	nodeTypeRE = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
)

// Args configures a Redis. The component's name is the replication group id unless
// Identifier is set.
type Args struct {
	// VPCID is the VPC of the security group. Required.
	VPCID pulumi.StringInput
	// SubnetIDs are the isolated subnets (2+ AZs). Required.
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupIDs may connect on 6379 (the EKS node/cluster security group). Required.
	ClientSecurityGroupIDs []pulumi.StringInput
	// Identifier is the replication group id, at most 40 characters. Default: the name.
	Identifier string
	// Engine is valkey or redis. Default valkey.
	Engine string
	// EngineVersion is one of EngineVersions[Engine]. Default 8.0 (valkey), 7.1 (redis).
	EngineVersion string
	// NodeType is the cache node type, e.g. cache.r7g.large. Required.
	NodeType string
	// ClusterMode shards the keyspace (the parameter group sets cluster-enabled yes). Default
	// true; without it Shards must be 1.
	ClusterMode *bool
	// Shards is the number of node groups, 1 to 500 with ClusterMode (required); without it, 0 or 1.
	Shards int
	// ReplicasPerShard is 0 to 5; with one or more, failover is automatic and Multi-AZ on.
	ReplicasPerShard int
	// SnapshotRetentionDays keeps daily snapshots 0 (off) to 35 days. Default (nil) 1.
	SnapshotRetentionDays *int
	// SnapshotWindow is the daily snapshot window, UTC, at least 60 minutes. Default 05:00-06:00.
	SnapshotWindow string
	// MaintenanceWindow is the weekly window, UTC; must not overlap SnapshotWindow. Default
	// sun:07:00-sun:08:00.
	MaintenanceWindow string
	// FinalSnapshot takes <Identifier>-final when the group is deleted. Default false.
	FinalSnapshot bool
	// RestoreSnapshotName seeds a new group from an ElastiCache snapshot (forces replacement).
	RestoreSnapshotName string
	// AuthTokenVersion: raising it generates a new AUTH token and rotates it in place. Default 1.
	AuthTokenVersion int
	// AuthTokenUpdateStrategy is ROTATE (old and new token both valid: deploy, let clients
	// re-read the secret) or SET (only the current token valid: the second step of a
	// rotation). Default ROTATE.
	AuthTokenUpdateStrategy string
	// SecretRecoveryWindowDays is 0 (the secret is deleted at once, so a destroyed dev stack
	// can be recreated) or 7 to 30. Default (nil) 30.
	SecretRecoveryWindowDays *int
	// LogRetentionDays is the retention of the slow and engine logs. Default 30.
	LogRetentionDays int
	// ApplyImmediately applies changes now instead of in the maintenance window. Default false.
	ApplyImmediately bool
	// Protect guards the group, key and secret against deletion by Pulumi and retains the key
	// and secret if they leave the program (production). Default false.
	Protect bool
}

// Redis is the component resource.
type Redis struct {
	pulumi.ResourceState

	// ConfigurationEndpoint is the cluster-mode endpoint clients discover shards from (empty
	// without cluster mode).
	ConfigurationEndpoint pulumi.StringOutput `pulumi:"configurationEndpoint"`
	// PrimaryEndpoint and ReaderEndpoint are set without cluster mode.
	PrimaryEndpoint pulumi.StringOutput `pulumi:"primaryEndpoint"`
	ReaderEndpoint  pulumi.StringOutput `pulumi:"readerEndpoint"`
	// Port is 6379.
	Port pulumi.IntOutput `pulumi:"port"`
	// SecretARN holds the AUTH token and endpoint.
	SecretARN pulumi.StringOutput `pulumi:"secretArn"`
	// KMSKeyARN encrypts data at rest, snapshots and the secret.
	KMSKeyARN pulumi.StringOutput `pulumi:"kmsKeyArn"`
	// ReplicationGroupID is the group's id (for alarms).
	ReplicationGroupID pulumi.StringOutput `pulumi:"replicationGroupId"`
	// SecurityGroupID is the group's security group.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
}

func (a Args) withDefaults(name string) Args {
	if a.Identifier == "" {
		a.Identifier = name
	}
	if a.Engine == "" {
		a.Engine = "valkey"
	}
	if a.EngineVersion == "" {
		a.EngineVersion = map[string]string{"valkey": "8.0", "redis": "7.1"}[a.Engine]
	}
	if a.ClusterMode == nil {
		on := true
		a.ClusterMode = &on
	}
	if a.SnapshotRetentionDays == nil {
		a.SnapshotRetentionDays = pulumi.IntRef(1)
	}
	if a.SecretRecoveryWindowDays == nil {
		a.SecretRecoveryWindowDays = pulumi.IntRef(30)
	}
	if a.AuthTokenUpdateStrategy == "" {
		a.AuthTokenUpdateStrategy = "ROTATE"
	}
	if a.SnapshotWindow == "" {
		a.SnapshotWindow = "05:00-06:00"
	}
	if a.MaintenanceWindow == "" {
		a.MaintenanceWindow = "sun:07:00-sun:08:00"
	}
	if a.AuthTokenVersion == 0 {
		a.AuthTokenVersion = 1
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = 30
	}
	return a
}

// Family is the parameter group family of an engine and version ("valkey", "8.0" -> "valkey8").
func Family(engine, version string) string {
	major, _, _ := strings.Cut(version, ".")
	return engine + major
}

// Check validates every setting except the inputs wired from other components (VPC, subnets,
// client groups), so a program can check all its components before registering anything.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid redis args for %q", name))
}

func (a Args) validate(name string) error {
	var p validate.Problems
	p.Placement(a.VPCID != nil, a.SubnetIDs != nil, len(a.ClientSecurityGroupIDs))
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid redis args for %q", name))
}

func (a Args) check(p *validate.Problems, name string) {
	a = a.withDefaults(name)
	if !idRE.MatchString(a.Identifier) || strings.Contains(a.Identifier, "--") || strings.HasSuffix(a.Identifier, "-") {
		p.Addf("Identifier", "%q is not a replication group id (lower-case letters, digits and single dashes, at most 40, starting with a letter)", a.Identifier)
	}
	p.OneOf("Engine", a.Engine, "valkey", "redis")
	if versions, ok := EngineVersions[a.Engine]; ok {
		p.OneOf("EngineVersion", a.EngineVersion, versions...)
	}
	if !nodeTypeRE.MatchString(a.NodeType) {
		p.Addf("NodeType", "%q is not a cache node type (e.g. cache.r7g.large)", a.NodeType)
	}
	if *a.ClusterMode {
		p.IntRange("Shards", a.Shards, 1, 500)
	} else if a.Shards > 1 {
		p.Addf("Shards", "%d shards need ClusterMode; without it there is exactly 1", a.Shards)
	}
	p.IntRange("ReplicasPerShard", a.ReplicasPerShard, 0, 5)
	p.IntRange("SnapshotRetentionDays", *a.SnapshotRetentionDays, 0, 35)
	p.OneOf("AuthTokenUpdateStrategy", a.AuthTokenUpdateStrategy, "ROTATE", "SET")
	if w := *a.SecretRecoveryWindowDays; w != 0 && (w < 7 || w > 30) {
		p.Addf("SecretRecoveryWindowDays", "%d is not allowed; use 0 (delete at once) or 7 to 30", w)
	}
	if err := window.Check(a.SnapshotWindow, a.MaintenanceWindow, window.MinElastiCache); err != nil {
		p.Addf("SnapshotWindow", "%v", err)
	}
	p.IntRange("AuthTokenVersion", a.AuthTokenVersion, 1, 1<<30)
	p.IntRange("LogRetentionDays", a.LogRetentionDays, 1, 3653)
}

// New creates the replication group. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Redis, error) {
	args = args.withDefaults(name)
	if err := args.validate(name); err != nil {
		return nil, err
	}
	r := &Redis{}
	if err := ctx.RegisterComponentResource("scalemate:redis:Redis", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	stateful := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect)}

	key, err := kmskey.New(ctx, name, kmskey.Args{
		Description: "ElastiCache data, snapshots and AUTH secret of " + args.Identifier, Alias: args.Identifier + "-cache", Protect: args.Protect,
		// The final snapshot is encrypted with it.
		Retain: args.FinalSnapshot,
	}, parent)
	if err != nil {
		return nil, err
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, name, &elasticache.SubnetGroupArgs{
		Name:        pulumi.String(args.Identifier),
		Description: pulumi.String("Isolated subnets of " + args.Identifier),
		SubnetIds:   args.SubnetIDs,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating cache subnet group: %w", err)
	}
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VPCID,
		Description: pulumi.String(args.Engine + " " + args.Identifier + ": 6379 from the cluster only"),
		Tags:        pulumi.StringMap{"Name": pulumi.String(args.Identifier)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating security group: %w", err)
	}
	for i, client := range args.ClientSecurityGroupIDs {
		if err := sgrule.Allow(ctx, fmt.Sprintf("%s-from-client-%d", name, i), sgrule.Ingress, sg.ID(), client, Port, args.Engine+" from client", parent); err != nil {
			return nil, err
		}
	}
	clusterEnabled := map[bool]string{true: "yes", false: "no"}[*args.ClusterMode]
	// Auto-named: a family or cluster-mode change replaces the group, and the new one must not
	// collide with the old while the cluster moves over.
	params, err := elasticache.NewParameterGroup(ctx, name, &elasticache.ParameterGroupArgs{
		Family:      pulumi.String(Family(args.Engine, args.EngineVersion)),
		Description: pulumi.String("cluster-enabled " + clusterEnabled + " for " + args.Identifier),
		Parameters: elasticache.ParameterGroupParameterArray{
			elasticache.ParameterGroupParameterArgs{Name: pulumi.String("cluster-enabled"), Value: pulumi.String(clusterEnabled)},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating parameter group: %w", err)
	}

	token, err := random.NewRandomPassword(ctx, name+"-auth", &random.RandomPasswordArgs{
		Length:  pulumi.Int(64),
		Special: pulumi.Bool(false), // AUTH tokens refuse several printable characters
		// A new version regenerates the token, which the group then rotates in place.
		Keepers: pulumi.StringMap{"version": pulumi.String(strconv.Itoa(args.AuthTokenVersion))},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating AUTH token: %w", err)
	}

	var logs elasticache.ReplicationGroupLogDeliveryConfigurationArray
	var logGroups []pulumi.Resource
	for _, logType := range []string{"slow-log", "engine-log"} {
		g, err := cloudwatch.NewLogGroup(ctx, name+"-"+logType, &cloudwatch.LogGroupArgs{
			// Under /aws/vendedlogs/, so CloudWatch Logs grants log delivery by prefix instead of
			// adding one resource-policy entry per group (5,120 characters, 10 policies a region).
			Name:            pulumi.String("/aws/vendedlogs/elasticache/" + args.Identifier + "/" + logType),
			RetentionInDays: pulumi.Int(args.LogRetentionDays),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating %s log group: %w", logType, err)
		}
		logGroups = append(logGroups, g)
		logs = append(logs, elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
			Destination: g.Name, DestinationType: pulumi.String("cloudwatch-logs"),
			LogFormat: pulumi.String("json"), LogType: pulumi.String(logType),
		})
	}

	hasReplica := args.ReplicasPerShard > 0
	group := &elasticache.ReplicationGroupArgs{
		ReplicationGroupId:       pulumi.String(args.Identifier),
		Description:              pulumi.String("ScaleMate cache " + args.Identifier),
		Engine:                   pulumi.String(args.Engine),
		EngineVersion:            pulumi.String(args.EngineVersion),
		NodeType:                 pulumi.String(args.NodeType),
		Port:                     pulumi.Int(Port),
		ParameterGroupName:       params.Name,
		SubnetGroupName:          subnets.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.ID()},
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 key.Arn,
		TransitEncryptionEnabled: pulumi.Bool(true),
		TransitEncryptionMode:    pulumi.String("required"),
		AuthToken:                token.Result,
		AuthTokenUpdateStrategy:  pulumi.String(args.AuthTokenUpdateStrategy),
		// Cluster mode needs automatic failover; without replicas there is nothing to fail to.
		AutomaticFailoverEnabled:  pulumi.Bool(*args.ClusterMode || hasReplica),
		MultiAzEnabled:            pulumi.Bool(hasReplica),
		SnapshotRetentionLimit:    pulumi.Int(*args.SnapshotRetentionDays),
		SnapshotWindow:            pulumi.String(args.SnapshotWindow),
		MaintenanceWindow:         pulumi.String(args.MaintenanceWindow),
		AutoMinorVersionUpgrade:   pulumi.Bool(true),
		ApplyImmediately:          pulumi.Bool(args.ApplyImmediately),
		LogDeliveryConfigurations: logs,
	}
	if *args.ClusterMode {
		group.ClusterMode = pulumi.String("enabled")
		group.NumNodeGroups = pulumi.Int(args.Shards)
		group.ReplicasPerNodeGroup = pulumi.Int(args.ReplicasPerShard)
	} else {
		group.ClusterMode = pulumi.String("disabled")
		group.NumCacheClusters = pulumi.Int(1 + args.ReplicasPerShard)
	}
	if args.FinalSnapshot {
		// A suffix fixed at creation keeps the name unique across destroy/recreate cycles.
		suffix, err := random.NewRandomId(ctx, name+"-final-snapshot", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, parent)
		if err != nil {
			return nil, fmt.Errorf("generating final snapshot suffix: %w", err)
		}
		group.FinalSnapshotIdentifier = pulumi.Sprintf("%s-final-%s", args.Identifier, suffix.Hex)
	}
	if args.RestoreSnapshotName != "" {
		group.SnapshotName = pulumi.String(args.RestoreSnapshotName)
	}
	rg, err := elasticache.NewReplicationGroup(ctx, name, group, append(slices.Clone(stateful), pulumi.DependsOn(logGroups))...)
	if err != nil {
		return nil, fmt.Errorf("creating replication group: %w", err)
	}

	endpoint := rg.PrimaryEndpointAddress
	if *args.ClusterMode {
		endpoint = rg.ConfigurationEndpointAddress
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-auth", &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.Identifier + "/" + args.Engine + "/auth"),
		Description:          pulumi.String("AUTH token and endpoint of " + args.Identifier),
		KmsKeyId:             key.Arn,
		RecoveryWindowInDays: pulumi.Int(*args.SecretRecoveryWindowDays),
	}, stateful...)
	if err != nil {
		return nil, fmt.Errorf("creating AUTH secret: %w", err)
	}
	if _, err := secretsmanager.NewSecretVersion(ctx, name+"-auth", &secretsmanager.SecretVersionArgs{
		SecretId: secret.ID(),
		SecretString: pulumi.All(token.Result, endpoint).ApplyT(func(v []any) (string, error) {
			b, err := json.Marshal(map[string]any{
				"authToken": v[0].(string), "host": v[1].(string), "port": Port, "tls": true, "clusterMode": *args.ClusterMode,
			})
			return string(b), err
		}).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("storing AUTH secret: %w", err)
	}

	r.ConfigurationEndpoint, r.PrimaryEndpoint, r.ReaderEndpoint = rg.ConfigurationEndpointAddress, rg.PrimaryEndpointAddress, rg.ReaderEndpointAddress
	r.Port, r.SecretARN, r.KMSKeyARN = pulumi.Int(Port).ToIntOutput(), secret.Arn, key.Arn
	r.ReplicationGroupID, r.SecurityGroupID = rg.ReplicationGroupId, sg.ID().ToStringOutput()
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{
		"configurationEndpoint": r.ConfigurationEndpoint, "primaryEndpoint": r.PrimaryEndpoint,
		"readerEndpoint": r.ReaderEndpoint, "port": r.Port, "secretArn": r.SecretARN, "kmsKeyArn": r.KMSKeyARN,
		"replicationGroupId": r.ReplicationGroupID, "securityGroupId": r.SecurityGroupID,
	})
}

// MemberIDs are the cache cluster ids ElastiCache gives a replication group's nodes (the
// CacheClusterId dimension of node metrics): <id>-<shard>-<node> in cluster mode, <id>-<node>
// without it.
func MemberIDs(id string, shards, replicasPerShard int, clusterMode bool) []string {
	var ids []string
	if !clusterMode {
		for n := 1; n <= replicasPerShard+1; n++ {
			ids = append(ids, fmt.Sprintf("%s-%03d", id, n))
		}
		return ids
	}
	for s := 1; s <= shards; s++ {
		for n := 1; n <= replicasPerShard+1; n++ {
			ids = append(ids, fmt.Sprintf("%s-%04d-%03d", id, s, n))
		}
	}
	return ids
}
