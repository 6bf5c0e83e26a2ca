package ship

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"

	"github.com/audittui/audittui/internal/ship/metrics"
)

// overflow is the file of lines longer than Max_line_size
// (State_dir/overlong-lines.jsonl), capped at Overlong_lines_limit_size.
// The tailer writes each such line in pieces, newline last. A line that
// would take the file past the cap is not written (what was written of it
// is cut off again) and is counted. The file is opened for each line, so
// an operator can move it away and ship starts a new one.
type overflow struct {
	path  string
	limit int64
	m     *metrics.Metrics
	lg    *slog.Logger

	f        *os.File
	start    int64 // file size when the current line began
	lineLen  int64
	dropping bool
	failed   bool
}

func (o *overflow) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		piece := p
		if i >= 0 {
			piece = p[:i+1]
		}
		o.write(piece)
		p = p[len(piece):]
		if i >= 0 {
			o.endLine()
		}
	}
	return n, nil
}

func (o *overflow) write(b []byte) {
	if o.f == nil && !o.dropping && !o.failed {
		f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err == nil {
			var fi os.FileInfo
			if fi, err = f.Stat(); err == nil {
				o.f, o.start = f, fi.Size()
			} else {
				f.Close()
			}
		}
		if err != nil {
			o.lg.Error("cannot write the overflow file; the over-long line is counted, not kept", "file", o.path, "err", err)
			o.failed = true
		}
	}
	o.lineLen += int64(len(b))
	if o.dropping || o.failed {
		return
	}
	if o.start+o.lineLen > o.limit {
		o.lg.Error("the overflow file is full (Overlong_lines_limit_size); an over-long line is counted, not kept: move the file away to make room",
			"file", o.path, "limit", o.limit)
		if err := o.f.Truncate(o.start); err != nil {
			o.lg.Error("cut a partial line off the overflow file", "file", o.path, "err", err)
		}
		o.f.Close()
		o.f, o.dropping = nil, true
		return
	}
	if _, err := o.f.Write(b); err != nil {
		o.lg.Error("write the overflow file; the over-long line is counted, not kept", "file", o.path, "err", err)
		o.f.Truncate(o.start)
		o.f.Close()
		o.f, o.failed = nil, true
	}
}

func (o *overflow) endLine() {
	if o.dropping || o.failed {
		o.m.OverlongDropped.Inc()
		o.m.OverlongDroppedBytes.Add(float64(o.lineLen))
	}
	if o.f != nil {
		if err := o.f.Close(); err != nil {
			o.lg.Error("close the overflow file", "file", o.path, "err", err)
		}
	}
	o.f, o.lineLen, o.dropping, o.failed = nil, 0, false, false
}

func (o *overflow) String() string { return fmt.Sprintf("overflow(%s, limit %d)", o.path, o.limit) }
