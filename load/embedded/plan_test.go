package main

import (
	"strings"
	"testing"
	"time"
)

const validPlan = `{
  "baseUrl": "http://127.0.0.1:8080/",
  "startRate": 10,
  "stages": [{"target": 100, "durationS": 12.5}],
  "requests": [
    {"name": "GET /api/items/:id", "weight": 70, "method": "GET", "path": "/api/items/{int:1:1000}", "expectStatus": [200]},
    {"name": "POST /api/orders", "weight": 20, "method": "POST", "path": "/api/orders",
     "headers": {"Content-Type": "application/json"}, "body": "{\"itemId\":{int:1:1000},\"quantity\":{int:1:5}}",
     "idempotencyKey": true, "ackJsonField": "id", "expectStatus": [200, 201]}
  ],
  "timeoutS": 5,
  "maxWorkers": 2000
}`

func TestLoadPlanValid(t *testing.T) {
	cfg, err := LoadPlan(strings.NewReader(validPlan))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "http://127.0.0.1:8080" || cfg.MaxWorkers != 2000 || cfg.Timeout != 5*time.Second ||
		cfg.LateTolerance != DefaultLateTolerance || cfg.StartAtMs != 0 {
		t.Errorf("unexpected config: %+v", cfg)
	}
	if got := cfg.Schedule.Arrivals(); got != 687 { // (10+100)/2*12.5 = 687.5
		t.Errorf("arrivals = %d, want 687", got)
	}
	if e := cfg.Entries[1]; e.Header.Get("Content-Type") != "application/json" || !e.IdempotencyKey || e.AckField != "id" {
		t.Errorf("entry 1 = %+v", e)
	}
}

func TestLoadPlanErrors(t *testing.T) {
	tests := []struct {
		name string
		plan string
		want []string // substrings of the one-line error
	}{
		{"unknown top-level field, exact case", strings.Replace(validPlan, `"timeoutS"`, `"timeouts"`, 1),
			[]string{`timeouts: unknown field (did you mean "timeoutS"?)`}},
		{"unknown field and other problems in one line", strings.Replace(strings.Replace(validPlan, `"startRate"`, `"rate"`, 1), `"maxWorkers": 2000`, `"maxWorkers": 0`, 1),
			[]string{"rate: unknown field (known fields: baseUrl, startAtMs,", "startRate: required", "maxWorkers: required"}},
		{"unknown nested field with its path", strings.Replace(validPlan, `"weight": 20`, `"wieght": 20`, 1),
			[]string{"requests[1].wieght: unknown field"}},
		{"unknown stage field", strings.Replace(validPlan, `"durationS": 12.5`, `"durationS": 12.5, "duration": 3`, 1),
			[]string{"stages[0].duration: unknown field"}},
		{"not JSON", `{"baseUrl":`, []string{"not valid JSON"}},
		{"trailing data", validPlan + ` {}`, []string{"trailing data"}},
		{"type error names the field", strings.Replace(validPlan, `"maxWorkers": 2000`, `"maxWorkers": "many"`, 1),
			[]string{"maxWorkers"}},
		{"every problem at once", `{"baseUrl": "ftp://x", "stages": [{"target": -1}], "requests": [{"name": "a\tb", "weight": 0, "method": "GE T", "path": "items", "expectStatus": [999]}], "maxWorkers": 0, "lateToleranceMs": -5}`,
			[]string{"baseUrl: \"ftp://x\" is not", "startRate: required", "stages[0].target: must be", "stages[0].durationS: required",
				"timeoutS: required", "maxWorkers: required", "lateToleranceMs: must be", "requests[0].name: must not contain tabs",
				"requests[0].weight: required", "requests[0].method: \"GE T\"", "requests[0].path: \"items\" must start", "requests[0].expectStatus[0]: 999"}},
		{"bad placeholder", strings.Replace(validPlan, `{int:1:1000}"`, `{int:9:1}"`, 1),
			[]string{"requests[0].path: placeholder \"{int:9:1}\""}},
		{"unclosed placeholder in body", strings.Replace(validPlan, `{int:1:5}}`, `{int:1:5`, 1),
			[]string{"requests[1].body: placeholder at byte"}},
		{"no arrivals", strings.Replace(strings.Replace(validPlan, `"startRate": 10`, `"startRate": 0`, 1), `"target": 100`, `"target": 0`, 1),
			[]string{"the plan schedules no request"}},
		{"idempotency key twice", strings.Replace(validPlan, `"Content-Type": "application/json"`, `"Idempotency-Key": "x"`, 1),
			[]string{"requests[1].headers: Idempotency-Key is set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPlan(strings.NewReader(tc.plan))
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}
