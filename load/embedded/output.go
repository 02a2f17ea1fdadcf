package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Emitter writes the line protocol (PROTOCOL.md) to stdout through one
// buffered writer. It is safe for concurrent use: the result loop writes r
// and a lines, Admission reports drops from vegeta's goroutines, a ticker
// flushes.
type Emitter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	startMs int64
	drops   map[int64]uint64 // plan second -> dropped count not yet written
	line    []byte
	err     error // first write error; later writes are skipped

	requests, dropped uint64
}

// RequestRecord is one r line.
type RequestRecord struct {
	ScheduledUnixMs int64
	LatencyUs       int64
	Status          int
	Name            string
	Kind            string // "" when the request did not fail
	Version         string
	Instance        string
}

// Summary is the end line's JSON.
type Summary struct {
	Requests          uint64 `json:"requests"`
	Dropped           uint64 `json:"dropped"`
	Stopped           string `json:"stopped"`
	Workers           uint64 `json:"workers"`
	MaxWorkersReached bool   `json:"maxWorkersReached"`
	Aborted           uint64 `json:"aborted"`
}

// Stop reasons.
const (
	StoppedCompleted   = "completed"
	StoppedSignal      = "signal"
	StoppedStdinClosed = "stdin-closed"
)

// NewEmitter wraps w.
func NewEmitter(w io.Writer) *Emitter {
	return &Emitter{w: bufio.NewWriterSize(w, 64<<10), drops: map[int64]uint64{}}
}

// Start writes the start line: the unix ms of the plan's t=0.
func (e *Emitter) Start(unixMs int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startMs = unixMs
	e.line = append(strconv.AppendInt(append(e.line[:0], "start\t"...), unixMs, 10), '\n')
	e.write()
}

// Request writes an r line.
func (e *Emitter) Request(r RequestRecord) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests++
	b := append(e.line[:0], "r\t"...)
	b = strconv.AppendInt(b, r.ScheduledUnixMs, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, r.LatencyUs, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, '\t')
	b = appendField(b, r.Name)
	b = append(b, '\t')
	b = appendField(b, r.Kind)
	b = append(b, '\t')
	b = appendField(b, r.Version)
	b = append(b, '\t')
	b = appendField(b, r.Instance)
	e.line = append(b, '\n')
	e.write()
}

// Ack writes an a line.
func (e *Emitter) Ack(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.line = append(appendField(append(e.line[:0], "a\t"...), id), '\n')
	e.write()
}

// Dropped implements dropRecorder; the counts are written at the next Flush.
func (e *Emitter) Dropped(second int64, count uint64) {
	if count == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.drops[second] += count
	e.dropped += count
}

// Flush writes pending d lines (one per plan second, oldest first) and
// flushes the buffer. It returns the first write error of the run.
func (e *Emitter) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flushLocked()
	return e.err
}

// End writes the end line and flushes. Summary's Requests and Dropped are
// filled from what was written.
func (e *Emitter) End(s Summary) (Summary, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.writeDropsLocked()
	s.Requests, s.Dropped = e.requests, e.dropped
	js, err := json.Marshal(s)
	if err != nil {
		return s, fmt.Errorf("end line: %w", err)
	}
	e.line = append(append(append(e.line[:0], "end\t"...), js...), '\n')
	e.write()
	e.flushLocked()
	return s, e.err
}

func (e *Emitter) flushLocked() {
	e.writeDropsLocked()
	if e.err == nil {
		if err := e.w.Flush(); err != nil {
			e.err = fmt.Errorf("write stdout: %w", err)
		}
	}
}

func (e *Emitter) writeDropsLocked() {
	if len(e.drops) == 0 {
		return
	}
	secs := make([]int64, 0, len(e.drops))
	for s := range e.drops {
		secs = append(secs, s)
	}
	slices.Sort(secs)
	for _, s := range secs {
		b := append(e.line[:0], "d\t"...)
		b = strconv.AppendInt(b, e.startMs+s*1000, 10)
		b = append(b, '\t')
		b = strconv.AppendUint(b, e.drops[s], 10)
		e.line = append(b, '\n')
		e.write()
		delete(e.drops, s)
	}
}

func (e *Emitter) write() {
	if e.err != nil {
		return
	}
	if _, err := e.w.Write(e.line); err != nil {
		e.err = fmt.Errorf("write stdout: %w", err)
	}
}

// appendField appends s as one protocol field: "-" when empty, tabs, CR and
// LF replaced by spaces so the field count stays fixed.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	if !strings.ContainsAny(s, "\t\r\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\r', '\n':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b
}
