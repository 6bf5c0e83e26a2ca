package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

func readLokiSource(t *testing.T, src data.Source, query string) (events []data.Event, rejects int) {
	t.Helper()
	var q *logql.LogQuery
	if query != "" {
		e, err := logql.Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		q = e.(*logql.LogQuery)
	}
	st, err := src.Open(context.Background(), data.ReadOptions{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for {
		b, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return events, rejects
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Events {
			events = append(events, b.Events[i].Clone())
		}
		rejects += len(b.Rejects)
	}
}

func seedLoki(s *lokitest.Server) {
	now := time.Now().UnixNano()
	line := func(verb, user string) []byte {
		return []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-` + verb + `","stage":"ResponseComplete","requestURI":"/api/v1/secrets","verb":"` + verb +
			`","user":{"username":"` + user + `"},"objectRef":{"resource":"secrets"},"requestReceivedTimestamp":"2026-11-25T10:00:00Z","stageTimestamp":"2026-11-25T10:00:00.1Z"}`)
	}
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{
		Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "prod"}},
		Entries: []loki.PushEntry{
			{Time: now - 3e9, Line: line("get", "alice")},
			{Time: now - 2e9, Line: line("delete", `mallory\u001b[31m`)},
			{Time: now - 1e9, Line: []byte("not an audit event")},
		},
	}}})
}

func TestLokiDefaultSourceFromLOKI_ADDR(t *testing.T) {
	s := lokitest.New(lokitest.Options{RequireTenant: true})
	defer s.Close()
	seedLoki(s)
	t.Setenv("LOKI_ADDR", s.URL)
	t.Setenv("LOKI_ORG_ID", "fake")
	sources := newSourceSet(pflag.NewFlagSet("x", pflag.ContinueOnError))
	srcs, ok, err := sources.resolve(context.Background(), nil)
	if err != nil || !ok || len(srcs) != 1 {
		t.Fatalf("resolve: %v %v %v", srcs, ok, err)
	}
	if !strings.HasPrefix(srcs[0].String(), "loki ") {
		t.Errorf("source = %s", srcs[0])
	}
	evs, rej := readLokiSource(t, srcs[0], `{job="audit"} | json | verb="delete"`)
	if len(evs) != 1 || evs[0].User != "mallory\x1b[31m" || evs[0].Cluster != "prod" {
		t.Errorf("events = %+v", evs)
	}
	if rej != 1 {
		t.Errorf("rejects = %d, want the non-JSON line", rej)
	}

	// Without LOKI_ADDR there is no default.
	t.Setenv("LOKI_ADDR", "")
	sources = newSourceSet(pflag.NewFlagSet("x", pflag.ContinueOnError))
	if _, ok, _ := sources.resolve(context.Background(), nil); ok {
		t.Error("a default source without LOKI_ADDR")
	}
}

func TestLokiSourceArgument(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	seedLoki(s)
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	sources := newSourceSet(fs)
	if err := fs.Parse([]string{"--loki-batch", "1"}); err != nil {
		t.Fatal(err)
	}
	arg := strings.Replace(s.URL, "http://", "loki://", 1)
	srcs, _, err := sources.resolve(context.Background(), []string{arg})
	if err != nil {
		t.Fatal(err)
	}
	evs, rej := readLokiSource(t, srcs[0], "")
	if len(evs) != 2 || rej != 1 {
		t.Errorf("events %d rejects %d", len(evs), rej)
	}
	pages := 0
	for _, r := range s.Requests() {
		if r.Path == "/loki/api/v1/query_range" {
			pages++
			if r.Query.Get("query") != loki.DefaultSelector || r.Query.Get("limit") == "" {
				t.Errorf("query_range %v", r.Query)
			}
		}
	}
	if pages < 3 {
		t.Errorf("%d pages with --loki-batch 1", pages)
	}
	// A bad address is a usage error naming the problem.
	_, _, err = sources.resolve(context.Background(), []string{"loki://"})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), "no host") {
		t.Errorf("err = %v", err)
	}
}

func runLokiCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestLokiSubcommands(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	seedLoki(s)
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
	if code != ExitUsage || !strings.Contains(errOut, "LOKI_ADDR") {
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
