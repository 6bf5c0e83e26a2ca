package cmdutil_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

func readLokiSource(t *testing.T, src data.Source, query string) (events []data.Event, rejects int) {
	t.Helper()
	var q *logql.LogQuery
	if query != "" {
		var err error
		if q, err = logql.ParseLog(query); err != nil {
			t.Fatal(err)
		}
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

func TestLokiDefaultSourceFromLOKI_ADDR(t *testing.T) {
	s := lokitest.New(lokitest.Options{RequireTenant: true})
	defer s.Close()
	clitest.SeedLoki(s)
	env := map[string]string{"LOKI_ADDR": s.URL, "LOKI_ORG_ID": "fake"}
	sources := newSourceSet(env, pflag.NewFlagSet("x", pflag.ContinueOnError))
	srcs, ok, err := sources.Resolve(context.Background(), nil)
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
	sources = newSourceSet(map[string]string{"LOKI_ORG_ID": "fake"}, pflag.NewFlagSet("x", pflag.ContinueOnError))
	if _, ok, _ := sources.Resolve(context.Background(), nil); ok {
		t.Error("a default source without LOKI_ADDR")
	}
}

func TestLokiSourceArgument(t *testing.T) {
	s := lokitest.New(lokitest.Options{})
	defer s.Close()
	clitest.SeedLoki(s)
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	sources := newSourceSet(nil, fs)
	if err := fs.Parse([]string{"--loki-batch", "1"}); err != nil {
		t.Fatal(err)
	}
	arg := strings.Replace(s.URL, "http://", "loki://", 1)
	srcs, _, err := sources.Resolve(context.Background(), []string{arg})
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
	_, _, err = sources.Resolve(context.Background(), []string{"loki://"})
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "no host") {
		t.Errorf("err = %v", err)
	}
}

// newSourceSet is what Factory.Sources gives a command, in an environment
// holding only env.
func newSourceSet(env map[string]string, fs *pflag.FlagSet) *cmdutil.SourceSet {
	ios, _, _ := clitest.Streams("")
	f := cmdutil.NewFactory(ios)
	f.LookupEnv = func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	return f.Sources(fs)
}
