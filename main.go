// Command scalemate is the Pulumi program that deploys the ScaleMate platform.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/infra"
)

func main() {
	pulumi.Run(infra.Run)
}
