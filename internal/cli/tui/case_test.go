package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
)

// TestReopenCase: --case DIR without SOURCE takes the sources (relative
// paths from where they were opened) and the window of the case's last
// session; SOURCE arguments and window flags win.
func TestReopenCase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"nodes/a.log", "s3://b/p/"}, Dir: "/srv/evidence", From: &from, To: &to}); err != nil {
		t.Fatal(err)
	}
	opts := &TUIOptions{Case: dir}
	if err := reopenCase(opts); err != nil {
		t.Fatal(err)
	}
	if len(opts.Args) != 2 || opts.Args[0] != "/srv/evidence/nodes/a.log" || opts.Args[1] != "s3://b/p/" {
		t.Errorf("args %v", opts.Args)
	}
	if opts.Window.From != "2026-11-20T02:30:00Z" || opts.Window.To != "2026-11-20T03:30:00Z" {
		t.Errorf("window %+v", opts.Window)
	}
	f, tt, err := opts.Window.Range(time.Now)
	if err != nil || f != from.UnixNano() || tt != to.UnixNano() {
		t.Errorf("range %d %d %v", f, tt, err)
	}
	given := &TUIOptions{Case: dir, Args: []string{"x.log"}}
	given.Window.Since = time.Hour
	if err := reopenCase(given); err != nil || len(given.Args) != 1 || given.Window.From != "" {
		t.Errorf("arguments given: %+v %v", given, err)
	}
	fresh := &TUIOptions{Case: filepath.Join(t.TempDir(), "new")}
	if err := reopenCase(fresh); err != nil || len(fresh.Args) != 0 {
		t.Errorf("a new case: %+v %v", fresh, err)
	}
}

func TestSessionSources(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"audit.log", "audit-2026-11-20T01-00-00.000.log.gz"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	ios, _, _ := clitest.Streams("")
	set := clitest.Factory(ios).Sources(pflag.NewFlagSet("t", pflag.ContinueOnError))
	src, err := set.File(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := sessionSources(&TUIOptions{Args: []string{dir}}, []data.Source{src}, false)
	wd, _ := os.Getwd()
	if len(s.Args) != 1 || s.Dir != wd || len(s.Files) != 2 {
		t.Errorf("%+v", s)
	}
}

// TestReopenCaseReadFromStdin: a case whose source was stdin is never
// reopened over a terminal (the TUI would take the keys typed as audit
// events); with stdin a pipe, stdin is read as that source and the status
// bar says so. SOURCE - given on a terminal is refused too.
func TestReopenCaseReadFromStdin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"-"}, Dir: "/srv"}); err != nil {
		t.Fatal(err)
	}
	ios, _, _ := clitest.Streams("")
	ios.InTTY = true
	opts := &TUIOptions{Case: dir, IO: ios}
	err = reopenCase(opts)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "this case was read from stdin; pipe the same evidence in again: cat FILE | audittui --case "+dir+" -") {
		t.Errorf("stdin a terminal: %v", err)
	}
	if len(opts.Args) != 0 {
		t.Errorf("stdin a terminal: would open %v", opts.Args)
	}

	piped, _, _ := clitest.Streams("{}\n")
	opts = &TUIOptions{Case: dir, IO: piped}
	if err := reopenCase(opts); err != nil || len(opts.Args) != 1 || opts.Args[0] != "-" || !strings.Contains(opts.Notice, "stdin taken as the case's stdin source") || !opts.StdinCase {
		t.Errorf("stdin a pipe: %v %+v", err, opts)
	}
	if err := stdinOnTerminal(opts); err != nil {
		t.Errorf("stdin a pipe: %v", err)
	}

	// A case read from stdin and a file: the message names both ways.
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"/srv/a.log"}}); err != nil {
		t.Fatal(err)
	}
	if err := reopenCase(&TUIOptions{Case: dir, IO: ios}); err == nil || !strings.Contains(err.Error(), "(and /srv/a.log); pipe the same evidence in again: cat FILE | audittui --case "+dir+" (or name") {
		t.Errorf("stdin and a file, on a terminal: %v", err)
	}

	if err := stdinOnTerminal(&TUIOptions{IO: ios, Args: []string{"a.log", "-"}, Case: dir}); !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "cat FILE | audittui --case "+dir+" -") {
		t.Errorf("SOURCE - on a terminal: %v", err)
	}
}
