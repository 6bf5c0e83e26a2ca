// Package lokisink delivers ship's batches to Loki's push API through the
// shared client in internal/data/source/loki (protobuf + snappy).
//
// Lines are grouped into streams by their label values and pushed when the
// pending bytes reach BatchSize or the oldest pending line has waited
// BatchWait. 429, 5xx and network errors are retried with exponential
// backoff and jitter until they succeed or the context ends; other 4xx
// answers (bad request, entry too old, too large) are permanent: the batch
// is written to the dead-letter file with the server's reason, counted and
// acknowledged. 401/403/404 are configuration errors that no amount of
// data changes would fix, so they are retried (and logged) instead of
// dead-lettering the whole audit stream while a credential is wrong.
package lokisink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/ship/metrics"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

// Options configure the sink.
type Options struct {
	Client *loki.Client
	// Static labels on every stream (job=audit, cluster=...).
	Static data.Labels
	// LabelNames name Record.Fields[0:len(LabelNames)] as stream labels.
	LabelNames []string
	// MetadataNames name the next len(MetadataNames) fields, sent as
	// structured metadata.
	MetadataNames []string
	BatchSize     int64
	BatchWait     time.Duration
	// Backoff for retryable failures; MaxRetries is forced to -1 (retry
	// until the context ends).
	Backoff loki.Backoff
	// DeadLetter is the dead-letter file path.
	DeadLetter string
	// StreamWarn: warn when the number of distinct streams passes this
	// (default 1000).
	StreamWarn int
	Metrics    *metrics.Metrics
	Logger     *slog.Logger
}

// Sink is the Loki sink.
type Sink struct {
	o       Options
	log     *slog.Logger
	streams map[string]struct{}
	warned  bool
	dlMu    sync.Mutex
}

// New returns a Loki sink.
func New(o Options) (*Sink, error) {
	if o.Client == nil {
		return nil, errors.New("loki sink: no client")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1 << 20
	}
	if o.BatchWait <= 0 {
		o.BatchWait = time.Second
	}
	if o.StreamWarn <= 0 {
		o.StreamWarn = 1000
	}
	o.Backoff.MaxRetries = -1
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	s := &Sink{o: o, log: lg, streams: map[string]struct{}{}}
	var hi []string
	for _, n := range o.LabelNames {
		if data.HighCardinalityLabel(n) { // the schema's high-cardinality fields
			hi = append(hi, n)
		}
	}
	if len(hi) > 0 {
		lg.Warn("label keys with potentially high cardinality: every distinct value makes a new Loki stream; consider Structured_metadata_keys for them",
			"labels", strings.Join(hi, ","))
	}
	return s, nil
}

// Name implements pipe.Sink.
func (s *Sink) Name() string { return "loki" }

// Labels returns the stream labels of a record (for --dry-run and tests).
func (s *Sink) Labels(r *process.Record) data.Labels {
	ls := make(data.Labels, 0, len(s.o.Static)+len(s.o.LabelNames))
	ls = append(ls, s.o.Static...)
	for i, n := range s.o.LabelNames {
		if i < len(r.Fields) && r.Fields[i] != "" {
			ls = append(ls, data.Label{Name: n, Value: r.Fields[i]})
		}
	}
	return ls
}

func (s *Sink) metadata(r *process.Record) data.Labels {
	if len(s.o.MetadataNames) == 0 {
		return nil
	}
	var md data.Labels
	off := len(s.o.LabelNames)
	for j, n := range s.o.MetadataNames {
		if off+j < len(r.Fields) && r.Fields[off+j] != "" {
			md = append(md, data.Label{Name: n, Value: r.Fields[off+j]})
		}
	}
	return md
}

// Run implements pipe.Sink. One goroutine collects batches into pushes
// while another sends the previous push, so reading, encoding and the
// network overlap; pushes are still sent and acknowledged in order.
func (s *Sink) Run(ctx context.Context, in <-chan *pipe.Batch, ack func(*pipe.Batch)) error {
	jobs := make(chan []*pipe.Batch, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for job := range jobs {
			if err := s.push(ctx, job); err != nil {
				errc <- err
				// Drain so the collector never blocks; nothing more is
				// acknowledged.
				for range jobs {
				}
				return
			}
			for _, b := range job {
				ack(b)
			}
		}
	}()
	var pending []*pipe.Batch
	var size int64
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	finish := func(err error) error {
		close(jobs)
		if serr := <-errc; serr != nil && err == nil {
			err = serr
		}
		s.setPending(0)
		return err
	}
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		select {
		case jobs <- pending:
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
		pending, size = nil, 0
		s.setPending(0)
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return finish(ctx.Err())
		case err := <-errc:
			return finish(err)
		case b, ok := <-in:
			if !ok {
				return finish(flush())
			}
			if len(pending) == 0 {
				timer.Reset(s.o.BatchWait)
			}
			pending = append(pending, b)
			size += b.LineBytes
			s.setPending(size)
			if size >= s.o.BatchSize {
				timer.Stop()
				if err := flush(); err != nil {
					return finish(err)
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return finish(err)
			}
		}
	}
}

func (s *Sink) setPending(n int64) {
	if s.o.Metrics != nil {
		s.o.Metrics.SinkPending.WithLabelValues("loki").Set(float64(n))
	}
}

// request groups the batches' records into streams.
func (s *Sink) request(batches []*pipe.Batch) (loki.PushRequest, int, int64) {
	idx := map[string]int{}
	var req loki.PushRequest
	var lines int
	var bytes int64
	var key strings.Builder
	for _, b := range batches {
		for i := range b.Records {
			r := &b.Records[i]
			key.Reset()
			for j := range s.o.LabelNames {
				if j < len(r.Fields) {
					key.WriteString(r.Fields[j])
				}
				key.WriteByte(0xff)
			}
			k := key.String()
			si, ok := idx[k]
			if !ok {
				si = len(req.Streams)
				idx[k] = si
				req.Streams = append(req.Streams, loki.PushStream{Labels: s.Labels(r)})
				if _, seen := s.streams[k]; !seen && len(s.streams) < 1_000_000 {
					s.streams[k] = struct{}{}
				}
			}
			req.Streams[si].Entries = append(req.Streams[si].Entries, loki.PushEntry{Time: r.Time, Line: r.Line, Metadata: s.metadata(r)})
			lines++
			bytes += int64(len(r.Line))
		}
	}
	if s.o.Metrics != nil {
		s.o.Metrics.LokiStreams.Set(float64(len(s.streams)))
	}
	if !s.warned && len(s.streams) > s.o.StreamWarn {
		s.warned = true
		s.log.Warn("many distinct Loki streams: label keys have high cardinality; move them to Structured_metadata_keys",
			"streams", len(s.streams), "labels", strings.Join(s.o.LabelNames, ","))
	}
	return req, lines, bytes
}

// permanent reports whether err means the data itself was refused.
func permanent(err error) (*loki.HTTPError, bool) {
	var he *loki.HTTPError
	if !errors.As(err, &he) || he.Retryable() {
		return nil, false
	}
	switch he.Status {
	case 401, 403, 404, 405, 407:
		return he, false
	}
	return he, true
}

// push sends the batches, retrying until delivered, dead-lettered or ctx
// ends.
func (s *Sink) push(ctx context.Context, batches []*pipe.Batch) error {
	req, lines, bytes := s.request(batches)
	bo := s.o.Backoff
	bo.MaxRetries = -1
	bo.Retryable = func(err error) bool {
		if _, perm := permanent(err); perm {
			return false
		}
		var he *loki.HTTPError
		if errors.As(err, &he) {
			return true // 429, 5xx, and the configuration errors above
		}
		var ne *loki.NetError
		if errors.As(err, &ne) {
			return ctx.Err() == nil // a bad certificate may be replaced: keep trying
		}
		return loki.IsRetryable(err)
	}
	attempt := 0
	err := bo.Do(ctx, s.log, "loki push", func(ctx context.Context) error {
		if attempt > 0 && s.o.Metrics != nil {
			s.o.Metrics.SinkRetries.WithLabelValues("loki").Inc()
		}
		attempt++
		err := s.o.Client.Push(ctx, req)
		if err != nil && ctx.Err() == nil {
			if s.o.Metrics != nil {
				s.o.Metrics.SinkErrors.WithLabelValues("loki").Inc()
			}
			s.log.Warn("loki push failed", "err", err, "attempt", attempt, "lines", lines)
		}
		return err
	})
	if err == nil {
		if s.o.Metrics != nil {
			s.o.Metrics.SinkSentLines.WithLabelValues("loki").Add(float64(lines))
			s.o.Metrics.SinkSentBytes.WithLabelValues("loki").Add(float64(bytes))
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	he, perm := permanent(err)
	if !perm {
		return fmt.Errorf("loki push: %w", err)
	}
	if err := s.deadLetter(req, he); err != nil {
		return err
	}
	s.log.Error("loki rejected a batch permanently; written to the dead-letter file",
		"status", he.Status, "reason", he.Body, "lines", lines, "file", s.o.DeadLetter)
	if s.o.Metrics != nil {
		s.o.Metrics.SinkDeadLines.WithLabelValues("loki").Add(float64(lines))
	}
	return nil
}

type dlEntry struct {
	TS   string `json:"ts"`
	Line string `json:"line"`
}

type dlStream struct {
	Labels   string    `json:"labels"`
	Entries  []dlEntry `json:"entries"`
	Metadata []string  `json:"metadata,omitempty"`
}

// DeadLetterRecord is one line of the dead-letter file.
type DeadLetterRecord struct {
	Time    time.Time  `json:"time"`
	Sink    string     `json:"sink"`
	Status  int        `json:"status"`
	Reason  string     `json:"reason"`
	Streams []dlStream `json:"streams"`
}

func (s *Sink) deadLetter(req loki.PushRequest, he *loki.HTTPError) error {
	rec := DeadLetterRecord{Time: time.Now().UTC(), Sink: "loki", Status: he.Status, Reason: he.Body}
	for _, st := range req.Streams {
		ds := dlStream{Labels: loki.FormatLabels(st.Labels)}
		for _, e := range st.Entries {
			ds.Entries = append(ds.Entries, dlEntry{TS: strconv.FormatInt(e.Time, 10), Line: string(e.Line)})
		}
		rec.Streams = append(rec.Streams, ds)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.o.DeadLetter), 0o750); err != nil {
		return fmt.Errorf("dead-letter dir: %w", err)
	}
	f, err := os.OpenFile(s.o.DeadLetter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open dead-letter file %s: %w", s.o.DeadLetter, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write dead-letter file %s: %w", s.o.DeadLetter, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync dead-letter file %s: %w", s.o.DeadLetter, err)
	}
	return f.Close()
}
