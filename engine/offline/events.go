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
	for _, s := range steps {
		if s.New == nil || s.Op == apitype.OpDelete {
			continue
		}
		props := resource.NewPropertyMapFromMapRepl(s.New.Inputs, nil, func(v any) (resource.PropertyValue, bool) {
			if str, ok := v.(string); ok && str == plugin.UnknownStringValue {
				return resource.MakeComputed(resource.NewStringProperty("")), true
			}
			return resource.PropertyValue{}, false
		})
		urn := resource.URN(s.URN)
		out = append(out, analyzed.Resource{Type: s.Type, Name: urn.Name(), URN: s.URN,
			Props: resource.FromResourcePropertyMap(props), Protect: s.New.Protect, Parent: s.New.Parent})
	}
	return out
}
