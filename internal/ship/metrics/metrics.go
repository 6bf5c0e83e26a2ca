// Package metrics defines ship's Prometheus metrics and its HTTP endpoints
// (/metrics, /healthz, /readyz). Every metric lives on the registry passed
// in: no global state.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/audittui/audittui/internal/buildinfo"
)

const ns = "audittui_ship"

// Metrics are ship's instruments.
type Metrics struct {
	Reg *prometheus.Registry

	LinesRead     prometheus.Counter
	BytesRead     prometheus.Counter
	LinesUnparsed prometheus.Counter
	LinesTooLong  prometheus.Counter
	Redacted      prometheus.Counter

	SinkSentLines *prometheus.CounterVec
	SinkSentBytes *prometheus.CounterVec
	SinkRetries   *prometheus.CounterVec
	SinkDeadLines *prometheus.CounterVec
	// DeadLetterDropped counts refused lines not written to the full
	// dead-letter file.
	DeadLetterDropped *prometheus.CounterVec
	SinkErrors        *prometheus.CounterVec
	SinkPending       *prometheus.GaugeVec
	BufferBytes       *prometheus.GaugeVec
	BufferLimit       *prometheus.GaugeVec
	Backpressure      prometheus.Gauge
	BackpressureS     prometheus.Counter
	LokiStreams       prometheus.Gauge
	CheckpointSave    prometheus.Counter
	// CheckpointErrors counts checkpoint writes that failed.
	CheckpointErrors prometheus.Counter
	// LastAck is the time of each sink's last acknowledgement.
	LastAck *prometheus.GaugeVec
	// Unrecoverable counts bytes seen in a file that could not be read
	// (truncated before they were read, in no copy); GapFiles counts files
	// gone before they were read to their end.
	Unrecoverable prometheus.Counter
	GapFiles      prometheus.Counter
	// OverlongDropped / OverlongDroppedBytes count over-long lines that did
	// not fit in the overflow file.
	OverlongDropped      prometheus.Counter
	OverlongDroppedBytes prometheus.Counter
	// StoreSegments counts a sink's segment files in its disk buffer
	// (Loki.Store_dir); StoreFull is 1 while that buffer is full and the
	// sink acknowledges nothing (reading pauses).
	StoreSegments *prometheus.GaugeVec
	StoreFull     *prometheus.GaugeVec
	// StoreDamaged counts the bytes of a sink's disk buffer cut off at a
	// record that fails its checksum (acknowledged lines that sink never
	// gets).
	StoreDamaged *prometheus.CounterVec

	lastSave  atomic.Int64 // unix ns
	lastEvent atomic.Int64 // unix ns of the last acknowledged event
	ready     atomic.Bool
	blockMu   sync.Mutex
	blocked   int // stages currently waiting on a full buffer or a slower stage
	blockedAt time.Time

	hookMu sync.Mutex
	lag    func() int64
	check  func() error

	heapPeak atomic.Int64 // bytes, see heap.go
}

// New registers ship's metrics on a fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{Reg: r}
	f := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help})
		r.MustRegister(c)
		return c
	}
	cv := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, []string{"sink"})
		r.MustRegister(c)
		return c
	}
	gv := func(name, help, label string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, []string{label})
		r.MustRegister(g)
		return g
	}
	m.LinesRead = f("lines_read_total", "Lines read from the audit log.")
	m.BytesRead = f("bytes_read_total", "Bytes read from the audit log.")
	m.LinesUnparsed = f("lines_unparsed_total", "Lines that are not JSON objects (forwarded unchanged).")
	m.LinesTooLong = f("lines_too_long_total", "Lines longer than Max_line_size, written to the overflow file instead of the sinks.")
	m.Redacted = f("redacted_values_total", "Secret values replaced by hashes.")
	m.SinkSentLines = cv("sink_sent_lines_total", "Lines delivered (and acknowledged) by a sink.")
	m.SinkSentBytes = cv("sink_sent_bytes_total", "Line bytes delivered by a sink.")
	m.SinkRetries = cv("sink_retries_total", "Delivery attempts retried (429, 5xx, network, S3 errors).")
	m.SinkDeadLines = cv("sink_dead_lettered_lines_total", "Lines the server rejected permanently, written to the dead-letter file.")
	m.DeadLetterDropped = cv("sink_dead_letter_dropped_lines_total", "Lines the server rejected permanently that the dead-letter file, at Dead_letter_limit_size, did not take.")
	m.SinkErrors = cv("sink_errors_total", "Failed delivery attempts.")
	m.SinkPending = gv("sink_pending_bytes", "Bytes handed to a sink and not yet acknowledged.", "sink")
	m.BufferBytes = gv("buffer_bytes", "Bytes held in ship's buffers (memory: read but unacknowledged; disk: S3 chunks in Store_dir; loki_disk: Loki segments in Loki.Store_dir).", "buffer")
	m.BufferLimit = gv("buffer_limit_bytes", "Capacity of ship's buffers (Mem_Buf_Limit, Store_dir_limit_size, Loki.Store_dir_limit_size).", "buffer")
	m.StoreSegments = gv("store_segments", "Segment files in a sink's disk buffer (Loki.Store_dir), the open one included.", "sink")
	m.StoreFull = gv("store_full", "1 while a sink's disk buffer (Loki.Store_dir) is at its limit: the sink acknowledges nothing until a push frees space, and reading pauses.", "sink")
	m.StoreDamaged = cv("store_damaged_bytes_total", "Bytes of a sink's disk buffer (Loki.Store_dir) cut off at a record that fails its checksum: lines acknowledged to the file's checkpoint that the sink never gets (the ERROR \"segment damaged\" names the segment).")
	m.Backpressure = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "backpressure",
		Help: "1 while reading is paused because a buffer is full (the audit file is the buffer)."})
	r.MustRegister(m.Backpressure)
	m.BackpressureS = f("backpressure_seconds_total", "Time reading was paused by full buffers.")
	m.LokiStreams = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "loki_streams",
		Help: "Distinct Loki label sets seen (watch for cardinality)."})
	r.MustRegister(m.LokiStreams)
	m.CheckpointSave = f("checkpoint_saves_total", "Checkpoint files written.")
	m.CheckpointErrors = f("checkpoint_errors_total", "Checkpoint writes that failed (while they fail, /readyz fails).")
	m.LastAck = gv("last_ack_timestamp_seconds", "Unix time of the sink's last acknowledgement (Loki: a push accepted; S3: lines synced to Store_dir).", "sink")
	m.Unrecoverable = f("unrecoverable_bytes_total",
		"Bytes seen in the audit log (by its size) that could not be read: truncated (copytruncate) before they were read and in no rotated copy, or in a file gone before it was read (a backup deleted by retention, a file at the path deleted while too many were waiting, files deleted and kept open when ship stopped).")
	m.GapFiles = f("gap_files_total", "Files gone before they were read to their end: a checkpointed file deleted while ship was down, a backup deleted (retention) while reading was held, a truncated file without a copy, a new file at the path written to and deleted before it could be opened, a file at the path deleted while too many were waiting to be kept open, or a file deleted and kept open when ship stopped.")
	m.OverlongDropped = f("overlong_dropped_lines_total", "Lines longer than Max_line_size that did not fit in the overflow file (Overlong_lines_limit_size).")
	m.OverlongDroppedBytes = f("overlong_dropped_bytes_total", "Bytes of the over-long lines that did not fit in the overflow file.")
	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "lag_bytes",
		Help: "Bytes of the audit log (and its backups still to read) not yet acknowledged by every sink."}, func() float64 {
		return float64(m.LagBytes())
	}))
	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "checkpoint_age_seconds",
		Help: "Seconds since the checkpoint was last saved (-1 before the first save)."}, func() float64 {
		t := m.lastSave.Load()
		if t == 0 {
			return -1
		}
		return time.Since(time.Unix(0, t)).Seconds()
	}))
	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "lag_seconds",
		Help: "How far behind the live file ship is: 0 when every line was acknowledged, else now minus the stageTimestamp of the last event every sink acknowledged, at least 0 (an event stamped in the future; -1 before the first)."}, func() float64 {
		if m.LagBytes() == 0 {
			return 0
		}
		t := m.lastEvent.Load()
		if t == 0 {
			return -1
		}
		// An event stamped ahead of this clock (a skewed apiserver) would
		// make the lag negative, below any alert threshold.
		return max(0, time.Since(time.Unix(0, t)).Seconds())
	}))
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registerHeap(r)
	registerBuildInfo(r, buildinfo.Get())
	return m
}

// Saved records a checkpoint save.
func (m *Metrics) Saved(t time.Time) {
	m.lastSave.Store(t.UnixNano())
	m.CheckpointSave.Inc()
}

// Acked records the time of the last acknowledged event.
func (m *Metrics) Acked(eventTime int64) {
	if eventTime > m.lastEvent.Load() {
		m.lastEvent.Store(eventTime)
	}
}

// SetReady flips /readyz (false while starting and stopping).
func (m *Metrics) SetReady(v bool) { m.ready.Store(v) }

// SetLag sets how lag_bytes is computed.
func (m *Metrics) SetLag(f func() int64) {
	m.hookMu.Lock()
	m.lag = f
	m.hookMu.Unlock()
}

// LagBytes returns the lag in bytes (0 without SetLag).
func (m *Metrics) LagBytes() int64 {
	m.hookMu.Lock()
	f := m.lag
	m.hookMu.Unlock()
	if f == nil {
		return 0
	}
	return f()
}

// SetReadyCheck sets what /readyz asks, once ready: nil means ready, an
// error says why not.
func (m *Metrics) SetReadyCheck(f func() error) {
	m.hookMu.Lock()
	m.check = f
	m.hookMu.Unlock()
}

// Ready returns nil when ship is ready, else why not.
func (m *Metrics) Ready() error {
	if !m.ready.Load() {
		return errors.New("not shipping (starting or stopping)")
	}
	m.hookMu.Lock()
	f := m.check
	m.hookMu.Unlock()
	if f != nil {
		return f()
	}
	return nil
}

// SinkAcked records an acknowledgement by sink at t.
func (m *Metrics) SinkAcked(sink string, t time.Time) {
	m.LastAck.WithLabelValues(sink).Set(float64(t.UnixNano()) / 1e9)
}

// Blocked records the start (true) or end (false) of a wait of a stage
// that cannot go on: the reader on the memory budget or on the processing
// queue, the dispatcher on a sink that takes no more, a sink on a full
// disk buffer. The gauge is 1 while any wait is in progress.
func (m *Metrics) Blocked(v bool) {
	m.blockMu.Lock()
	defer m.blockMu.Unlock()
	if v {
		if m.blocked == 0 {
			m.blockedAt = time.Now()
			m.Backpressure.Set(1)
		}
		m.blocked++
		return
	}
	if m.blocked == 0 {
		return
	}
	m.blocked--
	if m.blocked == 0 {
		m.Backpressure.Set(0)
		m.BackpressureS.Add(time.Since(m.blockedAt).Seconds())
	}
}

// Handler serves /metrics, /healthz and /readyz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := m.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Serve listens on addr until ctx ends. It returns the bound address
// through bound (useful with ":0") before serving.
func (m *Metrics) Serve(ctx context.Context, addr string, log *slog.Logger, bound func(string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	if bound != nil {
		bound(ln.Addr().String())
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}

// Value returns the current value of a counter or gauge (for tests and
// the shutdown summary).
func Value(c prometheus.Metric) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		return 0
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	return 0
}
