package stacks

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/validate"
)

// Namespace is the project's config namespace; every key in it must be one of Keys.
const Namespace = "scalemate:"

// SecretKeys are the keys whose values embed a credential: they must be set with --secret. Each
// has a placeholder that offline tools (mock plans, preflight) use for an encrypted value they
// cannot read.
var SecretKeys = map[string]string{KeyOnCallWebhook: "https://on-call.invalid/offline-placeholder"}

// checkKeys refuses keys of the project's namespace the program does not read: a misspelled
// key (did you mean ...), and the dotted form `pulumi config set` writes without --path, which
// would otherwise be ignored and leave the tier's defaults in place.
func checkKeys(p *validate.Problems, keys []string) {
	for _, key := range slices.Sorted(slices.Values(keys)) {
		if !strings.HasPrefix(key, Namespace) || slices.Contains(Keys, key) {
			continue
		}
		name := strings.TrimPrefix(key, Namespace)
		if top, _, dotted := strings.Cut(name, "."); dotted && slices.Contains(Keys, Namespace+top) {
			p.Addf(key, "is a key with a dot in its name, which `pulumi config set` writes without --path: the program reads %s%s and ignores it; remove it (`pulumi config rm %s`) and set `pulumi config set --path %s <value>`",
				Namespace, top, key, key)
			continue
		}
		if near := closest(key, Keys); near != "" {
			p.Addf(key, "is not a config key of this program; did you mean %s?", near)
		} else {
			p.Addf(key, "is not a config key of this program; its keys are %s", strings.Join(Keys, ", "))
		}
	}
}

// checkSecrets refuses a credential-bearing key set in plain text (it would be committed in
// Pulumi.<stack>.yaml as written).
func checkSecrets(p *validate.Problems, cfg map[string]string, secret func(string) bool) {
	for _, key := range slices.Sorted(maps.Keys(SecretKeys)) {
		if v, ok := cfg[key]; ok && v != "" && !secret(key) {
			p.Addf(key, "holds a credential and is in plain text; set it as a secret: pulumi config set --secret %s <value>", key)
		}
	}
}

// closest is the known key nearest to key by edit distance, if it is near enough to be a typo.
func closest(key string, known []string) string {
	best, bestD := "", 4
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// allConfig is every config value of the running stack. The Go SDK offers only lookups by key,
// but it holds the whole map: from PULUMI_CONFIG when the CLI runs the program, from the run
// request for an inline (Automation API) program and under mocks. Both land in the context's
// run info, read here by reflection on the pinned SDK (TestUnknownKeysRefused fails if that
// ever changes); PULUMI_CONFIG is the fallback.
func allConfig(ctx *pulumi.Context) map[string]string {
	out := map[string]string{}
	state := reflect.ValueOf(ctx).Elem().FieldByName("state")
	if state.IsValid() && state.Kind() == reflect.Pointer && !state.IsNil() {
		if cfg := state.Elem().FieldByName("info").FieldByName("Config"); cfg.IsValid() && cfg.Kind() == reflect.Map {
			for _, k := range cfg.MapKeys() {
				out[k.String()] = cfg.MapIndex(k).String()
			}
			return out
		}
	}
	if raw := os.Getenv(pulumi.EnvConfig); raw != "" {
		_ = json.Unmarshal([]byte(raw), &out)
	}
	return out
}
