package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/scalemate/infra/internal/preflight"
)

// The quotas a stack needs, from what it registers (review 2026-11-30 #5): prod's 3 NAT
// addresses, its on-demand system pool (6 x m6i.xlarge) and spot workers (30 x 4 vCPUs) at
// their maximum.
func TestPreflightNeeds(t *testing.T) {
	needs := map[string]float64{}
	for _, n := range preflight.Needs(mustRunStack(t, "prod").All()) {
		needs[n.Code] = n.Needed
	}
	assert.Equal(t, map[string]float64{
		preflight.ElasticIPs.Code: 3, preflight.OnDemandVCPUs.Code: 24, preflight.SpotVCPUs.Code: 120,
		preflight.NATPerAZ.Code: 1, preflight.VPCs.Code: 1, preflight.LoadBalancers.Code: 1,
		preflight.DBInstances.Code: 3, preflight.EKSClusters.Code: 1,
	}, needs)
}
