package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Template is a path or body with {int:a:b} placeholders, each replaced by a
// uniform random integer in [a, b] on every render. That is the whole
// template language: any other text, including other braces (JSON bodies),
// is literal.
type Template struct {
	parts []templatePart
}

type templatePart struct {
	literal string
	isInt   bool
	lo, hi  int64
}

const intPlaceholder = "{int:"

// ParseTemplate compiles s.
func ParseTemplate(s string) (Template, error) {
	var t Template
	rest, offset := s, 0
	for {
		i := strings.Index(rest, intPlaceholder)
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, templatePart{literal: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, templatePart{literal: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return Template{}, fmt.Errorf("placeholder at byte %d is not closed (want {int:<min>:<max>})", offset+i)
		}
		inner := rest[i+len(intPlaceholder) : i+j]
		lo, hi, ok := parseRange(inner)
		if !ok {
			return Template{}, fmt.Errorf("placeholder %q at byte %d: want {int:<min>:<max>} with integers min <= max", rest[i:i+j+1], offset+i)
		}
		t.parts = append(t.parts, templatePart{isInt: true, lo: lo, hi: hi})
		rest, offset = rest[i+j+1:], offset+i+j+1
	}
}

func parseRange(s string) (lo, hi int64, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	lo, errA := strconv.ParseInt(a, 10, 64)
	hi, errB := strconv.ParseInt(b, 10, 64)
	if errA != nil || errB != nil || lo > hi || hi-lo < 0 || hi-lo == math.MaxInt64 { // the span must fit Int64N
		return 0, 0, false
	}
	return lo, hi, true
}

// AppendRender appends one rendering of t to dst.
func (t Template) AppendRender(dst []byte) []byte {
	for _, p := range t.parts {
		if !p.isInt {
			dst = append(dst, p.literal...)
			continue
		}
		dst = strconv.AppendInt(dst, p.lo+rand.Int64N(p.hi-p.lo+1), 10)
	}
	return dst
}

// Static reports whether t has no placeholders (then render once).
func (t Template) Static() bool {
	for _, p := range t.parts {
		if p.isInt {
			return false
		}
	}
	return true
}

// Example renders t with every placeholder at its minimum; used to validate
// the resulting URL once, at plan time.
func (t Template) Example() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.isInt {
			b.WriteString(strconv.FormatInt(p.lo, 10))
		} else {
			b.WriteString(p.literal)
		}
	}
	return b.String()
}
