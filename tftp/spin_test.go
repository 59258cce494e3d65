package tftp

import (
	"testing"
	"time"
)

// simulate runs n round trips through a spinPolicy on a made-up clock: a
// round trip takes sleepRT when it sleeps and pollRT when it polls, and a
// poll finds the ACK when hit says so. It returns the policy and how many
// round trips polled.
func simulate(p *spinPolicy, n int, sleepRT, pollRT func(i int) time.Duration, hit func(i int) bool) int {
	now := time.Unix(1000, 0)
	polled := 0
	for i := range n {
		on := p.next(now)
		if on {
			polled++
			p.polled(hit(i))
			now = now.Add(pollRT(i))
		} else {
			now = now.Add(sleepRT(i))
		}
	}
	return polled
}

func constant(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }
func always(b bool) func(int) bool                     { return func(int) bool { return b } }
func yes() bool                                        { return true }

func TestSpinPolicy(t *testing.T) {
	const us = time.Microsecond
	// The first measurement starts after spinFirst round trips and takes
	// spinProbe each way; the choice holds for spinKeep round trips.
	firstChoice := spinFirst + 2*spinProbe

	t.Run("polling faster is kept", func(t *testing.T) {
		p := newSpinPolicy(yes)
		n := firstChoice + spinKeep
		polled := simulate(&p, n, constant(20*us), constant(10*us), always(true))
		if want := spinProbe + spinKeep; polled != want {
			t.Errorf("polled %d of %d round trips, want %d", polled, n, want)
		}
		if !p.on {
			t.Error("polling is off after it measured faster")
		}
	})
	t.Run("polling slower is dropped", func(t *testing.T) {
		p := newSpinPolicy(yes)
		n := firstChoice + spinKeep
		polled := simulate(&p, n, constant(10*us), constant(20*us), always(true))
		if polled != spinProbe {
			t.Errorf("polled %d round trips, want only the %d measured", polled, spinProbe)
		}
	})
	t.Run("median, not mean", func(t *testing.T) {
		// One round trip of the sleeping measurement hangs for 10 ms: a
		// sum would call polling faster although it is slower.
		p := newSpinPolicy(yes)
		sleep := func(i int) time.Duration {
			if i == spinFirst+5 {
				return 10 * time.Millisecond
			}
			return 10 * us
		}
		polled := simulate(&p, firstChoice+100, sleep, constant(15*us), always(true))
		if polled != spinProbe {
			t.Errorf("polled %d round trips, want %d", polled, spinProbe)
		}
	})
	t.Run("vain polls end the measurement", func(t *testing.T) {
		// A client goroutine in the same process: polling never sees the
		// ACK. The measurement stops after spinMaxRun vain polls.
		p := newSpinPolicy(yes)
		polled := simulate(&p, firstChoice+spinKeep, constant(10*us), constant(60*us), always(false))
		if polled != spinMaxRun {
			t.Errorf("polled %d round trips, want %d", polled, spinMaxRun)
		}
	})
	t.Run("scattered vain polls end the measurement", func(t *testing.T) {
		p := newSpinPolicy(yes)
		every3rd := func(i int) bool { return i%3 != 0 }
		polled := simulate(&p, firstChoice+spinKeep, constant(20*us), constant(10*us), every3rd)
		if polled >= spinProbe || polled < spinMaxMisses {
			t.Errorf("polled %d round trips, want the measurement cut short after %d vain polls", polled, spinMaxMisses+1)
		}
		if p.on {
			t.Error("polling kept although a third of the polls were in vain")
		}
	})
	t.Run("vain polls in a row turn polling off", func(t *testing.T) {
		// Polling wins the measurement, then the client slows down.
		p := newSpinPolicy(yes)
		slowFrom := firstChoice + 100
		hit := func(i int) bool { return i < slowFrom }
		polled := simulate(&p, firstChoice+1000, constant(20*us), constant(10*us), hit)
		if want := spinProbe + 100 + spinMaxRun; polled != want {
			t.Errorf("polled %d round trips, want %d", polled, want)
		}
	})
	t.Run("measured again", func(t *testing.T) {
		// Polling loses the first measurement and wins the second.
		p := newSpinPolicy(yes)
		second := firstChoice + spinKeep
		poll := func(i int) time.Duration {
			if i < second {
				return 30 * us
			}
			return 10 * us
		}
		polled := simulate(&p, second+2*spinProbe+50, constant(20*us), poll, always(true))
		if want := spinProbe + spinProbe + 50; polled != want {
			t.Errorf("polled %d round trips, want %d", polled, want)
		}
	})
	t.Run("not allowed", func(t *testing.T) {
		asked := 0
		p := newSpinPolicy(func() bool { asked++; return false })
		polled := simulate(&p, firstChoice+3*spinKeep, constant(20*us), constant(10*us), always(true))
		if polled != 0 {
			t.Errorf("polled %d round trips while not allowed", polled)
		}
		if asked < 2 {
			t.Errorf("allowed asked %d times, want once per measurement", asked)
		}
	})
}

func TestBusyPollSetting(t *testing.T) {
	for _, tc := range []struct{ set, want time.Duration }{
		{0, DefaultBusyPoll},
		{-1, 0},
		{20 * time.Microsecond, 20 * time.Microsecond},
		{time.Second, maxBusyPoll},
	} {
		if got := (&Server{BusyPoll: tc.set}).busyPoll(); got != tc.want {
			t.Errorf("BusyPoll %v: polls %v, want %v", tc.set, got, tc.want)
		}
	}
}
