package loki

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/valyala/fastjson"

	"github.com/audittui/audittui/internal/data"
)

// TailRequest opens the live tail.
type TailRequest struct {
	// Query is a LogQL log query (push-down).
	Query string
	// Start is where history starts, Unix ns (0 = now).
	Start int64
	// DelayFor lets slow loggers catch up, 0..5 seconds.
	DelayFor int
	// Limit bounds the history sent on each (re)connection (default 1000).
	Limit int
	// Slack is how far back a reconnection resumes before the newest entry
	// seen, to catch entries that arrived late (default 5s, Loki's largest
	// delay_for). Entries in that window are de-duplicated.
	Slack time.Duration
	// CatchUpBatch is the page size of the query_range catch-up that fills
	// the gap after a disconnection (default DefaultBatchSize).
	CatchUpBatch int
}

// DroppedEntry is an entry Loki could not send (the tail was too slow).
type DroppedEntry struct {
	Labels data.Labels
	Time   int64
}

// TailMessage is what one read of the tail yields.
type TailMessage struct {
	// Entries are new entries (never one already delivered), by time.
	Entries []Entry
	// Dropped are entries the server dropped and reported.
	Dropped []DroppedEntry
}

// Tailer follows /loki/api/v1/tail. When the server closes the socket
// (1011 at the end of max tail duration, a restart, a network failure) it
// reconnects: first a paginated query_range from the newest entry seen
// (minus Slack) fills the gap, then a new tail starts there. Entries are
// de-duplicated on (timestamp, stream, line), so a reconnection neither
// loses nor repeats entries.
type Tailer struct {
	c     *Client
	req   TailRequest
	conn  *websocket.Conn
	p     fastjson.Parser
	sc    *streamCache
	seed  maphash.Seed
	seen  map[seenKey]struct{}
	maxTS int64
	prune int64

	pending    []Entry // catch-up entries not yet returned
	reconnects int
	dropped    int
	startTS    int64     // start of the first connection
	connected  time.Time // when the current connection was made
	quick      int       // consecutive connections that lasted under a second
}

type seenKey struct {
	ts int64
	h  uint64
}

// Tail connects to the tail websocket. Errors that a retry cannot fix
// (bad query, auth) are returned at once.
func (c *Client) Tail(ctx context.Context, r TailRequest) (*Tailer, error) {
	if r.Query == "" {
		return nil, errors.New("loki: empty query")
	}
	if r.DelayFor < 0 || r.DelayFor > 5 {
		return nil, fmt.Errorf("loki: delay_for %d is not in 0..5", r.DelayFor)
	}
	if r.Limit <= 0 {
		r.Limit = DefaultBatchSize
	}
	if r.Slack <= 0 {
		r.Slack = 5 * time.Second
	}
	if r.CatchUpBatch <= 0 {
		r.CatchUpBatch = DefaultBatchSize
	}
	t := &Tailer{c: c, req: r, sc: newStreamCache(), seed: maphash.MakeSeed(), seen: map[seenKey]struct{}{}}
	start := r.Start
	if start == 0 {
		start = time.Now().UnixNano()
	}
	t.startTS = start
	if err := t.dial(ctx, start); err != nil {
		return nil, err
	}
	return t, nil
}

// Reconnects returns how many times the tail reconnected.
func (t *Tailer) Reconnects() int { return t.reconnects }

// DroppedCount returns how many entries the server reported dropped.
func (t *Tailer) DroppedCount() int { return t.dropped }

// Close closes the connection. The server may already be gone, so the
// close handshake's outcome is not an error.
func (t *Tailer) Close() error {
	if t.conn != nil {
		t.conn.Close(websocket.StatusNormalClosure, "")
		t.conn = nil
	}
	return nil
}

func (t *Tailer) dial(ctx context.Context, start int64) error {
	q := url.Values{"query": {t.req.Query}, "start": {strconv.FormatInt(start, 10)}, "limit": {strconv.Itoa(t.req.Limit)}}
	if t.req.DelayFor > 0 {
		q.Set("delay_for", strconv.Itoa(t.req.DelayFor))
	}
	u := t.c.url(PathTail, q)
	return t.c.cfg.Retry.Do(ctx, t.c.log, "tail", func(ctx context.Context) error {
		h := http.Header{}
		if err := t.c.headers(h); err != nil {
			return err
		}
		dctx := ctx
		if t.c.cfg.Timeout > 0 {
			var cancel context.CancelFunc
			dctx, cancel = context.WithTimeout(ctx, t.c.cfg.Timeout)
			defer cancel()
		}
		conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: t.c.hc, HTTPHeader: h})
		if err != nil {
			if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
				var body []byte
				if resp.Body != nil {
					body, _ = io.ReadAll(resp.Body)
				}
				return newHTTPError(http.MethodGet, PathTail, resp, body)
			}
			return &NetError{Op: "tail " + t.c.redact(u), Err: err}
		}
		conn.SetReadLimit(256 << 20)
		t.conn = conn
		t.connected = time.Now()
		return nil
	})
}

// Next returns the next non-empty message, reconnecting as needed.
func (t *Tailer) Next(ctx context.Context) (TailMessage, error) {
	for {
		if len(t.pending) > 0 {
			n := min(len(t.pending), t.req.CatchUpBatch)
			m := TailMessage{Entries: t.pending[:n:n]}
			t.pending = t.pending[n:]
			return m, nil
		}
		if t.conn == nil {
			if err := t.reconnect(ctx); err != nil {
				return TailMessage{}, err
			}
			continue
		}
		_, b, err := t.conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return TailMessage{}, ctx.Err()
			}
			code := websocket.CloseStatus(err)
			t.c.log.Debug("loki tail closed", "code", code, "err", err)
			t.conn.CloseNow()
			t.conn = nil
			if code == websocket.StatusPolicyViolation || code == websocket.StatusUnsupportedData {
				return TailMessage{}, fmt.Errorf("loki: tail closed by server: %w", err)
			}
			continue
		}
		m, err := t.parse(b)
		if err != nil {
			return TailMessage{}, err
		}
		if len(m.Entries) > 0 || len(m.Dropped) > 0 {
			return m, nil
		}
	}
}

// reconnect fills the gap since the newest entry seen with query_range,
// then opens a new tail from there.
func (t *Tailer) reconnect(ctx context.Context) error {
	t.reconnects++
	if time.Since(t.connected) < time.Second {
		// The server keeps closing at once: back off between attempts.
		tm := time.NewTimer(t.c.cfg.Retry.Delay(t.quick))
		t.quick++
		select {
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		case <-tm.C:
		}
	} else {
		t.quick = 0
	}
	from := t.startTS
	if t.maxTS != 0 {
		from = t.maxTS - int64(t.req.Slack)
	}
	now := time.Now().UnixNano()
	if from < now {
		it, err := t.c.Logs(ctx, LogsRequest{Query: t.req.Query, From: from, To: now + int64(t.req.Slack), BatchSize: t.req.CatchUpBatch})
		if err != nil {
			return err
		}
		for {
			pg, err := it.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				it.Close()
				return fmt.Errorf("loki: tail catch-up after reconnect: %w", err)
			}
			for _, e := range pg.Entries {
				if t.fresh(e) {
					t.pending = append(t.pending, e)
				}
			}
		}
		it.Close()
	}
	start := now
	if t.maxTS != 0 && t.maxTS-int64(t.req.Slack) < now {
		start = t.maxTS - int64(t.req.Slack)
	}
	return t.dial(ctx, start)
}

// fresh records e and reports whether it was not delivered before.
func (t *Tailer) fresh(e Entry) bool {
	if t.maxTS != 0 && e.Time < t.maxTS-int64(t.req.Slack) {
		// Older than the window: only a live, late entry gets here (a
		// resumed tail never replays that far back).
		return true
	}
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(e.Stream.Key)
	h.WriteByte(0)
	h.Write(e.Line)
	k := seenKey{e.Time, h.Sum64()}
	if _, dup := t.seen[k]; dup {
		return false
	}
	t.seen[k] = struct{}{}
	if e.Time > t.maxTS {
		t.maxTS = e.Time
		if t.maxTS-t.prune > 2*int64(t.req.Slack) {
			lo := t.maxTS - int64(t.req.Slack)
			for k := range t.seen {
				if k.ts < lo {
					delete(t.seen, k)
				}
			}
			t.prune = t.maxTS
		}
	}
	return true
}

// parse decodes one tail message and drops entries already delivered.
func (t *Tailer) parse(b []byte) (TailMessage, error) {
	v, err := t.p.ParseBytes(b)
	if err != nil {
		return TailMessage{}, fmt.Errorf("loki: tail: bad message: %w", err)
	}
	var m TailMessage
	var arena []byte
	for i, st := range v.GetArray("streams") {
		stream, err := t.sc.get(st.Get("stream"))
		if err != nil {
			return TailMessage{}, fmt.Errorf("loki: tail: streams[%d].stream: %w", i, err)
		}
		for j, val := range st.GetArray("values") {
			a, err := val.Array()
			if err != nil || len(a) < 2 {
				return TailMessage{}, fmt.Errorf("loki: tail: streams[%d].values[%d]: want [\"<ns>\", \"<line>\"]", i, j)
			}
			ts, err := strconv.ParseInt(string(a[0].GetStringBytes()), 10, 64)
			if err != nil {
				return TailMessage{}, fmt.Errorf("loki: tail: streams[%d].values[%d]: timestamp: %w", i, j, err)
			}
			line := a[1].GetStringBytes()
			off := len(arena)
			arena = append(arena, line...)
			e := Entry{Time: ts, Line: arena[off:len(arena):len(arena)], Stream: stream}
			if len(a) > 2 {
				e.Metadata, _ = metadataOf(a[2])
			}
			m.Entries = append(m.Entries, e)
		}
	}
	// Point every line into the final arena, so the smaller arrays the
	// arena outgrew can be freed.
	off := 0
	for i := range m.Entries {
		n := len(m.Entries[i].Line)
		m.Entries[i].Line = arena[off : off+n : off+n]
		off += n
	}
	sort.SliceStable(m.Entries, func(i, j int) bool { return m.Entries[i].Time < m.Entries[j].Time })
	kept := m.Entries[:0]
	for _, e := range m.Entries {
		if t.fresh(e) {
			kept = append(kept, e)
		}
	}
	m.Entries = kept
	for i, d := range v.GetArray("dropped_entries") {
		ls, err := labelObject(d.Get("labels"))
		if err != nil {
			return TailMessage{}, fmt.Errorf("loki: tail: dropped_entries[%d].labels: %w", i, err)
		}
		ts, err := strconv.ParseInt(string(d.GetStringBytes("timestamp")), 10, 64)
		if err != nil {
			return TailMessage{}, fmt.Errorf("loki: tail: dropped_entries[%d].timestamp: %w", i, err)
		}
		m.Dropped = append(m.Dropped, DroppedEntry{Labels: ls, Time: ts})
	}
	t.dropped += len(m.Dropped)
	return m, nil
}
