package rules

import (
	"fmt"
	"testing"

	"github.com/scalemate/infra/policies/analyzed"
)

// synthetic is a stack of n resources cycling through every rule's compliant case, with
// dependencies, so stack rules do real matching work.
func synthetic(n int) []analyzed.Resource {
	var base []analyzed.Resource
	for _, r := range All() {
		base = append(base, cases[r.Name].good()...)
	}
	out := make([]analyzed.Resource, 0, n)
	for i := 0; len(out) < n; i++ {
		r := base[i%len(base)]
		r.URN = fmt.Sprintf("%s-%d", r.URN, i/len(base))
		out = append(out, r)
	}
	return out
}

// BenchmarkEvaluate10k measures every rule of both packs over 10,000 resources.
func BenchmarkEvaluate10k(b *testing.B) {
	rs := synthetic(10000)
	th, _ := ForTier("prod")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(All(), rs, th)
	}
}
