package main

import (
	"strconv"
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	tests := []struct {
		in      string
		example string
		static  bool
		wantErr string
	}{
		{"/api/cpu?ms=20", "/api/cpu?ms=20", true, ""},
		{"/api/items/{int:1:1000}", "/api/items/1", false, ""},
		{`{"itemId":{int:1:1000},"quantity":{int:-5:-5}}`, `{"itemId":1,"quantity":-5}`, false, ""},
		{"{not a placeholder}", "{not a placeholder}", true, ""},
		{"", "", true, ""},
		{"/x/{int:1:}", "", false, "want {int:<min>:<max>}"},
		{"/x/{int:3:2}", "", false, "min <= max"},
		{"/x/{int:1:2", "", false, "not closed"},
		{"/x/{int:-9223372036854775808:9223372036854775807}", "", false, "min <= max"},
	}
	for _, tc := range tests {
		tpl, err := ParseTemplate(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseTemplate(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tc.in, err)
			continue
		}
		if got := tpl.Example(); got != tc.example {
			t.Errorf("Example(%q) = %q, want %q", tc.in, got, tc.example)
		}
		if tpl.Static() != tc.static {
			t.Errorf("Static(%q) = %v", tc.in, tpl.Static())
		}
	}
}

func TestTemplateRenderRange(t *testing.T) {
	tpl, err := ParseTemplate("{int:1:3}")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for range 3000 {
		n, err := strconv.Atoi(string(tpl.AppendRender(nil)))
		if err != nil || n < 1 || n > 3 {
			t.Fatalf("render out of range: %d %v", n, err)
		}
		seen[n]++
	}
	for n := 1; n <= 3; n++ {
		if seen[n] < 800 { // uniform: ~1000 each
			t.Errorf("value %d rendered %d times of 3000", n, seen[n])
		}
	}
}
