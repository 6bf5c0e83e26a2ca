package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/loki"
	"github.com/audittui/audittui/internal/data/loki/lokitest"
)

func runLokiCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
	return code, out.String(), errb.String()
}

func TestLokiSubcommands(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	clitest.SeedLoki(s)
	t.Setenv("LOKI_ADDR", "")
	code, out, errOut := runLokiCLI(t, "loki", "labels", "--loki-addr", s.URL)
	if code != 0 || out != "cluster\njob\n" {
		t.Errorf("labels: %d %q %s", code, out, errOut)
	}
	code, out, _ = runLokiCLI(t, "loki", "labels", "cluster", "--loki-addr", s.URL)
	if code != 0 || out != "prod\n" {
		t.Errorf("label values: %d %q", code, out)
	}
	code, out, _ = runLokiCLI(t, "loki", "series", `{job="audit"}`, "--loki-addr", s.URL)
	if code != 0 || out != `{cluster="prod", job="audit"}`+"\n" {
		t.Errorf("series: %d %q", code, out)
	}
	code, out, _ = runLokiCLI(t, "loki", "stats", `{job="audit"} | json`, "--loki-addr", s.URL)
	if code != 0 || !strings.Contains(out, `{job="audit"} over the last 1h0m0s: ~`) || !strings.Contains(out, "in 1 streams (3 entries") {
		t.Errorf("stats: %d %q", code, out)
	}
	code, _, errOut = runLokiCLI(t, "loki", "labels")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "LOKI_ADDR") {
		t.Errorf("no address: %d %s", code, errOut)
	}
	// Loki's error message reaches the user.
	s.FailQueries(1, 400, "parse error at line 1, col 2: syntax error")
	code, _, errOut = runLokiCLI(t, "loki", "series", `{job="audit"}`, "--loki-addr", s.URL)
	if code == 0 || !strings.Contains(errOut, "400 Bad Request: parse error at line 1, col 2") {
		t.Errorf("server error: %d %s", code, errOut)
	}
}

func TestLokiSubcommandSanitises(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{Labels: data.Labels{{Name: "job", Value: "a\x1b[2Jb\nc"}},
		Entries: []loki.PushEntry{{Time: time.Now().UnixNano() - 1e9, Line: []byte("x")}}}}})
	code, out, _ := runLokiCLI(t, "loki", "labels", "job", "--loki-addr", s.URL)
	if code != 0 || strings.ContainsAny(out[:len(out)-1], "\x1b\n") {
		t.Errorf("unsanitised output %q", out)
	}
}
