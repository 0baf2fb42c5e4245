package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/scalemate/infra/policies/analyzed"
)

// goodWorkload is a Deployment that every workload rule accepts.
func goodWorkload(mutate func(ctr, spec, meta map[string]any)) map[string]any {
	ctr := map[string]any{
		"name": "api", "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/s/api:v1.2.3",
		"securityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []any{"ALL"}}},
		"resources":       map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "256Mi"}, "limits": map[string]any{"cpu": "1", "memory": "512Mi"}},
		"readinessProbe":  map[string]any{"httpGet": map[string]any{"path": "/ready"}}, "livenessProbe": map[string]any{"httpGet": map[string]any{"path": "/live"}},
	}
	spec := map[string]any{"securityContext": map[string]any{"runAsNonRoot": true}, "containers": []any{ctr}}
	meta := map[string]any{"name": "api-blue", "namespace": "scalemate"}
	if mutate != nil {
		mutate(ctr, spec, meta)
	}
	return map[string]any{"metadata": meta, "spec": map[string]any{"template": map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "api", "scalemate.io/colour": "blue"}}, "spec": spec}}}
}

func withPDB(selector map[string]any) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		return []analyzed.Resource{res(TypeK8sDeployment, goodWorkload(nil)),
			res(TypeK8sPDB, map[string]any{"metadata": map[string]any{"namespace": "scalemate"}, "spec": map[string]any{"selector": map[string]any{"matchLabels": selector}}})}
	}
}

var goodALB = map[string]any{
	"internal": false, "loadBalancerType": "application", "dropInvalidHeaderFields": true, "desyncMitigationMode": "strictest",
	"enableDeletionProtection": true, "accessLogs": map[string]any{"bucket": "logs", "enabled": true},
}

func albWith(associated bool) func() []analyzed.Resource {
	return func() []analyzed.Resource {
		lb := res(TypeLoadBalancer, goodALB)
		out := []analyzed.Resource{lb}
		if associated {
			out = append(out, res(TypeWebACLAssociation, map[string]any{"webAclArn": "arn:acl"}, lb))
		}
		return out
	}
}

func init() {
	for name, c := range map[string]ruleCase{
		"k8s-image-immutable": {"dev", one(TypeK8sDeployment, goodWorkload(nil)),
			one(TypeK8sJob, goodWorkload(func(ctr, _, _ map[string]any) { ctr["image"] = "registry:5000/api:latest" }))},
		"k8s-resources-set": {"dev", one(TypeK8sJob, goodWorkload(nil)),
			one(TypeK8sDeployment, goodWorkload(func(ctr, _, _ map[string]any) { delete(ctr["resources"].(map[string]any), "limits") }))},
		"k8s-read-only-root-filesystem": {"dev", one(TypeK8sDeployment, goodWorkload(nil)),
			one(TypeK8sDeployment, goodWorkload(func(ctr, _, _ map[string]any) {
				ctr["securityContext"].(map[string]any)["readOnlyRootFilesystem"] = false
			}))},
		"k8s-probes": {"dev", one(TypeK8sDeployment, goodWorkload(nil)),
			one(TypeK8sDeployment, goodWorkload(func(ctr, _, _ map[string]any) { delete(ctr, "readinessProbe") }))},
		"k8s-not-default-namespace": {"dev", one(TypeK8sService, map[string]any{"metadata": map[string]any{"namespace": "scalemate"}}),
			one(TypeK8sDeployment, goodWorkload(func(_, _, meta map[string]any) { meta["namespace"] = "default" }))},
		"k8s-service-not-exposed": {"dev", one(TypeK8sService, map[string]any{"spec": map[string]any{"type": "ClusterIP"}}),
			one(TypeK8sService, map[string]any{"spec": map[string]any{"type": "NodePort"}})},
		"k8s-disruption-budget": {"prod", withPDB(map[string]any{"app.kubernetes.io/name": "api", "scalemate.io/colour": "blue"}),
			withPDB(map[string]any{"app.kubernetes.io/name": "api", "scalemate.io/colour": "green"})},
		"alb-https-only": {"dev", func() []analyzed.Resource {
			return []analyzed.Resource{
				res(TypeListener, map[string]any{"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}),
				res(TypeListener, map[string]any{"protocol": "HTTP", "defaultActions": []any{map[string]any{"type": "redirect", "redirect": map[string]any{"protocol": "HTTPS"}}}}),
			}
		}, func() []analyzed.Resource {
			return []analyzed.Resource{
				res(TypeListener, map[string]any{"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"}),
				res(TypeListener, map[string]any{"protocol": "HTTP", "defaultActions": []any{map[string]any{"type": "forward"}}}),
			}
		}},
		"alb-drop-invalid-headers": {"dev", one(TypeLoadBalancer, goodALB), one(TypeLoadBalancer, with(goodALB, "dropInvalidHeaderFields", false))},
		"alb-access-logs":          {"dev", one(TypeLoadBalancer, goodALB), one(TypeLoadBalancer, with(goodALB, "accessLogs", map[string]any{"bucket": "logs", "enabled": false}))},
		"alb-desync-mitigation":    {"dev", one(TypeLoadBalancer, goodALB), one(TypeLoadBalancer, with(goodALB, "desyncMitigationMode", "monitor"))},
		"alb-deletion-protection":  {"staging", one(TypeLoadBalancer, goodALB), one(TypeLoadBalancer, with(goodALB, "enableDeletionProtection", false))},
		"alb-waf":                  {"dev", albWith(true), albWith(false)},
	} {
		cases[name] = c
	}
}

// A digest pins an image whatever its tag; a registry port is not a tag.
func TestImageReferences(t *testing.T) {
	th, _ := ForTier("dev")
	rule := ruleNamed(t, "k8s-image-immutable")
	for image, ok := range map[string]bool{
		"repo/api:v1.2.3": true, "repo/api@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": true,
		"repo/api:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": true,
		"registry:5000/api": false, "api": false, "api:main": false, "api:LATEST": false,
	} {
		r := res(TypeK8sDeployment, goodWorkload(func(ctr, _, _ map[string]any) { ctr["image"] = image }))
		assert.Equal(t, ok, len(violations(rule.Run([]analyzed.Resource{r}, th))) == 0, image)
	}
	// A preview of a new cluster's objects has no outputs: not a violation, not a pass.
	prod, _ := ForTier("prod")
	blind := []analyzed.Resource{res(TypeK8sDeployment, nil), res(TypeK8sPDB, nil)}
	findings := ruleNamed(t, "k8s-disruption-budget").Run(blind, prod)
	assert.Empty(t, violations(findings))
	assert.Len(t, findings, 1)
	// Dev need not keep disruption budgets.
	assert.Empty(t, violations(ruleNamed(t, "k8s-disruption-budget").Run(withPDB(map[string]any{"x": "y"})(), th)))
}

func ruleNamed(t *testing.T, name string) Rule {
	t.Helper()
	for _, r := range All() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %s", name)
	return Rule{}
}
