package offline

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resources turns the engine's step events into what the policies and the cost model read:
// the new inputs of every resource the step keeps or creates (unknowns stay unknown).
func Resources(steps []apitype.StepEventMetadata) []analyzed.Resource {
	var out []analyzed.Resource
	seen := map[string]bool{}
	for _, s := range steps {
		// A replacement is two steps with the new state (create-replacement, replace): once.
		if s.New == nil || s.Op == apitype.OpDelete || s.Op == apitype.OpDeleteReplaced || seen[s.URN] {
			continue
		}
		seen[s.URN] = true
		out = append(out, view(s.URN, s.Type, s.New))
	}
	return out
}

// Before is the other side of a preview: the inputs of every resource the state holds now
// (what the steps keep, update, replace or delete), once each, so that the cost of the current
// state can be set against the planned one.
func Before(steps []apitype.StepEventMetadata) []analyzed.Resource {
	var out []analyzed.Resource
	seen := map[string]bool{}
	for _, s := range steps {
		if s.Old == nil || seen[s.URN] {
			continue
		}
		seen[s.URN] = true
		out = append(out, view(s.URN, s.Type, s.Old))
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
