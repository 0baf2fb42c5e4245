// Package s3bucket creates private S3 buckets the way every bucket of this project must be:
// public access blocked, server-side encryption, bucket-owner object ownership, TLS-only
// access, versioning, and a lifecycle that expires old versions. Callers add their own policy
// grants.
package s3bucket

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
)

// Args configures a private bucket.
type Args struct {
	// Prefix starts the generated bucket name.
	Prefix string
	// KMSKeyARN encrypts objects with a customer managed key; nil uses SSE-S3 (AES256), which
	// CloudFront origin access and log delivery can read without key grants.
	KMSKeyARN pulumi.StringInput
	// ACLsForLogDelivery keeps ACLs (BucketOwnerPreferred) because CloudFront standard logging
	// writes through an ACL grant; otherwise ACLs are disabled (BucketOwnerEnforced).
	ACLsForLogDelivery bool
	// ExpireDays deletes objects this many days old; 0 keeps them.
	ExpireDays int
	// ExpirePrefix limits ExpireDays to keys under it; "" applies it to every object.
	ExpirePrefix string
	// NoncurrentDays deletes old versions (overwritten, deleted or expired objects) this many
	// days after they were replaced; 0 is DefaultNoncurrentDays. Every bucket is versioned (FSBP
	// S3.14: a deleted or overwritten object, a log an intruder removes, can be recovered).
	NoncurrentDays int
	// DeferPolicy leaves the bucket policy to a later Policy call, for grants that name
	// resources created after the bucket (a CloudFront distribution).
	DeferPolicy bool
	// Protect guards the bucket against deletion by Pulumi and retains it if it leaves the program.
	Protect bool
	// ForceDestroy lets a destroy delete the bucket with its objects (dev: nothing left billed).
	ForceDestroy bool
	// ObjectLockDays keeps every object version undeletable and unchangeable for this many
	// days (S3 Object Lock, COMPLIANCE mode: not even the root user can shorten it; an audit
	// trail). It can only be chosen when the bucket is created (changing it replaces the
	// bucket). 0 turns it off.
	ObjectLockDays int
}

// DefaultNoncurrentDays keeps a replaced or deleted object version a week: time to notice and
// restore it, little storage for log buckets whose objects expire.
const DefaultNoncurrentDays = 7

// Bucket is a bucket with its guard rails.
type Bucket struct {
	*s3.BucketV2
	// Settings are the ownership, encryption, public-access and policy resources; depend on
	// them when a service needs the bucket configured (CloudFront logging needs ACLs enabled).
	Settings []pulumi.Resource

	chain []pulumi.Resource // every sub-resource, which the policy comes after
}

// New creates the bucket and its guard rails; opts (a parent, a provider) apply to all of them.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Bucket, error) {
	if args.ExpireDays < 0 || args.NoncurrentDays < 0 || args.ObjectLockDays < 0 {
		return nil, fmt.Errorf("bucket %s: ExpireDays, NoncurrentDays and ObjectLockDays are days (0 or more)", name)
	}
	if args.NoncurrentDays == 0 {
		args.NoncurrentDays = DefaultNoncurrentDays
	}
	bucketArgs := &s3.BucketV2Args{BucketPrefix: pulumi.String(args.Prefix), ForceDestroy: pulumi.Bool(args.ForceDestroy)}
	if args.ObjectLockDays > 0 {
		bucketArgs.ObjectLockEnabled = pulumi.Bool(true) // unset otherwise: the field replaces the bucket
	}
	bucket, err := s3.NewBucketV2(ctx, name, bucketArgs,
		append(slices.Clone(opts), pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect))...)
	if err != nil {
		return nil, fmt.Errorf("creating bucket %s: %w", name, err)
	}
	fail := func(what string, err error) (*Bucket, error) {
		return nil, fmt.Errorf("%s of bucket %s: %w", what, name, err)
	}
	out := &Bucket{BucketV2: bucket}
	keep := func(r pulumi.Resource, err error) error {
		if err == nil {
			out.Settings = append(out.Settings, r)
		}
		return err
	}
	// One sub-resource at a time: S3 refuses concurrent configuration changes of one bucket
	// ("A conflicting conditional operation is currently in progress").
	var chain []pulumi.Resource
	next := func(r pulumi.Resource, err error) (pulumi.Resource, error) {
		if err == nil {
			chain = append(chain, r)
		}
		return r, err
	}
	after := func() []pulumi.ResourceOption { return append(slices.Clone(opts), pulumi.DependsOn(chain)) }
	if err := keep(next(s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...))); err != nil {
		return fail("blocking public access", err)
	}
	sse := s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	if args.KMSKeyARN != nil {
		sse = s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: args.KMSKeyARN}
	}
	if err := keep(next(s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: sse, BucketKeyEnabled: pulumi.Bool(args.KMSKeyARN != nil),
		}},
	}, after()...))); err != nil {
		return fail("encrypting", err)
	}
	ownership := "BucketOwnerEnforced"
	if args.ACLsForLogDelivery {
		ownership = "BucketOwnerPreferred"
	}
	if err := keep(next(s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String(ownership)},
	}, after()...))); err != nil {
		return fail("setting object ownership", err)
	}
	if _, err := next(s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, after()...)); err != nil {
		return fail("versioning", err)
	}
	if args.ObjectLockDays > 0 {
		if _, err := next(s3.NewBucketObjectLockConfigurationV2(ctx, name, &s3.BucketObjectLockConfigurationV2Args{
			Bucket: bucket.ID(),
			Rule: s3.BucketObjectLockConfigurationV2RuleArgs{DefaultRetention: s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs{
				Mode: pulumi.String("COMPLIANCE"), Days: pulumi.Int(args.ObjectLockDays),
			}},
		}, after()...)); err != nil {
			return fail("locking objects", err)
		}
	}
	// Old versions expire everywhere (they would otherwise be kept, and billed, for ever:
	// expired objects too), and so do abandoned multipart uploads; objects only under ExpirePrefix.
	rules := s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
		Id: pulumi.String("old-versions"), Status: pulumi.String("Enabled"),
		Filter:                      s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(args.NoncurrentDays)},
		// A delete marker with no versions left behind it goes too (it cannot share a rule's
		// Expiration with Days, hence not in "expiry").
		Expiration:                     s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
		AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
	}}
	if args.ExpireDays > 0 {
		rules = append(rules, s3.BucketLifecycleConfigurationV2RuleArgs{
			Id: pulumi.String("expiry"), Status: pulumi.String("Enabled"),
			Filter:     s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(args.ExpirePrefix)},
			Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(args.ExpireDays)},
		})
	}
	if _, err := next(s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(), Rules: rules,
	}, after()...)); err != nil {
		return fail("setting lifecycle", err)
	}
	out.chain = chain
	if !args.DeferPolicy {
		policy, err := Policy(ctx, name, out, nil, opts...)
		if err != nil {
			return nil, err
		}
		out.Settings = append(out.Settings, policy)
	}
	return out, nil
}

// Policy attaches the bucket's one policy, after its other sub-resources: TLS-only access, plus
// grants (an output of []iampolicy.Statement, or nil).
func Policy(ctx *pulumi.Context, name string, b *Bucket, grants pulumi.Output, opts ...pulumi.ResourceOption) (*s3.BucketPolicy, error) {
	bucket := b.BucketV2
	inputs := []any{bucket.Arn}
	if grants != nil {
		inputs = append(inputs, grants)
	}
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: pulumi.All(inputs...).ApplyT(func(v []any) string {
			arn := v[0].(string)
			statements := []iampolicy.Statement{{
				Sid: "TLSOnly", Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:*"},
				Resource:  []string{arn, arn + "/*"},
				Condition: iampolicy.Condition{"Bool": {"aws:SecureTransport": "false"}},
			}}
			if len(v) > 1 {
				statements = append(statements, v[1].([]iampolicy.Statement)...)
			}
			return iampolicy.Document{Version: "2012-10-17", Statement: statements}.JSON()
		}).(pulumi.StringOutput),
	}, append(slices.Clone(opts), pulumi.DependsOn(b.chain))...)
	if err != nil {
		return nil, fmt.Errorf("setting policy of bucket %s: %w", name, err)
	}
	return policy, nil
}
