package tests

import (
	"testing"

	"github.com/scalemate/infra/policies/costmodel"
	"github.com/scalemate/infra/policies/rules"
)

// BenchmarkMockRun measures one run of the program under mocks per stack.
func BenchmarkMockRun(b *testing.B) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		b.Run(stack, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				mustRunStack(b, stack)
			}
		})
	}
}

// BenchmarkPolicies measures both packs' rules and the estimate over each real stack.
func BenchmarkPolicies(b *testing.B) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		b.Run(stack, func(b *testing.B) {
			rs := mustRunStack(b, stack).Analyzed()
			th, _ := rules.ForStack(stack, nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rules.Evaluate(rules.All(), rs, th)
				costmodel.Estimate(rs)
			}
		})
	}
}
