package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func runBootstrap(t *testing.T) *mocktest.Recorder {
	t.Helper()
	cfg, err := mocktest.StackConfig(filepath.Join(".", "Pulumi.bootstrap.yaml"))
	require.NoError(t, err)
	rec, err := mocktest.Run("scalemate-bootstrap", "bootstrap", cfg, run)
	require.NoError(t, err)
	return rec
}

func TestStateBucketIsPrivateVersionedEncrypted(t *testing.T) {
	rec := runBootstrap(t)
	bucket := rec.Must(t, "aws:s3/bucketV2:BucketV2", "state")
	assert.True(t, bucket.Protect && bucket.RetainOnDelete)
	v, _ := rec.Named("aws:s3/bucketVersioningV2:BucketVersioningV2", "state")
	assert.Equal(t, map[string]any{"status": "Enabled"}, v.Input("versioningConfiguration"))
	sse, _ := rec.Named("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "state")
	rule := sse.Input("rules").([]any)[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)
	assert.Equal(t, "aws:kms", rule["sseAlgorithm"])
	pab, _ := rec.Named("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "state")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, pab.Input(k), k)
	}
	lc, _ := rec.Named("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "state")
	assert.Equal(t, map[string]any{"noncurrentDays": 90.0}, lc.Input("rules").([]any)[0].(map[string]any)["noncurrentVersionExpiration"])
	own, _ := rec.Named("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "state")
	assert.Equal(t, map[string]any{"objectOwnership": "BucketOwnerEnforced"}, own.Input("rule"), "ACLs disabled")
	pol, _ := rec.Named("aws:s3/bucketPolicy:BucketPolicy", "state")
	assert.Contains(t, pol.Input("policy"), `"aws:SecureTransport":"false"`)
	key, _ := rec.Named("aws:kms/key:Key", "pulumi")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
	assert.True(t, key.Protect)
}

// Each deploy role trusts only its GitHub environment; prod's cannot be assumed by a pull
// request or another environment.
func TestDeployRolesTrustOnlyTheirEnvironment(t *testing.T) {
	rec := runBootstrap(t)
	for _, env := range []string{"dev", "staging", "prod"} {
		role, ok := rec.Named("aws:iam/role:Role", "deploy-"+env)
		require.True(t, ok, env)
		var trust struct {
			Statement []struct {
				Condition map[string]map[string]string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(role.Input("assumeRolePolicy").(string)), &trust))
		cond := trust.Statement[0].Condition
		assert.Equal(t, "repo:scalemate/infra:environment:"+env, cond["StringLike"]["token.actions.githubusercontent.com:sub"])
		assert.Equal(t, "sts.amazonaws.com", cond["StringEquals"]["token.actions.githubusercontent.com:aud"])
		assert.NotContains(t, role.Input("managedPolicyArns"), "arn:aws:iam::aws:policy/AdministratorAccess")
		assert.EqualValues(t, 14400, role.Input("maxSessionDuration"), "credentials outlast a fresh up (review #4)")
	}
}
