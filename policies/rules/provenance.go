package rules

import (
	"slices"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// A value unknown during a preview is judged by where it comes from when the analyzer says
// (property dependencies): an alarm action that is this stack's SNS topic's ARN, a kmsKeyId that
// is this stack's rotating key, a trust policy built from this stack's OIDC provider. provenance
// lists, per resource type and top-level input, which resources of the stack vouch for it: when
// every resource the input is computed from is in the stack and vouches, the input holds what
// the rules reading it require. Anything else stays "cannot check until update".
var provenance = map[string]map[string]func(analyzed.Resource) bool{
	// Each element of the action lists (the rule counts the elements itself).
	TypeMetricAlarm:    {"alarmActions[]": isType(TypeSNSTopic), "okActions[]": isType(TypeSNSTopic)},
	TypeCompositeAlarm: {"alarmActions[]": isType(TypeSNSTopic), "okActions[]": isType(TypeSNSTopic)},
	TypeSecret:         {"kmsKeyId": rotatingKey},
	TypeSNSTopic:       {"kmsMasterKeyId": rotatingKey},
	TypeBackupVault:    {"kmsKeyArn": rotatingKey},
	TypeLogGroup:       {"kmsKeyId": rotatingKey},
	TypeCluster:        {"encryptionConfig.provider.keyArn": rotatingKey},
	TypeDistribution:   {"webAclId": isType(TypeWebACL)},
	// The AUTH token is a generated password (the pack never sees the secret itself).
	TypeCache:      {"authToken": isType("random:index/randomPassword:RandomPassword"), "kmsKeyId": rotatingKey},
	TypeDBInstance: {"performanceInsightsKmsKeyId": rotatingKey},
	// Access logs go to this stack's bucket (enabled is read and judged on its own).
	TypeLoadBalancer: {"accessLogs.bucket": isType(TypeBucket)},
}

// Not vouched for: a trust policy or any document built from other resources' outputs is one
// unknown string that could hold any statement (a wildcard principal beside the OIDC one); an
// object such as accessLogs has known parts (enabled) the rules still read; a whole list
// computed from a topic may be empty.

func isType(types ...string) func(analyzed.Resource) bool {
	return func(r analyzed.Resource) bool { return slices.Contains(types, r.Type) }
}

// rotatingKey is a customer-managed KMS key of the stack whose rotation is known to be on.
func rotatingKey(r analyzed.Resource) bool {
	return r.Type == TypeKMSKey && r.Get("enableKeyRotation").Bool()
}

// vouched reports whether f, the value at field of r (a path as the table names it), is one
// unknown value computed only from resources of the stack that vouch for it. Dependencies are
// per top-level input: every resource the input depends on must vouch, and only scalar leaves
// (the table's paths) are vouched for, never an object or a list that may hold anything.
func (c *Check) vouched(r analyzed.Resource, f analyzed.Field, field string) bool {
	accept := provenance[r.Type][field]
	if accept == nil || !f.Computed() || c.stack == nil {
		return false
	}
	top := strings.SplitN(strings.SplitN(field, ".", 2)[0], "[", 2)[0]
	deps := r.PropertyDependencies[top]
	if len(deps) == 0 {
		return false
	}
	for _, urn := range deps {
		dep, ok := c.stack[urn]
		if !ok || !accept(dep) {
			return false
		}
	}
	return true
}

// index maps URNs to resources, for provenance.
func index(rs []analyzed.Resource) map[string]analyzed.Resource {
	out := make(map[string]analyzed.Resource, len(rs))
	for _, r := range rs {
		out[r.URN] = r
	}
	return out
}
