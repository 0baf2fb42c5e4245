// Package instancetype parses EC2 instance type names ("m6i.xlarge") and knows the families the
// platform allows, so that stack validation and the node pool component agree on them.
package instancetype

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Arch is a CPU architecture as EKS AMI types name it.
type Arch string

const (
	X86_64 Arch = "x86_64"
	ARM64  Arch = "arm64"
)

// families are the general purpose, compute and memory optimised families EKS nodes may use,
// with their architecture. Burstable t-families are allowed for small, non-production pools.
var families = map[string]Arch{
	"t3": X86_64, "t3a": X86_64, "t4g": ARM64,
	"m5": X86_64, "m5a": X86_64, "m6i": X86_64, "m6a": X86_64, "m7i": X86_64, "m7a": X86_64,
	"m6g": ARM64, "m7g": ARM64, "m8g": ARM64,
	"c5": X86_64, "c5a": X86_64, "c6i": X86_64, "c6a": X86_64, "c7i": X86_64, "c7a": X86_64,
	"c6g": ARM64, "c7g": ARM64, "c8g": ARM64,
	"r5": X86_64, "r5a": X86_64, "r6i": X86_64, "r6a": X86_64, "r7i": X86_64, "r7a": X86_64,
	"r6g": ARM64, "r7g": ARM64, "r8g": ARM64,
}

var sizeRE = regexp.MustCompile(`^(nano|micro|small|medium|large|xlarge|[0-9]{1,2}xlarge|metal)$`)

// Type is a parsed instance type.
type Type struct {
	Family string
	Size   string
	Arch   Arch
}

// Burstable reports whether the type earns and spends CPU credits (t-families).
func (t Type) Burstable() bool { return strings.HasPrefix(t.Family, "t") }

// VCPUs is the type's vCPU count as EC2 quotas count it: 2 per "large", 4 per "xlarge", N x 4
// for Nxlarge; burstable types have 2 up to large, other families 1 at medium. 0 for metal
// (its count depends on the family).
func (t Type) VCPUs() int {
	switch {
	case t.Size == "xlarge":
		return 4
	case strings.HasSuffix(t.Size, "xlarge"):
		n, _ := strconv.Atoi(strings.TrimSuffix(t.Size, "xlarge"))
		return 4 * n
	case t.Size == "large" || t.Burstable() && t.Size != "metal":
		return 2
	case t.Size == "medium":
		return 1
	}
	return 0
}

// Families lists the allowed families, sorted, for error messages.
func Families() []string {
	return slices.Sorted(maps.Keys(families))
}

// Parse splits name into family and size and checks both are known.
func Parse(name string) (Type, error) {
	family, size, ok := strings.Cut(name, ".")
	if !ok || size == "" {
		return Type{}, fmt.Errorf("%q is not an instance type (want family.size, e.g. m6i.large)", name)
	}
	arch, known := families[family]
	if !known {
		return Type{}, fmt.Errorf("%q has unknown instance family %q; allowed families: %s",
			name, family, strings.Join(Families(), ", "))
	}
	if !sizeRE.MatchString(size) {
		return Type{}, fmt.Errorf("%q has unknown size %q (want e.g. large, xlarge, 2xlarge)", name, size)
	}
	t := Type{Family: family, Size: size, Arch: arch}
	if slices.Contains([]string{"nano", "micro", "small"}, size) && !t.Burstable() {
		return Type{}, fmt.Errorf("%q does not exist: only burstable (t) families come in nano, micro and small", name)
	}
	return t, nil
}

// CommonArch parses every name and returns the one architecture they share. Mixing
// architectures in one node group is refused by EKS (one AMI type per group).
func CommonArch(names []string) (Arch, error) {
	if len(names) == 0 {
		return "", fmt.Errorf("at least one instance type is required")
	}
	var archs []Arch
	var errs []string
	for _, n := range names {
		t, err := Parse(n)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if !slices.Contains(archs, t.Arch) {
			archs = append(archs, t.Arch)
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	if len(archs) > 1 {
		return "", fmt.Errorf("instance types %s mix x86_64 and arm64; one node pool needs one architecture", strings.Join(names, ", "))
	}
	return archs[0], nil
}
