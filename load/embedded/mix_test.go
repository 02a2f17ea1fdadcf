package main

import (
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestArrivalTagRoundTrip(t *testing.T) {
	tests := []arrivalTag{{n: 1, entry: 0}, {n: 123456789, entry: 12}, {n: 7, dropped: true}}
	for _, tag := range tests {
		got, ok := parseArrivalTag("http://127.0.0.1:1/api/items/5?x=1#" + tag.String())
		if !ok || got != tag {
			t.Errorf("round trip of %+v = %+v, %v", tag, got, ok)
		}
	}
	for _, bad := range []string{"http://x/", "http://x/#", "http://x/#abc", "http://x/#1.-1", "http://x/#d"} {
		if _, ok := parseArrivalTag(bad); ok {
			t.Errorf("parseArrivalTag(%q) accepted", bad)
		}
	}
}

func TestMixPick(t *testing.T) {
	m := NewMix([]Entry{{Weight: 70}, {Weight: 20}, {Weight: 10}}, "http://x", nil, nil, "p", 0)
	tests := []struct {
		u    float64
		want int
	}{{0, 0}, {0.69, 0}, {0.7, 1}, {0.89, 1}, {0.9, 2}, {0.999999, 2}}
	for _, tc := range tests {
		if got := m.pick(tc.u); got != tc.want {
			t.Errorf("pick(%v) = %d, want %d", tc.u, got, tc.want)
		}
	}
}

func TestMixTargeter(t *testing.T) {
	cfg, err := LoadPlan(strings.NewReader(validPlan))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Duration(0)
	adm := NewAdmission(cfg.Schedule, 100*ms, func() time.Duration { return now }, dropLog{})
	m := NewMix(cfg.Entries[1:], cfg.BaseURL, adm, &workerGauge{}, "run1", 0) // only the POST entry
	tr := m.Targeter()

	adm.Pace(0, 0)
	var tgt vegeta.Target
	if err := tr(&tgt); err != nil {
		t.Fatal(err)
	}
	if tgt.Method != "POST" || tgt.URL != "http://127.0.0.1:8080/api/orders#1.0" {
		t.Errorf("target = %s %s", tgt.Method, tgt.URL)
	}
	if got := tgt.Header.Get("Idempotency-Key"); got != "run1-1" {
		t.Errorf("Idempotency-Key = %q", got)
	}
	if cfg.Entries[1].Header.Get("Idempotency-Key") != "" {
		t.Error("the entry's shared header map was modified")
	}
	if !strings.HasPrefix(string(tgt.Body), `{"itemId":`) || strings.Contains(string(tgt.Body), "{int:") {
		t.Errorf("body = %s", tgt.Body)
	}

	adm.Pace(0, 1)
	now = 5 * time.Second // far too late
	if err := tr(&tgt); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(tgt.URL, "#d2") {
		t.Errorf("late arrival target URL = %s, want a drop tag", tgt.URL)
	}
	req, err := tgt.Request()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (dropGate{next: nil}).RoundTrip(req); err != errDropped {
		t.Errorf("dropGate let a dropped target through: %v", err)
	}
}
