package offline

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resources turns the engine's step events into what the policies and the cost model read:
// the new inputs of every resource the step keeps or creates (unknowns stay unknown), once
// each (a replacement is two steps with the new state: create-replacement and replace).
func Resources(steps []apitype.StepEventMetadata) []analyzed.Resource {
	return once(steps, func(s apitype.StepEventMetadata) *apitype.StepEventStateMetadata {
		if s.Op == apitype.OpDelete || s.Op == apitype.OpDeleteReplaced {
			return nil
		}
		return s.New
	})
}

// Before is the other side of a preview: the inputs of every resource the state holds now
// (what the steps keep, update, replace or delete), once each, so that the cost of the current
// state can be set against the planned one.
func Before(steps []apitype.StepEventMetadata) []analyzed.Resource {
	return once(steps, func(s apitype.StepEventMetadata) *apitype.StepEventStateMetadata { return s.Old })
}

// once views the state state picks from each step, the first one per URN.
func once(steps []apitype.StepEventMetadata, state func(apitype.StepEventMetadata) *apitype.StepEventStateMetadata) []analyzed.Resource {
	var out []analyzed.Resource
	seen := map[string]bool{}
	for _, s := range steps {
		st := state(s)
		if st == nil || seen[s.URN] {
			continue
		}
		seen[s.URN] = true
		out = append(out, view(s.URN, s.Type, st))
	}
	return out
}

func view(urn, typ string, state *apitype.StepEventStateMetadata) analyzed.Resource {
	props := resource.NewPropertyMapFromMapRepl(state.Inputs, nil, func(v any) (resource.PropertyValue, bool) {
		if str, ok := v.(string); ok && str == plugin.UnknownStringValue {
			return resource.MakeComputed(resource.NewStringProperty("")), true
		}
		return resource.PropertyValue{}, false
	})
	return analyzed.Resource{Type: typ, Name: resource.URN(urn).Name(), URN: urn,
		Props: resource.FromResourcePropertyMap(props), Protect: state.Protect, Parent: state.Parent}
}
