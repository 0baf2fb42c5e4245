package rules

import (
	"slices"
	"strconv"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Kubernetes identity and RBAC types, and EKS access entries.
const (
	TypeK8sServiceAccount = "kubernetes:core/v1:ServiceAccount"
	TypeClusterRole       = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
	TypeK8sRole           = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	TypeK8sRoleBinding    = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	TypeAdmissionPolicy   = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
	TypeAdmissionBinding  = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
	TypeAccessEntry       = "aws:eks/accessEntry:AccessEntry"
	// DryRunOnly is the admission expression that keeps a group's writes to dry runs
	// (components/k8sbaseline's, checked by a test).
	DryRunOnly = "request.dryRun == true"
	// groupTest ends the admission match condition "<quoted group>" in request.userInfo.groups.
	groupTest = " in request.userInfo.groups"
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
			Types: []string{TypeClusterRole, TypeK8sRole, TypeClusterRoleBinding, TypeK8sRoleBinding, TypeAdmissionBinding, TypeAdmissionPolicy},
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

// dryRunGuarded reports a role whose every binding (there is at least one, found by dependency
// or by name) binds only groups that an admission policy keeps to dry runs: the binding comes
// after an admission binding with the Deny action, whose policy fails closed, matches every
// write to every resource, names each of the binding's groups in a match condition, and
// validates "request.dryRun == true".
func dryRunGuarded(c *Check, rs []analyzed.Resource, role analyzed.Resource) bool {
	bindings := c.dependentsOf(rs, role, TypeClusterRoleBinding, TypeK8sRoleBinding)
	if name := role.Get("metadata", "name"); !name.Unknown() && name.String() != "" {
		for _, b := range ofType(rs, TypeClusterRoleBinding, TypeK8sRoleBinding) {
			named := b.Get("roleRef", "name")
			if !named.Unknown() && named.String() == name.String() && !slices.ContainsFunc(bindings, func(x analyzed.Resource) bool { return x.URN == b.URN }) {
				bindings = append(bindings, b)
			}
		}
	}
	if len(bindings) == 0 {
		return false
	}
	for _, b := range bindings {
		guard, ok := c.dependencyOf(rs, b, TypeAdmissionBinding)
		if !ok || !slices.Contains(guard.Get("spec", "validationActions").Strings(), "Deny") {
			return false
		}
		policy, ok := c.dependencyOf(rs, guard, TypeAdmissionPolicy)
		if !ok || !guardsEveryWrite(policy) {
			return false
		}
		var conditions []string
		for _, m := range policy.Get("spec", "matchConditions").Items() {
			conditions = append(conditions, m.Get("expression").String())
		}
		subjects := b.Get("subjects")
		if subjects.Unknown() || len(subjects.Items()) == 0 {
			return false
		}
		// Every match condition is exactly a group test, and names each bound group: a negated
		// or narrowed condition guards nothing.
		groups := map[string]bool{}
		for _, e := range conditions {
			if !strings.HasSuffix(e, groupTest) {
				return false
			}
			groups[strings.TrimSuffix(e, groupTest)] = true
		}
		for _, sub := range subjects.Items() {
			if sub.Get("kind").String() != "Group" || !groups[strconv.Quote(sub.Get("name").String())] {
				return false
			}
		}
		if !guard.Get("spec", "matchResources").Absent() {
			return false // the binding narrows what the policy matches
		}
	}
	return true
}

// guardsEveryWrite: the policy fails closed (absent is Fail), validates DryRunOnly, and matches
// every create, update, delete and connect of every resource, in every namespace and object.
func guardsEveryWrite(policy analyzed.Resource) bool {
	spec := policy.Get("spec")
	if fp := spec.Get("failurePolicy"); !fp.Absent() && fp.String() != "Fail" {
		return false
	}
	var exprs []string
	for _, v := range spec.Get("validations").Items() {
		exprs = append(exprs, v.Get("expression").String())
	}
	if !slices.Contains(exprs, DryRunOnly) {
		return false
	}
	match := spec.Get("matchConstraints")
	for _, narrowing := range []string{"namespaceSelector", "objectSelector", "excludeResourceRules"} {
		if f := match.Get(narrowing); f.Unknown() || len(f.Keys()) > 0 || len(f.Items()) > 0 {
			return false
		}
	}
	for _, rule := range match.Get("resourceRules").Items() {
		ops := rule.Get("operations").Strings()
		// CONNECT too: RBAC's create on pods/exec, attach and portforward arrives as CONNECT.
		writes := slices.Contains(ops, "*") || slices.Contains(ops, "CREATE") && slices.Contains(ops, "UPDATE") &&
			slices.Contains(ops, "DELETE") && slices.Contains(ops, "CONNECT")
		resources := rule.Get("resources").Strings()
		if writes && slices.Contains(rule.Get("apiGroups").Strings(), "*") && (slices.Contains(resources, "*/*") || slices.Contains(resources, "*")) {
			return true
		}
	}
	return false
}
