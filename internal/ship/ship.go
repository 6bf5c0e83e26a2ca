// Package ship is `audittui ship`: it tails the apiserver's audit log and
// delivers every line, at least once, to Loki and/or S3.
//
//	tail (internal/tail: fsnotify + polling, rotation, copytruncate)
//	  -> process (add keys, remove keys, redact Secrets, extract fields)
//	  -> every sink (Loki push, S3 chunks in Store_dir)
//	  -> acknowledgements, in order, per sink -> checkpoint
//
// The checkpoint moves past a line only when every sink has acknowledged
// it; each sink's own progress is written with it after each of its
// acknowledgements, so after a crash a sink re-sends at most the batch it
// had in flight (tracker.go). Memory is bounded by Mem_Buf_Limit (bytes
// read but not yet acknowledged; a line longer than 1 MiB is spooled to
// State_dir/spool and held in memory once, to be processed) and the disk
// buffers (S3's Store_dir, the optional Loki.Store_dir) by their
// Store_dir_limit_size; when one is full, reading stops
// and the audit file is the buffer. Every stage that waits counts in the
// backpressure gauge; /readyz fails when a sink stalls or the checkpoint
// cannot be written.
package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/ship/checkpoint"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/lokisink"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/tail"
)

// Options configure Run.
type Options struct {
	// Config is applied-defaults and validated by Run.
	Config *config.Config
	// DryRun reads the file once and prints what would be sent to Out,
	// without sending, and without reading or writing checkpoints. It
	// needs no sink.
	DryRun bool
	Out    io.Writer
	Logger *slog.Logger
	// Metrics, when nil, are created.
	Metrics *metrics.Metrics
	// Sinks replace the sinks built from Config (tests).
	Sinks []pipe.Sink
	// Getenv resolves LOKI_* and ${ENV}; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// MetricsBound is told the metrics listener's address.
	MetricsBound func(addr string)
	// NoNotify disables fsnotify (polling only).
	NoNotify bool
	// ReadSize overrides the tailer's read size (benchmarks).
	ReadSize int
}

// ConfigError is a problem with the configuration (the CLI exits 2 for
// it). Every other error Run returns is a failure at run time.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}

// Sizes derived from Mem_Buf_Limit: reads (at most half of Loki's
// Batch_size, so a push, which a crash may re-send, stays within
// Batch_size), and the length above which a line is spooled to disk while
// it is read (at least Loki.Max_line_size, so the Loki sink only ever
// pushes lines held in memory).
func readSize(c *config.Config) int {
	n := min(max(int64(c.MemBufLimit)/16, 4<<10), 256<<10)
	if c.Loki != nil {
		n = min(n, max(int64(c.Loki.BatchSize)/2, 4<<10))
	}
	return int(n)
}

func spoolLine(c *config.Config) int {
	n := min(int64(1<<20), int64(c.MemBufLimit)/8)
	if c.Loki != nil {
		n = max(n, int64(c.Loki.MaxLineSize))
	}
	return int(n)
}

// Run ships until ctx ends, then flushes within the grace period, saves the
// checkpoint and returns nil. It returns an error when ship cannot go on
// (a sink fails permanently, the disk is full): the first failure, the
// root cause; what failed after it is logged.
func Run(ctx context.Context, o Options) error {
	c := o.Config
	c.ApplyDefaults()
	validate := c.Validate
	if o.DryRun || o.Sinks != nil {
		validate = c.ValidateDryRun
	}
	if err := validate(); err != nil {
		return configErr(err)
	}
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.LookupEnv
	}
	m := o.Metrics
	if m == nil {
		m = metrics.New()
	}

	fields, labelNames, mdNames, err := fieldPlan(c)
	if err != nil {
		return configErr(err)
	}
	procOpts := process.Options{RemoveKeys: *c.RemoveKeys, Redact: *c.Redact, Fields: fields}
	if c.Cluster != "" {
		procOpts.Add = append(procOpts.Add, process.KV{Key: "cluster", Value: c.Cluster})
	}
	for _, a := range c.Add {
		procOpts.Add = append(procOpts.Add, process.KV{Key: a.Name, Value: a.Value})
	}
	if c.RedactKeyFile != "" {
		k, err := os.ReadFile(c.RedactKeyFile)
		if err != nil {
			return configErr(fmt.Errorf("option Redact_key_file: %w", err))
		}
		procOpts.RedactKey = bytes.TrimSpace(k)
	}

	if o.DryRun {
		return dryRun(ctx, o, c, procOpts, labelNames, lg)
	}

	sinks := o.Sinks
	if sinks == nil {
		sinks, err = buildSinks(ctx, c, labelNames, mdNames, m, lg, o.Getenv)
		if err != nil {
			return err
		}
	}
	store, err := checkpoint.New(c.StateDir)
	if err != nil {
		return err
	}
	state, err := store.LoadState()
	if err != nil {
		return err
	}
	reportStopLoss(c.StateDir, m, lg)
	for _, w := range StartWarnings(c) {
		lg.Warn(w)
	}
	var tailStart *tail.Position
	if p, ok := state.Checkpoints[c.Path]; ok {
		tp := p.Position
		if tp.ModTime == 0 {
			// A checkpoint written before positions carried the file's
			// time: every backup modified after the last delivered
			// event was written is newer than the checkpointed file.
			tp.ModTime = p.EventTime
		}
		tailStart = &tp
		lg.Info("resuming from checkpoint", "path", p.Path, "offset", p.Offset, "id", p.ID.String())
	}
	spoolDir := filepath.Join(c.StateDir, "spool")
	if err := os.MkdirAll(spoolDir, 0o750); err != nil {
		return fmt.Errorf("create spool directory: %w", err)
	}

	if c.MetricsAddr != "" {
		mctx, mcancel := context.WithCancel(context.Background())
		defer mcancel()
		errc := make(chan error, 1)
		bound := make(chan struct{})
		go func() {
			errc <- m.Serve(mctx, c.MetricsAddr, lg, func(a string) {
				if o.MetricsBound != nil {
					o.MetricsBound(a)
				}
				close(bound)
			})
		}()
		select {
		case err := <-errc:
			return err
		case <-bound:
		}
	}

	if os.Getenv("GOMEMLIMIT") == "" {
		// Keep ship's resident memory within Mem_Buf_Limit + 16 MiB: the
		// Go limit (Mem_Buf_Limit + 12 MiB, room for push buffers and the
		// runtime) leaves 4 MiB for what it does not count or returns to
		// the OS late (at exactly +16 MiB, the huge-lines fault test
		// peaked at 33.3 MiB against its 32 under load). GOMEMLIMIT
		// overrides. A gzip S3 sink adds its part buffer
		// (Upload_chunk_size): chunks are compressed in memory while
		// they are uploaded, never into a second file on the disk.
		limit := int64(c.MemBufLimit) + 12<<20
		if c.S3 != nil && c.S3.Compression == "gzip" {
			limit += int64(c.S3.UploadChunkSize)
		}
		debug.SetMemoryLimit(limit)
		lg.Debug("memory limit set", "bytes", limit)
		if os.Getenv("GOGC") == "" {
			// With the heap capped by the limit, collect less often below
			// it: most allocations are short-lived batch buffers.
			debug.SetGCPercent(400)
		}
	}
	heapCtx, stopHeap := context.WithCancel(ctx) // until Run returns
	defer stopHeap()
	m.TrackHeap(heapCtx)
	budget := pipe.NewBudget(int64(c.MemBufLimit))
	budget.OnBlock = m.Blocked
	m.BufferLimit.WithLabelValues("memory").Set(float64(c.MemBufLimit))
	finder := tail.Standard
	if len(c.RotatedPath) > 0 {
		finder = tail.Combine(tail.Standard, tail.Glob(c.RotatedPath...))
	}
	tr := newTracker(sinkNames(sinks), budget, m, store, c.Path, state, &files{path: c.Path, finder: finder}, lg)

	// The first failure stops ship; it is what Run returns.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var root error
	var rootOnce sync.Once
	fail := func(err error) {
		rootOnce.Do(func() {
			root = err
			lg.Error("stopping", "err", err)
		})
		stopRun()
	}

	// Sinks run on their own context: after ctx ends they get the grace
	// period to flush.
	sinkCtx, cancelSinks := context.WithCancel(context.Background())
	defer cancelSinks()
	chans := make([]chan *pipe.Batch, len(sinks))
	var wg sync.WaitGroup
	for i, s := range sinks {
		chans[i] = make(chan *pipe.Batch, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(sinkCtx, chans[i], tr.ackFor(i))
			if err != nil && sinkCtx.Err() == nil {
				fail(fmt.Errorf("%s sink: %w", s.Name(), err))
			}
		}()
	}

	// The checkpoint is written after every acknowledgement; it is made
	// durable every Checkpoint_interval.
	saveDone := make(chan struct{})
	go func() {
		defer close(saveDone)
		t := time.NewTicker(c.CheckpointInterval.D())
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				tr.sync()
			}
		}
	}()

	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	rd := &reader{budget: budget, m: m, tr: tr, chans: chans, extra: 16, spoolDir: spoolDir, fail: fail, lg: lg,
		procs: make(chan *process.Processor, workers), queue: make(chan *job, workers*2)}
	for range workers {
		rd.procs <- process.New(procOpts)
	}
	for _, kv := range procOpts.Add {
		rd.extra += len(kv.Key) + len(kv.Value) + 8
	}
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); rd.dispatch(sinkCtx) }()
	rs := readSize(c)
	if o.ReadSize > 0 {
		rs = o.ReadSize
	}
	ov := &overflow{path: filepath.Join(c.StateDir, "overlong-lines.jsonl"), limit: int64(c.OverlongLimit), m: m, lg: lg}
	// What the tailer finds lost as it stops (stoploss.go).
	var atStop stopLosses
	tl := tail.New(tail.Options{
		Path: c.Path, Refresh: c.RefreshInterval.D(), MaxLine: int(c.MaxLineSize), Start: tailStart,
		SpoolDir: spoolDir, SpoolLine: spoolLine(c), Backups: finder,
		LongLines: ov, OnLongLine: func(string, int64, int64) { m.LinesTooLong.Inc() },
		OnGap: func(tail.Gap) {
			m.GapFiles.Inc()
			if runCtx.Err() != nil {
				atStop.gap()
			}
		},
		OnUnrecoverable: func(_ string, n int64) {
			m.Unrecoverable.Add(float64(n))
			if runCtx.Err() != nil {
				atStop.bytes(n)
			}
		},
		Logger: lg, NoNotify: o.NoNotify, ReadSize: rs,
		// Without a checkpoint, the first file opened becomes one at once:
		// a crash before the first delivery followed by a rotation then
		// still finds it.
		OnOpen: tr.opened,
	})
	m.SetLag(func() int64 { return tl.Lag() + tr.inFlight() })
	timeout := c.ReadyAckTimeout.D()
	m.SetReadyCheck(func() error {
		errs := []error{tr.health(timeout)}
		for _, s := range sinks {
			if h, ok := s.(pipe.Health); ok {
				errs = append(errs, h.Stalled(time.Now(), timeout))
			}
		}
		return errors.Join(errs...)
	})
	m.SetReady(true)
	lg.Info("shipping", "path", c.Path, "sinks", sinkNames(sinks), "state_dir", c.StateDir, "build", buildinfo.Get())
	if err := tl.Run(runCtx, rd.emit); err != nil && !errors.Is(err, context.Canceled) {
		fail(fmt.Errorf("reading %s: %w", c.Path, err))
	}
	if l := atStop.get(); l.Files > 0 || l.Bytes > 0 {
		l.StoppedAt = time.Now()
		if err := saveStopLoss(c.StateDir, l); err != nil {
			lg.Error("cannot record what this stop lost for the next start", "err", err)
		}
	}
	m.SetReady(false)

	// Flush: no more batches; the sinks get what was read and deliver
	// it. Both steps share one grace period (kubelet's SIGKILL comes
	// terminationGracePeriodSeconds after SIGTERM, whatever the step):
	// when it ends, the sinks are stopped.
	close(rd.queue)
	deadline := time.Now().Add(c.GracePeriod.D())
	for _, s := range sinks {
		if sb, ok := s.(pipe.StopBy); ok {
			sb.StopBy(deadline)
		}
	}
	graceOver := make(chan struct{})
	graceEnd := time.AfterFunc(time.Until(deadline), func() {
		close(graceOver)
		cancelSinks()
	})
	<-dispatched
	for _, ch := range chans {
		close(ch)
	}
	flushed := make(chan struct{})
	go func() { wg.Wait(); close(flushed) }()
	select {
	case <-flushed:
	case <-graceOver:
		<-flushed
	}
	if !graceEnd.Stop() {
		// Exactly what is left: per sink, the lines it was handed and
		// did not acknowledge; the file bytes after the checkpoint.
		l := tr.unacked()
		attrs := []any{"grace", c.GracePeriod.D(), "unacknowledged_bytes", l.raw}
		for i, s := range sinks {
			attrs = append(attrs, "unacknowledged_lines_"+s.Name(), l.lines[i])
		}
		if l.ok {
			attrs = append(attrs, "read_again_from", l.from.Path, "read_again_from_offset", l.from.Offset)
		}
		lg.Warn("grace period over; unacknowledged lines will be read again on restart", attrs...)
	}
	stopRun()
	<-saveDone
	if err := tr.sync(); err != nil {
		if root == nil {
			return fmt.Errorf("save the checkpoint: %w", err)
		}
		lg.Error("save the checkpoint after the failure", "err", err)
	}
	pos, _ := tr.position()
	lg.Info("stopped", "checkpoint_path", pos.Path, "checkpoint_offset", pos.Offset)
	return root
}

func sinkNames(s []pipe.Sink) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Name())
	}
	return out
}

// fieldPlan returns the JSON paths to extract (label keys then structured
// metadata keys) and their label names.
func fieldPlan(c *config.Config) (fields [][]string, labels, md []string, err error) {
	if c.Loki == nil {
		return nil, nil, nil, nil
	}
	for _, k := range c.Loki.LabelKeys {
		p, name, err := config.ParseFieldKey(k)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("option Loki.Label_keys: %w", err)
		}
		fields = append(fields, p)
		labels = append(labels, name)
	}
	for _, k := range c.Loki.StructuredMetadataKeys {
		p, name, err := config.ParseFieldKey(k)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("option Loki.Structured_metadata_keys: %w", err)
		}
		fields = append(fields, p)
		md = append(md, name)
	}
	return fields, labels, md, nil
}

// staticLabels returns job=audit, cluster and the configured labels.
func staticLabels(c *config.Config) data.Labels {
	var ls data.Labels
	has := map[string]bool{}
	for _, l := range c.Loki.Labels {
		has[l.Name] = true
	}
	if !has["job"] {
		ls = append(ls, data.Label{Name: "job", Value: "audit"})
	}
	if !has["cluster"] && c.Cluster != "" {
		ls = append(ls, data.Label{Name: "cluster", Value: c.Cluster})
	}
	for _, l := range c.Loki.Labels {
		ls = append(ls, data.Label{Name: l.Name, Value: l.Value})
	}
	return ls
}

// reader turns tailer chunks into batches: chunks are processed in
// parallel (one Processor per worker) and handed to the sinks in read
// order by dispatch.
type reader struct {
	budget   *pipe.Budget
	m        *metrics.Metrics
	tr       *tracker
	chans    []chan *pipe.Batch
	seq      uint64
	extra    int // bytes the processor may add per line
	procs    chan *process.Processor
	queue    chan *job
	spoolDir string
	fail     func(error)
	lg       *slog.Logger
}

type job struct {
	b    *pipe.Batch
	err  error
	done chan struct{}
}

// spoolOverhead is the memory a spooled line's batch keeps after
// processing (its record; the line is on disk).
const spoolOverhead = 4 << 10

func (r *reader) emit(ctx context.Context, ch tail.Chunk) error {
	raw := ch.End.Offset - ch.Start
	// Raw bytes, rewritten lines and records: an upper-bound estimate
	// taken before processing so reading stops before memory is used. A
	// spooled line is read into memory once to be processed.
	var n int
	var est int64
	if ch.Spool != nil {
		est = ch.Spool.Size + spoolOverhead
	} else {
		n = bytes.Count(ch.Data, []byte{'\n'})
		est = 2*int64(len(ch.Data)) + int64(n)*(int64(r.extra)+160)
	}
	r.tr.handed(raw)
	got, err := r.budget.Acquire(ctx, est)
	if err != nil {
		r.tr.handed(-raw)
		closeSpool(ch)
		return err
	}
	r.m.BufferBytes.WithLabelValues("memory").Set(float64(r.budget.Used()))
	r.seq++
	j := &job{done: make(chan struct{})}
	if err := send(ctx, r.m, r.queue, j); err != nil {
		r.budget.Release(got)
		r.tr.handed(-raw)
		closeSpool(ch)
		return err
	}
	seq := r.seq
	p := <-r.procs
	go func() {
		var b *pipe.Batch
		var err error
		if ch.Spool != nil {
			b, err = r.processSpool(p, ch)
		} else {
			b = r.process(p, ch, n)
		}
		r.procs <- p
		if b != nil {
			b.Seq, b.Bytes, b.Raw = seq, got, raw
			if ch.Spool != nil && got > spoolOverhead {
				// The line is on disk now.
				r.budget.Release(got - spoolOverhead)
				b.Bytes = spoolOverhead
			}
		} else {
			r.budget.Release(got)
		}
		j.b, j.err = b, err
		close(j.done)
	}()
	return nil
}

func closeSpool(ch tail.Chunk) {
	if ch.Spool != nil {
		ch.Spool.File.Close()
	}
}

// send puts v on c, counting the wait as backpressure when c is full.
func send[T any](ctx context.Context, m *metrics.Metrics, c chan<- T, v T) error {
	select {
	case c <- v:
		return nil
	default:
	}
	m.Blocked(true)
	defer m.Blocked(false)
	select {
	case c <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dispatch hands processed batches to every sink in read order (each sink
// gets what it had not delivered before a restart). It stops when the
// queue is closed and drained, or ctx (the sinks' context) ends.
func (r *reader) dispatch(ctx context.Context) {
	failed := false
	for j := range r.queue {
		<-j.done
		if failed || j.err != nil {
			if j.err != nil && !failed {
				r.fail(j.err)
			}
			failed = true
			if j.b != nil {
				r.budget.Release(j.b.Bytes)
				j.b.Release()
			}
			continue
		}
		routes := r.tr.route(j.b)
		for i, c := range r.chans {
			if routes[i] == nil {
				continue
			}
			if send(ctx, r.m, c, routes[i]) != nil {
				return
			}
		}
	}
}

func (r *reader) process(p *process.Processor, ch tail.Chunk, n int) *pipe.Batch {
	b := &pipe.Batch{End: ch.End}
	data := ch.Data
	b.Records = make([]process.Record, 0, n)
	b.Ends = make([]int64, 0, n)
	// Room for every line rewritten plus added keys, so out never grows
	// (growing would copy everything processed so far).
	out := make([]byte, 0, len(data)+n*r.extra+1024)
	var lines, unparsed, redacted int
	off := ch.Start
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		off += int64(i) + 1
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		lines++
		rec, o := p.Process(out, line)
		// When out grows into a new array, earlier records keep pointing
		// into the old one, which stays alive through them.
		out = o
		if rec.Unparsed {
			unparsed++
		}
		redacted += rec.Redacted
		b.LineBytes += int64(len(rec.Line))
		if rec.Time > b.LastTime {
			b.LastTime = rec.Time
		}
		b.Records = append(b.Records, rec)
		b.Ends = append(b.Ends, min(off, ch.End.Offset))
	}
	r.count(lines, unparsed, redacted, int64(len(ch.Data)))
	return b
}

func (r *reader) count(lines, unparsed, redacted int, raw int64) {
	r.m.LinesRead.Add(float64(lines))
	r.m.BytesRead.Add(float64(raw))
	if unparsed > 0 {
		r.m.LinesUnparsed.Add(float64(unparsed))
	}
	if redacted > 0 {
		r.m.Redacted.Add(float64(redacted))
	}
}

// processSpool processes a spooled line: read into memory once (the
// budget holds room for it), written processed to a new spool file.
func (r *reader) processSpool(p *process.Processor, ch tail.Chunk) (*pipe.Batch, error) {
	in := ch.Spool
	defer in.File.Close()
	line := make([]byte, in.Size)
	if _, err := in.File.ReadAt(line, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read a spooled line: %w", err)
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	b := &pipe.Batch{End: ch.End}
	if len(bytes.TrimSpace(line)) == 0 {
		return b, nil
	}
	out, err := os.CreateTemp(r.spoolDir, "out-*.spool")
	if err != nil {
		// No spool (State_dir unwritable): the processed line is held in
		// memory, once more than the budget accounts for.
		r.lg.Warn("cannot spool a long line; holding it in memory", "err", err)
		var buf bytes.Buffer
		rec, _, _ := p.ProcessTo(&buf, line)
		rec.Line = buf.Bytes()
		b.Records, b.Ends = []process.Record{rec}, []int64{ch.End.Offset}
		b.LineBytes, b.LastTime = int64(buf.Len()), rec.Time
		r.count(1, btoi(rec.Unparsed), rec.Redacted, in.Size)
		return b, nil
	}
	os.Remove(out.Name())
	rec, n, err := p.ProcessTo(out, line)
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("spool a long line: %w", err)
	}
	if in.Size >= r.budget.Limit()/8 {
		// A copy of a line this long is a large part of the budget: give
		// it back now rather than when the heap next grows, so two are
		// never resident at once.
		line = nil
		debug.FreeOSMemory()
	}
	rec.Spool, rec.SpoolSize = out, n
	b.Records = []process.Record{rec}
	b.Ends = []int64{ch.End.Offset}
	b.LineBytes, b.LastTime = n, rec.Time
	b.Closers = []io.Closer{out}
	r.count(1, btoi(rec.Unparsed), rec.Redacted, in.Size)
	return b, nil
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// dryRun prints what would be sent, one JSON object per line (strings are
// JSON-escaped, so event text never reaches the terminal raw).
func dryRun(ctx context.Context, o Options, c *config.Config, po process.Options, labelNames []string, lg *slog.Logger) error {
	out := o.Out
	if out == nil {
		out = os.Stdout
	}
	var ls *lokisink.Sink
	if c.Loki != nil {
		var err error
		ls, err = lokisink.New(lokisink.Options{Client: nopClient(), Static: staticLabels(c), LabelNames: labelNames, Logger: lg})
		if err != nil {
			return configErr(err)
		}
	}
	var format *s3key.Format
	if c.S3 != nil {
		var err error
		format, err = s3key.Parse(c.S3.KeyFormat, s3key.ParseOptions{LookupEnv: o.Getenv})
		if err != nil {
			return configErr(fmt.Errorf("option S3.S3_key_format: %w", err))
		}
	}
	proc := process.New(po)
	enc := json.NewEncoder(out)
	type line struct {
		Loki   string `json:"loki_stream,omitempty"`
		S3Key  string `json:"s3_key,omitempty"`
		Time   string `json:"ts"`
		Line   string `json:"line"`
		Parsed bool   `json:"json"`
	}
	tl := tail.New(tail.Options{Path: c.Path, Once: true, MaxLine: int(c.MaxLineSize), Logger: lg, NoNotify: true,
		OnLongLine: func(path string, off, size int64) {
			lg.Warn("line longer than Max_line_size: ship would write it to the overflow file", "path", path, "offset", off, "bytes", size)
		}})
	return tl.Run(ctx, func(ctx context.Context, ch tail.Chunk) error {
		for _, raw := range bytes.Split(bytes.TrimSuffix(ch.Data, []byte{'\n'}), []byte{'\n'}) {
			if len(bytes.TrimSpace(raw)) == 0 {
				continue
			}
			rec, _ := proc.Process(nil, raw)
			l := line{Time: time.Unix(0, rec.Time).UTC().Format(time.RFC3339Nano), Line: string(rec.Line), Parsed: !rec.Unparsed}
			if ls != nil {
				l.Loki = formatLabels(ls.Labels(&rec))
			}
			if format != nil {
				l.S3Key = format.Render(time.Unix(0, rec.Time), s3key.Vars{UUID: "$UUID"})
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	})
}
