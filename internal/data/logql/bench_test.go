package logql_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// genEntries returns n generated audit events (Rate events/s) as
// JSONEntry values with stream labels job="audit", filename.
func genEntries(n int, rate float64) []*logql.JSONEntry {
	g := gen.New(gen.Config{Seed: 7, Rate: rate, Stories: true})
	out := make([]*logql.JSONEntry, n)
	labels := [][2]string{{"job", "audit"}, {"filename", "/var/log/kubernetes/audit.log"}}
	for i := range out {
		r := g.Next()
		line := append([]byte(nil), strings.TrimRight(string(r.Line), "\n")...)
		out[i] = &logql.JSONEntry{Time: r.Time, Line: line, Labels: labels}
	}
	return out
}

// dashboardQueries reads the seed dashboard queries (blank-line separated).
func dashboardQueries(tb testing.TB) []string {
	b, err := os.ReadFile(filepath.Join(testutil.SeedDir(tb), "dashboard-queries.logql"))
	if err != nil {
		tb.Fatal(err)
	}
	var qs []string
	for _, block := range strings.Split(string(b), "\n\n") {
		var lines []string
		for _, l := range strings.Split(block, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines = append(lines, l)
			}
		}
		if q := strings.TrimSpace(strings.Join(lines, "\n")); q != "" {
			qs = append(qs, q)
		}
	}
	return qs
}

func BenchmarkParse(b *testing.B) {
	qs := append(dashboardQueries(b),
		`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`,
		`sum(count_over_time({job="audit"} | json | objectRef_resource=~"roles|rolebindings|clusterroles|clusterrolebindings" | verb=~"create|update|patch|delete" [5m])) by (user_username, verb, objectRef_resource, objectRef_name) > 0`)
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range qs {
			if _, err := logql.Parse(q); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qs)), "ns/query")
}

const secretsQuery = `{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`

// BenchmarkMatchesJSONEntry: lazy flattening of the whole line each time.
func BenchmarkMatchesJSONEntry(b *testing.B) {
	q, err := logql.ParseLog(secretsQuery)
	if err != nil {
		b.Fatal(err)
	}
	es := genEntries(1000, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := *es[i%len(es)]
		q.Matches(&e)
		i++
	}
}

// BenchmarkMatchesEvent: the decoder's Event (fields already extracted).
func BenchmarkMatchesEvent(b *testing.B) {
	q, err := logql.ParseLog(secretsQuery)
	if err != nil {
		b.Fatal(err)
	}
	src := &data.SourceInfo{Name: "bench", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var dec data.Decoder
	var evs []data.Event
	for _, e := range genEntries(1000, 200) {
		var rej *data.Reject
		evs, rej = dec.Decode(evs, e.Line, data.Origin{Source: src})
		if rej != nil {
			b.Fatal(rej.Error())
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q.Matches(&evs[i%len(evs)])
		i++
	}
}

// BenchmarkRangeEvalDashboard evaluates each seed dashboard query as a
// 2-hour range query (step 1m) over 100k generated events (~14 events/s).
func BenchmarkRangeEvalDashboard(b *testing.B) {
	es := genEntries(100_000, 14)
	start := es[0].Time
	end := es[len(es)-1].Time
	for qi, qs := range dashboardQueries(b) {
		mq, err := logql.ParseMetric(qs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.Fields(strings.ReplaceAll(qs, "(", " "))[0]+"_"+string(rune('1'+qi)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ev, err := mq.NewRangeEvaluator(start, end, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range es {
					c := *e // fresh lazy state, as a decoded event would be
					ev.Add(&c)
				}
				if len(ev.Result()) == 0 {
					b.Fatal("empty result")
				}
			}
			b.ReportMetric(float64(len(es))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkRangeEvalDashboardEvent is BenchmarkRangeEvalDashboard over
// decoded data.Events (what audittui really feeds the evaluator).
func BenchmarkRangeEvalDashboardEvent(b *testing.B) {
	src := &data.SourceInfo{Name: "bench", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var dec data.Decoder
	var evs []data.Event
	for _, e := range genEntries(100_000, 14) {
		var rej *data.Reject
		evs, rej = dec.Decode(evs, e.Line, data.Origin{Source: src})
		if rej != nil {
			b.Fatal(rej.Error())
		}
	}
	start, end := evs[0].Time, evs[len(evs)-1].Time
	for qi, qs := range dashboardQueries(b) {
		mq, err := logql.ParseMetric(qs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.Fields(strings.ReplaceAll(qs, "(", " "))[0]+"_"+string(rune('1'+qi)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ev, err := mq.NewRangeEvaluator(start, end, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				for i := range evs {
					ev.Add(&evs[i])
				}
				if len(ev.Result()) == 0 {
					b.Fatal("empty result")
				}
			}
			b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkJSONFieldLookup compares a targeted LookupJSONField with a full
// FlattenJSON for one field of a typical generated event.
func BenchmarkJSONFieldLookup(b *testing.B) {
	es := genEntries(200, 200)
	for _, name := range []string{"objectRef_resource", "requestObject_spec_replicas", "nope_nope"} {
		b.Run("Lookup/"+name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				logql.LookupJSONField(es[i%len(es)].Line, name)
				i++
			}
		})
		b.Run("Flatten/"+name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				found := false
				_ = logql.FlattenJSON(es[i%len(es)].Line, func(n, v string) {
					if !found && n == name {
						found = true
					}
				})
				i++
			}
		})
	}
}

// BenchmarkExtractJSONPath is `| json x="path"` on a path the schema has
// no column for (the raw line is searched): ExtractJSONPath per entry.
func BenchmarkExtractJSONPath(b *testing.B) {
	es := genEntries(200, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		logql.ExtractJSONPath(es[i%len(es)].Line, `requestObject.metadata.labels["app"]`)
		i++
	}
}
