// Command slo-load is slo-harness's embedded load engine: an open-model
// load generator on vegeta's library. It reads a JSON plan, sends the
// weighted request mix at a piecewise-linear arrival rate and streams one
// line per result on stdout. PROTOCOL.md is the contract with the harness.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0 // the plan ran to its end, or was stopped
	exitBadPlan = 2 // bad flags or plan: one line on stderr, nothing on stdout
	exitRuntime = 3 // the run broke (stdout closed, internal error)
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// realMain parses flags, wires the OS (files, stdin, signals) to Run, and
// maps errors to exit codes. It is the only place that touches os.
func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("slo-load", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	planPath := fs.String("plan", "", "plan JSON file, or - to read it from the first line of stdin")
	stopOnEOF := fs.Bool("stop-on-stdin-eof", false, "stop the run (like SIGTERM) when stdin reaches EOF")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: slo-load --plan <file.json|-> [--stop-on-stdin-eof]")
			fs.PrintDefaults()
			return exitOK
		}
		return usageError(stderr, err.Error())
	}
	if *planPath == "" {
		return usageError(stderr, "--plan is required")
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}

	in := bufio.NewReader(stdin)
	cfg, err := loadPlanFrom(*planPath, in)
	if err != nil {
		fmt.Fprintf(stderr, "slo-load: %s\n", oneLine(err.Error()))
		return exitBadPlan
	}

	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	// A closed stdout must surface as a write error (exit 3), not kill the
	// process with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		stop(ErrStopSignal)
	}()
	if *stopOnEOF {
		// The harness holds stdin open as a lifeline: EOF means it is gone.
		go func() {
			_, _ = io.Copy(io.Discard, in)
			stop(ErrStopStdin)
		}()
	}

	warn := func(msg string) { fmt.Fprintf(stderr, "slo-load: warning: %s\n", oneLine(msg)) }
	if _, err := Run(ctx, cfg, stdout, warn); err != nil {
		fmt.Fprintf(stderr, "slo-load: %s\n", oneLine(err.Error()))
		return exitRuntime
	}
	return exitOK
}

func loadPlanFrom(path string, stdin *bufio.Reader) (Config, error) {
	if path == "-" {
		line, err := stdin.ReadBytes('\n')
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			return Config{}, fmt.Errorf("plan: stdin ended before the plan line: %w", err)
		}
		return LoadPlan(strings.NewReader(string(line)))
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("plan: %w", err)
	}
	defer f.Close()
	return LoadPlan(f)
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "slo-load: usage: %s (usage: slo-load --plan <file.json|-> [--stop-on-stdin-eof])\n", oneLine(msg))
	return exitBadPlan
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
