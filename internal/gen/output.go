package gen

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Limit says when to stop generating: after Events events or Bytes bytes
// (uncompressed, over all outputs), whichever comes first, or at Until (an
// event time). Zero fields are unlimited; at least one must be set.
type Limit struct {
	Events int64
	Bytes  int64
	Until  time.Time
}

func (l Limit) unbounded() bool { return l.Events <= 0 && l.Bytes <= 0 && l.Until.IsZero() }

// Stats reports what was written.
type Stats struct {
	Events int64
	Bytes  int64
	// PerNode counts events per control-plane node.
	PerNode []int64
	First   time.Time // first and last stageTimestamp
	Last    time.Time
}

// Write generates events until lim and writes them to outs: with one
// writer every event goes to it; otherwise outs must have one writer per
// node and each event goes to the node that logged it.
func (g *Generator) Write(ctx context.Context, outs []io.Writer, lim Limit) (Stats, error) {
	if lim.unbounded() {
		return Stats{}, errors.New("generate: no limit (set events, bytes or an end time)")
	}
	if len(outs) != 1 && len(outs) != g.cfg.Nodes {
		return Stats{}, fmt.Errorf("generate: %d outputs for %d nodes (want 1 or %d)", len(outs), g.cfg.Nodes, g.cfg.Nodes)
	}
	bws := make([]*bufio.Writer, len(outs))
	for i, w := range outs {
		bws[i] = bufio.NewWriterSize(w, 256<<10)
	}
	st := Stats{PerNode: make([]int64, g.cfg.Nodes)}
	until := int64(0)
	if !lim.Until.IsZero() {
		until = lim.Until.UnixNano()
	}
	for {
		if lim.Events > 0 && st.Events >= lim.Events || lim.Bytes > 0 && st.Bytes >= lim.Bytes {
			break
		}
		if st.Events&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		rec := g.Next()
		if until != 0 && rec.Time >= until {
			break
		}
		bw := bws[0]
		if len(bws) > 1 {
			bw = bws[rec.Node]
		}
		if _, err := bw.Write(rec.Line); err != nil {
			return st, fmt.Errorf("write: %w", err)
		}
		if st.Events == 0 {
			st.First = time.Unix(0, rec.Time).UTC()
		}
		st.Last = time.Unix(0, rec.Time).UTC()
		st.Events++
		st.Bytes += int64(len(rec.Line))
		st.PerNode[rec.Node]++
	}
	for _, bw := range bws {
		if err := bw.Flush(); err != nil {
			return st, fmt.Errorf("write: %w", err)
		}
	}
	return st, nil
}

// NodeFile returns the file name for node i (0-based) of n: FILE itself
// when n == 1, else FILE with "-cp<i+1>" before its extension
// (audit.log -> audit-cp1.log; audit.log.gz -> audit-cp1.log.gz).
func NodeFile(file string, i, n int) string {
	if n <= 1 {
		return file
	}
	dir, base := filepath.Split(file)
	stem, ext := base, ""
	if j := strings.IndexByte(base, '.'); j > 0 {
		stem, ext = base[:j], base[j:]
	}
	return filepath.Join(dir, fmt.Sprintf("%s-cp%d%s", stem, i+1, ext))
}

// FileOptions say how WriteFiles encodes its files.
type FileOptions struct {
	// Gzip compresses each file.
	Gzip bool
	// EventList writes webhook-style EventList documents of Batch events
	// (DefaultBatch when 0), one per line, instead of one event per line.
	EventList bool
	Batch     int
}

// WriteFiles generates into FILE (one file per node when the generator
// has several, named by NodeFile). Stats count events and uncompressed
// event-line bytes.
func (g *Generator) WriteFiles(ctx context.Context, file string, opt FileOptions, lim Limit) (Stats, error) {
	n := g.cfg.Nodes
	files := make([]*os.File, n)
	outs := make([]io.Writer, n)
	zs := make([]*gzip.Writer, n)
	els := make([]*EventListWriter, n)
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}
	for i := range n {
		name := NodeFile(file, i, n)
		f, err := os.Create(name)
		if err != nil {
			closeAll()
			return Stats{}, fmt.Errorf("create %s: %w", name, err)
		}
		files[i], outs[i] = f, f
		if opt.Gzip {
			zs[i], _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
			outs[i] = zs[i]
		}
		if opt.EventList {
			els[i] = NewEventListWriter(outs[i], opt.Batch)
			outs[i] = els[i]
		}
	}
	st, err := g.Write(ctx, outs, lim)
	for i, f := range files {
		if els[i] != nil {
			if cerr := els[i].Close(); cerr != nil && err == nil {
				err = fmt.Errorf("%s: %w", f.Name(), cerr)
			}
		}
		if zs[i] != nil {
			if cerr := zs[i].Close(); cerr != nil && err == nil {
				err = fmt.Errorf("compress %s: %w", f.Name(), cerr)
			}
		}
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", f.Name(), cerr)
		}
	}
	return st, err
}

// RotatedSet describes an apiserver-style rotated log set
// (--audit-log-path=DIR/audit.log with --audit-log-maxsize and
// --audit-log-compress): the live file, timestamped backups
// audit-2006-01-02T15-04-05.000.log named after the rotation time, and
// gzip-compressed backups (.log.gz).
type RotatedSet struct {
	Dir string
	// Base is the live file's name (audit.log when empty).
	Base string
	// MaxBytes is the size at which the live file is rotated.
	MaxBytes int64
	// Compress gzips every backup except the newest (as after the
	// apiserver's compression pass, before it reached the last rotation).
	Compress bool
}

// WriteRotated generates until lim into a rotated set and returns the
// paths written, oldest first (the live file last).
func (g *Generator) WriteRotated(ctx context.Context, rs RotatedSet, lim Limit) ([]string, Stats, error) {
	if lim.unbounded() {
		return nil, Stats{}, errors.New("generate: no limit (set events, bytes or an end time)")
	}
	if rs.MaxBytes <= 0 {
		return nil, Stats{}, errors.New("rotated set: MaxBytes must be positive")
	}
	base := rs.Base
	if base == "" {
		base = "audit.log"
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	live := filepath.Join(rs.Dir, base)
	var backups []string
	var st Stats
	st.PerNode = make([]int64, g.cfg.Nodes)
	f, err := os.Create(live)
	if err != nil {
		return nil, st, fmt.Errorf("create %s: %w", live, err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	var size int64
	until := int64(0)
	if !lim.Until.IsZero() {
		until = lim.Until.UnixNano()
	}
	for !(lim.Events > 0 && st.Events >= lim.Events || lim.Bytes > 0 && st.Bytes >= lim.Bytes) {
		rec := g.Next()
		if until != 0 && rec.Time >= until {
			break
		}
		if size > 0 && size+int64(len(rec.Line)) > rs.MaxBytes {
			if err := bw.Flush(); err != nil {
				f.Close()
				return nil, st, fmt.Errorf("write %s: %w", live, err)
			}
			if err := f.Close(); err != nil {
				return nil, st, fmt.Errorf("close %s: %w", live, err)
			}
			// The backup is named after the rotation time: the time of the
			// event that did not fit.
			backup := filepath.Join(rs.Dir, stem+"-"+time.Unix(0, rec.Time).UTC().Format("2006-01-02T15-04-05.000")+ext)
			if err := os.Rename(live, backup); err != nil {
				return nil, st, fmt.Errorf("rotate %s: %w", live, err)
			}
			backups = append(backups, backup)
			if f, err = os.Create(live); err != nil {
				return nil, st, fmt.Errorf("create %s: %w", live, err)
			}
			bw.Reset(f)
			size = 0
		}
		if _, err := bw.Write(rec.Line); err != nil {
			f.Close()
			return nil, st, fmt.Errorf("write %s: %w", live, err)
		}
		size += int64(len(rec.Line))
		if st.Events == 0 {
			st.First = time.Unix(0, rec.Time).UTC()
		}
		st.Last = time.Unix(0, rec.Time).UTC()
		st.Events++
		st.Bytes += int64(len(rec.Line))
		st.PerNode[rec.Node]++
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, st, fmt.Errorf("write %s: %w", live, err)
	}
	if err := f.Close(); err != nil {
		return nil, st, fmt.Errorf("close %s: %w", live, err)
	}
	if rs.Compress {
		for i := 0; i+1 < len(backups); i++ {
			gzName, err := gzipFile(backups[i])
			if err != nil {
				return nil, st, err
			}
			backups[i] = gzName
		}
	}
	return append(backups, live), st, nil
}

// gzipFile compresses path to path.gz and removes path.
func gzipFile(path string) (string, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer in.Close()
	outName := path + ".gz"
	out, err := os.Create(outName)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", outName, err)
	}
	zw := gzip.NewWriter(out)
	zw.Name = filepath.Base(path)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return "", fmt.Errorf("compress %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return "", fmt.Errorf("compress %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", outName, err)
	}
	if err := os.Remove(path); err != nil {
		return "", fmt.Errorf("remove %s: %w", path, err)
	}
	return outName, nil
}
