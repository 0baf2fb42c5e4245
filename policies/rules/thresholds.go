package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Thresholds are the per-environment settings the rules judge against. The stack's tier picks
// the defaults; a pack's "<pack>-settings" policy config can override any of them.
type Thresholds struct {
	// Tier is local, dev, staging or prod.
	Tier string `json:"tier"`

	// MinBackupRetentionDays for RDS primaries (point-in-time recovery window).
	MinBackupRetentionDays int `json:"minBackupRetentionDays"`
	// RequireMultiAZ for RDS primaries and replicated caches.
	RequireMultiAZ bool `json:"requireMultiAz"`
	// RequireDeletionProtection for RDS primaries.
	RequireDeletionProtection bool `json:"requireDeletionProtection"`
	// RequirePrivateAPIEndpoint refuses any public EKS endpoint.
	RequirePrivateAPIEndpoint bool `json:"requirePrivateApiEndpoint"`
	// RequireProtect requires Pulumi's protect option on stateful resources.
	RequireProtect bool `json:"requireProtect"`
	// RequireVaultLock requires a lock on every backup vault.
	RequireVaultLock bool `json:"requireVaultLock"`
	// MinLogRetentionDays for every CloudWatch log group.
	MinLogRetentionDays int `json:"minLogRetentionDays"`
	// MinCacheSnapshotDays for ElastiCache replication groups.
	MinCacheSnapshotDays int `json:"minCacheSnapshotDays"`
	// KubernetesVersions are the EKS versions in standard support.
	KubernetesVersions []string `json:"kubernetesVersions"`

	// AllowedInstanceTypes are glob patterns for node instance types.
	AllowedInstanceTypes []string `json:"allowedInstanceTypes"`
	// AllowedDBClasses are glob patterns for RDS instance classes.
	AllowedDBClasses []string `json:"allowedDbClasses"`
	// AllowedCacheNodeTypes are glob patterns for ElastiCache node types.
	AllowedCacheNodeTypes []string `json:"allowedCacheNodeTypes"`
	// MaxNodesPerPool caps one node group's maxSize.
	MaxNodesPerPool int `json:"maxNodesPerPool"`
	// MaxTotalNodes caps the sum of all node groups' maxSize.
	MaxTotalNodes int `json:"maxTotalNodes"`
	// MaxDBReplicas caps RDS read replicas.
	MaxDBReplicas int `json:"maxDbReplicas"`
	// MaxCacheNodes caps shards x (1 + replicas) per replication group.
	MaxCacheNodes int `json:"maxCacheNodes"`
	// RequireSpot requires SPOT capacity for every node group.
	RequireSpot bool `json:"requireSpot"`
	// MaxNATGateways caps NAT gateways.
	MaxNATGateways int `json:"maxNatGateways"`
	// MaxLogRetentionDays caps log group retention (cost).
	MaxLogRetentionDays int `json:"maxLogRetentionDays"`
	// AllowedPriceClasses for CloudFront distributions.
	AllowedPriceClasses []string `json:"allowedPriceClasses"`
	// MonthlyBudgetUSD is the most the stack may cost per month by the cost model.
	MonthlyBudgetUSD float64 `json:"monthlyBudgetUsd"`
}

var kubernetesVersions = []string{"1.33", "1.34", "1.35"}

// Tiers are the environment tiers, least strict first.
var Tiers = []string{"local", "dev", "staging", "prod"}

// ForTier returns the thresholds of a tier (DESIGN.md section 2).
func ForTier(tier string) (Thresholds, error) {
	base := Thresholds{
		Tier:                 tier,
		KubernetesVersions:   slices.Clone(kubernetesVersions), // overrides decode into it
		MinCacheSnapshotDays: 1,
	}
	switch tier {
	case "local":
		// A developer's cluster: the Kubernetes rules as everywhere, and no AWS resource at
		// all (a budget of zero: anything the cost model prices breaks it).
		base.MinBackupRetentionDays, base.MinLogRetentionDays, base.MaxLogRetentionDays = 1, 1, 30
		base.MonthlyBudgetUSD = 0
	case "dev":
		base.MinBackupRetentionDays, base.MinLogRetentionDays, base.MaxLogRetentionDays = 1, 7, 30
		base.AllowedInstanceTypes = []string{"t3.*", "t3a.*", "t4g.*", "m6i.large", "m6a.large", "m7i.large", "m7g.large", "m5.large"}
		base.AllowedDBClasses = []string{"db.t4g.*", "db.t3.*"}
		base.AllowedCacheNodeTypes = []string{"cache.t4g.*", "cache.t3.*"}
		base.MaxNodesPerPool, base.MaxTotalNodes, base.MaxDBReplicas, base.MaxCacheNodes = 5, 8, 0, 2
		base.RequireSpot, base.MaxNATGateways = true, 1
		base.AllowedPriceClasses = []string{"PriceClass_100"}
		base.MonthlyBudgetUSD = 400
	case "staging":
		base.MinBackupRetentionDays, base.MinLogRetentionDays, base.MaxLogRetentionDays = 7, 30, 90
		base.RequireMultiAZ, base.RequireDeletionProtection = true, true
		base.AllowedInstanceTypes = []string{"t3.*", "t3a.*", "m5.large", "m5.xlarge", "m6i.large", "m6i.xlarge", "m6a.large", "m6a.xlarge", "m7i.large", "m7i.xlarge", "m7g.*", "c6i.large", "c6i.xlarge"}
		base.AllowedDBClasses = []string{"db.t4g.*", "db.m6g.large", "db.m7g.large", "db.r6g.large", "db.r7g.large"}
		base.AllowedCacheNodeTypes = []string{"cache.t4g.*", "cache.m6g.large", "cache.m7g.large", "cache.r7g.large"}
		base.MaxNodesPerPool, base.MaxTotalNodes, base.MaxDBReplicas, base.MaxCacheNodes = 10, 15, 1, 6
		base.MaxNATGateways = 1
		base.AllowedPriceClasses = []string{"PriceClass_100", "PriceClass_200"}
		base.MonthlyBudgetUSD = 1500
	case "prod":
		base.MinBackupRetentionDays, base.MinLogRetentionDays, base.MaxLogRetentionDays = 14, 365, 3653
		base.RequireMultiAZ, base.RequireDeletionProtection, base.RequirePrivateAPIEndpoint = true, true, true
		base.RequireProtect, base.RequireVaultLock, base.MinCacheSnapshotDays = true, true, 7
		base.AllowedInstanceTypes = []string{"m5.*", "m6i.*", "m6a.*", "m7i.*", "m7a.*", "m7g.*", "c6i.*", "c7i.*", "r6i.*", "r7i.*"}
		base.AllowedDBClasses = []string{"db.m6g.*", "db.m7g.*", "db.r6g.*", "db.r7g.*"}
		base.AllowedCacheNodeTypes = []string{"cache.m7g.*", "cache.r6g.*", "cache.r7g.*"}
		base.MaxNodesPerPool, base.MaxTotalNodes, base.MaxDBReplicas, base.MaxCacheNodes = 50, 80, 3, 18
		base.MaxNATGateways = 4
		base.AllowedPriceClasses = []string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}
		base.MonthlyBudgetUSD = 5000
	default:
		return Thresholds{}, fmt.Errorf("tier %q is not one of %s", tier, strings.Join(Tiers, ", "))
	}
	return base, nil
}

// TierOf maps a stack name to its tier: the name itself, or its prefix before "-" (dev-alice).
// Unknown names get prod's thresholds, the strictest, unless the settings name a tier.
func TierOf(stack string) string {
	for _, t := range Tiers {
		if stack == t || strings.HasPrefix(stack, t+"-") {
			return t
		}
	}
	return "prod"
}

// ForStack returns the thresholds for a stack, with overrides (a policy config's properties:
// JSON-decoded, numbers as float64) applied on top. "tier" in the overrides picks the base.
func ForStack(stack string, overrides map[string]any) (Thresholds, error) {
	tier := TierOf(stack)
	if t, ok := overrides["tier"].(string); ok {
		tier = t
	}
	base, err := ForTier(tier)
	if err != nil {
		return Thresholds{}, err
	}
	if len(overrides) == 0 {
		return base, nil
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		if x, ok := overrides[k].(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return Thresholds{}, fmt.Errorf("policy settings: %s is %v; it must be a finite number (known settings: %s)", k, x, strings.Join(SettingNames(), ", "))
		}
	}
	raw, err := json.Marshal(overrides)
	if err != nil {
		return Thresholds{}, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&base); err != nil {
		return Thresholds{}, fmt.Errorf("policy settings: %w (known settings: %s)", err, strings.Join(SettingNames(), ", "))
	}
	if err := base.Validate(); err != nil {
		return Thresholds{}, fmt.Errorf("policy settings: %w (known settings: %s)", err, strings.Join(SettingNames(), ", "))
	}
	return base, nil
}

// Validate refuses thresholds no rule can judge by, all problems at once: a negative or
// non-finite number, an empty or malformed glob pattern, a Kubernetes version not of the form
// 1.N. A threshold is read as given, never clamped.
func (t Thresholds) Validate() error {
	var errs []string
	v, ty := reflect.ValueOf(t), reflect.TypeOf(t)
	for i := 0; i < ty.NumField(); i++ {
		name := strings.Split(ty.Field(i).Tag.Get("json"), ",")[0]
		switch f := v.Field(i); f.Kind() {
		case reflect.Int:
			if f.Int() < 0 {
				errs = append(errs, fmt.Sprintf("%s is %d; it must be 0 or more", name, f.Int()))
			}
		case reflect.Float64:
			if x := f.Float(); math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				errs = append(errs, fmt.Sprintf("%s is %v; it must be a finite number, 0 or more", name, x))
			}
		case reflect.Slice:
			for _, p := range f.Interface().([]string) {
				if _, err := path.Match(p, ""); p == "" || err != nil {
					errs = append(errs, fmt.Sprintf("%s has %q, which is not a glob pattern", name, p))
				}
			}
		}
	}
	for _, ver := range t.KubernetesVersions {
		if !kubernetesVersionRE.MatchString(ver) {
			errs = append(errs, fmt.Sprintf("kubernetesVersions has %q; versions are written 1.N", ver))
		}
	}
	if !slices.Contains(Tiers, t.Tier) {
		errs = append(errs, fmt.Sprintf("tier %q is not one of %s", t.Tier, strings.Join(Tiers, ", ")))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

var kubernetesVersionRE = regexp.MustCompile(`^1\.[0-9]+$`)

// SettingNames lists the JSON names of every threshold.
func SettingNames() []string {
	t := reflect.TypeOf(Thresholds{})
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		out = append(out, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return out
}

// SettingsSchema is the JSON schema of the thresholds, for the settings policy's config.
func SettingsSchema() map[string]map[string]any {
	t := reflect.TypeOf(Thresholds{})
	out := map[string]map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		switch f.Type.Kind() {
		case reflect.Bool:
			out[name] = map[string]any{"type": "boolean"}
		case reflect.Int, reflect.Float64:
			out[name] = map[string]any{"type": "number"}
		case reflect.Slice:
			out[name] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		default:
			out[name] = map[string]any{"type": "string"}
		}
	}
	enum := make([]any, len(Tiers))
	for i, t := range Tiers {
		enum[i] = t
	}
	out["tier"]["enum"] = enum
	return out
}
