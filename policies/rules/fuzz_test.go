package rules

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/analyzed"
)

// setAt returns v with the value at path (segments: keys, "[i]" for list elements) replaced,
// making the objects on the way where they are absent.
func setAt(v property.Value, path []string, nv property.Value) property.Value {
	if len(path) == 0 {
		return nv
	}
	if strings.HasPrefix(path[0], "[") {
		n, _ := strconv.Atoi(strings.Trim(path[0], "[]"))
		items := append([]property.Value(nil), v.AsArray().AsSlice()...)
		items[n] = setAt(items[n], path[1:], nv)
		return property.New(property.NewArray(items))
	}
	if !v.IsMap() {
		v = property.New(property.NewMap(nil))
	}
	mp := v.AsMap()
	child, _ := mp.GetOk(path[0])
	return property.New(mp.Set(path[0], setAt(child, path[1:], nv)))
}

// mutations of a field read as want: values of the wrong type or out of range (which must be
// violations) and unknowns (which must be reported, as unknown or as violations).
func mutations(want string) map[string]property.Value {
	unknown := property.New(property.Computed)
	out := map[string]property.Value{"unknown": unknown}
	switch want {
	case "a bool":
		out["wrong type: the string \"true\""] = property.New("true")
		out["wrong type: a list"] = property.New(property.NewArray([]property.Value{property.New(true)}))
	case "a number":
		out["wrong type: a numeric string"] = property.New("30")
		out["huge: 1e300"] = property.New(1e300)
		out["huge: -1e300"] = property.New(-1e300)
	case "a string":
		out["wrong type: a number"] = property.New(1.0)
		out["wrong type: an object"] = property.New(property.NewMap(map[string]property.Value{"Version": property.New("2012-10-17")}))
	case "a list":
		out["wrong type: one string, not a list"] = property.New("x")
		out["nested unknown"] = property.New(property.NewArray([]property.Value{unknown}))
	case "an object":
		out["wrong type: a string"] = property.New("x")
		out["nested unknown"] = property.New(property.NewMap(map[string]property.Value{"x": unknown}))
	}
	return out
}

// No silent pass: every field every rule reads on its compliant case is mutated (wrong type,
// out of range, unknown, nested unknown) and the rule's verdict checked: a violation or an
// unknown finding, never a clean pass and never a crash. Null and empty values are mutated too,
// for crashes only: absent is a meaning of its own (a default) that each rule's cases judge.
func TestNoSilentPass(t *testing.T) {
	caught := mutate(t)
	total := 0
	for _, n := range caught {
		total += n
	}
	t.Logf("%d mutations of fields the rules read, all reported", total)
	assert.Greater(t, total, 300, "the mutations reach the rules' fields")
}

// mutate runs the mutations of every rule's compliant case and returns, per rule, how many it
// reported (it fails t for each one it passed silently).
func mutate(t *testing.T) map[string]int {
	t.Helper()
	caught := map[string]int{}
	for _, r := range All() {
		c, ok := cases[r.Name]
		if !ok {
			continue
		}
		th, err := ForTier(c.tier)
		require.NoError(t, err)
		good := c.good()
		for i, res := range good {
			if r.Resource != nil && !slices.Contains(r.Types, res.Type) {
				continue
			}
			// What the rule reads on this resource, and as what.
			tracked, report := res.Tracked()
			chk := &Check{T: th, rule: r, stack: index(good)}
			if r.Stack != nil {
				rs := append([]analyzed.Resource(nil), good...)
				rs[i] = tracked
				r.Stack(chk, rs)
			} else {
				r.Resource(chk, tracked)
			}
			_, reads := report()
			paths := make([]string, 0, len(reads))
			for p := range reads {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			for _, path := range paths {
				for name, v := range mutations(reads[path]) {
					rs := append([]analyzed.Resource(nil), good...)
					m := rs[i]
					m.Props = setAt(property.New(m.Props), strings.Split(path, analyzed.PathSep), v).AsMap()
					rs[i] = m
					var findings []Finding
					require.NotPanics(t, func() { findings = r.Run(rs, th) }, "%s: %s %s", r.Name, path, name)
					switch {
					case len(findings) > 0:
						caught[r.Name]++
					case meaningful[r.Name+" "+path] == "" && meaningful[path] == "":
						t.Errorf("%s: %s set to %s passes silently", r.Name, strings.ReplaceAll(path, analyzed.PathSep, "."), name)
					}
				}
				for _, v := range []property.Value{property.New(property.Null), property.New(""), property.New(property.NewArray(nil)), property.New(property.NewMap(nil))} {
					rs := append([]analyzed.Resource(nil), good...)
					m := rs[i]
					m.Props = setAt(property.New(m.Props), strings.Split(path, analyzed.PathSep), v).AsMap()
					rs[i] = m
					require.NotPanics(t, func() { r.Run(rs, th) }, "%s: %s set to %v", r.Name, path, v)
				}
			}
		}
	}
	return caught
}

// meaningful are the fields ("rule path", or a path for every rule) whose unknown value has a
// meaning of its own, so a pass on it is a verdict, not silence.
var meaningful = map[string]string{
	"replicateSourceDb":            "set at all, even unknown, marks a read replica (a primary leaves it unset): primary-only rules skip it, the caps count it",
	"alb-waf internal":             "an unknown scheme is judged as internet-facing, the stricter case",
	"canary-watched alarmActions":  "a list with an element, even one not known yet, is an alarm action",
	"canary-watched metricQueries": "the case's other alarm, on the canary's own metric, is known to watch it",
	"cloudfront-s3-origin-access-control origins\x1f[0]\x1foriginAccessControlId":                "an access control ID, even one not known yet, is set: the origin uses access control",
	"cloudfront-response-headers-policy defaultCacheBehavior\x1fresponseHeadersPolicyId":         "an ID not known yet, on a distribution that depends on the stack's headers policy, is that policy's",
	"cloudfront-response-headers-policy orderedCacheBehaviors\x1f[0]\x1fresponseHeadersPolicyId": "an ID not known yet, on a distribution that depends on the stack's headers policy, is that policy's",
	"log-metric-filter-alarmed metricQueries":                                                    "the case's alarm names the filter's metric directly; its queries (AWS allows one or the other) do not change that",
	"k8s-rbac-least-privilege metadata":                                                          "the role's name only adds bindings found by name; the case's binding is found by dependency",
	"cis-trail-metric-filters cloudWatchLogsGroupArn":                                            "a log group ARN, even one not known yet, means delivery to CloudWatch Logs: the filters are judged",
}

// The wrong types a careless or hostile config brings are violations that name the field,
// never passes: the string "true" for a bool, one string for a list, a number as a string, an
// overflowing number, an IAM document as an object, a malformed document, a wildcard principal
// spelled with other whitespace.
func TestWrongTypesAreViolations(t *testing.T) {
	byName := map[string]Rule{}
	for _, r := range All() {
		byName[r.Name] = r
	}
	for _, tc := range []struct {
		rule string
		r    analyzed.Resource
		want string
	}{
		{"rds-not-public", res(TypeDBInstance, with(goodDB, "publiclyAccessible", "true")), `publiclyAccessible is the string "true" where a bool is expected`},
		{"eks-endpoint-restricted", res(TypeCluster, with(goodCluster, "vpcConfig", map[string]any{"endpointPublicAccess": true, "publicAccessCidrs": "0.0.0.0/0"})),
			`vpcConfig.publicAccessCidrs is the string "0.0.0.0/0" where a list is expected`},
		{"rds-backup-retention", res(TypeDBInstance, with(goodDB, "backupRetentionPeriod", "30")), `backupRetentionPeriod is the string "30" where a number is expected`},
		{"rds-backup-retention", res(TypeDBInstance, with(goodDB, "backupRetentionPeriod", 1e300)), "backupRetentionPeriod is the number 1e+300 where a number within ±2^53 is expected"},
		{"iam-trust-no-wildcard-principal", res(TypeRole, map[string]any{"assumeRolePolicy": map[string]any{"Version": "2012-10-17"}}), "assumeRolePolicy is an object where a string is expected"},
		{"iam-trust-no-wildcard-principal", res(TypeRole, map[string]any{"assumeRolePolicy": `{"Statement": [ {"Effect": "Allow", "Principal": { "AWS" : [ "*" ] }, "Action": "sts:AssumeRole"} ]}`}), "the trust policy allows any principal"},
		{"iam-no-admin-access", res(TypeRolePolicy, map[string]any{"policy": `{"Statement": [`}), "policy is not a JSON policy document"},
	} {
		t.Run(tc.rule+" "+tc.want, func(t *testing.T) {
			th, err := ForTier("dev")
			require.NoError(t, err)
			var msgs []string
			for _, f := range violations(byName[tc.rule].Run([]analyzed.Resource{tc.r}, th)) {
				msgs = append(msgs, f.Message)
			}
			assert.Contains(t, strings.Join(msgs, "\n"), tc.want)
		})
	}
}
