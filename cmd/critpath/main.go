// Command critpath prints the estimated wall time of a fresh `pulumi up` per stack: the
// critical path through the dependency graph (typical AWS creation times by type, see
// internal/critpath) next to the serial sum.
//
//	go run ./cmd/critpath [-stack prod]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/scalemate/infra/internal/critpath"
	"github.com/scalemate/infra/internal/mockstack"
)

func main() {
	only := flag.String("stack", "", "one stack (default: dev, staging and prod)")
	flag.Parse()
	stacks := []string{"dev", "staging", "prod"}
	if *only != "" {
		stacks = []string{*only}
	}
	for _, s := range stacks {
		rec, err := mockstack.Run(".", s, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r := critpath.Estimate(rec)
		fmt.Printf("%-8s critical path %5.1f min, serial sum %6.1f min, parallelism x%.1f\n", s, r.CriticalSeconds/60, r.SerialSeconds/60, r.Ratio())
		for _, step := range r.Chain {
			fmt.Printf("           %s\n", step)
		}
	}
}
