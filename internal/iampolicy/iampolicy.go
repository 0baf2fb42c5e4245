// Package iampolicy builds the IAM policy documents the components need as JSON, without the
// aws:iam/getPolicyDocument invoke (no provider round trip during preview or in tests).
package iampolicy

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Condition is a statement's condition block: operator -> key -> a value (string) or values
// ([]string, any of which matches).
type Condition = map[string]map[string]any

// Statement is one statement of a policy document.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action,omitempty"`
	NotAction []string       `json:"NotAction,omitempty"`
	Resource  any            `json:"Resource,omitempty"`
	Condition Condition      `json:"Condition,omitempty"`
}

// JSON renders the document. Marshalling plain strings and maps cannot fail.
func (d Document) JSON() string {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Partition is the ARN partition of a region: aws, aws-cn or aws-us-gov.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ManagedPolicyARN is the ARN of an AWS managed policy, e.g. AmazonEKSClusterPolicy.
func ManagedPolicyARN(partition, name string) string {
	return "arn:" + partition + ":iam::aws:policy/" + name
}

// ServiceTrust lets the given AWS service principals (eks.amazonaws.com, ...) assume a role.
// EKS pod identity and newer services also need sts:TagSession, so it is granted along.
func ServiceTrust(services ...string) string {
	return Document{Version: "2012-10-17", Statement: []Statement{{
		Effect:    "Allow",
		Principal: map[string]any{"Service": services},
		Action:    []string{"sts:AssumeRole", "sts:TagSession"},
	}}}.JSON()
}

// IRSATrust lets exactly one Kubernetes service account assume a role through the cluster's
// OIDC provider (IAM roles for service accounts), pinned by both the sub and aud claims.
func IRSATrust(providerARN, issuerURL pulumi.StringInput, namespace, serviceAccount string) pulumi.StringOutput {
	return pulumi.All(providerARN, issuerURL).ApplyT(func(v []any) string {
		issuer := strings.TrimPrefix(v[1].(string), "https://")
		return Document{Version: "2012-10-17", Statement: []Statement{{
			Effect:    "Allow",
			Principal: map[string]any{"Federated": v[0].(string)},
			Action:    []string{"sts:AssumeRoleWithWebIdentity"},
			Condition: Condition{"StringEquals": {
				issuer + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
				issuer + ":aud": "sts.amazonaws.com",
			}},
		}}}.JSON()
	}).(pulumi.StringOutput)
}
