package stacks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/validate"
)

// Load reads the running stack's config and returns its validated Spec. Every key of the
// project's namespace is checked, not only those the program reads, and keys that hold
// credentials must be secrets.
func Load(ctx *pulumi.Context) (*Spec, error) {
	return resolve(ctx.Project(), ctx.Stack(), allConfig(ctx), ctx.IsConfigSecret)
}

// Resolve builds the Spec of a stack from its raw config, as the Pulumi CLI hands it to the
// program: scalars as strings, structured values as JSON. Tier defaults come first; the config
// overrides them field by field; then Validate checks the result. Every problem found, in
// decoding or validation, is returned in one error. Keys of SecretKeys count as secrets.
func Resolve(project, stack string, cfg map[string]string) (*Spec, error) {
	return resolve(project, stack, cfg, func(string) bool { return true })
}

func resolve(project, stack string, cfg map[string]string, secret func(string) bool) (*Spec, error) {
	var p validate.Problems
	checkKeys(&p, slices.Collect(maps.Keys(cfg)))
	checkSecrets(&p, cfg, secret)
	// Pulumi.yaml declares defaults that mean "unset" ("" for the tier, 0 for the retention),
	// because the CLI requires declared keys without a default.
	cfg = maps.Clone(cfg)
	for _, key := range []string{KeyTier, KeyLogRetentionDays, KeyOnCallWebhook, KeyPermissionsBoundary} {
		if v, ok := cfg[key]; ok && (v == "" || v == "0") {
			delete(cfg, key)
		}
	}
	tier := Tier(stack)
	if v, ok := cfg[KeyTier]; ok {
		tier = Tier(v)
	}
	if !slices.Contains(AllTiers, tier) {
		if _, ok := cfg[KeyTier]; ok {
			p.OneOf(KeyTier, string(tier), "local", "dev", "staging", "prod")
		} else {
			p.Addf(KeyTier, "must be set for stack %q (its name is not a tier); use one of local, dev, staging, prod", stack)
		}
		return nil, p.Err(fmt.Sprintf("invalid config for stack %q", stack))
	}
	if tier == Local {
		return resolveLocal(&p, project, stack, cfg)
	}

	spec := defaults(tier)
	spec.Project, spec.Stack = project, stack
	spec.Postgres.Identifier = project + "-" + stack
	spec.Redis.Identifier = project + "-" + stack + "-cache"
	spec.Region = cfg[KeyRegion]
	if tier == Prod {
		spec.Backup.DRRegion = defaultDRRegion(spec.Region)
	}
	if v, ok := cfg[KeyOwner]; ok {
		spec.Owner = v
	}
	spec.OnCallWebhookURL = cfg[KeyOnCallWebhook]
	// The pipeline's stacks (named after their tier) get its runner and preview role; an
	// ad-hoc stack (dev-alice) has neither unless its config asks, and takes its tier's boundary.
	spec.CI.Runner, spec.CI.PreviewRole = stack == string(tier), stack == string(tier)
	spec.PermissionsBoundary = project + "-" + string(tier) + "-boundary"
	if v, ok := cfg[KeyPermissionsBoundary]; ok {
		spec.PermissionsBoundary = v
	}
	if v, ok := cfg[KeyLogRetentionDays]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.Addf(KeyLogRetentionDays, "%q is not a whole number of days", v)
		}
		spec.LogRetentionDays = n
	}
	for _, kv := range []struct {
		key string
		dst any
	}{
		{KeyNetwork, &spec.Network}, {KeyCluster, &spec.Cluster},
		{KeyPostgres, &spec.Postgres}, {KeyRedis, &spec.Redis}, {KeyBackup, &spec.Backup}, {KeyEdge, &spec.Edge},
		{KeyMonitoring, &spec.Monitoring}, {KeyApp, &spec.App}, {KeyCI, &spec.CI},
	} {
		if raw, ok := cfg[kv.key]; ok {
			decodeStrict(&p, kv.key, raw, kv.dst)
		}
	}
	decodePools(&p, cfg, &spec)
	spec.Network.prefixesSet = hasField(cfg[KeyNetwork], "subnetPrefixes")
	if spec.App.Services == nil {
		spec.App.Services = defaultServices()
	}
	spec.App.withServiceDefaults(tier)
	spec.Monitoring.withCanaryDefaults(spec.App.Services)
	spec.Cluster.AddonVersions = withAddonPins(spec.Cluster.Version, spec.Cluster.AddonVersions)
	for name, np := range spec.NodePools {
		if np.DesiredSize == unsetDesired {
			np.DesiredSize = np.MinSize
			spec.NodePools[name] = np
		}
	}
	// Validate even after a decode problem: the keys that decoded still get checked, so one
	// run shows every problem (a key that failed to decode keeps its defaults).
	spec.validate(&p)
	if err := p.Err(fmt.Sprintf("invalid config for stack %q (tier %s)", stack, tier)); err != nil {
		// The Spec comes back too, so the components can check what they can of it.
		return &spec, err
	}
	return &spec, nil
}

// decodeStrict overlays the JSON object raw, the value of config key, onto dst (which holds the
// defaults). Unknown fields and wrong types are reported with the full key path.
func decodeStrict(p *validate.Problems, key, raw string, dst any) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		return
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		p.Addf(key, "must be an object with fields %s; got a %s", strings.Join(jsonFields(dst), ", "), typeErr.Value)
	case errors.As(err, &typeErr):
		p.Addf(key+"."+typeErr.Field, "expected %s, got a %s", typeErr.Type, typeErr.Value)
	case errors.As(err, &syntaxErr):
		p.Addf(key, "is not a YAML/JSON object: %v", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		p.Addf(key, "unknown field %s; known fields: %s", field, strings.Join(jsonFields(dst), ", "))
	default:
		p.Addf(key, "%v", err)
	}
}

// decodePools overlays scalemate:nodePools onto the tier's pools: a pool named like a tier pool
// changes only the fields it sets, a new name adds a pool (from the base defaults), and null
// removes a tier pool.
func decodePools(p *validate.Problems, cfg map[string]string, spec *Spec) {
	raw, ok := cfg[KeyNodePools]
	if !ok {
		return
	}
	var byName map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &byName); err != nil {
		p.Addf(KeyNodePools, "must be an object of node pools by name: %v", err)
		return
	}
	for name, body := range byName {
		if string(body) == "null" {
			delete(spec.NodePools, name)
			continue
		}
		np, ok := spec.NodePools[name]
		if !ok {
			np = basePool
		}
		decodeStrict(p, KeyNodePools+"."+name, string(body), &np)
		spec.NodePools[name] = np
	}
}

// jsonFields lists the JSON field names of the struct dst points to.
func jsonFields(dst any) []string {
	t := reflect.TypeOf(dst).Elem()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// withAddonPins is the stack's addon pins completed with the program's for the version.
func withAddonPins(version string, pinned map[string]string) map[string]string {
	out := maps.Clone(AddonPins[version])
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, pinned)
	return out
}

// hasField reports whether the JSON object raw sets field.
func hasField(raw, field string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &m) != nil {
		return false
	}
	_, ok := m[field]
	return ok
}

// resolveLocal builds the Spec of a local-tier stack: the application and the local cluster's
// settings only. A key that configures AWS is refused rather than ignored, so nobody believes a
// local stack has, say, a WAF.
func resolveLocal(p *validate.Problems, project, stack string, cfg map[string]string) (*Spec, error) {
	spec := defaults(Local)
	spec.Project, spec.Stack = project, stack
	for _, key := range slices.Sorted(maps.Keys(cfg)) {
		// Pulumi.yaml's defaults ({}, "", 0) reach every stack and mean "unset".
		if v := cfg[key]; v == "{}" || v == "" || v == "0" {
			continue
		}
		if strings.HasPrefix(key, Namespace) && slices.Contains(Keys, key) && !slices.Contains(LocalKeys, key) || key == KeyRegion {
			p.Addf(key, "configures AWS, which the local tier has none of: remove it (the local tier reads %s)", strings.Join(LocalKeys, ", "))
		}
	}
	if v, ok := cfg[KeyOwner]; ok {
		spec.Owner = v
	}
	for _, kv := range []struct {
		key string
		dst any
	}{{KeyApp, &spec.App}, {KeyLocal, &spec.Local}} {
		if raw, ok := cfg[kv.key]; ok {
			decodeStrict(p, kv.key, raw, kv.dst)
		}
	}
	if spec.App.Services == nil {
		spec.App.Services = defaultServices()
	}
	spec.App.withServiceDefaults(Local)
	spec.validateLocal(p)
	if err := p.Err(fmt.Sprintf("invalid config for stack %q (tier %s)", stack, Local)); err != nil {
		return &spec, err
	}
	return &spec, nil
}
