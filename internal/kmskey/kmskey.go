// Package kmskey creates the customer managed KMS keys the components own: yearly rotation, a
// deletion waiting period, an alias, and Pulumi protection where the caller asks for it.
package kmskey

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args describes one key.
type Args struct {
	// Description says what the key encrypts. Required.
	Description string
	// Alias names the key (without "alias/"); "" creates no alias.
	Alias string
	// Policy is the key policy; nil keeps KMS's default (the account administers the key).
	Policy pulumi.StringInput
	// DeletionWindowDays is the waiting period before deletion, 7 to 30. Default 30.
	DeletionWindowDays int
	// Protect guards the key against deletion by Pulumi and retains it in AWS if it leaves the
	// program; the alias stays replaceable.
	Protect bool
	// Retain keeps the key in AWS when it leaves the program (a destroy, a replaced owner)
	// without protecting it: a key that encrypts snapshots or backups that outlive their
	// resource must outlive it too, or they can never be restored. Protect implies it.
	Retain bool
}

// New creates the key and its alias under the same logical name; opts (parent, provider) apply
// to both.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*kms.Key, error) {
	window := args.DeletionWindowDays
	if window == 0 {
		window = 30
	}
	keyOpts := append(append([]pulumi.ResourceOption{}, opts...), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect || args.Retain))
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(args.Description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(window),
		Policy:               args.Policy,
	}, keyOpts...)
	if err != nil {
		return nil, fmt.Errorf("creating KMS key %s: %w", name, err)
	}
	if args.Alias != "" {
		if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{Name: pulumi.String("alias/" + args.Alias), TargetKeyId: key.KeyId}, opts...); err != nil {
			return nil, fmt.Errorf("creating KMS alias %s: %w", args.Alias, err)
		}
	}
	return key, nil
}
