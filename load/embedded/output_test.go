package main

import (
	"bytes"
	"errors"
	"testing"
)

func TestEmitterLines(t *testing.T) {
	var buf bytes.Buffer
	e := NewEmitter(&buf)
	e.Start(1764880000000)
	e.Request(RequestRecord{ScheduledUnixMs: 1764880000100, LatencyUs: 2500, Status: 200, Name: "GET /a", Version: "v2\tx", Instance: "pod\n1"})
	e.Request(RequestRecord{ScheduledUnixMs: 1764880000200, LatencyUs: 5000000, Status: 0, Name: "GET /a", Kind: KindTimeout})
	e.Ack("ord-1")
	e.Dropped(3, 2)
	e.Dropped(1, 5)
	e.Dropped(3, 1)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	e.Dropped(3, 4)
	s, err := e.End(Summary{Stopped: StoppedSignal, Workers: 7, MaxWorkersReached: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "start\t1764880000000\n" +
		"r\t1764880000100\t2500\t200\tGET /a\t-\tv2 x\tpod 1\n" +
		"r\t1764880000200\t5000000\t0\tGET /a\ttimeout\t-\t-\n" +
		"a\tord-1\n" +
		"d\t1764880001000\t5\n" +
		"d\t1764880003000\t3\n" +
		"d\t1764880003000\t4\n" +
		`end	{"requests":2,"dropped":12,"stopped":"signal","workers":7,"maxWorkersReached":true,"aborted":0}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if s.Requests != 2 || s.Dropped != 12 {
		t.Errorf("summary = %+v", s)
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestEmitterWriteError(t *testing.T) {
	e := NewEmitter(brokenWriter{})
	e.Start(1)
	if err := e.Flush(); err == nil {
		t.Fatal("want the write error from Flush")
	}
}
