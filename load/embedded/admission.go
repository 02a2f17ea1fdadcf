package main

import (
	"errors"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Admission is the Pacer handed to vegeta's Attack. It hands out the
// Schedule's arrivals in order and decides which arrivals are dropped because
// no worker could start them on time.
//
// How vegeta v12.13.0 drives it (lib/attack.go, Attacker.Attack, lines
// 474-509, and Attacker.attack/hit, lines 529-557):
//
//   - The attack loop calls Pace(elapsed, count) exactly once per tick, sleeps
//     the returned wait, then sends one struct{}{} on the unbuffered ticks
//     channel (or spawns a worker first while below MaxWorkers). count only
//     counts ticks sent, and there is no way to tell the loop "skip this one".
//   - At MaxWorkers the send blocks until a worker is free; the loop does not
//     call Pace again meanwhile. So a tick can be delivered long after the
//     time Pace meant it for.
//   - A worker that receives a tick calls hit, which takes Result.Seq and
//     Result.Timestamp under a mutex and only then calls the Targeter. Seq is
//     therefore the order in which workers won that mutex, not the order of
//     the ticks, and ticks carry no payload: Seq cannot name the arrival.
//
// So Admission works in two places:
//
//  1. Pace keeps its own cursor over the arrivals (it ignores the hits
//     argument, which does not know about drops). Arrivals already more than
//     the tolerance in the past are dropped right there without a tick (the
//     loop was blocked at the cap, or the process stalled); the first
//     arrival still on time is queued and Pace returns the wait until it.
//  2. The Targeter (Take) runs in the worker at the moment a worker actually
//     takes a tick. It dequeues the oldest queued arrival (ticks are
//     indistinguishable, so pairing the tick with the oldest pending arrival
//     is exact as a set and serves the most urgent first). If that arrival's
//     scheduled time passed by more than the tolerance, it is dropped: the
//     target is marked so that dropGate refuses it before any byte is sent.
//
// Pace always queues before the tick is sent, and a worker can only call the
// Targeter after receiving a tick, so the queue is never empty in Take.
type Admission struct {
	sched     Schedule
	tolerance time.Duration
	// offset is the time from the plan's t=0 to the moment Attack began
	// (vegeta measures elapsed from its own start).
	offset time.Duration
	// since is the clock of the plan: time since t=0.
	since func() time.Duration
	drops dropRecorder

	mu    sync.Mutex
	next  uint64 // next arrival (1-based) to hand to Pace
	queue []arrival
}

// arrival is one scheduled request.
type arrival struct {
	n  uint64
	at time.Duration // scheduled time since t=0
}

// dropRecorder receives dropped arrivals, attributed to the plan second
// (since t=0) of their scheduled time.
type dropRecorder interface {
	Dropped(second int64, count uint64)
}

var errQueueEmpty = errors.New("slo-load: internal: a worker took a tick with no queued arrival")

var _ vegeta.Pacer = (*Admission)(nil)

// NewAdmission returns an Admission over sched.
func NewAdmission(sched Schedule, tolerance time.Duration, since func() time.Duration, drops dropRecorder) *Admission {
	return &Admission{sched: sched, tolerance: tolerance, since: since, drops: drops, next: 1}
}

// SetOffset records how long after t=0 the Attack started. Call it just
// before Attack: measured slightly early, it can only delay ticks by
// microseconds, never send them early.
func (a *Admission) SetOffset(d time.Duration) { a.offset = d }

// Pace implements vegeta.Pacer.
func (a *Admission) Pace(elapsed time.Duration, _ uint64) (time.Duration, bool) {
	now := elapsed + a.offset
	a.mu.Lock()
	defer a.mu.Unlock()

	n := a.next
	if n > a.sched.Arrivals() {
		return 0, true
	}
	if at := a.sched.At(n); now-at > a.tolerance {
		m := a.sched.FirstAtOrAfter(now-a.tolerance, n)
		a.dropRange(n, m)
		n = m
		if n > a.sched.Arrivals() {
			return 0, true
		}
	}
	at := a.sched.At(n)
	a.next = n + 1
	a.queue = append(a.queue, arrival{n: n, at: at})
	return max(at-now, 0), false
}

// Rate implements vegeta.Pacer.
func (a *Admission) Rate(elapsed time.Duration) float64 { return a.sched.Rate(elapsed + a.offset) }

// Take dequeues the arrival for a worker that just took a tick. dropped is
// true when the arrival is too late to be sent; it is then already counted.
func (a *Admission) Take() (arr arrival, dropped bool, err error) {
	a.mu.Lock()
	if len(a.queue) == 0 {
		a.mu.Unlock()
		return arrival{}, false, errQueueEmpty
	}
	arr = a.queue[0]
	a.queue[0] = arrival{}
	a.queue = a.queue[1:]
	if len(a.queue) == 0 {
		a.queue = a.queue[:0:0] // let the backing array go
	}
	a.mu.Unlock()

	if a.since()-arr.at > a.tolerance {
		a.drops.Dropped(planSecond(arr.at), 1)
		return arr, true, nil
	}
	return arr, false, nil
}

// dropRange counts arrivals [from, to) as dropped, grouped by plan second.
// It is O(seconds spanned), not O(arrivals), so a long stall at a high rate
// costs little.
func (a *Admission) dropRange(from, to uint64) {
	for n := from; n < to; {
		sec := planSecond(a.sched.At(n))
		end := min(a.sched.FirstAtOrAfter(time.Duration(sec+1)*time.Second, n), to)
		a.drops.Dropped(sec, end-n)
		n = end
	}
}

// planSecond is the whole second since t=0 that contains d.
func planSecond(d time.Duration) int64 { return int64(d / time.Second) }
