package loki

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	lokiapi "github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

// runLokiCLI runs `audittui loki ARGS...` in an environment without LOKI_*.
func runLokiCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := clitest.Streams("")
	f := clitest.Factory(ios)
	f.LookupEnv = func(string) (string, bool) { return "", false }
	code := cmdutil.Execute(context.Background(), NewCmdLoki(f, nil), args, ios)
	return code, out.String(), errOut.String()
}

func TestLokiSubcommands(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	clitest.SeedLoki(s)
	code, out, errOut := runLokiCLI(t, "labels", "--loki-addr", s.URL)
	if code != 0 || out != "cluster\njob\n" {
		t.Errorf("labels: %d %q %s", code, out, errOut)
	}
	code, out, _ = runLokiCLI(t, "labels", "cluster", "--loki-addr", s.URL)
	if code != 0 || out != "prod\n" {
		t.Errorf("label values: %d %q", code, out)
	}
	code, out, _ = runLokiCLI(t, "series", `{job="audit"}`, "--loki-addr", s.URL)
	if code != 0 || out != `{cluster="prod", job="audit"}`+"\n" {
		t.Errorf("series: %d %q", code, out)
	}
	code, out, _ = runLokiCLI(t, "stats", `{job="audit"} | json`, "--loki-addr", s.URL)
	if code != 0 || !strings.Contains(out, `{job="audit"} over the last 1h0m0s: ~`) || !strings.Contains(out, "in 1 streams (3 entries") {
		t.Errorf("stats: %d %q", code, out)
	}
	code, _, errOut = runLokiCLI(t, "labels")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "LOKI_ADDR") {
		t.Errorf("no address: %d %s", code, errOut)
	}
	// Loki's error message reaches the user.
	s.FailQueries(1, 400, "parse error at line 1, col 2: syntax error")
	code, _, errOut = runLokiCLI(t, "series", `{job="audit"}`, "--loki-addr", s.URL)
	if code == 0 || !strings.Contains(errOut, "400 Bad Request: parse error at line 1, col 2") {
		t.Errorf("server error: %d %s", code, errOut)
	}
}

func TestLokiSubcommandSanitises(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	s.Push("", lokiapi.PushRequest{Streams: []lokiapi.PushStream{{Labels: data.Labels{{Name: "job", Value: "a\x1b[2Jb\nc"}},
		Entries: []lokiapi.PushEntry{{Time: time.Now().UnixNano() - 1e9, Line: []byte("x")}}}}})
	code, out, _ := runLokiCLI(t, "labels", "job", "--loki-addr", s.URL)
	if code != 0 || strings.ContainsAny(out[:len(out)-1], "\x1b\n") {
		t.Errorf("unsanitised output %q", out)
	}
}

func TestLokiFlagsToOptions(t *testing.T) {
	var got *LokiOptions
	code, _, errOut := clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdLoki(f, func(o *LokiOptions) error { got = o; return nil })
	}, "", "labels", "user_username", "--since", "24h", "--loki-addr", "http://loki:3100")
	if code != 0 || got.Op != "labels" || strings.Join(got.Args, ",") != "user_username" || got.Since != 24*time.Hour || got.Loki.Addr() != "http://loki:3100" {
		t.Fatalf("exit %d (%s), options %+v", code, errOut, got)
	}
	code, _, _ = clitest.Run(t, func(f *cmdutil.Factory) *cobra.Command { return NewCmdLoki(f, nil) }, "", "stats", `{job="audit"`, "--loki-addr", "http://127.0.0.1:1")
	if code != cmdutil.ExitUsage {
		t.Fatalf("a bad query must fail before anything is sent: exit %d", code)
	}
}
