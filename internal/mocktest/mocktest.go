// Package mocktest runs a Pulumi program under pulumi.WithMocks and records every resource it
// registers (inputs and options), so tests can assert on what a component or a whole stack would
// create. Outputs that AWS computes (ARNs, endpoints, OIDC issuers) get deterministic fakes.
package mocktest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/scalemate/infra/internal/fakecloud"
	"github.com/scalemate/infra/policies/analyzed"
)

// Resource is one registration seen by the mock monitor.
type Resource struct {
	URN                 string
	Type, Name          string
	Custom              bool
	Inputs              resource.PropertyMap
	Parent              string // URN of the parent
	Provider            string // provider reference (URN::id)
	Dependencies        []string
	Protect             bool
	RetainOnDelete      bool
	DeleteBeforeReplace bool
	IgnoreChanges       []string
}

// Recorder is a pulumi.MockResourceMonitor that keeps every registration.
type Recorder struct {
	project, stack string
	mu             sync.Mutex
	resources      []Resource
}

// NewResource records the registration and returns its inputs plus faked computed outputs.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		rec.Parent, rec.Provider, rec.Dependencies = rpc.GetParent(), rpc.GetProvider(), rpc.GetDependencies()
		rec.Protect, rec.RetainOnDelete, rec.IgnoreChanges = rpc.GetProtect(), rpc.GetRetainOnDelete(), rpc.GetIgnoreChanges()
		rec.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
	}
	// The same URN the mock monitor gives the resource.
	parentType := tokens.Type("")
	if p := resource.URN(rec.Parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	rec.URN = string(resource.NewURN(tokens.QName(r.stack), tokens.PackageName(r.project), parentType, tokens.Type(rec.Type), rec.Name))
	r.mu.Lock()
	r.resources = append(r.resources, rec)
	r.mu.Unlock()

	state := args.Inputs
	if args.Custom {
		state = fakecloud.Outputs(args.TypeToken, args.Name, args.Inputs)
	}
	return args.Name + "-id", state, nil
}

// Call answers the few invokes the program makes; any other invoke fails loudly.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return fakecloud.Invoke(args.Token, args.Args)
}

// Run executes program under mocks with the given stack name and config (keys like
// "scalemate:network", values as the CLI passes them: structured values as JSON).
func Run(project, stack string, config map[string]string, program pulumi.RunFunc) (*Recorder, error) {
	return RunSecrets(project, stack, config, nil, program)
}

// RunSecrets is Run with the keys the CLI would report as secrets (set with --secret).
func RunSecrets(project, stack string, config map[string]string, secret []string, program pulumi.RunFunc) (*Recorder, error) {
	rec := &Recorder{project: project, stack: stack}
	err := pulumi.RunErr(program, pulumi.WithMocks(project, stack, rec), func(info *pulumi.RunInfo) {
		info.Config, info.ConfigSecretKeys = config, secret
	})
	return rec, err
}

// SecureValue stands for a value the stack file holds encrypted (`secure: ...`): offline tools
// cannot read it, and replace it with a placeholder of their own.
const SecureValue = "<secure>"

// All returns every recorded resource, sorted by type then name.
func (r *Recorder) All() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Resource(nil), r.resources...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// OfType returns the recorded resources of one type token, sorted by name.
func (r *Recorder) OfType(token string) []Resource {
	var out []Resource
	for _, res := range r.All() {
		if res.Type == token {
			out = append(out, res)
		}
	}
	return out
}

// Component runs one component constructor under mocks as the "dev" stack of project "test":
// the whole program of a component's unit tests.
func Component[A, C any](newFn func(*pulumi.Context, string, A, ...pulumi.ResourceOption) (C, error), name string, args A) (*Recorder, error) {
	return Run("test", "dev", nil, func(ctx *pulumi.Context) error {
		_, err := newFn(ctx, name, args)
		return err
	})
}

// MustComponent is Component for args that must be accepted: an error fails the test.
func MustComponent[A, C any](t TB, newFn func(*pulumi.Context, string, A, ...pulumi.ResourceOption) (C, error), name string, args A) *Recorder {
	t.Helper()
	rec, err := Component(newFn, name, args)
	if err != nil {
		t.Fatalf("%s refused its args: %v", name, err)
	}
	return rec
}

// Named returns the resource of the given type and logical name, and whether it exists.
func (r *Recorder) Named(token, name string) (Resource, bool) {
	for _, res := range r.OfType(token) {
		if res.Name == name {
			return res, true
		}
	}
	return Resource{}, false
}

// TB is the part of testing.TB that Must and Refused use; declared here so that the commands
// built on this package (mockplan, critpath) do not link the testing package.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Must returns the resource of the given type and logical name, failing the test when the
// program did not register it.
func (r *Recorder) Must(t TB, token, name string) Resource {
	t.Helper()
	res, ok := r.Named(token, name)
	if !ok {
		t.Fatalf("no %s named %q registered", token, name)
	}
	return res
}

// Refused checks that a program refused its input: err names every want, and nothing was
// registered before the refusal.
func (r *Recorder) Refused(t TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the input was accepted; want an error naming %q", want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not name %q:\n%v", w, err)
		}
	}
	if n := len(r.All()); n > 0 {
		t.Errorf("%d resources registered before the input was refused", n)
	}
}

// Input returns a top-level input as a plain Go value (strings, float64, bool, []any,
// map[string]any), unwrapping secrets; nil when unset.
func (res Resource) Input(key string) any {
	v, ok := res.Inputs[resource.PropertyKey(key)]
	if !ok {
		return nil
	}
	return plain(v)
}

func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsOutput():
		return plain(v.OutputValue().Element)
	case v.IsNull():
		return nil
	}
	return v.Mappable()
}

// StackConfig reads a Pulumi.<stack>.yaml, and the defaults Pulumi.yaml beside it declares,
// and returns the config the way the CLI hands it to a program: scalar values as strings,
// structured values as JSON, project defaults under "<project>:<key>" unless the stack sets them,
// encrypted values as SecureValue.
func StackConfig(path string) (map[string]string, error) {
	var stack struct {
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(path, &stack); err != nil {
		return nil, err
	}
	var project struct {
		Name   string `yaml:"name"`
		Config map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"config"`
	}
	if err := readYAML(filepath.Join(filepath.Dir(path), "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	out := map[string]string{}
	add := func(k string, v any) error {
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			out[k] = SecureValue
			return nil
		}
		switch v := v.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", path, k, err)
			}
			out[k] = string(b)
		default:
			out[k] = fmt.Sprint(v)
		}
		return nil
	}
	for k, decl := range project.Config {
		if decl.Default != nil {
			if err := add(project.Name+":"+k, decl.Default); err != nil {
				return nil, err
			}
		}
	}
	for k, v := range stack.Config {
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readYAML(path string, into any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}

// Analyzed is what the policy packs would see of the run: every registration with its
// inputs, protect option and dependencies.
func (r *Recorder) Analyzed() []analyzed.Resource {
	var out []analyzed.Resource
	for _, res := range r.All() {
		out = append(out, analyzed.Resource{
			Type: res.Type, Name: res.Name, URN: res.URN, Props: resource.FromResourcePropertyMap(res.Inputs),
			Protect: res.Protect, Parent: res.Parent, Dependencies: res.Dependencies,
		})
	}
	return out
}

// Get walks a registered input (as Resource.Input returns it) by map keys (strings) and list
// indexes (ints); nil where the path leads nowhere.
func Get(v any, path ...any) any {
	for _, k := range path {
		switch key := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[key]
		case int:
			l, ok := v.([]any)
			if !ok || key < 0 || key >= len(l) {
				return nil
			}
			v = l[key]
		}
	}
	return v
}
