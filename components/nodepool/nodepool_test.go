package nodepool

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/fakecloud"
	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{
		Region:        "us-west-2",
		ClusterName:   pulumi.String("demo"),
		SubnetIDs:     pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		InstanceTypes: []string{"m6i.large"},
	}
}

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "pool", args)
}

func mustRun(t *testing.T, args Args) (*mocktest.Recorder, mocktest.Resource) {
	t.Helper()
	rec := mocktest.MustComponent(t, New, "pool", args)
	return rec, rec.Must(t, "aws:eks/nodeGroup:NodeGroup", "pool")
}

func TestNodeGroupDefaults(t *testing.T) {
	_, ng := mustRun(t, baseArgs())
	assert.Equal(t, "ON_DEMAND", ng.Input("capacityType"))
	assert.Equal(t, "AL2023_x86_64_STANDARD", ng.Input("amiType"))
	assert.Equal(t, map[string]any{"minSize": 1.0, "maxSize": 3.0, "desiredSize": 1.0}, ng.Input("scalingConfig"))
	assert.Equal(t, map[string]any{"maxUnavailablePercentage": 33.0}, ng.Input("updateConfig"))
	assert.Equal(t, map[string]any{"enabled": true}, ng.Input("nodeRepairConfig"))
	assert.Equal(t, []string{"scalingConfig.desiredSize"}, ng.IgnoreChanges, "the autoscaler owns the size after creation")
	assert.Nil(t, ng.Input("remoteAccess"), "no SSH")
	assert.Equal(t, map[string]any{"id": "pool-id", "version": "1"}, ng.Input("launchTemplate"))
	for _, policy := range nodePolicies {
		assert.Contains(t, ng.Dependencies, "urn:pulumi:dev::test::scalemate:nodepool:NodePool$aws:iam/rolePolicyAttachment:RolePolicyAttachment::pool-"+policy,
			"the group waits for the node role's %s", policy)
	}
}

func TestSpotPoolWithLabelsTaintsAndArm(t *testing.T) {
	args := baseArgs()
	args.CapacityType = "SPOT"
	args.InstanceTypes = []string{"m7g.large", "m6g.large", "c7g.xlarge"}
	args.MinSize, args.MaxSize, args.DesiredSize = 2, 10, 4
	args.Labels = map[string]string{"scalemate.io/pool": "workers"}
	args.Taints = []Taint{{Key: "spot", Value: "true", Effect: "PREFER_NO_SCHEDULE"}}
	_, ng := mustRun(t, args)
	assert.Equal(t, "SPOT", ng.Input("capacityType"))
	assert.Equal(t, "AL2023_ARM_64_STANDARD", ng.Input("amiType"))
	assert.Equal(t, []any{"m7g.large", "m6g.large", "c7g.xlarge"}, ng.Input("instanceTypes"))
	assert.Equal(t, map[string]any{"minSize": 2.0, "maxSize": 10.0, "desiredSize": 4.0}, ng.Input("scalingConfig"))
	assert.Equal(t, map[string]any{"scalemate.io/pool": "workers"}, ng.Input("labels"))
	assert.Equal(t, []any{map[string]any{"key": "spot", "value": "true", "effect": "PREFER_NO_SCHEDULE"}}, ng.Input("taints"))
}

func TestLaunchTemplateHardening(t *testing.T) {
	args := baseArgs()
	args.DiskSizeGiB = 80
	args.Tags = map[string]string{"Project": "scalemate", "Owner": "platform-team"}
	rec, _ := mustRun(t, args)
	lt := rec.Must(t, "aws:ec2/launchTemplate:LaunchTemplate", "pool")
	md := lt.Input("metadataOptions").(map[string]any)
	assert.Equal(t, "required", md["httpTokens"], "IMDSv2 only")
	assert.EqualValues(t, 1, md["httpPutResponseHopLimit"])
	bdm := lt.Input("blockDeviceMappings").([]any)
	require.Len(t, bdm, 1)
	ebs := bdm[0].(map[string]any)["ebs"].(map[string]any)
	assert.Equal(t, "gp3", ebs["volumeType"])
	assert.Equal(t, "true", ebs["encrypted"])
	assert.EqualValues(t, 80, ebs["volumeSize"])
	assert.Nil(t, lt.Input("keyName"), "no SSH key")
	specs := lt.Input("tagSpecifications").([]any)
	require.Len(t, specs, 3)
	for _, spec := range specs {
		m := spec.(map[string]any)
		assert.Equal(t, map[string]any{"Name": "pool", "Project": "scalemate", "Owner": "platform-team"}, m["tags"],
			"%s launched by the group carry the cost tags", m["resourceType"])
	}
}

func TestNodeRoleHasOnlyNodePolicies(t *testing.T) {
	rec, _ := mustRun(t, baseArgs())
	var policies []string
	for _, a := range rec.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		policies = append(policies, a.Input("policyArn").(string))
	}
	assert.ElementsMatch(t, []string{
		"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
		"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
	}, policies)
	role, _ := rec.Named("aws:iam/role:Role", "pool")
	assert.Contains(t, role.Input("assumeRolePolicy"), `"Service":["ec2.amazonaws.com"]`)
	inline := rec.OfType("aws:iam/rolePolicy:RolePolicy")
	require.Len(t, inline, 1, "one inline grant: the account's Session Manager preferences")
	var doc iampolicy.Document
	require.NoError(t, json.Unmarshal([]byte(inline[0].Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 3)
	assert.Equal(t, []string{"kms:Decrypt"}, doc.Statement[0].Action, "sessions are KMS-encrypted: the node decrypts")
	assert.Equal(t, "alias/scalemate-sessions", doc.Statement[0].Condition["ForAnyValue:StringEquals"]["kms:ResourceAliases"], "only the sessions key")
	assert.Equal(t, "arn:aws:logs:us-west-2:*:log-group:/scalemate/ssm-sessions:*", doc.Statement[1].Resource, "only the session log")
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	cases := map[string]struct {
		edit func(*Args)
		want string
	}{
		"capacity":    {func(a *Args) { a.CapacityType = "spot" }, `CapacityType: "spot" is not allowed; use one of ON_DEMAND, SPOT`},
		"no types":    {func(a *Args) { a.InstanceTypes = nil }, "InstanceTypes: at least one instance type is required"},
		"mixed arch":  {func(a *Args) { a.InstanceTypes = []string{"m6i.large", "m6g.large"} }, "mix x86_64 and arm64"},
		"min > max":   {func(a *Args) { a.MinSize, a.MaxSize = 5, 2 }, "MinSize: 5 is greater than MaxSize 2"},
		"desired":     {func(a *Args) { a.MinSize, a.MaxSize, a.DesiredSize = 1, 2, 7 }, "DesiredSize: 7 is outside MinSize..MaxSize (1..2)"},
		"quota":       {func(a *Args) { a.MaxSize = 451 }, "MaxSize: 451 is out of range; allowed 1 to 450"},
		"disk":        {func(a *Args) { a.DiskSizeGiB = 10 }, "DiskSizeGiB: 10 is out of range"},
		"taint":       {func(a *Args) { a.Taints = []Taint{{Key: "", Effect: "NoSchedule"}} }, "Taints[0].Key: must be set"},
		"cluster":     {func(a *Args) { a.ClusterName = nil }, "ClusterName: must be set"},
		"unavailable": {func(a *Args) { a.MaxUnavailablePercent = 101 }, "MaxUnavailablePercent: 101 is out of range"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args)
			rec.Refused(t, err, `invalid nodepool args for "pool"`, c.want)
		})
	}
}

// Review 2026-11-30 #9: a pool's new node group (a replacement, when instance types or capacity
// type change) starts at the size its current group was autoscaled to, within the pool's
// bounds; other pools' groups (a name that only shares the prefix) do not count.
func TestNewGroupStartsAtTheLiveSize(t *testing.T) {
	for _, c := range []struct {
		name     string
		names    string
		live     int
		want     float64
		minDesir int
	}{
		{"no group yet", `[]`, 0, 1, 0},
		{"autoscaled to 3", `["pool-1a2b3c4","pool-gpu-9f8e7d6"]`, 3, 3, 0},
		{"beyond the new maximum", `["pool-1a2b3c4"]`, 9, 5, 0},
		{"another pool's group", `["pool-gpu-9f8e7d6"]`, 4, 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(fakecloud.LiveInvokesEnv, `aws:eks/getNodeGroups:getNodeGroups={"clusterName":"demo","id":"demo","names":`+c.names+`};`+
				`aws:eks/getNodeGroup:getNodeGroup={"clusterName":"demo","nodeGroupName":"pool-1a2b3c4","scalingConfigs":[{"minSize":1,"maxSize":9,"desiredSize":`+strconv.Itoa(c.live)+`}]}`)
			args := baseArgs()
			args.MinSize, args.MaxSize, args.DesiredSize = 1, 5, c.minDesir
			_, ng := mustRun(t, args)
			assert.Equal(t, c.want, ng.Input("scalingConfig").(map[string]any)["desiredSize"])
		})
	}
}
