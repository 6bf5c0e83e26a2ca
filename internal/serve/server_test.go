package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/audittui/audittui/internal/ui"
)

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for k, c := range s {
		if k > 0 && (len(s)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// TestTwoSessionsFilterIndependently: alice and bob each get the TUI over
// the one index, filter to different users, and each keeps its own
// filter; the access log records both sessions, their filters and
// commands, with their keys' fingerprints and comments.
func TestTwoSessionsFilterIndependently(t *testing.T) {
	ts := startServer(t, nil)
	before := sha256File(t, ts.src)
	fiBefore, _ := os.Stat(ts.src)

	a := openTTY(t, ts.client(t, ts.alice), 100, 30)
	b := openTTY(t, ts.client(t, ts.bob), 120, 40)
	total := "loaded " + thousands(ts.sampleEvents)
	a.waitFor("alice's first screen", "1 Tail", "3 Alerts", total)
	b.waitFor("bob's first screen", "1 Tail", total)

	a.filter(`user_username="bob@corp.example"`)
	a.waitFor("alice's filter", fmt.Sprintf("matching %d", ts.bobEvs))
	b.filter(`user_username="alice@corp.example"`)
	b.waitFor("bob's filter", fmt.Sprintf("matching %d", ts.aliceEvs))
	// Each still shows its own filter, after the other's and a resize.
	a.resize(101, 31)
	b.resize(121, 41)
	sa := a.waitFor("alice after bob's filter", fmt.Sprintf("matching %d", ts.bobEvs), `filter user_username="bob@corp.example"`)
	sb := b.waitFor("bob after alice's filter", fmt.Sprintf("matching %d", ts.aliceEvs), `filter user_username="alice@corp.example"`)
	if strings.Contains(sa, "alice@corp.example\"") || strings.Contains(sb, "bob@corp.example\"") {
		t.Fatal("one session's filter shows in the other's")
	}
	a.send(":user alice@corp.example\r")
	a.waitFor("alice's :user", "user alice@corp.example")
	a.send("q")
	if code := a.exit(); code != 0 {
		t.Fatalf("alice's session exit status %d", code)
	}
	b.send(":q\r")
	b.exit()

	fpA, fpB := gossh.FingerprintSHA256(ts.alice.PublicKey()), gossh.FingerprintSHA256(ts.bob.PublicKey())
	ts.waitRecord(t, "bob's disconnect", func(r Record) bool { return r.Event == "disconnect" && r.Fingerprint == fpB })
	type want struct{ event, fp, comment, text string }
	wants := []want{
		{"connect", fpA, "alice@laptop", ""},
		{"connect", fpB, "bob@desk", ""},
		{"filter", fpA, "alice@laptop", `user_username="bob@corp.example"`},
		{"filter", fpB, "bob@desk", `user_username="alice@corp.example"`},
		{"command", fpA, "alice@laptop", "user alice@corp.example"},
		{"disconnect", fpA, "alice@laptop", ""},
		{"command", fpB, "bob@desk", "q"},
		{"disconnect", fpB, "bob@desk", ""},
	}
	recs := ts.records(t)
	for _, w := range wants {
		found := false
		for _, r := range recs {
			if r.Event == w.event && r.Fingerprint == w.fp && r.Comment == w.comment && r.Text == w.text &&
				r.Remote != "" && r.User == "oncall" && r.Session != 0 && !r.Time.IsZero() {
				found = true
				if w.event == "disconnect" && (r.Seconds == nil || *r.Seconds <= 0) {
					t.Errorf("disconnect without duration: %+v", r)
				}
				if w.event == "connect" && (r.Term != "xterm-256color" || r.Window == "") {
					t.Errorf("connect without terminal: %+v", r)
				}
			}
		}
		if !found {
			t.Errorf("no access record %+v in:\n%s", w, ts.access.String())
		}
	}
	// Sessions are told apart: alice's records carry one session number,
	// bob's another.
	ids := map[string]map[uint64]bool{fpA: {}, fpB: {}}
	for _, r := range recs {
		if ids[r.Fingerprint] != nil {
			ids[r.Fingerprint][r.Session] = true
		}
	}
	if len(ids[fpA]) != 1 || len(ids[fpB]) != 1 {
		t.Errorf("session numbers: %v", ids)
	}

	// Read-only on evidence: the source is byte for byte and time for time
	// what it was.
	fiAfter, _ := os.Stat(ts.src)
	if after := sha256File(t, ts.src); after != before || !fiAfter.ModTime().Equal(fiBefore.ModTime()) {
		t.Fatal("the source changed while sessions read it")
	}
}

func sha256File(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestNothingButTheTUI: unknown keys, passwords and keyboard-interactive
// are refused at authentication; remote commands, sessions without a
// terminal, subsystems (SFTP), port forwarding both ways, agent and X11
// forwarding are refused.
func TestNothingButTheTUI(t *testing.T) {
	ts := startServer(t, nil)
	for name, auth := range map[string]gossh.AuthMethod{
		"unknown key": gossh.PublicKeys(ts.mallory),
		"password":    gossh.Password("hunter2"),
		"keyboard-interactive": gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"hunter2"}, nil
		}),
	} {
		c, err := ts.dial(auth)
		if err == nil {
			c.Close()
			t.Errorf("%s: authenticated", name)
			continue
		}
		if !strings.Contains(err.Error(), "unable to authenticate") || !strings.Contains(err.Error(), "attempted methods [none") {
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "keyboard") {
			t.Errorf("%s: the server offered more than publickey: %v", name, err)
		}
	}
	fpM := gossh.FingerprintSHA256(ts.mallory.PublicKey())
	ts.waitRecord(t, "mallory refused", func(r Record) bool { return r.Event == "auth_refused" && r.Fingerprint == fpM })
	ts.waitRecord(t, "a failed handshake", func(r Record) bool { return r.Event == "handshake_failed" && r.Remote != "" })

	c := ts.client(t, ts.alice)
	// A remote command: refused with a message, exit status 1.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.CombinedOutput("cat /etc/passwd")
	var ee *gossh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 || !strings.Contains(string(out), "runs no commands") || strings.Contains(string(out), "root:") {
		t.Fatalf("remote command: err=%v out=%q", err, out)
	}
	ts.waitRecord(t, "the refused command", func(r Record) bool {
		return r.Event == "refused" && r.Text == "cat /etc/passwd" && r.Reason == "remote command"
	})
	// A shell without a terminal.
	s, _ = c.NewSession()
	out, err = s.CombinedOutput("")
	if err == nil || !strings.Contains(string(out), "needs a terminal") {
		t.Fatalf("no pty: err=%v out=%q", err, out)
	}
	// With a terminal and a command (ssh -t host cmd): still refused.
	s, _ = c.NewSession()
	if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	out, err = s.CombinedOutput("sh")
	if err == nil || !strings.Contains(string(out), "runs no commands") {
		t.Fatalf("pty + command: err=%v out=%q", err, out)
	}
	// SFTP and any other subsystem.
	s, _ = c.NewSession()
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Fatal("the sftp subsystem was granted")
	}
	s.Close()
	// Agent forwarding, X11, signals, break: refused requests.
	s, _ = c.NewSession()
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req", "signal", "break", "xon-xoff", "anything"} {
		ok, err := s.SendRequest(req, true, nil)
		if err != nil {
			t.Fatalf("%s: %v", req, err)
		}
		if ok {
			t.Errorf("session request %s granted", req)
		}
	}
	// A flood of env requests is capped.
	granted := 0
	for k := range 100 {
		if err := s.Setenv(fmt.Sprintf("V%d", k), strings.Repeat("x", 1000)); err == nil {
			granted++
		}
	}
	if granted != maxEnv {
		t.Errorf("%d env requests granted, want %d", granted, maxEnv)
	}
	s.Close()
	// Local forwarding (direct-tcpip) and remote forwarding (tcpip-forward).
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if conn, err := c.Dial("tcp", echo.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("local port forwarding was granted")
	}
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("remote port forwarding was granted")
	}
	// Channel types other than session.
	for _, typ := range []string{"direct-tcpip", "forwarded-tcpip", "x11", "auth-agent@openssh.com", "direct-streamlocal@openssh.com"} {
		if ch, _, err := c.OpenChannel(typ, nil); err == nil {
			ch.Close()
			t.Errorf("channel %s opened", typ)
		}
	}
	// The connection still serves the TUI after all that.
	tt := openTTY(t, c, 80, 24)
	tt.waitFor("the TUI after refusals", "1 Tail")
}

// TestLimitsAndKeyChanges: --max-sessions-per-key and --max-sessions with
// their messages; a key removed from authorized_keys gets no new session,
// one added gets in, without a restart.
func TestLimitsAndKeyChanges(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessions, c.MaxSessionsPerKey = 2, 1 })
	a1 := openTTY(t, ts.client(t, ts.alice), 80, 24)
	a1.waitFor("alice's first session", "1 Tail")
	a2 := openTTY(t, ts.client(t, ts.alice), 80, 24)
	a2.waitFor("alice's second session refused", "your key already has 1 sessions open")
	if code := a2.exit(); code != 1 {
		t.Fatalf("refused session exit status %d", code)
	}
	b1 := openTTY(t, ts.client(t, ts.bob), 80, 24)
	b1.waitFor("bob's session", "1 Tail")

	// mallory is added to the file: she authenticates, but the server is
	// full.
	f, err := os.OpenFile(ts.keysPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(authLine(ts.mallory, "mallory@new"))
	f.Close()
	m := openTTY(t, ts.client(t, ts.mallory), 80, 24)
	m.waitFor("the server is full", "the server is full")
	m.exit()
	ts.waitRecord(t, "the full server refusal", func(r Record) bool {
		return r.Event == "refused" && r.Comment == "mallory@new" && strings.Contains(r.Reason, "full")
	})
	a1.send("q")
	a1.exit()
	m2 := openTTY(t, ts.client(t, ts.mallory), 80, 24)
	m2.waitFor("mallory in", "1 Tail")

	// alice is removed: refused at authentication.
	if err := os.WriteFile(ts.keysPath+".new", []byte(authLine(ts.bob, "bob@desk")+authLine(ts.mallory, "mallory@new")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ts.keysPath+".new", ts.keysPath); err != nil {
		t.Fatal(err)
	}
	if c, err := ts.dial(gossh.PublicKeys(ts.alice)); err == nil {
		c.Close()
		t.Fatal("a removed key authenticated")
	}
}

// TestIdleTimeout: a session without input is ended with a message.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 2 * time.Second })
	// Typing keeps a session open past the timeout.
	typing := openTTY(t, ts.client(t, ts.bob), 80, 24)
	idle := openTTY(t, ts.client(t, ts.alice), 80, 24)
	for range 30 {
		typing.send("j")
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-typing.done:
		t.Fatalf("a typing session was ended: %v\n%s", err, typing.screen())
	default:
	}
	typing.waitFor("the typing session's TUI", "1 Tail")
	// The other one typed nothing: ended with a message.
	idle.waitFor("the idle message", "session ended: no input for 2s (--idle-timeout)")
	if code := idle.exit(); code != 1 {
		t.Fatalf("exit status %d", code)
	}
	ts.waitRecord(t, "the idle disconnect", func(r Record) bool {
		return r.Event == "disconnect" && strings.Contains(r.Reason, "no input")
	})
}

// TestHostileWindows: 10000x10000 and 1x1 terminals and a resize storm
// neither allocate without bound nor break the session or others.
func TestHostileWindows(t *testing.T) {
	ts := startServer(t, nil)
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	huge := openTTY(t, ts.client(t, ts.alice), 10000, 10000)
	huge.waitFor("a 10000x10000 terminal", "1 Tail", "loaded")
	tiny := openTTY(t, ts.client(t, ts.bob), 1, 1)
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	// A 10000x10000 screen of cells would be gigabytes; clamped it is a
	// few MB.
	if grew := int64(m1.HeapInuse) - int64(m0.HeapInuse); grew > 64<<20 {
		t.Fatalf("the heap grew by %d MB for two sessions", grew>>20)
	}
	if got := ts.records(t); !strings.Contains(fmt.Sprint(got), "10000x10000") {
		t.Errorf("the requested window is not in the connect record")
	}

	// A resize storm: thousands of window changes, absurd ones included.
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][2]int{{0, 0}, {1, 1}, {10000, 10000}, {1 << 30, 1 << 30}, {3, 200}, {400, 1}}
	for k := range 3000 {
		w, h := 1+rng.IntN(300), 1+rng.IntN(100)
		if k%10 == 0 {
			s := sizes[k/10%len(sizes)]
			w, h = s[0], s[1]
		}
		if err := tiny.sess.WindowChange(h, w); err != nil {
			t.Fatal(err)
		}
	}
	tiny.resize(100, 30)
	tiny.filter(`user_username="bob@corp.example"`)
	tiny.waitFor("the stormed session filters", fmt.Sprintf("matching %d", ts.bobEvs))
	huge.filter(`verb="delete"`)
	huge.waitFor("the huge session filters", "matching")
}

// TestSlowReaderBlocksNobody: a client that stops reading (its TCP
// receive buffer is tiny and it no longer reads the socket at all) does
// not hold up the other sessions, and is disconnected after the stall
// timeout.
func TestSlowReaderBlocksNobody(t *testing.T) {
	// Small socket buffers on both sides, so a client that stops reading
	// blocks the server's writes after kilobytes, not megabytes.
	ts := startServerOn(t, func(c *Config) { c.StallTimeout = 2 * time.Second },
		func(l net.Listener) net.Listener { return smallSendBuf{l} })
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	raw, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	pc := &pausableConn{Conn: raw, resume: make(chan struct{})}
	t.Cleanup(pc.unpause)
	cc, chans, reqs, err := gossh.NewClientConn(pc, ts.addr, &gossh.ClientConfig{
		User: "slow", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.alice)}, HostKeyCallback: gossh.FixedHostKey(ts.hostKey)})
	if err != nil {
		t.Fatal(err)
	}
	slowC := gossh.NewClient(cc, chans, reqs)
	t.Cleanup(func() { slowC.Close() })
	slow, err := slowC.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	got := &syncBuf{}
	slow.Stdout = got
	in, err := slow.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.RequestPty("xterm-256color", MaxHeight, MaxWidth, nil); err != nil {
		t.Fatal(err)
	}
	if err := slow.Shell(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(got.String(), "Tail"); {
		if time.Now().After(deadline) {
			t.Fatal("the slow client never saw its first screen")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pc.pause() // from now on it reads nothing
	// Make it draw: whole new screens (other panes), far more than the
	// buffers between it and the server hold.
	stop := make(chan struct{})
	hammered := make(chan struct{})
	go func() {
		defer close(hammered)
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := in.Write([]byte{"1425"[k%4]}); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer func() { close(stop); pc.unpause(); <-hammered }()

	// Meanwhile another session works, start to finish.
	b := openTTY(t, ts.client(t, ts.bob), 80, 24)
	b.waitFor("bob's screen beside a stuck client", "1 Tail", "loaded")
	b.filter(`user_username="bob@corp.example"`)
	b.waitFor("bob filters beside a stuck client", fmt.Sprintf("matching %d", ts.bobEvs))

	// The stuck client is dropped once its output has not moved for the
	// stall timeout.
	ts.waitRecord(t, "the stalled disconnect", func(r Record) bool {
		return r.Event == "disconnect" && r.User == "slow" && strings.Contains(r.Reason, "read no output")
	})
	b.send("2")
	b.waitFor("bob still works", "USERS BY EVENTS")
}

// smallSendBuf gives accepted connections a small send buffer.
type smallSendBuf struct{ net.Listener }

func (l smallSendBuf) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// pausableConn stops reading when paused, as a client that hangs would.
type pausableConn struct {
	net.Conn
	mu     sync.Mutex
	paused bool
	resume chan struct{}
}

func (c *pausableConn) pause() { c.mu.Lock(); c.paused = true; c.mu.Unlock() }

func (c *pausableConn) unpause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		c.paused = false
		close(c.resume)
	}
}

func (c *pausableConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	paused, resume := c.paused, c.resume
	c.mu.Unlock()
	if paused {
		<-resume
	}
	return c.Conn.Read(p)
}

// TestGarbage: bytes that are not SSH on the port, and random bytes typed
// into a session, break nothing.
func TestGarbage(t *testing.T) {
	ts := startServer(t, nil)
	for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), bytes.Repeat([]byte{0xff, 0, 0x1b}, 5000), []byte("SSH-2.0-x\r\n" + strings.Repeat("\x00\x00\x00\x0c", 1000))} {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write(junk)
		buf := make([]byte, 4096)
		for {
			if _, err := conn.Read(buf); err != nil {
				break
			}
		}
		conn.Close()
	}
	ts.waitRecord(t, "a failed handshake", func(r Record) bool { return r.Event == "handshake_failed" })

	rng := rand.New(rand.NewPCG(3, 4))
	junk := make([]byte, 64<<10)
	for k := range junk {
		junk[k] = byte(rng.IntN(256))
		if junk[k] == 'q' || junk[k] == 3 { // keep the session: no q, no ctrl+c
			junk[k] = 'x'
		}
	}
	g := openTTY(t, ts.client(t, ts.alice), 80, 24)
	g.waitFor("the TUI", "1 Tail")
	g.send(string(junk))
	time.Sleep(500 * time.Millisecond)
	b := openTTY(t, ts.client(t, ts.bob), 80, 24)
	b.waitFor("another session after garbage", "1 Tail", "loaded")
	g.send("\x1b\x1b\x1b")
	time.Sleep(200 * time.Millisecond)
	g.resize(81, 25)
	g.waitFor("the garbage session still draws", "Tail")
}

// TestWritePolicyPerKey: with --data-dir each key writes under its own
// directory and nowhere else; without, writing is off.
func TestWritePolicyPerKey(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	ts := startServer(t, func(c *Config) { c.DataDir = dataDir })
	key, _ := ts.keys.Lookup(ts.alice.PublicKey())
	o := ts.sessionOptions(Record{}, key, nil)
	d, err := o.Write.Dir("case-1")
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	want := filepath.Join(KeyDir(dataDir, key.Fingerprint), "case-1")
	if d.Path != want {
		t.Fatalf("alice writes to %s, want %s", d.Path, want)
	}
	for _, bad := range []string{"../SHA256_other/x", "/etc", ts.src} {
		if _, err := o.Write.Dir(bad); err == nil {
			t.Errorf("alice may write to %s", bad)
		}
	}
	bk, _ := ts.keys.Lookup(ts.bob.PublicKey())
	if ob := ts.sessionOptions(Record{}, bk, nil); ob.Write.Where() == o.Write.Where() {
		t.Fatal("two keys share a directory")
	}

	off := startServer(t, nil)
	o = off.sessionOptions(Record{}, key, []string{"NO_COLOR=1"})
	if _, err := o.Write.Dir("x"); !errors.Is(err, ui.ErrWritesOff) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("without --data-dir: %v", err)
	}
	if !o.NoColor {
		t.Fatal("NO_COLOR from the client is not honoured")
	}
}

// TestShutdownTellsSessions: stopping the server ends sessions with a
// message.
func TestShutdownTellsSessions(t *testing.T) {
	ts := startServer(t, nil)
	tt := openTTY(t, ts.client(t, ts.alice), 80, 24)
	tt.waitFor("the TUI", "1 Tail")
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- ts.Shutdown(ctx)
	}()
	tt.waitFor("the shutdown message", "session ended: the server is shutting down")
	tt.exit()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := ts.dial(gossh.PublicKeys(ts.alice)); err == nil {
		t.Fatal("the server still accepts connections after Shutdown")
	}
}

// TestPanicEndsOnlyThatSession: a panic in one session's TUI ends that
// session with a message; the server and the other sessions go on.
func TestPanicEndsOnlyThatSession(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		compile := c.UI.Compile
		c.UI.Compile = func(text string) (*ui.Filter, error) {
			if text == "boom" {
				panic("a bug in the filter compiler")
			}
			return compile(text)
		}
	})
	a := openTTY(t, ts.client(t, ts.alice), 80, 24)
	b := openTTY(t, ts.client(t, ts.bob), 80, 24)
	a.waitFor("alice's TUI", "1 Tail")
	b.waitFor("bob's TUI", "1 Tail")
	a.filter("boom")
	a.waitFor("the panic message", "session ended: internal error")
	a.exit()
	b.filter(`user_username="bob@corp.example"`)
	b.waitFor("bob after alice's panic", fmt.Sprintf("matching %d", ts.bobEvs))
	c := openTTY(t, ts.client(t, ts.alice), 80, 24)
	c.waitFor("a new session after the panic", "1 Tail")
}

// lateAccept is a listener whose Accept, once the listener is closed,
// reports it only after a while: the SSH server's Serve loop then still
// tracks the listener when Shutdown closes the server.
type lateAccept struct{ net.Listener }

func (l lateAccept) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		time.Sleep(300 * time.Millisecond)
	}
	return c, err
}

// Shutdown closes the listeners, then the SSH server, which closes the
// ones it still tracks a second time: that is no error (the harness's
// cleanup fails the test on any).
func TestShutdownWhileServeStillTracksTheListener(t *testing.T) {
	ts := startServerOn(t, nil, func(ln net.Listener) net.Listener { return lateAccept{ln} })
	// A connection accepted proves Serve is in its Accept loop.
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestQuitAndReconnectAtOnce: with room for one session, a user who quits
// and connects again at once gets in: the slot is free before the client
// learns that its session ended.
func TestQuitAndReconnectAtOnce(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessions = 1 })
	for i := range 10 {
		tt := openTTY(t, ts.client(t, ts.alice), 80, 24)
		tt.waitFor(fmt.Sprintf("session %d", i), "1 Tail")
		tt.send("q")
		if code := tt.exit(); code != 0 {
			t.Fatalf("session %d: exit status %d", i, code)
		}
	}
}

// TestRefusalsAreLogged: what an authorized key asks for and is refused
// (SFTP, local and remote port forwarding, agent and X11 forwarding) is
// in the access log with the key, not only refused; a connection that
// floods refusals gets a bounded number of records, the last saying so.
func TestRefusalsAreLogged(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, ts.alice)
	fp := gossh.FingerprintSHA256(ts.alice.PublicKey())
	refusal := func(what, reason, text string) {
		t.Helper()
		ts.waitRecord(t, what, func(r Record) bool {
			return r.Event == "refused" && r.Fingerprint == fp && r.Comment == "alice@laptop" && r.Remote != "" &&
				strings.Contains(r.Reason, reason) && r.Text == text
		})
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Fatal("the sftp subsystem was granted")
	}
	s.Close()
	refusal("sftp", "subsystem sftp", "")

	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	_, err = c.Dial("tcp", echo.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "forwards nothing") {
		t.Fatalf("local forwarding: %v", err)
	}
	refusal("ssh -L", "port forwarding (ssh -L, -D)", echo.Addr().String())
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("remote port forwarding was granted")
	}
	refusal("ssh -R", "remote port forwarding (ssh -R)", "127.0.0.1:0")

	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req"} {
		if ok, err := s.SendRequest(req, true, nil); err != nil || ok {
			t.Fatalf("%s: granted %v, %v", req, ok, err)
		}
	}
	refusal("ssh -A", "agent forwarding", "")
	refusal("ssh -X", "X11 forwarding", "")

	// A flood: the records stop at maxRefusalsLogged+1, the last one says so.
	for range 3 * maxRefusalsLogged {
		if ok, err := s.SendRequest("auth-agent-req@openssh.com", true, nil); err != nil || ok {
			t.Fatalf("agent forwarding: granted %v, %v", ok, err)
		}
	}
	last := ts.waitRecord(t, "the last refusal logged", func(r Record) bool {
		return r.Event == "refused" && strings.Contains(r.Reason, "the later ones are not logged")
	})
	if !strings.Contains(last.Reason, fmt.Sprintf("%d requests of this connection were refused", maxRefusalsLogged+1)) {
		t.Errorf("last refusal: %q", last.Reason)
	}
	// The keepalives every OpenSSH client may send are not refusals.
	if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range ts.records(t) {
		if r.Event == "refused" {
			n++
		}
	}
	if n != maxRefusalsLogged+1 {
		t.Errorf("%d refusals logged for one connection, want %d", n, maxRefusalsLogged+1)
	}
}

// TestRemovedKeyEndsItsSessions: a key taken out of authorized_keys ends
// the sessions it has open, with a message and a disconnect record; the
// other keys' sessions go on. A missing file ends none.
func TestRemovedKeyEndsItsSessions(t *testing.T) {
	ts := startServer(t, nil)
	a := openTTY(t, ts.client(t, ts.alice), 80, 24)
	b := openTTY(t, ts.client(t, ts.bob), 80, 24)
	a.waitFor("alice's session", "1 Tail")
	b.waitFor("bob's session", "1 Tail")

	// The file gone for a while: nobody new gets in, nobody is ended.
	if err := os.Rename(ts.keysPath, ts.keysPath+".away"); err != nil {
		t.Fatal(err)
	}
	if c, err := ts.dial(gossh.PublicKeys(ts.alice)); err == nil {
		c.Close()
		t.Fatal("a key got in without the file")
	}
	deadline := time.Now().Add(2*removedGrace + time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-a.done:
			t.Fatalf("alice's session ended while the file was missing: %v\n%s", err, a.screen())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := os.Rename(ts.keysPath+".away", ts.keysPath); err != nil {
		t.Fatal(err)
	}

	// alice is removed.
	if err := os.WriteFile(ts.keysPath+".new", []byte(authLine(ts.bob, "bob@desk")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ts.keysPath+".new", ts.keysPath); err != nil {
		t.Fatal(err)
	}
	a.waitFor("alice told", "session ended: your key was removed from the authorized keys")
	if code := a.exit(); code != 1 {
		t.Fatalf("alice's exit status %d", code)
	}
	fp := gossh.FingerprintSHA256(ts.alice.PublicKey())
	ts.waitRecord(t, "alice's disconnect", func(r Record) bool {
		return r.Event == "disconnect" && r.Fingerprint == fp && strings.Contains(r.Reason, "removed from the authorized keys")
	})
	b.filter(`user_username="bob@corp.example"`)
	b.waitFor("bob's session goes on", fmt.Sprintf("matching %s", thousands(ts.bobEvs)))
}

// TestClientClosesItsSession: a client that closes its session channel
// but keeps the connection (OpenSSH's ControlMaster when the terminal of
// a multiplexed session goes) ends that session: its place under the
// limits is free and the access log has the disconnect.
func TestClientClosesItsSession(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessionsPerKey = 1 })
	c := ts.client(t, ts.alice)
	a := openTTY(t, c, 80, 24)
	a.waitFor("alice's session", "1 Tail")
	a.sess.Close()
	fp := gossh.FingerprintSHA256(ts.alice.PublicKey())
	ts.waitRecord(t, "the disconnect", func(r Record) bool {
		return r.Event == "disconnect" && r.Fingerprint == fp && strings.Contains(r.Reason, "went away")
	})
	again := openTTY(t, c, 80, 24)
	again.waitFor("a new session on the same connection", "1 Tail")
}
