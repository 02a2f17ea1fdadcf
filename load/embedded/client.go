package main

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// errDropped is what dropGate answers for a dropped arrival.
var errDropped = errors.New("slo-load: arrival dropped (no worker in time)")

// dropGate refuses targets that Admission marked as dropped, before any
// connection is touched, so a late arrival is never sent late.
type dropGate struct{ next http.RoundTripper }

func (g dropGate) RoundTrip(r *http.Request) (*http.Response, error) {
	if isDroppedTarget(r.URL.Fragment) {
		return nil, errDropped
	}
	return g.next.RoundTrip(r)
}

// maxIdlePerHost bounds the keep-alive pool. Each vegeta worker holds at most
// one connection at a time, so the worker cap is the useful pool size.
const maxIdlePerHost = 10000

// NewHTTPClient is the client vegeta uses: HTTP/1.1 with keep-alive, a pool
// sized to the worker cap, no redirects and no proxy (a proxy from the
// environment would silently distort latencies). The per-request timeout is
// set by vegeta.Timeout.
func NewHTTPClient(timeout time.Duration, maxWorkers uint64) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        0, // no global limit; the per-host one applies
		MaxIdleConnsPerHost: int(min(maxWorkers, maxIdlePerHost)),
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: timeout,
		ForceAttemptHTTP2:   false,
		// A non-nil empty map disables HTTP/2 over TLS: HTTP/1.1 only.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{
		Transport: dropGate{next: tr},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
