package costmodel

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Line is one priced resource.
type Line struct {
	URN, Type, Name string
	// Basis says what was priced, e.g. "2 x m6i.large spot (desired), 100 GB gp3".
	Basis   string
	Monthly float64
}

// Result is a stack's monthly estimate.
type Result struct {
	Lines []Line
	Total float64
	// Unknown are URNs whose priced inputs are not known yet (preview).
	Unknown []string
	// Unpriced are resources whose size the table lacks (type: detail).
	Unpriced []string
}

// Largest names the most expensive line.
func (r Result) Largest() string {
	if len(r.Lines) == 0 {
		return "nothing priced"
	}
	return fmt.Sprintf("%s %.0f USD", r.Lines[0].Name, r.Lines[0].Monthly)
}

// smallKinds are the kinds of item a table shows as one line each: many, cheap, alike.
var smallKinds = map[string]string{
	"aws:kms/key:Key":                              "KMS keys",
	"aws:secretsmanager/secret:Secret":             "secrets",
	"aws:cloudwatch/metricAlarm:MetricAlarm":       "alarms",
	"aws:cloudwatch/compositeAlarm:CompositeAlarm": "alarms",
	"aws:cloudwatch/dashboard:Dashboard":           "dashboards",
	"aws:synthetics/canary:Canary":                 "canaries",
}

// kind is a line's group in the table ("" for a line shown alone), and its steady part's
// commitment ("" for none).
func (l Line) kind() string {
	if l.Basis == "RDS-managed master secret" {
		return "secrets"
	}
	return smallKinds[l.Type]
}

func (l Line) commitment() string {
	switch {
	case l.Type == "aws:eks/nodeGroup:NodeGroup" && !strings.Contains(l.Basis, "spot"):
		return "nodes"
	case l.Type == "aws:rds/instance:Instance" && l.kind() == "":
		return "database"
	case l.Type == "aws:elasticache/replicationGroup:ReplicationGroup":
		return "cache"
	}
	return ""
}

// Savings is what 1-year no-upfront commitments would save per month on the steady part
// (on-demand nodes, databases, caches), by commitment kind.
func (r Result) Savings() map[string]float64 {
	out := map[string]float64{}
	for _, l := range r.Lines {
		if c := l.commitment(); c != "" {
			out[c] += l.Monthly * Commitments[c].Discount
		}
	}
	return out
}

// Table renders the estimate as a fixed-width table, most expensive first, with the many small
// items (alarms, KMS keys, secrets, ...) one line per kind, and what commitments would save.
func (r Result) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-48s %-44s %10s\n", "RESOURCE", "BASIS", "USD/MONTH")
	groups, counts := map[string]float64{}, map[string]int{}
	var rows []Line
	for _, l := range r.Lines {
		if k := l.kind(); k != "" {
			if counts[k] == 0 {
				rows = append(rows, Line{Name: k})
			}
			groups[k] += l.Monthly
			counts[k]++
			continue
		}
		rows = append(rows, l)
	}
	for i, row := range rows {
		if n := counts[row.Name]; n > 0 && row.Basis == "" {
			rows[i] = Line{Name: fmt.Sprintf("%d %s", n, row.Name), Basis: "grouped: one line per kind", Monthly: groups[row.Name]}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Monthly > rows[j].Monthly })
	for _, l := range rows {
		fmt.Fprintf(&b, "%-48s %-44s %10.2f\n", truncate(l.Name, 48), truncate(l.Basis, 44), l.Monthly)
	}
	fmt.Fprintf(&b, "%-48s %-44s %10.2f\n", "TOTAL", "on-demand list prices "+Region+" "+PriceDate, r.Total)
	savings, total := r.Savings(), 0.0
	for _, k := range slices.Sorted(maps.Keys(savings)) {
		c := Commitments[k]
		fmt.Fprintf(&b, "%-48s %-44s %10.2f\n", truncate("  1-yr no-upfront "+c.Kind, 48), fmt.Sprintf("saves %.0f %% of the on-demand %s", c.Discount*100, k), -savings[k])
		total += savings[k]
	}
	if total > 0 {
		fmt.Fprintf(&b, "%-48s %-44s %10.2f\n", "WITH COMMITMENTS", "EKS control plane and spot: none offered", r.Total-total)
	}
	for _, u := range r.Unpriced {
		fmt.Fprintf(&b, "not priced: %s\n", u)
	}
	if len(r.Unknown) > 0 {
		fmt.Fprintf(&b, "%d resource(s) not priced until update (inputs unknown during preview)\n", len(r.Unknown))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}

// IsReplica reports an RDS read replica. Inputs leave replicateSourceDb unset on a primary and
// set it (unknown until the primary exists) on a replica; outputs carry "" on a primary and
// are unknown for both during a preview. So an unknown source decides by the storage size,
// which a primary always sets and a replica inherits.
func IsReplica(r analyzed.Resource) bool {
	f := r.Get("replicateSourceDb")
	if f.Unknown() {
		storage := r.Get("allocatedStorage")
		return storage.Absent() || storage.Unknown()
	}
	return f.String() != ""
}

// CacheNodes is an ElastiCache replication group's node count.
func CacheNodes(r analyzed.Resource) int {
	if shards := r.Get("numNodeGroups").Int(); shards > 0 {
		return shards * (1 + r.Get("replicasPerNodeGroup").Int())
	}
	if n := r.Get("numCacheClusters").Int(); n > 0 {
		return n
	}
	return 1
}

// RateMinutes is the interval of a rate(N minute[s]|hour[s]) schedule, in minutes; cron
// schedules and rate(0 minute), which runs once, are not recurring rates.
func RateMinutes(expr string) (float64, bool) {
	var n float64
	var unit string
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"), "%g %s", &n, &unit); err != nil || n <= 0 {
		return 0, false
	}
	switch strings.TrimSuffix(unit, "s") {
	case "minute":
		return n, true
	case "hour":
		return n * 60, true
	}
	return 0, false
}

// MonthlyNATGateway is one NAT gateway's fixed monthly cost (hours and its public address).
func MonthlyNATGateway() float64 { return (NATGateway.USD + PublicIPv4.USD) * HoursPerMonth }

// Estimate prices every resource the table knows. Node groups are priced at their desired
// (creation) size, spot at SpotFactor; data transfer, log ingestion and backup storage depend
// on traffic and data and are not modelled.
func Estimate(rs []analyzed.Resource) Result {
	var res Result
	add := func(r analyzed.Resource, basis string, usd float64) {
		res.Lines = append(res.Lines, Line{URN: r.URN, Type: r.Type, Name: r.Name, Basis: basis, Monthly: usd})
	}
	launchTemplates := map[string]analyzed.Resource{}
	primaryGB := 20.0 // RDS's minimum, until a primary says more
	for _, r := range rs {
		switch {
		case r.Type == "aws:ec2/launchTemplate:LaunchTemplate":
			launchTemplates[r.URN] = r
		case r.Type == "aws:rds/instance:Instance" && !IsReplica(r):
			primaryGB = max(primaryGB, r.Get("allocatedStorage").Number())
		}
	}
	for _, r := range rs {
		switch r.Type {
		case "aws:eks/cluster:Cluster":
			p := EKSCluster
			if r.Get("upgradePolicy", "supportType").String() == "EXTENDED" {
				p = EKSExtended
			}
			add(r, "EKS control plane", p.USD*HoursPerMonth)
		case "aws:ec2/natGateway:NatGateway":
			add(r, "NAT gateway + public IPv4", MonthlyNATGateway())
		case "aws:ec2/vpcEndpoint:VpcEndpoint":
			if r.Get("vpcEndpointType").String() == "Interface" {
				if r.Get("subnetIds").Unknown() {
					res.Unknown = append(res.Unknown, r.URN)
					continue
				}
				azs := len(r.Get("subnetIds").Items())
				add(r, fmt.Sprintf("interface endpoint x %d AZ", azs), float64(azs)*InterfaceEndpoint.USD*HoursPerMonth)
			}
		case "aws:eks/nodeGroup:NodeGroup":
			res.nodeGroup(r, launchTemplates, add)
		case "aws:rds/instance:Instance":
			res.database(r, primaryGB, add)
			if r.Get("manageMasterUserPassword").Unknown() {
				res.Unknown = append(res.Unknown, r.URN)
			} else if r.Get("manageMasterUserPassword").Bool() {
				add(r, "RDS-managed master secret", Secret.USD) // a Secrets Manager secret outside the stack
			}
		case "aws:rds/proxy:Proxy":
			res.proxy(r, rs, add)
		case "aws:elasticache/replicationGroup:ReplicationGroup":
			res.cache(r, add)
		case "aws:kms/key:Key":
			add(r, "KMS key", KMSKey.USD)
		case "aws:secretsmanager/secret:Secret":
			add(r, "secret", Secret.USD)
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			// Billed per metric: an alarm over metric math pays for each metric it reads.
			metrics := 0
			for _, q := range r.Get("metricQueries").Items() {
				if !q.Get("metric").Absent() {
					metrics++
				}
			}
			metrics = max(metrics, 1)
			add(r, fmt.Sprintf("alarm, %d metric(s)", metrics), float64(metrics)*AlarmMetric.USD)
		case "aws:cloudwatch/compositeAlarm:CompositeAlarm":
			add(r, "composite alarm", CompositeAlarm.USD)
		case "aws:cloudwatch/dashboard:Dashboard":
			add(r, "dashboard", Dashboard.USD)
		case "aws:lb/loadBalancer:LoadBalancer":
			// A public IPv4 address per AZ (subnet); during a preview the subnets may be
			// unknown, and an ALB spans at least two.
			azs, basis := 2, "ALB + 1 LCU + public IPv4 in >= 2 AZs"
			if subnets := r.Get("subnets"); !subnets.Unknown() && len(subnets.Items()) > 0 {
				azs, basis = len(subnets.Items()), fmt.Sprintf("ALB + 1 LCU + public IPv4 in %d AZs", len(subnets.Items()))
			}
			add(r, basis, MonthlyALB(azs))
		case "aws:synthetics/canary:Canary":
			schedule := r.Get("schedule", "expression")
			// Absent: not part of this operation (make foundation's up leaves the canaries out).
			if schedule.Unknown() || schedule.Absent() {
				res.Unknown = append(res.Unknown, r.URN)
				continue
			}
			minutes, ok := RateMinutes(schedule.String())
			if !ok {
				res.Unpriced = append(res.Unpriced, r.Name+": schedule "+schedule.String())
				continue
			}
			runs := HoursPerMonth * 60 / minutes
			add(r, fmt.Sprintf("canary, %.0f runs (every %g min)", runs, minutes), runs*CanaryRun.USD)
		case "aws:ec2clientvpn/networkAssociation:NetworkAssociation":
			add(r, "Client VPN subnet association", ClientVPNAssociation.USD*HoursPerMonth)
		case "aws:wafv2/webAcl:WebAcl":
			rules := len(r.Get("rules").Items())
			add(r, fmt.Sprintf("web ACL + %d rules", rules), WebACL.USD+float64(rules))
		}
	}
	sort.SliceStable(res.Lines, func(i, j int) bool { return res.Lines[i].Monthly > res.Lines[j].Monthly })
	for _, l := range res.Lines {
		res.Total += l.Monthly
	}
	return res
}

func (res *Result) nodeGroup(r analyzed.Resource, lts map[string]analyzed.Resource, add func(analyzed.Resource, string, float64)) {
	types, desired, capacity := r.Get("instanceTypes"), r.Get("scalingConfig", "desiredSize"), r.Get("capacityType")
	if types.Unknown() || desired.Unknown() || capacity.Unknown() {
		res.Unknown = append(res.Unknown, r.URN)
		return
	}
	// Spot pools spread over several types; price the first (the template of the pool).
	it := ""
	if names := types.Strings(); len(names) > 0 {
		it = names[0]
	}
	p, ok := EC2[it]
	if !ok {
		res.Unpriced = append(res.Unpriced, r.Name+": instance type "+it)
		return
	}
	factor, kind := 1.0, "on-demand"
	if capacity.String() == "SPOT" {
		factor, kind = SpotFactor, "spot"
	}
	// The root volume comes from the group's launch template: the one it depends on, or (where
	// dependencies are not reported, as in engine events) the one with the same logical name.
	disk := 20.0
	for _, lt := range lts {
		if slices.Contains(r.Dependencies, lt.URN) || lt.Name == r.Name {
			for _, m := range lt.Get("blockDeviceMappings").Items() {
				if size := m.Get("ebs", "volumeSize"); size.Unknown() {
					res.Unknown = append(res.Unknown, r.URN)
				} else if size.Number() > 0 {
					disk = size.Number()
				}
			}
		}
	}
	n := float64(desired.Int())
	add(r, fmt.Sprintf("%d x %s %s + %.0f GB gp3 each", desired.Int(), it, kind, disk),
		n*(p.USD*factor*HoursPerMonth+disk*EBSgp3.USD))
}

// database prices an instance; a read replica mirrors its primary's storage (primaryGB).
func (res *Result) database(r analyzed.Resource, primaryGB float64, add func(analyzed.Resource, string, float64)) {
	class, multi, storage := r.Get("instanceClass"), r.Get("multiAz"), r.Get("allocatedStorage")
	if class.Unknown() || multi.Unknown() || storage.Unknown() {
		res.Unknown = append(res.Unknown, r.URN)
		return
	}
	p, ok := RDS[class.String()]
	if !ok {
		res.Unpriced = append(res.Unpriced, r.Name+": DB class "+class.String())
		return
	}
	copies, az := 1.0, "Single-AZ"
	if multi.Bool() {
		copies, az = 2, "Multi-AZ"
	}
	gb := storage.Number()
	if IsReplica(r) {
		gb = primaryGB
	}
	add(r, fmt.Sprintf("%s %s + %.0f GB gp3", class.String(), az, gb), copies*(p.USD*HoursPerMonth+gb*RDSgp3.USD))
}

func (res *Result) proxy(r analyzed.Resource, rs []analyzed.Resource, add func(analyzed.Resource, string, float64)) {
	// Priced on the primary's vCPUs: the proxy's target in this program.
	vcpus := 2
	for _, db := range rs {
		if db.Type == "aws:rds/instance:Instance" && !IsReplica(db) {
			if v, ok := RDSvCPUs(db.Get("instanceClass").String()); ok {
				vcpus = max(v, 2)
			}
		}
	}
	add(r, fmt.Sprintf("RDS Proxy, %d target vCPU", vcpus), float64(vcpus)*RDSProxy.USD*HoursPerMonth)
}

func (res *Result) cache(r analyzed.Resource, add func(analyzed.Resource, string, float64)) {
	nodeType, shards := r.Get("nodeType"), r.Get("numNodeGroups")
	if nodeType.Unknown() || shards.Unknown() || r.Get("replicasPerNodeGroup").Unknown() || r.Get("numCacheClusters").Unknown() {
		res.Unknown = append(res.Unknown, r.URN)
		return
	}
	p, ok := Cache[nodeType.String()]
	if !ok {
		res.Unpriced = append(res.Unpriced, r.Name+": node type "+nodeType.String())
		return
	}
	usd, engine := p.USD, r.Get("engine").String()
	if engine == "valkey" {
		usd *= ValkeyFactor
	}
	n := CacheNodes(r)
	add(r, fmt.Sprintf("%d x %s %s", n, nodeType.String(), engine), float64(n)*usd*HoursPerMonth)
}
