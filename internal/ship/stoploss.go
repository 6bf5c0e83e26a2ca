package ship

// Losses found as ship stops: files deleted from the path and kept open
// to be read, the rest of a deleted file being read, and listed backups
// deleted by retention before they were read (a restart cannot find
// them). The stopping process logs them and counts them in its
// metrics, which a scrape rarely sees before it exits. So they are also
// written to State_dir/lost-at-stop.json, and the next start logs them
// again, adds them to its gap_files_total and unrecoverable_bytes_total
// (where an alert on their increase sees them), and removes the file.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/ship/metrics"
)

// StopLossName is the file in State_dir holding the losses of the last
// stop until the next start reports them.
const StopLossName = "lost-at-stop.json"

// stopLoss is what a stop lost.
type stopLoss struct {
	Files     int64     `json:"files"`
	Bytes     int64     `json:"bytes"`
	StoppedAt time.Time `json:"stopped_at"`
}

// stopLosses collects the losses reported while ship stops.
type stopLosses struct {
	mu sync.Mutex
	l  stopLoss
}

func (s *stopLosses) gap()              { s.mu.Lock(); s.l.Files++; s.mu.Unlock() }
func (s *stopLosses) bytes(n int64)     { s.mu.Lock(); s.l.Bytes += n; s.mu.Unlock() }
func (s *stopLosses) get() (l stopLoss) { s.mu.Lock(); l = s.l; s.mu.Unlock(); return l }

// saveStopLoss adds l to the losses waiting in dir for the next start.
func saveStopLoss(dir string, l stopLoss) error {
	p := filepath.Join(dir, StopLossName)
	if b, err := os.ReadFile(p); err == nil {
		var old stopLoss
		if json.Unmarshal(b, &old) == nil {
			l.Files += old.Files
			l.Bytes += old.Bytes
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// reportStopLoss logs and counts the losses of the last stop, if any, and
// removes their file.
func reportStopLoss(dir string, m *metrics.Metrics, lg *slog.Logger) {
	p := filepath.Join(dir, StopLossName)
	b, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			lg.Warn("cannot read what the last stop lost", "path", p, "err", err)
		}
		return
	}
	var l stopLoss
	if err := json.Unmarshal(b, &l); err != nil {
		lg.Warn("cannot read what the last stop lost", "path", p, "err", err)
	} else if l.Files > 0 || l.Bytes > 0 {
		lg.Error("the last stop lost the lines of files deleted (from the path, or backups by retention) that were not read yet (a restart cannot find them); counted here, as the stopping process's metrics are rarely scraped",
			"files", l.Files, "bytes", l.Bytes, "stopped_at", l.StoppedAt.UTC().Format(time.RFC3339))
		m.GapFiles.Add(float64(l.Files))
		m.Unrecoverable.Add(float64(l.Bytes))
	}
	if err := os.Remove(p); err != nil {
		lg.Warn("cannot remove the record of what the last stop lost: it will be counted again", "path", p, "err", err)
	}
}
