package k8sbaseline

import (
	"fmt"

	admissionv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/admissionregistration/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// previewVerbs are what `pulumi preview` needs: reads, and server-side apply with dryRun=All,
// which Kubernetes authorizes exactly as a real create or patch. bind and escalate let a
// dry-run of the program's own roles and bindings pass RBAC's escalation check.
var previewVerbs = []string{"get", "list", "watch", "create", "update", "patch", "bind", "escalate"}

// DryRunOnlyExpression is the admission rule for the preview group: a write must be a dry run.
const DryRunOnlyExpression = "request.dryRun == true"

// previewAccess lets the preview group (the pipeline's preview roles, through their EKS access
// entries) read everything and dry-run any write, and nothing more: RBAC must grant write verbs
// for a dry run, so a ValidatingAdmissionPolicy refuses every create, update, delete or connect
// (exec, port-forward) of the group that is not a dry run. The policy objects themselves are
// outside admission; the group may not write them for real either (no request of it is).
func previewAccess(ctx *pulumi.Context, name, group string, opts ...pulumi.ResourceOption) error {
	role, err := rbacv1.NewClusterRole(ctx, name+"-preview", &rbacv1.ClusterRoleArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview")},
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.StringArray{pulumi.String("*")}, Resources: pulumi.StringArray{pulumi.String("*")},
			Verbs: pulumi.ToStringArray(previewVerbs),
		}},
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating the preview role: %w", err)
	}
	if _, err := rbacv1.NewClusterRoleBinding(ctx, name+"-preview", &rbacv1.ClusterRoleBindingArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview")},
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Group"), Name: pulumi.String(group),
		}},
	}, opts...); err != nil {
		return fmt.Errorf("binding the preview role: %w", err)
	}
	policy, err := admissionv1.NewValidatingAdmissionPolicy(ctx, name+"-preview-dry-run-only", &admissionv1.ValidatingAdmissionPolicyArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview-dry-run-only")},
		Spec: admissionv1.ValidatingAdmissionPolicySpecArgs{
			FailurePolicy: pulumi.String("Fail"),
			MatchConstraints: admissionv1.MatchResourcesArgs{ResourceRules: admissionv1.NamedRuleWithOperationsArray{
				admissionv1.NamedRuleWithOperationsArgs{
					ApiGroups: pulumi.StringArray{pulumi.String("*")}, ApiVersions: pulumi.StringArray{pulumi.String("*")},
					Operations: pulumi.ToStringArray([]string{"CREATE", "UPDATE", "DELETE", "CONNECT"}),
					Resources:  pulumi.ToStringArray([]string{"*", "*/*"}),
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
	if _, err := admissionv1.NewValidatingAdmissionPolicyBinding(ctx, name+"-preview-dry-run-only", &admissionv1.ValidatingAdmissionPolicyBindingArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("scalemate-preview-dry-run-only")},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpecArgs{
			PolicyName:        policy.Metadata.Name().Elem(),
			ValidationActions: pulumi.StringArray{pulumi.String("Deny")},
		},
	}, opts...); err != nil {
		return fmt.Errorf("binding the preview admission policy: %w", err)
	}
	return nil
}
