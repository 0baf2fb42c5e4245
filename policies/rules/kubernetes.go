package rules

import (
	"slices"

	"github.com/scalemate/infra/policies/analyzed"
)

// Kubernetes identity and RBAC types, and EKS access entries.
const (
	TypeK8sServiceAccount = "kubernetes:core/v1:ServiceAccount"
	TypeClusterRole       = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
	TypeK8sRole           = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	TypeAdmissionPolicy   = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
	TypeAdmissionBinding  = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
	TypeAccessEntry       = "aws:eks/accessEntry:AccessEntry"
	// DryRunOnly is the admission expression that keeps a group's writes to dry runs
	// (components/k8sbaseline's, checked by a test).
	DryRunOnly = "request.dryRun == true"
)

// writeVerbs change objects or grant rights.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection", "bind", "escalate"}

func kubernetesRules() []Rule {
	return []Rule{
		{Name: "k8s-service-account-token-not-mounted", Pack: Security, Level: Mandatory, Anchor: "CIS Kubernetes 5.1.6",
			Summary: "Service accounts do not mount a Kubernetes API token into pods (automountServiceAccountToken false)",
			Types:   []string{TypeK8sServiceAccount},
			Resource: func(c *Check, r analyzed.Resource) {
				// Absent is true: Kubernetes mounts the token by default.
				if f := r.Get("automountServiceAccountToken"); c.Known(r, f, "automountServiceAccountToken") && (f.Absent() || f.Bool()) {
					c.Violate(r, "automountServiceAccountToken is not false")
				}
			}},
		{Name: "k8s-rbac-least-privilege", Pack: Security, Level: Mandatory,
			Anchor: "CIS Kubernetes 5.1.3, 5.1.8, kube-linter wildcard-in-rules",
			Summary: "Roles grant no wildcard verbs and no impersonation; write, bind or escalate on every resource only to a group " +
				"an admission policy keeps to dry runs",
			Types: []string{TypeClusterRole, TypeK8sRole, TypeClusterRoleBinding, TypeAdmissionBinding, TypeAdmissionPolicy},
			Stack: checkRBAC},
		{Name: "eks-access-entry-least-privilege", Pack: Security, Level: Mandatory, Anchor: "CIS Amazon EKS 4.1.1",
			Summary: "EKS access entries are STANDARD and map to no system:masters group (cluster-admin goes through a revocable access policy)",
			Types:   []string{TypeAccessEntry},
			Resource: func(c *Check, r analyzed.Resource) {
				// Absent type is STANDARD.
				if f := r.Get("type"); c.Known(r, f, "type") && f.String() != "" && f.String() != "STANDARD" {
					c.Violate(r, "type is %s: a node's rights for a principal that is not a node", f.String())
				}
				if f := r.Get("kubernetesGroups"); c.Known(r, f, "kubernetesGroups") && slices.Contains(f.Strings(), "system:masters") {
					c.Violate(r, "kubernetesGroups holds system:masters, which RBAC cannot restrict or revoke")
				}
			}},
	}
}

func checkRBAC(c *Check, rs []analyzed.Resource) {
	for _, role := range ofType(rs, TypeClusterRole, TypeK8sRole) {
		rules := role.Get("rules")
		if !c.Known(role, rules, "rules") {
			continue
		}
		for _, rule := range rules.Items() {
			verbs, resources := rule.Get("verbs"), rule.Get("resources")
			if !c.Known(role, verbs, "rules.verbs") || !c.Known(role, resources, "rules.resources") {
				continue
			}
			vs := verbs.Strings()
			if slices.Contains(vs, "*") {
				c.Violate(role, "a rule grants every verb (*)")
			}
			if slices.Contains(vs, "impersonate") {
				c.Violate(role, "a rule grants impersonate")
			}
			writes := slices.ContainsFunc(vs, func(v string) bool { return slices.Contains(writeVerbs, v) })
			everything := slices.Contains(resources.Strings(), "*")
			grantsRights := slices.Contains(vs, "bind") || slices.Contains(vs, "escalate")
			if ((writes && everything) || grantsRights) && !dryRunGuarded(c, rs, role) {
				c.Violate(role, "a rule grants %v on %v to a subject that is not kept to dry runs", vs, resources.Strings())
			}
		}
	}
}

// dryRunGuarded reports a role whose every binding (there is at least one) comes after an
// admission binding that denies what the policy's expression "request.dryRun == true" refuses.
func dryRunGuarded(c *Check, rs []analyzed.Resource, role analyzed.Resource) bool {
	bindings := c.dependentsOf(rs, role, TypeClusterRoleBinding)
	if len(bindings) == 0 {
		return false
	}
	for _, b := range bindings {
		guard, ok := c.dependencyOf(rs, b, TypeAdmissionBinding)
		if !ok || !slices.Contains(guard.Get("spec", "validationActions").Strings(), "Deny") {
			return false
		}
		policy, ok := c.dependencyOf(rs, guard, TypeAdmissionPolicy)
		if !ok {
			return false
		}
		exprs := []string{}
		for _, v := range policy.Get("spec", "validations").Items() {
			exprs = append(exprs, v.Get("expression").String())
		}
		if !slices.Contains(exprs, DryRunOnly) {
			return false
		}
	}
	return true
}
