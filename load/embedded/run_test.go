package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reqLine is one parsed r line.
type reqLine struct {
	scheduledMs int64
	latency     time.Duration
	status      int
	name, kind  string
	version     string
	instance    string
}

// output is a parsed protocol stream.
type output struct {
	startMs int64
	reqs    []reqLine
	acks    []string
	drops   uint64
	end     Summary
}

// parseOutput parses the protocol strictly, as the harness would: exact
// field counts, start first, end last and once.
func parseOutput(t *testing.T, s string) output {
	t.Helper()
	var o output
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, line := range lines {
		f := strings.Split(line, "\t")
		switch {
		case i == 0 && f[0] != "start":
			t.Fatalf("first line %q is not start", line)
		case f[0] == "end" && i != len(lines)-1:
			t.Fatalf("end is not the last line (line %d of %d)", i+1, len(lines))
		}
		switch f[0] {
		case "start":
			mustFields(t, f, 2)
			o.startMs = atoi(t, f[1])
		case "r":
			mustFields(t, f, 8)
			kind := f[5]
			if kind == "-" {
				kind = ""
			}
			o.reqs = append(o.reqs, reqLine{
				scheduledMs: atoi(t, f[1]), latency: time.Duration(atoi(t, f[2])) * time.Microsecond,
				status: int(atoi(t, f[3])), name: f[4], kind: kind, version: f[6], instance: f[7],
			})
		case "a":
			mustFields(t, f, 2)
			o.acks = append(o.acks, f[1])
		case "d":
			mustFields(t, f, 3)
			if sec := atoi(t, f[1]); (sec-o.startMs)%1000 != 0 {
				t.Errorf("d line %q is not on a plan second", line)
			}
			o.drops += uint64(atoi(t, f[2]))
		case "end":
			mustFields(t, f, 2)
			dec := json.NewDecoder(strings.NewReader(f[1]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&o.end); err != nil {
				t.Fatalf("end json %q: %v", f[1], err)
			}
		default:
			t.Fatalf("unknown line %q", line)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "end\t") {
		t.Fatalf("no end line; last line %q", lines[len(lines)-1])
	}
	if o.end.Requests != uint64(len(o.reqs)) || o.end.Dropped != o.drops {
		t.Errorf("end %+v does not match %d r lines and %d dropped in d lines", o.end, len(o.reqs), o.drops)
	}
	return o
}

func mustFields(t *testing.T, f []string, n int) {
	t.Helper()
	if len(f) != n {
		t.Fatalf("line %q has %d fields, want %d", strings.Join(f, "\\t"), len(f), n)
	}
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}

// planJSON builds a constant-rate plan.
func planJSON(base string, rate, durationS float64, maxWorkers int, requests string, extra string) string {
	return fmt.Sprintf(`{"baseUrl": %q, "startRate": %g, "stages": [{"target": %g, "durationS": %g}],
		"requests": [%s], "timeoutS": 2, "maxWorkers": %d%s}`, base, rate, rate, durationS, requests, maxWorkers, extra)
}

// runPlan runs a plan in-process and parses its output.
func runPlan(t *testing.T, ctx context.Context, plan string) (output, time.Duration) {
	t.Helper()
	cfg, err := LoadPlan(strings.NewReader(plan))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	began := time.Now()
	if _, err := Run(ctx, cfg, &out, func(msg string) { t.Log("warning: ", msg) }); err != nil {
		t.Fatal(err)
	}
	return parseOutput(t, out.String()), time.Since(began)
}

func TestRunMixCountsAndAcks(t *testing.T) {
	var (
		seen    atomic.Int64
		mu      sync.Mutex
		perPath = map[string]int{}
		issued  []string
		keys    = map[string]bool{}
		problem string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := seen.Add(1)
		w.Header().Set("X-App-Version", "v2")
		w.Header().Set("X-Instance-Id", "pod-a")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/items/"):
			perPath["items"]++
			if id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/items/")); err != nil || id < 1 || id > 1000 {
				problem = "bad item path " + r.URL.Path
			}
		case r.URL.Path == "/api/orders":
			perPath["orders"]++
			var body struct{ ItemID, Quantity int }
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Quantity < 1 || body.Quantity > 5 || body.ItemID < 1 {
				problem = fmt.Sprintf("bad order body %+v %v", body, err)
			}
			key := r.Header.Get("Idempotency-Key")
			if key == "" || keys[key] {
				problem = "missing or repeated Idempotency-Key " + key
			}
			keys[key] = true
			if n%5 == 0 { // an unexpected status with an id: must not be acked
				w.WriteHeader(http.StatusConflict)
				fmt.Fprintf(w, `{"id":"conflict-%d"}`, n)
				return
			}
			id := fmt.Sprintf("ord-%d", n)
			issued = append(issued, id)
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":%q}`, id)
		case r.URL.Path == "/api/cpu":
			perPath["cpu"]++
		}
	}))
	defer srv.Close()

	requests := `{"name": "GET /api/items/:id", "weight": 70, "method": "GET", "path": "/api/items/{int:1:1000}", "expectStatus": [200]},
		{"name": "POST /api/orders", "weight": 20, "method": "POST", "path": "/api/orders", "headers": {"Content-Type": "application/json"},
		 "body": "{\"itemId\":{int:1:1000},\"quantity\":{int:1:5}}", "idempotencyKey": true, "ackJsonField": "id", "expectStatus": [200, 201]},
		{"name": "GET /api/cpu", "weight": 10, "method": "GET", "path": "/api/cpu?ms=20", "expectStatus": [200]}`
	o, _ := runPlan(t, context.Background(), planJSON(srv.URL, 400, 2.5, 2000, requests, ""))

	if problem != "" {
		t.Error(problem)
	}
	if got := seen.Load(); got != 1000 || len(o.reqs) != 1000 || o.end.Dropped != 0 {
		t.Fatalf("server saw %d, %d r lines, %d dropped; want 1000, 1000, 0", got, len(o.reqs), o.end.Dropped)
	}
	for path, want := range map[string]float64{"items": 0.70, "orders": 0.20, "cpu": 0.10} {
		if share := float64(perPath[path]) / 1000; share < want-0.05 || share > want+0.05 {
			t.Errorf("%s share %.3f, want %.2f ± 0.05", path, share, want)
		}
	}
	conflicts := 0
	for _, r := range o.reqs {
		if r.scheduledMs < o.startMs || r.scheduledMs > o.startMs+2500 {
			t.Fatalf("scheduled %d outside the plan [%d, +2500]", r.scheduledMs, o.startMs)
		}
		if r.version != "v2" || r.instance != "pod-a" {
			t.Fatalf("headers not reported: %+v", r)
		}
		if r.status == http.StatusConflict {
			conflicts++
			if r.kind != Kind4xx || r.name != "POST /api/orders" {
				t.Errorf("409 line = %+v, want kind 4xx", r)
			}
		} else if r.kind != "" {
			t.Errorf("unexpected failure %+v", r)
		}
	}
	slices.Sort(o.acks)
	slices.Sort(issued)
	if !slices.Equal(o.acks, issued) || len(issued) == 0 || conflicts == 0 {
		t.Errorf("acks (%d) differ from issued ids (%d); conflicts %d", len(o.acks), len(issued), conflicts)
	}
}

func TestRunSlowEndpointLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(250 * time.Millisecond)
	}))
	defer srv.Close()
	o, _ := runPlan(t, context.Background(), planJSON(srv.URL, 40, 1, 2000,
		`{"name": "slow", "weight": 1, "method": "GET", "path": "/slow", "expectStatus": [200]}`, ""))
	if len(o.reqs) != 40 {
		t.Fatalf("%d requests, want 40", len(o.reqs))
	}
	lat := make([]time.Duration, 0, len(o.reqs))
	for _, r := range o.reqs {
		lat = append(lat, r.latency)
	}
	slices.Sort(lat)
	if lat[0] < 250*ms || lat[len(lat)/2] > 300*ms {
		t.Errorf("latencies min %v median %v, want ~250 ms", lat[0], lat[len(lat)/2])
	}
}

// A server that blocks every request for one second mid-run: each request
// scheduled during the stall must show the time from ITS schedule to the end
// of the stall, and none may be missing (no coordinated omission).
func TestRunStallMeasuredFromScheduledTime(t *testing.T) {
	startAt := time.Now().Add(300 * time.Millisecond).UnixMilli() // also exercises startAtMs
	stallFrom, stallTo := time.UnixMilli(startAt+1000), time.UnixMilli(startAt+2000)
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if now := time.Now(); !now.Before(stallFrom) && now.Before(stallTo) {
			time.Sleep(stallTo.Sub(now))
		}
	}))
	defer srv.Close()
	o, _ := runPlan(t, context.Background(), planJSON(srv.URL, 50, 3, 2000,
		`{"name": "get", "weight": 1, "method": "GET", "path": "/", "expectStatus": [200]}`,
		fmt.Sprintf(`, "startAtMs": %d`, startAt)))

	if o.startMs != startAt {
		t.Errorf("start %d, want startAtMs %d", o.startMs, startAt)
	}
	if len(o.reqs) != 150 || seen.Load() != 150 || o.end.Dropped != 0 {
		t.Fatalf("%d r lines, server saw %d, dropped %d; want 150, 150, 0", len(o.reqs), seen.Load(), o.end.Dropped)
	}
	var maxLat time.Duration
	for _, r := range o.reqs {
		off := time.Duration(r.scheduledMs-startAt) * time.Millisecond
		maxLat = max(maxLat, r.latency)
		switch {
		case off >= 1010*ms && off <= 1990*ms: // scheduled inside the stall
			want := 2*time.Second - off
			if r.latency < want-5*ms || r.latency > want+150*ms {
				t.Errorf("scheduled at +%v: latency %v, want ~%v (until the stall ends)", off, r.latency, want)
			}
		case off < 990*ms || off > 2010*ms:
			if r.latency > 150*ms {
				t.Errorf("scheduled at +%v outside the stall: latency %v", off, r.latency)
			}
		}
	}
	if maxLat < 950*ms {
		t.Errorf("max latency %v: the first request of the stall should wait ~1 s", maxLat)
	}
}

func TestRunWorkerCapDropsInsteadOfSendingLate(t *testing.T) {
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		time.Sleep(200 * time.Millisecond)
	}))
	defer srv.Close()
	// 75 arrivals at 50/s; 2 workers x 200 ms serve ~10/s.
	o, _ := runPlan(t, context.Background(), planJSON(srv.URL, 50, 1.5, 2,
		`{"name": "slow", "weight": 1, "method": "GET", "path": "/", "expectStatus": [200]}`, `, "lateToleranceMs": 100`))

	if got := uint64(len(o.reqs)) + o.end.Dropped; got != 75 {
		t.Errorf("requests %d + dropped %d = %d, want every one of the 75 arrivals accounted for", len(o.reqs), o.end.Dropped, got)
	}
	if o.end.Dropped < 30 || seen.Load() != int64(len(o.reqs)) {
		t.Errorf("dropped %d (want most), server saw %d of %d reported", o.end.Dropped, seen.Load(), len(o.reqs))
	}
	if o.end.Workers > 2 || !o.end.MaxWorkersReached {
		t.Errorf("end %+v: want workers <= 2 and maxWorkersReached", o.end)
	}
	for _, r := range o.reqs {
		// sent at most 100 ms after its schedule, then 200 ms at the server
		if r.latency > 200*ms+100*ms+60*ms {
			t.Errorf("latency %v: the request was sent late", r.latency)
		}
	}
}

func TestRunFailureKinds(t *testing.T) {
	hijack := func(w http.ResponseWriter, reset bool) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			_ = tcp.SetLinger(0) // close with RST
		}
		conn.Close()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(500)
		case "/404":
			w.WriteHeader(404)
		case "/302":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/reset":
			hijack(w, true)
		case "/eof":
			hijack(w, false)
		case "/sleep":
			time.Sleep(600 * time.Millisecond)
		}
	}))
	defer srv.Close()
	want := map[string]string{"/500": Kind5xx, "/404": Kind4xx, "/302": KindUnexpectedStatus,
		"/reset": KindConnReset, "/eof": KindNoResponse, "/sleep": KindTimeout}
	var reqs []string
	for path := range want {
		reqs = append(reqs, fmt.Sprintf(`{"name": %q, "weight": 1, "method": "GET", "path": %q, "expectStatus": [200]}`, path, path))
	}
	plan := strings.Replace(planJSON(srv.URL, 60, 0.5, 2000, strings.Join(reqs, ","), ""), `"timeoutS": 2`, `"timeoutS": 0.3`, 1)
	o, _ := runPlan(t, context.Background(), plan)
	if len(o.reqs) != 30 {
		t.Fatalf("%d requests, want 30", len(o.reqs))
	}
	for _, r := range o.reqs {
		if r.kind != want[r.name] {
			t.Errorf("%s: kind %q, want %q", r.name, r.kind, want[r.name])
		}
		noResponse := r.name == "/reset" || r.name == "/eof" || r.name == "/sleep"
		if noResponse != (r.status == 0) {
			t.Errorf("%s: status %d", r.name, r.status)
		}
	}

	// Connection refused: a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	o, _ = runPlan(t, context.Background(), planJSON(closed, 20, 0.25, 10,
		`{"name": "refused", "weight": 1, "method": "GET", "path": "/", "expectStatus": [200]}`, ""))
	if len(o.reqs) != 5 {
		t.Fatalf("%d requests, want 5", len(o.reqs))
	}
	for _, r := range o.reqs {
		if r.kind != KindConnRefused || r.status != 0 || r.version != "-" {
			t.Errorf("refused: %+v", r)
		}
	}
}

func TestRunStopsAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			time.Sleep(time.Second)
		}
	}))
	defer srv.Close()
	ctx, stop := context.WithCancelCause(context.Background())
	time.AfterFunc(400*time.Millisecond, func() { stop(ErrStopStdin) })
	o, took := runPlan(t, ctx, planJSON(srv.URL, 50, 10, 2000,
		`{"name": "fast", "weight": 1, "method": "GET", "path": "/", "expectStatus": [200]},
		 {"name": "hang", "weight": 1, "method": "GET", "path": "/hang", "expectStatus": [200]}`, ""))
	if took > 700*ms {
		t.Errorf("stop took %v after a 400 ms run", took)
	}
	if o.end.Stopped != StoppedStdinClosed || o.end.Aborted == 0 || len(o.reqs) == 0 {
		t.Errorf("end %+v with %d requests: want stdin-closed, some completed, some aborted", o.end, len(o.reqs))
	}
	for _, r := range o.reqs {
		if r.name != "fast" {
			t.Errorf("a hanging request was reported: %+v", r)
		}
	}
}

// requestsPerConnection turns connections over: with 1 in 10 arrivals asking
// for Connection: close, 100 requests open about 10 connections; without it,
// keep-alive carries them on the few the concurrency needs.
func TestRunRequestsPerConnectionTurnsConnectionsOver(t *testing.T) {
	opened := func(extra string) int64 {
		var conns atomic.Int64
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		defer srv.Close()
		o, _ := runPlan(t, context.Background(), planJSON(srv.URL, 100, 1, 100,
			`{"name": "r", "weight": 1, "method": "GET", "path": "/r", "expectStatus": [200]}`, extra))
		if len(o.reqs) != 100 {
			t.Fatalf("%d requests, want 100", len(o.reqs))
		}
		for _, r := range o.reqs {
			if r.status != 200 {
				t.Fatalf("a request did not succeed: %+v", r)
			}
		}
		return conns.Load()
	}
	if kept := opened(""); kept > 5 {
		t.Errorf("keep-alive: %d connections for 100 sequential-ish requests, want a few", kept)
	}
	if turned := opened(`, "requestsPerConnection": 10`); turned < 9 || turned > 12 {
		t.Errorf("requestsPerConnection 10: %d connections, want ~10", turned)
	}
}
