package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalTierDefaults(t *testing.T) {
	s, err := Resolve("scalemate", "local", map[string]string{KeyLocal: `{"context":"kind-scalemate"}`})
	require.NoError(t, err)
	assert.Equal(t, Local, s.Tier)
	assert.Equal(t, LocalCluster{Context: "kind-scalemate", Registry: "scalemate", VolumeSize: "1Gi", KubernetesVersion: "1.35"}, s.Local)
	assert.Equal(t, []string{"api", "web", "worker"}, s.App.ServiceNames(), "the same services as the cloud")
	for name, svc := range s.App.Services {
		assert.Equal(t, [2]int{1, 1}, [2]int{svc.MinReplicas, svc.MaxReplicas}, name)
	}
	assert.Empty(t, s.Region, "no AWS region")
	assert.Empty(t, s.NodePools, "no node pools")

	named, err := Resolve("scalemate", "laptop", map[string]string{KeyTier: "local", KeyLocal: `{"registry":"localhost:5001","context":"kind-scalemate","storageClass":"standard","volumeSize":"2Gi"}`})
	require.NoError(t, err)
	assert.Equal(t, LocalCluster{Context: "kind-scalemate", Registry: "localhost:5001", StorageClass: "standard", VolumeSize: "2Gi", KubernetesVersion: "1.35"}, named.Local)
}

func TestLocalTierRefusesAWSKeysAndBadSettings(t *testing.T) {
	_, err := Resolve("scalemate", "local", map[string]string{
		KeyRegion: "us-west-2", KeyEdge: `{"zoneName":"scalemate.io"}`, KeyNodePools: `{"workers":{}}`,
		KeyLocal: `{"registry":"Local Host","storageClass":"Not_A_Name","volumeSize":"1Ki","kubernetesVersion":"1.20","cluster":"x"}`,
	})
	require.Error(t, err)
	for _, want := range []string{
		`aws:region: configures AWS`, `scalemate:edge: configures AWS`, `scalemate:nodePools: configures AWS`,
		"the local tier reads scalemate:tier, scalemate:owner, scalemate:app, scalemate:local",
		`scalemate:local: unknown field "cluster"`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Resolve("scalemate", "local", map[string]string{KeyLocal: `{"context":"arn:aws:eks:us-west-2:123456789012:cluster/scalemate-prod","registry":"Local Host","storageClass":"Not_A_Name","volumeSize":"1Ki","kubernetesVersion":"1.20"}`})
	require.Error(t, err)
	for _, want := range []string{
		`scalemate:local.registry: "Local Host" is not an image registry`,
		`scalemate:local.storageClass: "Not_A_Name" is not a StorageClass name`,
		`scalemate:local.volumeSize: "1Ki" is not a volume size of at least 64Mi`,
		`scalemate:local.kubernetesVersion: "1.20" is not supported; use one of 1.31`,
		`scalemate:local.context: "arn:aws:eks:us-west-2:123456789012:cluster/scalemate-prod" is not a local cluster's context; use one of kind-*`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Resolve("scalemate", "local", map[string]string{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scalemate:local.context: must be set to a local cluster's kubeconfig context")

	_, err = Resolve("scalemate", "local", map[string]string{KeyLocal: `{"context":"minikube"}`, KeyApp: `{"release":{"blue":{"version":"latest"}}}`})
	require.Error(t, err, "the application is checked as in the cloud")
	assert.Contains(t, err.Error(), "scalemate:app.release.blue.version")

	_, err = Resolve("scalemate", "local", map[string]string{KeyLocal: `{"context":"docker-desktop"}`, KeyNetwork: "{}", KeyPermissionsBoundary: "", KeyLogRetentionDays: "0"})
	assert.NoError(t, err, "Pulumi.yaml's defaults ({}, \"\", 0) reach every stack and mean unset")

	_, err = Resolve("scalemate", "x", map[string]string{KeyTier: "laptop"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use one of local, dev, staging, prod")
}
