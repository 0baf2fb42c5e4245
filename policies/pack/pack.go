// Package pack turns the rule library into a Pulumi policy pack (policyx). Each rule becomes
// one policy at its own enforcement level; a "<pack>-settings" policy takes threshold overrides
// from --policy-pack-config; a "<pack>-cannot-check-until-update" advisory policy lists the
// values a preview could not check yet.
package pack

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/scalemate/infra/policies/analyzed"
	"github.com/scalemate/infra/policies/rules"
)

// Version of both packs.
var Version = semver.MustParse("1.0.0")

// Name is a pack's published name.
func Name(pack string) string { return "scalemate-" + pack }

// settings holds the overrides from the settings policy's config. The engine sends policy
// config before analysis, and the settings policy runs first for every resource, so rules
// read the overrides it stored. Stack policies get no config from policyx; they read it here.
type settings struct {
	mu        sync.Mutex
	stack     string
	tier      string // the stack's scalemate:tier, as the program reads it ("" = from the name)
	overrides map[string]any
}

func (s *settings) set(cfg map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides = cfg
}

func (s *settings) thresholds() (rules.Thresholds, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.overrides
	if _, set := o["tier"]; !set && s.tier != "" {
		o = maps.Clone(o)
		if o == nil {
			o = map[string]any{}
		}
		o["tier"] = s.tier
	}
	return rules.ForStack(s.stack, o)
}

// runStack runs fn over the whole stack with the current thresholds and reports its findings
// (violations, or with unknowns the values that could not be checked).
func (s *settings) runStack(args policyx.StackValidationArgs, unknowns bool, fn func([]analyzed.Resource, rules.Thresholds) []rules.Finding) error {
	t, err := s.thresholds()
	if err != nil {
		return err
	}
	var rs []analyzed.Resource
	for _, res := range args.Resources {
		rs = append(rs, View(res))
	}
	report(args.Manager, fn(rs, t), unknowns)
	return nil
}

func level(l string) policyx.EnforcementLevel {
	if l == rules.Mandatory {
		return policyx.EnforcementLevelMandatory
	}
	return policyx.EnforcementLevelAdvisory
}

// View converts what the analyzer hands a policy into the rules' view.
func View(r policyx.AnalyzerResource) analyzed.Resource {
	return analyzed.Resource{Type: r.Type, Name: r.Name, URN: r.URN, Props: r.Properties,
		Protect: r.Options.Protect, Parent: r.Parent, Dependencies: r.Dependencies, PropertyDependencies: r.PropertyDependencies}
}

// report sends findings to the engine: violations one by one, or (for the unknowns policy) one
// report of one line per rule and field with the count and the resources named once, so that a
// preview's policy section stays readable.
func report(m policyx.PolicyManager, findings []rules.Finding, unknowns bool) {
	if !unknowns {
		for _, f := range findings {
			if !f.Unknown {
				m.ReportViolation(fmt.Sprintf("%s: %s", f.Rule, f.Message), f.URN)
			}
		}
		return
	}
	var order []string
	urns := map[string][]string{}
	for _, f := range findings {
		if !f.Unknown {
			continue
		}
		key := f.Rule + ": " + f.Message
		if _, seen := urns[key]; !seen {
			order = append(order, key)
		}
		if !slices.Contains(urns[key], f.URN) {
			urns[key] = append(urns[key], f.URN)
		}
	}
	// One report for the pack, one line per rule and field: the engine prints each report with
	// the policy's description, so separate reports would repeat it.
	if len(order) == 0 {
		return
	}
	lines := make([]string, 0, len(order))
	for _, key := range order {
		n := shortNames(urns[key])
		noun := "resources"
		if len(n) == 1 {
			noun = "resource"
		}
		lines = append(lines, fmt.Sprintf("%s (%d %s: %s)", key, len(n), noun, strings.Join(n, ", ")))
	}
	m.ReportViolation(strings.Join(lines, "\n"), "")
}

// shortNames are the URNs' resource names (their last "::" part), with the type where two
// resources of different types share a name (an api Deployment and an api Service): counted
// by resource, each named once.
func shortNames(urns []string) []string {
	name := func(urn string) string {
		if i := strings.LastIndex(urn, "::"); i >= 0 {
			return urn[i+2:]
		}
		return urn
	}
	count := map[string]int{}
	for _, u := range urns {
		count[name(u)]++
	}
	out := make([]string, 0, len(urns))
	for _, u := range urns {
		n := name(u)
		if count[n] > 1 && n != u {
			typ := strings.TrimSuffix(u, "::"+n)
			typ = typ[strings.LastIndex(typ, "$")+1:]
			typ = typ[strings.LastIndex(typ, ":")+1:]
			n += " (" + typ + ")"
		}
		out = append(out, n)
	}
	return out
}

// TierKey is the program's config key for the tier; the engine hands the pack the stack's config.
const TierKey = "scalemate:tier"

// New builds the pack for the stack the engine analyzes. The tier is the one the program uses:
// scalemate:tier when the stack sets it, else the stack name (prefix).
func New(ctx *pulumi.Context, pack string) (policyx.PolicyPack, error) {
	tier, _ := ctx.GetConfig(TierKey)
	s := &settings{stack: ctx.Stack(), tier: tier}
	if _, err := s.thresholds(); err != nil {
		return nil, err
	}
	ruleSet := rules.OfPack(pack)

	policies := []policyx.Policy{
		// Every pack's policy level must be set per policy: policyx ignores the pack-level one.
		policyx.NewResourceValidationPolicy(pack+"-settings", policyx.ResourceValidationPolicyArgs{
			Description:      "Threshold overrides for the " + pack + " rules (tier, budgets, allowed types, ...); reports nothing",
			EnforcementLevel: policyx.EnforcementLevelAdvisory,
			ConfigSchema:     &policyx.ConfigSchema{Properties: rules.SettingsSchema()},
			ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
				s.set(args.Config)
				return nil
			},
		}),
	}
	for _, r := range ruleSet {
		r := r
		if r.Stack != nil {
			policies = append(policies, policyx.NewStackValidationPolicy(r.Name, policyx.StackValidationPolicyArgs{
				Description:      r.Description(),
				EnforcementLevel: level(r.Level),
				ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
					return s.runStack(args, false, r.Run)
				},
			}))
			continue
		}
		policies = append(policies, policyx.NewResourceValidationPolicy(r.Name, policyx.ResourceValidationPolicyArgs{
			Description:      r.Description(),
			EnforcementLevel: level(r.Level),
			ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
				t, err := s.thresholds()
				if err != nil {
					return err
				}
				report(args.Manager, r.Run([]analyzed.Resource{View(args.Resource)}, t), false)
				return nil
			},
		}))
	}
	policies = append(policies, policyx.NewStackValidationPolicy(pack+"-cannot-check-until-update", policyx.StackValidationPolicyArgs{
		Description:      "Values the " + pack + " rules need are unknown during this preview; they are checked for real during update",
		EnforcementLevel: policyx.EnforcementLevelAdvisory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			return s.runStack(args, true, func(rs []analyzed.Resource, t rules.Thresholds) []rules.Finding {
				return rules.Evaluate(ruleSet, rs, t)
			})
		},
	}))
	return policyx.NewPolicyPack(Name(pack), Version, policyx.EnforcementLevelAdvisory, policies)
}

// Serve runs a pack binary: the analyzer protocol's server for the stack the engine names.
func Serve(pack string) {
	err := policyx.Main(func(ctx *pulumi.Context) (policyx.PolicyPack, error) { return New(ctx, pack) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
