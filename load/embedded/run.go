package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Stop causes. Cancel Run's context with context.WithCancelCause and one of
// these; a plain cancel counts as a signal.
var (
	ErrStopSignal = errors.New("stopped by signal")
	ErrStopStdin  = errors.New("stopped: stdin closed")
)

const (
	// maxBody bounds how much of each response body is read and kept (for
	// ack ids). vegeta drains the rest so the connection stays reusable.
	maxBody = 64 << 10
	// flushEvery is the longest a written line stays in the buffer.
	flushEvery = 100 * time.Millisecond
	// stopGrace is how long Run keeps collecting results that had already
	// completed when a stop arrived (they sit in vegeta's unbuffered results
	// channel). Requests still in flight after it are counted as aborted.
	stopGrace = 50 * time.Millisecond
)

// Run executes the plan and writes the protocol to out. warn receives
// one-line warnings for stderr. It returns the summary written in the end
// line, or an error for a runtime failure (then no end line is written).
func Run(ctx context.Context, cfg Config, out io.Writer, warn func(string)) (Summary, error) {
	em := NewEmitter(out)
	startMs, origin, waitErr := waitForOrigin(ctx, cfg.StartAtMs)
	em.Start(startMs)
	if waitErr != nil { // stopped before t=0
		return finish(em, Summary{Stopped: stopReason(ctx)}, cfg)
	}
	if late := time.Since(origin); late > cfg.LateTolerance {
		warn(fmt.Sprintf("startAtMs is %d ms in the past: arrivals scheduled more than %d ms before now are dropped",
			late.Milliseconds(), cfg.LateTolerance.Milliseconds()))
	}
	since := func() time.Duration { return time.Since(origin) }

	keyPrefix, err := NewKeyPrefix()
	if err != nil {
		return Summary{}, err
	}
	runCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	go flushLoop(runCtx, em, fail)

	gauge := &workerGauge{}
	adm := NewAdmission(cfg.Schedule, cfg.LateTolerance, since, em)
	mix := NewMix(cfg.Entries, cfg.BaseURL, adm, gauge, keyPrefix, cfg.CloseEvery)
	atk := vegeta.NewAttacker(
		vegeta.Client(NewHTTPClient(cfg.Timeout, cfg.MaxWorkers)),
		vegeta.Timeout(cfg.Timeout),
		vegeta.MaxWorkers(cfg.MaxWorkers),
		vegeta.MaxBody(maxBody),
	)
	rec := recorder{cfg: cfg, em: em, origin: origin, startMs: startMs, gauge: gauge}

	adm.SetOffset(since())
	results := atk.Attack(mix.Targeter(), adm, 0, "")

	summary := Summary{Stopped: StoppedCompleted}
	for done := false; !done; {
		select {
		case r, ok := <-results:
			if !ok {
				done = true
				break
			}
			if err := rec.record(r); err != nil {
				atk.Stop()
				_ = em.Flush()
				return Summary{}, err
			}
		case <-runCtx.Done():
			if err := runtimeFailure(runCtx); err != nil {
				atk.Stop()
				return Summary{}, err
			}
			atk.Stop()
			summary.Stopped = stopReason(runCtx)
			if err := drain(results, rec); err != nil {
				return Summary{}, err
			}
			done = true
		}
	}

	// The end line never comes before the plan's end, so the harness can
	// treat it as "the load window is over".
	if summary.Stopped == StoppedCompleted {
		if rest := cfg.Schedule.Duration() - since(); rest > 0 {
			select {
			case <-time.After(rest):
			case <-runCtx.Done():
				if err := runtimeFailure(runCtx); err != nil {
					return Summary{}, err
				}
				summary.Stopped = stopReason(runCtx)
			}
		}
	}
	summary.Workers = min(uint64(gauge.peak.Load()), cfg.MaxWorkers)
	summary.Aborted = uint64(max(gauge.busy.Load(), 0))
	return finish(em, summary, cfg)
}

func finish(em *Emitter, s Summary, cfg Config) (Summary, error) {
	s.MaxWorkersReached = s.Workers >= cfg.MaxWorkers
	return em.End(s)
}

// waitForOrigin waits for the plan's t=0 and returns it as unix ms and as a
// time with a monotonic reading (all later arithmetic is monotonic).
func waitForOrigin(ctx context.Context, startAtMs int64) (int64, time.Time, error) {
	if startAtMs == 0 {
		now := time.Now()
		startAtMs = now.UnixMilli()
	} else if wait := time.Until(time.UnixMilli(startAtMs)); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return startAtMs, time.Time{}, ctx.Err()
		}
	}
	now := time.Now()
	// time.UnixMilli has no monotonic reading, so this Sub is wall-clock;
	// now.Add keeps now's monotonic reading.
	return startAtMs, now.Add(-now.Sub(time.UnixMilli(startAtMs))), nil
}

// flushLoop flushes the emitter every flushEvery; a write error fails the
// run (the harness is gone or stdout is broken).
func flushLoop(ctx context.Context, em *Emitter, fail context.CancelCauseFunc) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := em.Flush(); err != nil {
				fail(err)
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func drain(results <-chan *vegeta.Result, rec recorder) error {
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return nil
			}
			if err := rec.record(r); err != nil {
				return err
			}
		case <-grace.C:
			return nil
		}
	}
}

// stopReason names why ctx ended, for the end line.
func stopReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), ErrStopStdin) {
		return StoppedStdinClosed
	}
	return StoppedSignal
}

// runtimeFailure is the cause of ctx when it is not a requested stop.
func runtimeFailure(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrStopSignal) || errors.Is(cause, ErrStopStdin) || errors.Is(cause, context.Canceled) {
		return nil
	}
	return cause
}

// recorder turns vegeta Results into protocol lines.
type recorder struct {
	cfg     Config
	em      *Emitter
	origin  time.Time
	startMs int64
	gauge   *workerGauge
}

// record writes the r (and a) line of one Result.
//
// Latency is measured from the arrival's SCHEDULED time, not from when a
// worker started it: vegeta's Result.End() (Timestamp + Latency, both
// monotonic, lib/attack.go lines 554 and 560) minus origin + At(n). So a
// request that waited for a worker, or was scheduled while the server
// stalled, carries all of that wait in its latency (no coordinated omission).
func (rc recorder) record(r *vegeta.Result) error {
	tag, ok := parseArrivalTag(r.URL)
	if !ok {
		return fmt.Errorf("internal: a result names no arrival (vegeta error %q)", r.Error)
	}
	rc.gauge.Idle()
	if tag.dropped {
		return nil // counted by Admission.Take
	}
	if tag.entry >= len(rc.cfg.Entries) {
		return fmt.Errorf("internal: a result names entry %d of %d", tag.entry, len(rc.cfg.Entries))
	}
	e := &rc.cfg.Entries[tag.entry]
	at := rc.cfg.Schedule.At(tag.n)
	latency := max(r.End().Sub(rc.origin.Add(at)), 0)
	status := int(r.Code)
	kind := failureKind(status, r.Error, e.Expect)
	rc.em.Request(RequestRecord{
		ScheduledUnixMs: rc.startMs + at.Milliseconds(),
		LatencyUs:       latency.Microseconds(),
		Status:          status,
		Name:            e.Name,
		Kind:            kind,
		Version:         r.Headers.Get("X-App-Version"),
		Instance:        r.Headers.Get("X-Instance-Id"),
	})
	if e.AckField != "" && status != 0 && kind == kindNone {
		if id := ackID(r.Body, e.AckField); id != "" {
			rc.em.Ack(id)
		}
	}
	return nil
}

// workerGauge counts vegeta workers busy with an arrival: from the Targeter
// call to the moment the result loop receives the Result (the worker is
// blocked on the unbuffered results channel until then). The worker may
// take its next arrival before the result loop has counted the previous one
// idle, so the peak can overshoot by a worker or two; Run clamps it to
// MaxWorkers, which vegeta never exceeds.
type workerGauge struct {
	busy, peak atomic.Int64
}

func (g *workerGauge) Busy() {
	n := g.busy.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (g *workerGauge) Idle() { g.busy.Add(-1) }
