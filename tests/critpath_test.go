package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/scalemate/infra/internal/critpath"
)

// A fresh prod `up` takes no longer than its unavoidable chain plus 10 %: the longer of
// VPC -> subnet -> EKS cluster -> networking addon -> node group and VPC -> subnet -> DB subnet
// group -> RDS primary (Multi-AZ) -> read replica. Edges beyond those (a component waiting for
// another it does not need) would show here.
func TestFreshUpCriticalPath(t *testing.T) {
	s := critpath.Seconds
	d := float64(critpath.DefaultSeconds)
	cluster := d + d + d + s["aws:eks/cluster:Cluster"] + s["aws:eks/addon:Addon"] + s["aws:eks/nodeGroup:NodeGroup"] // role, policy, subnet in parallel
	data := d + d + d + s["aws:rds/instance:Instance"] + s["aws:rds/instance:Instance"]
	unavoidable := max(cluster, data)
	for _, stack := range []string{"staging", "prod"} {
		r := critpath.Estimate(mustRunStack(t, stack))
		t.Logf("%s: critical path %.0f s (unavoidable %.0f s), serial %.0f s, x%.1f", stack, r.CriticalSeconds, unavoidable, r.SerialSeconds, r.Ratio())
		assert.LessOrEqual(t, r.CriticalSeconds, unavoidable*1.1, "%s chain: %v", stack, r.Chain)
		assert.Greater(t, r.Ratio(), 2.5, "%s: the graph leaves the engine room to create in parallel", stack)
	}
}
