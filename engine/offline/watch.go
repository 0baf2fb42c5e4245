package offline

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// Events are what a preview or update reported: policy findings and resource steps.
type Events struct {
	Policies []apitype.PolicyEvent
	Steps    []apitype.StepEventMetadata
}

// Watch returns a channel for optpreview/optup.EventStreams and a function that, called after
// the operation returned, gives what it reported. The Automation API does not close the
// channel when the CLI fails before its first event, so waiting gives up after a grace period.
func Watch() (chan<- events.EngineEvent, func() Events) {
	ch := make(chan events.EngineEvent)
	done := make(chan Events, 1)
	var snapshot = make(chan chan Events)
	go func() {
		var ev Events
		for {
			select {
			case e, ok := <-ch:
				if !ok {
					done <- ev
					return
				}
				if e.PolicyEvent != nil {
					ev.Policies = append(ev.Policies, *e.PolicyEvent)
				}
				if e.ResourcePreEvent != nil {
					ev.Steps = append(ev.Steps, e.ResourcePreEvent.Metadata)
				}
			case reply := <-snapshot:
				reply <- ev
			}
		}
	}()
	return ch, func() Events {
		select {
		case ev := <-done:
			return ev
		case <-time.After(5 * time.Second):
			reply := make(chan Events)
			snapshot <- reply
			return <-reply
		}
	}
}
