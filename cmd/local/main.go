// Command local deploys the local stack (Pulumi.local.yaml) to the cluster of the current
// kubeconfig context, through the real Pulumi CLI (the pinned build), both policy packs with the
// local thresholds and the real Kubernetes provider (scripts/kube-toolchain.sh builds it once):
// a preview with the packs, then `up`. The state is a local file backend under the cache
// directory. No AWS account and no internet are needed; `make local` runs it.
//
//	go run ./cmd/local [-destroy]
//
// With a normal Pulumi install (its Go language host and plugins), `pulumi up -s local` does the
// same through the CLI alone (README, "The local environment").
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"gopkg.in/yaml.v3"

	"github.com/scalemate/infra/engine/offline"
)

func main() {
	destroy := flag.Bool("destroy", false, "destroy the local stack instead")
	kubeContext := flag.String("context", "", "kubeconfig context (default Pulumi.local.yaml's scalemate:local.context)")
	flag.Parse()
	if err := run(context.Background(), *destroy, *kubeContext); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, destroy bool, kubeContext string) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	tools, err := offline.Prepare(ctx, root)
	if err != nil {
		return err
	}
	provider, err := exec.Command(filepath.Join(root, "scripts", "kube-toolchain.sh"), "provider").Output()
	if err != nil {
		return fmt.Errorf("building the Kubernetes provider (scripts/kube-toolchain.sh provider): %w", err)
	}
	sep := string(os.PathListSeparator)
	// The real Kubernetes provider first. No pulumi-random plugin is served here: the stand-in
	// makes the passwords, from crypto/rand when SCALEMATE_STANDIN_RANDOM is set (README).
	env := map[string]string{
		"PATH":                     strings.TrimSpace(string(provider)) + sep + tools.StandIns + sep + os.Getenv("PATH"),
		"SCALEMATE_STANDIN_RANDOM": "1",
	}
	var config func(map[string]any)
	if kubeContext == "" {
		if kubeContext, err = stackContext(filepath.Join(root, "Pulumi.local.yaml")); err != nil {
			return err
		}
	} else {
		config = func(cfg map[string]any) {
			local, _ := cfg["scalemate:local"].(map[string]any)
			if local == nil {
				local = map[string]any{}
			}
			local["context"] = kubeContext
			cfg["scalemate:local"] = local
		}
	}
	// One state per cluster: with one state for all, naming another context would move the
	// stack, and the provider's replacement would delete everything (the databases' volumes
	// too) from the cluster used before.
	backend := filepath.Join(tools.Cache, "local-state", url.PathEscape(kubeContext))
	stack, err := tools.Stack(ctx, "local", offline.StackOptions{Backend: backend, Env: env, Config: config})
	if err != nil {
		return err
	}
	if destroy {
		_, err = stack.Destroy(ctx, optdestroy.Refresh(), optdestroy.ProgressStreams(os.Stdout))
		return err
	}
	// Refresh first: the state outlives local clusters (a kind cluster deleted and created
	// again), and what the cluster no longer has must be created again, not reported unchanged.
	res, err := tools.Up(ctx, stack, optup.Refresh(), optup.ProgressStreams(os.Stdout))
	if err != nil {
		return err
	}
	ns := res.Outputs["appNamespace"].Value
	fmt.Printf("\nThe local platform is up in namespace %v (data stores in %v). Reach a service with:\n  kubectl -n %v port-forward svc/web 8080:8080\n",
		ns, res.Outputs["dataNamespace"].Value, ns)
	return nil
}

// stackContext is the kubeconfig context a stack file names (scalemate:local.context).
func stackContext(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var file struct {
		Config struct {
			Local struct {
				Context string `yaml:"context"`
			} `yaml:"scalemate:local"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if file.Config.Local.Context == "" {
		return "", fmt.Errorf("%s sets no scalemate:local.context; name the cluster's context there or with -context", path)
	}
	return file.Config.Local.Context, nil
}
