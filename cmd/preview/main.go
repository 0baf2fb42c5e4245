// Command preview is the README's main command: `pulumi preview` of one stack through the real
// Pulumi CLI and engine, with both policy packs, then the policy summary and the monthly cost
// estimate. Offline by default (no cloud account): the pinned CLI, the provider stand-ins, a
// local file backend under the cache directory. With -offline=false it uses your CLI login,
// AWS credentials and real provider plugins instead, and previews against AWS for real.
//
//	go run ./cmd/preview -stack dev [-policy-config cost.json] [-offline=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"

	"github.com/scalemate/infra/engine/offline"
	"github.com/scalemate/infra/infra"
	"github.com/scalemate/infra/policies/costmodel"
)

func main() {
	stack := flag.String("stack", "dev", "stack to preview")
	policyConfig := flag.String("policy-config", "", "--policy-pack-config file applied to both packs")
	isOffline := flag.Bool("offline", true, "use the offline stand-ins and a local backend (no AWS account)")
	project := flag.String("project", "", `Pulumi project directory: "" for the environment stacks, "baseline" for the account baseline (offline only)`)
	flag.Parse()
	if err := preview(context.Background(), *project, *stack, *policyConfig, *isOffline); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func preview(ctx context.Context, project, stackName, policyConfig string, isOffline bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	var tools *offline.Tools
	var stack auto.Stack
	if isOffline {
		if tools, err = offline.Prepare(ctx, root); err != nil {
			return err
		}
		stack, err = tools.Stack(ctx, stackName, offline.StackOptions{Project: project})
	} else if project != "" {
		return fmt.Errorf("-project %s previews offline only; run `pulumi preview` in %s/ against AWS", project, project)
	} else {
		// Your CLI, login, credentials and real plugins; the stack must exist (created with
		// its secrets provider, see README), it is never created here.
		if tools, err = offline.PreparePacks(ctx, root); err != nil {
			return err
		}
		stack, err = auto.SelectStackInlineSource(ctx, stackName, "scalemate", infra.Run, auto.WorkDir(root))
	}
	if err != nil {
		return err
	}
	ch, reported := offline.Watch()
	opts := []optpreview.Option{optpreview.ProgressStreams(os.Stdout), optpreview.EventStreams(ch), optpreview.PolicyPacks(tools.Packs...)}
	if policyConfig != "" {
		abs, _ := filepath.Abs(policyConfig)
		opts = append(opts, optpreview.PolicyPackConfigs(abs, abs))
	}
	_, perr := stack.Preview(ctx, opts...)
	summarize(stackName, reported())
	return perr
}

// summarize prints how many policy findings each pack reported per level (the engine's output
// above lists them, each once), the cost estimate of the resources the preview would keep or
// create and, on a stack with a state, the cost diff of the change.
func summarize(stack string, ev offline.Events) {
	counts := map[string]int{}
	for _, p := range ev.Policies {
		counts[p.PolicyPackName+" "+p.EnforcementLevel]++
	}
	fmt.Printf("\nPolicy summary (%s): %d finding(s)\n", stack, len(ev.Policies))
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %-40s %d\n", k, counts[k])
	}
	after := costmodel.Estimate(offline.Resources(ev.Steps))
	fmt.Printf("\nEstimated monthly cost (%s, from the preview's resource inputs):\n%s", stack, after.Table())
	// On a stack that exists, what the change does to the cost: the current state against the
	// planned inputs (the pull-request comment).
	if before := offline.Before(ev.Steps); len(before) > 0 {
		fmt.Printf("\nCost diff (%s, current state -> this change):\n%s", stack,
			costmodel.DiffOf(costmodel.Estimate(before), after).Table())
	}
}
