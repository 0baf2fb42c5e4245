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
			t := &testing.T{}
			for i := 0; i < b.N; i++ {
				if _, err := runStack(t, stack, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPolicies measures both packs' rules and the estimate over each real stack.
func BenchmarkPolicies(b *testing.B) {
	for _, stack := range []string{"dev", "staging", "prod"} {
		b.Run(stack, func(b *testing.B) {
			rec, err := runStack(&testing.T{}, stack, nil)
			if err != nil {
				b.Fatal(err)
			}
			rs := rec.Analyzed()
			th, _ := rules.ForStack(stack, nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rules.Evaluate(rules.All(), rs, th)
				costmodel.Estimate(rs)
			}
		})
	}
}
