package data

import (
	"context"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data/logql"
)

// selectorOf parses a log query and returns its stream selector.
func selectorOf(t *testing.T, q string) []*logql.Matcher {
	t.Helper()
	lq, err := logql.ParseLog(q)
	if err != nil {
		t.Fatal(err)
	}
	return lq.Selector()
}

// TestStreamLabelsMiss: a selector that names a label or value no stream
// carries is a miss, explained with the labels the streams have and the
// name or value meant when one is close; one that some stream satisfies
// is not (a label a stream lacks matches as empty, as in Loki).
func TestStreamLabelsMiss(t *testing.T) {
	files := &StreamLabels{}
	files.AddStream(Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: "a.log"}})
	files.AddStream(Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: "b.log"}})

	s3 := &StreamLabels{}
	s3.AddStream(Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "prod"}})
	s3.AddOpen("filename")

	lokiLike := &StreamLabels{}
	lokiLike.AddValues("job", []string{"audit", "ingress"})
	lokiLike.AddValues("app", []string{"api"})
	lokiLike.AddOpen("namespace")

	for _, tc := range []struct {
		name    string
		streams *StreamLabels
		query   string
		miss    bool
		why     []string // substrings of the explanation
		typo    bool
	}{
		{"selected", files, `{job="audit"}`, false, nil, false},
		{"other job", files, `{job="kube-audit"}`, true, []string{`their job is "audit"`}, false},
		{"job typo", files, `{job="adit"}`, true, []string{`their job is "audit"`, `did you mean job="audit"?`}, true},
		{"job case", files, `{job="Audit"}`, true, []string{`did you mean job="audit"?`}, true},
		{"label no stream has", files, `{app="kube-apiserver"}`, true,
			[]string{"none has the label app", `their labels: job="audit", filename (2 values)`}, false},
		{"label name typo", files, `{jb="audit"}`, true, []string{"none has the label jb (did you mean job?)"}, true},
		{"regex", files, `{job=~"kube-.*"}`, true, []string{`their job is "audit"`}, false},
		{"regex selects", files, `{job=~"aud.*"}`, false, nil, false},
		{"not equal", files, `{filename=~".+", job!="audit"}`, true, []string{`their job is "audit"`}, false},
		{"absent label matches as empty", files, `{job="audit", app!="x"}`, false, nil, false},
		{"one file", files, `{filename="b.log"}`, false, nil, false},
		{"no such file", files, `{filename="/var/log/x.log"}`, true, []string{`their filename is "a.log" or "b.log"`}, false},
		{"file name typo", files, `{filename="c.log"}`, true, []string{`did you mean filename="a.log"?`}, true},
		{"two misses", files, `{job="kube-audit", cluster="prod"}`, true,
			[]string{`their job is "audit"`, "none has the label cluster"}, false},
		{"s3 filename is open", s3, `{job="audit", filename="s3://b/k.json"}`, false, nil, false},
		{"s3 cluster", s3, `{cluster="prd"}`, true, []string{`did you mean cluster="prod"?`}, true},
		{"loki values", lokiLike, `{job="ingress"}`, false, nil, false},
		{"loki values miss", lokiLike, `{job="kube-audit"}`, true, []string{`their job is "audit" or "ingress"`}, false},
		{"loki streams may lack a label", lokiLike, `{job="audit", app!="api"}`, false, nil, false},
		{"loki unfetched values", lokiLike, `{namespace="kube-system"}`, false, nil, false},
		{"no stream: nothing to judge", &StreamLabels{}, `{job="kube-audit"}`, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, miss := tc.streams.Miss(selectorOf(t, tc.query))
			if miss != tc.miss {
				t.Fatalf("Miss(%s) = %v, want %v (%+v)", tc.query, miss, tc.miss, m)
			}
			if !miss {
				return
			}
			if !strings.HasPrefix(m.String(), m.Selector+" selects no stream of the sources: ") {
				t.Errorf("String() = %q", m.String())
			}
			for _, w := range tc.why {
				if !strings.Contains(m.Why, w) {
					t.Errorf("Why = %q, want %q in it", m.Why, w)
				}
			}
			if m.Typo != tc.typo {
				t.Errorf("Typo = %v, want %v (%s)", m.Typo, tc.typo, m.Why)
			}
			if len(m.Matchers) == 0 {
				t.Error("no matcher named")
			}
		})
	}
}

// TestStreamLabelsManyValues: a label with many values is counted, with
// the first three.
func TestStreamLabelsManyValues(t *testing.T) {
	sl := &StreamLabels{}
	for _, f := range []string{"d.log", "a.log", "c.log", "b.log"} {
		sl.AddStream(Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: f}})
	}
	m, ok := sl.Miss(selectorOf(t, `{filename="zz.log"}`))
	if !ok || !strings.Contains(m.Why, `their filename is one of 4 values ("a.log", "b.log", "c.log", ...)`) {
		t.Fatalf("%v %+v", ok, m)
	}
	if got := sl.Summary(); got != `job="audit", filename (4 values)` {
		t.Errorf("Summary = %q", got)
	}
}

// TestStreamLabelsMerge: sources merge; a label one source's streams lack
// matches as empty there.
func TestStreamLabelsMerge(t *testing.T) {
	a := &StreamLabels{}
	a.AddStream(Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "prod"}})
	b := &StreamLabels{}
	b.AddStream(Labels{{Name: "job", Value: "kube-audit"}})
	all := &StreamLabels{}
	all.Merge(a)
	all.Merge(b)
	all.Merge(nil)
	if all.Streams() != 2 {
		t.Fatalf("streams = %d", all.Streams())
	}
	for q, want := range map[string]bool{
		`{job="kube-audit"}`:               false,
		`{job="audit", cluster="prod"}`:    false,
		`{job="kube-audit", cluster!="x"}`: false, // b lacks cluster
		`{job="other"}`:                    true,
		`{cluster="staging"}`:              true,
	} {
		if _, miss := all.Miss(selectorOf(t, q)); miss != want {
			t.Errorf("Miss(%s) = %v, want %v", q, miss, want)
		}
	}
	if got := all.Values("job"); strings.Join(got, ",") != "audit,kube-audit" {
		t.Errorf("Values(job) = %v", got)
	}
}

// fakeLabeler is a source that reports its streams' labels.
type fakeLabeler struct {
	Source
	sl  *StreamLabels
	err error
}

func (f fakeLabeler) StreamLabels(context.Context, ReadOptions, []string) (*StreamLabels, error) {
	return f.sl, f.err
}

// TestSourcesStreamLabels: the sources' labels merge; one source that
// cannot tell (or fails to) leaves nothing to judge by.
func TestSourcesStreamLabels(t *testing.T) {
	one := &StreamLabels{}
	one.AddStream(Labels{{Name: "job", Value: "audit"}})
	two := &StreamLabels{}
	two.AddStream(Labels{{Name: "job", Value: "other"}})
	ctx := context.Background()
	sl, ok := SourcesStreamLabels(ctx, []Source{fakeLabeler{sl: one}, fakeLabeler{sl: two}}, ReadOptions{}, nil)
	if !ok || sl.Streams() != 2 {
		t.Fatalf("%v %v", sl, ok)
	}
	if _, ok := SourcesStreamLabels(ctx, []Source{fakeLabeler{sl: one}, fakeLabeler{err: context.Canceled}}, ReadOptions{}, nil); ok {
		t.Error("a source that failed to tell counted as none")
	}
	if _, ok := SourcesStreamLabels(ctx, []Source{fakeLabeler{sl: one}, nil}, ReadOptions{}, nil); ok {
		t.Error("a source that cannot tell counted as none")
	}
}

func TestShorthandSelectorFor(t *testing.T) {
	if ShorthandSelectorFor("") != ShorthandSelector || ShorthandSelectorFor(DefaultJob) != ShorthandSelector {
		t.Error("the default job is not the shorthand's")
	}
	for text, want := range map[string]string{
		`verb="get"`:   `{job="kube-audit"} | json | verb="get"`,
		`| verb="get"`: `{job="kube-audit"} | json | verb="get"`,
		`|= "x"`:       `{job="kube-audit"} | json |= "x"`,
		`{job="a"}`:    `{job="a"}`,
	} {
		got, shift := ExpandShorthandWith(ShorthandSelectorFor("kube-audit"), text)
		if got != want {
			t.Errorf("%s -> %s, want %s", text, got, want)
		}
		if _, err := logql.ParseLog(got); err != nil {
			t.Errorf("%s: %v", got, err)
		}
		if shift != len(got)-len(text) {
			t.Errorf("%s: shift %d", text, shift)
		}
	}
	// A job with a quote in it is quoted as LogQL quotes it.
	if _, err := logql.ParseLog(ShorthandSelectorFor(`a"b`)); err != nil {
		t.Error(err)
	}
}
