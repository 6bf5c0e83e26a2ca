package cmdutil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

const hostile = "mallory\x1b]52;c;Y3VybA==\x07\u202e\x9b2J\ttab"

func TestExecuteExitCodes(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		code    int
		message string
	}{
		{"ok", nil, ExitOK, ""},
		{"usage", UsageErrorf("--x: bad"), ExitUsage, "audittui: --x: bad\n"},
		{"code only", &ExitError{Code: ExitAlerts}, ExitAlerts, ""},
		{"runtime", RuntimeError(errors.New("s3 sink: no space left on device")), ExitRuntime, "audittui: s3 sink: no space left on device\n"},
		{"wrapped", fmt.Errorf("outer: %w", &ExitError{Code: ExitInputError, Err: errors.New("2 lines")}), ExitInputError, "audittui: 2 lines\n"},
		{"plain error is usage", errors.New("boom"), ExitUsage, "audittui: boom\n"},
		{"hostile message", errors.New("server said " + hostile), ExitUsage, `audittui: server said mallory\x1b]52;c;Y3VybA==\x07<U+202E>\x9b2J\ttab` + "\n"},
		{"lines kept", UsageErrorf("query: bad\n  {x}\n   ^"), ExitUsage, "audittui: query: bad\n  {x}\n   ^\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
			cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return tc.err }}
			if code := Execute(context.Background(), cmd, nil, ios); code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			if errOut.String() != tc.message {
				t.Fatalf("stderr %q, want %q", errOut.String(), tc.message)
			}
		})
	}
	// Flag errors are usage errors; cobra's usage text is not printed.
	var errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	if code := Execute(context.Background(), cmd, []string{"--nope"}, ios); code != ExitUsage || errOut.String() != "audittui: unknown flag: --nope\n" {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestStringEnumFlag(t *testing.T) {
	var out string
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	StringEnumFlag(fs, &out, "output", "o", "table", []string{"table", "jsonl"}, "output format")
	if out != "table" {
		t.Fatalf("default %q", out)
	}
	if err := fs.Parse([]string{"-o", "jsonl"}); err != nil || out != "jsonl" {
		t.Fatalf("%q %v", out, err)
	}
	err := fs.Parse([]string{"-o", "xml"})
	if err == nil || !strings.Contains(err.Error(), `invalid argument "xml" for "-o, --output" flag: want table or jsonl`) || out != "jsonl" {
		t.Fatalf("err %v, value %q", err, out)
	}
}

func TestRejectReporter(t *testing.T) {
	var w bytes.Buffer
	r := NewRejectReporter(&w, false)
	if r.Err() != nil {
		t.Fatal("error without rejects")
	}
	src := &data.SourceInfo{Name: "audit.log"}
	r.Add([]data.Reject{{Origin: data.Origin{Source: src, Line: 7}, Reason: "not JSON", Sample: []byte(hostile)}})
	r.Add(nil)
	if err := termsafetest.CheckLines(w.String()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.String(), "audittui: skipped audit.log:7") || strings.Count(w.String(), "\n") != 1 {
		t.Fatalf("report %q", w.String())
	}
	var ee *ExitError
	if err := r.Err(); !errors.As(err, &ee) || ee.Code != ExitInputError || !strings.Contains(err.Error(), "1 input line rejected") {
		t.Fatalf("err %v", err)
	}

	// A reject that stands for a run of lines (a skipped range, a lost
	// tail) counts each of them.
	r.Add([]data.Reject{{Origin: data.Origin{Source: src, Line: 63}, Reason: "the rest of the input (lines 63-256) could not be read", Lines: 194}})
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "195 input lines rejected") {
		t.Fatalf("err %v, want 195 lines", err)
	}

	// Quiet counts without printing; reports may come from several goroutines.
	w.Reset()
	q := NewRejectReporter(&w, true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { q.Add([]data.Reject{{Reason: "x"}, {Reason: "y"}}) })
	}
	wg.Wait()
	if q.Count() != 16 || w.Len() != 0 {
		t.Fatalf("count %d, printed %q", q.Count(), w.String())
	}
}

func hostileEvent() *data.Event {
	return &data.Event{Time: 1767225600e9, AuditID: "id\x1b[2J", User: hostile, ImpUser: "eve\u2066", Verb: "get\x00",
		Resource: "secrets", Subresource: "x\u0085", Namespace: "ns\n", Name: "n\r", Code: 200, SourceIPs: []string{"10.0.0.1\x1b"},
		Raw: []byte(`{"kind":"Event"}`), Origin: data.Origin{Source: &data.SourceInfo{Name: "a.log", Labels: data.Labels{{Name: "job", Value: "audit"}}}, Line: 3}}
}

func TestEventWriterTableIsTerminalSafe(t *testing.T) {
	var b bytes.Buffer
	out := bufio.NewWriter(&b)
	w := NewEventWriter(out, "table")
	if err := w.Write(hostileEvent()); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("table %q", b.String())
	}
	if err := termsafetest.CheckLines(b.String()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`mallory\x1b]52;c;Y3VybA==\x07<U+202E>\x9b2J\ttab (as eve<U+2066>)`, `get\x00`, `secrets/x<U+0085>`, `ns\n/n\r`, `id\x1b[2J`} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row lacks %q: %q", want, lines[1])
		}
	}
}

func TestEventWriterFormats(t *testing.T) {
	for _, format := range []string{"raw", "jsonl", "csv"} {
		var b bytes.Buffer
		out := bufio.NewWriter(&b)
		w := NewEventWriter(out, format)
		if err := w.Write(hostileEvent()); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		out.Flush()
		switch format {
		case "raw":
			if b.String() != `{"kind":"Event"}`+"\n" {
				t.Errorf("raw %q", b.String())
			}
		case "jsonl":
			var rec struct {
				Timestamp string
				Labels    map[string]string
				Line      string
			}
			if err := json.Unmarshal(b.Bytes(), &rec); err != nil || rec.Timestamp != "2026-01-01T00:00:00.000000Z" || rec.Labels["job"] != "audit" || rec.Line != `{"kind":"Event"}` {
				t.Errorf("jsonl %q (%v)", b.String(), err)
			}
		case "csv":
			// Data formats keep values exactly (csv quotes them).
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil || len(recs) != 2 || recs[1][3] != hostile || recs[1][13] != "a.log" || recs[1][14] != "3" {
				t.Errorf("csv %q (%v)", recs, err)
			}
		}
	}
}

func TestWriteMetricTable(t *testing.T) {
	vec := logql.Vector{
		{Labels: logql.Labels{{Name: "user_username", Value: hostile}}, T: 1e18, V: 2},
		{Labels: logql.Labels{{Name: "user_username", Value: "alice"}}, T: 1e18, V: 5},
	}
	var b bytes.Buffer
	out := bufio.NewWriter(&b)
	if err := WriteMetric(out, "table", vec, nil); err != nil {
		t.Fatal(err)
	}
	out.Flush()
	if err := termsafetest.CheckLines(b.String()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "alice") || !strings.HasSuffix(lines[1], "5") {
		t.Fatalf("table (highest first) %q", b.String())
	}
	b.Reset()
	if err := WriteMetric(out, "table", nil, nil); err != nil {
		t.Fatal(err)
	}
	out.Flush()
	if !strings.Contains(b.String(), "(no data)") {
		t.Fatalf("empty result %q", b.String())
	}
}

func TestParseQueryPointsAtTheColumn(t *testing.T) {
	_, err := ParseQuery(`{job="audit"} | json | verb=`)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Fatalf("err %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || lines[1] != `  {job="audit"} | json | verb=` || !strings.HasSuffix(lines[2], "^") {
		t.Fatalf("error %q", err.Error())
	}
}

func TestSourceSet(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, n := range []string{"a.log", "b.log"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	ios := &IOStreams{In: strings.NewReader(""), InTTY: true}
	env := map[string]string{}
	s := NewSourceSet(fs, ios, func(n string) (string, bool) { v, ok := env[n]; return v, ok })
	if err := fs.Parse([]string{"--cluster", "prod"}); err != nil || s.Cluster() != "prod" {
		t.Fatalf("--cluster: %q %v", s.Cluster(), err)
	}
	srcs, ok, err := s.Resolve(ctx, []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")})
	if err != nil || !ok || len(srcs) != 2 {
		t.Fatalf("%v %v %v", srcs, ok, err)
	}
	// A bad argument is a usage error naming the problem.
	var ee *ExitError
	if _, _, err := s.Resolve(ctx, []string{"loki://"}); !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Fatalf("bad argument: %v", err)
	}
	if _, _, err := s.Resolve(ctx, []string{filepath.Join(dir, "missing.log")}); !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Fatalf("missing file: %v", err)
	}
	// No SOURCE, no default, stdin a terminal: a usage error.
	if _, err := s.ResolveOrStdin(ctx, nil); !errors.As(err, &ee) || !strings.Contains(err.Error(), "no SOURCE given") {
		t.Fatalf("err %v", err)
	}
	// stdin a pipe: read it.
	ios.InTTY = false
	if srcs, err := s.ResolveOrStdin(ctx, nil); err != nil || len(srcs) != 1 || srcs[0].String() != "-" {
		t.Fatalf("%v %v", srcs, err)
	}
	// A kind's default (Loki via LOKI_ADDR) wins over stdin.
	env["LOKI_ADDR"] = "http://127.0.0.1:1"
	if srcs, ok, err := s.Resolve(ctx, nil); err != nil || !ok || len(srcs) != 1 || !strings.HasPrefix(srcs[0].String(), "loki ") {
		t.Fatalf("default: %v %v %v", srcs, ok, err)
	}
}

func TestDataOut(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		ios := &IOStreams{Out: &b, OutTTY: tty}
		w, done := ios.DataOut()
		fmt.Fprintf(w, "a\x1b[2J\nb\u202e")
		if err := done(); err != nil {
			t.Fatal(err)
		}
		want := "a\x1b[2J\nb\u202e"
		if tty {
			want = `a\x1b[2J` + "\nb<U+202E>"
		}
		if b.String() != want {
			t.Fatalf("tty=%v: %q, want %q", tty, b.String(), want)
		}
	}
}
