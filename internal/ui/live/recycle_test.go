package live

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
)

// indexedCols are the index's columns the test compares.
var indexedCols = []ui.Col{ui.ColUser, ui.ColVerb, ui.ColResource, ui.ColSubresource, ui.ColNamespace,
	ui.ColName, ui.ColCode, ui.ColStage, ui.ColSourceIP, ui.ColUserAgent, ui.ColImpUser, ui.ColAPIGroup}

// openAndDump opens path as the TUI does (rules loaded while the first
// batches wait, when lazy) and returns every indexed row and every alert
// as text, once all is read and evaluated.
func openAndDump(t *testing.T, paths []string, set *rules.Set, lazy bool, chunk int) string {
	t.Helper()
	var srcs []data.Source
	for _, path := range paths {
		src, err := file.New(path, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	o := Options{Sources: srcs, Alerts: true, Read: data.ReadOptions{ChunkBytes: chunk}}
	if lazy {
		gate := make(chan struct{})
		o.FirstScreen = gate
		o.LoadRules = func() (*rules.Set, error) { return set, nil }
		time.AfterFunc(50*time.Millisecond, func() { close(gate) })
	} else {
		o.Rules = set
	}
	lv, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer lv.Close()
	select {
	case <-lv.Feed.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the feed never finished")
	}
	sub := lv.Alerts.Subscribe()
	defer sub.Close()
	st := waitDone(t, sub)
	var b strings.Builder
	s := lv.Index.Snapshot()
	for i := range s.Len() {
		fmt.Fprintf(&b, "%d %d %d %x %q %s", i, s.Time(i), s.Latency(i), s.AuditIDHash(i), s.Path(i), s.Cite(i))
		for _, c := range indexedCols {
			fmt.Fprintf(&b, " %q", s.Str(c, i))
		}
		b.WriteByte('\n')
	}
	rejects, byReason := lv.Index.Rejects()
	for _, r := range rejects {
		fmt.Fprintf(&b, "reject %s %s %q\n", r.Where, r.Reason, r.Sample)
	}
	var reasons []string
	for r, n := range byReason {
		reasons = append(reasons, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(reasons)
	fmt.Fprintf(&b, "reasons %v\nevents %d\n", reasons, st.Events)
	for _, a := range st.Local {
		fmt.Fprintf(&b, "alert %s %s %v %v %d %v %v %v\n", a.Key(), a.State, a.Value, a.MaxValue, a.Events, a.AuditIDs, a.Labels, a.Annotations)
	}
	return b.String()
}

// TestRecycledBatchesChangeNothing opens inputs as the TUI does with the
// readers lending their batches, and the memory of each released batch
// overwritten at once (data.PoisonRecycled), then without recycling: the
// index holds the same rows, fields and rejects, and the rules give the
// same alerts, with the same cited events. A consumer that kept a string
// or an event of a batch after releasing it would show 'X's or empty
// fields here. Small chunks make the readers reuse memory hundreds of
// times; the rules load while the first batches wait (held) in one run.
func TestRecycledBatchesChangeNothing(t *testing.T) {
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Generated traffic with the attack stories, and a bad line.
	dir := t.TempDir()
	genPath := filepath.Join(dir, "gen.log")
	f, err := os.Create(genPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	g := gen.New(gen.Config{Seed: 7, Stories: true})
	for n := 0; n < 12<<20; {
		l := g.Next().Line
		n += len(l)
		w.Write(l)
		if n > 6<<20 && n-len(l) <= 6<<20 {
			w.WriteString("{\"kind\":\"Event\",\"verb\":\n")
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The same traffic as three nodes' files, merged.
	nodes := splitLines(t, genPath, 3)
	inputs := [][]string{{genPath}, nodes, {filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}}
	for _, p := range testutil.RealAuditFiles(t) {
		inputs = append(inputs, []string{p})
	}
	inputs = append(inputs, testutil.RealAuditFiles(t)) // merged too
	for _, paths := range inputs {
		name := filepath.Base(paths[0])
		if len(paths) > 1 {
			name = fmt.Sprintf("%s+%d", name, len(paths)-1)
		}
		t.Run(name, func(t *testing.T) {
			for _, lazy := range []bool{false, true} {
				recycle = false
				want := openAndDump(t, paths, set, lazy, 16<<10)
				recycle = true
				restore := data.PoisonRecycled()
				got := openAndDump(t, paths, set, lazy, 16<<10)
				restore()
				if got != want {
					gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
					for i := range min(len(gl), len(wl)) {
						if gl[i] != wl[i] {
							t.Fatalf("lazy=%v: recycled and not differ at line %d:\nrecycled: %s\nnot:      %s", lazy, i+1, gl[i], wl[i])
						}
					}
					t.Fatalf("lazy=%v: recycled %d lines, not recycled %d", lazy, len(gl), len(wl))
				}
			}
		})
	}
}

// splitLines deals path's lines round-robin into n files (nodes' files
// whose times interleave).
func splitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]strings.Builder, n)
	for i, l := range strings.SplitAfter(string(in), "\n") {
		outs[i%n].WriteString(l)
	}
	var paths []string
	for i := range outs {
		p := filepath.Join(filepath.Dir(path), fmt.Sprintf("node%d.log", i))
		if err := os.WriteFile(p, []byte(outs[i].String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}
