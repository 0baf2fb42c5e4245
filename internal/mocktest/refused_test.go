package mocktest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recordingTB keeps what a check reports instead of failing the test.
type recordingTB struct{ reports []string }

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.reports = append(r.reports, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.reports = append(r.reports, fmt.Sprintf(format, args...))
}

func TestRefused(t *testing.T) {
	empty := &Recorder{}
	registered := &Recorder{resources: []Resource{{Type: "aws:s3/bucketV2:BucketV2", Name: "b"}}}
	refusal := errors.New(`invalid args for "x": Name: must be set`)
	for _, c := range []struct {
		name    string
		rec     *Recorder
		err     error
		reports int
	}{
		{"refused, nothing registered", empty, refusal, 0},
		{"accepted", empty, nil, 1},
		{"refused for another reason", &Recorder{}, errors.New("boom"), 2},
		{"registered before refusing", registered, refusal, 1},
	} {
		var tb recordingTB
		c.rec.Refused(&tb, c.err, `invalid args for "x"`, "Name: must be set")
		assert.Len(t, tb.reports, c.reports, "%s: %v", c.name, tb.reports)
	}
}
