package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/analyzed"
)

// unknownFrom makes r's inputs unknown, as a preview has them, computed from deps.
func unknownFrom(r analyzed.Resource, deps map[string][]analyzed.Resource) analyzed.Resource {
	m := map[string]property.Value{}
	for k, v := range r.Props.AllStable {
		m[k] = v
	}
	r.PropertyDependencies = map[string][]string{}
	for field, ds := range deps {
		m[field] = property.New(property.Computed)
		for _, d := range ds {
			r.PropertyDependencies[field] = append(r.PropertyDependencies[field], d.URN)
		}
	}
	r.Props = property.NewMap(m)
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
		{"alarm action is this stack's topic", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions": {topic}}), []analyzed.Resource{topic}, ""},
		{"alarm action from a bucket", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions": {bucket}}), []analyzed.Resource{bucket}, "unknown"},
		{"alarm action from outside the stack", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions": {topic}}), nil, "unknown"},
		{"alarm action from a topic and a bucket", "alarm-has-action", unknownFrom(alarm, map[string][]analyzed.Resource{"alarmActions": {topic, bucket}}), []analyzed.Resource{topic, bucket}, "unknown"},
		{"alarm action vouched but actions disabled", "alarm-has-action",
			unknownFrom(res(TypeMetricAlarm, map[string]any{"actionsEnabled": false}), map[string][]analyzed.Resource{"alarmActions": {topic}}), []analyzed.Resource{topic}, "disabled"},
		{"secret key is this stack's rotating key", "secret-kms-cmk", unknownFrom(secret, map[string][]analyzed.Resource{"kmsKeyId": {rotating}}), []analyzed.Resource{rotating}, ""},
		{"secret key does not rotate", "secret-kms-cmk", unknownFrom(secret, map[string][]analyzed.Resource{"kmsKeyId": {stale}}), []analyzed.Resource{stale}, "unknown"},
		{"unknown without dependencies", "secret-kms-cmk", unknownFrom(secret, map[string][]analyzed.Resource{"kmsKeyId": nil}), nil, "unknown"},
		{"cluster key vouched, secrets not encrypted", "eks-secrets-encryption",
			unknownFrom(res(TypeCluster, map[string]any{"encryptionConfig": map[string]any{"resources": []any{}, "provider": map[string]any{"keyArn": property.New(property.Computed)}}}), nil), nil, "does not encrypt secrets"},
		{"cluster encryption from the rotating key", "eks-secrets-encryption", unknownFrom(cluster, map[string][]analyzed.Resource{"encryptionConfig": {rotating}}), []analyzed.Resource{rotating}, ""},
		{"cache token not vouched", "elasticache-auth", unknownFrom(nothing, map[string][]analyzed.Resource{"authToken": {bucket}}), []analyzed.Resource{bucket}, "unknown"},
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
