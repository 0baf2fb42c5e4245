package stacks

import "github.com/scalemate/infra/internal/netplan"

// unsetDesired marks a pool whose config did not set desiredSize; it then starts at minSize.
const unsetDesired = -1

// basePool is the starting point of every node pool before tier and stack settings.
var basePool = NodePool{
	CapacityType:          "ON_DEMAND",
	MinSize:               1,
	MaxSize:               3,
	DesiredSize:           unsetDesired,
	DiskSizeGiB:           50,
	MaxUnavailablePercent: 33,
}

// pool returns basePool with the given changes applied.
func pool(change func(*NodePool)) NodePool {
	p := basePool
	change(&p)
	return p
}

// systemPool runs cluster-critical add-ons (CoreDNS, controllers) on on-demand capacity; the
// taint keeps application pods on the worker pools.
func systemPool(instanceType string, minSize, maxSize int) NodePool {
	return pool(func(p *NodePool) {
		p.InstanceTypes = []string{instanceType}
		p.MinSize, p.MaxSize = minSize, maxSize
		p.Taints = []Taint{{Key: "CriticalAddonsOnly", Value: "true", Effect: "NO_SCHEDULE"}}
	})
}

// spotWorkers runs application pods on spot capacity spread over several instance types.
func spotWorkers(instanceTypes []string, minSize, maxSize int) NodePool {
	return pool(func(p *NodePool) {
		p.CapacityType = "SPOT"
		p.InstanceTypes = instanceTypes
		p.MinSize, p.MaxSize = minSize, maxSize
	})
}

// AddonPins are the managed addon builds this program pins per Kubernetes version, where a stack
// does not pin its own (scalemate:cluster.addonVersions). They move only by a reviewed change of
// this table. Sources (2026-12-01, read offline; check them with `aws eks
// describe-addon-versions --kubernetes-version 1.35` before a first deploy, README Known gaps):
// the EKS user guide's per-version tables for vpc-cni, kube-proxy and coredns; published
// cluster configurations for the EBS CSI driver and CloudWatch observability.
var AddonPins = map[string]map[string]string{
	"1.35": {
		"vpc-cni": "v1.21.1-eksbuild.7", "kube-proxy": "v1.35.3-eksbuild.13", "coredns": "v1.14.3-eksbuild.3",
		"aws-ebs-csi-driver": "v1.62.0-eksbuild.1", "amazon-cloudwatch-observability": "v5.3.0-eksbuild.1",
	},
	"1.34": {
		"vpc-cni": "v1.21.1-eksbuild.7", "kube-proxy": "v1.34.6-eksbuild.13", "coredns": "v1.13.2-eksbuild.11",
		"aws-ebs-csi-driver": "v1.62.0-eksbuild.1", "amazon-cloudwatch-observability": "v5.3.0-eksbuild.1",
	},
}

// defaults returns the tier's settings before the stack's config is applied (DESIGN.md §2).
func defaults(t Tier) Spec {
	s := Spec{
		Tier:  t,
		Owner: "platform-team",
		CI:    CI{Repository: "scalemate/infra"},
		Network: Network{
			CIDR:                      "10.0.0.0/16",
			AZCount:                   3,
			NATGateways:               "single",
			SubnetPrefixes:            netplan.Prefixes{Public: 22, Private: 19, Isolated: 24},
			FlowLogAggregationSeconds: 600,
		},
		Cluster: Cluster{
			Version:     "1.35",
			SupportType: "STANDARD",
			LogTypes:    []string{"api", "audit", "authenticator"},
			ServiceCIDR: "172.20.0.0/16",
		},
	}
	s.Postgres = Postgres{
		EngineVersion: "16", BackupWindow: "03:00-04:00", MaintenanceWindow: "sun:05:00-sun:06:00",
		SlowQueryMillis: 500, PerformanceInsightsRetentionDays: 7, MonitoringIntervalSeconds: 60,
	}
	s.Redis = Redis{Engine: "valkey", SnapshotWindow: "05:00-06:00", MaintenanceWindow: "sun:07:00-sun:08:00", AuthTokenVersion: 1, AuthTokenUpdateStrategy: "ROTATE"}
	s.Backup = Backup{VaultLock: "none", StartHourUTC: 1}
	s.Edge = Edge{PriceClass: "PriceClass_100", WAF: EdgeWAF{Action: "block", RateLimit: 2000}}
	s.Monitoring = Monitoring{
		WarningEmails: []string{"platform-alerts@scalemate.example.com"},
		Canaries:      map[string]string{"home": "/"},
	}
	s.App = App{Images: []string{"api", "web", "worker"}}
	switch t {
	case Local:
		s.Local = LocalCluster{Registry: "scalemate", VolumeSize: "1Gi", KubernetesVersion: s.Cluster.Version}
	case Dev:
		s.Postgres.InstanceClass, s.Postgres.AllocatedStorageGiB, s.Postgres.MaxAllocatedStorageGiB = "db.t4g.medium", 20, 100
		s.Postgres.BackupRetentionDays, s.Postgres.SlowQueryMillis = 1, 1000
		s.Redis.NodeType, s.Redis.Shards, s.Redis.ReplicasPerShard, s.Redis.SnapshotRetentionDays = "cache.t4g.small", 1, 1, 1
		s.Backup.DailyRetentionDays = 7
		s.Edge.WAF.Action = "count" // tune rules on real traffic before they block
		s.LogRetentionDays = 7
		s.Monitoring.MonthlyBudgetUSD, s.Monitoring.CanaryMinutes = 400, 15
		s.Network.AZCount = 2
		s.NodePools = map[string]NodePool{
			"workers": spotWorkers([]string{"t3.large", "t3a.large", "m6i.large"}, 1, 3),
		}
	case Staging:
		s.Postgres.InstanceClass, s.Postgres.AllocatedStorageGiB, s.Postgres.MaxAllocatedStorageGiB = "db.m7g.large", 50, 200
		s.Postgres.MultiAZ, s.Postgres.ReadReplicas, s.Postgres.BackupRetentionDays, s.Postgres.Proxy = true, 1, 7, true
		s.Network.InterfaceEndpoints = []string{"secretsmanager"} // the proxy's way to its logins
		s.Redis.NodeType, s.Redis.Shards, s.Redis.ReplicasPerShard, s.Redis.SnapshotRetentionDays = "cache.m7g.large", 2, 1, 7
		s.Backup.DailyRetentionDays, s.Backup.WeeklyRetentionDays, s.Backup.RestoreTesting = 14, 35, true
		s.Edge.WAF.RateLimit = 500 // as prod, smaller limits
		s.LogRetentionDays = 30
		s.Monitoring.MonthlyBudgetUSD, s.Monitoring.CanaryMinutes = 1500, 5
		s.NodePools = map[string]NodePool{
			"system":  systemPool("m6i.large", 2, 3),
			"workers": spotWorkers([]string{"m6i.large", "m6a.large", "m5.large"}, 1, 6),
		}
	case Prod:
		s.Postgres.InstanceClass, s.Postgres.AllocatedStorageGiB, s.Postgres.MaxAllocatedStorageGiB = "db.r7g.xlarge", 100, 1000
		s.Postgres.MultiAZ, s.Postgres.ReadReplicas, s.Postgres.BackupRetentionDays, s.Postgres.Proxy = true, 2, 30, true
		s.Network.InterfaceEndpoints = []string{"secretsmanager"} // the proxy's way to its logins
		s.Postgres.PerformanceInsightsRetentionDays, s.Postgres.MonitoringIntervalSeconds = 31, 15
		s.Redis.NodeType, s.Redis.Shards, s.Redis.ReplicasPerShard, s.Redis.SnapshotRetentionDays = "cache.r7g.large", 3, 2, 14
		s.Backup.DailyRetentionDays, s.Backup.WeeklyRetentionDays, s.Backup.MonthlyRetentionDays = 35, 90, 365
		s.Backup.VaultLock, s.Backup.RestoreTesting = "governance", true
		s.Edge.PriceClass = "PriceClass_All"
		s.Edge.WAF.ManagedRuleGroups = []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
			"AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList"}
		s.LogRetentionDays = 365
		s.Monitoring.MonthlyBudgetUSD, s.Monitoring.CanaryMinutes = 5000, 1
		s.Monitoring.CriticalEmails = []string{"oncall@scalemate.example.com"}
		s.Network.NATGateways = "perAz"
		s.Network.FlowLogAggregationSeconds = 60
		s.Cluster.LogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
		s.NodePools = map[string]NodePool{
			"system":  systemPool("m6i.xlarge", 3, 6),
			"workers": spotWorkers([]string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"}, 3, 30),
		}
	}
	return s
}

// defaultDRRegion is prod's disaster-recovery region for a main region: us-east-2, or
// us-west-2 when the main region is us-east-2.
func defaultDRRegion(region string) string {
	if region == "us-east-2" {
		return "us-west-2"
	}
	return "us-east-2"
}
