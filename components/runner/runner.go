// Package runner is the in-VPC path of the delivery pipeline: a CodeBuild project that serves as
// a GitHub Actions runner (CodeBuild-hosted runners) in the stack's private subnets, admitted to
// the cluster's private API endpoint on 443. The workflows' jobs that touch Kubernetes (preview,
// up, rollback, drift) run there, so no API endpoint has to be public. The job still assumes
// the GitHub environment's deploy or preview role through OIDC: the runner's own role can only
// run the build (network interfaces, its logs, the GitHub connection's token).
package runner

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/codebuild"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/sgrule"
	"github.com/scalemate/infra/internal/validate"
)

// ComputeTypes are the CodeBuild (EC2 container) sizes a runner may use.
var ComputeTypes = []string{"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"}

var (
	// CodeBuild project names: 2 to 255 characters, a letter or digit first.
	projectRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)
)

// Args configures a Runner.
type Args struct {
	// Region is the stack's region (ARN partition, log and network interface ARNs). Required.
	Region string
	// Repository is the GitHub repository (owner/name) whose workflow jobs the runner takes.
	// The account must hold a CodeBuild source credential for GitHub (the bootstrap program's
	// CodeConnections connection), or creating the webhook fails. Required.
	Repository string
	// VPCID and SubnetIDs place the runner: private subnets with a NAT route (CodeBuild gives
	// its network interfaces no public address; the job reaches GitHub, the Go proxy and AWS
	// APIs on 443). Required.
	VPCID     pulumi.StringInput
	SubnetIDs pulumi.StringArrayInput
	// APISecurityGroupID is the cluster's control-plane security group; the runner is admitted
	// to it on 443. Required.
	APISecurityGroupID pulumi.StringInput
	// ComputeType is the build size, one of ComputeTypes. Default BUILD_GENERAL1_MEDIUM (7 GB:
	// compiling the program peaks near 4.4 GB).
	ComputeType string
	// Image is the build image. Default aws/codebuild/amazonlinux-x86_64-standard:5.0.
	Image string
	// BuildTimeoutMinutes bounds one job, 5 to 2160. Default 300: a fresh staging or prod `up`
	// with its previews, under the deploy roles' 4-hour sessions.
	BuildTimeoutMinutes int
	// LogRetentionDays is the retention of the jobs' log group. Required.
	LogRetentionDays int
}

// Runner is the component resource.
type Runner struct {
	pulumi.ResourceState

	// ProjectName is the CodeBuild project; workflows run on
	// `codebuild-<ProjectName>-${{ github.run_id }}-${{ github.run_attempt }}`.
	ProjectName pulumi.StringOutput `pulumi:"projectName"`
	// SecurityGroupID is the runner's security group.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
	// RoleARN is the build's own role (not the role the jobs deploy with).
	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
}

func (a Args) withDefaults() Args {
	if a.ComputeType == "" {
		a.ComputeType = "BUILD_GENERAL1_MEDIUM"
	}
	if a.Image == "" {
		a.Image = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
	}
	if a.BuildTimeoutMinutes == 0 {
		a.BuildTimeoutMinutes = 300
	}
	return a
}

// Check validates the settings that are not wired from other components.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid runner args for %q", name))
}

func (a Args) check(p *validate.Problems, name string) {
	a = a.withDefaults()
	p.NotEmpty("Region", a.Region)
	if !validate.IsGitHubRepository(a.Repository) {
		p.Addf("Repository", "%q is not a GitHub repository (owner/name)", a.Repository)
	}
	if !projectRE.MatchString(name) {
		p.Addf("name", "%q is not a CodeBuild project name (2 to 255 letters, digits, '-' or '_', a letter or digit first)", name)
	}
	p.OneOf("ComputeType", a.ComputeType, ComputeTypes...)
	p.IntRange("BuildTimeoutMinutes", a.BuildTimeoutMinutes, 5, 2160)
	p.LogRetention("LogRetentionDays", a.LogRetentionDays)
}

func (a Args) validate(name string) error {
	var p validate.Problems
	for field, set := range map[string]bool{
		"VPCID": a.VPCID != nil, "SubnetIDs": a.SubnetIDs != nil, "APISecurityGroupID": a.APISecurityGroupID != nil,
	} {
		if !set {
			p.Addf(field, "must be set")
		}
	}
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid runner args for %q", name))
}

// New creates the runner's security group and its admission to the cluster API, its role, log
// group, CodeBuild project and the webhook that starts a build for each queued workflow job.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Runner, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	r := &Runner{}
	if err := ctx.RegisterComponentResource("scalemate:runner:Runner", name, r, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(r)
	partition := iampolicy.Partition(args.Region)

	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VPCID,
		Description: pulumi.String("GitHub Actions runner " + name + ": HTTPS out only"),
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
			CidrBlocks:  pulumi.StringArray{pulumi.String("0.0.0.0/0")},
			Description: pulumi.String("GitHub, the Go module proxy, AWS APIs and the cluster API"),
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the runner's security group: %w", err)
	}
	if err := sgrule.Allow(ctx, name+"-to-cluster-api", sgrule.Ingress, args.APISecurityGroupID, sg.ID(), 443,
		"Kubernetes API from the pipeline's runner "+name, parent); err != nil {
		return nil, err
	}

	logGroupName := "/aws/codebuild/" + name
	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name: pulumi.String(logGroupName), RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the runner's log group: %w", err)
	}

	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.ServiceTrust("codebuild.amazonaws.com")),
		Description:      pulumi.String("CodeBuild GitHub Actions runner " + name + " (the jobs deploy with their own roles)"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the runner's role: %w", err)
	}
	account := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, parent).AccountId()
	policy := pulumi.All(account, logs.Arn, args.SubnetIDs).ApplyT(func(v []any) string {
		return buildPolicy(partition, args.Region, v[0].(string), v[1].(string), v[2].([]string))
	}).(pulumi.StringOutput)
	access, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent)
	if err != nil {
		return nil, fmt.Errorf("granting the runner's role: %w", err)
	}

	project, err := codebuild.NewProject(ctx, name, &codebuild.ProjectArgs{
		Name:        pulumi.String(name),
		Description: pulumi.String("GitHub Actions runner for " + args.Repository + " inside the VPC (private cluster API)"),
		ServiceRole: role.Arn,
		Source: codebuild.ProjectSourceArgs{
			Type: pulumi.String("GITHUB"), Location: pulumi.String("https://github.com/" + args.Repository + ".git"),
		},
		Artifacts: codebuild.ProjectArtifactsArgs{Type: pulumi.String("NO_ARTIFACTS")},
		Environment: codebuild.ProjectEnvironmentArgs{
			Type: pulumi.String("LINUX_CONTAINER"), ComputeType: pulumi.String(args.ComputeType),
			Image: pulumi.String(args.Image), ImagePullCredentialsType: pulumi.String("CODEBUILD"),
			PrivilegedMode: pulumi.Bool(false), // no Docker daemon: the jobs build Go, not images
		},
		VpcConfig: codebuild.ProjectVpcConfigArgs{
			VpcId: args.VPCID, Subnets: args.SubnetIDs, SecurityGroupIds: pulumi.StringArray{sg.ID()},
		},
		LogsConfig: codebuild.ProjectLogsConfigArgs{CloudwatchLogs: codebuild.ProjectLogsConfigCloudwatchLogsArgs{
			Status: pulumi.String("ENABLED"), GroupName: logs.Name,
		}},
		BuildTimeout: pulumi.Int(args.BuildTimeoutMinutes),
	}, parent,
		// CodeBuild checks the role's network interface permissions when the project is created.
		pulumi.DependsOn([]pulumi.Resource{access}))
	if err != nil {
		return nil, fmt.Errorf("creating the runner's project: %w", err)
	}
	if _, err := codebuild.NewWebhook(ctx, name, &codebuild.WebhookArgs{
		ProjectName: project.Name,
		BuildType:   pulumi.String("BUILD"),
		FilterGroups: codebuild.WebhookFilterGroupArray{codebuild.WebhookFilterGroupArgs{
			Filters: codebuild.WebhookFilterGroupFilterArray{codebuild.WebhookFilterGroupFilterArgs{
				Type: pulumi.String("EVENT"), Pattern: pulumi.String("WORKFLOW_JOB_QUEUED"),
			}},
		}},
	}, parent); err != nil {
		return nil, fmt.Errorf("creating the runner's webhook: %w", err)
	}

	r.ProjectName, r.SecurityGroupID, r.RoleARN = project.Name, sg.ID().ToStringOutput(), role.Arn
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{
		"projectName": r.ProjectName, "securityGroupId": r.SecurityGroupID, "roleArn": r.RoleARN,
	})
}

// buildPolicy is what a CodeBuild build in a VPC needs (AWS CodeBuild user guide, "Allow
// CodeBuild access to AWS services required to create a VPC network interface"), its own logs,
// and the GitHub connection's token, nothing else.
func buildPolicy(partition, region, account, logGroupARN string, subnetIDs []string) string {
	subnetARNs := make([]string, len(subnetIDs))
	for i, id := range subnetIDs {
		subnetARNs[i] = "arn:" + partition + ":ec2:" + region + ":" + account + ":subnet/" + id
	}
	return iampolicy.Document{Version: "2012-10-17", Statement: []iampolicy.Statement{
		{Sid: "NetworkInterfaces", Effect: "Allow", Resource: "*", Action: []string{
			"ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
			"ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
		}},
		{Sid: "NetworkInterfacePermission", Effect: "Allow", Action: []string{"ec2:CreateNetworkInterfacePermission"},
			Resource: "arn:" + partition + ":ec2:" + region + ":" + account + ":network-interface/*",
			Condition: iampolicy.Condition{
				"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
				"ArnEquals":    {"ec2:Subnet": subnetARNs},
			}},
		{Sid: "Logs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{logGroupARN, logGroupARN + ":*"}},
		// CodeBuild checks the connection with the project's role when it creates the webhook
		// and at each build: UseConnection as well as the token.
		{Sid: "GitHubConnection", Effect: "Allow", Action: []string{
			"codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codeconnections:GetConnection",
			"codestar-connections:UseConnection", "codestar-connections:GetConnectionToken", "codestar-connections:GetConnection",
		}, Resource: []string{
			"arn:" + partition + ":codeconnections:" + region + ":" + account + ":connection/*",
			"arn:" + partition + ":codestar-connections:" + region + ":" + account + ":connection/*",
		}},
	}}.JSON()
}
