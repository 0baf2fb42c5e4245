package canary

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{
		Region: "us-west-2", BaseURL: pulumi.String("https://app.scalemate.io"), NamePrefix: "prod",
		Checks: map[string]string{"home": "/", "api": "/api/healthz/ready"}, FrequencyMinutes: 1, RetentionDays: 30,
	}
}

// Each check is a canary that requests its public URL on the schedule, from a script whose S3
// key changes with its content, writes SSE-S3 artifacts under its own prefix and deletes its
// Lambda function when it goes.
func TestCanariesRequestThePublicURLs(t *testing.T) {
	rec := mocktest.MustComponent(t, New, "scalemate-prod", baseArgs())
	script := rec.Must(t, "aws:s3/bucketObjectv2:BucketObjectv2", "scalemate-prod-script")
	key := script.Input("key").(string)
	assert.Regexp(t, `^code/[0-9a-f]{16}\.zip$`, key)

	for check, path := range map[string]string{"home": "/", "api": "/api/healthz/ready"} {
		c := rec.Must(t, "aws:synthetics/canary:Canary", "prod-"+check)
		assert.Equal(t, "prod-"+check, c.Input("name"))
		assert.Equal(t, Runtime, c.Input("runtimeVersion"))
		assert.Equal(t, "check.handler", c.Input("handler"))
		assert.Equal(t, key, c.Input("s3Key"))
		assert.Equal(t, map[string]any{"expression": "rate(1 minute)"}, c.Input("schedule"))
		run := c.Input("runConfig").(map[string]any)
		assert.Equal(t, map[string]any{"CHECK_URL": "https://app.scalemate.io" + path}, run["environmentVariables"])
		assert.EqualValues(t, 30, run["timeoutInSeconds"])
		assert.Contains(t, c.Input("artifactS3Location"), "/runs/"+check+"/")
		assert.Equal(t, "SSE_S3", c.Input("artifactConfig").(map[string]any)["s3Encryption"].(map[string]any)["encryptionMode"])
		assert.Equal(t, true, c.Input("startCanary"))
		assert.Equal(t, true, c.Input("deleteLambda"), "a replaced canary leaves no Lambda function behind")
		assert.EqualValues(t, 30, c.Input("successRetentionPeriod"))
		assert.Contains(t, c.Dependencies, rec.Must(t, "aws:iam/rolePolicy:RolePolicy", "scalemate-prod-canary").URN,
			"the first run needs the role's grants")
	}
	lifecycle := rec.Must(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "scalemate-prod-artifacts")
	rules, err := json.Marshal(lifecycle.Input("rules"))
	require.NoError(t, err)
	assert.Contains(t, string(rules), `"days":30`, "artifacts expire with the runs' results")
	assert.Contains(t, string(rules), `"filter":{"prefix":"runs/"}`, "the script does not expire: canaries created later read it")
	assert.Equal(t, "GET /api/healthz/ready", StepName("/api/healthz/ready?x=1"))
	assert.Equal(t, "GET /", StepName("/"))
}

// The run's role writes its artifacts, CloudWatchSynthetics metrics only, and the logs of its
// own canaries' Lambda functions.
func TestCanaryRoleIsScoped(t *testing.T) {
	rec := mocktest.MustComponent(t, New, "scalemate-prod", baseArgs())
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(rec.Must(t, "aws:iam/rolePolicy:RolePolicy", "scalemate-prod-canary").Input("policy").(string)), &doc))
	bySid := map[string]int{}
	for i, st := range doc.Statement {
		bySid[st.Sid] = i
	}
	require.Contains(t, bySid, "Metrics")
	assert.Equal(t, "CloudWatchSynthetics", doc.Statement[bySid["Metrics"]].Condition["StringEquals"]["cloudwatch:namespace"])
	assert.Equal(t, "arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/cwsyn-prod-*", doc.Statement[bySid["Logs"]].Resource)
	assert.Regexp(t, `/runs/\*$`, doc.Statement[bySid["Artifacts"]].Resource)
	trust := rec.Must(t, "aws:iam/role:Role", "scalemate-prod-canary").Input("assumeRolePolicy").(string)
	assert.Contains(t, trust, "lambda.amazonaws.com")
}

// A dev stack checks every 15 minutes.
func TestCanaryScheduleInMinutes(t *testing.T) {
	args := baseArgs()
	args.FrequencyMinutes = 15
	rec := mocktest.MustComponent(t, New, "scalemate-dev", args)
	assert.Equal(t, map[string]any{"expression": "rate(15 minutes)"}, rec.Must(t, "aws:synthetics/canary:Canary", "prod-home").Input("schedule"))
}

func TestCanaryArgsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Args)
		want   string
	}{
		"no checks":      {func(a *Args) { a.Checks = nil }, "Checks: must name at least one path"},
		"long name":      {func(a *Args) { a.Checks = map[string]string{"a-very-long-check-name": "/"} }, `Checks.a-very-long-check-name: makes the canary name "prod-a-very-long-check-name"`},
		"upper-case key": {func(a *Args) { a.Checks = map[string]string{"Home": "/"} }, "Checks.Home: makes the canary name"},
		"relative path":  {func(a *Args) { a.Checks = map[string]string{"home": "index.html"} }, `Checks.home: "index.html" is not a URL path`},
		"frequency":      {func(a *Args) { a.FrequencyMinutes = 90 }, "FrequencyMinutes"},
		"retention":      {func(a *Args) { a.RetentionDays = 500 }, "RetentionDays"},
		"timeout > rate": {func(a *Args) { a.TimeoutSeconds = 120 }, "TimeoutSeconds"},
		"no url":         {func(a *Args) { a.BaseURL = nil }, "BaseURL: must be set"},
		"no region":      {func(a *Args) { a.Region = "" }, "Region"},
		"no name prefix": {func(a *Args) { a.NamePrefix = "" }, "NamePrefix"},
	} {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			tc.mutate(&args)
			rec, err := mocktest.Component(New, "scalemate-prod", args)
			rec.Refused(t, err, tc.want)
		})
	}
}
