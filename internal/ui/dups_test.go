package ui

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/testutil"
)

// rowsOf lists each row of the index as what makes an event itself:
// time, auditID hash and bytes.
func rowsOf(t *testing.T, ix *Index) []string {
	t.Helper()
	s := ix.Snapshot()
	var out []string
	for i := range s.Len() {
		raw, err := s.Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	slices.Sort(out)
	return out
}

// readIndex reads paths through the file source and the feed, as the TUI
// does (merged by time when several).
func readIndex(t *testing.T, paths ...string) *Index {
	t.Helper()
	return readIndexWith(t, func(*Index) data.ReadOptions { return data.ReadOptions{} }, paths...)
}

// readIndexWith is readIndex with the read options opts gives for the
// index being read into.
func readIndexWith(t *testing.T, opts func(*Index) data.ReadOptions, paths ...string) *Index {
	t.Helper()
	var srcs []data.Source
	for _, p := range paths {
		src, err := file.New(p, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	ix := NewIndex(t.TempDir(), nil)
	t.Cleanup(func() { ix.Close() })
	st, err := data.OpenAll(context.Background(), srcs, opts(ix))
	if err != nil {
		t.Fatal(err)
	}
	feed := NewFeed(ix, nil)
	feed.Run(context.Background(), st)
	return ix
}

// TestExactDuplicatesOnce: lines that repeat an earlier event byte for
// byte (a file concatenated twice, an archive object uploaded again, a
// copy merged with its original) are indexed once, as Loki stores them
// and the rules count them, so every pane and count is that of the input
// without the copies; they are counted and named in R. Lines that differ
// in one byte, or have no auditID, are all kept.
func TestExactDuplicatesOnce(t *testing.T) {
	lines := fixtureLines(t, "testdata/events.jsonl")
	lines = lines[:len(lines)-1] // the reject
	orig := writeLines(t, "orig.jsonl", lines)
	want := rowsOf(t, readIndex(t, orig))

	// The file concatenated twice, then a shuffled copy of it.
	twice := writeLines(t, "twice.jsonl", append(slices.Clone(lines), lines...))
	ix := readIndex(t, twice)
	if got := rowsOf(t, ix); !slices.Equal(got, want) {
		t.Fatalf("concatenated twice: %d rows, want %d", len(got), len(want))
	}
	if s := ix.Snapshot(); s.Duplicates != int64(len(lines)) {
		t.Fatalf("duplicates %d, want %d", s.Duplicates, len(lines))
	}
	samples, _ := ix.Duplicates()
	if len(samples) == 0 || !strings.HasSuffix(samples[0], "twice.jsonl:"+strconv.Itoa(len(lines)+1)+" repeats "+twice+":1") {
		t.Fatalf("first duplicate named %q", samples)
	}
	shuffled := append(slices.Clone(lines), lines...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if got := rowsOf(t, readIndex(t, writeLines(t, "shuffled.jsonl", shuffled))); !slices.Equal(got, want) {
		t.Fatalf("shuffled with copies: %d rows, want %d", len(got), len(want))
	}

	// Each line again one line later (an at-least-once shipper's retry,
	// a little out of time order): found among the recent rows alone.
	var later []string
	for i := range lines {
		later = append(later, lines[i])
		if i > 0 {
			later = append(later, lines[i-1])
		}
	}
	ix = readIndex(t, writeLines(t, "later.jsonl", append(later, lines[len(lines)-1])))
	if got := rowsOf(t, ix); !slices.Equal(got, want) || ix.dups.global {
		t.Fatalf("copies one line later: %d rows, want %d (global table: %v)", len(got), len(want), ix.dups.global)
	}

	// The bundled sample (3,948 events: the table grows several times)
	// with a shuffled copy.
	sample := fixtureLines(t, "../../testdata/sample/audit.log")
	mixed := slices.Clone(sample)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	sampleRows := rowsOf(t, readIndex(t, "../../testdata/sample/audit.log"))
	ix = readIndex(t, writeLines(t, "sample2.log", append(mixed, sample...)))
	if got := rowsOf(t, ix); !slices.Equal(got, sampleRows) || ix.Snapshot().Duplicates != int64(len(sample)) {
		t.Fatalf("sample with a shuffled copy: %d rows (want %d), %d duplicates", len(got), len(sampleRows), ix.Snapshot().Duplicates)
	}

	// A copy of the second half as another file (an object uploaded
	// again), merged by time with the original.
	half := writeLines(t, "again.jsonl", lines[len(lines)/2:])
	ix = readIndex(t, orig, half)
	if got := rowsOf(t, ix); !slices.Equal(got, want) || ix.dups.global {
		t.Fatalf("merged with a partial copy: %d rows, want %d (global table: %v)", len(got), len(want), ix.dups.global)
	}

	// The same auditID, time and length but one byte different: not a
	// duplicate. Without an auditID, the bytes alone tell.
	other := strings.Replace(lines[0], `"verb":"get"`, `"verb":"got"`, 1)
	noID := strings.Replace(lines[1], `"auditID":"`, `"auditXX":"`, 1)
	noID2 := strings.Replace(noID, `"verb":"`, `"verb":"x`, 1)
	ix = readIndex(t, writeLines(t, "near.jsonl", []string{lines[0], other, noID, noID2, noID}))
	if s := ix.Snapshot(); s.Len() != 4 || s.Duplicates != 1 {
		t.Fatalf("near duplicates: %d rows, %d duplicates; want 4 and 1", s.Len(), s.Duplicates)
	}

	// The TUI says so, and R names them.
	a := New(context.Background(), readIndex(t, twice), nil, Options{NoColor: true, Compile: CompileLogQL})
	a.Update(windowSize(120, 40))
	if s := screen(a); !strings.Contains(s, "loaded "+itoa(len(lines))+" ·") || !strings.Contains(s, "duplicates "+itoa(len(lines))+" (R)") {
		t.Fatalf("status:\n%s", s)
	}
	send(t, a, "R")
	if s := screen(a); !strings.Contains(s, "exact duplicates: "+itoa(len(lines))+" lines") || !strings.Contains(s, "twice.jsonl:"+strconv.Itoa(len(lines)+1)+" repeats") {
		t.Fatalf("R:\n%s", s)
	}
}

// TestRealDataDuplicatedOnce: the real audit logs of ../shared/realdata,
// each concatenated with a shuffled copy of itself, index exactly the
// events of the file alone.
func TestRealDataDuplicatedOnce(t *testing.T) {
	dir := testutil.RealData(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "audit", "*.jsonl"))
	if len(paths) == 0 {
		t.Fatalf("no audit logs in %s", dir)
	}
	for _, p := range paths {
		lines := fixtureLines(t, p)
		want := rowsOf(t, readIndex(t, p))
		copyLines := slices.Clone(lines)
		rand.New(rand.NewPCG(3, 4)).Shuffle(len(copyLines), func(i, j int) { copyLines[i], copyLines[j] = copyLines[j], copyLines[i] })
		dup := writeLines(t, filepath.Base(p), append(slices.Clone(lines), copyLines...))
		ix := readIndex(t, dup)
		if got := rowsOf(t, ix); !slices.Equal(got, want) {
			t.Errorf("%s doubled: %d rows, want %d", filepath.Base(p), len(got), len(want))
		}
		if s := ix.Snapshot(); s.Duplicates != int64(len(want)) {
			t.Errorf("%s doubled: %d duplicates, want %d", filepath.Base(p), s.Duplicates, len(want))
		}
	}
}

func itoa(n int) string { return thousands(int64(n)) }

// TestUndatedCounted: events without a timestamp are shown, and the status
// bar and R say how many there are.
func TestUndatedCounted(t *testing.T) {
	lines := fixtureLines(t, "testdata/events.jsonl")
	lines = lines[:len(lines)-1] // the reject
	undated := strings.NewReplacer(`"stageTimestamp":`, `"stageTimestampX":`, `"requestReceivedTimestamp":`, `"requestReceivedTimestampX":`).Replace(lines[0])
	ix := readIndex(t, writeLines(t, "undated.jsonl", append([]string{undated}, lines[1:]...)))
	a := New(context.Background(), ix, nil, Options{NoColor: true, Compile: CompileLogQL})
	a.Update(windowSize(120, 40))
	if s := screen(a); !strings.Contains(s, "loaded "+itoa(len(lines))+" ·") || !strings.Contains(s, "undated 1 (R)") || !strings.Contains(s, "-------- ") {
		t.Fatalf("status:\n%s", s)
	}
	send(t, a, "R")
	if s := screen(a); !strings.Contains(s, "undated: 1 event carries no timestamp") {
		t.Fatalf("R:\n%s", s)
	}
	// At 80x24, with copies too: R's explanations wrap, nothing is cut.
	a = New(context.Background(), readIndex(t, writeLines(t, "both.jsonl", append([]string{undated}, append(lines[1:], lines[1:]...)...))), nil, Options{NoColor: true, Compile: CompileLogQL})
	a.Update(windowSize(80, 24))
	send(t, a, "R")
	s := screen(a)
	checkScreen(t, s, 80, 24)
	if !strings.Contains(s, "each is shown and counted once") || !strings.Contains(s, "histogram or alert rule can place it") {
		t.Fatalf("R at 80x24:\n%s", s)
	}
}

// TestPrettyCopyIndexedOnce: a `jq .` export of the real logs (each event
// pretty-printed over many lines) read with them is a copy of every event,
// as query and the rules count it: the index holds the events of the logs
// alone (compared as the lines -o raw prints), whatever comes first
// (merged files either way, one file holding the export then a shuffled
// copy of the logs), the status counts every event of the copy, and R says
// the copies are the same once compacted.
func TestPrettyCopyIndexedOnce(t *testing.T) {
	var lines []string
	for _, f := range testutil.RealAuditFiles(t) {
		lines = append(lines, fixtureLines(t, f)...)
	}
	var pretty []string
	for _, l := range lines {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(l), "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty = append(pretty, b.String())
	}
	real := writeLines(t, "audit.log", lines)
	export := writeLines(t, "evidence-export.json", pretty)
	shuffled := slices.Clone(lines)
	rand.New(rand.NewPCG(9, 10)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mixed := writeLines(t, "mixed.json", append(slices.Clone(pretty), shuffled...))
	compacted := func(ix *Index) []string {
		rows := rowsOf(t, ix)
		for i, r := range rows {
			rows[i] = string(data.CompactLine([]byte(r)))
		}
		slices.Sort(rows)
		return rows
	}
	want := compacted(readIndex(t, real))
	for _, paths := range [][]string{{real, export}, {export, real}, {mixed}} {
		ix := readIndex(t, paths...)
		if got := compacted(ix); !slices.Equal(got, want) {
			t.Errorf("%v: %d rows, want the %d of the logs alone", paths, len(got), len(want))
		}
		if s := ix.Snapshot(); s.Duplicates != int64(len(lines)) || s.Rejected != 0 {
			t.Errorf("%v: %d duplicates (want %d), %d rejected", paths, s.Duplicates, len(lines), s.Rejected)
		}
		if samples, _ := ix.Duplicates(); len(samples) == 0 || !strings.HasSuffix(samples[0], " (once compacted: one of them spans lines)") {
			t.Errorf("%v: R names %q", paths, samples[:min(1, len(samples))])
		}
	}
}

// TestCopyCitedAtOriginal: a file and a copy of it that a file manager
// named ("audit-... (copy).log.gz"), in either order or as a directory:
// every event is cited at the file the apiserver's rotation named (the
// copy sorted first and was cited; review D finding 10), and the Detail
// says where the same bytes are also. Real data (the falco traces).
func TestCopyCitedAtOriginal(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	orig := filepath.Join(dir, "audit-2026-11-20T02-40-20.120.log.gz")
	cp := filepath.Join(dir, "audit-2026-11-20T02-40-20.120 (copy).log.gz")
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(b)
	zw.Close()
	for _, p := range []string{orig, cp} {
		if err := os.WriteFile(p, zb.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sourceRE := regexp.MustCompile(`source    (\S+):(\d+)`)
	for _, args := range [][]string{{orig, cp}, {cp, orig}, {dir}} {
		ix := readIndex(t, args...)
		s := ix.Snapshot()
		if s.Len() == 0 || s.Duplicates != int64(s.Len()) {
			t.Fatalf("%q: %d rows, %d duplicates", args, s.Len(), s.Duplicates)
		}
		atCopy := 0
		for i := range s.Len() {
			if s.SourceName(i) != orig {
				atCopy++
			}
			also, n := s.AlsoAt(i)
			if n != 1 || also[0].Source.Name != cp || also[0].Line != s.Line(i) {
				t.Fatalf("%q: row %d (%s) also at %v (%d)", args, i, s.Cite(i), also, n)
			}
		}
		if atCopy > 0 {
			t.Errorf("%q: %d of %d events cited at the copy", args, atCopy, s.Len())
		}

		a := New(context.Background(), ix, nil, Options{Title: "t", NoColor: true, Compile: CompileLogQL})
		a.Update(tea.WindowSizeMsg{Width: 220, Height: 50})
		send(t, a, "enter")
		scr := screen(a)
		m := sourceRE.FindStringSubmatch(scr)
		if m == nil || m[1] != orig || !strings.Contains(scr, "also at   "+cp+":"+m[2]+"  (the same event, counted once)") {
			t.Errorf("%q: Detail:\n%s", args, scr)
		}
	}
}
