package registry

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

const (
	repoType      = "aws:ecr/repository:Repository"
	lifecycleType = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	policyType    = "aws:ecr/repositoryPolicy:RepositoryPolicy"
	keyARN        = "arn:aws:kms:us-west-2:123456789012:images"
)

func baseArgs() Args {
	return Args{Repositories: []string{"api", "tools/migrate"}}
}

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "images", args)
}

func mustRun(t *testing.T, args Args) *mocktest.Recorder {
	t.Helper()
	return mocktest.MustComponent(t, New, "images", args)
}

// lifecycle parses the lifecycle policy of one repository.
func lifecycle(t *testing.T, rec *mocktest.Recorder, short string) lifecyclePolicy {
	t.Helper()
	lp := rec.Must(t, lifecycleType, "images-"+short)
	var doc lifecyclePolicy
	require.NoError(t, json.Unmarshal([]byte(lp.Input("policy").(string)), &doc))
	return doc
}

func TestRepositoriesDefaults(t *testing.T) {
	rec := mustRun(t, baseArgs())
	require.Len(t, rec.OfType(repoType), 2)
	for short, full := range map[string]string{"api": "images/api", "tools/migrate": "images/tools/migrate"} {
		repo := rec.Must(t, repoType, "images-"+short)
		assert.Equal(t, full, repo.Input("name"), "the component name is the default prefix")
		assert.Equal(t, "IMMUTABLE", repo.Input("imageTagMutability"))
		assert.Equal(t, map[string]any{"scanOnPush": true}, repo.Input("imageScanningConfiguration"))
		assert.Equal(t, []any{map[string]any{"encryptionType": "KMS", "kmsKey": keyARN}}, repo.Input("encryptionConfigurations"))
		assert.Equal(t, false, repo.Input("forceDelete"))
		assert.False(t, repo.Protect || repo.RetainOnDelete)

		lp := rec.Must(t, lifecycleType, "images-"+short)
		assert.Equal(t, full, lp.Input("repository"))
		assert.True(t, lp.DeleteBeforeReplace, "a replacement must not be deleted with the old policy")
	}
	assert.Empty(t, rec.OfType(policyType), "no push roles, no repository policy")

	key := rec.Must(t, "aws:kms/key:Key", "images")
	assert.Equal(t, true, key.Input("enableKeyRotation"))
	assert.EqualValues(t, 30, key.Input("deletionWindowInDays"))
	assert.False(t, key.Protect || key.RetainOnDelete)
	alias := rec.Must(t, "aws:kms/alias:Alias", "images")
	assert.Equal(t, "alias/images-ecr", alias.Input("name"))
	assert.Equal(t, "images-key-id", alias.Input("targetKeyId"))
	assert.Len(t, rec.OfType("aws:kms/key:Key"), 1, "one key for all repositories")
}

func TestLifecyclePolicyDefaults(t *testing.T) {
	doc := lifecycle(t, mustRun(t, baseArgs()), "api")
	require.Len(t, doc.Rules, 3)
	untagged := doc.Rules[0]
	assert.Equal(t, 1, untagged.RulePriority)
	assert.Equal(t, lifecycleSelect{TagStatus: "untagged", CountType: "sinceImagePushed", CountUnit: "days", CountNumber: 7}, untagged.Selection)
	assert.Equal(t, "expire", untagged.Action.Type)
	// One rule per prefix: a list of prefixes in one rule would need all of them on an image.
	for i, prefix := range []string{"v", "sha-"} {
		rule := doc.Rules[i+1]
		assert.Equal(t, i+2, rule.RulePriority)
		assert.Equal(t, lifecycleSelect{TagStatus: "tagged", TagPrefixList: []string{prefix}, CountType: "imageCountMoreThan", CountNumber: 30}, rule.Selection)
		assert.Equal(t, "expire", rule.Action.Type)
	}
}

func TestLifecyclePolicyFromArgs(t *testing.T) {
	args := baseArgs()
	args.KeepTaggedImages, args.UntaggedExpiryDays, args.ReleaseTagPrefixes = 100, 14, []string{"release-"}
	doc := lifecycle(t, mustRun(t, args), "tools/migrate")
	require.Len(t, doc.Rules, 2)
	assert.Equal(t, 14, doc.Rules[0].Selection.CountNumber)
	assert.Equal(t, "sinceImagePushed", doc.Rules[0].Selection.CountType)
	assert.Equal(t, 2, doc.Rules[1].RulePriority)
	assert.Equal(t, []string{"release-"}, doc.Rules[1].Selection.TagPrefixList)
	assert.Equal(t, "imageCountMoreThan", doc.Rules[1].Selection.CountType)
	assert.Equal(t, 100, doc.Rules[1].Selection.CountNumber)
}

func TestPrefixForceDeleteAndProtect(t *testing.T) {
	args := baseArgs()
	args.Prefix, args.ForceDelete = "scalemate-dev", true
	rec := mustRun(t, args)
	repo := rec.Must(t, repoType, "images-api")
	assert.Equal(t, "scalemate-dev/api", repo.Input("name"))
	assert.Equal(t, true, repo.Input("forceDelete"))
	assert.Equal(t, "scalemate-dev/api", rec.Must(t, lifecycleType, "images-api").Input("repository"))
	assert.Equal(t, "alias/scalemate-dev-ecr", rec.Must(t, "aws:kms/alias:Alias", "images").Input("name"))

	args.ForceDelete, args.Protect = false, true
	rec = mustRun(t, args)
	for _, repo := range rec.OfType(repoType) {
		assert.True(t, repo.Protect && repo.RetainOnDelete, repo.Name)
		assert.Equal(t, false, repo.Input("forceDelete"))
	}
	key := rec.Must(t, "aws:kms/key:Key", "images")
	assert.True(t, key.Protect && key.RetainOnDelete)
	// Policies are recreated from the program; they need no protection.
	assert.False(t, rec.Must(t, lifecycleType, "images-api").Protect)
}

func TestPushRoles(t *testing.T) {
	args := baseArgs()
	args.PushRoleARNs = []pulumi.StringInput{
		pulumi.String("arn:aws:iam::123456789012:role/ci"),
		pulumi.String("arn:aws:iam::123456789012:role/release"),
	}
	rec := mustRun(t, args)
	require.Len(t, rec.OfType(policyType), 2)
	p := rec.Must(t, policyType, "images-tools/migrate")
	assert.Equal(t, "images/tools/migrate", p.Input("repository"))
	var doc struct {
		Statement []struct {
			Effect    string
			Principal map[string][]string
			Action    []string
			Resource  any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(p.Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 1)
	s := doc.Statement[0]
	assert.Equal(t, "Allow", s.Effect)
	assert.Equal(t, []string{"arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/release"}, s.Principal["AWS"])
	assert.ElementsMatch(t, []string{"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
		"ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"}, s.Action)
	assert.Nil(t, s.Resource, "a repository policy applies to its repository")
}

// withRepositoryURL fakes what ECR computes for a repository's URL; internal/fakecloud has no
// case for ECR yet, and the component must read the URL, not rebuild it from the name.
type withRepositoryURL struct{ *mocktest.Recorder }

func (m withRepositoryURL) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, state, err := m.Recorder.NewResource(args)
	if _, ok := state["repositoryUrl"]; args.TypeToken == repoType && !ok {
		state["repositoryUrl"] = resource.NewPropertyValue("123456789012.dkr.ecr.us-west-2.amazonaws.com/" + args.Inputs["name"].StringValue())
	}
	return id, state, err
}

func TestOutputs(t *testing.T) {
	var (
		wg         sync.WaitGroup
		arns, urls map[string]string
		key        string
	)
	wg.Add(1)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		r, err := New(ctx, "images", baseArgs())
		if err != nil {
			return err
		}
		pulumi.All(r.RepositoryARNs, r.RepositoryURLs, r.KMSKeyARN).ApplyT(func(v []any) error {
			arns, urls, key = v[0].(map[string]string), v[1].(map[string]string), v[2].(string)
			wg.Done()
			return nil
		})
		return nil
	}, pulumi.WithMocks("test", "dev", withRepositoryURL{&mocktest.Recorder{}}))
	require.NoError(t, err)
	wg.Wait()
	assert.Equal(t, map[string]string{
		"api":           "arn:aws:ecr:us-west-2:123456789012:images-api",
		"tools/migrate": "arn:aws:ecr:us-west-2:123456789012:images-tools/migrate",
	}, arns, "keyed by short name")
	assert.Equal(t, map[string]string{
		"api":           "123456789012.dkr.ecr.us-west-2.amazonaws.com/images/api",
		"tools/migrate": "123456789012.dkr.ecr.us-west-2.amazonaws.com/images/tools/migrate",
	}, urls)
	assert.Equal(t, keyARN, key)
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"no repos":     {func(a *Args) { a.Repositories = nil }, "Repositories: must list at least one repository"},
		"upper case":   {func(a *Args) { a.Repositories = []string{"api", "Worker"} }, `Repositories[1]: "Worker" is not a repository name`},
		"double dash":  {func(a *Args) { a.Repositories = []string{"my--api"} }, `Repositories[0]: "my--api" is not a repository name`},
		"leading /":    {func(a *Args) { a.Repositories = []string{"/api"} }, `Repositories[0]: "/api" is not a repository name`},
		"duplicate":    {func(a *Args) { a.Repositories = []string{"api", "web", "api"} }, `Repositories[2]: "api" is listed twice`},
		"long repo":    {func(a *Args) { a.Repositories = []string{strings.Repeat("a", 250)} }, "Repositories[0]: \"images/aaa"},
		"long prefix":  {func(a *Args) { a.Prefix = strings.Repeat("p", 253) }, "is 257 characters long; ECR allows 2 to 256"},
		"prefix":       {func(a *Args) { a.Prefix = "ScaleMate" }, `Prefix: "ScaleMate" is not a repository namespace`},
		"prefix dot":   {func(a *Args) { a.Prefix = "scalemate.dev" }, `Prefix: "scalemate.dev" contains '.'`},
		"prefix aws":   {func(a *Args) { a.Prefix = "aws/images" }, `Prefix: "aws/images" would make an alias under alias/aws/`},
		"keep low":     {func(a *Args) { a.KeepTaggedImages = -1 }, "KeepTaggedImages: -1 is out of range; allowed 1 to 1000"},
		"keep high":    {func(a *Args) { a.KeepTaggedImages = 1001 }, "KeepTaggedImages: 1001 is out of range; allowed 1 to 1000"},
		"expiry":       {func(a *Args) { a.UntaggedExpiryDays = 366 }, "UntaggedExpiryDays: 366 is out of range; allowed 1 to 365"},
		"tag wildcard": {func(a *Args) { a.ReleaseTagPrefixes = []string{"v*"} }, `ReleaseTagPrefixes[0]: "v*" is not the start of an image tag`},
		"tag twice":    {func(a *Args) { a.ReleaseTagPrefixes = []string{"v", "v"} }, `ReleaseTagPrefixes[1]: "v" is listed twice`},
		"many tags": {func(a *Args) {
			a.ReleaseTagPrefixes = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
		}, "ReleaseTagPrefixes: 11 prefixes given; at most 10"},
		"force+protect": {func(a *Args) { a.ForceDelete, a.Protect = true, true }, "ForceDelete: deletes images with their repository; not allowed together with Protect"},
		"nil push role": {func(a *Args) { a.PushRoleARNs = []pulumi.StringInput{nil} }, "PushRoleARNs[0]: must be set"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args)
			rec.Refused(t, err, `invalid registry args for "images"`, c.want)
		})
	}
}

// Every problem is reported at once, and Check agrees with New without needing wired inputs.
func TestCheckReportsEverything(t *testing.T) {
	args := Args{Repositories: []string{"API", "api", "api"}, KeepTaggedImages: 5000, UntaggedExpiryDays: -3}
	err := args.Check("images")
	require.Error(t, err)
	for _, want := range []string{`Repositories[0]: "API"`, `Repositories[2]: "api" is listed twice`, "KeepTaggedImages: 5000", "UntaggedExpiryDays: -3"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoError(t, baseArgs().Check("images"))
}
