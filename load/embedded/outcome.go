package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Failure kinds, as written in the output's failureKind field.
const (
	KindTimeout          = "timeout"
	KindConnRefused      = "connection refused"
	KindConnReset        = "connection reset"
	KindNoResponse       = "no response"
	Kind5xx              = "5xx"
	Kind4xx              = "4xx"
	KindUnexpectedStatus = "unexpected status"
	kindNone             = "" // did not fail
)

// failureKind classifies one result. status is 0 when there was no complete
// response; errMsg is vegeta's Result.Error, which is only a string, so
// transport errors are recognised by the texts net/http and the OS produce.
func failureKind(status int, errMsg string, expect []int) string {
	if status != 0 {
		switch {
		case slices.Contains(expect, status):
			return kindNone
		case status >= 500 && status <= 599:
			return Kind5xx
		case status >= 400 && status <= 499:
			return Kind4xx
		default:
			return KindUnexpectedStatus
		}
	}
	switch {
	case containsAny(errMsg, "Client.Timeout", "deadline exceeded", "i/o timeout", "timeout awaiting", "handshake timeout"):
		return KindTimeout
	case strings.Contains(errMsg, "connection refused"):
		return KindConnRefused
	case containsAny(errMsg, "connection reset", "broken pipe"):
		return KindConnReset
	default:
		return KindNoResponse
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// ackID returns the acknowledged id in a JSON object body: field's value when
// it is a non-empty string or a number; "" otherwise (absent, null, empty,
// not JSON, or truncated by MaxBody).
func ackID(body []byte, field string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return ""
	}
	raw := bytes.TrimSpace(obj[field])
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return string(raw)
	}
	return ""
}
