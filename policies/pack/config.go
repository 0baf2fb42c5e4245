package pack

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/scalemate/infra/policies/rules"
)

// Config is a --policy-pack-config file: per policy name, an enforcement level and
// properties. The "<pack>-settings" entries carry threshold overrides. It reads the forms the
// engine accepts: "name": "advisory", "name": {"enforcementLevel": ..., props...}, "all", and
// the {"version": 2, "policies": {...}} wrapper.
type Config map[string]map[string]any

// ReadConfig reads a policy config JSON file; "" is no config.
func ReadConfig(path string) (Config, error) {
	if path == "" {
		return Config{}, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(raw)
}

// ParseConfig parses policy config JSON.
func ParseConfig(raw []byte) (Config, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("policy config: %w", err)
	}
	if inner, ok := top["policies"]; ok && top["version"] != nil {
		top = nil
		if err := json.Unmarshal(inner, &top); err != nil {
			return nil, fmt.Errorf("policy config policies: %w", err)
		}
	}
	c := Config{}
	for name, v := range top {
		var level string
		if json.Unmarshal(v, &level) == nil {
			c[name] = map[string]any{"enforcementLevel": level}
			continue
		}
		var props map[string]any
		if err := json.Unmarshal(v, &props); err != nil {
			return nil, fmt.Errorf("policy config %q: want a level or an object: %w", name, err)
		}
		c[name] = props
	}
	return c, nil
}

// Settings are a pack's threshold overrides (the settings policy's properties).
func (c Config) Settings(pack string) map[string]any {
	out := map[string]any{}
	for k, v := range c[pack+"-settings"] {
		if k != "enforcementLevel" {
			out[k] = v
		}
	}
	return out
}

// Apply returns the rules with the enforcement levels the config sets ("all" first, then per
// rule); "disabled" removes a rule, as the engine does.
func (c Config) Apply(rs []rules.Rule) []rules.Rule {
	var out []rules.Rule
	for _, r := range rs {
		if lvl, ok := c["all"]["enforcementLevel"].(string); ok {
			r.Level = lvl
		}
		if lvl, ok := c[r.Name]["enforcementLevel"].(string); ok {
			r.Level = lvl
		}
		if r.Level == "disabled" {
			continue
		}
		out = append(out, r)
	}
	return out
}
