package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/infra"
	"github.com/scalemate/infra/internal/mockstack"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/policies/costmodel"
	"github.com/scalemate/infra/stacks"
)

// Config mistakes a new user makes, run through the whole program: each is refused before any
// resource is registered, with the exact key path the user wrote (or should write) and what is
// allowed, in config words (issue 17).
func TestConfigMistakes(t *testing.T) {
	cases := []struct {
		name, stack string
		cfg         map[string]string
		key         string // the problem's key path, exactly
		want        string // and a part of its message
	}{
		{"misspelled top-level key", "dev", map[string]string{"scalemate:postgress": `{"readReplicas":1}`}, "scalemate:postgress", "did you mean scalemate:postgres?"},
		{"misspelled, case", "dev", map[string]string{"scalemate:nodepools": `{}`}, "scalemate:nodepools", "did you mean scalemate:nodePools?"},
		{"unknown key far from any", "dev", map[string]string{"scalemate:kafka": `{}`}, "scalemate:kafka", "its keys are aws:region, scalemate:tier"},
		{"dotted key without --path", "dev", map[string]string{"scalemate:network.cidr": "10.20.0.0/16"}, "scalemate:network.cidr", "pulumi config set --path scalemate:network.cidr <value>"},
		{"dotted nested key", "dev", map[string]string{"scalemate:monitoring.warningEmails": `["a@b.io"]`}, "scalemate:monitoring.warningEmails", "--path"},
		{"cache size that does not exist", "dev", map[string]string{stacks.KeyRedis: `{"nodeType":"cache.t4g.huge"}`}, "scalemate:redis.nodeType", "cache.t4g has no such size; it comes in micro, small, medium"},
		{"cache family that does not exist", "dev", map[string]string{stacks.KeyRedis: `{"nodeType":"cache.x9.large"}`}, "scalemate:redis.nodeType", "is not a type this program offers"},
		{"database size that does not exist", "dev", map[string]string{stacks.KeyPostgres: `{"instanceClass":"db.r7g.huge"}`}, "scalemate:postgres.instanceClass", "db.r7g has no such size"},
		{"replica class family that does not exist", "staging", map[string]string{stacks.KeyPostgres: `{"replicaInstanceClass":"db.x9.large"}`}, "scalemate:postgres.replicaInstanceClass", "is not a type this program offers"},
		{"node size that does not exist", "dev", map[string]string{stacks.KeyNodePools: `{"workers":{"instanceTypes":["m6i.huge","m6a.large"]}}`}, "scalemate:nodePools.workers.instanceTypes[0]", "m6i has no such size"},
		{"prod VPC too small", "prod", map[string]string{stacks.KeyNetwork: `{"cidr":"10.0.0.0/22"}`}, "scalemate:network.cidr", `set scalemate:network.subnetPrefixes as well, e.g. {"public": 26, "private": 25, "isolated": 26}`},
		{"VPC too large", "dev", map[string]string{stacks.KeyNetwork: `{"cidr":"10.0.0.0/12"}`}, "scalemate:network.cidr", "a VPC is /16 to /24"},
		{"public VPC range", "dev", map[string]string{stacks.KeyNetwork: `{"cidr":"8.8.0.0/16"}`}, "scalemate:network.cidr", "not inside a private range"},
		{"too many AZs", "dev", map[string]string{stacks.KeyNetwork: `{"azCount":9}`}, "scalemate:network.azCount", "out of range"},
		{"NAT mode", "dev", map[string]string{stacks.KeyNetwork: `{"natGateways":"two"}`}, "scalemate:network.natGateways", "use one of none, single, perAz"},
		{"too many read replicas", "dev", map[string]string{stacks.KeyPostgres: `{"readReplicas":9}`}, "scalemate:postgres.readReplicas", "allowed 0 to 5"},
		{"backup retention", "dev", map[string]string{stacks.KeyPostgres: `{"backupRetentionDays":40}`}, "scalemate:postgres.backupRetentionDays", "allowed 0 to 35"},
		{"bool as text", "dev", map[string]string{stacks.KeyPostgres: `{"allowMajorVersionUpgrade":"yes"}`}, "scalemate:postgres.allowMajorVersionUpgrade", "expected bool"},
		{"unknown postgres field", "dev", map[string]string{stacks.KeyPostgres: `{"replicas":2}`}, "scalemate:postgres", `unknown field "replicas"`},
		{"cache shards", "dev", map[string]string{stacks.KeyRedis: `{"shards":501}`}, "scalemate:redis.shards", "allowed 1 to 500"},
		{"cache engine", "dev", map[string]string{stacks.KeyRedis: `{"engine":"memcached"}`}, "scalemate:redis.engine", "use one of valkey, redis"},
		{"weekly backups", "dev", map[string]string{stacks.KeyBackup: `{"weeklyRetentionDays":3}`}, "scalemate:backup.weeklyRetentionDays", "at least 7"},
		{"DR region is the main region", "prod", map[string]string{stacks.KeyBackup: `{"drRegion":"us-west-2"}`}, "scalemate:backup.drRegion", "is the main region"},
		{"warning email", "dev", map[string]string{stacks.KeyMonitoring: `{"warningEmails":["oncall"]}`}, "scalemate:monitoring.warningEmails[0]", "is not an email address"},
		{"negative budget", "dev", map[string]string{stacks.KeyMonitoring: `{"monthlyBudgetUsd":-5}`}, "scalemate:monitoring.monthlyBudgetUsd", ""},
		{"price class", "dev", map[string]string{stacks.KeyEdge: `{"zoneName":"dev.scalemate.io","priceClass":"PriceClass_50"}`}, "scalemate:edge.priceClass", "is not allowed"},
		{"WAF rate limit", "dev", map[string]string{stacks.KeyEdge: `{"zoneName":"dev.scalemate.io","waf":{"rateLimit":5}}`}, "scalemate:edge.waf.rateLimit", "allowed 10 to"},
		{"no zone", "dev", map[string]string{stacks.KeyEdge: `{}`}, "scalemate:edge.zoneName", "must be set"},
		{"upper-case domain", "staging", map[string]string{stacks.KeyEdge: `{"zoneName":"scalemate.io","domainNames":["App.scalemate.io"]}`}, "scalemate:edge.domainNames[0]", "lower-case DNS name"},
		{"Kubernetes version", "dev", map[string]string{stacks.KeyCluster: `{"version":"1.0"}`}, "scalemate:cluster.version", "use one of 1.31"},
		{"add-on version", "dev", map[string]string{stacks.KeyCluster: `{"addonVersions":{"coredns":"latest"}}`}, "scalemate:cluster.addonVersions.coredns", "is not an EKS addon version"},
		{"kube-proxy for another version", "dev", map[string]string{stacks.KeyCluster: `{"version":"1.34","addonVersions":{"kube-proxy":"v1.35.3-eksbuild.13","vpc-cni":"v1.21.1-eksbuild.7","coredns":"v1.13.2-eksbuild.11","aws-ebs-csi-driver":"v1.62.0-eksbuild.1","amazon-cloudwatch-observability":"v5.3.0-eksbuild.1"}}`}, "scalemate:cluster.addonVersions.kube-proxy", "pin a v1.34 build"},
		{"open API endpoint", "dev", map[string]string{stacks.KeyCluster: `{"publicAccessCidrs":["0.0.0.0/0"]}`}, "scalemate:cluster.publicAccessCidrs[0]", ""},
		{"misspelled cluster field", "dev", map[string]string{stacks.KeyCluster: `{"verison":"1.35"}`}, "scalemate:cluster", `unknown field "verison"`},
		{"pool bounds", "dev", map[string]string{stacks.KeyNodePools: `{"workers":{"minSize":40,"maxSize":10}}`}, "scalemate:nodePools.workers.minSize", "greater than"},
		{"pool capacity type", "dev", map[string]string{stacks.KeyNodePools: `{"workers":{"capacityType":"CHEAP"}}`}, "scalemate:nodePools.workers.capacityType", "use one of ON_DEMAND, SPOT"},
		{"log retention", "dev", map[string]string{stacks.KeyLogRetentionDays: "8"}, "scalemate:logRetentionDays", ""},
		{"tier", "dev", map[string]string{stacks.KeyTier: "qa"}, "scalemate:tier", "use one of local, dev, staging, prod"},
		{"owner", "dev", map[string]string{stacks.KeyOwner: " "}, "scalemate:owner", "must be set"},
		{"permissions boundary", "dev", map[string]string{stacks.KeyPermissionsBoundary: "arn:aws:iam::123:role/x"}, "scalemate:permissionsBoundary", "neither an IAM policy name nor"},
		{"CI repository", "dev", map[string]string{stacks.KeyCI: `{"repository":"scalemate"}`}, "scalemate:ci.repository", "owner/name"},
		{"CI compute type", "dev", map[string]string{stacks.KeyCI: `{"computeType":"BUILD_GENERAL1_HUGE"}`}, "scalemate:ci.computeType", "is not allowed"},
		{"release colour", "dev", map[string]string{stacks.KeyApp: `{"release":{"active":"purple"}}`}, "scalemate:app.release.active", ""},
		{"region", "dev", map[string]string{stacks.KeyRegion: "mars-1"}, "aws:region", "is not supported"},
		{"webhook over http", "prod", map[string]string{stacks.KeyOnCallWebhook: "http://pager.example.com/hook"}, "scalemate:onCallWebhookUrl", "must be an https:// URL"},
	}
	require.GreaterOrEqual(t, len(cases), 40)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := runStack(t, c.stack, func(cfg map[string]string) {
				for k, v := range c.cfg {
					cfg[k] = v
				}
			})
			require.Error(t, err)
			line := problem(err.Error(), c.key)
			require.NotEmpty(t, line, "no problem names %s exactly:\n%s", c.key, err)
			assert.Contains(t, line, c.want)
			assert.Empty(t, rec.All(), "nothing registered")
		})
	}
}

// problem is the line of a config error about exactly key ("  - <key>: ..."), or "".
func problem(msg, key string) string {
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, "  - "+key+": ") {
			return l
		}
	}
	return ""
}

// A credential set in plain text is refused with how to set it; set as a secret it is accepted
// (and the offline tools read an encrypted one as a placeholder).
func TestPlaintextSecretRefused(t *testing.T) {
	cfg, secret, err := mockstack.Config("..", "prod")
	require.NoError(t, err)
	cfg[stacks.KeyOnCallWebhook] = "https://events.pagerduty.example/integration/abc123"
	rec, err := mocktest.RunSecrets("scalemate", "prod", cfg, secret, infra.Run)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "\n  - scalemate:onCallWebhookUrl: holds a credential and is in plain text; set it as a secret: pulumi config set --secret scalemate:onCallWebhookUrl <value>")
	assert.Empty(t, rec.All())
	_, err = mocktest.RunSecrets("scalemate", "prod", cfg, append(secret, stacks.KeyOnCallWebhook), infra.Run)
	assert.NoError(t, err)
}

// Mistakes in three sections come back in one error, all three.
func TestMistakesInThreeSectionsAtOnce(t *testing.T) {
	_, err := runStack(t, "staging", func(cfg map[string]string) {
		cfg[stacks.KeyNetwork] = `{"natGateways":"two"}`
		cfg[stacks.KeyRedis] = `{"nodeType":"cache.t4g.huge"}`
		cfg[stacks.KeyMonitoring] = `{"warningEmails":["oncall"]}`
	})
	require.Error(t, err)
	for _, key := range []string{"scalemate:network.natGateways", "scalemate:redis.nodeType", "scalemate:monitoring.warningEmails[0]"} {
		assert.NotEmpty(t, problem(err.Error(), key), key)
	}
	assert.Equal(t, 1, strings.Count(err.Error(), "invalid config for stack"), "one error")
}

// Whatever the catalog offers can be configured: every database class and cache node type runs
// through the whole program, every node type through the stack's validation.
func TestEveryCatalogTypeIsAccepted(t *testing.T) {
	for class := range costmodel.RDS {
		_, err := runStack(t, "staging", func(cfg map[string]string) {
			cfg[stacks.KeyPostgres] = `{"instanceClass":"` + class + `"}`
		})
		assert.NoError(t, err, class)
	}
	for node := range costmodel.Cache {
		_, err := runStack(t, "dev", func(cfg map[string]string) {
			cfg[stacks.KeyRedis] = `{"nodeType":"` + node + `"}`
		})
		assert.NoError(t, err, node)
	}
	for typ := range costmodel.EC2 {
		_, err := stacks.Resolve("scalemate", "dev", map[string]string{
			stacks.KeyRegion: "us-west-2", stacks.KeyEdge: `{"zoneName":"dev.scalemate.io"}`,
			stacks.KeyNodePools: `{"workers":{"capacityType":"ON_DEMAND","instanceTypes":["` + typ + `"]}}`,
		})
		assert.NoError(t, err, typ)
	}
}

// What a second review found in how problems are gathered: several problems of one key all
// come through; a section the stack stage refused is not repeated by a component under a key
// the user never set; a value no component can plan with hides no other component's problem;
// the release's component fields map to the release's keys.
func TestProblemsGatheredOnce(t *testing.T) {
	_, err := runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyNetwork] = `{"natGateways":"none"}` })
	require.Error(t, err)
	assert.GreaterOrEqual(t, strings.Count(err.Error(), "\n  - scalemate:network.interfaceEndpoints: must include "), 7, err.Error())

	_, err = runStack(t, "prod", func(cfg map[string]string) { cfg[stacks.KeyNetwork] = `{"cidr":"10.0.0.0/22"}` })
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "subnetPrefixes: private subnet prefix", "no problem under a key the user never set")

	rec, err := runStack(t, "dev", func(cfg map[string]string) {
		cfg[stacks.KeyNetwork] = `{"cidr":"10.0.0.0/33"}`
		cfg[stacks.KeyMonitoring] = `{"warningEmails":["oncall"]}`
	})
	require.Error(t, err)
	assert.NotEmpty(t, problem(err.Error(), "scalemate:network.cidr"))
	assert.NotEmpty(t, problem(err.Error(), "scalemate:monitoring.warningEmails[0]"), "a component still reports")
	assert.Empty(t, rec.All())

	_, err = runStack(t, "dev", func(cfg map[string]string) { cfg[stacks.KeyApp] = `{"release":{"active":"purple"}}` })
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "scalemate:app.active")
}
