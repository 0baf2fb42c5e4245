// Package costmodel prices a stack's resources per month from a price table, so the cost
// pack's budget rule and a pull-request comment can show what a change costs.
package costmodel

import (
	"slices"
	"strings"
)

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
	srcEC2m       = "AWS on-demand list price, us-east-1 = us-west-2, read from memory (verify before relying on a cent)"
	srcRDSm       = "aws.amazon.com/rds/postgresql/pricing, read from memory (verify)"
	srcCacheM     = "aws.amazon.com/elasticache/pricing, read from memory (verify)"
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
	srcClientVPN  = "aws.amazon.com/vpn/pricing (Client VPN, us-east-1 via infracost)"
	srcCommit     = "aws.amazon.com/savingsplans/pricing, aws.amazon.com/rds/reserved-instances, aws.amazon.com/elasticache/reserved-cache-nodes: 1-year no-upfront discounts for m6i/m7g, db.r6g/db.m7g, cache.r7g/cache.m7g, read from memory (planning figures; verify)"
)

// Commitment is a 1-year, no-upfront commitment's discount on the steady part of a stack.
type Commitment struct {
	// Kind is what commits: "Compute Savings Plan", "RDS reserved instance", ...
	Kind string
	// Discount is the fraction off on-demand.
	Discount float64
	Source   string
}

// Commitments by what they cover. The EKS control plane has none: AWS sells no reservation or
// Savings Plan for it. Spot capacity is not steady and is never committed.
var Commitments = map[string]Commitment{
	"nodes":    {"Compute Savings Plan", 0.27, srcCommit},
	"database": {"RDS reserved instance", 0.31, srcCommit},
	"cache":    {"ElastiCache reserved node", 0.31, srcCommit},
}

// The catalog: the instance families this program offers, each with the sizes AWS sells in it
// and the price of one size. It is the one table of what may be configured (stacks refuse a
// type that is not here) and of what it costs. Within these families a size's price and vCPUs
// scale linearly with its weight (large = 1; AWS list prices follow this to the cent for the
// general-purpose, compute and memory families and for burstable sizes from small up).

// sizeWeight is a size relative to large.
var sizeWeight = map[string]float64{
	"nano": 1.0 / 16, "micro": 1.0 / 8, "small": 1.0 / 4, "medium": 1.0 / 2, "large": 1, "xlarge": 2,
	"2xlarge": 4, "4xlarge": 8, "8xlarge": 16, "9xlarge": 18, "12xlarge": 24, "16xlarge": 32, "18xlarge": 36, "24xlarge": 48,
	"32xlarge": 64, "48xlarge": 96,
}

// Family is one instance family of the catalog.
type Family struct {
	// Prefix is the family with its service prefix: "m6i", "db.r7g", "cache.m7g".
	Prefix string
	// Sizes are the sizes AWS sells in the family (this program's regions).
	Sizes []string
	// Large is the hourly price of the family's large size (or what it would be).
	Large float64
	// Source is where the price was read.
	Source string
}

var (
	ec2Large = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge"}
	mediumUp = append([]string{"medium"}, ec2Large...)
	c5Sizes  = []string{"large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"}
	// The 7th-generation Intel and the Graviton4 families skip 32xlarge.
	intel7     = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"}
	graviton4  = append(slices.Clone(graviton), "24xlarge", "48xlarge")
	burstable  = []string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}
	graviton   = []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}
	dbLarge    = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}
	dbBurst    = []string{"micro", "small", "medium", "large", "xlarge", "2xlarge"}
	cacheLarge = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"}
)

// EC2Families are the node instance families (on-demand, Linux): the families
// internal/instancetype knows (TestCatalogCoversInstanceFamilies).
var EC2Families = []Family{
	{"t3", burstable, 0.0832, srcEC2}, {"t3a", burstable, 0.0752, srcEC2}, {"t4g", burstable, 0.0672, srcEC2m},
	{"m5", ec2Large[:8], 0.096, srcEC2}, {"m5a", ec2Large[:8], 0.086, srcEC2m}, {"m6i", ec2Large, 0.096, srcEC2},
	{"m6a", upTo48(ec2Large), 0.0864, srcEC2}, {"m7i", intel7, 0.1008, srcEC2}, {"m7a", upTo48(mediumUp), 0.11592, srcEC2m},
	{"m6g", graviton, 0.077, srcEC2m}, {"m7g", graviton, 0.0816, srcEC2}, {"m8g", graviton4, 0.08976, srcEC2m},
	{"c5", c5Sizes, 0.085, srcEC2m}, {"c5a", ec2Large[:8], 0.077, srcEC2m}, {"c6i", ec2Large, 0.085, srcEC2},
	{"c6a", upTo48(ec2Large), 0.0765, srcEC2m}, {"c7i", intel7, 0.08925, srcEC2m}, {"c7a", upTo48(mediumUp), 0.10264, srcEC2m},
	{"c6g", graviton, 0.068, srcEC2m}, {"c7g", graviton, 0.0725, srcEC2m}, {"c8g", graviton4, 0.07976, srcEC2m},
	{"r5", ec2Large[:8], 0.126, srcEC2m}, {"r5a", ec2Large[:8], 0.113, srcEC2m}, {"r6i", ec2Large, 0.126, srcEC2},
	{"r6a", upTo48(ec2Large), 0.1134, srcEC2m}, {"r7i", intel7, 0.1323, srcEC2m}, {"r7a", upTo48(mediumUp), 0.15215, srcEC2m},
	{"r6g", graviton, 0.1008, srcEC2m}, {"r7g", graviton, 0.1071, srcEC2m}, {"r8g", graviton4, 0.11782, srcEC2m},
}

// upTo48 adds the 24xlarge, 32xlarge and 48xlarge sizes the newest families come in.
func upTo48(sizes []string) []string {
	out := slices.Clone(sizes)
	for _, s := range []string{"24xlarge", "32xlarge", "48xlarge"} {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// RDSFamilies are the PostgreSQL instance classes (Single-AZ; Multi-AZ is twice): the families
// the cost pack's tier thresholds name (TestCatalogCoversThresholds).
var RDSFamilies = []Family{
	{"db.t4g", dbBurst, 0.130, srcRDS}, {"db.t3", dbBurst, 0.136, srcRDSm}, {"db.m6g", dbLarge, 0.159, srcRDS}, {"db.m7g", dbLarge, 0.168, srcRDS},
	{"db.r6g", dbLarge, 0.2245, srcRDS}, {"db.r7g", dbLarge, 0.239, srcRDS},
}

// CacheFamilies are the ElastiCache node types (Redis OSS price; Valkey is ValkeyFactor of it).
var CacheFamilies = []Family{
	{"cache.t4g", []string{"micro", "small", "medium"}, 0.128, srcCache}, {"cache.t3", []string{"micro", "small", "medium"}, 0.136, srcCacheM},
	{"cache.m6g", cacheLarge, 0.149, srcCacheM}, {"cache.r6g", cacheLarge, 0.206, srcCacheM},
	{"cache.m7g", cacheLarge, 0.158, srcCache}, {"cache.r7g", cacheLarge, 0.219, srcCache},
}

// catalog expands families into their types and prices.
func catalog(families []Family) map[string]Price {
	out := map[string]Price{}
	for _, f := range families {
		for _, size := range f.Sizes {
			out[f.Prefix+"."+size] = Price{f.Large * sizeWeight[size], "hour", f.Source}
		}
	}
	return out
}

// EC2, RDS and Cache are the catalog's types with their hourly prices.
var (
	EC2   = catalog(EC2Families)
	RDS   = catalog(RDSFamilies)
	Cache = catalog(CacheFamilies)
)

// RDSvCPUs is a class's vCPUs (RDS Proxy bills per target vCPU): 2 for large and below.
func RDSvCPUs(class string) (int, bool) {
	if _, ok := RDS[class]; !ok {
		return 0, false
	}
	return int(max(2, 2*sizeWeight[class[strings.LastIndex(class, ".")+1:]])), true
}

// Offered lists a catalog's families for messages: with their sizes when there are few
// families, else the families alone (the error for a family names its sizes).
func Offered(families []Family) string {
	parts := make([]string, len(families))
	for i, f := range families {
		parts[i] = f.Prefix
		if len(families) <= 5 {
			parts[i] += ".(" + strings.Join(f.Sizes, "|") + ")"
		}
	}
	return strings.Join(parts, ", ")
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
	// CanaryRun is one Synthetics run (the account's first 100 a month are free; not counted).
	// The Lambda, S3 and log usage of a run is billed besides, not modelled.
	CanaryRun = Price{0.0012, "canary run", srcCloudwatch}
	// ClientVPNAssociation is a Client VPN endpoint's subnet association; connections are
	// usage-based (0.05 per connection-hour), not modelled.
	ClientVPNAssociation = Price{0.10, "subnet association-hour (+0.05/connection-hour, not modelled)", srcClientVPN}
	ALB                  = Price{0.0225, "ALB-hour", srcELB}
	// ALBCapacityUnit is one LCU-hour; an ALB bills at least the LCUs its traffic uses. One is
	// modelled (a quiet environment); traffic beyond it is usage-based, not modelled.
	ALBCapacityUnit = Price{0.008, "LCU-hour (1 modelled; more is usage-based)", srcELB}
)

// MonthlyALB is an internet-facing ALB with one LCU and a public IPv4 address per AZ.
func MonthlyALB(azs int) float64 {
	return (ALB.USD + ALBCapacityUnit.USD + float64(azs)*PublicIPv4.USD) * HoursPerMonth
}
