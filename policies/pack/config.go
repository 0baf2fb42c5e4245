package pack

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/scalemate/infra/policies/rules"
)

// Config is a --policy-pack-config file: per policy name, an enforcement level and
// properties. The "<pack>-settings" entries carry threshold overrides.
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
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("policy config %s: %w", path, err)
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

// Apply returns the rules with the enforcement levels the config sets; "disabled" removes a
// rule, as the engine does.
func (c Config) Apply(rs []rules.Rule) []rules.Rule {
	var out []rules.Rule
	for _, r := range rs {
		if lvl, ok := c[r.Name]["enforcementLevel"].(string); ok {
			if lvl == "disabled" {
				continue
			}
			r.Level = lvl
		}
		out = append(out, r)
	}
	return out
}
