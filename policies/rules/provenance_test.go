package rules

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/analyzed"
)

// unknownFrom makes r's inputs at the given paths unknown, as a preview has them, computed from
// deps: "kmsKeyId" a whole input, "alarmActions[]" a list of one unknown element,
// "encryptionConfig.provider.keyArn" a nested leaf. Dependencies are per top-level input.
func unknownFrom(r analyzed.Resource, deps map[string][]analyzed.Resource) analyzed.Resource {
	v := property.New(r.Props)
	r.PropertyDependencies = map[string][]string{}
	for path, ds := range deps {
		unknown := property.New(property.Computed)
		segs := strings.Split(path, ".")
		if strings.HasSuffix(segs[0], "[]") {
			segs[0] = strings.TrimSuffix(segs[0], "[]")
			unknown = property.New(property.NewArray([]property.Value{unknown}))
		}
		v = setAt(v, segs, unknown)
		for _, d := range ds {
			r.PropertyDependencies[segs[0]] = append(r.PropertyDependencies[segs[0]], d.URN)
		}
	}
	r.Props = v.AsMap()
	return r
}

// A value unknown during the preview is judged by the resources it comes from: vouched for by
// the right resources of the stack, it passes without a finding; from anything else it stays
// "cannot check until update"; what is known is still checked.
func TestUnknownsJudgedByProvenance(t *testing.T) {
	th, err := ForTier("prod")
	require.NoError(t, err)
	topic := res(TypeSNSTopic, map[string]any{"kmsMasterKeyId": "alias/x"})
	rotating := res(TypeKMSKey, map[string]any{"enableKeyRotation": true})
	stale := res(TypeKMSKey, map[string]any{"enableKeyRotation": false})
	bucket := res(TypeBucket, map[string]any{})
	alarm := res(TypeMetricAlarm, map[string]any{"actionsEnabled": true, "alarmActions": []any{"arn"}})
	secret := res(TypeSecret, map[string]any{"kmsKeyId": "k"})
	cluster := res(TypeCluster, map[string]any{"encryptionConfig": map[string]any{"resources": []any{"secrets"}, "provider": map[string]any{"keyArn": "k"}}})
	nothing := res(TypeCache, map[string]any{})

	cases := []struct {
		name, rule string
		r          analyzed.Resource
		others     []analyzed.Resource
		want       string // "" none, "unknown", or a violation's text
	}{
		{"alarm action is this stack's topic", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions[]": {topic}}), []analyzed.Resource{topic}, ""},
		{"alarm action from a bucket", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions[]": {bucket}}), []analyzed.Resource{bucket}, "unknown"},
		{"alarm action from outside the stack", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions[]": {topic}}), nil, "unknown"},
		{"alarm action from a topic and a bucket", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions[]": {topic, bucket}}), []analyzed.Resource{topic, bucket}, "unknown"},
		{"alarm action vouched but actions disabled", "alarm-has-action",
			unknownFrom(res(TypeMetricAlarm, map[string]any{"actionsEnabled": false}), map[string][]analyzed.Resource{"alarmActions[]": {topic}}), []analyzed.Resource{topic}, "disabled"},
		{"secret key is this stack's rotating key", "secret-kms-cmk", unknownFrom(secret, map[string][]analyzed.Resource{"kmsKeyId": {rotating}}), []analyzed.Resource{rotating}, ""},
		{"secret key does not rotate", "secret-kms-cmk", unknownFrom(secret, map[string][]analyzed.Resource{"kmsKeyId": {stale}}), []analyzed.Resource{stale}, "unknown"},
		{"unknown without dependencies", "secret-kms-cmk", unknownFrom(secret, map[string][]analyzed.Resource{"kmsKeyId": nil}), nil, "unknown"},
		{"cluster key vouched, secrets not encrypted", "eks-secrets-encryption",
			unknownFrom(res(TypeCluster, map[string]any{"encryptionConfig": map[string]any{"resources": []any{}, "provider": map[string]any{"keyArn": property.New(property.Computed)}}}), nil), nil, "does not encrypt secrets"},
		{"cluster encryption from the rotating key", "eks-secrets-encryption", unknownFrom(cluster, map[string][]analyzed.Resource{"encryptionConfig.provider.keyArn": {rotating}}), []analyzed.Resource{rotating}, ""},
		{"cache token not vouched", "elasticache-auth", unknownFrom(nothing, map[string][]analyzed.Resource{"authToken": {bucket}}), []analyzed.Resource{bucket}, "unknown"},
		{"a whole action list from a topic may be empty", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions": {topic}}), []analyzed.Resource{topic}, "unknown"},
		{"a trust policy from the OIDC provider may hold any statement", "iam-trust-no-wildcard-principal",
			unknownFrom(res(TypeRole, map[string]any{"assumeRolePolicy": "{}"}), map[string][]analyzed.Resource{"assumeRolePolicy": {res("aws:iam/openIdConnectProvider:OpenIdConnectProvider", nil)}}), nil, "unknown"},
	}
	rules := map[string]Rule{}
	for _, r := range All() {
		rules[r.Name] = r
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule, ok := rules[tc.rule]
			require.True(t, ok, tc.rule)
			findings := rule.Run(append([]analyzed.Resource{tc.r}, tc.others...), th)
			switch tc.want {
			case "":
				assert.Empty(t, findings)
			case "unknown":
				require.NotEmpty(t, findings)
				for _, f := range findings {
					assert.True(t, f.Unknown, f.String())
				}
			default:
				require.Len(t, findings, 1)
				assert.False(t, findings[0].Unknown)
				assert.Contains(t, findings[0].Message, tc.want)
			}
		})
	}
}

// A stack rule defers only to what could change its verdict: an alarm on another service's
// metric with unknown dimensions does not excuse an unwatched canary, and a budget of another
// namespace with an unknown selector does not cover a Deployment.
func TestStackRulesDeferOnlyToCandidates(t *testing.T) {
	th, err := ForTier("prod")
	require.NoError(t, err)
	byName := map[string]Rule{}
	for _, r := range All() {
		byName[r.Name] = r
	}
	canary := res(TypeCanary, map[string]any{"name": "home"})
	rdsAlarm := res(TypeMetricAlarm, map[string]any{"namespace": "AWS/RDS", "alarmActions": []any{"arn:topic"},
		"dimensions": map[string]any{"DBInstanceIdentifier": resource.MakeComputed(resource.NewStringProperty(""))}})
	fs := byName["canary-watched"].Run([]analyzed.Resource{canary, rdsAlarm}, th)
	require.Len(t, violations(fs), 1, "%v", fs)

	maybe := res(TypeMetricAlarm, map[string]any{"namespace": "CloudWatchSynthetics", "alarmActions": []any{"arn:topic"},
		"dimensions": map[string]any{"CanaryName": resource.MakeComputed(resource.NewStringProperty(""))}})
	fs = byName["canary-watched"].Run([]analyzed.Resource{canary, maybe}, th)
	require.Len(t, fs, 1)
	assert.True(t, fs[0].Unknown, "a Synthetics alarm whose canary is not known yet may watch it")

	deploy := res(TypeK8sDeployment, map[string]any{"metadata": map[string]any{"namespace": "app"},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "api"}}}}})
	otherNS := res(TypeK8sPDB, map[string]any{"metadata": map[string]any{"namespace": "platform"},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": resource.MakeComputed(resource.NewStringProperty(""))}}})
	fs = byName["k8s-disruption-budget"].Run([]analyzed.Resource{deploy, otherNS}, th)
	require.Len(t, violations(fs), 1, "%v", fs)

	sameNS := res(TypeK8sPDB, map[string]any{"metadata": map[string]any{"namespace": "app"},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": resource.MakeComputed(resource.NewStringProperty(""))}}}})
	fs = byName["k8s-disruption-budget"].Run([]analyzed.Resource{deploy, sameNS}, th)
	require.Len(t, fs, 1)
	assert.True(t, fs[0].Unknown, "a budget of the same namespace whose selector is not known yet may cover it")
}
