// Package sgrule adds security group rules between groups on one TCP port, as separate
// resources so that groups can refer to each other without a cycle.
package sgrule

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Direction of a rule.
const (
	Ingress = "ingress"
	Egress  = "egress"
)

// Allow lets traffic on port flow between the group and peer (from peer for Ingress, to peer
// for Egress). The rule is named name.
func Allow(ctx *pulumi.Context, name, direction string, group, peer pulumi.StringInput, port int, description string, opts ...pulumi.ResourceOption) error {
	_, err := ec2.NewSecurityGroupRule(ctx, name, &ec2.SecurityGroupRuleArgs{
		Type:                  pulumi.String(direction),
		SecurityGroupId:       group,
		SourceSecurityGroupId: peer,
		Protocol:              pulumi.String("tcp"),
		FromPort:              pulumi.Int(port),
		ToPort:                pulumi.Int(port),
		Description:           pulumi.String(description),
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating security group rule %s: %w", name, err)
	}
	return nil
}
