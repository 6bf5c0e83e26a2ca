package ui

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/testutil"
)

// BenchmarkOpenBigFile indexes AUDITTUI_BIG_FILE (e.g. the ~1 GB file of
// cmd/auditgen -size 1GB) through the same feed the TUI uses, and reports
// time to the first batch, time to the full index and peak RSS. bench/tui.sh
// runs it; without the variable it is skipped.
func BenchmarkOpenBigFile(b *testing.B) {
	path := os.Getenv("AUDITTUI_BIG_FILE")
	if path == "" {
		b.Skip("set AUDITTUI_BIG_FILE to a big audit log (bench/tui.sh does)")
	}
	for i := 0; i < b.N; i++ {
		start := time.Now()
		src, err := file.New(path, file.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st, err := data.OpenAll(context.Background(), []data.Source{src}, data.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ix := NewIndex(b.TempDir(), nil)
		feed := NewFeed(ix, nil)
		go feed.Run(context.Background(), st)
		wait := feed.Wait()
		wait() // first notification: the first batch is indexed
		first := time.Since(start)
		<-feed.Done()
		full := time.Since(start)
		s := ix.Snapshot()
		b.ReportMetric(float64(first.Milliseconds()), "ms-first-batch")
		b.ReportMetric(float64(full.Milliseconds()), "ms-full-index")
		b.ReportMetric(float64(s.Len()), "events")
		b.ReportMetric(float64(testutil.PeakRSSKiB())/1024, "peak-RSS-MiB")
		ix.Close()
	}
}
