package rules

import (
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// localRules hold the local tier to its promise: a developer's cluster, no cloud account.
func localRules() []Rule {
	return []Rule{
		{Name: "local-tier-no-cloud-resources", Pack: Security, Level: Mandatory, Anchor: "ScaleMate local tier (DESIGN.md §2)",
			Summary: "A local-tier stack creates no AWS resource: it runs on a developer's cluster without an AWS account",
			Stack: func(c *Check, rs []analyzed.Resource) {
				if c.T.Tier != "local" {
					return
				}
				for _, r := range rs {
					if strings.HasPrefix(r.Type, "aws:") || r.Type == "pulumi:providers:aws" {
						c.Violate(r, "%s is an AWS resource in a local-tier stack", r.Type)
					}
				}
			}},
	}
}
