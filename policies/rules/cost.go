package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
	"github.com/scalemate/infra/policies/costmodel"
)

// PostgresStandardSupport are the RDS for PostgreSQL majors in standard support (RDS release
// calendar: 13 left it on 2026-02-28, 14 leaves it on 2027-02-28); components/postgres offers
// none outside it (a test checks).
var PostgresStandardSupport = []string{"14", "15", "16", "17", "18"}

// CostRules are the cost pack's rules.
func CostRules() []Rule {
	return []Rule{
		{Name: "rds-engine-standard-support", Pack: Cost, Level: Mandatory, Anchor: "Amazon RDS Extended Support (billed per vCPU-hour after standard support ends)",
			Summary: "RDS PostgreSQL runs a major version in standard support, not in paid Extended Support", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				engine, version := r.Get("engine"), r.Get("engineVersion")
				if !c.Known(r, engine, "engine") || engine.String() != "postgres" || !c.Known(r, version, "engineVersion") || version.Absent() {
					return // a replica inherits its source's version
				}
				if major, _, _ := strings.Cut(version.String(), "."); !slices.Contains(PostgresStandardSupport, major) {
					c.Violate(r, "PostgreSQL %s is out of RDS standard support (in support: %s)", version.String(), strings.Join(PostgresStandardSupport, ", "))
				}
			}},
		{Name: "allowed-node-instance-types", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: instance right-sizing",
			Summary: "Node groups use the tier's allowed instance types", Types: []string{TypeNodeGroup},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("instanceTypes")
				if !c.Known(r, f, "instanceTypes") {
					return
				}
				for _, it := range f.Strings() {
					if !matchAny(it, c.T.AllowedInstanceTypes) {
						c.Violate(r, "instance type %s is not allowed in %s (allowed: %s)", it, c.T.Tier, strings.Join(c.T.AllowedInstanceTypes, ", "))
					}
				}
			}},
		{Name: "allowed-db-instance-classes", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: database right-sizing",
			Summary: "RDS instances use the tier's allowed classes", Types: []string{TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("instanceClass"); c.Known(r, f, "instanceClass") && !matchAny(f.String(), c.T.AllowedDBClasses) {
					c.Violate(r, "instance class %s is not allowed in %s (allowed: %s)", f.String(), c.T.Tier, strings.Join(c.T.AllowedDBClasses, ", "))
				}
			}},
		{Name: "allowed-cache-node-types", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: cache right-sizing",
			Summary: "ElastiCache groups use the tier's allowed node types and node count", Types: []string{TypeCache},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("nodeType"); c.Known(r, f, "nodeType") && !matchAny(f.String(), c.T.AllowedCacheNodeTypes) {
					c.Violate(r, "node type %s is not allowed in %s (allowed: %s)", f.String(), c.T.Tier, strings.Join(c.T.AllowedCacheNodeTypes, ", "))
				}
				shards, replicas := r.Get("numNodeGroups"), r.Get("replicasPerNodeGroup")
				if !c.Known(r, shards, "numNodeGroups") || !c.Known(r, replicas, "replicasPerNodeGroup") {
					return
				}
				if n := costmodel.CacheNodes(r); n > c.T.MaxCacheNodes {
					c.Violate(r, "%d cache nodes exceed %s's cap of %d", n, c.T.Tier, c.T.MaxCacheNodes)
				}
			}},
		{Name: "node-pool-caps", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: autoscaling bounds",
			Summary: "Node groups stay within the tier's per-pool and total node caps", Types: []string{TypeNodeGroup}, Stack: func(c *Check, rs []analyzed.Resource) {
				total := 0
				for _, g := range ofType(rs, TypeNodeGroup) {
					max := g.Get("scalingConfig", "maxSize")
					if !c.Known(g, max, "scalingConfig.maxSize") {
						continue
					}
					total += max.Int()
					if max.Int() > c.T.MaxNodesPerPool {
						c.Violate(g, "maxSize %d exceeds %s's cap of %d nodes per pool", max.Int(), c.T.Tier, c.T.MaxNodesPerPool)
					}
				}
				if total > c.T.MaxTotalNodes {
					c.Violate(analyzed.Resource{URN: ""}, "node groups may grow to %d nodes; %s caps the total at %d", total, c.T.Tier, c.T.MaxTotalNodes)
				}
			}},
		{Name: "db-replica-cap", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: replica count",
			Summary: "RDS read replicas stay within the tier's cap", Types: []string{TypeDBInstance}, Stack: func(c *Check, rs []analyzed.Resource) {
				replicas := 0
				for _, db := range ofType(rs, TypeDBInstance) {
					if isReplica(db) {
						replicas++
						if replicas > c.T.MaxDBReplicas {
							c.Violate(db, "read replica %d exceeds %s's cap of %d", replicas, c.T.Tier, c.T.MaxDBReplicas)
						}
					}
				}
			}},
		{Name: "spot-workers", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: spot for interruptible capacity",
			Summary: "Node groups run on spot capacity where the tier requires it", Types: []string{TypeNodeGroup},
			Resource: func(c *Check, r analyzed.Resource) {
				if !c.T.RequireSpot {
					return
				}
				if f := r.Get("capacityType"); c.Known(r, f, "capacityType") && f.String() != "SPOT" {
					c.Violate(r, "capacityType is %q; %s runs workers on SPOT", f.String(), c.T.Tier)
				}
			}},
		{Name: "gp3-volumes", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: gp2 to gp3 (20% cheaper per GB)",
			Summary: "Block storage is gp3 (node volumes and RDS storage)", Types: []string{TypeLaunchTemplate, TypeDBInstance},
			Resource: func(c *Check, r analyzed.Resource) {
				if r.Type == TypeDBInstance {
					if isReplica(r) {
						return
					}
					if f := r.Get("storageType"); c.Known(r, f, "storageType") && f.String() != "gp3" {
						c.Violate(r, "storageType is %q, want gp3", f.String())
					}
					return
				}
				f := r.Get("blockDeviceMappings")
				if !c.Known(r, f, "blockDeviceMappings") {
					return
				}
				for _, m := range f.Items() {
					if t := m.Get("ebs", "volumeType").String(); t != "gp3" {
						c.Violate(r, "block device %s is %q, want gp3", m.Get("deviceName").String(), t)
					}
				}
			}},
		{Name: "nat-gateway-count", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: NAT gateway count",
			Summary: "NAT gateways stay within the tier's count", Types: []string{TypeNATGateway}, Stack: func(c *Check, rs []analyzed.Resource) {
				nats := ofType(rs, TypeNATGateway)
				if len(nats) > c.T.MaxNATGateways {
					c.Violate(nats[c.T.MaxNATGateways], "%d NAT gateways; %s allows %d (%.0f USD/month each before traffic)",
						len(nats), c.T.Tier, c.T.MaxNATGateways, costmodel.MonthlyNATGateway())
				}
			}},
		{Name: "log-retention-cap", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: log retention",
			Summary: "CloudWatch log groups keep logs no longer than the tier's cap", Types: []string{TypeLogGroup},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("retentionInDays"); c.Known(r, f, "retentionInDays") && (f.Absent() || f.Int() == 0 || f.Int() > c.T.MaxLogRetentionDays) {
					c.Violate(r, "retentionInDays is %d (0 = forever); %s keeps logs at most %d days", f.Int(), c.T.Tier, c.T.MaxLogRetentionDays)
				}
			}},
		{Name: "cdn-price-class", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: CloudFront price class",
			Summary: "CloudFront distributions use the tier's allowed price classes", Types: []string{TypeDistribution},
			Resource: func(c *Check, r analyzed.Resource) {
				f := r.Get("priceClass")
				if !c.Known(r, f, "priceClass") {
					return
				}
				pc := f.String()
				if pc == "" {
					pc = "PriceClass_All"
				}
				if !matchAny(pc, c.T.AllowedPriceClasses) {
					c.Violate(r, "priceClass %s is not allowed in %s (allowed: %s)", pc, c.T.Tier, strings.Join(c.T.AllowedPriceClasses, ", "))
				}
			}},
		{Name: "monthly-budget", Pack: Cost, Level: Mandatory, Anchor: "Infracost FinOps: budget guardrail",
			Summary: "The stack's estimated monthly cost stays within the tier's budget", Stack: func(c *Check, rs []analyzed.Resource) {
				est := costmodel.Estimate(rs)
				if est.Total > c.T.MonthlyBudgetUSD {
					c.Violate(analyzed.Resource{}, "estimated %s USD/month exceeds %s's budget of %s USD (largest: %s)",
						fmt.Sprintf("%.0f", est.Total), c.T.Tier, fmt.Sprintf("%.0f", c.T.MonthlyBudgetUSD), est.Largest())
				}
				for _, u := range est.Unknown {
					c.Known(analyzed.Resource{URN: u}, unknownField, "a priced input")
				}
				// What the table cannot price is a finding, never $0 in the total.
				for _, u := range est.Unpriced {
					c.Violate(analyzed.Resource{}, "cannot price %s: the price table lacks it, so the estimate would miss it", u)
				}
			}},
	}
}

// unknownField is an unknown Field, for reporting that the estimate could not price something.
var unknownField = analyzed.Unknown()
