package s3bucket

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

// S3 refuses concurrent configuration changes of one bucket: each sub-resource waits for the
// ones before it, and the policy for all of them (review 2026-11-30 #24).
func TestSubResourcesOneAtATime(t *testing.T) {
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "logs", Args{Prefix: "logs-", ExpireDays: 7, ForceDestroy: true})
		return err
	})
	require.NoError(t, err)
	order := []string{
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
		"aws:s3/bucketVersioningV2:BucketVersioningV2",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
		"aws:s3/bucketPolicy:BucketPolicy",
	}
	for i, typ := range order {
		r := rec.Must(t, typ, "logs")
		for _, earlier := range order[:i] {
			assert.Contains(t, r.Dependencies, rec.Must(t, earlier, "logs").URN, "%s waits for %s", typ, earlier)
		}
	}
	assert.Equal(t, true, rec.Must(t, "aws:s3/bucketV2:BucketV2", "logs").Input("forceDestroy"))
}

// Object Lock is chosen when the bucket is created and left unset otherwise (the field
// replaces a bucket).
func TestObjectLock(t *testing.T) {
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "trail", Args{Prefix: "trail-", ObjectLockDays: 365})
		if err != nil {
			return err
		}
		_, err = New(ctx, "plain", Args{Prefix: "plain-"})
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, true, rec.Must(t, "aws:s3/bucketV2:BucketV2", "trail").Input("objectLockEnabled"))
	assert.Nil(t, rec.Must(t, "aws:s3/bucketV2:BucketV2", "plain").Input("objectLockEnabled"))
	lock := rec.Must(t, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", "trail")
	assert.Equal(t, map[string]any{"mode": "COMPLIANCE", "days": 365.0}, lock.Input("rule").(map[string]any)["defaultRetention"])

	_, err = mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "trail", Args{Prefix: "trail-", ObjectLockDays: -1})
		return err
	})
	assert.ErrorContains(t, err, "are days (0 or more)")
}

// Every bucket is versioned (FSBP S3.14), and its old versions expire: DefaultNoncurrentDays
// unless the caller says otherwise, over the whole bucket even when objects expire under a
// prefix only.
func TestVersionsExpire(t *testing.T) {
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		if _, err := New(ctx, "logs", Args{Prefix: "logs-", ExpireDays: 30, ExpirePrefix: "runs/"}); err != nil {
			return err
		}
		_, err := New(ctx, "state", Args{Prefix: "state-", NoncurrentDays: 90})
		return err
	})
	require.NoError(t, err)
	for bucket, days := range map[string]float64{"logs": DefaultNoncurrentDays, "state": 90} {
		v := rec.Must(t, "aws:s3/bucketVersioningV2:BucketVersioningV2", bucket).Input("versioningConfiguration").(map[string]any)
		assert.Equal(t, "Enabled", v["status"], bucket)
		rules := rec.Must(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", bucket).Input("rules").([]any)
		versions := rules[0].(map[string]any)
		assert.Equal(t, "old-versions", versions["id"], bucket)
		assert.Equal(t, map[string]any{"prefix": ""}, versions["filter"], bucket)
		assert.Equal(t, days, versions["noncurrentVersionExpiration"].(map[string]any)["noncurrentDays"], bucket)
		assert.Equal(t, map[string]any{"expiredObjectDeleteMarker": true}, versions["expiration"], bucket)
	}
	logs := rec.Must(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "logs").Input("rules").([]any)
	require.Len(t, logs, 2)
	assert.Equal(t, map[string]any{"prefix": "runs/"}, logs[1].(map[string]any)["filter"])
	assert.Equal(t, 30.0, logs[1].(map[string]any)["expiration"].(map[string]any)["days"])
	state := rec.Must(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "state").Input("rules").([]any)
	assert.Len(t, state, 1, "nothing expires in a bucket without ExpireDays")
}
