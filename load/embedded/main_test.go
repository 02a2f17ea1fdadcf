package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The whole-command tests re-run this test binary as slo-load: with
// SLO_LOAD_AS_MAIN=1 it runs main's logic instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("SLO_LOAD_AS_MAIN") == "1" {
		os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func command(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	// GORACE: the race runtime otherwise sleeps 1 s at exit.
	cmd.Env = append(os.Environ(), "SLO_LOAD_AS_MAIN=1", "GORACE=atexit_sleep_ms=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		t.Fatal(err)
		return -1
	}
}

func writePlan(t *testing.T, plan string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandBadInput(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		plan      string
		wantInErr string
	}{
		{"unknown field", nil, strings.Replace(validPlan, `"maxWorkers"`, `"maxWorker"`, 1), "maxWorker: unknown field"},
		{"missing --plan", []string{}, "", "--plan is required"},
		{"missing file", []string{"--plan", "/nonexistent/plan.json"}, "", "no such file"},
		{"unknown flag", []string{"--rate", "5"}, "", "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"--plan", writePlan(t, tc.plan)}
			}
			cmd, stdout, stderr := command(t, args...)
			if code := exitCode(t, cmd.Run()); code != exitBadPlan {
				t.Errorf("exit %d, want %d", code, exitBadPlan)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout not empty: %q", stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "slo-load: ") || !strings.Contains(lines[0], tc.wantInErr) {
				t.Errorf("stderr %q: want one line with %q", stderr, tc.wantInErr)
			}
		})
	}
}

func longPlan(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return planJSON(srv.URL, 50, 30, 100, `{"name": "get", "weight": 1, "method": "GET", "path": "/", "expectStatus": [200]}`, "")
}

func TestCommandSIGTERM(t *testing.T) {
	cmd, stdout, stderr := command(t, "--plan", writePlan(t, longPlan(t)))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := exitCode(t, cmd.Wait())
	if took := time.Since(began); took > 500*ms {
		t.Errorf("exit took %v after SIGTERM", took)
	}
	if code != exitOK || stderr.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	o := parseOutput(t, stdout.String())
	if o.end.Stopped != StoppedSignal || len(o.reqs) < 15 {
		t.Errorf("end %+v after 0.5 s at 50/s", o.end)
	}
}

// --plan - reads the plan from stdin's first line; with --stop-on-stdin-eof
// the rest of stdin is the lifeline.
func TestCommandStdinPlanAndLifeline(t *testing.T) {
	cmd, stdout, stderr := command(t, "--plan", "-", "--stop-on-stdin-eof")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(strings.Fields(longPlan(t)), " ") // one line
	if _, err := stdin.Write([]byte(plan + "\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	began := time.Now()
	stdin.Close()
	code := exitCode(t, cmd.Wait())
	if took := time.Since(began); took > 500*ms {
		t.Errorf("exit took %v after stdin closed", took)
	}
	if code != exitOK || stderr.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if o := parseOutput(t, stdout.String()); o.end.Stopped != StoppedStdinClosed || len(o.reqs) < 15 {
		t.Errorf("end %+v", o.end)
	}
}

func TestCommandStdoutClosedIsRuntimeFailure(t *testing.T) {
	cmd, _, stderr := command(t, "--plan", writePlan(t, longPlan(t)))
	cmd.Stdout = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdout.Read(make([]byte, 1)); err != nil { // the run has started
		t.Fatal(err)
	}
	stdout.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := exitCode(t, err); code != exitRuntime {
			t.Errorf("exit %d, want %d", code, exitRuntime)
		}
	case <-time.After(3 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("still running 3 s after stdout closed")
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "write stdout") {
		t.Errorf("stderr %q: want one line about stdout", stderr)
	}
}
