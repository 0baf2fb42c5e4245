package window

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	assert.NoError(t, Check("03:00-04:00", "sun:05:00-sun:06:00", MinRDS))
	assert.NoError(t, Check("23:30-00:30", "mon:01:00-mon:02:00", MinRDS), "wrapping daily window")
	assert.EqualError(t, Check("05:30-06:30", "sun:05:00-sun:06:00", MinRDS), "daily window 05:30-06:30 overlaps maintenance window sun:05:00-sun:06:00")
	assert.Error(t, Check("23:00-01:00", "mon:00:30-mon:01:30", MinRDS), "overlap across midnight")
	assert.Error(t, Check("02:00-03:00", "sat:23:00-sun:04:00", MinRDS), "overlap with a maintenance window spanning two days")
	assert.Error(t, Check("01:00-02:00", "sun:23:30-mon:01:30", MinRDS), "overlap across the week boundary")
	assert.EqualError(t, Check("3:00-4:00", "sun:05:00-sun:06:00", MinRDS), `"3:00-4:00" is not a daily window (want hh:mm-hh:mm, UTC)`)
	assert.EqualError(t, Check("03:00-03:20", "sun:05:00-sun:06:00", MinRDS), `"03:00-03:20" is shorter than the 30 minutes AWS requires`)
	assert.ErrorContains(t, Check("03:00-04:00", "sunday:05:00-sun:06:00", MinRDS), "is not a weekly window")
	assert.EqualError(t, Check("03:00-03:30", "sun:05:00-sun:06:00", MinElastiCache), `"03:00-03:30" is shorter than the 60 minutes AWS requires here`)
}

func TestWidenAndDailyOverlap(t *testing.T) {
	maint, _ := Weekly("sun:05:00-sun:06:00")
	start, _ := Daily("04:30-05:00")
	assert.False(t, DailyOverlapsWeekly(start, maint))
	assert.True(t, DailyOverlapsWeekly(start, maint.Widen(60)), "an hour before maintenance counts")
	a, _ := Daily("03:00-04:00")
	b, _ := Daily("03:30-05:00")
	c, _ := Daily("23:30-00:30")
	d, _ := Daily("00:00-01:00")
	assert.True(t, DailyOverlapsDaily(a, b))
	assert.True(t, DailyOverlapsDaily(c, d), "across midnight")
	assert.False(t, DailyOverlapsDaily(a, d))
}
