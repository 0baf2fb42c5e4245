// Command preflight lists the AWS service quotas one stack needs (`make preflight STACK=prod`)
// and, with -check and the account's credentials, compares them with the account's values
// through Service Quotas, exiting 1 when one is short. Quotas are per account and region: other
// stacks in the same account use them too.
//
//	go run ./cmd/preflight -stack prod [-check]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/scalemate/infra/internal/mockstack"
	"github.com/scalemate/infra/internal/preflight"
	"github.com/scalemate/infra/stacks"
)

func main() {
	stack := flag.String("stack", "dev", "stack: reads Pulumi.<stack>.yaml")
	dir := flag.String("dir", ".", "project directory holding Pulumi.<stack>.yaml")
	check := flag.Bool("check", false, "compare with the account's quotas (needs AWS credentials and the aws CLI)")
	flag.Parse()
	short, err := run(*dir, *stack, *check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	if short {
		os.Exit(1)
	}
}

func run(dir, stack string, check bool) (bool, error) {
	cfg, _, err := mockstack.Config(dir, stack)
	if err != nil {
		return false, err
	}
	rec, err := mockstack.Run(dir, stack, nil)
	if err != nil {
		return false, err
	}
	region := cfg["aws:region"]
	fmt.Printf("Service quotas stack %s needs in %s (node pools at their maximum size; other stacks in the account count too):\n", stack, region)
	fmt.Printf("%-14s %-76s %8s %8s %8s\n", "code", "quota", "needed", "default", "account")
	short := false
	for _, n := range preflight.Needs(rec.All()) {
		def, account := "varies", "-"
		if n.Default > 0 {
			def = strconv.FormatFloat(n.Default, 'f', -1, 64)
		}
		if check {
			out, err := exec.Command("aws", "service-quotas", "get-service-quota", "--region", region,
				"--service-code", n.Service, "--quota-code", n.Code, "--query", "Quota.Value", "--output", "text").Output()
			if err != nil {
				return false, fmt.Errorf("reading quota %s (%s): %w", n.Code, n.Name, err)
			}
			account = strings.TrimSpace(string(out))
			if v, err := strconv.ParseFloat(account, 64); err == nil && v < n.Needed {
				account += " SHORT"
				short = true
			}
		}
		fmt.Printf("%-14s %-76s %8.0f %8s %8s\n", n.Code, n.Name, n.Needed, def, account)
	}
	for _, c := range rec.OfType("aws:eks/cluster:Cluster") {
		v, _ := c.Input("version").(string)
		fmt.Printf("\nKubernetes %s leaves EKS standard support on %s (README, Upgrading Kubernetes and addons).\n", v, stacks.StandardSupportEnds[v])
	}
	if short {
		fmt.Println("\nRequest the SHORT quotas in Service Quotas before the first `up` (README, Before the first deploy).")
	}
	return short, nil
}
