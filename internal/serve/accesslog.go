package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Record is one line of the access log.
type Record struct {
	Time time.Time `json:"time"`
	// Event is connect, disconnect, refused (a session that was not
	// served), auth_refused (a key that is not authorized),
	// handshake_failed (no key got in: passwords, scanners, garbage), or a
	// session's action: filter, command, export.
	Event string `json:"event"`
	// Session numbers the sessions of this server process.
	Session     uint64 `json:"session,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Comment     string `json:"comment,omitempty"`
	User        string `json:"user,omitempty"` // the login name the client sent
	Remote      string `json:"remote,omitempty"`
	// Text is the filter or command as the user ran it (action events),
	// or the remote command refused.
	Text string `json:"text,omitempty"`
	// Path is where an export wrote.
	Path string `json:"path,omitempty"`
	// Reason says why a session was refused or ended, or why an action
	// failed.
	Reason string `json:"reason,omitempty"`
	// Term and Window describe the client's terminal (connect).
	Term   string `json:"term,omitempty"`
	Window string `json:"window,omitempty"`
	// Seconds is how long the session lasted (disconnect).
	Seconds *float64 `json:"seconds,omitempty"`
}

// AccessLog writes Records as JSON lines from its own goroutine, in order;
// Log never waits for the disk unless a large backlog has built up (then
// it waits: records are never dropped). A record that cannot be written
// goes to the server's log instead.
type AccessLog struct {
	w    io.Writer
	log  *slog.Logger
	ch   chan []byte
	done chan struct{}
	now  func() time.Time

	mu     sync.RWMutex // closed, and sends on ch
	closed bool
	wmu    sync.Mutex // writes after Close
}

// NewAccessLog starts writing records to w.
func NewAccessLog(w io.Writer, log *slog.Logger) *AccessLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &AccessLog{w: w, log: log, ch: make(chan []byte, 4096), done: make(chan struct{}), now: time.Now}
	go l.run()
	return l
}

func (l *AccessLog) run() {
	defer close(l.done)
	for line := range l.ch {
		l.write(line)
	}
}

func (l *AccessLog) write(line []byte) {
	if _, err := l.w.Write(line); err != nil {
		l.log.Error("access log write failed; the record follows", "err", err, "record", string(bytes.TrimSpace(line)))
	}
}

// Log writes r (its Time set now when zero).
func (l *AccessLog) Log(r Record) {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	r.Time = r.Time.UTC()
	b, err := json.Marshal(r)
	if err != nil { // cannot happen for these field types
		b = []byte(fmt.Sprintf(`{"event":"log_error","reason":%q}`, err.Error()))
	}
	line := append(escapeC1(b), '\n')
	l.mu.RLock()
	if !l.closed {
		l.ch <- line
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()
	// After Close (a connection that ends late): written at once.
	l.wmu.Lock()
	l.write(line)
	l.wmu.Unlock()
}

// Close writes what is queued and stops the writer; a record logged
// after Close is written synchronously.
func (l *AccessLog) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.ch)
	}
	l.mu.Unlock()
	<-l.done
}

// escapeC1 escapes what encoding/json leaves raw but a terminal would
// act on when someone cats the log: DEL and the C1 controls (U+0080 to
// U+009F). JSON already escapes C0 controls and U+2028/9.
func escapeC1(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			out = append(out, `\u00`...)
			out = strconv.AppendUint(out, uint64(r>>4), 16)
			out = strconv.AppendUint(out, uint64(r&0xf), 16)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}
