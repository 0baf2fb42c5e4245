// Package canary is the users' view of an environment: CloudWatch Synthetics canaries that
// request public URLs (the site's front page, the API's health path) on a schedule from outside
// the VPC, through the CDN, the WAF and the load balancer, as a user does. Each publishes
// SuccessPercent and Duration under CloudWatchSynthetics (dimension CanaryName); the monitoring
// component alarms on them and folds those alarms into the rollback trigger.
package canary

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/synthetics"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/s3bucket"
	"github.com/scalemate/infra/internal/validate"
)

// Runtime is the Synthetics runtime the canaries run on. Changing it alone fails on AWS
// ("Code must be provided when updating to a different runtime"): the script's S3 key carries
// the runtime, so a new runtime uploads the code again and the update sends it.
const Runtime = "syn-nodejs-puppeteer-15.0"

// script is the check: one HTTPS GET of CHECK_URL that must answer 2xx. The legacy
// nodejs/node_modules layout works on every Node.js runtime; the module kept its old name
// before puppeteer 13.1.
const script = `let synthetics;
try { synthetics = require('@aws/synthetics-puppeteer'); } catch (e) { synthetics = require('Synthetics'); }

exports.handler = async () => {
  const url = new URL(process.env.CHECK_URL);
  synthetics.getConfiguration().setConfig({ includeRequestBody: false, includeResponseBody: false });
  const request = {
    hostname: url.hostname, port: 443, protocol: 'https:', method: 'GET',
    path: url.pathname + url.search, headers: { 'User-Agent': synthetics.getCanaryUserAgentString() },
  };
  await synthetics.executeHttpStep('GET ' + url.pathname, request, (res) => new Promise((resolve, reject) => {
    if (res.statusCode < 200 || res.statusCode > 299) {
      reject(new Error(res.statusCode + ' ' + res.statusMessage));
      return;
    }
    res.on('data', () => {});
    res.on('end', resolve);
  }));
};
`

// runsPrefix holds the runs' artifacts (expired), apart from the script (kept).
const runsPrefix = "runs/"

// StepName is the name of a check's one step, the StepName dimension of its step metrics
// (Duration, SuccessPercent): "GET <path>", as the script names it.
func StepName(path string) string {
	u, err := url.Parse(path)
	if err != nil || u.Path == "" {
		return "GET /"
	}
	return "GET " + u.Path
}

// handlerFile is where the runtime loads the script from, and handler its entry point.
const (
	handlerFile = "nodejs/node_modules/check.js"
	handler     = "check.handler"
)

var (
	// Canary names: lower-case letters, digits, '-' and '_'. AWS takes 255 characters since
	// 2024; older providers and CloudFormation still check 21, which names here keep to.
	nameRE = regexp.MustCompile(`^[0-9a-z_-]{1,21}$`)
	pathRE = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$`)
)

// Args configures the Canaries.
type Args struct {
	// Region is the main region (ARN partition, the log groups' ARNs). Required.
	Region string
	// BaseURL is the public origin the checks request, https://<host> (the CDN's first domain
	// name, or its CloudFront domain). Required.
	BaseURL pulumi.StringInput
	// Checks are the paths to request, by key: each key is a canary <NamePrefix>-<key>. At
	// least one.
	Checks map[string]string
	// NamePrefix starts every canary's name (the stack, kept short: names hold 21 characters).
	// Required.
	NamePrefix string
	// FrequencyMinutes is how often each check runs, 1 to 60. Default 5.
	FrequencyMinutes int
	// RetentionDays keeps the runs' results and artifacts (screenshots, HAR files, logs),
	// 1 to 455. Default 31.
	RetentionDays int
	// TimeoutSeconds bounds one run, 3 to 840 and at most the schedule's interval. Default 30.
	TimeoutSeconds int
	// After are what serves the URLs (the application): the canaries start once they exist,
	// as failing runs before then would hold the rollback trigger in ALARM. (A component's
	// DependsOn does not reach its children.)
	After []pulumi.Resource
}

// Canaries is the component resource.
type Canaries struct {
	pulumi.ResourceState

	// Names are the canaries' names (the CanaryName dimension of their metrics), by check key.
	Names map[string]string
	// NameOutputs are the same names once the canaries exist.
	NameOutputs pulumi.StringMapOutput `pulumi:"names"`
	// ArtifactsBucket holds the runs' artifacts.
	ArtifactsBucket pulumi.StringOutput `pulumi:"artifactsBucket"`
}

func (a Args) withDefaults() Args {
	if a.FrequencyMinutes == 0 {
		a.FrequencyMinutes = 5
	}
	if a.RetentionDays == 0 {
		a.RetentionDays = 31
	}
	if a.TimeoutSeconds == 0 {
		a.TimeoutSeconds = 30
	}
	return a
}

// CanaryNames are the canary names the checks get, by key.
func CanaryNames(prefix string, checks map[string]string) map[string]string {
	out := map[string]string{}
	for key := range checks {
		out[key] = prefix + "-" + key
	}
	return out
}

// Check validates the settings that are not wired from other components.
func (a Args) Check() error {
	var p validate.Problems
	a.check(&p)
	return p.Err("invalid canary args")
}

func (a Args) check(p *validate.Problems) {
	a = a.withDefaults()
	p.NotEmpty("Region", a.Region)
	p.NotEmpty("NamePrefix", a.NamePrefix)
	if len(a.Checks) == 0 {
		p.Addf("Checks", "must name at least one path to check")
	}
	for _, key := range slices.Sorted(maps.Keys(a.Checks)) {
		if name := a.NamePrefix + "-" + key; !nameRE.MatchString(name) {
			p.Addf("Checks."+key, "makes the canary name %q: at most 21 lower-case letters, digits, '-' or '_' in all", name)
		}
		if path := a.Checks[key]; !pathRE.MatchString(path) {
			p.Addf("Checks."+key, "%q is not a URL path (it starts with '/', e.g. /api/healthz)", path)
		}
	}
	p.IntRange("FrequencyMinutes", a.FrequencyMinutes, 1, 60)
	p.IntRange("RetentionDays", a.RetentionDays, 1, 455)
	p.IntRange("TimeoutSeconds", a.TimeoutSeconds, 3, min(840, a.FrequencyMinutes*60))
}

// New creates the artifacts bucket, the canaries' role, the script and one canary per check.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Canaries, error) {
	var p validate.Problems
	if args.BaseURL == nil {
		p.Addf("BaseURL", "must be set")
	}
	args.check(&p)
	if err := p.Err(fmt.Sprintf("invalid canary args for %q", name)); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	c := &Canaries{Names: CanaryNames(args.NamePrefix, args.Checks)}
	if err := ctx.RegisterComponentResource("scalemate:canary:Canaries", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	partition := iampolicy.Partition(args.Region)
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, parent).AccountId()

	// Artifacts are disposable: SSE-S3, expired with the runs' results, emptied on destroy. The
	// script beside them must not expire: a canary created later reads it.
	bucket, err := s3bucket.New(ctx, name+"-artifacts", s3bucket.Args{
		Prefix: name + "-canary-", ExpireDays: args.RetentionDays, ExpirePrefix: runsPrefix, ForceDestroy: true,
	}, parent)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(Runtime + "\n" + script))
	code, err := s3.NewBucketObjectv2(ctx, name+"-script", &s3.BucketObjectv2Args{
		Bucket: bucket.ID(),
		// A new script or runtime is a new key, which the canaries' update sends as new code.
		Key:    pulumi.String("code/" + hex.EncodeToString(sum[:8]) + ".zip"),
		Source: pulumi.NewAssetArchive(map[string]any{handlerFile: pulumi.NewStringAsset(script)}),
	}, parent, pulumi.DependsOn(bucket.Settings))
	if err != nil {
		return nil, fmt.Errorf("uploading the canary script: %w", err)
	}

	role, err := iam.NewRole(ctx, name+"-canary", &iam.RoleArgs{
		Name:             pulumi.String(name + "-canary"),
		Description:      pulumi.String("CloudWatch Synthetics canaries of " + name),
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("lambda.amazonaws.com")),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the canary role: %w", err)
	}
	policy, err := iam.NewRolePolicy(ctx, name+"-canary", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: rolePolicy(partition, args.Region, account, bucket.Arn, args.NamePrefix),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("granting the canary role: %w", err)
	}

	names := pulumi.StringMap{}
	for _, key := range slices.Sorted(maps.Keys(args.Checks)) {
		path := args.Checks[key]
		rate := fmt.Sprintf("rate(%d minutes)", args.FrequencyMinutes)
		if args.FrequencyMinutes == 1 {
			rate = "rate(1 minute)"
		}
		canary, err := synthetics.NewCanary(ctx, c.Names[key], &synthetics.CanaryArgs{
			Name:               pulumi.String(c.Names[key]),
			RuntimeVersion:     pulumi.String(Runtime),
			Handler:            pulumi.String(handler),
			S3Bucket:           bucket.ID(),
			S3Key:              code.Key,
			ExecutionRoleArn:   role.Arn,
			ArtifactS3Location: pulumi.Sprintf("s3://%s/%s%s/", bucket.ID(), runsPrefix, key),
			ArtifactConfig: synthetics.CanaryArtifactConfigArgs{
				S3Encryption: synthetics.CanaryArtifactConfigS3EncryptionArgs{EncryptionMode: pulumi.String("SSE_S3")},
			},
			Schedule: synthetics.CanaryScheduleArgs{Expression: pulumi.String(rate)},
			RunConfig: synthetics.CanaryRunConfigArgs{
				TimeoutInSeconds:     pulumi.Int(args.TimeoutSeconds),
				EnvironmentVariables: pulumi.StringMap{"CHECK_URL": pulumi.Sprintf("%s%s", args.BaseURL, path)},
			},
			SuccessRetentionPeriod: pulumi.Int(args.RetentionDays),
			FailureRetentionPeriod: pulumi.Int(args.RetentionDays),
			StartCanary:            pulumi.Bool(true),
			// The canary's Lambda function and layer go with it, or each replacement leaks them.
			DeleteLambda: pulumi.Bool(true),
		}, parent, pulumi.DependsOn(append([]pulumi.Resource{policy}, args.After...)))
		if err != nil {
			return nil, fmt.Errorf("creating canary %s: %w", key, err)
		}
		names[key] = canary.Name
	}

	c.NameOutputs = names.ToStringMapOutput()
	c.ArtifactsBucket = bucket.Bucket
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"names": c.NameOutputs, "artifactsBucket": c.ArtifactsBucket})
}

// rolePolicy is what a run needs (AWS's canary permissions): write its artifacts, its metrics
// (CloudWatchSynthetics only), its Lambda function's logs, and traces.
func rolePolicy(partition, region string, account pulumi.StringOutput, bucketARN pulumi.StringOutput, prefix string) pulumi.StringOutput {
	return pulumi.All(account, bucketARN).ApplyT(func(v []any) string {
		acct, arn := v[0].(string), v[1].(string)
		return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
			{Sid: "Artifacts", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject"}, Resource: arn + "/" + runsPrefix + "*"},
			{Sid: "ArtifactsBucket", Effect: "Allow", Action: []string{"s3:GetBucketLocation"}, Resource: arn},
			{Sid: "ListBuckets", Effect: "Allow", Action: []string{"s3:ListAllMyBuckets", "xray:PutTraceSegments"}, Resource: "*"},
			{Sid: "Metrics", Effect: "Allow", Action: []string{"cloudwatch:PutMetricData"}, Resource: "*",
				Condition: iampolicy.Condition{"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}}},
			{Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
				Resource: fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/lambda/cwsyn-%s-*", partition, region, acct, prefix)},
		}}.JSON()
	}).(pulumi.StringOutput)
}
