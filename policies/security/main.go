// Command security is the ScaleMate security policy pack: build it and pass the binary (or, with a
// Pulumi CLI that has the Go language host, this directory) to --policy-pack.
package main

import (
	"github.com/scalemate/infra/policies/pack"
	"github.com/scalemate/infra/policies/rules"
)

func main() { pack.Serve(rules.Security) }
