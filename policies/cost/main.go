// Command cost is the ScaleMate cost policy pack: build it and pass the binary (or, with a
// Pulumi CLI that has the Go language host, this directory) to --policy-pack.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/scalemate/infra/policies/pack"
	"github.com/scalemate/infra/policies/rules"
)

func main() {
	err := policyx.Main(func(ctx *pulumi.Context) (policyx.PolicyPack, error) {
		return pack.New(ctx, rules.Cost)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
