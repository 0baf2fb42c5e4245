// Command mockplan runs the program for one stack under Pulumi's mocks, offline and without a
// Pulumi CLI or cloud account, and prints the resource tree the stack would register, the
// verdicts of both policy packs (the same rules as `--policy-pack`) and the monthly cost
// estimate. It reads the real Pulumi.<stack>.yaml, so invalid config fails here exactly as it
// would in `pulumi preview`. It exits 1 on a mandatory policy violation.
//
// It is not an engine preview: there is no state, so no diff, and provider-side checks do not run.
//
//	go run ./cmd/mockplan -stack dev [-policy-config settings.json]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/scalemate/infra/internal/mockstack"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/policies/analyzed"
	"github.com/scalemate/infra/policies/costmodel"
	"github.com/scalemate/infra/policies/pack"
	"github.com/scalemate/infra/policies/rules"
)

func main() {
	stack := flag.String("stack", "dev", "stack to plan: reads Pulumi.<stack>.yaml")
	dir := flag.String("dir", ".", "project directory holding Pulumi.<stack>.yaml")
	policyConfig := flag.String("policy-config", "", "policy pack config JSON, as for --policy-pack-config")
	flag.Parse()
	if err := plan(*dir, *stack, *policyConfig); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func plan(dir, stack, policyConfig string) error {
	rec, err := mockstack.Run(dir, stack, nil)
	if err != nil {
		return err
	}
	all := rec.All()
	children := map[string][]mocktest.Resource{}
	for _, r := range all {
		parent := r.Parent
		if strings.HasSuffix(parent, "pulumi:pulumi:Stack::scalemate-"+stack) {
			parent = ""
		}
		children[parent] = append(children[parent], r)
	}
	fmt.Printf("Stack %s: %d resources (mock plan: the program's registrations, no engine, no diff)\n\n", stack, len(all))
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, r := range children[parent] {
			flags := ""
			if r.Protect {
				flags += " [protected]"
			}
			if len(r.IgnoreChanges) > 0 {
				flags += " [ignores " + strings.Join(r.IgnoreChanges, ",") + "]"
			}
			fmt.Printf("%s+ %-55s %s%s\n", strings.Repeat("    ", depth), r.Type, r.Name, flags)
			walk(r.URN, depth+1)
		}
	}
	walk("", 0)

	counts := map[string]int{}
	for _, r := range all {
		counts[r.Type]++
	}
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Println("\nResources by type:")
	for _, t := range types {
		fmt.Printf("  %4d  %s\n", counts[t], t)
	}
	return judge(rec.Analyzed(), stack, policyConfig)
}

// judge prints both packs' verdicts and the cost estimate; a mandatory violation is an error.
func judge(rs []analyzed.Resource, stack, policyConfig string) error {
	cfg, err := pack.ReadConfig(policyConfig)
	if err != nil {
		return err
	}
	mandatory := 0
	for _, name := range []string{rules.Security, rules.Cost} {
		th, err := rules.ForStack(stack, cfg.Settings(name))
		if err != nil {
			return err
		}
		set := cfg.Apply(rules.OfPack(name))
		findings := rules.Evaluate(set, rs, th)
		counts := map[string]int{}
		for _, f := range findings {
			switch {
			case f.Unknown:
				counts["unknown"]++
			default:
				counts[f.Level]++
			}
		}
		fmt.Printf("\nPolicy pack %s (%d rules, %s thresholds): %d mandatory, %d advisory violations, %d values unknown\n",
			pack.Name(name), len(set), th.Tier, counts[rules.Mandatory], counts[rules.Advisory], counts["unknown"])
		for _, f := range findings {
			fmt.Println("  " + f.String())
		}
		mandatory += counts[rules.Mandatory]
	}
	fmt.Printf("\nEstimated monthly cost (%s):\n%s", stack, costmodel.Estimate(rs).Table())
	if mandatory > 0 {
		return fmt.Errorf("%d mandatory policy violation(s)", mandatory)
	}
	return nil
}
