package tui

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/clitest"
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
