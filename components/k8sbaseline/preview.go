package k8sbaseline

import (
	"fmt"
	"slices"

	admissionv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/admissionregistration/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// previewRules are what `pulumi preview` needs: reads everywhere, and the write verbs a
// server-side apply with dryRun=All is authorized by (Kubernetes authorizes a dry run exactly as
// the write), on the kinds the program deploys only. Left out on purpose:
//   - admissionregistration.k8s.io: admission policies and their bindings are exempt from
//     admission policies, so a write there could switch off the dry-run rule below; previews of
//     those objects fall back to the provider's client-side diff;
//   - core subresources (serviceaccounts/token, pods/exec, ...): only the listed core kinds.
//
// bind and escalate let a dry run of the program's own roles and bindings pass RBAC's check.
func previewRules() rbacv1.PolicyRuleArray {
	write := pulumi.ToStringArray([]string{"create", "update", "patch"})
	return rbacv1.PolicyRuleArray{
		rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("*")}, Resources: pulumi.StringArray{pulumi.String("*")},
			Verbs: pulumi.ToStringArray([]string{"get", "list", "watch"}),
		},
		rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("")},
			Resources: pulumi.ToStringArray([]string{"namespaces", "resourcequotas", "limitranges", "serviceaccounts", "configmaps", "services", "secrets"}),
			Verbs:     write,
		},
		rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{"apps", "batch", "autoscaling", "policy", "networking.k8s.io", "scheduling.k8s.io",
				"storage.k8s.io", "elbv2.k8s.aws", "external-secrets.io"}),
			Resources: pulumi.StringArray{pulumi.String("*")},
			Verbs:     write,
		},
		rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("rbac.authorization.k8s.io")}, Resources: pulumi.StringArray{pulumi.String("*")},
			Verbs: pulumi.ToStringArray([]string{"create", "update", "patch", "bind", "escalate"}),
		},
	}
}

// DryRunOnlyExpression is the admission rule for the preview group: a write must be a dry run.
const DryRunOnlyExpression = "request.dryRun == true"

// previewAccess lets the preview group (the pipeline's preview roles, through their EKS access
// entries) read everything and dry-run writes of the kinds the program deploys, and nothing
// more: RBAC must grant write verbs for a dry run, so a ValidatingAdmissionPolicy refuses every
// create, update, delete or connect of the group that is not a dry run. The policy objects
// themselves are outside admission, so the group has no write on them at all (previewRules).
func previewAccess(ctx *pulumi.Context, name, group string, opts ...pulumi.ResourceOption) error {
	policy, err := admissionv1.NewValidatingAdmissionPolicy(ctx, name+"-preview-dry-run-only", &admissionv1.ValidatingAdmissionPolicyArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview-dry-run-only")},
		Spec: admissionv1.ValidatingAdmissionPolicySpecArgs{
			FailurePolicy: pulumi.String("Fail"),
			MatchConstraints: admissionv1.MatchResourcesArgs{ResourceRules: admissionv1.NamedRuleWithOperationsArray{
				admissionv1.NamedRuleWithOperationsArgs{
					ApiGroups: pulumi.StringArray{pulumi.String("*")}, ApiVersions: pulumi.StringArray{pulumi.String("*")},
					Operations: pulumi.ToStringArray([]string{"CREATE", "UPDATE", "DELETE", "CONNECT"}),
					Resources:  pulumi.ToStringArray([]string{"*/*"}), // every resource and subresource; the API server refuses "*" beside it
				},
			}},
			MatchConditions: admissionv1.MatchConditionArray{admissionv1.MatchConditionArgs{
				Name: pulumi.String("preview-group"), Expression: pulumi.Sprintf("%q in request.userInfo.groups", group),
			}},
			Validations: admissionv1.ValidationArray{admissionv1.ValidationArgs{
				Expression: pulumi.String(DryRunOnlyExpression),
				Message:    pulumi.Sprintf("%s may only dry-run (pulumi preview); writes belong to the deploy role", group),
			}},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating the preview admission policy: %w", err)
	}
	guard, err := admissionv1.NewValidatingAdmissionPolicyBinding(ctx, name+"-preview-dry-run-only", &admissionv1.ValidatingAdmissionPolicyBindingArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview-dry-run-only")},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpecArgs{
			PolicyName:        policy.Metadata.Name().Elem(),
			ValidationActions: pulumi.StringArray{pulumi.String("Deny")},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("binding the preview admission policy: %w", err)
	}
	role, err := rbacv1.NewClusterRole(ctx, name+"-preview", &rbacv1.ClusterRoleArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview")},
		Rules:    previewRules(),
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating the preview role: %w", err)
	}
	// The group gets its rights only once the rule that keeps them to dry runs is in force.
	if _, err := rbacv1.NewClusterRoleBinding(ctx, name+"-preview", &rbacv1.ClusterRoleBindingArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview")},
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Group"), Name: pulumi.String(group),
		}},
	}, append(slices.Clone(opts), pulumi.DependsOn([]pulumi.Resource{guard}))...); err != nil {
		return fmt.Errorf("binding the preview role: %w", err)
	}
	return nil
}
