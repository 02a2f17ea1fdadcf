package main

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Mix turns arrivals into vegeta Targets: one request per arrival, the entry
// picked at random by weight.
//
// Each Target's URL carries the arrival's identity in its fragment
// ("#<n>.<entry>", or "#d<n>" for a dropped arrival). net/http never sends a
// fragment (the request line is URL.RequestURI()), and vegeta copies
// Target.URL into Result.URL (lib/attack.go line 572), so every Result names
// its own arrival exactly, whatever order workers ran in.
type Mix struct {
	entries    []Entry
	cumWeights []float64
	// staticBodies[i] is entry i's body rendered once when it has no
	// placeholder (nil when empty).
	staticBodies [][]byte
	admission    *Admission
	workers      *workerGauge
	keyPrefix    string // run-unique prefix of Idempotency-Key values
	dropURL      string
	closeEvery   uint64 // every closeEvery-th arrival asks for Connection: close (0: never)
	closeHeaders []http.Header
}

// NewMix builds the targeter's state. keyPrefix should be unique per run;
// closeEvery turns connections over (see PlanSpec.RequestsPerConnection).
func NewMix(entries []Entry, baseURL string, adm *Admission, workers *workerGauge, keyPrefix string, closeEvery uint64) *Mix {
	m := &Mix{entries: entries, admission: adm, workers: workers, keyPrefix: keyPrefix, dropURL: baseURL + "/", closeEvery: closeEvery}
	sum := 0.0
	for _, e := range entries {
		sum += e.Weight
		m.cumWeights = append(m.cumWeights, sum)
		var body []byte
		if e.Body.Static() && len(e.Body.parts) > 0 {
			body = e.Body.AppendRender(nil)
		}
		m.staticBodies = append(m.staticBodies, body)
		closing := e.Header.Clone()
		if closing == nil {
			closing = http.Header{}
		}
		closing.Set("Connection", "close")
		m.closeHeaders = append(m.closeHeaders, closing)
	}
	return m
}

// NewKeyPrefix returns a random prefix so that Idempotency-Key values are
// unique across runs too.
func NewKeyPrefix() (string, error) {
	var b [6]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", fmt.Errorf("idempotency key prefix: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Targeter is the vegeta.Targeter. vegeta calls it in the worker, right
// after the worker took a tick (lib/attack.go line 566).
func (m *Mix) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		arr, dropped, err := m.admission.Take()
		if err != nil {
			return err // vegeta stops the attack; Run reports it
		}
		m.workers.Busy()
		if dropped {
			*t = vegeta.Target{Method: http.MethodGet, URL: m.dropURL + "#" + arrivalTag{n: arr.n, dropped: true}.String()}
			return nil
		}
		i := m.pick(rand.Float64())
		e := &m.entries[i]
		tag := arrivalTag{n: arr.n, entry: i}.String()
		url := e.URL.AppendRender(make([]byte, 0, 128))
		url = append(append(url, '#'), tag...)
		t.Method = e.Method
		t.URL = string(url)
		if e.Body.Static() {
			t.Body = m.staticBodies[i] // vegeta only reads it (bytes.NewReader)
		} else {
			t.Body = e.Body.AppendRender(nil)
		}
		// vegeta copies every header slice into the request (Target.Request),
		// so sharing the entry's map is safe unless we add to it.
		t.Header = e.Header
		if m.closeEvery > 0 && arr.n%m.closeEvery == m.closeEvery-1 {
			t.Header = m.closeHeaders[i]
		}
		if e.IdempotencyKey {
			t.Header = t.Header.Clone()
			if t.Header == nil {
				t.Header = http.Header{}
			}
			t.Header.Set("Idempotency-Key", m.keyPrefix+"-"+strconv.FormatUint(arr.n, 10))
		}
		return nil
	}
}

// pick maps u in [0, 1) to an entry index by weight.
func (m *Mix) pick(u float64) int {
	x := u * m.cumWeights[len(m.cumWeights)-1]
	i := sort.SearchFloat64s(m.cumWeights, x)
	if i < len(m.cumWeights) && m.cumWeights[i] == x {
		i++ // x on a boundary belongs to the next entry: [cum[i-1], cum[i])
	}
	return min(i, len(m.cumWeights)-1)
}

// arrivalTag is the identity a Target carries in its URL fragment.
type arrivalTag struct {
	n       uint64
	entry   int
	dropped bool
}

func (a arrivalTag) String() string {
	if a.dropped {
		return "d" + strconv.FormatUint(a.n, 10)
	}
	return strconv.FormatUint(a.n, 10) + "." + strconv.Itoa(a.entry)
}

// parseArrivalTag reads the tag back from a Result.URL.
func parseArrivalTag(rawURL string) (arrivalTag, bool) {
	i := strings.LastIndexByte(rawURL, '#')
	if i < 0 {
		return arrivalTag{}, false
	}
	frag := rawURL[i+1:]
	if rest, ok := strings.CutPrefix(frag, "d"); ok {
		n, err := strconv.ParseUint(rest, 10, 64)
		return arrivalTag{n: n, dropped: true}, err == nil
	}
	ns, es, ok := strings.Cut(frag, ".")
	if !ok {
		return arrivalTag{}, false
	}
	n, errN := strconv.ParseUint(ns, 10, 64)
	e, errE := strconv.Atoi(es)
	return arrivalTag{n: n, entry: e}, errN == nil && errE == nil && e >= 0
}

// isDroppedTarget reports whether a request URL fragment marks a dropped
// arrival (see dropGate).
func isDroppedTarget(fragment string) bool { return strings.HasPrefix(fragment, "d") }
