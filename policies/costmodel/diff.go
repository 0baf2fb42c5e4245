package costmodel

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Change is one resource whose monthly cost a change moves.
type Change struct {
	URN, Name, Basis string
	Before, After    float64
}

// Diff is what a change does to a stack's monthly cost, resource by resource, as a
// pull-request comment shows it (Infracost's diff for Terraform).
type Diff struct {
	Changes       []Change
	Before, After float64
	// Unknown are resources whose planned cost is not known until the update (their priced
	// inputs are unknown): left out of the changes, never shown as a saving.
	Unknown []string
	// Unpriced are what the table cannot price, after the change.
	Unpriced []string
}

// Delta is the change of the total.
func (d Diff) Delta() float64 { return d.After - d.Before }

// DiffOf sets the estimate of the current state against the planned one: every resource whose
// monthly cost differs (created, removed, resized), largest move first.
func DiffOf(before, after Result) Diff {
	type side struct {
		name, basis   string
		before, after float64
	}
	byURN := map[string]*side{}
	get := func(l Line) *side {
		s := byURN[l.URN]
		if s == nil {
			s = &side{name: l.Name}
			byURN[l.URN] = s
		}
		return s
	}
	for _, l := range before.Lines {
		get(l).before += l.Monthly
	}
	for _, l := range after.Lines {
		s := get(l)
		s.after += l.Monthly
		if s.basis == "" {
			s.basis = l.Basis
		}
	}
	d := Diff{Before: before.Total, After: after.Total, Unpriced: after.Unpriced}
	unknown := map[string]bool{}
	for _, urn := range after.Unknown {
		unknown[urn] = true
		d.Unknown = append(d.Unknown, urn)
	}
	for urn, s := range byURN {
		if unknown[urn] {
			// Its planned cost is not known: keep what it costs now on both sides.
			d.After += s.before - s.after
			continue
		}
		if math.Abs(s.after-s.before) >= 0.005 {
			d.Changes = append(d.Changes, Change{URN: urn, Name: s.name, Basis: s.basis, Before: s.before, After: s.after})
		}
	}
	sort.Slice(d.Changes, func(i, j int) bool {
		di, dj := math.Abs(d.Changes[i].After-d.Changes[i].Before), math.Abs(d.Changes[j].After-d.Changes[j].Before)
		if di != dj {
			return di > dj
		}
		return d.Changes[i].URN < d.Changes[j].URN
	})
	return d
}

// Table renders the diff: each resource before -> after with its delta, then the totals.
func (d Diff) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-40s %-34s %10s %10s %10s\n", "RESOURCE", "BASIS (AFTER)", "BEFORE", "AFTER", "DELTA")
	for _, c := range d.Changes {
		fmt.Fprintf(&b, "%-40s %-34s %10.2f %10.2f %+10.2f\n", truncate(c.Name, 40), truncate(c.Basis, 34), c.Before, c.After, c.After-c.Before)
	}
	if len(d.Changes) == 0 {
		fmt.Fprintf(&b, "%-40s\n", "(no resource changes its cost)")
	}
	fmt.Fprintf(&b, "%-40s %-34s %10.2f %10.2f %+10.2f\n", "TOTAL", "USD/month, "+Region+" "+PriceDate, d.Before, d.After, d.Delta())
	if len(d.Unknown) > 0 {
		fmt.Fprintf(&b, "%d resource(s) not priced until update (inputs unknown during preview), counted at their current cost\n", len(d.Unknown))
	}
	for _, u := range d.Unpriced {
		fmt.Fprintf(&b, "not priced: %s\n", u)
	}
	return b.String()
}
