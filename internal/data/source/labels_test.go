package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// TestLabelFlag: --label gives file, stdin and S3 events the stream labels
// a team's ruler files select (job replaces "audit"; cluster is --cluster's
// other spelling); the sources report them before they are read; bad
// labels are refused with the reason.
func TestLabelFlag(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	p := filepath.Join(dir, "a.log")
	os.WriteFile(p, []byte(mkEvent("a", t0)+"\n"), 0o644)
	fake := s3test.NewFake(t)
	s3test.CreateBucket(context.Background(), t, fake.Client, "bkt")
	s3test.Put(context.Background(), t, fake.Client, "bkt", "audit-logs/c1/2026/02/10/00/00/00-x.json", []byte(mkEvent("o1", t0)+"\n"), "")

	s := newSet(t, nil, Options{S3Client: fake.Client, Stdin: strings.NewReader(mkEvent("s", t0) + "\n")},
		"--label", "job=kube-audit", "--label", "env=prod", "--label", "cluster=c1")
	if s.Job() != "kube-audit" {
		t.Errorf("Job = %q", s.Job())
	}
	srcs, _, err := s.Resolve(context.Background(), []string{p, "-", "s3://bkt/audit-logs/c1/"})
	if err != nil {
		t.Fatal(err)
	}
	evs := readAll(t, srcs)
	if len(evs) != 3 {
		t.Fatalf("events %v", evs)
	}
	for _, e := range evs {
		for name, want := range map[string]string{"job": "kube-audit", "env": "prod", "cluster": "c1"} {
			if v, _ := e.StreamLabel(name); v != want {
				t.Errorf("%s: %s = %q, want %q", e.AuditID, name, v, want)
			}
		}
		if v, _ := e.StreamLabel("filename"); v == "" {
			t.Errorf("%s: no filename", e.AuditID)
		}
	}
	// The sources say so before they are read: a team's selector selects
	// them, the default one no longer does.
	sl, ok := data.SourcesStreamLabels(context.Background(), srcs, data.ReadOptions{}, nil)
	if !ok || sl.Streams() != 3 {
		t.Fatalf("stream labels %v %v", sl, ok)
	}
	sel := func(q string) []*logql.Matcher {
		lq, err := logql.ParseLog(q)
		if err != nil {
			t.Fatal(err)
		}
		return lq.Selector()
	}
	if m, miss := sl.Miss(sel(`{job="kube-audit", env="prod", cluster="c1"}`)); miss {
		t.Errorf("team selector: %s", m)
	}
	if m, miss := sl.Miss(sel(`{job="audit"}`)); !miss || !strings.Contains(m.Why, `their job is "kube-audit"`) {
		t.Errorf("default selector: %v %v", m, miss)
	}

	// Without --label: job="audit".
	if j := newSet(t, nil, Options{}).Job(); j != data.DefaultJob {
		t.Errorf("default Job = %q", j)
	}

	for _, tc := range []struct{ arg, want string }{
		{"job", "want NAME=VALUE"},
		{"1job=x", "not a label name"},
		{"job-name=x", "not a label name"},
		{"__name__=x", "reserved"},
		{"job=", "empty"},
		{"filename=x.log", "each file's own path"},
		{"verb=get", "field of the audit events"},
		{"user_username=x", "field of the audit events"},
	} {
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		New(fs, Options{})
		err := fs.Parse([]string{"--label", tc.arg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--label %s: %v, want %q", tc.arg, err, tc.want)
		}
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	New(fs, Options{})
	if err := fs.Parse([]string{"--label", "job=a", "--label", "job=b"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("twice: %v", err)
	}
	// --cluster and --label cluster= must agree.
	s = newSet(t, nil, Options{}, "--cluster", "a", "--label", "cluster=b")
	if _, _, err := s.Resolve(context.Background(), []string{p}); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Errorf("--cluster a --label cluster=b: %v", err)
	}
}

// TestLabelJobSetsLokiSelector: a Loki read without --loki-selector reads
// the job --label names; --loki-selector still wins.
func TestLabelJobSetsLokiSelector(t *testing.T) {
	if got := newSet(t, nil, Options{}).Loki().Selector(); got != `{job="audit"}` {
		t.Errorf("default = %s", got)
	}
	if got := newSet(t, nil, Options{}, "--label", "job=kube-audit").Loki().Selector(); got != `{job="kube-audit"}` {
		t.Errorf("--label job=kube-audit: %s", got)
	}
	if got := newSet(t, nil, Options{}, "--label", "job=kube-audit", "--loki-selector", `{app="api"}`).Loki().Selector(); got != `{app="api"}` {
		t.Errorf("--loki-selector: %s", got)
	}
	src, err := newSet(t, nil, Options{}, "--label", "job=kube-audit").Loki().Source("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if got := src.DefaultQuery().String(); got != `{job="kube-audit"}` {
		t.Errorf("source's default query = %s", got)
	}
}
