package main

import (
	"math"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Schedule is the plan's arrival curve: a piecewise-linear rate (k6
// ramping-arrival-rate semantics). Each stage moves the rate linearly from
// the previous target (startRate for the first stage) to its own target over
// its duration; a stage of duration 0 is an instant step.
//
// Arrival n (1-based) is scheduled at the time where the integral of the rate
// reaches n. That is the convention of vegeta's own pacers (ConstantPacer
// sends hit 0 at 1/rate, not at 0), so a constant 10/s for 1 s schedules
// exactly 10 arrivals at 0.1 s, 0.2 s, ... 1.0 s.
//
// Schedule is a pure function of its inputs and implements vegeta.Pacer, so
// it can be table-tested like vegeta's pacers and dropped into any Attack.
type Schedule struct {
	segs     []segment
	total    float64 // integral of the rate over the whole plan
	arrivals uint64
	duration time.Duration
}

// segment is one stage with its position on the time and arrival axes.
type segment struct {
	start     float64 // seconds since t=0
	dur       float64 // seconds
	r0, r1    float64 // rate at start and end, per second
	cumBefore float64 // integral of the rate before this segment
	cumAfter  float64 // integral of the rate up to the end of this segment
}

// arrivalEpsilon absorbs float error when the integral lands exactly on an
// integer (e.g. 10/s for 1 s must give 10 arrivals, not 9).
const arrivalEpsilon = 1e-9

var _ vegeta.Pacer = Schedule{}

// Stage moves the rate linearly to Target (per second) over DurationS seconds.
type Stage struct {
	Target    float64
	DurationS float64
}

// NewSchedule builds the schedule. Rates and durations must already be
// validated (finite, >= 0).
func NewSchedule(startRate float64, stages []Stage) Schedule {
	s := Schedule{segs: make([]segment, 0, len(stages))}
	from, at, cum := startRate, 0.0, 0.0
	for _, st := range stages {
		area := (from + st.Target) / 2 * st.DurationS
		s.segs = append(s.segs, segment{
			start: at, dur: st.DurationS, r0: from, r1: st.Target,
			cumBefore: cum, cumAfter: cum + area,
		})
		from, at, cum = st.Target, at+st.DurationS, cum+area
	}
	s.total = cum
	s.arrivals = uint64(math.Floor(cum + arrivalEpsilon))
	s.duration = seconds(at)
	return s
}

// Arrivals is the number of arrivals the plan schedules.
func (s Schedule) Arrivals() uint64 { return s.arrivals }

// Duration is the sum of the stage durations.
func (s Schedule) Duration() time.Duration { return s.duration }

// At returns the scheduled time of arrival n (1-based), where the integral of
// the rate reaches n. n must be in [1, Arrivals()].
func (s Schedule) At(n uint64) time.Duration {
	target := float64(n)
	// First segment whose end reaches n and that has arrivals in it (a
	// zero-rate segment has cumBefore == cumAfter and is skipped).
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].cumAfter+arrivalEpsilon >= target })
	for i < len(s.segs) && s.segs[i].cumAfter <= s.segs[i].cumBefore {
		i++
	}
	if i == len(s.segs) {
		return s.duration
	}
	g := s.segs[i]
	rem := math.Min(math.Max(target-g.cumBefore, 0), g.cumAfter-g.cumBefore)
	// Solve r0*t + (r1-r0)/(2*dur)*t^2 = rem for t in [0, dur]. This form of
	// the quadratic root has no division by (r1-r0), so it is exact for a
	// constant rate and stable for a ramp from 0.
	disc := math.Max(g.r0*g.r0+2*(g.r1-g.r0)/g.dur*rem, 0)
	t := 2 * rem / (g.r0 + math.Sqrt(disc))
	return seconds(g.start + math.Min(t, g.dur))
}

// FirstAtOrAfter returns the first arrival n >= from whose scheduled time is
// at or after t; Arrivals()+1 when there is none.
func (s Schedule) FirstAtOrAfter(t time.Duration, from uint64) uint64 {
	n := max(from, 1)
	if guess := uint64(math.Max(math.Ceil(s.Integral(t)-arrivalEpsilon), 1)); guess > n {
		n = guess
	}
	// The guess comes from floats: correct it by the exact At ordering.
	for n > from && n > 1 && n-1 <= s.arrivals && s.At(n-1) >= t {
		n--
	}
	for n <= s.arrivals && s.At(n) < t {
		n++
	}
	return n
}

// Integral is the expected number of arrivals in [0, t].
func (s Schedule) Integral(t time.Duration) float64 {
	x := t.Seconds()
	if x <= 0 {
		return 0
	}
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].start+s.segs[i].dur > x })
	if i == len(s.segs) {
		return s.total
	}
	g := s.segs[i]
	dt := x - g.start
	return g.cumBefore + g.r0*dt + (g.r1-g.r0)/(2*g.dur)*dt*dt
}

// Pace implements vegeta.Pacer: hit number hits (0-based) is arrival hits+1.
func (s Schedule) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	n := hits + 1
	if n > s.arrivals {
		return 0, true
	}
	return max(s.At(n)-elapsed, 0), false
}

// Rate implements vegeta.Pacer: the instantaneous rate per second.
func (s Schedule) Rate(elapsed time.Duration) float64 {
	x := elapsed.Seconds()
	if x < 0 || len(s.segs) == 0 {
		return 0
	}
	for _, g := range s.segs {
		if x < g.start+g.dur {
			return g.r0 + (g.r1-g.r0)*(x-g.start)/g.dur
		}
	}
	return 0 // after the end of the plan
}

func seconds(x float64) time.Duration { return time.Duration(math.Round(x * 1e9)) }
