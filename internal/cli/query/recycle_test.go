package query

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/gen"
	"github.com/audittui/audittui/internal/testutil"
)

// TestLogQueryRecycledChangesNothing: log queries read with recycling
// (each batch released once written); with the released memory
// overwritten at once (data.PoisonRecycled), every output format prints
// what a read without recycling prints, on generated traffic split into
// three nodes' files (merged), the sample and ../shared/realdata.
func TestLogQueryRecycledChangesNothing(t *testing.T) {
	dir := t.TempDir()
	var nodes []string
	var ws []*bufio.Writer
	for i := range 3 {
		p := filepath.Join(dir, "node"+string(rune('0'+i))+".log")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		nodes = append(nodes, p)
		ws = append(ws, bufio.NewWriter(f))
	}
	g := gen.New(gen.Config{Seed: 5, Stories: true, Nodes: 3})
	for n := 0; n < 6<<20; {
		r := g.Next()
		n += len(r.Line)
		ws[r.Node%3].Write(r.Line)
	}
	for _, w := range ws {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	inputs := [][]string{nodes, {filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}, testutil.RealAuditFiles(t)}
	queries := []string{
		`{job="audit"}`,
		`{job="audit"} |= "secrets" | json | verb=~"get|list"`,
		`{job="audit"} | json | responseStatus_code >= 400 | line_format "{{.user_username}} {{.verb}} {{.requestURI}}"`,
	}
	for _, in := range inputs {
		for _, q := range queries {
			for _, o := range []string{"raw", "jsonl", "table", "csv"} {
				args := append([]string{"-o", o, q}, in...)
				recycleReads = false
				wcode, want, werr := queryCLI(t, args...)
				recycleReads = true
				restore := data.PoisonRecycled()
				code, got, gerr := queryCLI(t, args...)
				restore()
				if code != wcode || got != want || gerr != werr {
					t.Fatalf("%s -o %s on %s: recycled exit %d, %d bytes; not recycled exit %d, %d bytes", q, o, filepath.Base(in[0]), code, len(got), wcode, len(want))
				}
				if len(want) == 0 && filepath.Base(in[0]) == "node0.log" {
					t.Fatalf("%s -o %s: no output to compare", q, o)
				}
			}
		}
	}
}
