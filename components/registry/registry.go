// Package registry is the ECR repositories of the application images the delivery pipeline
// builds: immutable tags, scan on push, encryption with one component-owned KMS key, lifecycle
// rules that expire untagged layers and old release images, and optionally a repository policy
// that lets the CI roles push.
package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/kmskey"
	"github.com/scalemate/infra/internal/validate"
)

// PushActions are what pushing an image needs on the repository itself. ecr:GetAuthorizationToken
// is registry-wide, so it belongs in the pushing role's own policy, not here.
var PushActions = []string{
	"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
	"ecr:CompleteLayerUpload", "ecr:PutImage",
}

// MaxReleaseTagPrefixes bounds the lifecycle rules (one per prefix).
const MaxReleaseTagPrefixes = 10

var (
	// ECR's repository name pattern (CreateRepository API reference).
	repoRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	// The start of a Docker tag; no wildcards, which tagPrefixList does not take.
	tagPrefixRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// Args configures a Registry.
type Args struct {
	// Repositories are the short repository names ("api", "worker", "tools/migrate"): lower-case
	// letters, digits, and single '.', '_', '-' or '/' between them. Required, no duplicates.
	Repositories []string
	// Prefix namespaces the repositories: "scalemate-dev" makes "scalemate-dev/api". It also
	// names the KMS alias (alias/<Prefix>-ecr), so it may not contain '.'. Default: the name.
	Prefix string
	// KeepTaggedImages is how many of the newest images per release tag prefix are kept; older
	// ones expire. 1 to 1000, default 30.
	KeepTaggedImages int
	// ReleaseTagPrefixes are the tag prefixes KeepTaggedImages counts, each in its own rule.
	// Images whose tags match none of them are never expired. At most 10; default v, sha-.
	ReleaseTagPrefixes []string
	// UntaggedExpiryDays expires untagged images (superseded builds, failed pushes) after this
	// many days. 1 to 365, default 7.
	UntaggedExpiryDays int
	// ForceDelete lets Pulumi delete a repository that still holds images (dev). Not allowed
	// with Protect. Default false.
	ForceDelete bool
	// PushRoleARNs may push images (CI roles); when set, each repository gets a policy allowing
	// PushActions to them. Pulling needs no policy: the EKS node role has
	// AmazonEC2ContainerRegistryReadOnly. Optional.
	PushRoleARNs []pulumi.StringInput
	// Protect guards the repositories and the key against deletion by Pulumi and retains them if
	// they leave the program (production). Default false.
	Protect bool
}

// Registry is the component resource.
type Registry struct {
	pulumi.ResourceState

	// RepositoryURLs are the image URLs (<account>.dkr.ecr.<region>.amazonaws.com/<Prefix>/<name>)
	// by short name.
	RepositoryURLs pulumi.StringMapOutput `pulumi:"repositoryUrls"`
	// RepositoryARNs are the repository ARNs by short name (for IAM policies).
	RepositoryARNs pulumi.StringMapOutput `pulumi:"repositoryArns"`
	// KMSKeyARN encrypts every repository's images.
	KMSKeyARN pulumi.StringOutput `pulumi:"kmsKeyArn"`
}

func (a Args) withDefaults(name string) Args {
	if a.Prefix == "" {
		a.Prefix = name
	}
	if a.KeepTaggedImages == 0 {
		a.KeepTaggedImages = 30
	}
	if len(a.ReleaseTagPrefixes) == 0 {
		a.ReleaseTagPrefixes = []string{"v", "sha-"}
	}
	if a.UntaggedExpiryDays == 0 {
		a.UntaggedExpiryDays = 7
	}
	return a
}

// Check validates every setting except the inputs wired from other components (push roles), so
// a program can check all its components before registering anything.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid registry args for %q", name))
}

func (a Args) validate(name string) error {
	var p validate.Problems
	for i, arn := range a.PushRoleARNs {
		if arn == nil {
			p.Addf(fmt.Sprintf("PushRoleARNs[%d]", i), "must be set")
		}
	}
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid registry args for %q", name))
}

func (a Args) check(p *validate.Problems, name string) {
	a = a.withDefaults(name)
	switch {
	case !repoRE.MatchString(a.Prefix):
		p.Addf("Prefix", "%q is not a repository namespace (lower-case letters and digits, separated by single '.', '_', '-' or '/')", a.Prefix)
	case strings.Contains(a.Prefix, "."):
		p.Addf("Prefix", "%q contains '.', which the KMS alias alias/<Prefix>-ecr cannot", a.Prefix)
	case strings.HasPrefix(a.Prefix, "aws/"):
		p.Addf("Prefix", "%q would make an alias under alias/aws/, which AWS reserves", a.Prefix)
	}
	if len(a.Repositories) == 0 {
		p.Addf("Repositories", "must list at least one repository")
	}
	for i, repo := range a.Repositories {
		field := fmt.Sprintf("Repositories[%d]", i)
		switch full := a.Prefix + "/" + repo; {
		case !repoRE.MatchString(repo):
			p.Addf(field, "%q is not a repository name (lower-case letters and digits, separated by single '.', '_', '-' or '/')", repo)
		case len(full) > 256:
			p.Addf(field, "%q is %d characters long; ECR allows 2 to 256", full, len(full))
		case slices.Index(a.Repositories, repo) != i:
			p.Addf(field, "%q is listed twice", repo)
		}
	}
	p.IntRange("KeepTaggedImages", a.KeepTaggedImages, 1, 1000)
	p.IntRange("UntaggedExpiryDays", a.UntaggedExpiryDays, 1, 365)
	if n := len(a.ReleaseTagPrefixes); n > MaxReleaseTagPrefixes {
		p.Addf("ReleaseTagPrefixes", "%d prefixes given; at most %d", n, MaxReleaseTagPrefixes)
	}
	for i, prefix := range a.ReleaseTagPrefixes {
		field := fmt.Sprintf("ReleaseTagPrefixes[%d]", i)
		switch {
		case !tagPrefixRE.MatchString(prefix):
			p.Addf(field, "%q is not the start of an image tag (letters, digits, '_', '.', '-'; no wildcards)", prefix)
		case slices.Index(a.ReleaseTagPrefixes, prefix) != i:
			p.Addf(field, "%q is listed twice", prefix)
		}
	}
	if a.ForceDelete && a.Protect {
		p.Addf("ForceDelete", "deletes images with their repository; not allowed together with Protect")
	}
}

// The ECR lifecycle policy document
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html).
type (
	lifecyclePolicy struct {
		Rules []lifecycleRule `json:"rules"`
	}
	lifecycleRule struct {
		RulePriority int             `json:"rulePriority"`
		Description  string          `json:"description"`
		Selection    lifecycleSelect `json:"selection"`
		Action       lifecycleAction `json:"action"`
	}
	lifecycleSelect struct {
		TagStatus     string   `json:"tagStatus"`
		TagPrefixList []string `json:"tagPrefixList,omitempty"`
		CountType     string   `json:"countType"`
		CountUnit     string   `json:"countUnit,omitempty"`
		CountNumber   int      `json:"countNumber"`
	}
	lifecycleAction struct {
		Type string `json:"type"`
	}
)

// lifecyclePolicyJSON expires untagged images first, then keeps the newest KeepTaggedImages
// per release tag prefix. A tagPrefixList with several prefixes selects only images carrying
// a tag for every one of them, so each prefix gets its own rule to mean "any of".
func (a Args) lifecyclePolicyJSON() string {
	expire := lifecycleAction{Type: "expire"}
	rules := []lifecycleRule{{
		RulePriority: 1,
		Description:  fmt.Sprintf("Expire untagged images after %d days", a.UntaggedExpiryDays),
		Selection:    lifecycleSelect{TagStatus: "untagged", CountType: "sinceImagePushed", CountUnit: "days", CountNumber: a.UntaggedExpiryDays},
		Action:       expire,
	}}
	for _, prefix := range a.ReleaseTagPrefixes {
		rules = append(rules, lifecycleRule{
			RulePriority: len(rules) + 1,
			Description:  fmt.Sprintf("Keep the newest %d images tagged %s*", a.KeepTaggedImages, prefix),
			Selection:    lifecycleSelect{TagStatus: "tagged", TagPrefixList: []string{prefix}, CountType: "imageCountMoreThan", CountNumber: a.KeepTaggedImages},
			Action:       expire,
		})
	}
	b, err := json.Marshal(lifecyclePolicy{Rules: rules})
	if err != nil {
		panic(err) // plain strings and ints always marshal
	}
	return string(b)
}

// New creates the key and the repositories. Args are validated before anything is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Registry, error) {
	args = args.withDefaults(name)
	if err := args.validate(name); err != nil {
		return nil, err
	}
	r := &Registry{}
	if err := ctx.RegisterComponentResource("scalemate:registry:Registry", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	stateful := []pulumi.ResourceOption{parent, pulumi.Protect(args.Protect), pulumi.RetainOnDelete(args.Protect)}

	key, err := kmskey.New(ctx, name, kmskey.Args{Description: "ECR images of " + args.Prefix, Alias: args.Prefix + "-ecr", Protect: args.Protect}, parent)
	if err != nil {
		return nil, err
	}

	var pushPolicy pulumi.StringOutput
	if len(args.PushRoleARNs) > 0 {
		pushPolicy = pulumi.StringArray(args.PushRoleARNs).ToStringArrayOutput().ApplyT(func(arns []string) string {
			return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{{
				Sid: "Push", Effect: "Allow", Principal: map[string]any{"AWS": arns}, Action: PushActions,
			}}}.JSON()
		}).(pulumi.StringOutput)
	}
	lifecycle := pulumi.String(args.lifecyclePolicyJSON())

	urls, arns := pulumi.StringMap{}, pulumi.StringMap{}
	for _, short := range args.Repositories {
		logical := name + "-" + short
		repo, err := ecr.NewRepository(ctx, logical, &ecr.RepositoryArgs{
			Name: pulumi.String(args.Prefix + "/" + short),
			// A deployed tag always means the same image, so a rollout or rollback is reproducible.
			ImageTagMutability:         pulumi.String("IMMUTABLE"),
			ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
			EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{ecr.RepositoryEncryptionConfigurationArgs{
				EncryptionType: pulumi.String("KMS"), KmsKey: key.Arn,
			}},
			ForceDelete: pulumi.Bool(args.ForceDelete),
		}, stateful...)
		if err != nil {
			return nil, fmt.Errorf("creating repository %s: %w", short, err)
		}
		// Every property forces replacement, and a replacement created before the old policy
		// is deleted would be removed along with it (both are "the policy of this repository").
		if _, err := ecr.NewLifecyclePolicy(ctx, logical, &ecr.LifecyclePolicyArgs{
			Repository: repo.Name, Policy: lifecycle,
		}, parent, pulumi.DeleteBeforeReplace(true)); err != nil {
			return nil, fmt.Errorf("creating lifecycle policy of %s: %w", short, err)
		}
		if len(args.PushRoleARNs) > 0 {
			if _, err := ecr.NewRepositoryPolicy(ctx, logical, &ecr.RepositoryPolicyArgs{
				Repository: repo.Name, Policy: pushPolicy,
			}, parent); err != nil {
				return nil, fmt.Errorf("creating repository policy of %s: %w", short, err)
			}
		}
		urls[short], arns[short] = repo.RepositoryUrl, repo.Arn
	}

	r.RepositoryURLs, r.RepositoryARNs, r.KMSKeyARN = urls.ToStringMapOutput(), arns.ToStringMapOutput(), key.Arn
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{
		"repositoryUrls": r.RepositoryURLs, "repositoryArns": r.RepositoryARNs, "kmsKeyArn": r.KMSKeyARN,
	})
}
