// Package offline runs the program through the real Pulumi CLI and engine on a machine with no
// cloud account: the pinned CLI (built from the Go module proxy when missing), the offline
// provider stand-ins first on PATH, the policy packs as built binaries, a local file backend
// and passphrase secrets. The program runs inline (Automation API), so no Go language host is
// needed, and each workspace is a temporary copy of Pulumi.yaml and Pulumi.<stack>.yaml, so the
// committed stack files are never rewritten.
package offline

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/scalemate/infra/baseline/program"
	"github.com/scalemate/infra/infra"
	"github.com/scalemate/infra/stacks"
)

// Passphrase encrypts the offline stacks' secrets. It protects nothing real: the offline
// backend holds only fake resources.
const Passphrase = "scalemate-offline-preview"

// Tools are the built pieces an offline run needs.
type Tools struct {
	// Root is the repository root (Pulumi.yaml, go.mod).
	Root string
	// CLI is the Pulumi CLI's install root (its binary is CLI/bin/pulumi).
	CLI string
	// StandIns is the directory holding pulumi-resource-{aws,kubernetes,random}.
	StandIns string
	// Packs are the security and cost policy pack binaries.
	Packs []string
	// Cache is where builds and backends live.
	Cache string
}

// CacheDir is $SCALEMATE_CACHE, or $XDG_CACHE_HOME/scalemate, or ~/.cache/scalemate.
func CacheDir() string {
	if d := os.Getenv("SCALEMATE_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "scalemate")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "scalemate")
}

// moduleVersions reads the required versions of modules from go.mod (without the leading v).
func moduleVersions(root string, modules ...string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 {
			for _, m := range modules {
				if fields[0] == m {
					out[m] = strings.TrimPrefix(fields[1], "v")
				}
			}
		}
	}
	for _, m := range modules {
		if out[m] == "" {
			return nil, fmt.Errorf("go.mod requires no %s", m)
		}
	}
	return out, sc.Err()
}

func run(ctx context.Context, dir string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Prepare builds what is missing: the CLI (scripts/pulumi-cli.sh), the stand-ins and the packs.
// Go's build cache makes a second call take seconds.
func Prepare(ctx context.Context, root string) (*Tools, error) {
	t := &Tools{Root: root, Cache: CacheDir()}
	cli, err := run(ctx, root, filepath.Join(root, "scripts", "pulumi-cli.sh"))
	if err != nil {
		return nil, err
	}
	if filepath.Base(filepath.Dir(cli)) != "bin" {
		return nil, fmt.Errorf("pulumi CLI %s is not in a bin directory (the Automation API wants <root>/bin/pulumi)", cli)
	}
	t.CLI = filepath.Dir(filepath.Dir(cli))

	versions, err := moduleVersions(root, "github.com/pulumi/pulumi-aws/sdk/v6", "github.com/pulumi/pulumi-kubernetes/sdk/v4", "github.com/pulumi/pulumi-random/sdk/v4")
	if err != nil {
		return nil, err
	}
	t.StandIns = filepath.Join(t.Cache, "standins")
	if err := os.MkdirAll(t.StandIns, 0o755); err != nil {
		return nil, err
	}
	binary := filepath.Join(t.StandIns, "standin")
	ldflags := fmt.Sprintf("-X main.awsVersion=%s -X main.kubernetesVersion=%s -X main.randomVersion=%s",
		versions["github.com/pulumi/pulumi-aws/sdk/v6"], versions["github.com/pulumi/pulumi-kubernetes/sdk/v4"], versions["github.com/pulumi/pulumi-random/sdk/v4"])
	if _, err := run(ctx, root, "go", "build", "-ldflags", ldflags, "-o", binary, "./engine/standin"); err != nil {
		return nil, err
	}
	for _, p := range []string{"aws", "kubernetes", "random"} {
		link := filepath.Join(t.StandIns, "pulumi-resource-"+p)
		_ = os.Remove(link)
		if err := os.Link(binary, link); err != nil {
			return nil, fmt.Errorf("installing the %s stand-in: %w", p, err)
		}
	}
	packs, err := PreparePacks(ctx, root)
	if err != nil {
		return nil, err
	}
	t.Packs = packs.Packs
	return t, nil
}

// PreparePacks builds only the two policy pack binaries (for previews with a real CLI).
func PreparePacks(ctx context.Context, root string) (*Tools, error) {
	t := &Tools{Root: root, Cache: CacheDir()}
	for _, p := range []string{"security", "cost"} {
		out := filepath.Join(t.Cache, "packs", "scalemate-"+p)
		if _, err := run(ctx, root, "go", "build", "-o", out, "./policies/"+p); err != nil {
			return nil, err
		}
		t.Packs = append(t.Packs, out)
	}
	return t, nil
}

// StackOptions shape one offline stack.
type StackOptions struct {
	// Backend is the file backend directory; empty uses <cache>/backend.
	Backend string
	// Config edits the copy of Pulumi.<stack>.yaml's config block (keys as in the file).
	Config func(cfg map[string]any)
	// Env adds environment variables for the CLI and the stand-ins it starts (a test's
	// SCALEMATE_STANDIN_FAIL rehearses a failed step).
	Env map[string]string
	// Project is the Pulumi project's directory under the root: "" for the environment stacks,
	// "baseline" for the account baseline.
	Project string
	// Program replaces the project's program (the project and stack files stay the same): a
	// test that replays what the program registered, against a real provider.
	Program pulumi.RunFunc
}

// projects are the repository's Pulumi projects an offline run can drive, by directory.
var projects = map[string]struct {
	name string
	run  pulumi.RunFunc
}{
	"":         {"scalemate", infra.Run},
	"baseline": {"scalemate-baseline", program.Run},
}

// Stack selects (or creates) an offline stack in a fresh temporary workspace.
func (t *Tools) Stack(ctx context.Context, stack string, o StackOptions) (auto.Stack, error) {
	backend := o.Backend
	if backend == "" {
		backend = filepath.Join(t.Cache, "backend")
	}
	if err := os.MkdirAll(backend, 0o755); err != nil {
		return auto.Stack{}, err
	}
	work, err := os.MkdirTemp("", "scalemate-workspace-")
	if err != nil {
		return auto.Stack{}, err
	}
	project, ok := projects[o.Project]
	if !ok {
		return auto.Stack{}, fmt.Errorf("no Pulumi project %q here; projects: the root (\"\") and baseline", o.Project)
	}
	dir := filepath.Join(t.Root, o.Project)
	if err := copyFile(filepath.Join(dir, "Pulumi.yaml"), filepath.Join(work, "Pulumi.yaml")); err != nil {
		return auto.Stack{}, err
	}
	secure, err := writeStackFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), filepath.Join(work, "Pulumi."+stack+".yaml"), o.Config)
	if err != nil {
		return auto.Stack{}, err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: t.CLI})
	if err != nil {
		return auto.Stack{}, err
	}
	home := filepath.Join(t.Cache, "pulumi-home") // keeps the user's ~/.pulumi untouched
	env := map[string]string{
		"PATH":                     t.StandIns + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PULUMI_BACKEND_URL":       "file://" + backend,
		"PULUMI_CONFIG_PASSPHRASE": Passphrase,
		"PULUMI_HOME":              home,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
	}
	maps.Copy(env, o.Env)
	program := project.run
	if o.Program != nil {
		program = o.Program
	}
	s, err := auto.UpsertStackInlineSource(ctx, stack, project.name, program,
		auto.WorkDir(work), auto.Pulumi(cmd), auto.EnvVars(env))
	if err != nil {
		return s, err
	}
	// The stack file's encrypted values belong to its real secrets provider, which an offline
	// run cannot reach: each is set again as a secret of the offline stack, with its
	// placeholder, so the program sees a correctly set secret.
	for _, key := range secure {
		placeholder, ok := stacks.SecretKeys[key]
		if !ok {
			placeholder = "offline-placeholder"
		}
		if err := s.SetConfig(ctx, key, auto.ConfigValue{Value: placeholder, Secret: true}); err != nil {
			return s, fmt.Errorf("setting %s offline: %w", key, err)
		}
	}
	return s, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// writeStackFile copies a stack file for an offline run, letting edit change its config block.
// What belongs to the stack's real secrets provider is left out (secretsprovider, encryptedkey,
// encryptionsalt and each encrypted value); the keys of the encrypted values are returned.
func writeStackFile(from, to string, edit func(map[string]any)) ([]string, error) {
	raw, err := os.ReadFile(from)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	for _, k := range []string{"secretsprovider", "encryptedkey", "encryptionsalt"} {
		delete(doc, k)
	}
	cfg, _ := doc["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	if edit != nil {
		edit(cfg)
	}
	var secure []string
	for k, v := range cfg {
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			secure = append(secure, k)
			delete(cfg, k)
		}
	}
	sort.Strings(secure)
	doc["config"] = cfg
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return secure, os.WriteFile(to, out, 0o644)
}

// Up is `pulumi up` as the CLI runs it interactively: a preview with the policy packs first,
// and the update only when the preview passed. The Automation API's Up alone passes
// --skip-preview, so a mandatory violation found on one resource would stop the update only
// after the resources registered before it were created.
func (t *Tools) Up(ctx context.Context, s auto.Stack, opts ...optup.Option) (auto.UpResult, error) {
	if _, err := s.Preview(ctx, optpreview.PolicyPacks(t.Packs...)); err != nil {
		return auto.UpResult{}, fmt.Errorf("preview with policies failed; nothing was changed: %w", err)
	}
	return s.Up(ctx, append([]optup.Option{optup.PolicyPacks(t.Packs...)}, opts...)...)
}
