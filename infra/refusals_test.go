package infra

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConfigPath(t *testing.T) {
	for field, want := range map[string]string{
		"ReadReplicas": "scalemate:postgres.readReplicas", "MultiAZ": "scalemate:postgres.multiAz",
		"AllocatedStorageGiB": "scalemate:postgres.allocatedStorageGiB", "PublicAccessCIDRs": "scalemate:postgres.publicAccessCidrs",
		"HTTPSEndpoints[0]": "scalemate:postgres.httpsEndpoints[0]", "Geo.Locations[2]": "scalemate:postgres.geo.locations[2]",
		"AdminRoleARNs[1]": "scalemate:postgres.adminRoleArns[1]", "VPCID": "scalemate:postgres.vpcid",
	} {
		assert.Equal(t, want, configPath("scalemate:postgres", field, nil), field)
	}
	fields := map[string]string{"Warning.Emails": "scalemate:monitoring.warningEmails", "Postgres.InstanceClass": "scalemate:postgres.instanceClass"}
	assert.Equal(t, "scalemate:monitoring.warningEmails[0]", configPath("scalemate:monitoring", "Warning.Emails[0]", fields))
	assert.Equal(t, "scalemate:postgres.instanceClass", configPath("scalemate:monitoring", "Postgres.InstanceClass", fields))
}

func TestRefusalsCollectInConfigWords(t *testing.T) {
	r := &refusals{stack: "dev"}
	r.merge(errors.New("invalid config for stack \"dev\" (tier dev):\n  - scalemate:network.cidr: bad\n  - scalemate:redis.nodeType: bad"))
	components := &refusals{stack: "dev"}
	components.component(errors.New("invalid postgres args for \"x\":\n  - ReadReplicas: too many\n  - Warning.Emails[0]: not an address\n  - Warning.Emails[1]: not an address"), "scalemate:postgres",
		map[string]string{"Warning.Emails": "scalemate:monitoring.warningEmails"})
	components.component(errors.New("invalid redis args:\n  - Shards: again"), "scalemate:redis", nil)
	components.component(errors.New("invalid app args:\n  - Services[0].Image: bad"), "scalemate:app", nil)
	r.mergeComponents(components)
	assert.Equal(t, "invalid config for stack \"dev\":\n  - scalemate:network.cidr: bad\n  - scalemate:redis.nodeType: bad\n"+
		"  - scalemate:postgres.readReplicas: too many\n  - scalemate:monitoring.warningEmails[0]: not an address\n"+
		"  - scalemate:monitoring.warningEmails[1]: not an address\n  - scalemate:app.services[0].image: bad", r.Error(),
		"one error, every stage, config words; a section the stack stage refused is not repeated by a component")
	assert.Nil(t, (&refusals{}).err())
}
