package main

import (
	"math"
	"testing"
	"time"
)

const ms = time.Millisecond

// near reports whether two durations differ by at most 1 µs (float error).
func near(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }

func TestSchedulePace(t *testing.T) {
	type step struct {
		elapsed  time.Duration
		hits     uint64
		wantWait time.Duration
		wantStop bool
	}
	tests := []struct {
		name         string
		startRate    float64
		stages       []Stage
		wantArrivals uint64
		steps        []step
	}{
		{
			name: "constant 10/s for 1s: arrival n at n/10 s, first at 0.1 s", startRate: 10,
			stages: []Stage{{10, 1}}, wantArrivals: 10,
			steps: []step{
				{0, 0, 100 * ms, false},
				{100 * ms, 1, 100 * ms, false},
				{950 * ms, 9, 50 * ms, false},
				{1000 * ms, 10, 0, true}, // the end
			},
		},
		{
			name: "running behind: wait 0, never negative", startRate: 10,
			stages: []Stage{{10, 1}}, wantArrivals: 10,
			steps: []step{{700 * ms, 2, 0, false}},
		},
		{
			name: "ramp 0 to 10/s over 2s: rate 5t, integral 2.5t^2", startRate: 0,
			stages: []Stage{{10, 2}}, wantArrivals: 10,
			steps: []step{
				{0, 0, time.Duration(math.Sqrt(0.4) * 1e9), false}, // 2.5t^2 = 1
				{0, 4, time.Duration(math.Sqrt(2) * 1e9), false},   // 2.5t^2 = 5
				{0, 9, 2 * time.Second, false},                     // last one exactly at the end
				{2 * time.Second, 10, 0, true},
			},
		},
		{
			name: "ramp down 10 to 0 over 2s: integral 10t - 2.5t^2", startRate: 10,
			stages: []Stage{{0, 2}}, wantArrivals: 10,
			steps: []step{
				{0, 0, time.Duration((2 - math.Sqrt(3.6)) * 1e9), false}, // 10t-2.5t^2 = 1
				{0, 9, 2 * time.Second, false},
			},
		},
		{
			name: "10x step: 10/s for 1s, then 100/s for 1s", startRate: 10,
			stages: []Stage{{10, 1}, {100, 0}, {100, 1}}, wantArrivals: 110,
			steps: []step{
				{0, 9, 1 * time.Second, false},        // arrival 10 at 1.0 s
				{1 * time.Second, 10, 10 * ms, false}, // arrival 11 at 1.01 s
				{0, 109, 2 * time.Second, false},      // arrival 110 at 2.0 s
				{2 * time.Second, 110, 0, true},
			},
		},
		{
			name: "zero-rate stage is a gap: nothing from 1s to 3s", startRate: 10,
			stages: []Stage{{10, 1}, {0, 0}, {0, 2}, {10, 0}, {10, 1}}, wantArrivals: 20,
			steps: []step{
				{1 * time.Second, 10, 2100 * ms, false}, // arrival 11 at 3.1 s
				{3100 * ms, 11, 100 * ms, false},
				{4 * time.Second, 20, 0, true},
			},
		},
		{
			name: "fractional total rounds down", startRate: 2.5,
			stages: []Stage{{2.5, 1}}, wantArrivals: 2,
			steps: []step{
				{0, 1, 800 * ms, false},
				{800 * ms, 2, 0, true},
			},
		},
		{
			name: "zero rate throughout: stops at once", startRate: 0,
			stages: []Stage{{0, 5}}, wantArrivals: 0,
			steps: []step{{0, 0, 0, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSchedule(tc.startRate, tc.stages)
			if got := s.Arrivals(); got != tc.wantArrivals {
				t.Fatalf("Arrivals() = %d, want %d", got, tc.wantArrivals)
			}
			for _, st := range tc.steps {
				wait, stop := s.Pace(st.elapsed, st.hits)
				if stop != st.wantStop || !near(wait, st.wantWait) {
					t.Errorf("Pace(%v, %d) = (%v, %v), want (%v, %v)", st.elapsed, st.hits, wait, stop, st.wantWait, st.wantStop)
				}
			}
			// The schedule is increasing and within the plan.
			prev := time.Duration(-1)
			for n := uint64(1); n <= s.Arrivals(); n++ {
				at := s.At(n)
				if at < prev || at > s.Duration() {
					t.Fatalf("At(%d) = %v after At(%d) = %v (duration %v)", n, at, n-1, prev, s.Duration())
				}
				prev = at
			}
		})
	}
}

func TestScheduleRate(t *testing.T) {
	s := NewSchedule(10, []Stage{{10, 1}, {100, 0}, {0, 2}})
	tests := []struct {
		elapsed time.Duration
		want    float64
	}{
		{0, 10}, {999 * ms, 10}, {1 * time.Second, 100}, {2 * time.Second, 50}, {3 * time.Second, 0}, {10 * time.Second, 0},
	}
	for _, tc := range tests {
		if got := s.Rate(tc.elapsed); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Rate(%v) = %v, want %v", tc.elapsed, got, tc.want)
		}
	}
}

func TestScheduleFirstAtOrAfter(t *testing.T) {
	s := NewSchedule(10, []Stage{{10, 1}, {0, 0}, {0, 2}, {10, 0}, {10, 1}})
	tests := []struct {
		t    time.Duration
		from uint64
		want uint64
	}{
		{0, 1, 1},
		{100 * ms, 1, 1},         // exactly on arrival 1
		{101 * ms, 1, 2},         // just after it
		{150 * ms, 5, 5},         // from is later than t
		{2 * time.Second, 1, 11}, // inside the gap: next is 3.1 s
		{4 * time.Second, 1, 20},
		{5 * time.Second, 1, 21}, // none left
	}
	for _, tc := range tests {
		if got := s.FirstAtOrAfter(tc.t, tc.from); got != tc.want {
			t.Errorf("FirstAtOrAfter(%v, %d) = %d, want %d", tc.t, tc.from, got, tc.want)
		}
	}
}

// dropLog records Dropped calls by plan second.
type dropLog map[int64]uint64

func (d dropLog) Dropped(second int64, n uint64) { d[second] += n }

func TestAdmission(t *testing.T) {
	sched := NewSchedule(10, []Stage{{10, 3}}) // arrivals at 0.1 s steps, 30 in all
	type call struct {
		elapsed  time.Duration
		wantWait time.Duration
		wantStop bool
	}
	tests := []struct {
		name      string
		calls     []call
		wantDrops dropLog
		wantQueue []uint64
	}{
		{
			name:      "on time: one queued arrival per Pace call",
			calls:     []call{{0, 100 * ms, false}, {100 * ms, 100 * ms, false}},
			wantDrops: dropLog{},
			wantQueue: []uint64{1, 2},
		},
		{
			name:      "late within tolerance: sent now",
			calls:     []call{{190 * ms, 0, false}},
			wantDrops: dropLog{},
			wantQueue: []uint64{1},
		},
		{
			// the loop was blocked at the cap until 2.45 s: arrivals up to
			// 2.3 s are more than 100 ms late; 2.4 s is sent at once.
			name:      "blocked past many arrivals: dropped per second, pacer moves on",
			calls:     []call{{2450 * ms, 0, false}, {2450 * ms, 50 * ms, false}},
			wantDrops: dropLog{0: 9, 1: 10, 2: 4}, // 0.1-0.9 s, 1.0-1.9 s, 2.0-2.3 s
			wantQueue: []uint64{24, 25},
		},
		{
			name:      "everything late: stop",
			calls:     []call{{5 * time.Second, 0, true}},
			wantDrops: dropLog{0: 9, 1: 10, 2: 10, 3: 1},
			wantQueue: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			drops := dropLog{}
			a := NewAdmission(sched, 100*ms, func() time.Duration { return 0 }, drops)
			for _, c := range tc.calls {
				wait, stop := a.Pace(c.elapsed, 0)
				if stop != c.wantStop || !near(wait, c.wantWait) {
					t.Errorf("Pace(%v) = (%v, %v), want (%v, %v)", c.elapsed, wait, stop, c.wantWait, c.wantStop)
				}
			}
			var queued []uint64
			for _, q := range a.queue {
				queued = append(queued, q.n)
			}
			if !equalSlices(queued, tc.wantQueue) {
				t.Errorf("queue = %v, want %v", queued, tc.wantQueue)
			}
			if !equalMaps(drops, tc.wantDrops) {
				t.Errorf("drops = %v, want %v", drops, tc.wantDrops)
			}
		})
	}
}

func TestAdmissionOffset(t *testing.T) {
	// Attack began 1 s after t=0: vegeta's elapsed 0 is plan time 1 s.
	a := NewAdmission(NewSchedule(10, []Stage{{10, 3}}), 100*ms, nil, dropLog{})
	a.SetOffset(950 * ms)
	if wait, _ := a.Pace(0, 0); !near(wait, 0) {
		t.Errorf("first Pace wait = %v, want 0 (arrival 9 at 0.9 s is within tolerance)", wait)
	}
	if a.queue[0].n != 9 {
		t.Errorf("first queued arrival = %d, want 9", a.queue[0].n)
	}
}

func TestAdmissionTake(t *testing.T) {
	now := time.Duration(0)
	drops := dropLog{}
	a := NewAdmission(NewSchedule(10, []Stage{{10, 3}}), 100*ms, func() time.Duration { return now }, drops)
	if _, _, err := a.Take(); err == nil {
		t.Fatal("Take on an empty queue: want the invariant error")
	}
	a.Pace(0, 0)   // queues arrival 1 (0.1 s)
	a.Pace(0, 1)   // queues arrival 2 (0.2 s)
	now = 150 * ms // a worker takes the first tick on time
	if arr, dropped, err := a.Take(); err != nil || dropped || arr.n != 1 {
		t.Errorf("Take() = (%v, %v, %v), want arrival 1 sent", arr, dropped, err)
	}
	now = 1200 * ms // the next worker only frees up a second later
	if arr, dropped, err := a.Take(); err != nil || !dropped || arr.n != 2 {
		t.Errorf("Take() = (%v, %v, %v), want arrival 2 dropped", arr, dropped, err)
	}
	if !equalMaps(drops, dropLog{0: 1}) {
		t.Errorf("drops = %v, want one in second 0", drops)
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalMaps[K, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
