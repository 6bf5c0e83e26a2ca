package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"
	gossh "golang.org/x/crypto/ssh"

	"github.com/audittui/audittui/internal/ui"
)

// The window a session's TUI is drawn for: a client's size is clamped to
// [1, MaxWidth] x [1, MaxHeight] (a 10000x10000 client gets a 400x200
// screen in its top left corner, not a gigabyte of cells), and an unknown
// size (0) is taken as 80x24.
const (
	MaxWidth  = 400
	MaxHeight = 200
)

// quitGrace is how long a session the server ends may take to restore the
// client's screen before its connection is closed.
const quitGrace = 5 * time.Second

// removedGrace is how long a key must stay out of the authorized keys
// before its open sessions are ended.
const removedGrace = 2 * time.Second

// ClampWindow returns the size a session's TUI is drawn for.
func ClampWindow(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 80, 24
	}
	return min(w, MaxWidth), min(h, MaxHeight)
}

// session is one SSH session running the TUI.
type session struct {
	id     uint64
	sess   ssh.Session
	conn   *gossh.ServerConn
	ending chan struct{} // closed by end
	once   sync.Once
	mu     sync.Mutex
	reason string // why the server ended it ("" : the user quit)
}

// end asks the session's TUI to quit, saying why.
func (ss *session) end(reason string) {
	ss.mu.Lock()
	if ss.reason == "" {
		ss.reason = reason
	}
	ss.mu.Unlock()
	ss.once.Do(func() { close(ss.ending) })
}

func (ss *session) why() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.reason
}

// closeConn drops the whole connection: the way to stop a client that no
// longer reads (a blocked channel write returns only when the connection
// goes).
func (ss *session) closeConn() {
	if ss.conn != nil {
		_ = ss.conn.Close()
	} else {
		_ = ss.sess.Close()
	}
}

// refuse tells the client why it is not served and ends the session.
// With a terminal the message goes where the TUI went (stdout; a client
// may interleave stderr with it in any order), else to stderr.
func refuse(sess ssh.Session, tty bool, msg string) {
	var w io.Writer = sess.Stderr()
	if tty {
		w = sess
	}
	done := make(chan struct{})
	go func() { // a client that does not read must not hold this goroutine
		defer close(done)
		_, _ = fmt.Fprintf(w, "audittui serve: %s\n", msg)
		_ = sess.Exit(1)
	}()
	select {
	case <-done:
	case <-time.After(quitGrace):
		_ = sess.Close()
	}
}

// handle runs one session: checks, limits, then the TUI.
func (s *Server) handle(sess ssh.Session) {
	ctx := sess.Context()
	conn, _ := ctx.Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	rec := Record{Session: s.nextID.Add(1), User: sess.User(), Remote: addrString(sess.RemoteAddr())}
	key, ok := s.keys.Lookup(sess.PublicKey())
	if pk := sess.PublicKey(); pk != nil {
		rec.Fingerprint = gossh.FingerprintSHA256(pk)
	}
	rec.Comment = key.Comment
	var pi ptyInfo
	if v, ok := s.ptys.LoadAndDelete(sess); ok {
		pi = v.(ptyInfo)
	}
	pty, winch, isPty := pi.pty, pi.winch, pi.ok
	refused := func(reason, text, msg string) {
		r := rec
		r.Event, r.Reason, r.Text = "refused", reason, text
		s.access(r)
		refuse(sess, isPty, msg)
	}
	if !ok { // removed from the file since the handshake
		refused("key no longer authorized", "", "your key is no longer authorized")
		return
	}
	if cmd := sess.RawCommand(); cmd != "" {
		refused("remote command", cmd, "this server only shows the audittui TUI and runs no commands; connect without a command (ssh -t HOST)")
		return
	}
	if !isPty {
		refused("no terminal", "", "the TUI needs a terminal; connect with ssh -t HOST")
		return
	}
	acquired, err := s.limits.acquire(key.Fingerprint)
	if err != nil {
		refused(err.Error(), "", err.Error())
		return
	}
	release := sync.OnceFunc(acquired)
	defer release()

	ss := &session{id: rec.Session, sess: sess, conn: conn, ending: make(chan struct{})}
	s.mu.Lock()
	s.sessions[ss.id] = ss
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, ss.id)
		s.mu.Unlock()
	}()

	start := time.Now()
	c := rec
	c.Event, c.Term, c.Window = "connect", pty.Term, fmt.Sprintf("%dx%d", pty.Window.Width, pty.Window.Height)
	s.access(c)
	stalled := s.run(ss, rec, key, pty, winch)
	d := rec
	d.Event, d.Reason = "disconnect", ss.why()
	secs := time.Since(start).Seconds()
	d.Seconds = &secs
	s.access(d)
	// The slot is free before the client learns that the session ended:
	// one who quits and connects again at once is not told the server is
	// full.
	release()
	if stalled {
		return
	}
	if reason := ss.why(); reason != "" {
		refuse(sess, true, "session ended: "+reason)
		return
	}
	_ = sess.Exit(0)
}

// sessionOptions are the ui.Options of a session of key: the template,
// with the session's colours, write policy and action hook.
func (s *Server) sessionOptions(rec Record, key Key, env []string) ui.Options {
	o := s.cfg.UI
	for _, kv := range env {
		if strings.HasPrefix(kv, "NO_COLOR=") && kv != "NO_COLOR=" {
			o.NoColor = true
		}
	}
	o.Write = ui.WritesOff{Reason: "this server was started without --data-dir"}
	if s.cfg.DataDir != "" {
		o.Write = ui.WriteUnder(KeyDir(s.cfg.DataDir, key.Fingerprint))
	}
	o.OnAction = func(a ui.ActionRecord) {
		r := rec
		r.Event, r.Text, r.Path, r.Reason = string(a.Kind), a.Text, a.Path, a.Err
		s.access(r)
	}
	return o
}

// run runs the TUI until the user quits, the server ends it, or the
// connection goes. It reports whether the client stopped reading.
func (s *Server) run(ss *session, rec Record, key Key, pty ssh.Pty, winch <-chan ssh.Window) (stalled bool) {
	ctx, cancel := context.WithCancel(ss.sess.Context())
	defer cancel()
	env := append(ss.sess.Environ(), "TERM="+pty.Term)
	opts := s.sessionOptions(rec, key, env)
	lv := s.cfg.Live
	if lv.Alerts != nil {
		sub := lv.Alerts.Subscribe()
		defer sub.Close() // after the program ended (defers run last-in first-out)
		opts.Alerts = sub
	}
	app := ui.New(ctx, lv.Index, lv.Feed.Subscribe(ctx), opts)

	// The end of the input is the client closing the session (its
	// channel; a multiplexed connection stays open) or the connection:
	// the TUI can never get a key again, so it ends, with its slot.
	in := &activityReader{r: ss.sess, ended: func() { ss.end("the client went away (its input ended)") }}
	in.last.Store(time.Now().UnixNano())
	out := &stallWriter{w: ss.sess}
	w, h := ClampWindow(pty.Window.Width, pty.Window.Height)
	p := tea.NewProgram(app,
		tea.WithContext(ctx),
		tea.WithInput(in),
		tea.WithOutput(out),
		tea.WithEnvironment(env),
		tea.WithColorProfile(colorprofile.Env(env)),
		tea.WithWindowSize(w, h),
		tea.WithoutSignalHandler(),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			switch m := msg.(type) {
			case tea.WindowSizeMsg:
				m.Width, m.Height = ClampWindow(m.Width, m.Height)
				return m
			case tea.SuspendMsg: // ctrl+z: nothing to suspend to
				return tea.ResumeMsg{}
			}
			return msg
		}),
	)

	done := make(chan struct{})
	var wg sync.WaitGroup
	// Window changes: the newest replaces one not yet delivered, so a
	// resize storm costs one redraw at a time, whatever its rate.
	latest := make(chan ssh.Window, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case win, ok := <-winch:
				if !ok {
					return
				}
				select {
				case <-latest:
				default:
				}
				latest <- win
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case win := <-latest:
				cw, chh := ClampWindow(win.Width, win.Height)
				p.Send(tea.WindowSizeMsg{Width: cw, Height: chh})
			case <-done:
				return
			}
		}
	}()
	// The watchdog: idle input, a client that stopped reading, and the
	// server ending the session.
	var stall atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := min(time.Second, s.cfg.StallTimeout/4)
		if s.cfg.IdleTimeout > 0 {
			tick = min(tick, max(10*time.Millisecond, s.cfg.IdleTimeout/10))
		}
		t := time.NewTicker(tick)
		defer t.Stop()
		var quitAt, removedAt time.Time
		ending := ss.ending
		for {
			select {
			case <-done:
				return
			case <-ending:
				ending = nil // once
				quitAt = time.Now()
				go p.Quit()
			case <-t.C:
			}
			now := time.Now()
			if since := out.since.Load(); since != 0 && now.Sub(time.Unix(0, since)) > s.cfg.StallTimeout {
				ss.end(fmt.Sprintf("the client read no output for %s", s.cfg.StallTimeout))
				stall.Store(true)
				ss.closeConn()
				return
			}
			// A key removed from the authorized keys ends its sessions, once
			// it has stayed out for removedGrace (an editor that rewrites
			// the file in place does not end them; a missing file ends none).
			switch removed := s.keys.Removed(ss.sess.PublicKey()); {
			case !removed:
				removedAt = time.Time{}
			case removedAt.IsZero():
				removedAt = now
			case now.Sub(removedAt) >= removedGrace:
				ss.end("your key was removed from the authorized keys")
			}
			if s.cfg.IdleTimeout > 0 && now.Sub(time.Unix(0, in.last.Load())) > s.cfg.IdleTimeout {
				ss.end(fmt.Sprintf("no input for %s (--idle-timeout)", s.cfg.IdleTimeout))
			}
			if !quitAt.IsZero() && now.Sub(quitAt) > quitGrace {
				// The program did not finish quitting: its client is not
				// reading the last screen.
				stall.Store(true)
				ss.closeConn()
				return
			}
		}
	}()
	_, err := p.Run()
	close(done)
	cancel()
	wg.Wait()
	switch {
	case errors.Is(err, tea.ErrProgramPanic):
		// Bubble Tea recovered it (the stack is on the server's stderr):
		// this session ends, the others go on.
		s.log.Error("session program panicked", "session", ss.id)
		ss.end("internal error (logged on the server)")
	case err != nil && ctx.Err() == nil:
		s.log.Debug("session program", "session", ss.id, "err", err)
	}
	return stall.Load()
}

// activityReader records when the client last sent input, and calls
// ended when the input ends (an error: EOF, a closed channel).
type activityReader struct {
	r     io.Reader
	last  atomic.Int64 // unix ns
	ended func()
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	if err != nil && a.ended != nil {
		a.ended()
	}
	return n, err
}

// stallWriter records since when a write has been blocked (0: none is):
// the SSH channel blocks a write when the client stops reading.
type stallWriter struct {
	w     io.Writer
	since atomic.Int64
}

func (s *stallWriter) Write(p []byte) (int, error) {
	s.since.Store(time.Now().UnixNano())
	n, err := s.w.Write(p)
	s.since.Store(0)
	return n, err
}
