package kmskey

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func TestKeyAndAlias(t *testing.T) {
	rec, err := mocktest.Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		if _, err := New(ctx, "data", Args{Description: "data", Alias: "app-data", Protect: true}); err != nil {
			return err
		}
		_, err := New(ctx, "vault", Args{Description: "vault", DeletionWindowDays: 7})
		return err
	})
	require.NoError(t, err)
	data := rec.Must(t, "aws:kms/key:Key", "data")
	assert.Equal(t, true, data.Input("enableKeyRotation"))
	assert.EqualValues(t, 30, data.Input("deletionWindowInDays"))
	assert.True(t, data.Protect)
	assert.True(t, data.RetainOnDelete)
	alias := rec.Must(t, "aws:kms/alias:Alias", "data")
	assert.Equal(t, "alias/app-data", alias.Input("name"))
	assert.False(t, alias.Protect, "the alias stays replaceable")

	vault := rec.Must(t, "aws:kms/key:Key", "vault")
	assert.EqualValues(t, 7, vault.Input("deletionWindowInDays"))
	assert.False(t, vault.Protect)
	assert.Len(t, rec.OfType("aws:kms/alias:Alias"), 1, "no alias asked, none created")
}

// Retain keeps a key in AWS when it leaves the program without protecting it from Pulumi.
func TestRetainWithoutProtect(t *testing.T) {
	rec, err := mocktest.Run("test", "staging", nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "db", Args{Description: "d", Retain: true})
		return err
	})
	require.NoError(t, err)
	key := rec.Must(t, "aws:kms/key:Key", "db")
	assert.True(t, key.RetainOnDelete)
	assert.False(t, key.Protect)
}
