package events_test

import (
	"fmt"

	"github.com/pxekit/pxekit/events"
)

// Put a slow consumer behind a Queue: servers never wait for it.
func ExampleQueue() {
	q := events.NewQueue(events.HookFunc(func(e events.Event) {
		fmt.Println(e.Proto, e.Kind, e.File, e.Outcome)
	}), 64)
	q.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, File: "pxelinux.0", Outcome: "ok"})
	q.Close()
	fmt.Println("dropped", q.Dropped())
	// Output:
	// tftp done pxelinux.0 ok
	// dropped 0
}
