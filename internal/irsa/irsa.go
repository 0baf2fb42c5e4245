// Package irsa creates IAM roles for Kubernetes service accounts (IRSA): roles that exactly one
// service account of one EKS cluster can assume through the cluster's OIDC provider.
package irsa

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/iampolicy"
)

// Args describes one role.
type Args struct {
	// OIDCProviderARN and OIDCIssuerURL are the cluster's IAM OIDC provider and issuer.
	OIDCProviderARN, OIDCIssuerURL pulumi.StringInput
	// Namespace and ServiceAccount name the only identity that may assume the role.
	Namespace, ServiceAccount string
	// ManagedPolicyARNs are attached to the role.
	ManagedPolicyARNs []string
	// Inline is the role's own policy ("access"); nil for none.
	Inline pulumi.StringInput
}

// Role creates the role; opts carry its parent and provider.
func Role(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	args := &iam.RoleArgs{
		AssumeRolePolicy:  iampolicy.IRSATrust(a.OIDCProviderARN, a.OIDCIssuerURL, a.Namespace, a.ServiceAccount),
		Description:       pulumi.String(a.Namespace + "/" + a.ServiceAccount + " (IRSA)"),
		ManagedPolicyArns: pulumi.ToStringArray(a.ManagedPolicyARNs),
	}
	if a.Inline != nil {
		args.InlinePolicies = iam.RoleInlinePolicyArray{iam.RoleInlinePolicyArgs{Name: pulumi.String("access"), Policy: a.Inline}}
	}
	role, err := iam.NewRole(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating role %s for %s/%s: %w", name, a.Namespace, a.ServiceAccount, err)
	}
	return role, nil
}
