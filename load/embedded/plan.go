package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
)

// PlanSpec is the plan file as written by the harness. Required scalars are
// pointers so that "absent" is an error rather than a silent zero.
type PlanSpec struct {
	BaseURL         string        `json:"baseUrl"`
	StartAtMs       *int64        `json:"startAtMs"`
	StartRate       *float64      `json:"startRate"`
	Stages          []StageSpec   `json:"stages"`
	Requests        []RequestSpec `json:"requests"`
	TimeoutS        *float64      `json:"timeoutS"`
	MaxWorkers      *uint64       `json:"maxWorkers"`
	LateToleranceMs *float64      `json:"lateToleranceMs"`
	// RequestsPerConnection: every n-th arrival asks the server to close its
	// connection after answering (Connection: close), so connections turn over
	// as many clients' would and an L4 balancer (kube-proxy) spreads the load
	// over replicas, new ones included. Absent or 0: connections are kept.
	RequestsPerConnection *uint64 `json:"requestsPerConnection"`
}

// StageSpec moves the rate linearly to Target over DurationS seconds.
type StageSpec struct {
	Target    *float64 `json:"target"`
	DurationS *float64 `json:"durationS"`
}

// RequestSpec is one entry of the weighted request mix.
type RequestSpec struct {
	Name           string            `json:"name"`
	Weight         float64           `json:"weight"`
	Method         string            `json:"method"`
	Path           string            `json:"path"`
	Headers        map[string]string `json:"headers"`
	Body           string            `json:"body"`
	IdempotencyKey bool              `json:"idempotencyKey"`
	AckJSONField   string            `json:"ackJsonField"`
	ExpectStatus   []int             `json:"expectStatus"`
}

// Config is the validated plan, ready to run. Treat it as read-only.
type Config struct {
	StartAtMs     int64 // 0: start now
	Schedule      Schedule
	Entries       []Entry
	Timeout       time.Duration
	MaxWorkers    uint64
	LateTolerance time.Duration
	BaseURL       string
	// CloseEvery: every CloseEvery-th arrival carries Connection: close (0: never).
	CloseEvery uint64
}

// Entry is a compiled RequestSpec.
type Entry struct {
	Name           string
	Weight         float64
	Method         string
	URL            Template // base URL + path
	Body           Template
	Header         http.Header
	IdempotencyKey bool
	AckField       string
	Expect         []int
}

// DefaultLateTolerance applies when the plan has no lateToleranceMs.
const DefaultLateTolerance = 100 * time.Millisecond

// PlanError lists every problem found in a plan, each with its JSON path.
type PlanError struct{ Problems []string }

func (e *PlanError) Error() string { return "plan: " + strings.Join(e.Problems, "; ") }

// LoadPlan decodes and validates a plan. Unknown fields are errors (matched
// exactly, unlike encoding/json's case-insensitive matching).
func LoadPlan(r io.Reader) (Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Config{}, fmt.Errorf("plan: read: %w", err)
	}
	var generic any
	if err := decodeStrict(data, &generic, false); err != nil {
		return Config{}, &PlanError{Problems: []string{"not valid JSON: " + err.Error()}}
	}
	unknown := unknownFields(generic, reflect.TypeFor[PlanSpec](), "")
	var spec PlanSpec
	// Unknown keys are already reported above with their paths; decode the
	// rest so that every other problem is reported in the same line.
	if err := decodeStrict(data, &spec, len(unknown) == 0); err != nil {
		return Config{}, &PlanError{Problems: append(unknown, describeDecodeError(err))}
	}
	cfg, err := spec.Compile()
	var pe *PlanError
	switch {
	case errors.As(err, &pe):
		return Config{}, &PlanError{Problems: append(unknown, pe.Problems...)}
	case err != nil:
		return Config{}, err
	case len(unknown) > 0:
		return Config{}, &PlanError{Problems: unknown}
	}
	return cfg, nil
}

func decodeStrict(data []byte, v any, disallowUnknown bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if disallowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the plan object")
	}
	return nil
}

func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s: expected %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	return err.Error()
}

// unknownFields walks decoded JSON against the struct's json tags and names
// every key the struct does not have, with its path.
func unknownFields(v any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var problems []string
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // type errors are reported by the typed decode
		}
		known := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			known[name] = f.Type
			names = append(names, name)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := known[k]
			if !ok {
				hint := "known fields: " + strings.Join(names, ", ")
				for _, n := range names {
					if strings.EqualFold(n, k) {
						hint = fmt.Sprintf("did you mean %q?", n)
					}
				}
				problems = append(problems, fmt.Sprintf("%s: unknown field (%s)", joinPath(path, k), hint))
				continue
			}
			problems = append(problems, unknownFields(obj[k], ft, joinPath(path, k))...)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, el := range arr {
			problems = append(problems, unknownFields(el, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return problems
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Compile validates the spec and reports every problem at once.
func (p PlanSpec) Compile() (Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	base := strings.TrimRight(p.BaseURL, "/")
	if p.BaseURL == "" {
		bad("baseUrl: required (e.g. \"http://127.0.0.1:8080\")")
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("baseUrl: %q is not an absolute http(s) URL without query or fragment", p.BaseURL)
	}

	startAt := int64(0)
	if p.StartAtMs != nil {
		if *p.StartAtMs <= 0 {
			bad("startAtMs: must be a positive unix time in milliseconds")
		}
		startAt = *p.StartAtMs
	}

	startRate := 0.0
	if p.StartRate == nil {
		bad("startRate: required (requests/s at t=0)")
	} else if !finiteNonNegative(*p.StartRate) {
		bad("startRate: must be a finite number >= 0")
	} else {
		startRate = *p.StartRate
	}

	if len(p.Stages) == 0 {
		bad("stages: required, at least one {\"target\", \"durationS\"}")
	}
	total := 0.0
	stages := make([]Stage, 0, len(p.Stages))
	for i, st := range p.Stages {
		var s Stage
		switch {
		case st.Target == nil:
			bad("stages[%d].target: required (requests/s at the end of the stage)", i)
		case !finiteNonNegative(*st.Target):
			bad("stages[%d].target: must be a finite number >= 0", i)
		default:
			s.Target = *st.Target
		}
		switch {
		case st.DurationS == nil:
			bad("stages[%d].durationS: required (0 for an instant step)", i)
		case !finiteNonNegative(*st.DurationS):
			bad("stages[%d].durationS: must be a finite number >= 0", i)
		default:
			s.DurationS = *st.DurationS
		}
		stages = append(stages, s)
		total += s.DurationS
	}
	if len(p.Stages) > 0 && total <= 0 {
		bad("stages: total durationS must be > 0")
	}

	timeout := time.Duration(0)
	if p.TimeoutS == nil {
		bad("timeoutS: required (per-request client timeout in seconds)")
	} else if !finiteNonNegative(*p.TimeoutS) || *p.TimeoutS == 0 {
		bad("timeoutS: must be a finite number > 0")
	} else {
		timeout = seconds(*p.TimeoutS)
	}

	maxWorkers := uint64(0)
	if p.MaxWorkers == nil || *p.MaxWorkers == 0 {
		bad("maxWorkers: required, an integer >= 1")
	} else {
		maxWorkers = *p.MaxWorkers
	}

	tolerance := DefaultLateTolerance
	if p.LateToleranceMs != nil {
		if !finiteNonNegative(*p.LateToleranceMs) {
			bad("lateToleranceMs: must be a finite number >= 0")
		} else {
			tolerance = time.Duration(*p.LateToleranceMs * float64(time.Millisecond))
		}
	}

	closeEvery := uint64(0)
	if p.RequestsPerConnection != nil {
		closeEvery = *p.RequestsPerConnection
	}

	if len(p.Requests) == 0 {
		bad("requests: required, at least one entry")
	}
	entries := make([]Entry, 0, len(p.Requests))
	for i, r := range p.Requests {
		e, errs := r.compile(base)
		for _, err := range errs {
			bad("requests[%d].%s", i, err)
		}
		entries = append(entries, e)
	}

	var sched Schedule
	if len(problems) == 0 {
		sched = NewSchedule(startRate, stages)
		if sched.Arrivals() == 0 {
			bad("stages: the plan schedules no request (the integral of the rate is below 1)")
		}
	}
	if len(problems) > 0 {
		return Config{}, &PlanError{Problems: problems}
	}
	return Config{
		StartAtMs:     startAt,
		Schedule:      sched,
		Entries:       entries,
		Timeout:       timeout,
		MaxWorkers:    maxWorkers,
		LateTolerance: tolerance,
		BaseURL:       base,
		CloseEvery:    closeEvery,
	}, nil
}

func (r RequestSpec) compile(base string) (Entry, []string) {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if r.Name == "" {
		bad("name: required")
	} else if strings.ContainsAny(r.Name, "\t\r\n") {
		bad("name: must not contain tabs or newlines (it is a field of the output)")
	}
	if !finiteNonNegative(r.Weight) || r.Weight == 0 {
		bad("weight: required, a finite number > 0")
	}
	if r.Method == "" {
		bad("method: required (e.g. \"GET\")")
	} else if !isToken(r.Method) {
		bad("method: %q is not an HTTP method token", r.Method)
	}

	var urlT Template
	switch {
	case r.Path == "":
		bad("path: required, starting with \"/\"")
	case !strings.HasPrefix(r.Path, "/"):
		bad("path: %q must start with \"/\"", r.Path)
	case strings.ContainsAny(r.Path, "# \t\r\n"):
		bad("path: %q must not contain '#' or whitespace", r.Path)
	default:
		t, err := ParseTemplate(base + r.Path)
		if err != nil {
			bad("path: %v", err)
		} else if _, err := url.Parse(t.Example()); err != nil {
			bad("path: %q does not make a valid URL: %v", r.Path, err)
		}
		urlT = t
	}

	bodyT, err := ParseTemplate(r.Body)
	if err != nil {
		bad("body: %v", err)
	}

	header := make(http.Header, len(r.Headers)+1)
	for k, v := range r.Headers {
		if !isToken(k) {
			bad("headers: %q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			bad("headers.%s: value must not contain CR or LF", k)
		}
		header.Set(k, v)
	}
	if r.IdempotencyKey && header.Get("Idempotency-Key") != "" {
		bad("headers: Idempotency-Key is set while idempotencyKey is true; keep one")
	}

	if len(r.ExpectStatus) == 0 {
		bad("expectStatus: required, at least one status (e.g. [200])")
	}
	for j, s := range r.ExpectStatus {
		if s < 100 || s > 599 {
			bad("expectStatus[%d]: %d is not an HTTP status (100-599)", j, s)
		}
	}

	return Entry{
		Name: r.Name, Weight: r.Weight, Method: r.Method,
		URL: urlT, Body: bodyT, Header: header,
		IdempotencyKey: r.IdempotencyKey, AckField: r.AckJSONField,
		Expect: slices.Clone(r.ExpectStatus),
	}, errs
}

func finiteNonNegative(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) && x >= 0 }

// isToken reports whether s is an RFC 9110 token (method and header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
