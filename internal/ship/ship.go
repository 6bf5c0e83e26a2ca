// Package ship is `audittui ship`: it tails the apiserver's audit log and
// delivers every line, at least once, to Loki and/or S3.
//
//	tail (fsnotify + polling, rotation, checkpoints)
//	  -> process (add keys, remove keys, redact Secrets, extract fields)
//	  -> every sink (Loki push, S3 chunks in Store_dir)
//	  -> acknowledgements, in order -> checkpoint
//
// The checkpoint moves past a line only when every sink has acknowledged
// it. Memory is bounded by Mem_Buf_Limit (bytes read but not yet
// acknowledged) and the S3 disk buffer by Store_dir_limit_size; when either
// is full, reading stops and the audit file is the buffer.
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
	// without sending, and without reading or writing checkpoints.
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

// Run ships until ctx ends, then flushes within the grace period, saves the
// checkpoint and returns nil. It returns an error when a sink fails
// permanently (for example the dead-letter file cannot be written).
func Run(ctx context.Context, o Options) error {
	c := o.Config
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return err
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
		return err
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
			return fmt.Errorf("option Redact_key_file: %w", err)
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
	saved, err := store.Load()
	if err != nil {
		return err
	}
	var start *checkpoint.Position
	var tailStart *tail.Position
	if p, ok := saved[c.Path]; ok {
		start, tailStart = &p, &p.Position
		lg.Info("resuming from checkpoint", "path", p.Path, "offset", p.Offset, "id", p.ID.String())
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
		// Keep the Go heap near what the budget allows: Mem_Buf_Limit plus
		// room for push buffers and the runtime (GOMEMLIMIT overrides).
		limit := int64(c.MemBufLimit) + 16<<20
		debug.SetMemoryLimit(limit)
		lg.Debug("memory limit set", "bytes", limit)
		if os.Getenv("GOGC") == "" {
			// With the heap capped by the limit, collect less often below
			// it: most allocations are short-lived batch buffers.
			debug.SetGCPercent(400)
		}
	}
	budget := pipe.NewBudget(int64(c.MemBufLimit))
	budget.OnBlock = m.Blocked
	m.BufferLimit.WithLabelValues("memory").Set(float64(c.MemBufLimit))
	tr := newTracker(len(sinks), budget, m, start)

	// Sinks run on their own context: after ctx ends they get the grace
	// period to flush.
	sinkCtx, cancelSinks := context.WithCancel(context.Background())
	defer cancelSinks()
	chans := make([]chan *pipe.Batch, len(sinks))
	sinkErr := make(chan error, len(sinks))
	var wg sync.WaitGroup
	for i, s := range sinks {
		chans[i] = make(chan *pipe.Batch, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(sinkCtx, chans[i], tr.ack)
			if err != nil && sinkCtx.Err() == nil {
				sinkErr <- fmt.Errorf("%s sink: %w", s.Name(), err)
			}
		}()
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	// A failing sink stops reading.
	var fatal error
	var fatalOnce sync.Once
	go func() {
		select {
		case err := <-sinkErr:
			fatalOnce.Do(func() { fatal = err })
			lg.Error("sink failed; stopping", "err", err)
			stopRun()
		case <-runCtx.Done():
		}
	}()

	// Checkpoint saver.
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
				if err := tr.save(store, c.Path); err != nil {
					lg.Error("save checkpoint", "err", err)
				}
			}
		}
	}()

	overflow, err := os.OpenFile(filepath.Join(c.StateDir, "overlong-lines.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open overflow file: %w", err)
	}
	defer overflow.Close()

	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	rd := &reader{budget: budget, m: m, tr: tr, chans: chans, extra: 16,
		procs: make(chan *process.Processor, workers), queue: make(chan *job, workers*2)}
	for range workers {
		rd.procs <- process.New(procOpts)
	}
	for _, kv := range procOpts.Add {
		rd.extra += len(kv.Key) + len(kv.Value) + 8
	}
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); rd.dispatch(sinkCtx) }()
	tl := tail.New(tail.Options{
		Path: c.Path, Refresh: c.RefreshInterval.D(), MaxLine: int(c.MaxLineSize), Start: tailStart,
		LongLines: overflow, OnLongLine: func(string, int64, int64) { m.LinesTooLong.Inc() },
		Logger: lg, NoNotify: o.NoNotify, ReadSize: o.ReadSize,
		OnOpen: func(p tail.Position) {
			// Without a checkpoint, the first file opened becomes one at
			// once: a crash before the first delivery followed by a
			// rotation then still finds it.
			if tr.opened(p) {
				if err := tr.save(store, c.Path); err != nil {
					lg.Error("save checkpoint", "err", err)
				}
			}
		},
	})
	m.SetReady(true)
	lg.Info("shipping", "path", c.Path, "sinks", sinkNames(sinks), "state_dir", c.StateDir, "build", buildinfo.Get())
	tailErr := tl.Run(runCtx, rd.emit)
	m.SetReady(false)
	if tailErr != nil && !errors.Is(tailErr, context.Canceled) {
		lg.Error("tailer stopped", "err", tailErr)
	}

	// Flush: no more batches; sinks deliver what they hold within the
	// grace period.
	close(rd.queue)
	graceEnd := time.AfterFunc(c.GracePeriod.D(), cancelSinks)
	<-dispatched
	graceEnd.Stop()
	for _, ch := range chans {
		close(ch)
	}
	flushed := make(chan struct{})
	go func() { wg.Wait(); close(flushed) }()
	grace := time.NewTimer(c.GracePeriod.D())
	select {
	case <-flushed:
		grace.Stop()
	case <-grace.C:
		lg.Warn("grace period over; unacknowledged lines will be read again on restart", "grace", c.GracePeriod.D())
		cancelSinks()
		<-flushed
	}
	stopRun()
	<-saveDone
	if err := tr.save(store, c.Path); err != nil {
		return err
	}
	pos, _ := tr.position()
	lg.Info("stopped", "checkpoint_path", pos.Path, "checkpoint_offset", pos.Offset)
	if fatal != nil {
		return fatal
	}
	select {
	case err := <-sinkErr:
		return err
	default:
	}
	if tailErr != nil && !errors.Is(tailErr, context.Canceled) {
		return tailErr
	}
	return nil
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
	budget *pipe.Budget
	m      *metrics.Metrics
	tr     *tracker
	chans  []chan *pipe.Batch
	seq    uint64
	extra  int // bytes the processor may add per line
	procs  chan *process.Processor
	queue  chan *job
}

type job struct {
	b    *pipe.Batch
	done chan struct{}
}

func (r *reader) emit(ctx context.Context, ch tail.Chunk) error {
	// Raw bytes, rewritten lines and records: an upper-bound estimate
	// taken before processing so reading stops before memory is used.
	n := bytes.Count(ch.Data, []byte{'\n'})
	est := 2*int64(len(ch.Data)) + int64(n)*(int64(r.extra)+160)
	if err := r.budget.Acquire(ctx, est); err != nil {
		return err
	}
	r.m.BufferBytes.WithLabelValues("memory").Set(float64(r.budget.Used()))
	r.seq++
	j := &job{done: make(chan struct{})}
	select {
	case r.queue <- j:
	case <-ctx.Done():
		r.budget.Release(est)
		return ctx.Err()
	}
	seq := r.seq
	p := <-r.procs
	go func() {
		b := r.process(p, ch, n)
		r.procs <- p
		b.Seq, b.Bytes = seq, est
		j.b = b
		close(j.done)
	}()
	return nil
}

// dispatch hands processed batches to every sink in read order. It stops
// when the queue is closed and drained, or ctx (the sinks' context) ends.
func (r *reader) dispatch(ctx context.Context) {
	for j := range r.queue {
		<-j.done
		r.tr.add(j.b)
		for _, c := range r.chans {
			select {
			case c <- j.b:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (r *reader) process(p *process.Processor, ch tail.Chunk, n int) *pipe.Batch {
	b := &pipe.Batch{End: ch.End}
	data := ch.Data
	b.Records = make([]process.Record, 0, n)
	// Room for every line rewritten plus added keys, so out never grows
	// (growing would copy everything processed so far).
	out := make([]byte, 0, len(data)+n*r.extra+1024)
	var lines, unparsed, redacted int
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
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
	}
	r.m.LinesRead.Add(float64(lines))
	r.m.BytesRead.Add(float64(len(ch.Data)))
	if unparsed > 0 {
		r.m.LinesUnparsed.Add(float64(unparsed))
	}
	if redacted > 0 {
		r.m.Redacted.Add(float64(redacted))
	}
	return b
}

// tracker collects acknowledgements and moves the checkpoint over batches
// every sink has acknowledged, in order.
type tracker struct {
	mu        sync.Mutex
	nsinks    int
	remaining map[uint64]int
	batches   map[uint64]*pipe.Batch
	next      uint64
	pos       checkpoint.Position
	havePos   bool
	dirty     bool
	budget    *pipe.Budget
	m         *metrics.Metrics
}

func newTracker(nsinks int, b *pipe.Budget, m *metrics.Metrics, start *checkpoint.Position) *tracker {
	t := &tracker{nsinks: nsinks, remaining: map[uint64]int{}, batches: map[uint64]*pipe.Batch{}, next: 1, budget: b, m: m}
	if start != nil {
		t.pos, t.havePos = *start, true
	}
	return t
}

func (t *tracker) add(b *pipe.Batch) {
	t.mu.Lock()
	t.remaining[b.Seq] = t.nsinks
	t.batches[b.Seq] = b
	t.mu.Unlock()
}

func (t *tracker) ack(b *pipe.Batch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remaining[b.Seq]--
	if t.remaining[b.Seq] > 0 {
		return
	}
	t.budget.Release(b.Bytes)
	t.m.BufferBytes.WithLabelValues("memory").Set(float64(t.budget.Used()))
	for {
		r, ok := t.remaining[t.next]
		if !ok || r > 0 {
			return
		}
		done := t.batches[t.next]
		delete(t.remaining, t.next)
		delete(t.batches, t.next)
		t.next++
		t.pos, t.havePos, t.dirty = checkpoint.Position{Position: done.End, EventTime: done.LastTime}, true, true
		t.m.Acked(done.LastTime)
	}
}

// opened records the first file's start when there is no position yet.
func (t *tracker) opened(p tail.Position) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.havePos {
		return false
	}
	t.pos, t.havePos, t.dirty = checkpoint.Position{Position: p}, true, true
	return true
}

func (t *tracker) position() (checkpoint.Position, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos, t.havePos
}

func (t *tracker) save(store *checkpoint.Store, key string) error {
	t.mu.Lock()
	if !t.dirty {
		t.mu.Unlock()
		return nil
	}
	pos := t.pos
	pos.Updated = time.Now().UTC()
	t.dirty = false
	t.mu.Unlock()
	if err := store.Save(map[string]checkpoint.Position{key: pos}); err != nil {
		t.mu.Lock()
		t.dirty = true
		t.mu.Unlock()
		return err
	}
	t.m.Saved(time.Now())
	return nil
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
			return err
		}
	}
	var format *s3key.Format
	if c.S3 != nil {
		var err error
		format, err = s3key.Parse(c.S3.KeyFormat, s3key.ParseOptions{LookupEnv: o.Getenv})
		if err != nil {
			return fmt.Errorf("option S3.S3_key_format: %w", err)
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
	tl := tail.New(tail.Options{Path: c.Path, Once: true, MaxLine: int(c.MaxLineSize), Logger: lg, NoNotify: true})
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
