package rules

import (
	"regexp"
	"slices"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Types of the application layer.
const (
	TypeK8sJob            = "kubernetes:batch/v1:Job"
	TypeK8sService        = "kubernetes:core/v1:Service"
	TypeK8sPDB            = "kubernetes:policy/v1:PodDisruptionBudget"
	TypeLoadBalancer      = "aws:lb/loadBalancer:LoadBalancer"
	TypeListener          = "aws:lb/listener:Listener"
	TypeWebACLAssociation = "aws:wafv2/webAclAssociation:WebAclAssociation"
)

// workloadTypes run pods.
var workloadTypes = []string{TypeK8sDeployment, TypeK8sStatefulSet, TypeK8sDaemonSet, TypeK8sJob, TypeK8sPod}

// mutableTags are tags that move to other images.
var mutableTags = []string{"latest", "main", "master", "stable", "edge", "nightly", "dev", "staging", "prod"}

var digestRE = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// modernTLSPolicies are the ALB security policies that allow TLS 1.2 and newer only, with
// forward-secret ciphers (AWS's recommended ELBSecurityPolicy-TLS13-1-2-* family and the
// FIPS and post-quantum variants of it).
var modernTLSPolicyRE = regexp.MustCompile(`^ELBSecurityPolicy-(TLS13-1-[23]-|FS-1-2-Res-)`)

// workloadRules judge Kubernetes workloads (kube-linter's default checks, Checkov's Kubernetes
// checks) and the application's load balancer (FSBP ELB controls).
func workloadRules() []Rule {
	return []Rule{
		{Name: "k8s-no-secret-in-env", Pack: Security, Level: Mandatory, Anchor: "kube-linter env-var-secret, CKV_K8S_35",
			Summary: "Containers take secrets from mounted Secrets, never as literal environment values", Types: workloadTypes,
			Resource: forContainers(func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field) {
				for _, env := range ctr.Get("env").Items() {
					key := env.Get("name").String()
					// A literal value (even one not known yet) under a secret's name.
					if v := env.Get("value"); secretEnvRE.MatchString(key) && !secretReferenceRE.MatchString(key) && !v.Absent() && (v.Unknown() || v.String() != "") {
						c.Violate(r, "container %s sets %s as a literal value", name, key)
					}
				}
			})},
		{Name: "k8s-no-ssh-port", Pack: Security, Level: Mandatory, Anchor: "kube-linter ssh-port",
			Summary: "Containers expose no SSH port (22)", Types: workloadTypes,
			Resource: forContainers(func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field) {
				for _, p := range ctr.Get("ports").Items() {
					if f := p.Get("containerPort"); c.Known(r, f, "container "+name+" ports") && f.Int() == 22 {
						c.Violate(r, "container %s exposes port 22", name)
					}
				}
			})},
		{Name: "k8s-image-immutable", Pack: Security, Level: Mandatory, Anchor: "kube-linter latest-tag, CKV_K8S_14, CKV_K8S_43",
			Summary: "Containers run an image by digest or by a tag that does not move (no latest, no branch names)", Types: workloadTypes,
			Resource: forContainers(func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field) {
				img := ctr.Get("image")
				if !c.Known(r, img, "container "+name+" image") {
					return
				}
				ref := img.String()
				if digestRE.MatchString(ref) {
					return
				}
				tag := ""
				if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
					tag = ref[i+1:]
				}
				if tag == "" || slices.Contains(mutableTags, strings.ToLower(tag)) {
					c.Violate(r, "container %s runs %q: give an immutable tag or a digest", name, ref)
				}
			})},
		{Name: "k8s-resources-set", Pack: Security, Level: Mandatory, Anchor: "kube-linter unset-cpu-requirements, unset-memory-requirements, CKV_K8S_10/11/12/13",
			Summary: "Containers set CPU and memory requests and limits", Types: workloadTypes,
			Resource: forContainers(func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field) {
				res := ctr.Get("resources")
				if !c.Known(r, res, "container "+name+" resources") {
					return
				}
				for _, kind := range []string{"requests", "limits"} {
					for _, q := range []string{"cpu", "memory"} {
						if res.Get(kind, q).Absent() {
							c.Violate(r, "container %s sets no %s.%s", name, kind, q)
						}
					}
				}
			})},
		{Name: "k8s-read-only-root-filesystem", Pack: Security, Level: Mandatory, Anchor: "kube-linter no-read-only-root-fs, CKV_K8S_22",
			Summary: "Containers run with a read-only root filesystem", Types: workloadTypes,
			Resource: forContainers(func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field) {
				ro := ctr.Get("securityContext", "readOnlyRootFilesystem")
				if c.Known(r, ro, "container "+name+" securityContext.readOnlyRootFilesystem") && !ro.Bool() {
					c.Violate(r, "container %s has a writable root filesystem", name)
				}
			})},
		{Name: "k8s-probes", Pack: Security, Level: Mandatory, Anchor: "kube-linter no-readiness-probe, no-liveness-probe, CKV_K8S_8, CKV_K8S_9",
			Summary: "Long-running containers have readiness and liveness probes", Types: []string{TypeK8sDeployment, TypeK8sStatefulSet, TypeK8sDaemonSet},
			Resource: forContainers(func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field) {
				for _, probe := range []string{"readinessProbe", "livenessProbe"} {
					if p := ctr.Get(probe); c.Known(r, p, "container "+name+" "+probe) && p.Absent() {
						c.Violate(r, "container %s has no %s", name, probe)
					}
				}
			})},
		{Name: "k8s-not-default-namespace", Pack: Security, Level: Mandatory, Anchor: "CKV_K8S_21, kube-linter use-namespace",
			Summary: "Workloads and Services are not in the default namespace", Types: append(slices.Clone(workloadTypes), TypeK8sService),
			Resource: func(c *Check, r analyzed.Resource) {
				ns := r.Get("metadata", "namespace")
				if c.Known(r, ns, "metadata.namespace") && (ns.Absent() || ns.String() == "default") {
					c.Violate(r, "the object is in the default namespace")
				}
			}},
		{Name: "k8s-service-not-exposed", Pack: Security, Level: Mandatory, Anchor: "kube-linter exposed-services, NSA/CISA Kubernetes Hardening Guide (network separation)",
			Summary: "Services are ClusterIP: traffic from outside comes through the managed load balancer, never a NodePort or a controller-made LoadBalancer", Types: []string{TypeK8sService},
			Resource: func(c *Check, r analyzed.Resource) {
				typ := r.Get("spec", "type")
				if c.Known(r, typ, "spec.type") && (typ.String() == "NodePort" || typ.String() == "LoadBalancer") {
					c.Violate(r, "the Service is of type %s", typ.String())
				}
			}},
		{Name: "k8s-disruption-budget", Pack: Security, Level: Mandatory, Anchor: "kube-linter (PodDisruptionBudget checks), Well-Architected REL10 (withstand component failures)",
			Summary: "Deployments are covered by a PodDisruptionBudget where the tier requires Multi-AZ",
			Types:   []string{TypeK8sDeployment, TypeK8sPDB}, Stack: checkDisruptionBudgets},

		{Name: "alb-https-only", Pack: Security, Level: Mandatory, Anchor: "FSBP ELB.1, FSBP ELB.17, CKV_AWS_2, CKV_AWS_103",
			Summary: "Load balancer listeners are HTTPS with a TLS 1.2+ policy, or redirect HTTP to HTTPS", Types: []string{TypeListener},
			Resource: checkListener},
		boolRule("alb-drop-invalid-headers", "FSBP ELB.4, CKV_AWS_131", "Application load balancers drop invalid header fields",
			TypeLoadBalancer, "dropInvalidHeaderFields", "dropInvalidHeaderFields is not true", nil),
		{Name: "alb-access-logs", Pack: Security, Level: Mandatory, Anchor: "FSBP ELB.5, CKV_AWS_91",
			Summary: "Load balancers write access logs", Types: []string{TypeLoadBalancer},
			Resource: func(c *Check, r analyzed.Resource) {
				logs := r.Get("accessLogs")
				if logs.Computed() {
					c.Known(r, logs, "accessLogs")
					return
				}
				enabled, bucket := logs.Get("enabled"), logs.Get("bucket")
				if !c.Known(r, enabled, "accessLogs.enabled") {
					return
				}
				if !enabled.Bool() {
					c.Violate(r, "access logs are not enabled")
					return
				}
				if c.Known(r, bucket, "accessLogs.bucket") && bucket.String() == "" {
					c.Violate(r, "access logs name no bucket")
				}
			}},
		{Name: "alb-desync-mitigation", Pack: Security, Level: Mandatory, Anchor: "FSBP ELB.12",
			Summary: "Application load balancers use defensive or strictest desync mitigation", Types: []string{TypeLoadBalancer},
			Resource: func(c *Check, r analyzed.Resource) {
				// The provider's default is defensive.
				m := r.Get("desyncMitigationMode")
				if c.Known(r, m, "desyncMitigationMode") && !m.Absent() && m.String() != "defensive" && m.String() != "strictest" {
					c.Violate(r, "desyncMitigationMode is %q", m.String())
				}
			}},
		boolRule("alb-deletion-protection", "FSBP ELB.6, CKV_AWS_150", "Load balancers have deletion protection where the tier requires it",
			TypeLoadBalancer, "enableDeletionProtection", "enableDeletionProtection is not true",
			func(t Thresholds, _ analyzed.Resource) bool { return t.RequireDeletionProtection }),
		{Name: "alb-waf", Pack: Security, Level: Mandatory, Anchor: "FSBP ELB.16, CKV2_AWS_28",
			Summary: "Internet-facing load balancers are associated with a WAF web ACL", Types: []string{TypeLoadBalancer, TypeWebACLAssociation}, Stack: func(c *Check, rs []analyzed.Resource) {
				for _, lb := range ofType(rs, TypeLoadBalancer) {
					if !lb.Get("internal").Bool() && len(c.dependentsOf(rs, lb, TypeWebACLAssociation)) == 0 {
						c.Violate(lb, "no web ACL is associated with the load balancer")
					}
				}
			}},
	}
}

// forContainers runs check on every container and init container of a workload's pod.
func forContainers(check func(c *Check, r analyzed.Resource, name string, ctr analyzed.Field)) func(*Check, analyzed.Resource) {
	return func(c *Check, r analyzed.Resource) {
		spec := podSpec(r)
		if !c.Known(r, spec, "the pod spec") {
			return
		}
		containers := spec.Get("containers")
		if !c.Known(r, containers, "containers") {
			return
		}
		for _, ctr := range append(containers.Items(), spec.Get("initContainers").Items()...) {
			check(c, r, ctr.Get("name").String(), ctr)
		}
	}
}

// secretEnvRE names environment variables that hold a secret; secretReferenceRE those that
// say where one is or what it is called (SECRETS_DIR, DB_PASSWORD_FILE, DB_SECRET_ARN).
var (
	secretEnvRE       = regexp.MustCompile(`(?i)(secret|passw(or)?d|token|api_?key|private_?key|credential)`)
	secretReferenceRE = regexp.MustCompile(`(?i)_(dir|file|path|arn|name|url)$`)
)

// podSpec is a workload's pod spec (a Pod's own spec).
func podSpec(r analyzed.Resource) analyzed.Field {
	if r.Type == TypeK8sPod {
		return r.Get("spec")
	}
	return r.Get("spec", "template", "spec")
}

// checkDisruptionBudgets finds, for every Deployment, a PodDisruptionBudget in its namespace
// whose selector's labels the Deployment's pods carry.
func checkDisruptionBudgets(c *Check, rs []analyzed.Resource) {
	if !c.T.RequireMultiAZ {
		return
	}
	pdbs := ofType(rs, TypeK8sPDB)
	// A stack policy sees outputs; during a preview a Kubernetes object whose provider is not
	// configured yet (its cluster is new) has none at all.
	blind := slices.ContainsFunc(pdbs, func(p analyzed.Resource) bool { return p.Props.Len() == 0 })
	for _, d := range ofType(rs, TypeK8sDeployment) {
		if blind || d.Props.Len() == 0 {
			c.CannotCheck(d, "the Deployment's and the disruption budgets' specs")
			continue
		}
		labels := d.Get("spec", "template", "metadata", "labels")
		if !c.Known(d, labels, "the pod template's labels") {
			continue
		}
		covered, unknown := false, false
		for _, p := range pdbs {
			sel, ns := p.Get("spec", "selector", "matchLabels"), p.Get("metadata", "namespace")
			if !ns.Unknown() && ns.String() != d.Get("metadata", "namespace").String() {
				continue // another namespace's budget
			}
			if sel.Computed() {
				unknown = true
				continue
			}
			// Label by label: a known mismatch rules the budget out; an unknown value may match.
			match, maybe := len(sel.Keys()) > 0, false
			for _, k := range sel.Keys() {
				if v := sel.Get(k); v.Unknown() {
					maybe = true
				} else {
					match = match && labels.Get(k).String() == v.String()
				}
			}
			switch {
			case match && !maybe && !ns.Unknown():
				covered = true
			case match:
				unknown = true // it matches as far as known
			}
		}
		switch {
		case covered:
		case unknown:
			c.CannotCheck(d, "a disruption budget's selector or namespace")
		default:
			c.Violate(d, "no PodDisruptionBudget selects the Deployment's pods; %s requires one", c.T.Tier)
		}
	}
}

// checkListener accepts HTTPS with a modern policy, and HTTP whose default action redirects to
// HTTPS.
func checkListener(c *Check, r analyzed.Resource) {
	proto := r.Get("protocol")
	if !c.Known(r, proto, "protocol") {
		return
	}
	switch proto.String() {
	case "HTTPS", "TLS":
		policy := r.Get("sslPolicy")
		if c.Known(r, policy, "sslPolicy") && !modernTLSPolicyRE.MatchString(policy.String()) {
			c.Violate(r, "sslPolicy %q allows TLS below 1.2 or non-forward-secret ciphers; use ELBSecurityPolicy-TLS13-1-2-2021-06 or newer", policy.String())
		}
	case "HTTP":
		actions := r.Get("defaultActions")
		if !c.Known(r, actions, "defaultActions") {
			return
		}
		items := actions.Items()
		if len(items) == 0 || items[0].Get("type").String() != "redirect" || items[0].Get("redirect", "protocol").String() != "HTTPS" {
			c.Violate(r, "an HTTP listener that does not redirect to HTTPS")
		}
	}
}
