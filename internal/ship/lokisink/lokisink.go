// Package lokisink delivers ship's batches to Loki's push API through the
// shared client in internal/data/source/loki (protobuf + snappy).
//
// Lines are grouped into streams by their label values and pushed when the
// pending bytes reach BatchSize or the oldest pending line has waited
// BatchWait; a push holds at most BatchSize bytes (or one batch, when a
// batch is larger). 429, 5xx and network errors are retried with
// exponential backoff and jitter until they succeed or the context ends.
// 401/403/404 are configuration errors that no amount of data changes
// would fix, so they are retried (and logged) instead of dead-lettering
// the whole audit stream while a credential is wrong.
//
// Other 4xx answers refuse data, and a 400 may be about one line of many:
// Loki's distributor validates entry by entry, stores the valid ones and
// answers 400 with the last error. So a good line is never dead-lettered
// with a bad one:
//
//   - lines longer than MaxLineSize (Loki's limits_config.max_line_size,
//     256KB by default) are not pushed at all: they go to the dead-letter
//     file whole;
//   - "Max entry size 'N' bytes exceeded": the entries longer than N were
//     refused, the others stored; only the refused ones are dead-lettered;
//   - Loki's timestamp refusals ("entry too far behind ... oldest
//     acceptable timestamp is: T ... for stream: S", "timestamp too old",
//     "timestamp too new"): every entry of S beyond T is dead-lettered in
//     one step and the rest sent again (entries of another stream that
//     Loki had stored may then be refused as too far behind, as Loki
//     drops a duplicate only of a stream's last line: they are
//     dead-lettered too, a copy and not a loss);
//   - any other refusal: the push is split in halves and each retried,
//     down to the single entries the server refuses, which are
//     dead-lettered with its reason. (Entries Loki had stored with the
//     refused one are sent again: Loki drops an entry identical to one it
//     has, same stream, timestamp and line.)
//
// When 10 single lines in a row are refused with the same answer and no
// push is accepted meanwhile, the answer is not about the data (a URL
// without /loki/api/v1/push answered 400 by VictoriaLogs): pushes are
// retried with backoff instead of dead-lettered, with an ERROR.
//
// With StoreDir (Loki.Store_dir), batches are acknowledged once fsynced
// in a disk buffer and pushed from it (store.go).
//
// The dead-letter file holds one JSON line per refusal: time, status (0
// when ship did not push), reason, and the streams with their entries.
package lokisink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// DeadLetter is the dead-letter file path; DeadLetterLimit caps its
	// size (0: no cap).
	DeadLetter      string
	DeadLetterLimit int64
	// MaxLineSize: longer lines are dead-lettered instead of pushed (0 =
	// no limit).
	MaxLineSize int64
	// StreamWarn: warn when the number of distinct streams passes this
	// (default 1000).
	StreamWarn int
	// StoreDir, when set, is the disk buffer (Loki.Store_dir, store.go):
	// batches are acknowledged once fsynced there and pushed from it;
	// StoreLimit caps its bytes (Loki.Store_dir_limit_size).
	StoreDir   string
	StoreLimit int64
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
	// sameReason is the answer the last sameCount single lines were
	// refused with (push goroutine only).
	sameReason string
	sameCount  int
	// stopBy is when the sink's context will end (Unix ns, 0: not
	// stopping); took how long the last push took to be answered.
	stopBy, took atomic.Int64
	// st is the disk buffer (nil without StoreDir).
	st *store
	// wrapWrite wraps segment writes (tests inject a full disk).
	wrapWrite func(io.Writer) io.Writer
	// With Store_dir: stopping is set by StopBy (ship stops); failing
	// while the last push attempt failed (Loki down or not answering).
	// Both together close stopPush once: the lines are safe in the store,
	// so the sender stops retrying instead of spending the grace period.
	gate pipe.StopGate
	// held is the bytes of records read from the store and not pushed
	// yet, heldPeak its highest value (the bound on what a segment costs
	// in memory).
	held, heldPeak atomic.Int64
}

// hold counts n bytes of records read from the store (negative: pushed).
func (s *Sink) hold(n int64) {
	v := s.held.Add(n)
	for {
		p := s.heldPeak.Load()
		if v <= p || s.heldPeak.CompareAndSwap(p, v) {
			return
		}
	}
}

// StopBy implements pipe.StopBy: from now on a push is started only when
// one taking as long as the last would be answered before deadline.
// With Store_dir, a stop while pushes fail ends the sender at once (the
// segments stay for the next start).
// Without Store_dir the lines in flight are only in memory, and the sink
// keeps trying until the grace period ends.
func (s *Sink) StopBy(deadline time.Time) {
	s.stopBy.Store(deadline.UnixNano())
	if s.st != nil {
		s.gate.Stopping()
	}
}

// pushFailed notes a push attempt that failed without an answer about
// the data (Loki down, 5xx, 429, a timeout, a configuration error).
func (s *Sink) pushFailed() {
	if s.st != nil {
		s.gate.Failed()
	}
}

// pushesStopped reports whether the store's sender was stopped (ship is
// stopping and Loki takes no pushes, or the grace period leaves no time
// for one).
func (s *Sink) pushesStopped() bool { return s.gate.Stopped() }

// inTime reports whether a push started now would be answered before the
// sink's context ends (true when not stopping or nothing was timed yet).
func (s *Sink) inTime() bool {
	by, took := s.stopBy.Load(), time.Duration(s.took.Load())
	return by == 0 || took == 0 || time.Until(time.Unix(0, by)) > took+took/4+50*time.Millisecond
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
	if o.StoreDir != "" {
		st, err := newStore(o.StoreDir, o.StoreLimit)
		if err != nil {
			return nil, err
		}
		s.st = st
		if m := o.Metrics; m != nil {
			m.BufferLimit.WithLabelValues("loki_disk").Set(float64(st.limit))
		}
	}
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

func lineCount(bs []*pipe.Batch) int {
	n := 0
	for _, b := range bs {
		n += len(b.Records)
	}
	return n
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
func (s *Sink) Run(ctx context.Context, in <-chan *pipe.Batch, ack func(...*pipe.Batch)) error {
	if s.st != nil {
		return s.runStore(ctx, in, ack)
	}
	jobs := make(chan []*pipe.Batch, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for job := range jobs {
			if !s.inTime() {
				// Stopping, and the push would still be in flight when
				// the grace period ends: cancelled then, it may be stored
				// and sent again after the restart. Its lines are read
				// again instead.
				s.log.Info("not starting a push the grace period leaves no time for; its lines are read again on restart", "lines", lineCount(job))
				<-ctx.Done()
				errc <- ctx.Err()
				for range jobs {
				}
				return
			}
			start := time.Now()
			if err := s.push(ctx, job); err != nil {
				errc <- err
				// Drain so the collector never blocks; nothing more is
				// acknowledged.
				for range jobs {
				}
				return
			}
			s.took.Store(int64(time.Since(start)))
			ack(job...)
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
			// Pushes hold at most BatchSize bytes: a crash re-sends at most
			// the push in flight.
			if len(pending) > 0 && size+b.LineBytes > s.o.BatchSize {
				timer.Stop()
				if err := flush(); err != nil {
					return finish(err)
				}
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

// entry is one line to push: its stream and entry, and the record (for
// the dead-letter file).
type entry struct {
	stream int
	e      loki.PushEntry
	rec    *process.Record
}

// build groups the batches' records into streams: the push request, and
// apart the lines longer than MaxLineSize (streams names every stream by
// index, for those).
func (s *Sink) build(batches []*pipe.Batch) (req loki.PushRequest, streams []data.Labels, lines int, bytes int64, tooLong []entry) {
	idx := map[string]int{}
	var ents [][]loki.PushEntry
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
				si = len(streams)
				idx[k] = si
				streams = append(streams, s.Labels(r))
				ents = append(ents, nil)
				if _, seen := s.streams[k]; !seen && len(s.streams) < 1_000_000 {
					s.streams[k] = struct{}{}
				}
			}
			e := loki.PushEntry{Time: r.Time, Line: r.Line, Metadata: s.metadata(r)}
			if s.o.MaxLineSize > 0 && r.Len() > s.o.MaxLineSize || r.Spool != nil {
				tooLong = append(tooLong, entry{stream: si, e: e, rec: r})
				continue
			}
			ents[si] = append(ents[si], e)
			lines++
			bytes += int64(len(r.Line))
		}
	}
	for i, es := range ents {
		if len(es) > 0 {
			req.Streams = append(req.Streams, loki.PushStream{Labels: streams[i], Entries: es})
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
	return req, streams, lines, bytes, tooLong
}

// flatten lists a request's entries (streams by their index in req).
func flatten(req loki.PushRequest) ([]data.Labels, []entry) {
	var streams []data.Labels
	var es []entry
	for i, st := range req.Streams {
		streams = append(streams, st.Labels)
		for _, e := range st.Entries {
			es = append(es, entry{stream: i, e: e})
		}
	}
	return streams, es
}

// request builds a push of es.
func request(streams []data.Labels, es []entry) (loki.PushRequest, int64) {
	var req loki.PushRequest
	at := map[int]int{}
	var bytes int64
	for _, e := range es {
		i, ok := at[e.stream]
		if !ok {
			i = len(req.Streams)
			at[e.stream] = i
			req.Streams = append(req.Streams, loki.PushStream{Labels: streams[e.stream]})
		}
		req.Streams[i].Entries = append(req.Streams[i].Entries, e.e)
		bytes += int64(len(e.e.Line))
	}
	return req, bytes
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
	req, streams, lines, bytes, tooLong := s.build(batches)
	if len(tooLong) > 0 {
		reason := fmt.Sprintf("line longer than Loki.Max_line_size (%d bytes): not pushed, Loki would refuse it", s.o.MaxLineSize)
		if err := s.refuse(streams, tooLong, 0, reason); err != nil {
			return err
		}
	}
	if lines == 0 {
		return nil
	}
	return s.pushRequest(ctx, req, lines, bytes)
}

// maxEntry matches Loki's line-too-long validation error.
var maxEntry = regexp.MustCompile(`Max entry size '(\d+)' bytes exceeded`)

// pushEntries pushes es (see pushRequest).
func (s *Sink) pushEntries(ctx context.Context, streams []data.Labels, es []entry) error {
	req, bytes := request(streams, es)
	return s.pushRequest(ctx, req, len(es), bytes)
}

// pushRequest pushes req with retries; a refusal is narrowed down to the
// entries refused (see the package doc).
func (s *Sink) pushRequest(ctx context.Context, req loki.PushRequest, lines int, bytes int64) error {
	var he *loki.HTTPError
	for attempt := 0; ; attempt++ {
		err := s.send(ctx, req, lines)
		if err == nil {
			s.sent(lines, bytes)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var perm bool
		he, perm = permanent(err)
		if !perm {
			return fmt.Errorf("loki push: %w", err)
		}
		if !s.misconfigured(he) {
			break
		}
		// Every push refused with the same reason, whatever its lines:
		// not the data (a URL without /loki/api/v1/push), so retried
		// as a 404 is, and the sink acknowledges nothing (/readyz).
		s.pushFailed()
		if attempt == 0 {
			s.log.Error("loki refuses every push with the same answer: a configuration error (Loki.URL must end in /loki/api/v1/push), not the data; retrying, not dead-lettering",
				"status", he.Status, "reason", he.Body, "lines", lines)
		}
		wait := min(s.o.Backoff.Min<<min(attempt, 20), max(s.o.Backoff.Max, s.o.Backoff.Min))
		if wait <= 0 {
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	streams, es := flatten(req)
	if m := maxEntry.FindStringSubmatch(he.Body); m != nil {
		// Loki stored every entry but the ones over its limit.
		limit, _ := strconv.ParseInt(m[1], 10, 64)
		var refused []entry
		var sentBytes int64
		for _, e := range es {
			if int64(len(e.e.Line)) > limit {
				refused = append(refused, e)
			} else {
				sentBytes += int64(len(e.e.Line))
			}
		}
		if len(refused) > 0 {
			s.sent(len(es)-len(refused), sentBytes)
			return s.refuse(streams, refused, he.Status, he.Body)
		}
	}
	if r, ok := parseTimeRefusal(he.Body); ok {
		// Every entry of the stream Loki names beyond its time bound is
		// refused at once; the rest is sent again (Loki stored the valid
		// ones and named only its last error; it drops identical entries).
		var refused, rest []entry
		for _, e := range es {
			if r.is(streams[e.stream]) && r.refuses(e.e.Time) {
				refused = append(refused, e)
			} else {
				rest = append(rest, e)
			}
		}
		if len(refused) > 0 {
			if err := s.refuse(streams, refused, he.Status, he.Body); err != nil {
				return err
			}
			if len(rest) == 0 {
				return nil
			}
			return s.pushEntries(ctx, streams, rest)
		}
	}
	if len(es) == 1 {
		s.noteRefusal(he)
		return s.refuse(streams, es, he.Status, he.Body)
	}
	s.log.Warn("loki refused a push; splitting it to find the lines refused", "status", he.Status, "reason", he.Body, "lines", len(es))
	half := len(es) / 2
	if err := s.pushEntries(ctx, streams, es[:half]); err != nil {
		return err
	}
	return s.pushEntries(ctx, streams, es[half:])
}

// configRefusals single lines refused in a row with the same answer, and
// no push accepted meanwhile, make that answer a configuration error.
const configRefusals = 10

// noteRefusal counts a single line refused with he's answer.
func (s *Sink) noteRefusal(he *loki.HTTPError) {
	if he.Body == s.sameReason {
		s.sameCount++
	} else {
		s.sameReason, s.sameCount = he.Body, 1
	}
}

// misconfigured reports whether he is the answer every push got lately.
func (s *Sink) misconfigured(he *loki.HTTPError) bool {
	return s.sameCount >= configRefusals && he.Body == s.sameReason
}

func (s *Sink) sent(lines int, bytes int64) {
	if lines > 0 {
		s.sameReason, s.sameCount = "", 0
	}
	if s.o.Metrics != nil && lines > 0 {
		s.o.Metrics.SinkSentLines.WithLabelValues("loki").Add(float64(lines))
		s.o.Metrics.SinkSentBytes.WithLabelValues("loki").Add(float64(bytes))
	}
}

// send pushes req, retrying retryable failures until ctx ends.
func (s *Sink) send(ctx context.Context, req loki.PushRequest, lines int) error {
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
	return bo.Do(ctx, s.log, "loki push", func(ctx context.Context) error {
		if attempt > 0 && s.o.Metrics != nil {
			s.o.Metrics.SinkRetries.WithLabelValues("loki").Inc()
		}
		attempt++
		err := s.o.Client.Push(ctx, req)
		switch {
		case err == nil:
			s.gate.Succeeded()
		case ctx.Err() == nil:
			if s.o.Metrics != nil {
				s.o.Metrics.SinkErrors.WithLabelValues("loki").Inc()
			}
			s.log.Warn("loki push failed", "err", err, "attempt", attempt, "lines", lines)
			if _, perm := permanent(err); !perm {
				s.pushFailed()
			}
		}
		return err
	})
}

// refuse writes entries to the dead-letter file with the reason, and
// counts them.
func (s *Sink) refuse(streams []data.Labels, es []entry, status int, reason string) error {
	if s.deadLetterFull() {
		s.log.Error("lines refused; the dead-letter file is at Dead_letter_limit_size, so they are not kept (move it away to make room)",
			"status", status, "reason", reason, "lines", len(es), "file", s.o.DeadLetter, "limit", s.o.DeadLetterLimit)
		if s.o.Metrics != nil {
			s.o.Metrics.DeadLetterDropped.WithLabelValues("loki").Add(float64(len(es)))
		}
		return nil
	}
	if err := s.deadLetter(streams, es, status, reason); err != nil {
		return err
	}
	s.log.Error("lines refused; written to the dead-letter file", "status", status, "reason", reason, "lines", len(es), "file", s.o.DeadLetter)
	if s.o.Metrics != nil {
		s.o.Metrics.SinkDeadLines.WithLabelValues("loki").Add(float64(len(es)))
	}
	return nil
}

// deadLetterFull reports whether the dead-letter file reached its cap.
func (s *Sink) deadLetterFull() bool {
	if s.o.DeadLetterLimit <= 0 {
		return false
	}
	fi, err := os.Stat(s.o.DeadLetter)
	return err == nil && fi.Size() >= s.o.DeadLetterLimit
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

// deadLetter appends one record to the dead-letter file. Lines are
// written through a streaming JSON encoder (a spooled line is copied from
// its file), so no copy of a long line is made in memory.
func (s *Sink) deadLetter(streams []data.Labels, es []entry, status int, reason string) error {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.o.DeadLetter), 0o750); err != nil {
		return fmt.Errorf("dead-letter dir: %w", err)
	}
	f, err := os.OpenFile(s.o.DeadLetter, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open dead-letter file %s: %w", s.o.DeadLetter, err)
	}
	fail := func(err error) error {
		f.Close()
		return fmt.Errorf("write dead-letter file %s: %w", s.o.DeadLetter, err)
	}
	// The record is written at the end of the file; on failure the file is
	// cut back, so it never holds half a record.
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	head, _ := json.Marshal(struct {
		Time   time.Time `json:"time"`
		Sink   string    `json:"sink"`
		Status int       `json:"status"`
		Reason string    `json:"reason"`
	}{time.Now().UTC(), "loki", status, reason})
	w.Write(head[:len(head)-1])
	w.WriteString(`,"streams":[`)
	order := []int{}
	byStream := map[int][]entry{}
	for _, e := range es {
		if _, ok := byStream[e.stream]; !ok {
			order = append(order, e.stream)
		}
		byStream[e.stream] = append(byStream[e.stream], e)
	}
	for i, si := range order {
		if i > 0 {
			w.WriteByte(',')
		}
		lb, _ := json.Marshal(loki.FormatLabels(streams[si]))
		w.WriteString(`{"labels":`)
		w.Write(lb)
		w.WriteString(`,"entries":[`)
		for j, e := range byStream[si] {
			if j > 0 {
				w.WriteByte(',')
			}
			w.WriteString(`{"ts":"` + strconv.FormatInt(e.e.Time, 10) + `","line":`)
			rec := e.rec
			if rec == nil {
				rec = &process.Record{Line: e.e.Line}
			}
			if err := writeJSONString(w, rec); err != nil {
				f.Truncate(fi.Size())
				return fail(err)
			}
			w.WriteByte('}')
		}
		w.WriteString(`]}`)
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		f.Truncate(fi.Size())
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	return f.Close()
}
