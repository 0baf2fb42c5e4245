// Package critpath estimates how long a fresh `pulumi up` takes: the longest chain through
// the resource dependency graph, each resource weighted by how long AWS typically takes to
// create one of its type, next to the serial sum. The ratio shows how much parallelism the
// program leaves to the engine.
package critpath

import (
	"sort"
	"strings"

	"github.com/scalemate/infra/internal/mocktest"
)

// Seconds are typical creation times by type token. Sources: AWS documentation and the
// providers' default timeouts where AWS publishes no figure; they are planning figures.
var Seconds = map[string]float64{
	"aws:eks/cluster:Cluster":                             600, // EKS user guide: "10 to 15 minutes"
	"aws:eks/nodeGroup:NodeGroup":                         240, // managed node group ready: 3-5 minutes
	"aws:eks/addon:Addon":                                 90,  // addon ACTIVE once its pods run
	"aws:rds/instance:Instance":                           900, // Multi-AZ PostgreSQL: 10-20 minutes; replicas about the same
	"aws:rds/proxy:Proxy":                                 300, // RDS Proxy: several minutes
	"aws:rds/proxyTarget:ProxyTarget":                     120, // target registration until AVAILABLE
	"aws:elasticache/replicationGroup:ReplicationGroup":   900, // cluster-mode groups: 10-20 minutes
	"aws:cloudfront/distribution:Distribution":            300, // global deployment: about 5 minutes
	"aws:acm/certificateValidation:CertificateValidation": 120,
	"aws:ec2/natGateway:NatGateway":                       120, // pending to available: 1-3 minutes
	"aws:ec2/vpcEndpoint:VpcEndpoint":                     60,
	"aws:wafv2/webAcl:WebAcl":                             20,
	"kubernetes:helm.sh/v3:Release":                       180, // atomic install waits for the pods: 1-3 minutes
	"aws:ec2/internetGateway:InternetGateway":             10,
}

// DefaultSeconds is the creation time of every other custom resource (IAM, KMS, subnets,
// security groups, log groups: API calls that return in seconds).
const DefaultSeconds = 5

// Result is the estimate for one stack.
type Result struct {
	CriticalSeconds, SerialSeconds float64
	// Chain is the critical path, first to last resource (type::name).
	Chain []string
}

// Ratio is serial time over critical path: the speed-up parallel creation gives.
func (r Result) Ratio() float64 { return r.SerialSeconds / r.CriticalSeconds }

func weight(res mocktest.Resource) float64 {
	if !res.Custom || strings.HasPrefix(res.Type, "pulumi:providers:") {
		return 0
	}
	if s, ok := Seconds[res.Type]; ok {
		return s
	}
	return DefaultSeconds
}

// Estimate computes the critical path of a mock run. A dependency on a component stands for
// dependencies on all its descendants, as the engine waits for them.
func Estimate(rec *mocktest.Recorder) Result {
	all := rec.All()
	byURN := map[string]mocktest.Resource{}
	children := map[string][]string{}
	for _, r := range all {
		byURN[r.URN] = r
		children[r.Parent] = append(children[r.Parent], r.URN)
	}
	var descendants func(urn string) []string
	descendants = func(urn string) []string {
		var out []string
		for _, c := range children[urn] {
			out = append(append(out, c), descendants(c)...)
		}
		return out
	}
	deps := func(r mocktest.Resource) []string {
		var out []string
		for _, d := range r.Dependencies {
			if dep, ok := byURN[d]; ok && !dep.Custom {
				out = append(out, descendants(d)...)
			} else {
				out = append(out, d)
			}
		}
		return out
	}
	finish := map[string]float64{}
	prev := map[string]string{}
	var visit func(urn string) float64
	visit = func(urn string) float64 {
		if f, ok := finish[urn]; ok {
			return f
		}
		finish[urn] = 0 // cycle guard
		r, ok := byURN[urn]
		if !ok {
			return 0
		}
		start := 0.0
		for _, d := range deps(r) {
			if f := visit(d); f > start {
				start, prev[urn] = f, d
			}
		}
		finish[urn] = start + weight(r)
		return finish[urn]
	}
	var res Result
	last := ""
	urns := make([]string, 0, len(byURN))
	for u := range byURN {
		urns = append(urns, u)
	}
	sort.Strings(urns)
	for _, u := range urns {
		res.SerialSeconds += weight(byURN[u])
		if f := visit(u); f > res.CriticalSeconds {
			res.CriticalSeconds, last = f, u
		}
	}
	for u := last; u != ""; u = prev[u] {
		r := byURN[u]
		if weight(r) > 0 {
			res.Chain = append([]string{r.Type + "::" + r.Name}, res.Chain...)
		}
	}
	return res
}
