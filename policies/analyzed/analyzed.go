// Package analyzed is the view of a resource that policies judge: its type token, URN, inputs
// as property values, options and dependencies, exactly what the Pulumi analyzer protocol hands
// a policy pack. It imports no provider SDK and no package of the program, so the packs judge
// the program from outside.
package analyzed

import (
	"fmt"
	"math"
	"slices"
	"strings"

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

	// track, when set (Tracked), collects what the rule read and every value of the wrong type.
	track *tracker
}

// Mismatch is a value a rule read as one type that holds another: the string "true" where a
// bool is expected, one string where a list is, a number as a string, an IAM document as an
// object. A rule never passes on it: the rules report it as a violation.
type Mismatch struct {
	// Path is the field, e.g. "vpcConfig.publicAccessCidrs[0]".
	Path, Want, Got string
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s is %s where %s is expected", m.Path, m.Got, m.Want)
}

type tracker struct {
	mismatches []Mismatch
	read       map[string]string // path -> the type the rule read it as
}

// Tracked returns r with tracking on, and a function that reports the mismatches and the
// fields read (path segments joined by PathSep -> the type read) since.
func (r Resource) Tracked() (Resource, func() ([]Mismatch, map[string]string)) {
	t := &tracker{} // read is made on the first read: most resources a stack rule sees are not read
	r.track = t
	return r, func() ([]Mismatch, map[string]string) { return t.mismatches, t.read }
}

// Field is one property, reached by a path of map keys. The zero Field is absent.
type Field struct {
	v       property.Value
	present bool
	// segs is the path from the resource: keys, and "[i]" for list elements.
	segs  []string
	track *tracker
}

// PathSep separates the segments of a path in the fields a tracked rule read (keys may hold
// dots: label names).
const PathSep = "\x1f"

// path is the field's path for messages: "a.b[0].c".
func (f Field) path() string {
	var b strings.Builder
	for _, s := range f.segs {
		if b.Len() > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func (f Field) child(seg string) []string {
	return append(slices.Clone(f.segs), seg)
}

// Get walks the map keys in path; a missing key, a null or a non-map on the way gives an
// absent Field (a non-map is also a mismatch), a computed value on the way gives an unknown one.
func (r Resource) Get(path ...string) Field {
	return r.Root().Get(path...)
}

// Root is all of the resource's inputs as one map Field.
func (r Resource) Root() Field {
	return Field{v: property.New(r.Props), present: true, track: r.track}
}

// FieldOf wraps a value (e.g. an element of an array field), untracked.
func FieldOf(v property.Value) Field { return Field{v: v, present: !v.IsNull()} }

// mismatch records that f was read as want and holds something else.
func (f Field) mismatch(want string) {
	if f.track != nil {
		f.track.mismatches = append(f.track.mismatches, Mismatch{Path: f.path(), Want: want, Got: kind(f.v)})
	}
}

// reads records that the rule read f as want; it reports whether f holds that type (absent
// and unknown values are no mismatch: rules handle them).
func (f Field) reads(want string, ok func(property.Value) bool) bool {
	if f.track != nil && len(f.segs) > 0 {
		if f.track.read == nil {
			f.track.read = map[string]string{}
		}
		f.track.read[strings.Join(f.segs, PathSep)] = want
	}
	if !f.present || f.v.IsComputed() {
		return false
	}
	if !ok(f.v) {
		f.mismatch(want)
		return false
	}
	return true
}

func kind(v property.Value) string {
	switch {
	case v.IsNull():
		return "null"
	case v.IsComputed():
		return "unknown"
	case v.IsBool():
		return fmt.Sprintf("the bool %v", v.AsBool())
	case v.IsNumber():
		return fmt.Sprintf("the number %v", v.AsNumber())
	case v.IsString():
		s := v.AsString()
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return fmt.Sprintf("the string %q", s)
	case v.IsArray():
		return "a list"
	case v.IsMap():
		return "an object"
	}
	return "a value of another kind"
}

// Get walks further map keys from f.
func (f Field) Get(path ...string) Field {
	for _, key := range path {
		switch {
		case f.present && f.v.IsComputed():
			return f // the whole value is unknown, so is any part of it
		case !f.present:
			return Field{segs: f.child(key), track: f.track}
		case !f.v.IsMap():
			f.mismatch("an object")
			return Field{segs: f.child(key), track: f.track}
		}
		v, ok := f.v.AsMap().GetOk(key)
		if !ok || v.IsNull() {
			return Field{segs: f.child(key), track: f.track}
		}
		f = Field{v: v, present: true, segs: f.child(key), track: f.track}
	}
	return f
}

// Unknown reports a value that is not known yet (preview) or holds unknowns inside. A tracked
// rule that asks has read the field (as "a value" unless it reads its type too).
func (f Field) Unknown() bool {
	if f.track != nil && len(f.segs) > 0 {
		key := strings.Join(f.segs, PathSep)
		if _, typed := f.track.read[key]; !typed {
			if f.track.read == nil {
				f.track.read = map[string]string{}
			}
			f.track.read[key] = "a value"
		}
	}
	return f.present && (f.v.IsComputed() || f.v.HasComputed())
}

// Computed reports a value that is wholly unknown (not one with unknowns inside).
func (f Field) Computed() bool { return f.present && f.v.IsComputed() }

// Absent reports a property that is not set.
func (f Field) Absent() bool { return !f.present }

// Bool is the value as a bool; false when absent, unknown or not a bool (a mismatch).
func (f Field) Bool() bool {
	return f.reads("a bool", property.Value.IsBool) && f.v.AsBool()
}

// maxExact is the largest integer a float64 holds exactly: beyond it a count or a size is
// not a number a rule can compare.
const maxExact = 1 << 53

// Number is the value as a number; 0 when absent, unknown or not a number (a mismatch), or
// beyond ±2^53 or not finite (a mismatch too).
func (f Field) Number() float64 {
	if !f.reads("a number", property.Value.IsNumber) {
		return 0
	}
	x := f.v.AsNumber()
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > maxExact {
		f.mismatch("a number within ±2^53")
		return 0
	}
	return x
}

// Int is Number truncated.
func (f Field) Int() int { return int(f.Number()) }

// String is the value as a string; "" when absent, unknown or not a string (a mismatch).
func (f Field) String() string {
	if !f.reads("a string", property.Value.IsString) {
		return ""
	}
	return f.v.AsString()
}

// Items are the elements of an array value; nil when absent, unknown or not a list (a
// mismatch).
func (f Field) Items() []Field {
	if !f.reads("a list", property.Value.IsArray) {
		return nil
	}
	var out []Field
	for i, v := range f.v.AsArray().AsSlice() {
		out = append(out, Field{v: v, present: !v.IsNull(), segs: f.child(fmt.Sprintf("[%d]", i)), track: f.track})
	}
	return out
}

// Strings are the string elements of an array value (any other element is a mismatch).
func (f Field) Strings() []string {
	var out []string
	for _, it := range f.Items() {
		if s := it.String(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Keys are the keys of a map value, sorted; nil when not an object (a mismatch).
func (f Field) Keys() []string {
	if !f.reads("an object", property.Value.IsMap) {
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
