// Package costmodel prices a stack's resources per month from a price table, so the cost
// pack's budget rule and a pull-request comment can show what a change costs.
package costmodel

// Region and PriceDate describe the table: on-demand list prices, Linux, USD. Most sources
// quote us-east-1, whose list prices equal us-west-2's for every item here.
const (
	Region    = "us-west-2"
	PriceDate = "2026-11-27"
	// HoursPerMonth is AWS's billing convention (730 h).
	HoursPerMonth = 730.0
	// SpotFactor is what spot capacity costs relative to on-demand for the general-purpose
	// families used here: AWS's Spot Instance Advisor shows 60-70 % savings for m5/m6i in
	// us-west-2 (50-55 % for m6a); 0.4 is a planning figure, not a quote.
	SpotFactor = 0.4
)

// Price is one row of the table.
type Price struct {
	// USD per Unit.
	USD  float64
	Unit string
	// Source is where the price was read (public pages; verify before relying on a cent).
	Source string
}

const (
	srcEC2        = "AWS Price List via github.com/aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (2026-01-19)"
	srcEKS        = "aws.amazon.com/blogs/containers/amazon-eks-extended-support-for-kubernetes-versions-pricing"
	srcVPC        = "aws.amazon.com/vpc/pricing (NAT gateway, public IPv4), aws.amazon.com/privatelink/pricing"
	srcEBS        = "aws.amazon.com/ebs/pricing (gp3)"
	srcRDS        = "aws.amazon.com/rds/postgresql/pricing (figures via usage.ai / infratally.com 2026; r7g inferred from r6g)"
	srcCache      = "aws.amazon.com/elasticache/pricing (AWS Price List; Valkey = 0.8 x Redis OSS)"
	srcKMS        = "aws.amazon.com/kms/pricing"
	srcSecrets    = "aws.amazon.com/secrets-manager/pricing"
	srcWAF        = "aws.amazon.com/waf/pricing"
	srcProxy      = "aws.amazon.com/rds/proxy/pricing (from memory, unverified)"
	srcBackup     = "aws.amazon.com/backup/pricing (RDS snapshot warm storage)"
	srcCloudwatch = "aws.amazon.com/cloudwatch/pricing"
	srcELB        = "aws.amazon.com/elasticloadbalancing/pricing (Application Load Balancer, us-west-2)"
)

// EC2 is the on-demand hourly price of node instance types.
var EC2 = map[string]Price{
	"t3.medium": {0.0416, "hour", srcEC2}, "t3.large": {0.0832, "hour", srcEC2}, "t3a.large": {0.0752, "hour", srcEC2},
	"m5.large": {0.096, "hour", srcEC2}, "m5.xlarge": {0.192, "hour", srcEC2},
	"m6i.large": {0.096, "hour", srcEC2}, "m6i.xlarge": {0.192, "hour", srcEC2},
	"m6a.large": {0.0864, "hour", srcEC2}, "m6a.xlarge": {0.1728, "hour", srcEC2},
	"m7i.large": {0.1008, "hour", srcEC2}, "m7i.xlarge": {0.2016, "hour", srcEC2},
	"m7g.large": {0.0816, "hour", srcEC2}, "c6i.large": {0.085, "hour", srcEC2}, "r6i.large": {0.126, "hour", srcEC2},
}

// RDS is the Single-AZ hourly price of PostgreSQL instance classes (Multi-AZ is twice).
var RDS = map[string]Price{
	"db.t4g.medium": {0.065, "hour", srcRDS}, "db.m6g.large": {0.159, "hour", srcRDS}, "db.m7g.large": {0.168, "hour", srcRDS},
	"db.r6g.xlarge": {0.449, "hour", srcRDS}, "db.r7g.xlarge": {0.478, "hour", srcRDS},
	// large = half of xlarge, as RDS prices scale linearly within a family
	"db.r6g.large": {0.2245, "hour", srcRDS}, "db.r7g.large": {0.239, "hour", srcRDS},
}

// RDSvCPUs is the vCPU count of the classes above (RDS Proxy bills per target vCPU).
var RDSvCPUs = map[string]int{"db.t4g.medium": 2, "db.m6g.large": 2, "db.m7g.large": 2, "db.r6g.large": 2, "db.r7g.large": 2, "db.r6g.xlarge": 4, "db.r7g.xlarge": 4}

// Cache is the hourly node price of Redis OSS node types (Valkey is ValkeyFactor of it).
var Cache = map[string]Price{
	"cache.t4g.small": {0.032, "hour", srcCache}, "cache.m7g.large": {0.158, "hour", srcCache}, "cache.r7g.large": {0.219, "hour", srcCache},
}

// ValkeyFactor is Valkey's node price relative to Redis OSS.
const ValkeyFactor = 0.8

// Unit prices of everything else.
var (
	EKSCluster        = Price{0.10, "cluster-hour", srcEKS}
	EKSExtended       = Price{0.60, "cluster-hour", srcEKS}
	NATGateway        = Price{0.045, "hour (+0.045/GB processed, not modelled)", srcVPC}
	PublicIPv4        = Price{0.005, "address-hour", srcVPC}
	InterfaceEndpoint = Price{0.01, "AZ-hour", srcVPC}
	EBSgp3            = Price{0.08, "GB-month", srcEBS}
	RDSgp3            = Price{0.115, "GB-month (Single-AZ; Multi-AZ twice)", srcRDS}
	RDSProxy          = Price{0.015, "target vCPU-hour (2 vCPU minimum)", srcProxy}
	KMSKey            = Price{1.00, "key-month", srcKMS}
	Secret            = Price{0.40, "secret-month", srcSecrets}
	WebACL            = Price{5.00, "web ACL-month (+1/rule, +0.60/M requests)", srcWAF}
	BackupRDSStorage  = Price{0.095, "GB-month (not modelled: depends on data)", srcBackup}
	LogIngestion      = Price{0.50, "GB ingested (not modelled: depends on traffic)", srcCloudwatch}
	AlarmMetric       = Price{0.10, "standard-resolution alarm metric-month", srcCloudwatch}
	CompositeAlarm    = Price{0.50, "composite alarm-month", srcCloudwatch}
	Dashboard         = Price{3.00, "dashboard-month (the account's first 3 are free; not counted)", srcCloudwatch}
	ALB               = Price{0.0225, "ALB-hour", srcELB}
	// ALBCapacityUnit is one LCU-hour; an ALB bills at least the LCUs its traffic uses. One is
	// modelled (a quiet environment); traffic beyond it is usage-based, not modelled.
	ALBCapacityUnit = Price{0.008, "LCU-hour (1 modelled; more is usage-based)", srcELB}
)

// MonthlyALB is an internet-facing ALB with one LCU and a public IPv4 address per AZ.
func MonthlyALB(azs int) float64 {
	return (ALB.USD + ALBCapacityUnit.USD + float64(azs)*PublicIPv4.USD) * HoursPerMonth
}
