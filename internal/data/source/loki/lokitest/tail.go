package lokitest

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/audittui/audittui/internal/data/logql"
)

// tailMsg is one message of the tail websocket.
type tailMsg struct {
	entries []tailEntry
	dropped []tailEntry
}

type tailEntry struct {
	st   *memStream
	time int64
	line []byte
}

func (m *tailMsg) add(st *memStream, t int64, line []byte) {
	m.entries = append(m.entries, tailEntry{st, t, line})
}

// render writes the documented shape:
// {"streams":[{"stream":{..},"values":[["ns","line"]]}],"dropped_entries":[{"labels":{..},"timestamp":"ns"}]}
func (m *tailMsg) render() []byte {
	b := []byte(`{"streams":[`)
	for i, e := range m.entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = appendLabels(b, e.st.labels)
		b = append(b, `,"values":[["`...)
		b = strconv.AppendInt(b, e.time, 10)
		b = append(b, `",`...)
		b = appendStringBytes(b, e.line)
		b = append(b, "]]}"...)
	}
	b = append(b, `],"dropped_entries":`...)
	if len(m.dropped) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, d := range m.dropped {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"labels":`...)
			b = appendLabels(b, d.st.labels)
			b = append(b, `,"timestamp":"`...)
			b = strconv.AppendInt(b, d.time, 10)
			b = append(b, `"}`...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

type tailConn struct {
	q       *logql.LogQuery
	tenants []string
	ch      chan tailMsg
	done    chan struct{}
	closeMu sync.Mutex
	closed  bool
	code    websocket.StatusCode
	reason  string

	dropMu  sync.Mutex
	dropped []tailEntry
}

func (t *tailConn) tenantOK(tenant string) bool {
	for _, x := range t.tenants {
		if x == tenant {
			return true
		}
	}
	return false
}

// offer queues msg, or records its entries as dropped when the
// connection's buffer is full (a slow reader), as Loki's tailer does.
func (t *tailConn) offer(msg tailMsg) {
	select {
	case t.ch <- msg:
	default:
		t.dropMu.Lock()
		t.dropped = append(t.dropped, msg.entries...)
		t.dropMu.Unlock()
	}
}

func (t *tailConn) stopWith(code websocket.StatusCode, reason string) {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	if !t.closed {
		t.closed = true
		t.code, t.reason = code, reason
		close(t.done)
	}
}

func (t *tailConn) stop() { t.stopWith(websocket.StatusGoingAway, "server shutting down") }

// DisconnectTails closes every open tail connection with code and reason
// (Loki uses 1011 for "reached tail max duration limit").
func (s *Server) DisconnectTails(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tails {
		t.stopWith(code, reason)
	}
}

// WaitTails waits until at least n tail connections are registered (a
// client's Dial returns slightly before the server registers the tail).
func (s *Server) WaitTails(ctx context.Context, n int) error {
	for s.Tails() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// HoldTails stops tail connections from sending until ReleaseTails: their
// buffers (Options.TailBuffer messages) fill and further entries are
// dropped and reported in dropped_entries, as with a slow reader.
func (s *Server) HoldTails() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// ReleaseTails ends HoldTails.
func (s *Server) ReleaseTails() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Tails returns how many tail connections are open.
func (s *Server) Tails() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tails)
}

func (s *Server) handleTail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq, _, err := parseQuery(q.Get("query"))
	if err != nil || lq == nil {
		lokiError(w, http.StatusBadRequest, errText(err, "tail needs a log query"))
		return
	}
	limit, ok := s.limitOf(w, q.Get("limit"))
	if !ok {
		return
	}
	if v := q.Get("delay_for"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 0 || d > 5 {
			lokiError(w, http.StatusBadRequest, "delay_for can't be greater than 5")
			return
		}
	}
	now := time.Now().UnixNano()
	start, err := parseTime(q.Get("start"), now-int64(time.Hour))
	if err != nil {
		lokiError(w, http.StatusBadRequest, err.Error())
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	t := &tailConn{q: lq, tenants: tenantsOf(r), ch: make(chan tailMsg, s.opts.TailBuffer), done: make(chan struct{})}

	// Register and read history under one lock: every entry is either in
	// the history or sent live, never both, never neither.
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	s.tails[t] = struct{}{}
	// History: the newest `limit` entries since start, sent oldest first.
	hits := s.selectLogs(r, lq, start, math.MaxInt64, limit, true)
	var hist tailMsg
	for i := len(hits) - 1; i >= 0; i-- {
		h := hits[i]
		hist.add(h.st, h.time, h.st.lines[h.i])
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.tails, t)
		s.mu.Unlock()
	}()

	ctx := conn.CloseRead(r.Context())
	var maxDur <-chan time.Time
	if s.opts.TailMaxDuration > 0 {
		tm := time.NewTimer(s.opts.TailMaxDuration)
		defer tm.Stop()
		maxDur = tm.C
	}
	write := func(m tailMsg) bool {
		t.dropMu.Lock()
		m.dropped, t.dropped = t.dropped, nil
		t.dropMu.Unlock()
		if len(m.entries) == 0 && len(m.dropped) == 0 {
			return true
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, m.render()) == nil
	}
	if len(hist.entries) > 0 && !write(hist) {
		return
	}
	for {
		// While tails are held, messages are not taken from the buffer, so
		// further entries are dropped as for a slow reader.
		in := t.ch
		s.mu.RLock()
		held := s.hold
		s.mu.RUnlock()
		if held != nil {
			in = nil
		}
		select {
		case <-held:
			continue
		case m := <-in:
			if !write(m) {
				return
			}
		case <-maxDur:
			conn.Close(websocket.StatusInternalError, "reached tail max duration limit")
			return
		case <-t.done:
			t.closeMu.Lock()
			code, reason := t.code, t.reason
			t.closeMu.Unlock()
			conn.Close(code, reason)
			return
		case <-ctx.Done():
			conn.CloseNow()
			return
		}
	}
}
