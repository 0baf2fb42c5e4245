package k8sbaseline

import (
	"fmt"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The policies are enforced by the VPC CNI's network policy agent (enabled by the cluster
// component). It always admits the node's own address, so kubelet probes need no rule. Every
// namespace starts from default deny; each allow policy below names the one flow it opens.

// appPolicies isolates the app namespace: DNS and HTTPS out (AWS APIs through NAT or VPC
// endpoints) for every pod; the workloads add their own flows (the load balancer in, the data
// stores and their peers), service by service.
func appPolicies(ctx *pulumi.Context, logical string, namespace *ns, opts ...pulumi.ResourceOption) error {
	return createPolicies(ctx, logical, namespace, []policy{defaultDeny(), allowDNS(), allowHTTPSOut()}, opts...)
}

// platformPolicies isolates the add-ons: DNS, HTTPS out (Kubernetes and AWS APIs), the control
// plane in to each add-on's webhook or aggregated API port, and metrics-server out to kubelets.
func platformPolicies(ctx *pulumi.Context, logical string, namespace *ns, args Args, opts ...pulumi.ResourceOption) error {
	policies := []policy{defaultDeny(), allowDNS(), allowHTTPSOut()}
	for _, name := range AddonNames() {
		a := addons[name]
		if len(a.controlPlanePorts) == 0 {
			continue
		}
		// The API server calls webhooks and aggregated APIs from its network interfaces in the
		// cluster's subnets, so the VPC block is the narrowest stable source.
		policies = append(policies, policy{
			name: "allow-control-plane-to-" + name,
			spec: networkingv1.NetworkPolicySpecArgs{
				PodSelector: podsOf(name),
				PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
				Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
					From: networkingv1.NetworkPolicyPeerArray{ipBlock(args.VPCCIDR)}, Ports: tcp(a.controlPlanePorts...),
				}},
			},
		})
	}
	policies = append(policies, policy{
		name: "allow-metrics-server-to-kubelets",
		spec: networkingv1.NetworkPolicySpecArgs{
			PodSelector: podsOf(MetricsServer),
			PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
			Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{ipBlock(args.VPCCIDR)}, Ports: tcp(KubeletPort),
			}},
		},
	})
	return createPolicies(ctx, logical, namespace, policies, opts...)
}

// KubeletPort is where metrics-server scrapes each node's kubelet.
const KubeletPort = 10250

type policy struct {
	name string
	spec networkingv1.NetworkPolicySpecArgs
}

func createPolicies(ctx *pulumi.Context, logical string, namespace *ns, policies []policy, opts ...pulumi.ResourceOption) error {
	for _, p := range policies {
		spec := p.spec
		np, err := networkingv1.NewNetworkPolicy(ctx, logical+"-"+p.name, &networkingv1.NetworkPolicyArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.name), Namespace: namespace.name},
			Spec:     &spec,
		}, opts...)
		if err != nil {
			return fmt.Errorf("creating network policy %s: %w", p.name, err)
		}
		namespace.ready = append(namespace.ready, np)
	}
	return nil
}

// defaultDeny selects every pod for both directions with no allow rule.
func defaultDeny() policy {
	return policy{name: "default-deny", spec: networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
	}}
}

// allowDNS lets every pod query CoreDNS (both selectors in one peer: kube-dns pods in kube-system).
func allowDNS() policy {
	return policy{name: "allow-dns", spec: networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
		Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
				NamespaceSelector: metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")}},
				PodSelector:       metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"k8s-app": pulumi.String("kube-dns")}},
			}},
			Ports: networkingv1.NetworkPolicyPortArray{
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
				networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
			},
		}},
	}}
}

// allowHTTPSOut lets every pod reach port 443 anywhere: the Kubernetes API and AWS APIs, whose
// addresses are not stable enough to list.
func allowHTTPSOut() policy {
	return policy{name: "allow-https-egress", spec: networkingv1.NetworkPolicySpecArgs{
		PodSelector: metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.ToStringArray([]string{"Egress"}),
		Egress:      networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{Ports: tcp(443)}},
	}}
}

func ipBlock(cidr string) networkingv1.NetworkPolicyPeerArgs {
	return networkingv1.NetworkPolicyPeerArgs{IpBlock: networkingv1.IPBlockArgs{Cidr: pulumi.String(cidr)}}
}

func tcp(ports ...int) networkingv1.NetworkPolicyPortArray {
	var out networkingv1.NetworkPolicyPortArray
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)})
	}
	return out
}

// podsOf selects an add-on's pods by the app.kubernetes.io/name label its chart sets.
func podsOf(addon string) metav1.LabelSelectorArgs {
	return metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String(addons[addon].podName)}}
}
