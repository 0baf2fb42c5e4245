// Package analyzed is the view of a resource that policies judge: its type token, URN, inputs
// as property values, options and dependencies, exactly what the Pulumi analyzer protocol hands
// a policy pack. It imports no provider SDK and no package of the program, so the packs judge
// the program from outside.
package analyzed

import (
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// Resource is one resource as a policy sees it.
type Resource struct {
	Type, Name, URN string
	// Props are the resource's inputs; during a preview some are unknown (computed).
	Props property.Map
	// Protect is the resource's protect option.
	Protect bool
	// Parent is the parent's URN; Dependencies are the URNs the resource depends on (options
	// and inputs).
	Parent       string
	Dependencies []string
	// PropertyDependencies are, per top-level input, the URNs of the resources it is computed
	// from (during a preview, where an unknown value comes from).
	PropertyDependencies map[string][]string
}

// Field is one property, reached by a path of map keys. The zero Field is absent.
type Field struct {
	v       property.Value
	present bool
}

// Get walks the map keys in path; a missing key, a null or a non-map on the way gives an
// absent Field, a computed value on the way gives an unknown one.
func (r Resource) Get(path ...string) Field {
	return r.Root().Get(path...)
}

// Root is all of the resource's inputs as one map Field.
func (r Resource) Root() Field { return FieldOf(property.New(r.Props)) }

// FieldOf wraps a value (e.g. an element of an array field).
func FieldOf(v property.Value) Field { return Field{v: v, present: !v.IsNull()} }

// Get walks further map keys from f.
func (f Field) Get(path ...string) Field {
	for _, key := range path {
		switch {
		case f.present && f.v.IsComputed():
			return f // the whole value is unknown, so is any part of it
		case !f.present || !f.v.IsMap():
			return Field{}
		}
		v, ok := f.v.AsMap().GetOk(key)
		if !ok || v.IsNull() {
			return Field{}
		}
		f = Field{v: v, present: true}
	}
	return f
}

// Unknown reports a value that is not known yet (preview) or holds unknowns inside.
func (f Field) Unknown() bool { return f.present && (f.v.IsComputed() || f.v.HasComputed()) }

// Absent reports a property that is not set.
func (f Field) Absent() bool { return !f.present }

// Bool is the value as a bool; false when absent, unknown or not a bool.
func (f Field) Bool() bool { return f.present && f.v.IsBool() && f.v.AsBool() }

// Number is the value as a number; 0 when absent, unknown or not a number.
func (f Field) Number() float64 {
	if f.present && f.v.IsNumber() {
		return f.v.AsNumber()
	}
	return 0
}

// Int is Number truncated.
func (f Field) Int() int { return int(f.Number()) }

// String is the value as a string; "" when absent, unknown or not a string.
func (f Field) String() string {
	if f.present && f.v.IsString() {
		return f.v.AsString()
	}
	return ""
}

// Items are the elements of an array value; nil otherwise.
func (f Field) Items() []Field {
	if !f.present || !f.v.IsArray() {
		return nil
	}
	var out []Field
	for _, v := range f.v.AsArray().AsSlice() {
		out = append(out, FieldOf(v))
	}
	return out
}

// Strings are the string elements of an array value.
func (f Field) Strings() []string {
	var out []string
	for _, it := range f.Items() {
		if s := it.String(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Keys are the keys of a map value, sorted.
func (f Field) Keys() []string {
	if !f.present || !f.v.IsMap() {
		return nil
	}
	var out []string
	for k := range f.v.AsMap().AllStable {
		out = append(out, k)
	}
	return out
}

// Unknown is an unknown Field (what a preview has for a value computed later).
func Unknown() Field { return Field{v: property.New(property.Computed), present: true} }
