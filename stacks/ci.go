package stacks

import (
	"github.com/scalemate/infra/internal/validate"
)

// CI is the delivery pipeline's footing in the stack (scalemate:ci).
type CI struct {
	// Runner creates the in-VPC GitHub Actions runner (a CodeBuild project in the private
	// subnets, admitted to the private cluster API on 443) that the workflows' Kubernetes-
	// touching jobs run on. Default true for the pipeline's stacks (named after their tier:
	// dev, staging, prod), false for others.
	Runner bool `json:"runner"`
	// Repository is the GitHub repository (owner/name) whose jobs the runner takes. Default
	// scalemate/infra.
	Repository string `json:"repository"`
	// ComputeType is the runner's CodeBuild size (BUILD_GENERAL1_SMALL to _2XLARGE). Default
	// BUILD_GENERAL1_MEDIUM.
	ComputeType string `json:"computeType"`
	// PreviewRole gives the bootstrap's preview role of this stack
	// (scalemate-github-preview-<stack>) an access entry that reads the cluster and dry-runs
	// writes, never writes (pull-request previews, drift checks). Default as Runner.
	PreviewRole bool `json:"previewRole"`
}

func (s *Spec) validateCI(p *validate.Problems) {
	if s.CI.Runner && !validate.IsGitHubRepository(s.CI.Repository) {
		p.Addf(KeyCI+".repository", "%q is not a GitHub repository (owner/name)", s.CI.Repository)
	}
	if s.CI.Runner && s.Network.NATGateways == "none" {
		p.Addf(KeyCI+".runner", "needs NAT egress (scalemate:network.natGateways single or perAz): the runner reaches GitHub and the Go module proxy; set runner: false with natGateways none")
	}
}
