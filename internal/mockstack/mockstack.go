// Package mockstack runs the program under mocks for a committed stack file, as the offline
// tools (mock plans, preflight, the critical path) and the stack tests do: the stack's config
// as the CLI would hand it, each encrypted value replaced by its offline placeholder and
// reported as a secret, as the CLI reports a value set with --secret.
package mockstack

import (
	"path/filepath"

	"github.com/scalemate/infra/infra"
	"github.com/scalemate/infra/internal/mocktest"
	"github.com/scalemate/infra/stacks"
)

// Config is Pulumi.<stack>.yaml's config in dir (with the project's defaults) and the keys it
// holds encrypted.
func Config(dir, stack string) (map[string]string, []string, error) {
	cfg, err := mocktest.StackConfig(filepath.Join(dir, "Pulumi."+stack+".yaml"))
	if err != nil {
		return nil, nil, err
	}
	var secret []string
	for k, v := range cfg {
		if v != mocktest.SecureValue {
			continue
		}
		secret = append(secret, k)
		if placeholder, ok := stacks.SecretKeys[k]; ok {
			cfg[k] = placeholder
		} else {
			cfg[k] = "offline-placeholder"
		}
	}
	return cfg, secret, nil
}

// Run runs the program for the stack, its config first changed by edit (nil: as committed).
func Run(dir, stack string, edit func(cfg map[string]string)) (*mocktest.Recorder, error) {
	cfg, secret, err := Config(dir, stack)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(cfg)
	}
	return mocktest.RunSecrets("scalemate", stack, cfg, secret, infra.Run)
}
