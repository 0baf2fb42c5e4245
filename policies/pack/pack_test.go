package pack

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/policies/rules"
)

type manager struct{ violations []string }

func (m *manager) ReportViolation(message, urn string) { m.violations = append(m.violations, message) }

func newPack(t *testing.T, stack, name string, config ...string) map[string]policyx.Policy {
	t.Helper()
	cfg := map[string]string{}
	for i := 0; i+1 < len(config); i += 2 {
		cfg[config[i]] = config[i+1]
	}
	ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{Project: "scalemate", Stack: stack, Config: cfg})
	require.NoError(t, err)
	p, err := New(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, "scalemate-"+name, p.Name())
	out := map[string]policyx.Policy{}
	for _, pol := range p.Policies() {
		out[pol.Name()] = pol
	}
	return out
}

func nodeGroup(capacity any) policyx.AnalyzerResource {
	props := resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(map[string]any{
		"instanceTypes": []any{"m6i.large", "m5.large"}, "scalingConfig": map[string]any{"maxSize": 3, "desiredSize": 1},
	}))
	if capacity == nil {
		props = props.Set("capacityType", property.New(property.Computed))
	} else {
		props = props.Set("capacityType", property.New(capacity.(string)))
	}
	return policyx.AnalyzerResource{Type: rules.TypeNodeGroup, Name: "workers", URN: "urn:pulumi:dev::scalemate::aws:eks/nodeGroup:NodeGroup::workers", Properties: props}
}

func validate(t *testing.T, p policyx.Policy, r policyx.AnalyzerResource, cfg map[string]any) []string {
	t.Helper()
	m := &manager{}
	switch p := p.(type) {
	case policyx.ResourceValidationPolicy:
		require.NoError(t, p.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: m, Resource: r, Config: cfg}))
	case policyx.StackValidationPolicy:
		require.NoError(t, p.Validate(context.Background(), policyx.StackValidationArgs{Manager: m, Resources: []policyx.AnalyzerResource{r}}))
	}
	return m.violations
}

func TestPackPoliciesAndLevels(t *testing.T) {
	pols := newPack(t, "dev", rules.Cost)
	assert.Len(t, pols, len(rules.OfPack(rules.Cost))+2, "every rule, the settings policy and the unknowns policy")
	for _, r := range rules.OfPack(rules.Cost) {
		require.Contains(t, pols, r.Name)
		assert.Equal(t, r.Description(), pols[r.Name].Description())
		assert.Equal(t, level(r.Level), pols[r.Name].EnforcementLevel(), "level set per policy (policyx ignores the pack's)")
	}
	assert.Equal(t, policyx.EnforcementLevelAdvisory, pols["cost-settings"].EnforcementLevel())
	assert.Equal(t, policyx.EnforcementLevelAdvisory, pols["cost-cannot-check-until-update"].EnforcementLevel())
	assert.NotNil(t, pols["cost-settings"].ConfigSchema().Properties["monthlyBudgetUsd"])
}

// The stack name picks the thresholds; the settings policy's config overrides them, for
// resource and stack policies alike.
func TestThresholdsFromStackAndSettings(t *testing.T) {
	pols := newPack(t, "dev", rules.Cost)
	assert.Len(t, validate(t, pols["spot-workers"], nodeGroup("ON_DEMAND"), nil), 1, "dev runs workers on spot")
	assert.Empty(t, validate(t, pols["monthly-budget"], nodeGroup("SPOT"), nil))

	validate(t, pols["cost-settings"], nodeGroup("SPOT"), map[string]any{"requireSpot": false, "monthlyBudgetUsd": 10.0})
	assert.Empty(t, validate(t, pols["spot-workers"], nodeGroup("ON_DEMAND"), nil), "overridden by --policy-pack-config")
	budget := validate(t, pols["monthly-budget"], nodeGroup("SPOT"), nil)
	require.Len(t, budget, 1)
	assert.Contains(t, budget[0], "exceeds dev's budget of 10 USD")

	prod := newPack(t, "prod", rules.Cost)
	assert.Empty(t, validate(t, prod["spot-workers"], nodeGroup("ON_DEMAND"), nil), "prod may run on-demand workers")

	// The tier the program uses wins over the stack name, as it does in the program.
	sandbox := newPack(t, "sandbox", rules.Cost, TierKey, "dev")
	assert.Len(t, validate(t, sandbox["spot-workers"], nodeGroup("ON_DEMAND"), nil), 1, "sandbox is a dev stack by scalemate:tier")
	named := newPack(t, "staging-2", rules.Cost, TierKey, "prod")
	assert.Empty(t, validate(t, named["spot-workers"], nodeGroup("ON_DEMAND"), nil))
}

// During a preview an unknown value is no violation of the mandatory rule; the advisory
// unknowns policy lists it instead.
func TestUnknownsAreAdvisory(t *testing.T) {
	pols := newPack(t, "dev", rules.Cost)
	assert.Empty(t, validate(t, pols["spot-workers"], nodeGroup(nil), nil))
	unknowns := strings.Split(strings.Join(validate(t, pols["cost-cannot-check-until-update"], nodeGroup(nil), nil), "\n"), "\n")
	assert.Contains(t, unknowns, "spot-workers: cannot check until update: capacityType is not known during preview (1 resource: workers)")
	assert.Contains(t, unknowns, "monthly-budget: cannot check until update: a priced input is not known during preview (1 resource: workers)")
}

// Unknowns print once per rule and field, with the count and the resources named once.
func TestUnknownsOneLinePerRule(t *testing.T) {
	pols := newPack(t, "dev", rules.Cost)
	a, b := nodeGroup(nil), nodeGroup(nil)
	a.URN, a.Name, b.URN, b.Name = "urn:pulumi:dev::scalemate::aws:eks/nodeGroup:NodeGroup::a", "a", "urn:pulumi:dev::scalemate::aws:eks/nodeGroup:NodeGroup::b", "b"
	m := &manager{}
	require.NoError(t, pols["cost-cannot-check-until-update"].(policyx.StackValidationPolicy).Validate(context.Background(),
		policyx.StackValidationArgs{Manager: m, Resources: []policyx.AnalyzerResource{a, b}}))
	require.NotEmpty(t, m.violations)
	assert.Contains(t, strings.Split(m.violations[0], "\n"), "spot-workers: cannot check until update: capacityType is not known during preview (2 resources: a, b)")
	assert.Equal(t, []string{"api (Deployment)", "api (Service)", "web"}, shortNames([]string{
		"urn:pulumi:dev::scalemate::scalemate:app:App$kubernetes:apps/v1:Deployment::api",
		"urn:pulumi:dev::scalemate::kubernetes:core/v1:Service::api",
		"urn:pulumi:dev::scalemate::kubernetes:core/v1:Service::web"}), "same-named resources of different types are told apart")
	require.Len(t, m.violations, 1, "one report for the pack")
	lines := map[string]int{}
	for _, v := range strings.Split(m.violations[0], "\n") {
		lines[v]++
	}
	for v, n := range lines {
		assert.Equal(t, 1, n, "printed once: %s", v)
	}
}

func TestBadSettingsFailLoudly(t *testing.T) {
	pols := newPack(t, "dev", rules.Security)
	validate(t, pols["security-settings"], nodeGroup("SPOT"), map[string]any{"minBackupRetention": 3.0})
	err := pols["eks-nodegroup-no-ssh"].(policyx.ResourceValidationPolicy).Validate(context.Background(),
		policyx.ResourceValidationArgs{Manager: &manager{}, Resource: nodeGroup("SPOT")})
	assert.ErrorContains(t, err, `unknown field "minBackupRetention"`)
}

func TestConfigFormsTheEngineAccepts(t *testing.T) {
	c, err := ParseConfig([]byte(`{"all": "advisory", "spot-workers": "disabled", "monthly-budget": {"enforcementLevel": "mandatory"},
		"cost-settings": {"monthlyBudgetUsd": 900}}`))
	require.NoError(t, err)
	levels := map[string]string{}
	for _, r := range c.Apply(rules.OfPack(rules.Cost)) {
		levels[r.Name] = r.Level
	}
	assert.NotContains(t, levels, "spot-workers", "disabled rules do not run")
	assert.Equal(t, rules.Mandatory, levels["monthly-budget"], "a rule's own level beats all")
	assert.Equal(t, rules.Advisory, levels["nat-gateway-count"], "all applies to the others")
	assert.Equal(t, map[string]any{"monthlyBudgetUsd": 900.0}, c.Settings(rules.Cost))

	v2, err := ParseConfig([]byte(`{"version": 2, "policies": {"nat-gateway-count": "advisory"}}`))
	require.NoError(t, err)
	assert.Equal(t, "advisory", v2["nat-gateway-count"]["enforcementLevel"])
	_, err = ParseConfig([]byte(`{"x": 3}`))
	assert.ErrorContains(t, err, `policy config "x": want a level or an object`)
}
