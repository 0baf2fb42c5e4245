package stacks

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/scalemate/infra/internal/instancetype"
	"github.com/scalemate/infra/internal/netplan"
	"github.com/scalemate/infra/internal/validate"
	"github.com/scalemate/infra/internal/window"
	"github.com/scalemate/infra/policies/costmodel"
)

// regionAZs lists, for the regions the platform supports, the letters of their AZs. The first
// azCount letters are the default zones; letters differ per account in a few regions, which is
// what network.availabilityZones is for.
var regionAZs = map[string]string{
	"us-east-1": "abcdef", "us-east-2": "abc", "us-west-2": "abcd", "ca-central-1": "abd",
	"eu-west-1": "abc", "eu-west-2": "abc", "eu-west-3": "abc", "eu-central-1": "abc", "eu-north-1": "abc",
	"ap-southeast-1": "abc", "ap-southeast-2": "abc", "ap-northeast-1": "acd", "ap-south-1": "abc",
	"sa-east-1": "abc",
}

// KubernetesVersions are the EKS versions accepted (standard or extended support, 2026-11).
var KubernetesVersions = []string{"1.31", "1.32", "1.33", "1.34", "1.35"}

// StandardSupportEnds is when each Kubernetes version leaves EKS standard support (the EKS
// release calendar); after it AWS upgrades a STANDARD cluster itself, or bills extended support.
// The stack tests fail 60 days before a stack's version reaches its date, and AWS Health's
// notice reaches the warning topic (monitoring).
var StandardSupportEnds = map[string]string{
	"1.31": "2025-11-26", "1.32": "2026-03-23", "1.33": "2026-07-29", "1.34": "2026-12-02", "1.35": "2027-03-27",
}

// InterfaceEndpointServices are the VPC interface endpoints the network may create.
var InterfaceEndpointServices = []string{"autoscaling", "ec2", "ec2messages", "ecr.api", "ecr.dkr", "eks", "eks-auth",
	"elasticloadbalancing", "kms", "logs", "secretsmanager", "ssm", "ssmmessages", "sts"}

// privateClusterEndpoints are what nodes need without a NAT gateway: the VPC CNI calls EC2,
// images come from ECR, IRSA needs STS, and node access is through SSM Session Manager.
var privateClusterEndpoints = []string{"ec2", "ecr.api", "ecr.dkr", "sts", "ssm", "ssmmessages", "ec2messages"}

// MaxNodesPerPool is EKS's quota of nodes in one managed node group.
const MaxNodesPerPool = 450

// Addons are the EKS managed addons whose versions can be pinned.
var Addons = []string{"amazon-cloudwatch-observability", "aws-ebs-csi-driver", "coredns", "kube-proxy", "vpc-cni"}

var (
	clusterLogTypes  = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	requiredLogTypes = []string{"api", "audit", "authenticator"}
	roleARNRE        = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	iamPolicyNameRE  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	iamPolicyARNRE   = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:policy/[\w+=,.@/-]{1,128}$`)
	addonVersionRE   = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$`)
	poolNameRE       = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
)

// Regions lists the supported regions, sorted.
func Regions() []string {
	return slices.Sorted(maps.Keys(regionAZs))
}

// AvailabilityZones is the resolved list of AZ names the network spans.
func (s *Spec) AvailabilityZones() []string {
	if len(s.Network.AvailabilityZones) > 0 {
		return s.Network.AvailabilityZones
	}
	letters := regionAZs[s.Region]
	out := make([]string, 0, max(0, s.Network.AZCount))
	for i := 0; i < s.Network.AZCount && i < len(letters); i++ {
		out = append(out, s.Region+letters[i:i+1])
	}
	return out
}

// Tags are the tags every resource carries: the AWS provider's default tags, and the tags of
// what node groups launch (which default tags do not reach).
func (s *Spec) Tags() map[string]string {
	return map[string]string{
		"Project": s.Project, "Environment": s.Stack, "Tier": string(s.Tier), "ManagedBy": "pulumi", "Owner": s.Owner,
	}
}

// NodePoolNames lists the node pools in a stable order.
func (s *Spec) NodePoolNames() []string {
	return slices.Sorted(maps.Keys(s.NodePools))
}

func (s *Spec) validate(p *validate.Problems) {
	p.NotEmpty(KeyOwner, s.Owner)
	p.LogRetention(KeyLogRetentionDays, s.LogRetentionDays)
	if _, ok := regionAZs[s.Region]; !ok {
		if s.Region == "" {
			p.Addf(KeyRegion, "must be set (pulumi config set aws:region <region>); supported: %s", strings.Join(Regions(), ", "))
		} else {
			p.Addf(KeyRegion, "%q is not supported; use one of %s", s.Region, strings.Join(Regions(), ", "))
		}
	}
	vpc, vpcOK := s.validateNetwork(p)
	s.validateCluster(p, vpc, vpcOK)
	s.validateNodePools(p)
	s.validateData(p)
	if b := s.PermissionsBoundary; !iamPolicyNameRE.MatchString(b) && !iamPolicyARNRE.MatchString(b) {
		p.Addf(KeyPermissionsBoundary, "%q is neither an IAM policy name nor an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)", b)
	}
	if u := s.OnCallWebhookURL; u != "" && !strings.HasPrefix(u, "https://") {
		p.Addf(KeyOnCallWebhook, "must be an https:// URL (SNS delivers alarms to it over TLS)")
	}
	s.validateEdge(p)
	s.validateCI(p)
	s.validateApp(p)
	s.validateTier(p)
}

// validateData checks what the data-tier components cannot know: regions and restore wiring.
// Their own field checks run in infra, before any resource is registered.
// offered refuses a type the catalog does not hold: a size AWS does not sell (cache.t4g.huge)
// or a family this program does not offer, before AWS refuses it half-way through an up. The
// catalog is the cost model's price table, so whatever can be configured can be priced.
func offered(p *validate.Problems, field, typ string, catalog map[string]costmodel.Price, families []costmodel.Family) bool {
	if _, ok := catalog[typ]; ok {
		return true
	}
	family := typ[:max(0, strings.LastIndex(typ, "."))]
	for _, f := range families {
		if f.Prefix == family {
			p.Addf(field, "%q: %s has no such size; it comes in %s", typ, family, strings.Join(f.Sizes, ", "))
			return false
		}
	}
	p.Addf(field, "%q is not a type this program offers; use one of %s", typ, costmodel.Offered(families))
	return false
}

func (s *Spec) validateData(p *validate.Problems) {
	offered(p, KeyPostgres+".instanceClass", s.Postgres.InstanceClass, costmodel.RDS, costmodel.RDSFamilies)
	if c := s.Postgres.ReplicaInstanceClass; c != "" {
		offered(p, KeyPostgres+".replicaInstanceClass", c, costmodel.RDS, costmodel.RDSFamilies)
	}
	offered(p, KeyRedis+".nodeType", s.Redis.NodeType, costmodel.Cache, costmodel.CacheFamilies)
	if s.Postgres.Proxy && !slices.Contains(s.Network.InterfaceEndpoints, "secretsmanager") {
		p.Addf(KeyNetwork+".interfaceEndpoints", "must include secretsmanager while %s.proxy is on: the proxy runs in the data subnets, which have no internet route, and reads its logins from Secrets Manager", KeyPostgres)
	}
	if r := s.Postgres.Restore; r != nil && r.SnapshotIdentifier == "" && r.SourceDBInstanceIdentifier == "" && r.SourceDbiResourceID == "" && r.SourceAutomatedBackupsARN == "" {
		p.Addf(KeyPostgres+".restore", "set snapshotIdentifier, or the point-in-time source (sourceDbInstanceIdentifier, sourceDbiResourceId or sourceAutomatedBackupsArn)")
	}
	// AWS Backup skips a database job that would start in the engine's own backup window, in
	// its maintenance window or in the hour before it.
	start, err1 := window.Daily(fmt.Sprintf("%02d:00-%02d:00", s.Backup.StartHourUTC, (s.Backup.StartHourUTC+1)%24))
	own, err2 := window.Daily(s.Postgres.BackupWindow)
	maint, err3 := window.Weekly(s.Postgres.MaintenanceWindow)
	switch {
	case s.Backup.StartHourUTC < 0 || s.Backup.StartHourUTC > 23 || err1 != nil:
		p.Addf(KeyBackup+".startHourUtc", "%d is not an hour (0-23)", s.Backup.StartHourUTC)
	case err2 != nil || err3 != nil:
		// the postgres component reports malformed windows
	case window.DailyOverlapsDaily(start, own):
		p.Addf(KeyBackup+".startHourUtc", "%d:00 falls in the database's backup window %s (%s.backupWindow); AWS Backup would skip the job", s.Backup.StartHourUTC, s.Postgres.BackupWindow, KeyPostgres)
	case window.DailyOverlapsWeekly(start, maint.Widen(60)):
		p.Addf(KeyBackup+".startHourUtc", "%d:00 falls in the database's maintenance window %s or the hour before it (%s.maintenanceWindow); AWS Backup would skip that day's job", s.Backup.StartHourUTC, s.Postgres.MaintenanceWindow, KeyPostgres)
	}
	if dr := s.Backup.DRRegion; dr != "" {
		if _, ok := regionAZs[dr]; !ok {
			p.Addf(KeyBackup+".drRegion", "%q is not supported; use one of %s", dr, strings.Join(Regions(), ", "))
		} else if dr == s.Region {
			p.Addf(KeyBackup+".drRegion", "%q is the main region (aws:region); copies must go to another region", dr)
		}
	}
}

func (s *Spec) validateNetwork(p *validate.Problems) (netip.Prefix, bool) {
	n := s.Network
	k := KeyNetwork + "."
	if v := n.ClientVPN; v != nil && v.AZCount > n.AZCount {
		p.Addf(k+"clientVpn.azCount", "%d AZs, but the VPC spans %d (%sazCount)", v.AZCount, n.AZCount, k)
	}
	vpc, ok := p.CIDR(k+"cidr", n.CIDR)
	if ok {
		if !validate.IsPrivate(vpc) {
			p.Addf(k+"cidr", "%s is not inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", n.CIDR)
			ok = false
		}
		if vpc.Bits() < 16 || vpc.Bits() > 24 {
			p.Addf(k+"cidr", "/%d is not allowed; a VPC is /16 to /24 here", vpc.Bits())
			ok = false
		}
	}
	maxAZ := min(netplan.MaxAZs, len(regionAZs[s.Region]))
	if letters, known := regionAZs[s.Region]; known {
		p.IntRange(k+"azCount", n.AZCount, 2, maxAZ)
		if len(n.AvailabilityZones) > 0 {
			if len(n.AvailabilityZones) != n.AZCount {
				p.Addf(k+"availabilityZones", "lists %d zones but azCount is %d", len(n.AvailabilityZones), n.AZCount)
			}
			for i, az := range n.AvailabilityZones {
				letter, found := strings.CutPrefix(az, s.Region)
				if !found || len(letter) != 1 || !strings.Contains(letters, letter) {
					p.Addf(fmt.Sprintf("%savailabilityZones[%d]", k, i), "%q is not an AZ of %s (%s%s)", az, s.Region, s.Region, "["+letters+"]")
				} else if slices.Index(n.AvailabilityZones, az) != i {
					p.Addf(fmt.Sprintf("%savailabilityZones[%d]", k, i), "%q is listed twice", az)
				}
			}
		}
	}
	p.OneOf(k+"natGateways", n.NATGateways, "none", "single", "perAz")
	for i, svc := range n.InterfaceEndpoints {
		p.OneOf(fmt.Sprintf("%sinterfaceEndpoints[%d]", k, i), svc, InterfaceEndpointServices...)
	}
	if n.NATGateways == "none" {
		for _, need := range privateClusterEndpoints {
			if !slices.Contains(n.InterfaceEndpoints, need) {
				p.Addf(k+"interfaceEndpoints", "must include %s when natGateways is none (without internet egress nodes reach AWS only through endpoints: %s)", need, strings.Join(privateClusterEndpoints, ", "))
			}
		}
	}
	if n.FlowLogAggregationSeconds != 60 && n.FlowLogAggregationSeconds != 600 {
		p.Addf(k+"flowLogAggregationSeconds", "%d is not allowed; use 60 or 600", n.FlowLogAggregationSeconds)
	}
	if ok && !n.prefixesSet {
		// The default layout scales with the VPC: each subnet one bit smaller per bit.
		shift := vpc.Bits() - 16
		n.SubnetPrefixes = netplan.Prefixes{Public: n.SubnetPrefixes.Public + shift, Private: n.SubnetPrefixes.Private + shift, Isolated: n.SubnetPrefixes.Isolated + shift}
		if max(n.SubnetPrefixes.Public, n.SubnetPrefixes.Private, n.SubnetPrefixes.Isolated) > 28 {
			b := vpc.Bits()
			p.Addf(k+"cidr", "a /%d VPC is too small for the default subnet layout, which fits /16 to /20; set %ssubnetPrefixes as well, e.g. {\"public\": %d, \"private\": %d, \"isolated\": %d} (%d-address private subnets)",
				b, k, b+4, b+3, b+4, 1<<(32-b-3))
			return vpc, false
		}
		s.Network.SubnetPrefixes = n.SubnetPrefixes
	}
	if ok && n.AZCount >= 1 && n.AZCount <= netplan.MaxAZs {
		if _, err := netplan.Subnets(vpc, n.AZCount, n.SubnetPrefixes); err != nil {
			p.Addf(k+"subnetPrefixes", "%v", err)
		}
	}
	return vpc, ok
}

func (s *Spec) validateCluster(p *validate.Problems, vpc netip.Prefix, vpcOK bool) {
	c := s.Cluster
	k := KeyCluster + "."
	p.OneOf(k+"version", c.Version, KubernetesVersions...)
	p.OneOf(k+"supportType", c.SupportType, "STANDARD", "EXTENDED")
	if svc, ok := p.CIDR(k+"serviceCidr", c.ServiceCIDR); ok {
		switch {
		case !validate.IsPrivate(svc) || svc.Bits() < 12 || svc.Bits() > 24:
			p.Addf(k+"serviceCidr", "%s must be a private range between /12 and /24 (EKS rule)", c.ServiceCIDR)
		case vpcOK && svc.Overlaps(vpc):
			p.Addf(k+"serviceCidr", "%s overlaps the VPC %s (%s.cidr); pods could not reach VPC addresses in the overlap", c.ServiceCIDR, vpc, KeyNetwork)
		}
	}
	p.PublicAccessCIDRs(k+"publicAccessCidrs", c.PublicAccessCIDRs)
	seen := map[string]string{}
	for _, list := range []struct {
		key  string
		arns []string
	}{{"adminRoleArns", c.AdminRoleARNs}, {"viewRoleArns", c.ViewRoleARNs}} {
		for i, arn := range list.arns {
			field := fmt.Sprintf("%s%s[%d]", k, list.key, i)
			switch {
			case !roleARNRE.MatchString(arn):
				p.Addf(field, "%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
			case seen[arn] != "":
				p.Addf(field, "%q is listed twice (also %s; EKS allows one access entry per principal)", arn, seen[arn])
			default:
				seen[arn] = field
			}
		}
	}
	for i, lt := range c.LogTypes {
		p.OneOf(fmt.Sprintf("%slogTypes[%d]", k, i), lt, clusterLogTypes...)
	}
	for _, need := range requiredLogTypes {
		if !slices.Contains(c.LogTypes, need) {
			p.Addf(k+"logTypes", "must include %s (required: %s)", need, strings.Join(requiredLogTypes, ", "))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.AddonVersions)) {
		field := k + "addonVersions." + name
		p.OneOf(field, name, Addons...)
		if v := c.AddonVersions[name]; !addonVersionRE.MatchString(v) {
			p.Addf(field, "%q is not an EKS addon version (e.g. v1.19.5-eksbuild.1)", v)
		}
	}
	// Every addon is pinned: one left to AWS's default moves whenever AWS changes it (checked
	// for a valid version only; an invalid one is reported above).
	for _, name := range Addons {
		if _, ok := c.AddonVersions[name]; !ok && slices.Contains(KubernetesVersions, c.Version) {
			p.Addf(k+"addonVersions."+name, "must be pinned: this program has no pin for Kubernetes %s (it pins %s); take the build `aws eks describe-addon-versions --kubernetes-version %s --addon-name %s` lists",
				c.Version, strings.Join(slices.Sorted(maps.Keys(AddonPins)), ", "), c.Version, name)
		}
	}
	// kube-proxy's build follows the control plane's minor version.
	if v := c.AddonVersions["kube-proxy"]; addonVersionRE.MatchString(v) && slices.Contains(KubernetesVersions, c.Version) && !strings.HasPrefix(v, "v"+c.Version+".") {
		hint := ""
		if pin := AddonPins[c.Version]["kube-proxy"]; pin != "" {
			hint = " (" + pin + ")"
		}
		p.Addf(k+"addonVersions.kube-proxy", "%s does not match the cluster's Kubernetes %s; pin a v%s build%s", v, c.Version, c.Version, hint)
	}
}

func (s *Spec) validateNodePools(p *validate.Problems) {
	if len(s.NodePools) == 0 {
		p.Addf(KeyNodePools, "at least one node pool is required")
	} else if !slices.ContainsFunc(slices.Collect(maps.Values(s.NodePools)), func(np NodePool) bool { return np.MinSize >= 1 }) {
		p.Addf(KeyNodePools, "at least one pool needs minSize >= 1, or CoreDNS has nowhere to run and the cluster addons never become active")
	}
	for _, name := range s.NodePoolNames() {
		np := s.NodePools[name]
		k := KeyNodePools + "." + name + "."
		if !poolNameRE.MatchString(name) {
			p.Addf(KeyNodePools+"."+name, "pool name must be lower-case letters, digits and dashes, starting with a letter, at most 31 characters")
		}
		p.OneOf(k+"capacityType", np.CapacityType, "ON_DEMAND", "SPOT")
		catalogued := true
		for i, it := range np.InstanceTypes {
			catalogued = offered(p, fmt.Sprintf("%sinstanceTypes[%d]", k, i), it, costmodel.EC2, costmodel.EC2Families) && catalogued
		}
		if _, err := instancetype.CommonArch(np.InstanceTypes); err != nil && catalogued {
			p.Addf(k+"instanceTypes", "%v", err)
		}
		if s.Tier == Prod {
			for _, it := range np.InstanceTypes {
				if t, err := instancetype.Parse(it); err == nil && t.Burstable() {
					p.Addf(k+"instanceTypes", "%s is burstable; prod nodes need steady CPU (use m, c or r families)", it)
				}
			}
		}
		if np.CapacityType == "SPOT" && len(np.InstanceTypes) < 2 {
			p.Addf(k+"instanceTypes", "a SPOT pool needs at least 2 instance types so one interrupted type does not empty it")
		}
		p.Scaling(k+"minSize", k+"maxSize", k+"desiredSize", np.MinSize, np.MaxSize, np.DesiredSize, MaxNodesPerPool)
		p.IntRange(k+"diskSizeGiB", np.DiskSizeGiB, 20, 16384)
		p.IntRange(k+"maxUnavailablePercent", np.MaxUnavailablePercent, 1, 100)
		for i, t := range np.Taints {
			p.NotEmpty(fmt.Sprintf("%staints[%d].key", k, i), t.Key)
			if len(t.Key) > 63 || len(t.Value) > 63 {
				p.Addf(fmt.Sprintf("%staints[%d]", k, i), "key and value are at most 63 characters")
			}
			p.OneOf(fmt.Sprintf("%staints[%d].effect", k, i), t.Effect, "NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")
		}
	}
}

// validateTier enforces what an environment class promises beyond single values.
func (s *Spec) validateTier(p *validate.Problems) {
	if s.Tier == Dev {
		return
	}
	if len(s.Edge.DomainNames) == 0 {
		p.Addf(KeyEdge+".domainNames", "%s serves its own domains with an ACM certificate and TLS 1.2 or newer; CloudFront's default certificate (dev only) allows TLS 1.0", s.Tier)
	}
	onDemandMin := 0
	for _, np := range s.NodePools {
		if np.CapacityType == "ON_DEMAND" {
			onDemandMin += np.MinSize
		}
	}
	if onDemandMin < 2 {
		p.Addf(KeyNodePools, "%s needs on-demand pools with minSize adding up to at least 2 (cluster add-ons must survive spot interruptions and a node loss); have %d", s.Tier, onDemandMin)
	}
	if s.Tier != Prod {
		return
	}
	if s.Network.AZCount < 3 {
		p.Addf(KeyNetwork+".azCount", "prod must span at least 3 AZs (Multi-AZ); have %d", s.Network.AZCount)
	}
	if s.Network.NATGateways != "perAz" && s.Network.NATGateways != "none" {
		p.Addf(KeyNetwork+".natGateways", "prod needs perAz (or none with interface endpoints) so losing one AZ does not cut egress for the others; have %s", s.Network.NATGateways)
	}
	if !s.Postgres.MultiAZ {
		p.Addf(KeyPostgres+".multiAz", "prod needs a Multi-AZ standby (an AZ outage must not take the database down)")
	}
	if s.Postgres.BackupRetentionDays < 7 {
		p.Addf(KeyPostgres+".backupRetentionDays", "prod keeps at least 7 days of point-in-time recovery; have %d", s.Postgres.BackupRetentionDays)
	}
	if s.Redis.ReplicasPerShard < 1 {
		p.Addf(KeyRedis+".replicasPerShard", "prod needs at least 1 replica per shard (automatic failover, Multi-AZ); have %d", s.Redis.ReplicasPerShard)
	}
	if s.Backup.DRRegion == "" {
		p.Addf(KeyBackup+".drRegion", "prod copies backups to a second region; set one")
	}
	if s.Edge.WAF.Action != "block" {
		p.Addf(KeyEdge+".waf.action", "prod blocks what the WAF rules match; have %q", s.Edge.WAF.Action)
	}
	if len(s.Monitoring.CanaryChecks()) == 0 {
		p.Addf(KeyMonitoring+".canaryMinutes", "prod watches what its users see: canaries run every 1 to 60 minutes on at least one path (canaries)")
	}
	if len(s.Monitoring.CriticalEmails) == 0 && s.OnCallWebhookURL == "" {
		p.Addf(KeyMonitoring+".criticalEmails", "prod pages someone on critical alarms: set criticalEmails or %s", KeyOnCallWebhook)
	}
}
