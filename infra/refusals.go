package infra

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/scalemate/infra/stacks"
)

// refusals are the problems of a stack's config, from every stage (the stack's own validation
// and each component's check of the args the config fed it), in config words: a component
// problem "Field: message" is renamed to the config key path the field came from, so a user
// reads the key they wrote, not a Go field.
type refusals struct {
	stack    string
	problems []string
}

// Error lists every problem, one a line.
func (r *refusals) Error() string {
	return fmt.Sprintf("invalid config for stack %q:\n  - %s", r.stack, strings.Join(r.problems, "\n  - "))
}

// err is r as an error, or nil without problems.
func (r *refusals) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return r
}

// merge adds another stage's problems: refusals as they are, other errors by their lines.
func (r *refusals) merge(err error) {
	if err == nil {
		return
	}
	var other *refusals
	if errors.As(err, &other) {
		for _, p := range other.problems {
			r.addProblem(p)
		}
		return
	}
	lines := problemLines(err)
	if len(lines) == 0 {
		r.addProblem(err.Error())
	}
	for _, l := range lines {
		r.addProblem(l)
	}
}

// addProblem records one "key: message" line, once.
func (r *refusals) addProblem(line string) {
	if !slices.Contains(r.problems, line) {
		r.problems = append(r.problems, line)
	}
}

// section is the top-level config key of a problem line (scalemate:network of
// scalemate:network.cidr: ...).
func section(line string) string {
	key, _, _ := strings.Cut(line, ": ")
	if i := strings.IndexAny(key[min(len(key), len(stacks.Namespace)):], ".["); i >= 0 {
		return key[:len(stacks.Namespace)+i]
	}
	return key
}

// mergeComponents adds the components' problems of a config that failed its own validation,
// leaving out every section that validation already refused: a component checking what the
// stack stage rejected (or what follows from it, such as the subnets of a VPC it refused)
// would only repeat the mistake under a key the user never set.
func (r *refusals) mergeComponents(err error) {
	if err == nil {
		return
	}
	// The stack stage validates the network whole; a component's view of it (the subnet plan)
	// only repeats its problems, or those of the region the AZs follow.
	refused := map[string]bool{stacks.KeyNetwork: true, stacks.KeyRegion: true}
	for _, p := range r.problems {
		refused[section(p)] = true
	}
	for _, line := range problemLines(err) {
		if !refused[section(line)] {
			r.addProblem(line)
		}
	}
}

// component adds a component's check error (nil: nothing). fields maps a component field path,
// or its prefix, to the config key path that fed it; any other field is taken to be key's field
// of the same name.
func (r *refusals) component(err error, key string, fields map[string]string) {
	if err == nil {
		return
	}
	lines := problemLines(err)
	if len(lines) == 0 {
		r.addProblem(key + ": " + err.Error())
		return
	}
	for _, line := range lines {
		field, msg, ok := strings.Cut(line, ": ")
		if !ok {
			r.addProblem(key + ": " + line)
			continue
		}
		r.addProblem(configPath(key, field, fields) + ": " + msg)
	}
}

// withCommon adds the fields every component shares with the stack's top-level config.
func withCommon(fields map[string]string) map[string]string {
	out := map[string]string{"Region": stacks.KeyRegion, "LogRetentionDays": stacks.KeyLogRetentionDays,
		"AvailabilityZones": stacks.KeyNetwork + ".availabilityZones"}
	maps.Copy(out, fields)
	return out
}

// problemLines are the "  - " lines of a validate.Problems error.
func problemLines(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if p, ok := strings.CutPrefix(l, "  - "); ok {
			out = append(out, p)
		}
	}
	return out
}

// configPath is the config key path of component field path field (ReadReplicas,
// Warning.Emails[0]) under key, by the longest prefix fields names, else by the JSON naming of
// the config: lowerCamel segments (MultiAZ -> multiAz, PublicAccessCIDRs -> publicAccessCidrs).
func configPath(key, field string, fields map[string]string) string {
	best := ""
	for prefix := range fields {
		if (field == prefix || strings.HasPrefix(field, prefix+".") || strings.HasPrefix(field, prefix+"[")) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best != "" {
		return fields[best] + lowerCamelPath(strings.TrimPrefix(field, best))
	}
	return key + "." + lowerCamelPath(field)
}

// lowerCamelPath renames each segment of a Go field path (dots and [index] kept).
func lowerCamelPath(path string) string {
	var b strings.Builder
	seg := func(s string) {
		name, rest, _ := strings.Cut(s, "[")
		b.WriteString(lowerCamel(name))
		if rest != "" {
			b.WriteString("[" + rest)
		}
	}
	for i, s := range strings.Split(path, ".") {
		if i > 0 {
			b.WriteString(".")
		}
		seg(s)
	}
	return b.String()
}

// lowerCamel turns a Go name into the config's JSON spelling: words split at case changes, an
// acronym one word (with a plural s: ARNs, CIDRs), the first word lower case, acronyms after it
// capitalised (HTTPSEndpoints -> httpsEndpoints, MultiAZ -> multiAz).
func lowerCamel(name string) string {
	r := []rune(name)
	var words []string
	for i := 0; i < len(r); {
		j := i + 1
		if unicode.IsUpper(r[i]) && j < len(r) && unicode.IsUpper(r[j]) {
			for j < len(r) && unicode.IsUpper(r[j]) && !(j+1 < len(r) && unicode.IsLower(r[j+1]) && !(r[j+1] == 's' && (j+2 == len(r) || unicode.IsUpper(r[j+2])))) {
				j++
			}
			if j < len(r) && r[j] == 's' && (j+1 == len(r) || unicode.IsUpper(r[j+1])) {
				j++
			}
		} else {
			for j < len(r) && !unicode.IsUpper(r[j]) {
				j++
			}
		}
		words = append(words, string(r[i:j]))
		i = j
	}
	for i, w := range words {
		if i == 0 {
			words[i] = strings.ToLower(w)
		} else {
			words[i] = strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
		}
	}
	return strings.Join(words, "")
}
