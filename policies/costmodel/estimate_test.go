package costmodel

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/analyzed"
)

func res(typ, name string, props map[string]any, deps ...string) analyzed.Resource {
	return analyzed.Resource{Type: typ, Name: name, URN: "urn:" + name, Dependencies: deps,
		Props: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(props))}
}

// Each price below is worked out by hand from the table (730 h a month).
func TestEstimateKnownResources(t *testing.T) {
	rs := []analyzed.Resource{
		res("aws:eks/cluster:Cluster", "cluster", map[string]any{"upgradePolicy": map[string]any{"supportType": "STANDARD"}}),
		// 0.10 x 730 = 73.00
		res("aws:ec2/natGateway:NatGateway", "nat", nil),
		// (0.045 + 0.005) x 730 = 36.50
		res("aws:ec2/launchTemplate:LaunchTemplate", "lt", map[string]any{"blockDeviceMappings": []any{map[string]any{"ebs": map[string]any{"volumeSize": 100}}}}),
		res("aws:eks/nodeGroup:NodeGroup", "spot", map[string]any{"instanceTypes": []any{"m6i.large", "m5.large"}, "capacityType": "SPOT",
			"scalingConfig": map[string]any{"desiredSize": 3}}, "urn:lt"),
		// 3 x (0.096 x 0.4 x 730 + 100 x 0.08) = 3 x (28.032 + 8) = 108.096
		res("aws:eks/nodeGroup:NodeGroup", "ondemand", map[string]any{"instanceTypes": []any{"m6i.xlarge"}, "capacityType": "ON_DEMAND",
			"scalingConfig": map[string]any{"desiredSize": 2}}),
		// 2 x (0.192 x 730 + 20 x 0.08) = 2 x 141.76 = 283.52
		res("aws:rds/instance:Instance", "db", map[string]any{"instanceClass": "db.m7g.large", "multiAz": true, "allocatedStorage": 50}),
		// 2 x (0.168 x 730 + 50 x 0.115) = 2 x 128.39 = 256.78
		res("aws:rds/instance:Instance", "replica", map[string]any{"instanceClass": "db.m7g.large", "replicateSourceDb": "db"}),
		// a replica mirrors the primary's 50 GB: 0.168 x 730 + 50 x 0.115 = 128.39
		res("aws:rds/proxy:Proxy", "proxy", nil),
		// 2 vCPU x 0.015 x 730 = 21.90
		res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", map[string]any{"engine": "valkey", "nodeType": "cache.r7g.large",
			"numNodeGroups": 3, "replicasPerNodeGroup": 2}),
		// 9 x 0.219 x 0.8 x 730 = 1151.064
		res("aws:kms/key:Key", "key", nil),                     // 1.00
		res("aws:secretsmanager/secret:Secret", "secret", nil), // 0.40
		res("aws:ec2/vpcEndpoint:VpcEndpoint", "sts", map[string]any{"vpcEndpointType": "Interface", "subnetIds": []any{"a", "b", "c"}}),
		// 3 x 0.01 x 730 = 21.90
		res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", map[string]any{"vpcEndpointType": "Gateway"}),           // free
		res("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", map[string]any{"metricName": "CPUUtilization"}), // 0.10
		res("aws:cloudwatch/metricAlarm:MetricAlarm", "lag", map[string]any{"metricQueries": []any{
			map[string]any{"id": "m0", "metric": map[string]any{"metricName": "ReplicaLag"}},
			map[string]any{"id": "m1", "metric": map[string]any{"metricName": "ReplicaLag"}},
			map[string]any{"id": "worst", "expression": "MAX([m0,m1])"}}}), // 2 metrics x 0.10 = 0.20
		res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "health", nil), // 0.50
		res("aws:cloudwatch/dashboard:Dashboard", "dash", nil),             // 3.00
	}
	est := Estimate(rs)
	byName := map[string]float64{}
	for _, l := range est.Lines {
		byName[l.Name] = l.Monthly
	}
	want := map[string]float64{"cluster": 73, "nat": 36.5, "spot": 108.096, "ondemand": 283.52, "db": 256.78, "proxy": 21.9,
		"cache": 1151.064, "key": 1, "secret": 0.4, "sts": 21.9, "replica": 128.39, "cpu": 0.1, "lag": 0.2, "health": 0.5, "dash": 3}
	for name, usd := range want {
		assert.InDelta(t, usd, byName[name], 0.001, name)
	}
	assert.NotContains(t, byName, "s3", "gateway endpoints are free")
	assert.InDelta(t, 2086.35, est.Total, 0.001)
	assert.Equal(t, "cache", est.Lines[0].Name, "most expensive first")
	assert.Contains(t, est.Table(), "TOTAL")

	// Commitments on the steady part, by hand: on-demand nodes 283.52 x 0.27 = 76.5504;
	// databases (256.78 + 128.39) x 0.31 = 119.4027; cache 1151.064 x 0.31 = 356.82984. The
	// control plane, the spot pool and the proxy commit nothing.
	savings := est.Savings()
	assert.InDelta(t, 76.5504, savings["nodes"], 0.001)
	assert.InDelta(t, 119.4027, savings["database"], 0.001)
	assert.InDelta(t, 356.82984, savings["cache"], 0.001)
	assert.Len(t, savings, 3)

	// The small items are one line per kind: 2 metric alarms + 1 composite, 1 key, 1 secret.
	table := est.Table()
	assert.Contains(t, table, "3 alarms")
	assert.Contains(t, table, "1 KMS keys")
	assert.Contains(t, table, "1 secrets")
	assert.Contains(t, table, "1 dashboards")
	for _, alone := range []string{"cpu ", "lag ", "health ", "key ", "secret "} {
		assert.NotContains(t, table, "\n"+alone, "grouped, not listed alone")
	}
	assert.Contains(t, table, "1-yr no-upfront Compute Savings Plan")
	assert.Contains(t, table, fmt.Sprintf("%10.2f", est.Total-76.5504-119.4027-356.82984), "the total with commitments")
}

func TestEstimateExtendedSupportAndRedis(t *testing.T) {
	est := Estimate([]analyzed.Resource{
		res("aws:eks/cluster:Cluster", "old", map[string]any{"upgradePolicy": map[string]any{"supportType": "EXTENDED"}}),
		res("aws:elasticache/replicationGroup:ReplicationGroup", "redis", map[string]any{"engine": "redis", "nodeType": "cache.t4g.small", "numCacheClusters": 2}),
	})
	assert.InDelta(t, 0.60*730+2*0.032*730, est.Total, 0.001, "extended support is 0.60/h; Redis OSS has no Valkey discount")
}

func TestEstimateUnknownAndUnpriced(t *testing.T) {
	unknown := res("aws:rds/instance:Instance", "db", nil)
	unknown.Props = property.NewMap(map[string]property.Value{"instanceClass": property.New(property.Computed)})
	est := Estimate([]analyzed.Resource{
		unknown,
		res("aws:eks/nodeGroup:NodeGroup", "gpu", map[string]any{"instanceTypes": []any{"p5.48xlarge"}, "capacityType": "ON_DEMAND", "scalingConfig": map[string]any{"desiredSize": 1}}),
	})
	assert.Equal(t, []string{"urn:db"}, est.Unknown)
	require.Len(t, est.Unpriced, 1)
	assert.Contains(t, est.Unpriced[0], "p5.48xlarge")
	assert.Zero(t, est.Total)
	assert.Contains(t, est.Table(), "not priced until update")
}

// Inputs leave replicateSourceDb unset on a primary; the outputs a stack policy sees after an
// update carry it as "". Neither is a replica.
func TestReplicaDetection(t *testing.T) {
	assert.False(t, IsReplica(res("aws:rds/instance:Instance", "p1", nil)))
	assert.False(t, IsReplica(res("aws:rds/instance:Instance", "p2", map[string]any{"replicateSourceDb": ""})))
	assert.True(t, IsReplica(res("aws:rds/instance:Instance", "r", map[string]any{"replicateSourceDb": "p1"})))

	// During a preview the source is unknown on both; the primary sets its storage.
	primary := res("aws:rds/instance:Instance", "p", map[string]any{"allocatedStorage": 100})
	primary.Props = primary.Props.Set("replicateSourceDb", property.New(property.Computed))
	replica := res("aws:rds/instance:Instance", "r", nil)
	replica.Props = replica.Props.Set("replicateSourceDb", property.New(property.Computed))
	assert.False(t, IsReplica(primary))
	assert.True(t, IsReplica(replica))
}

// A canary costs its runs: 730 h x 60 / interval runs at 0.0012 each. A Client VPN endpoint
// costs its subnet associations, 0.10 an hour each.
func TestEstimateCanariesAndClientVPN(t *testing.T) {
	est := Estimate([]analyzed.Resource{
		res("aws:synthetics/canary:Canary", "every-minute", map[string]any{"schedule": map[string]any{"expression": "rate(1 minute)"}}),
		res("aws:synthetics/canary:Canary", "quarter-hour", map[string]any{"schedule": map[string]any{"expression": "rate(15 minutes)"}}),
		res("aws:synthetics/canary:Canary", "hourly", map[string]any{"schedule": map[string]any{"expression": "rate(1 hour)"}}),
		res("aws:synthetics/canary:Canary", "once", map[string]any{"schedule": map[string]any{"expression": "rate(0 minute)"}}),
		res("aws:ec2clientvpn/networkAssociation:NetworkAssociation", "vpn-a", nil),
	})
	byName := map[string]float64{}
	for _, l := range est.Lines {
		byName[l.Name] = l.Monthly
	}
	assert.InDelta(t, 43800*0.0012, byName["every-minute"], 0.001) // 52.56
	assert.InDelta(t, 2920*0.0012, byName["quarter-hour"], 0.001)  // 3.504
	assert.InDelta(t, 730*0.0012, byName["hourly"], 0.001)         // 0.876
	assert.InDelta(t, 73, byName["vpn-a"], 0.001)
	assert.Equal(t, []string{"once: schedule rate(0 minute)"}, est.Unpriced, "a run-once canary has no monthly price")
}

func TestRateMinutes(t *testing.T) {
	for expr, want := range map[string]float64{"rate(1 minute)": 1, "rate(5 minutes)": 5, "rate(2 hours)": 120} {
		got, ok := RateMinutes(expr)
		assert.True(t, ok, expr)
		assert.Equal(t, want, got, expr)
	}
	for _, expr := range []string{"cron(0 * * * ? *)", "rate(0 minute)", "rate(1 day)", "rate(x minutes)"} {
		_, ok := RateMinutes(expr)
		assert.False(t, ok, expr)
	}
}

// A change's cost diff, by hand: a replica added (0 -> 128.39 for db.m7g.large with the
// primary's 50 GB), the primary resized from db.m7g.large to db.m7g.xlarge Multi-AZ
// (2 x (0.168 x 730 + 50 x 0.115) = 256.78 -> 2 x (0.336 x 730 + 5.75) = 502.06), a key removed.
func TestCostDiff(t *testing.T) {
	primary := map[string]any{"instanceClass": "db.m7g.large", "multiAz": true, "allocatedStorage": 50}
	before := Estimate([]analyzed.Resource{
		res("aws:rds/instance:Instance", "db", primary),
		res("aws:kms/key:Key", "old-key", nil),
		res("aws:eks/cluster:Cluster", "cluster", nil),
	})
	after := Estimate([]analyzed.Resource{
		res("aws:rds/instance:Instance", "db", map[string]any{"instanceClass": "db.m7g.xlarge", "multiAz": true, "allocatedStorage": 50}),
		res("aws:rds/instance:Instance", "replica", map[string]any{"instanceClass": "db.m7g.large", "replicateSourceDb": "db"}),
		res("aws:eks/cluster:Cluster", "cluster", nil),
	})
	d := DiffOf(before, after)
	require.Len(t, d.Changes, 3, "the cluster's cost does not move: %+v", d.Changes)
	byName := map[string]Change{}
	for _, c := range d.Changes {
		byName[c.Name] = c
	}
	assert.InDelta(t, 256.78, byName["db"].Before, 0.001)
	assert.InDelta(t, 502.06, byName["db"].After, 0.001)
	assert.InDelta(t, 0, byName["replica"].Before, 0.001)
	assert.InDelta(t, 128.39, byName["replica"].After, 0.001)
	assert.InDelta(t, 1, byName["old-key"].Before, 0.001)
	assert.InDelta(t, 0, byName["old-key"].After, 0.001)
	assert.InDelta(t, 502.06+128.39-256.78-1, d.Delta(), 0.001)
	assert.Equal(t, "db", d.Changes[0].Name, "largest move first")
	assert.Contains(t, d.Table(), "+372.67")
}

// A resource whose planned cost is unknown (its inputs are computed) is no saving: it keeps its
// current cost on both sides and is named as not priced until update.
func TestCostDiffUnknownIsNoSaving(t *testing.T) {
	group := map[string]any{"instanceTypes": []any{"m6i.large"}, "capacityType": "ON_DEMAND", "scalingConfig": map[string]any{"desiredSize": 2}}
	before := Estimate([]analyzed.Resource{res("aws:eks/nodeGroup:NodeGroup", "pool", group)})
	unknown := analyzed.Resource{Type: "aws:eks/nodeGroup:NodeGroup", Name: "pool", URN: "urn:pool",
		Props: resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(map[string]any{
			"instanceTypes": resource.MakeComputed(resource.NewStringProperty("")), "scalingConfig": map[string]any{"desiredSize": 2}}))}
	after := Estimate([]analyzed.Resource{unknown})
	require.Equal(t, []string{"urn:pool"}, after.Unknown)
	d := DiffOf(before, after)
	assert.Empty(t, d.Changes)
	assert.InDelta(t, 0, d.Delta(), 0.001)
	assert.Contains(t, d.Table(), "1 resource(s) not priced until update")
}

// A canary handed over without its schedule (not part of this operation: make foundation's up)
// is not priced yet; it is no unpriced size (which the budget rule reports as a violation).
func TestCanaryWithoutScheduleIsUnknown(t *testing.T) {
	est := Estimate([]analyzed.Resource{res("aws:synthetics/canary:Canary", "home", nil)})
	assert.Equal(t, []string{"urn:home"}, est.Unknown)
	assert.Empty(t, est.Unpriced)
}
