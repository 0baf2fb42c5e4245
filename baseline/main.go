// Command baseline is the Pulumi program for the account singletons the ScaleMate stacks stand
// on, once per AWS account and region (baseline/program; README, "The account baseline").
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/baseline/program"
)

func main() { pulumi.Run(program.Run) }
