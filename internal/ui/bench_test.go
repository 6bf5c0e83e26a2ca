package ui

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// sampleEvents decodes the bundled sample once (owned copies).
func sampleEvents(b *testing.B) []data.Event {
	b.Helper()
	path := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	content, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("bundled sample not found: %v", err)
	}
	info := &data.SourceInfo{Name: path, Seekable: true, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var dec data.Decoder
	var evs []data.Event
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(nil, 8<<20)
	off := int64(0)
	for sc.Scan() {
		n := len(evs)
		evs, _ = dec.Decode(evs, sc.Bytes(), data.Origin{Source: info, Offset: off})
		for k := n; k < len(evs); k++ {
			evs[k] = evs[k].Clone()
		}
		off += int64(len(sc.Bytes())) + 1
	}
	return evs
}

// bigIndex builds an index of n events from the sample, varying object
// names and times so the dictionaries grow as they would on a big file.
func bigIndex(b *testing.B, n int) *Index {
	b.Helper()
	base := sampleEvents(b)
	ix := NewIndex(b.TempDir(), nil)
	b.Cleanup(func() { ix.Close() })
	batch := &data.Batch{Events: make([]data.Event, 0, 4096)}
	for k := 0; k < n; k++ {
		e := base[k%len(base)]
		if e.Name != "" {
			e.Name = fmt.Sprintf("%s-%d", e.Name, k%20000)
		}
		e.Time += int64(k/len(base)) * 3600e9
		batch.Events = append(batch.Events, e)
		if len(batch.Events) == cap(batch.Events) {
			if err := ix.Add(batch); err != nil {
				b.Fatal(err)
			}
			batch.Events = batch.Events[:0]
		}
	}
	if err := ix.Add(batch); err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkIndexBuild measures adding decoded events to the index.
func BenchmarkIndexBuild(b *testing.B) {
	base := sampleEvents(b)
	span := base[len(base)-1].Time - base[0].Time + int64(time.Second)
	const n = 200_000
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		ix := NewIndex(b.TempDir(), nil)
		batch := &data.Batch{Events: make([]data.Event, 0, 4096)}
		for k := 0; k < n; k++ {
			// Each pass over the sample later than the one before: new
			// events in time order, not copies (the index keeps copies
			// once, dups.go).
			ev := base[k%len(base)]
			ev.Time += int64(k/len(base)) * span
			batch.Events = append(batch.Events, ev)
			if len(batch.Events) == cap(batch.Events) {
				ix.Add(batch)
				batch.Events = batch.Events[:0]
			}
		}
		ix.Add(batch)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/n, "heap-B/event")
		ix.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// BenchmarkRefilter1M re-filters 1.15 M indexed events on fields (the
// filter bar's common case): evaluated on dictionary ids, no re-read.
func BenchmarkRefilter1M(b *testing.B) {
	ix := bigIndex(b, 1_150_000)
	snap := ix.Snapshot()
	user := topValue(snap, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ColUser)
	ip := topValue(snap, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ColSourceIP)
	for _, q := range []string{
		fmt.Sprintf(`user_username=%q`, user),
		// The Timeline's source-IP pivot: `| json` skips arrays, so the
		// first address is reached with a JSON expression.
		fmt.Sprintf(`{job="audit"} | json | json sourceIP="sourceIPs[0]" | sourceIP=%q`, ip),
		`verb=~"create|delete|patch" | objectRef_resource=~"pods|deployments|secrets"`,
		`responseStatus_code >= 400 | objectRef_namespace!="kube-system"`,
	} {
		b.Run(q, func(b *testing.B) {
			var matched int
			for i := 0; i < b.N; i++ {
				f, err := CompileLogQL(q)
				if err != nil {
					b.Fatal(err)
				}
				rows, err := f.Eval(context.Background(), snap, 0, nil)
				if err != nil {
					b.Fatal(err)
				}
				matched = len(rows)
			}
			b.ReportMetric(float64(matched), "matches")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/refilter")
		})
	}
}

// BenchmarkFirstView1M measures the first screen of an App over a 1M-event
// index: the row layout looks at every identity once (the user dictionary,
// and the rows whose user cell shows a person behind the account).
func BenchmarkFirstView1M(b *testing.B) {
	ix := bigIndex(b, 1_000_000)
	b.ResetTimer()
	for b.Loop() {
		a := New(b.Context(), ix, nil, Options{NoColor: true, Compile: CompileLogQL})
		a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		_ = a.View()
	}
}

// BenchmarkTimeOrder measures putting 1 M rows of an unsorted index
// (passes over the sample overlapping in time) in time order, as the TUI
// does once such an input is read.
func BenchmarkTimeOrder(b *testing.B) {
	ix := bigIndex(b, 1_000_000)
	s := ix.Snapshot()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		timeOrder(s)
	}
}

// BenchmarkTypeInFilterBar is one key typed in the filter bar (`/`), as
// the App handles it (the layout at every key), on the events fixture at
// 120x40: the text grows by a letter, then is cleared.
func BenchmarkTypeInFilterBar(b *testing.B) {
	ix := loadIndex(b, "testdata/events.jsonl")
	a := New(context.Background(), ix, nil, Options{NoColor: true, Compile: CompileLogQL, Title: "events.jsonl"})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	send(b, a, "/")
	word := "kube-system"
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%len(word) == 0 {
			a.Update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
		}
		a.Update(tea.KeyPressMsg{Code: rune(word[i%len(word)]), Text: string(word[i%len(word)])})
	}
}
