package runner

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
		Region: "us-west-2", Repository: "scalemate/infra", LogRetentionDays: 30,
		VPCID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		APISecurityGroupID: pulumi.String("sg-api"),
	}
}

// The runner takes GitHub Actions jobs of one repository inside the VPC: a CodeBuild project in
// the private subnets whose webhook starts a build per queued job, admitted to the cluster API
// on 443 and allowed out on 443 only.
func TestRunnerInTheVPC(t *testing.T) {
	rec := mocktest.MustComponent(t, New, "scalemate-dev-runner", baseArgs())
	project := rec.Must(t, "aws:codebuild/project:Project", "scalemate-dev-runner")
	assert.Equal(t, "scalemate-dev-runner", project.Input("name"))
	assert.Equal(t, map[string]any{"type": "GITHUB", "location": "https://github.com/scalemate/infra.git"}, project.Input("source"))
	env := project.Input("environment").(map[string]any)
	assert.Equal(t, "BUILD_GENERAL1_MEDIUM", env["computeType"])
	assert.Equal(t, false, env["privilegedMode"])
	vpc := project.Input("vpcConfig").(map[string]any)
	assert.Equal(t, []any{"subnet-a", "subnet-b"}, vpc["subnets"])
	assert.EqualValues(t, 300, project.Input("buildTimeout"), "a fresh up under the deploy roles' 4-hour sessions")
	assert.Contains(t, project.Dependencies, rec.Must(t, "aws:iam/rolePolicy:RolePolicy", "scalemate-dev-runner").URN, "CodeBuild checks the role when the project is created")

	hook := rec.Must(t, "aws:codebuild/webhook:Webhook", "scalemate-dev-runner")
	assert.Equal(t, []any{map[string]any{"filters": []any{map[string]any{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}}}}, hook.Input("filterGroups"))

	sg := rec.Must(t, "aws:ec2/securityGroup:SecurityGroup", "scalemate-dev-runner")
	assert.Nil(t, sg.Input("ingress"), "nothing reaches the runner")
	egress := sg.Input("egress").([]any)
	require.Len(t, egress, 1)
	assert.EqualValues(t, 443, egress[0].(map[string]any)["fromPort"])
	rule := rec.Must(t, "aws:ec2/securityGroupRule:SecurityGroupRule", "scalemate-dev-runner-to-cluster-api")
	assert.Equal(t, "ingress", rule.Input("type"))
	assert.Equal(t, "sg-api", rule.Input("securityGroupId"))
	assert.EqualValues(t, 443, rule.Input("fromPort"))

	logs := rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "scalemate-dev-runner")
	assert.Equal(t, "/aws/codebuild/scalemate-dev-runner", logs.Input("name"))
	assert.EqualValues(t, 30, logs.Input("retentionInDays"))
}

// The build's own role creates network interfaces in the runner's subnets only, writes its
// logs and reads the GitHub connection's token; it has no deploy rights (jobs assume their
// environment's roles through OIDC).
func TestRunnerRoleIsMinimal(t *testing.T) {
	rec := mocktest.MustComponent(t, New, "scalemate-dev-runner", baseArgs())
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(rec.Must(t, "aws:iam/rolePolicy:RolePolicy", "scalemate-dev-runner").Input("policy").(string)), &doc))
	var actions []string
	for _, st := range doc.Statement {
		actions = append(actions, st.Action...)
		if st.Sid == "NetworkInterfacePermission" {
			assert.Equal(t, []any{"arn:aws:ec2:us-west-2:123456789012:subnet/subnet-a", "arn:aws:ec2:us-west-2:123456789012:subnet/subnet-b"}, st.Condition["ArnEquals"]["ec2:Subnet"])
			assert.Equal(t, "codebuild.amazonaws.com", st.Condition["StringEquals"]["ec2:AuthorizedService"])
		}
	}
	assert.Contains(t, actions, "codeconnections:UseConnection", "CodeBuild checks the connection with the project's role")
	for _, a := range actions {
		assert.NotRegexp(t, `^(iam|sts|eks|s3|kms|secretsmanager):`, a, "the runner's own role deploys nothing")
	}
	assert.Contains(t, rec.Must(t, "aws:iam/role:Role", "scalemate-dev-runner").Input("assumeRolePolicy"), "codebuild.amazonaws.com")
}

func TestInvalidRunnerRegistersNothing(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*Args)
		want string
	}{
		"repository": {func(a *Args) { a.Repository = "https://github.com/scalemate/infra" }, `Repository: "https://github.com/scalemate/infra" is not a GitHub repository (owner/name)`},
		"compute":    {func(a *Args) { a.ComputeType = "BUILD_GENERAL1_HUGE" }, `ComputeType: "BUILD_GENERAL1_HUGE" is not allowed`},
		"timeout":    {func(a *Args) { a.BuildTimeoutMinutes = 3000 }, `BuildTimeoutMinutes`},
		"subnets":    {func(a *Args) { a.SubnetIDs = nil }, `SubnetIDs: must be set`},
		"retention":  {func(a *Args) { a.LogRetentionDays = 8 }, `LogRetentionDays`},
	} {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := mocktest.Component(New, "scalemate-dev-runner", args)
			rec.Refused(t, err, c.want)
		})
	}
}
