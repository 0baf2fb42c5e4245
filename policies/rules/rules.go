// Package rules is the one rule library behind the security and cost policy packs, the stack
// tests and the rule unit tests. A rule looks at analyzed resources (one at a time, or the
// whole stack) against the environment's Thresholds and reports findings.
//
// A value that is unknown during a preview never passes a rule silently and never crashes it:
// the rule reports it as an unknown finding ("cannot check until update"), which the packs show
// as advisory; during `pulumi up` inputs are known and the rule checks for real.
package rules

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Enforcement levels, as Pulumi names them.
const (
	Mandatory = "mandatory"
	Advisory  = "advisory"
)

// Packs.
const (
	Security = "security"
	Cost     = "cost"
)

// Rule is one policy.
type Rule struct {
	// Name is the policy name (kebab-case, unique across packs).
	Name string
	// Pack is Security or Cost.
	Pack string
	// Level is the default enforcement level.
	Level string
	// Anchor names the control(s) the rule implements, e.g. "FSBP RDS.3, CKV_AWS_16".
	Anchor string
	// Summary says what the rule requires.
	Summary string
	// Types are the resource type tokens the rule judges: a resource rule runs on these only;
	// a stack rule lists what it reads (coverage, JudgedTypes).
	Types []string
	// Resource checks one resource; Stack checks all of them. A rule has exactly one.
	Resource func(c *Check, r analyzed.Resource)
	Stack    func(c *Check, rs []analyzed.Resource)
}

// Description is the policy description: the requirement and its anchor.
func (r Rule) Description() string { return r.Summary + " [" + r.Anchor + "]" }

// Finding is a violation, or an unknown value a rule could not check yet.
type Finding struct {
	Rule, Pack, Level, URN, Message string
	// Unknown marks "cannot check until update": a value the rule needs is not known yet.
	Unknown bool
}

func (f Finding) String() string {
	kind := f.Level
	if f.Unknown {
		kind = "unknown"
	}
	return fmt.Sprintf("[%s] %s: %s (%s)", kind, f.Rule, f.Message, f.URN)
}

// Check is what a rule reports through.
type Check struct {
	T        Thresholds
	rule     Rule
	findings []Finding
	// stack is every resource of the evaluation by URN, for provenance (nil: one resource alone).
	stack map[string]analyzed.Resource
	// graph indexes the resources of the stack rule being run (graphOf).
	graph *graph
}

// Violate reports that r breaks the rule.
func (c *Check) Violate(r analyzed.Resource, format string, args ...any) {
	c.findings = append(c.findings, Finding{Rule: c.rule.Name, Pack: c.rule.Pack, Level: c.rule.Level, URN: r.URN, Message: fmt.Sprintf(format, args...)})
}

// Known reports whether f is known. If not, either its provenance vouches for it (it is computed
// only from resources of the stack that hold what the rules need: provenance.go), or the rule
// records that it cannot check field yet; either way the rule has nothing more to check.
func (c *Check) Known(r analyzed.Resource, f analyzed.Field, field string) bool {
	if f.Unknown() {
		if !c.vouched(r, f, field) {
			c.CannotCheck(r, field)
		}
		return false
	}
	return true
}

// CannotCheck records that the rule cannot check field of r until the update.
func (c *Check) CannotCheck(r analyzed.Resource, field string) {
	c.findings = append(c.findings, Finding{Rule: c.rule.Name, Pack: c.rule.Pack, Level: Advisory, URN: r.URN, Unknown: true,
		Message: fmt.Sprintf("cannot check until update: %s is not known during preview", field)})
}

// Run evaluates one rule. Resource rules see only resources of their types.
func (r Rule) Run(rs []analyzed.Resource, t Thresholds) []Finding {
	return r.run(rs, index(rs), t)
}

func (r Rule) run(rs []analyzed.Resource, stack map[string]analyzed.Resource, t Thresholds) []Finding {
	c := &Check{T: t, rule: r, stack: stack}
	// Every read is typed: a value of the wrong type (the string "true" for a bool, one string
	// for a list, a number as a string, a document as an object) is a violation, never a pass.
	if r.Stack != nil {
		tracked := make([]analyzed.Resource, len(rs))
		reports := make([]func() ([]analyzed.Mismatch, map[string]string), len(rs))
		for i, res := range rs {
			tracked[i], reports[i] = res.Tracked()
		}
		r.Stack(c, tracked)
		for i, report := range reports {
			c.mismatches(rs[i], report)
		}
		return c.findings
	}
	for _, res := range rs {
		if slices.Contains(r.Types, res.Type) && !notRegistered(res) {
			tracked, report := res.Tracked()
			r.Resource(c, tracked)
			c.mismatches(res, report)
		}
	}
	return c.findings
}

// mismatches reports each value of the wrong type the rule read on r, once per field.
func (c *Check) mismatches(r analyzed.Resource, report func() ([]analyzed.Mismatch, map[string]string)) {
	ms, _ := report()
	seen := map[string]bool{}
	for _, m := range ms {
		if !seen[m.Path] {
			seen[m.Path] = true
			c.Violate(r, "%s", m)
		}
	}
}

// notRegistered reports a Kubernetes object the engine hands over without any input: every
// object the provider registers carries apiVersion and kind, so this one is not part of the
// operation (an update that excludes the Kubernetes layer, `make foundation`), and there is
// nothing to judge until it is.
func notRegistered(r analyzed.Resource) bool {
	return strings.HasPrefix(r.Type, "kubernetes:") && r.Props.Len() == 0
}

// Evaluate runs every rule and returns the findings sorted by rule and URN.
func Evaluate(rules []Rule, rs []analyzed.Resource, t Thresholds) []Finding {
	var out []Finding
	stack := index(rs)
	for _, r := range rules {
		out = append(out, r.run(rs, stack, t)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].URN < out[j].URN
	})
	return out
}

// All is every rule of both packs.
func All() []Rule { return append(SecurityRules(), CostRules()...) }

// OfPack returns the rules of one pack.
func OfPack(pack string) []Rule {
	var out []Rule
	for _, r := range All() {
		if r.Pack == pack {
			out = append(out, r)
		}
	}
	return out
}

// matchAny reports whether s matches one of the glob patterns.
func matchAny(s string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// ofType filters resources by type token.
func ofType(rs []analyzed.Resource, types ...string) []analyzed.Resource {
	var out []analyzed.Resource
	for _, r := range rs {
		if slices.Contains(types, r.Type) {
			out = append(out, r)
		}
	}
	return out
}
