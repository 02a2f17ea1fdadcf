package main

import "testing"

func TestFailureKind(t *testing.T) {
	expect := []int{200, 201}
	tests := []struct {
		status int
		err    string
		want   string
	}{
		{200, "", kindNone},
		{201, "", kindNone},
		{204, "", KindUnexpectedStatus},
		{302, "", KindUnexpectedStatus},
		{404, "404 Not Found", Kind4xx},
		{503, "503 Service Unavailable", Kind5xx},
		{0, `Get "http://x/#1.0": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, KindTimeout},
		{0, `Get "http://x/": net/http: request canceled (Client.Timeout exceeded while reading body)`, KindTimeout},
		{0, `Get "http://x/": dial tcp 127.0.0.1:1: i/o timeout`, KindTimeout},
		{0, `Get "http://x/": dial tcp 127.0.0.1:1: connect: connection refused`, KindConnRefused},
		{0, `Get "http://x/": read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer`, KindConnReset},
		{0, `Post "http://x/": write tcp 127.0.0.1:5->127.0.0.1:6: write: broken pipe`, KindConnReset},
		{0, `Get "http://x/": EOF`, KindNoResponse},
		{0, `Get "http://x/": dial tcp: lookup nowhere: no such host`, KindNoResponse},
	}
	for _, tc := range tests {
		if got := failureKind(tc.status, tc.err, expect); got != tc.want {
			t.Errorf("failureKind(%d, %q) = %q, want %q", tc.status, tc.err, got, tc.want)
		}
	}
}

func TestAckID(t *testing.T) {
	tests := []struct {
		body, field, want string
	}{
		{`{"id":"ord-1","status":"ok"}`, "id", "ord-1"},
		{`{"id":42}`, "id", "42"},
		{`{"id":-7.5}`, "id", "-7.5"},
		{`{"id":""}`, "id", ""},
		{`{"id":null}`, "id", ""},
		{`{"id":{"x":1}}`, "id", ""},
		{`{"other":"x"}`, "id", ""},
		{`not json`, "id", ""},
		{`{"id":"trunc`, "id", ""},
		{`[1,2]`, "id", ""},
	}
	for _, tc := range tests {
		if got := ackID([]byte(tc.body), tc.field); got != tc.want {
			t.Errorf("ackID(%s, %q) = %q, want %q", tc.body, tc.field, got, tc.want)
		}
	}
}
