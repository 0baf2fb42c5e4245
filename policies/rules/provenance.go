package rules

import (
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
	TypeMetricAlarm:    {"alarmActions": isType(TypeSNSTopic), "okActions": isType(TypeSNSTopic)},
	TypeCompositeAlarm: {"alarmActions": isType(TypeSNSTopic), "okActions": isType(TypeSNSTopic)},
	TypeSecret:         {"kmsKeyId": rotatingKey},
	TypeSNSTopic:       {"kmsMasterKeyId": rotatingKey},
	TypeBackupVault:    {"kmsKeyArn": rotatingKey},
	TypeECRRepository:  {"encryptionConfigurations": rotatingKey},
	TypeCluster:        {"encryptionConfig": rotatingKey},
	TypeLogGroup:       {"kmsKeyId": rotatingKey},
	TypeDistribution:   {"webAclId": isType(TypeWebACL)},
	// The AUTH token is a generated password (the pack never sees the secret itself).
	TypeCache: {"authToken": isType("random:index/randomPassword:RandomPassword")},
	// A web identity trust: the principal is this stack's OIDC provider (IRSA); the cluster
	// supplies the issuer in the condition.
	TypeRole: {"assumeRolePolicy": isType("aws:iam/openIdConnectProvider:OpenIdConnectProvider", TypeCluster)},
	// Access logs to this stack's bucket.
	"aws:lb/loadBalancer:LoadBalancer": {"accessLogs": isType(TypeBucket)},
}

func isType(types ...string) func(analyzed.Resource) bool {
	return func(r analyzed.Resource) bool {
		for _, t := range types {
			if r.Type == t {
				return true
			}
		}
		return false
	}
}

// rotatingKey is a customer-managed KMS key of the stack whose rotation is known to be on.
func rotatingKey(r analyzed.Resource) bool {
	return r.Type == TypeKMSKey && r.Get("enableKeyRotation").Bool()
}

// vouched reports whether r's unknown input field (a path; its first element is the input) is
// computed only from resources of the stack that vouch for it.
func (c *Check) vouched(r analyzed.Resource, field string) bool {
	accept := provenance[r.Type][strings.SplitN(field, ".", 2)[0]]
	deps := r.PropertyDependencies[strings.SplitN(field, ".", 2)[0]]
	if accept == nil || len(deps) == 0 || c.stack == nil {
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
