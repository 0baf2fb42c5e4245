// Package window parses the UTC time windows RDS and ElastiCache take (backup or snapshot
// windows "hh:mm-hh:mm", maintenance windows "ddd:hh:mm-ddd:hh:mm") and tells whether a daily
// window overlaps a weekly one, which AWS rejects.
package window

import (
	"fmt"
	"regexp"
	"strconv"
)

const (
	day  = 24 * 60
	week = 7 * day
)

var (
	dailyRE  = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$`)
	weeklyRE = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])$`)
	days     = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
)

// Window is a span of minutes from a reference start (midnight, or Monday midnight), which may
// wrap around the end of the day or week.
type Window struct {
	Start, Length, Period int
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// MinRDS and MinElastiCache are the shortest windows each service accepts, in minutes.
const (
	MinRDS         = 30
	MinElastiCache = 60
)

// Daily parses "hh:mm-hh:mm" (UTC), at least 30 minutes long.
func Daily(s string) (Window, error) {
	m := dailyRE.FindStringSubmatch(s)
	if m == nil {
		return Window{}, fmt.Errorf("%q is not a daily window (want hh:mm-hh:mm, UTC)", s)
	}
	return span(atoi(m[1])*60+atoi(m[2]), atoi(m[3])*60+atoi(m[4]), day, s)
}

// Weekly parses "ddd:hh:mm-ddd:hh:mm" (UTC), at least 30 minutes long.
func Weekly(s string) (Window, error) {
	m := weeklyRE.FindStringSubmatch(s)
	if m == nil {
		return Window{}, fmt.Errorf("%q is not a weekly window (want ddd:hh:mm-ddd:hh:mm, UTC, e.g. sun:05:00-sun:06:00)", s)
	}
	return span(days[m[1]]*day+atoi(m[2])*60+atoi(m[3]), days[m[4]]*day+atoi(m[5])*60+atoi(m[6]), week, s)
}

func span(start, end, period int, s string) (Window, error) {
	length := (end - start + period) % period
	if length < 30 {
		return Window{}, fmt.Errorf("%q is shorter than the 30 minutes AWS requires", s)
	}
	return Window{Start: start, Length: length, Period: period}, nil
}

// Widen moves the window's start earlier by minutes (AWS Backup does not start a database
// backup within the hour before its maintenance window).
func (w Window) Widen(minutes int) Window {
	w.Start = ((w.Start-minutes)%w.Period + w.Period) % w.Period
	w.Length += minutes
	return w
}

// DailyOverlapsDaily reports whether two daily windows overlap.
func DailyOverlapsDaily(a, b Window) bool {
	return overlaps(a.Start, a.Length, b.Start, b.Length) || overlaps(a.Start+day, a.Length, b.Start, b.Length) ||
		overlaps(a.Start, a.Length, b.Start+day, b.Length)
}

// DailyOverlapsWeekly reports whether a daily window, repeated every day, overlaps the weekly one.
func DailyOverlapsWeekly(d, w Window) bool {
	for k := 0; k < 7; k++ {
		start := k*day + d.Start
		if overlaps(start, d.Length, w.Start, w.Length) {
			return true
		}
	}
	return false
}

// overlaps compares two spans on the weekly circle.
func overlaps(aStart, aLen, bStart, bLen int) bool {
	// Shift so b starts at 0; a overlaps when it starts inside b or wraps into it.
	a := ((aStart-bStart)%week + week) % week
	return a < bLen || a+aLen > week
}

// Check parses both windows, each at least minMinutes long, and reports any problem,
// including an overlap, as one error.
func Check(daily, weekly string, minMinutes int) error {
	d, err := Daily(daily)
	if err != nil {
		return err
	}
	w, err := Weekly(weekly)
	if err != nil {
		return err
	}
	for _, x := range []struct {
		s string
		w Window
	}{{daily, d}, {weekly, w}} {
		if x.w.Length < minMinutes {
			return fmt.Errorf("%q is shorter than the %d minutes AWS requires here", x.s, minMinutes)
		}
	}
	if DailyOverlapsWeekly(d, w) {
		return fmt.Errorf("daily window %s overlaps maintenance window %s", daily, weekly)
	}
	return nil
}
