package stacks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustResolve(t *testing.T, stack string, cfg map[string]string) *Spec {
	t.Helper()
	if _, ok := cfg[KeyRegion]; !ok {
		cfg[KeyRegion] = "us-west-2"
	}
	if _, ok := cfg[KeyEdge]; !ok {
		cfg[KeyEdge] = `{"zoneName":"scalemate.io","domainNames":["app.scalemate.io"]}`
	}
	s, err := Resolve("scalemate", stack, cfg)
	require.NoError(t, err)
	return s
}

func TestTierDefaults(t *testing.T) {
	dev := mustResolve(t, "dev", map[string]string{})
	assert.Equal(t, Dev, dev.Tier)
	assert.Equal(t, 7, dev.LogRetentionDays)
	assert.Equal(t, []string{"us-west-2a", "us-west-2b"}, dev.AvailabilityZones())
	assert.Equal(t, "single", dev.Network.NATGateways)
	assert.Equal(t, []string{"workers"}, dev.NodePoolNames())
	assert.Equal(t, "SPOT", dev.NodePools["workers"].CapacityType)
	assert.Equal(t, 1, dev.NodePools["workers"].DesiredSize, "desiredSize defaults to minSize")

	prod := mustResolve(t, "prod", map[string]string{})
	assert.Equal(t, 365, prod.LogRetentionDays)
	assert.Equal(t, "perAz", prod.Network.NATGateways)
	assert.Len(t, prod.AvailabilityZones(), 3)
	assert.Len(t, prod.Cluster.LogTypes, 5)
	assert.Empty(t, prod.Cluster.PublicAccessCIDRs, "prod API endpoint is private by default")
	assert.Equal(t, []string{"system", "workers"}, prod.NodePoolNames())
	assert.Equal(t, "ON_DEMAND", prod.NodePools["system"].CapacityType)
	assert.Equal(t, 60, prod.Network.FlowLogAggregationSeconds)
}

func TestDataTierDefaults(t *testing.T) {
	dev := mustResolve(t, "dev", map[string]string{})
	assert.False(t, dev.Postgres.MultiAZ)
	assert.Equal(t, 0, dev.Postgres.ReadReplicas)
	assert.Equal(t, 1, dev.Postgres.BackupRetentionDays)
	assert.Equal(t, "scalemate-dev", dev.Postgres.Identifier)
	assert.Empty(t, dev.Backup.DRRegion)

	prod := mustResolve(t, "prod", map[string]string{})
	assert.True(t, prod.Postgres.MultiAZ)
	assert.Equal(t, 2, prod.Postgres.ReadReplicas)
	assert.Equal(t, 30, prod.Postgres.BackupRetentionDays)
	assert.True(t, prod.Postgres.Proxy)
	assert.Equal(t, 3, prod.Redis.Shards)
	assert.Equal(t, 2, prod.Redis.ReplicasPerShard)
	assert.Equal(t, "governance", prod.Backup.VaultLock)
	assert.Equal(t, "us-east-2", prod.Backup.DRRegion)

	east := mustResolve(t, "prod", map[string]string{KeyRegion: "us-east-2"})
	assert.Equal(t, "us-west-2", east.Backup.DRRegion, "the DR region is never the main region")
}

func TestConfigOverlaysDefaultsFieldByField(t *testing.T) {
	s := mustResolve(t, "staging", map[string]string{
		KeyOwner:            "data-team",
		KeyLogRetentionDays: "90",
		KeyNetwork:          `{"cidr":"10.42.0.0/16","subnetPrefixes":{"isolated":25}}`,
		KeyNodePools:        `{"workers":{"maxSize":12},"batch":{"instanceTypes":["c7g.xlarge"],"minSize":0,"maxSize":5}}`,
	})
	assert.Equal(t, "data-team", s.Owner)
	assert.Equal(t, 90, s.LogRetentionDays)
	assert.Equal(t, "10.42.0.0/16", s.Network.CIDR)
	assert.Equal(t, 3, s.Network.AZCount, "unset fields keep the tier default")
	assert.Equal(t, 25, s.Network.SubnetPrefixes.Isolated)
	assert.Equal(t, 19, s.Network.SubnetPrefixes.Private, "nested unset fields keep the default")

	workers := s.NodePools["workers"]
	assert.Equal(t, 12, workers.MaxSize)
	assert.Equal(t, "SPOT", workers.CapacityType, "a tier pool keeps the fields config does not set")
	batch := s.NodePools["batch"]
	assert.Equal(t, "ON_DEMAND", batch.CapacityType, "a new pool starts from the base pool")
	assert.Equal(t, 50, batch.DiskSizeGiB)
	assert.Equal(t, 0, batch.DesiredSize)
}

func TestNullRemovesTierPool(t *testing.T) {
	s := mustResolve(t, "staging", map[string]string{
		KeyNodePools: `{"workers":null,"system":{"minSize":3}}`,
	})
	assert.Equal(t, []string{"system"}, s.NodePoolNames())
}

// Pulumi.yaml's defaults ("" tier, 0 retention, {} objects) mean "the tier's values".
func TestProjectDefaultsMeanUnset(t *testing.T) {
	s := mustResolve(t, "staging", map[string]string{KeyTier: "", KeyLogRetentionDays: "0", KeyNetwork: "{}", KeyNodePools: "{}", KeyOwner: "platform-team"})
	assert.Equal(t, Staging, s.Tier)
	assert.Equal(t, 30, s.LogRetentionDays)
	assert.Equal(t, []string{"system", "workers"}, s.NodePoolNames())
}

func TestTierFromConfigForNonTierStackName(t *testing.T) {
	s := mustResolve(t, "dev-alice", map[string]string{KeyTier: "dev"})
	assert.Equal(t, Dev, s.Tier)
	assert.Equal(t, "dev-alice", s.Stack)

	_, err := Resolve("scalemate", "feature-x", map[string]string{KeyRegion: "us-west-2"})
	assert.EqualError(t, err, "invalid config for stack \"feature-x\":\n  - scalemate:tier: must be set for stack \"feature-x\" (its name is not a tier); use one of local, dev, staging, prod")
	_, err = Resolve("scalemate", "dev", map[string]string{KeyRegion: "us-west-2", KeyTier: "qa"})
	assert.ErrorContains(t, err, `scalemate:tier: "qa" is not allowed; use one of local, dev, staging, prod`)
}

func TestExplicitAvailabilityZones(t *testing.T) {
	s := mustResolve(t, "dev", map[string]string{KeyRegion: "ap-northeast-1", KeyNetwork: `{"availabilityZones":["ap-northeast-1c","ap-northeast-1d"]}`})
	assert.Equal(t, []string{"ap-northeast-1c", "ap-northeast-1d"}, s.AvailabilityZones())
	s = mustResolve(t, "dev", map[string]string{KeyRegion: "ap-northeast-1"})
	assert.Equal(t, []string{"ap-northeast-1a", "ap-northeast-1c"}, s.AvailabilityZones(), "default zones skip the letters the region lacks")
}

// Each bad value is reported with its key, the value and what is allowed.
func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name  string
		stack string
		cfg   map[string]string
		want  string
	}{
		{"region unset", "dev", map[string]string{KeyRegion: ""}, "aws:region: must be set"},
		{"owner empty", "dev", map[string]string{KeyOwner: " "}, "scalemate:owner: must be set"},
		{"retention not a number", "dev", map[string]string{KeyLogRetentionDays: "a week"}, `scalemate:logRetentionDays: "a week" is not a whole number of days`},
		{"network not an object", "dev", map[string]string{KeyNetwork: `[1]`}, "scalemate:network: must be an object with fields cidr, azCount, availabilityZones"},
		{"wrong type", "dev", map[string]string{KeyNetwork: `{"azCount":"three"}`}, "scalemate:network.azCount: expected int, got a string"},
		{"nested wrong type", "dev", map[string]string{KeyNetwork: `{"subnetPrefixes":{"public":"/22"}}`}, "scalemate:network.subnetPrefixes.public: expected int, got a string"},
		{"unknown field lists known", "dev", map[string]string{KeyCluster: `{"verison":"1.33"}`}, `scalemate:cluster: unknown field "verison"; known fields: version, supportType`},
		{"public vpc cidr", "dev", map[string]string{KeyNetwork: `{"cidr":"8.8.0.0/16"}`}, "scalemate:network.cidr: 8.8.0.0/16 is not inside a private range"},
		{"host bits", "dev", map[string]string{KeyNetwork: `{"cidr":"10.0.0.1/16"}`}, `scalemate:network.cidr: "10.0.0.1/16" has host bits set; did you mean 10.0.0.0/16?`},
		{"vpc too large", "dev", map[string]string{KeyNetwork: `{"cidr":"10.0.0.0/12"}`}, "scalemate:network.cidr: /12 is not allowed; a VPC is /16 to /24 here"},
		{"az count over region", "dev", map[string]string{KeyRegion: "ca-central-1", KeyNetwork: `{"azCount":4}`}, "scalemate:network.azCount: 4 is out of range; allowed 2 to 3"},
		{"single az", "dev", map[string]string{KeyNetwork: `{"azCount":1}`}, "scalemate:network.azCount: 1 is out of range; allowed 2 to 4"},
		{"az of other region", "dev", map[string]string{KeyNetwork: `{"availabilityZones":["us-west-2a","us-east-1b"]}`}, `scalemate:network.availabilityZones[1]: "us-east-1b" is not an AZ of us-west-2`},
		{"az repeated", "dev", map[string]string{KeyNetwork: `{"availabilityZones":["us-west-2a","us-west-2a"]}`}, `scalemate:network.availabilityZones[1]: "us-west-2a" is listed twice`},
		{"az count mismatch", "dev", map[string]string{KeyNetwork: `{"availabilityZones":["us-west-2a","us-west-2b","us-west-2c"]}`}, "scalemate:network.availabilityZones: lists 3 zones but azCount is 2"},
		{"nat mode", "dev", map[string]string{KeyNetwork: `{"natGateways":"two"}`}, `scalemate:network.natGateways: "two" is not allowed; use one of none, single, perAz`},
		{"no nat without endpoints", "dev", map[string]string{KeyNetwork: `{"natGateways":"none","interfaceEndpoints":["sts"]}`}, "scalemate:network.interfaceEndpoints: must include ecr.api when natGateways is none"},
		{"no nat without ec2 endpoint", "dev", map[string]string{KeyNetwork: `{"natGateways":"none","interfaceEndpoints":["ecr.api","ecr.dkr","sts","ssm","ssmmessages","ec2messages"]}`}, "scalemate:network.interfaceEndpoints: must include ec2 when natGateways is none"},
		{"unknown endpoint", "dev", map[string]string{KeyNetwork: `{"interfaceEndpoints":["s3"]}`}, `scalemate:network.interfaceEndpoints[0]: "s3" is not allowed`},
		{"subnets do not fit", "dev", map[string]string{KeyNetwork: `{"cidr":"10.0.0.0/20","subnetPrefixes":{"private":19}}`}, "scalemate:network.subnetPrefixes: private subnet prefix /19 does not fit 4 AZ slots in a /20 VPC"},
		{"vpc too small for the default layout", "prod", map[string]string{KeyNetwork: `{"cidr":"10.0.0.0/22"}`}, `scalemate:network.cidr: a /22 VPC is too small for the default subnet layout, which fits /16 to /20; set scalemate:network.subnetPrefixes as well, e.g. {"public": 26, "private": 25, "isolated": 26}`},
		{"flow log interval", "dev", map[string]string{KeyNetwork: `{"flowLogAggregationSeconds":300}`}, "scalemate:network.flowLogAggregationSeconds: 300 is not allowed; use 60 or 600"},
		{"k8s version", "dev", map[string]string{KeyCluster: `{"version":"1.19"}`}, `scalemate:cluster.version: "1.19" is not allowed; use one of 1.31`},
		{"service cidr overlaps vpc", "dev", map[string]string{KeyCluster: `{"serviceCidr":"10.10.0.0/16"}`, KeyNetwork: `{"cidr":"10.10.0.0/16"}`}, "scalemate:cluster.serviceCidr: 10.10.0.0/16 overlaps the VPC 10.10.0.0/16 (scalemate:network.cidr)"},
		{"service cidr size", "dev", map[string]string{KeyCluster: `{"serviceCidr":"172.20.0.0/26"}`}, "scalemate:cluster.serviceCidr: 172.20.0.0/26 must be a private range between /12 and /24"},
		{"open api", "dev", map[string]string{KeyCluster: `{"publicAccessCidrs":["0.0.0.0/0"]}`}, "scalemate:cluster.publicAccessCidrs[0]: 0.0.0.0/0 opens the endpoint to a large part of the internet"},
		{"half the internet", "dev", map[string]string{KeyCluster: `{"publicAccessCidrs":["198.51.100.0/24","0.0.0.0/1"]}`}, "scalemate:cluster.publicAccessCidrs[1]: 0.0.0.0/1 opens the endpoint"},
		{"private api cidr", "dev", map[string]string{KeyCluster: `{"publicAccessCidrs":["10.1.0.0/16"]}`}, "scalemate:cluster.publicAccessCidrs[0]: 10.1.0.0/16 is a private range"},
		{"repeated api cidr", "dev", map[string]string{KeyCluster: `{"publicAccessCidrs":["198.51.100.0/24","198.51.100.0/24"]}`}, "scalemate:cluster.publicAccessCidrs[1]: 198.51.100.0/24 is listed twice"},
		{"repeated admin", "dev", map[string]string{KeyCluster: `{"adminRoleArns":["arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/a"]}`}, `scalemate:cluster.adminRoleArns[1]: "arn:aws:iam::111122223333:role/a" is listed twice`},
		{"admin and viewer", "dev", map[string]string{KeyCluster: `{"adminRoleArns":["arn:aws:iam::111122223333:role/a"],"viewRoleArns":["arn:aws:iam::111122223333:role/a"]}`}, `scalemate:cluster.viewRoleArns[0]: "arn:aws:iam::111122223333:role/a" is listed twice (also scalemate:cluster.adminRoleArns[0]`},
		{"admin not a role", "dev", map[string]string{KeyCluster: `{"adminRoleArns":["arn:aws:iam::123456789012:user/bob"]}`}, `scalemate:cluster.adminRoleArns[0]: "arn:aws:iam::123456789012:user/bob" is not an IAM role ARN`},
		{"log type missing", "dev", map[string]string{KeyCluster: `{"logTypes":["api"]}`}, "scalemate:cluster.logTypes: must include audit"},
		{"log type unknown", "dev", map[string]string{KeyCluster: `{"logTypes":["api","audit","authenticator","kubelet"]}`}, `scalemate:cluster.logTypes[3]: "kubelet" is not allowed`},
		{"addon unknown", "dev", map[string]string{KeyCluster: `{"addonVersions":{"istio":"v1.0.0-eksbuild.1"}}`}, `scalemate:cluster.addonVersions.istio: "istio" is not allowed; use one of amazon-cloudwatch-observability, aws-ebs-csi-driver, coredns, kube-proxy, vpc-cni`},
		{"monitoring unknown field", "dev", map[string]string{KeyMonitoring: `{"emails":["a@example.com"]}`}, `scalemate:monitoring: unknown field "emails"; known fields: warningEmails, criticalEmails, monthlyBudgetUsd`},
		{"prod pages nobody", "prod", map[string]string{KeyMonitoring: `{"criticalEmails":[]}`}, "scalemate:monitoring.criticalEmails: prod pages someone on critical alarms: set criticalEmails or scalemate:onCallWebhookUrl"},
		{"app images not a list", "dev", map[string]string{KeyApp: `{"images":"api"}`}, "scalemate:app.images: expected []string, got a string"},
		{"boundary", "dev", map[string]string{KeyPermissionsBoundary: "arn:aws:iam::123:role/x"}, `scalemate:permissionsBoundary: "arn:aws:iam::123:role/x" is neither an IAM policy name nor an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)`},
		{"addon unpinned", "dev", map[string]string{KeyCluster: `{"version":"1.33"}`}, "scalemate:cluster.addonVersions.amazon-cloudwatch-observability: must be pinned: this program has no pin for Kubernetes 1.33 (it pins 1.34, 1.35); take the build `aws eks describe-addon-versions --kubernetes-version 1.33 --addon-name amazon-cloudwatch-observability` lists"},
		{"kube-proxy skew", "dev", map[string]string{KeyCluster: `{"version":"1.34","addonVersions":{"kube-proxy":"v1.35.3-eksbuild.13"}}`}, `scalemate:cluster.addonVersions.kube-proxy: v1.35.3-eksbuild.13 does not match the cluster's Kubernetes 1.34; pin a v1.34 build (v1.34.6-eksbuild.13)`},
		{"addon version", "dev", map[string]string{KeyCluster: `{"addonVersions":{"coredns":"latest"}}`}, `scalemate:cluster.addonVersions.coredns: "latest" is not an EKS addon version`},
		{"proxy without its endpoint", "staging", map[string]string{KeyNetwork: `{"interfaceEndpoints":["sts"]}`}, "scalemate:network.interfaceEndpoints: must include secretsmanager while scalemate:postgres.proxy is on"},
		{"support type", "dev", map[string]string{KeyCluster: `{"supportType":"LTS"}`}, `scalemate:cluster.supportType: "LTS" is not allowed; use one of STANDARD, EXTENDED`},
		{"no pools", "dev", map[string]string{KeyNodePools: `{"workers":null}`}, "scalemate:nodePools: at least one node pool is required"},
		{"pools not an object", "dev", map[string]string{KeyNodePools: `["workers"]`}, "scalemate:nodePools: must be an object of node pools by name"},
		{"pool name", "dev", map[string]string{KeyNodePools: `{"Big_Pool":{"instanceTypes":["m6i.large"]}}`}, "scalemate:nodePools.Big_Pool: pool name must be lower-case"},
		{"pool unknown field", "dev", map[string]string{KeyNodePools: `{"workers":{"max":5}}`}, `scalemate:nodePools.workers: unknown field "max"`},
		{"capacity type", "dev", map[string]string{KeyNodePools: `{"workers":{"capacityType":"RESERVED"}}`}, `scalemate:nodePools.workers.capacityType: "RESERVED" is not allowed; use one of ON_DEMAND, SPOT`},
		{"mixed arch", "dev", map[string]string{KeyNodePools: `{"workers":{"instanceTypes":["m6i.large","m7g.large"]}}`}, "scalemate:nodePools.workers.instanceTypes: instance types m6i.large, m7g.large mix x86_64 and arm64"},
		{"spot single type", "dev", map[string]string{KeyNodePools: `{"workers":{"instanceTypes":["m6i.large"]}}`}, "scalemate:nodePools.workers.instanceTypes: a SPOT pool needs at least 2 instance types"},
		{"desired above max", "dev", map[string]string{KeyNodePools: `{"workers":{"desiredSize":9}}`}, "scalemate:nodePools.workers.desiredSize: 9 is outside scalemate:nodePools.workers.minSize..scalemate:nodePools.workers.maxSize (1..3)"},
		{"max over quota", "dev", map[string]string{KeyNodePools: `{"workers":{"maxSize":500}}`}, "scalemate:nodePools.workers.maxSize: 500 is out of range; allowed 1 to 450"},
		{"disk", "dev", map[string]string{KeyNodePools: `{"workers":{"diskSizeGiB":8}}`}, "scalemate:nodePools.workers.diskSizeGiB: 8 is out of range; allowed 20 to 16384"},
		{"taint effect", "dev", map[string]string{KeyNodePools: `{"workers":{"taints":[{"key":"gpu","effect":"NoSchedule"}]}}`}, `scalemate:nodePools.workers.taints[0].effect: "NoSchedule" is not allowed; use one of NO_SCHEDULE`},
		{"all pools scale to zero", "dev", map[string]string{KeyNodePools: `{"workers":{"minSize":0}}`}, "scalemate:nodePools: at least one pool needs minSize >= 1"},
		{"burstable in prod", "prod", map[string]string{KeyNodePools: `{"workers":{"instanceTypes":["t3.xlarge","t3a.xlarge"]}}`}, "scalemate:nodePools.workers.instanceTypes: t3.xlarge is burstable"},
		{"staging spot only", "staging", map[string]string{KeyNodePools: `{"system":null}`}, "scalemate:nodePools: staging needs on-demand pools with minSize adding up to at least 2"},
		{"prod two azs", "prod", map[string]string{KeyNetwork: `{"azCount":2}`}, "scalemate:network.azCount: prod must span at least 3 AZs (Multi-AZ); have 2"},
		{"backup in db backup window", "staging", map[string]string{KeyBackup: `{"startHourUtc":3}`}, "scalemate:backup.startHourUtc: 3:00 falls in the database's backup window 03:00-04:00"},
		{"backup before maintenance", "staging", map[string]string{KeyBackup: `{"startHourUtc":4}`}, "scalemate:backup.startHourUtc: 4:00 falls in the database's maintenance window sun:05:00-sun:06:00 or the hour before it"},
		{"backup hour", "staging", map[string]string{KeyBackup: `{"startHourUtc":25}`}, "scalemate:backup.startHourUtc: 25 is not an hour"},
		{"dr region unknown", "prod", map[string]string{KeyBackup: `{"drRegion":"moon-1"}`}, `scalemate:backup.drRegion: "moon-1" is not supported`},
		{"prod without dr", "prod", map[string]string{KeyBackup: `{"drRegion":""}`}, "scalemate:backup.drRegion: prod copies backups to a second region; set one"},
		{"prod short pitr", "prod", map[string]string{KeyPostgres: `{"backupRetentionDays":3}`}, "scalemate:postgres.backupRetentionDays: prod keeps at least 7 days"},
		{"postgres unknown field", "dev", map[string]string{KeyPostgres: `{"replicas":2}`}, `scalemate:postgres: unknown field "replicas"`},
		{"prod default certificate", "prod", map[string]string{KeyEdge: `{"zoneName":"scalemate.io"}`}, "scalemate:edge.domainNames: prod serves its own domains with an ACM certificate and TLS 1.2 or newer"},
		{"prod single nat", "prod", map[string]string{KeyNetwork: `{"natGateways":"single"}`}, "scalemate:network.natGateways: prod needs perAz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := c.cfg[KeyRegion]; !ok {
				c.cfg[KeyRegion] = "us-west-2"
			}
			if _, ok := c.cfg[KeyEdge]; !ok {
				c.cfg[KeyEdge] = `{"zoneName":"scalemate.io","domainNames":["app.scalemate.io"]}`
			}
			_, err := Resolve("scalemate", c.stack, c.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid config for stack \""+c.stack+"\""), err.Error())
		})
	}
}

// All problems come back together, so one run shows everything to fix.
func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Resolve("scalemate", "prod", map[string]string{
		KeyRegion:    "us-west-2",
		KeyNetwork:   `{"azCount":2,"natGateways":"single"}`,
		KeyCluster:   `{"version":"1.0"}`,
		KeyNodePools: `{"workers":{"minSize":40,"maxSize":10}}`,
		KeyEdge:      `{"zoneName":"scalemate.io","domainNames":["app.scalemate.io"]}`,
	})
	require.Error(t, err)
	for _, want := range []string{"scalemate:network.azCount", "scalemate:network.natGateways", "scalemate:cluster.version", "scalemate:nodePools.workers.minSize"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, 4, strings.Count(err.Error(), "\n  - "), err.Error())

	// A key that fails to decode does not hide the problems of the others.
	_, err = Resolve("scalemate", "dev", map[string]string{
		KeyRegion:  "us-west-2",
		KeyNetwork: `{"azCount":"two"}`,
		KeyCluster: `{"version":"1.0"}`,
		KeyEdge:    `{"zoneName":"scalemate.io"}`,
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scalemate:network.azCount: expected int")
	assert.Contains(t, err.Error(), "scalemate:cluster.version")
}

// Every version a stack may choose has its end of standard support recorded (the stack tests'
// check before it) and, for the versions the program pins addons for, every addon.
func TestEveryKubernetesVersionHasItsSupportDate(t *testing.T) {
	for _, v := range KubernetesVersions {
		_, err := time.Parse(time.DateOnly, StandardSupportEnds[v])
		assert.NoError(t, err, v)
	}
	for v, pins := range AddonPins {
		assert.ElementsMatch(t, Addons, slices.Collect(maps.Keys(pins)), v)
		assert.True(t, strings.HasPrefix(pins["kube-proxy"], "v"+v+"."), v)
	}
}

// The pipeline's stacks get the in-VPC runner and the preview role's access; an ad-hoc stack of
// a tier gets neither unless asked, and the tier's permissions boundary (the bootstrap makes one
// per environment of the pipeline, not per ad-hoc stack).
func TestPipelineStacksAndAdHocStacks(t *testing.T) {
	prod := mustResolve(t, "prod", map[string]string{})
	assert.True(t, prod.CI.Runner && prod.CI.PreviewRole)
	assert.Equal(t, "scalemate-prod-boundary", prod.PermissionsBoundary)
	alice := mustResolve(t, "dev-alice", map[string]string{KeyTier: "dev"})
	assert.False(t, alice.CI.Runner || alice.CI.PreviewRole)
	assert.Equal(t, "scalemate-dev-boundary", alice.PermissionsBoundary)
	asked := mustResolve(t, "dev-alice", map[string]string{KeyTier: "dev", KeyCI: `{"runner":true}`})
	assert.True(t, asked.CI.Runner)
}

// The default subnet layout follows a smaller VPC, and the advice for one smaller than /20
// works when followed (issue 17: the error named a key the user never set, and its hint failed).
func TestSubnetLayoutFollowsTheVPC(t *testing.T) {
	s := mustResolve(t, "prod", map[string]string{KeyNetwork: `{"cidr":"10.0.0.0/20"}`})
	assert.Equal(t, 26, s.Network.SubnetPrefixes.Public)
	assert.Equal(t, 23, s.Network.SubnetPrefixes.Private)
	assert.Equal(t, 28, s.Network.SubnetPrefixes.Isolated)
	for b := 21; b <= 24; b++ {
		mustResolve(t, "prod", map[string]string{KeyNetwork: fmt.Sprintf(`{"cidr":"10.0.0.0/%d","subnetPrefixes":{"public":%d,"private":%d,"isolated":%d}}`, b, b+4, b+3, b+4)})
	}
}
