package shipfaults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// LokiMaxLineSize is Loki's default limits_config.max_line_size (256KB,
// which Loki's flag parser reads as 256*1024 bytes).
const LokiMaxLineSize = 256 << 10

// StandIn is an in-process stand-in for Loki's push endpoint
// (/loki/api/v1/push, protobuf+snappy or JSON) that records what it stores
// and can misbehave on purpose:
//
//   - FailEvery(n): every n-th push answers 500 without storing anything;
//   - Delay(d): entries are stored on receipt, the 204 is sent d later (a
//     kill -9 in that window lands between dispatch and acknowledgement);
//   - MaxLine(n): entries longer than n bytes are refused as Loki does with
//     max_line_size: the other entries of the push are stored and the push
//     is answered 400 "Max entry size ... exceeded" (Loki's distributor
//     validates entry by entry and returns the last validation error);
//   - Down(true): the listener is closed (connection refused) until
//     Down(false) opens it again on the same address; pushes in progress
//     are answered first.
type StandIn struct {
	tag  Tag
	addr string

	mu        sync.Mutex
	srv       *http.Server
	down      bool
	failEvery int
	delay     time.Duration
	maxLine   int

	pushes   int // requests received (while up)
	failed   int // answered 500 on purpose
	rejected int // entries refused as too long
	badPush  int // bodies that did not decode
	recv     []Received
	lastErr  string
	inFlight sync.WaitGroup
}

// Received is one stored entry.
type Received struct {
	Seq   int // auditID sequence number (-1: no auditID of the run)
	Push  int // number of the push that stored it (1-based, in arrival order)
	Bytes int
}

// NewStandIn starts a stand-in on 127.0.0.1; its URL is the base URL to put
// in Loki.URL.
func NewStandIn(tag Tag) (*StandIn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &StandIn{tag: tag, addr: ln.Addr().String()}
	s.serve(ln)
	return s, nil
}

// URL is the stand-in's base URL.
func (s *StandIn) URL() string { return "http://" + s.addr }

func (s *StandIn) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /loki/api/v1/push", s.handlePush)
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ready\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	go srv.Serve(ln)
}

// FailEvery makes every n-th push fail with 500 (0 = never).
func (s *StandIn) FailEvery(n int) { s.mu.Lock(); s.failEvery = n; s.mu.Unlock() }

// Delay holds each acknowledgement for d after the entries were stored.
func (s *StandIn) Delay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// MaxLine refuses entries longer than n bytes, as Loki's max_line_size
// (0 = no limit).
func (s *StandIn) MaxLine(n int) { s.mu.Lock(); s.maxLine = n; s.mu.Unlock() }

// Down closes (true) or reopens (false) the listener.
func (s *StandIn) Down(down bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if down == s.down {
		return nil
	}
	if down {
		// Pushes being answered finish first (a push Loki stored whose
		// answer is lost would be a duplicate no client can avoid);
		// then every connection is closed and new ones are refused. The
		// lock is let go while waiting: a push being answered takes it to
		// store its entries, and holding it here made that push wait out
		// Shutdown's timeout, lose its connection and store its entries
		// afterwards (a stored push whose client saw an error: the
		// duplicates of the retry were the stand-in's doing).
		s.down = true
		srv := s.srv
		s.mu.Unlock()
		defer s.mu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
		return nil
	}
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("stand-in: listen again on %s: %w", s.addr, err)
	}
	s.down = false
	s.serve(ln)
	return nil
}

// Close stops the stand-in.
func (s *StandIn) Close() {
	s.mu.Lock()
	if !s.down {
		s.srv.Close()
		s.down = true
	}
	s.mu.Unlock()
	s.inFlight.Wait()
}

// StandInStats are the stand-in's counters.
type StandInStats struct {
	Pushes, Failed, Rejected, BadPushes, Entries int
	LastError                                    string
}

// Stats returns the counters.
func (s *StandIn) Stats() StandInStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StandInStats{Pushes: s.pushes, Failed: s.failed, Rejected: s.rejected, BadPushes: s.badPush, Entries: len(s.recv), LastError: s.lastErr}
}

// Received returns the stored entries in arrival order.
func (s *StandIn) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.recv...)
}

func (s *StandIn) handlePush(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Done()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away (killed)
	}
	s.mu.Lock()
	s.pushes++
	n, failEvery, delay, maxLine := s.pushes, s.failEvery, s.delay, s.maxLine
	s.mu.Unlock()
	if failEvery > 0 && n%failEvery == 0 {
		s.mu.Lock()
		s.failed++
		s.mu.Unlock()
		http.Error(w, "stand-in: injected failure (push "+strconv.Itoa(n)+")", http.StatusInternalServerError)
		return
	}
	var entries []pushEntry
	switch ct := r.Header.Get("Content-Type"); ct {
	case "application/x-protobuf":
		raw, err := snappy.Decode(nil, body)
		if err == nil {
			entries, err = decodePushProto(raw)
		}
		if err != nil {
			s.bad(w, err)
			return
		}
	case "application/json":
		entries, err = decodePushJSON(body)
		if err != nil {
			s.bad(w, err)
			return
		}
	default:
		s.bad(w, fmt.Errorf("unsupported Content-Type %q", ct))
		return
	}
	var tooLong string
	s.mu.Lock()
	for _, e := range entries {
		if maxLine > 0 && len(e.line) > maxLine {
			s.rejected++
			tooLong = fmt.Sprintf("Max entry size '%d' bytes exceeded for stream '%s' while adding an entry with length '%d' bytes",
				maxLine, e.labels, len(e.line))
			continue
		}
		seqs := s.tag.Seqs(e.line)
		seq := -1
		if len(seqs) > 0 {
			seq = seqs[0]
		}
		s.recv = append(s.recv, Received{Seq: seq, Push: n, Bytes: len(e.line)})
	}
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if tooLong != "" {
		http.Error(w, tooLong, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *StandIn) bad(w http.ResponseWriter, err error) {
	s.mu.Lock()
	s.badPush++
	s.lastErr = err.Error()
	s.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadRequest)
}

type pushEntry struct {
	labels string
	line   []byte
}

// decodePushProto reads logproto.PushRequest: streams (1) of
// StreamAdapter{labels (1), entries (2) of EntryAdapter{timestamp (1),
// line (2), structuredMetadata (3)}}.
func decodePushProto(b []byte) ([]pushEntry, error) {
	var out []pushEntry
	err := eachField(b, func(num protowire.Number, v []byte) error {
		if num != 1 {
			return nil
		}
		var labels string
		var lines [][]byte
		err := eachField(v, func(num protowire.Number, v []byte) error {
			switch num {
			case 1:
				labels = string(v)
			case 2:
				return eachField(v, func(num protowire.Number, v []byte) error {
					if num == 2 {
						lines = append(lines, v)
					}
					return nil
				})
			}
			return nil
		})
		for _, l := range lines {
			out = append(out, pushEntry{labels: labels, line: l})
		}
		return err
	})
	return out, err
}

// eachField calls fn with every length-delimited field of a message and
// skips the others.
func eachField(b []byte, fn func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			if err := fn(num, v); err != nil {
				return err
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		b = b[m:]
	}
	return nil
}

// decodePushJSON reads the documented JSON push body.
func decodePushJSON(b []byte) ([]pushEntry, error) {
	var req struct {
		Streams []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	var out []pushEntry
	for _, st := range req.Streams {
		lb, _ := json.Marshal(st.Stream)
		for _, v := range st.Values {
			if len(v) < 2 {
				return nil, errors.New("push value without a line")
			}
			var line string
			if err := json.Unmarshal(v[1], &line); err != nil {
				return nil, err
			}
			out = append(out, pushEntry{labels: string(lb), line: []byte(line)})
		}
	}
	return out, nil
}
