package serve

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui"
	"github.com/audittui/audittui/internal/ui/live"
)

// testServer is a Server over a copy of the bundled sample, listening on
// 127.0.0.1, with three keys: alice and bob are authorized, mallory not.
type testServer struct {
	*Server
	addr                 string
	access               *syncBuf
	keysPath, src, dir   string
	alice, bob, mallory  gossh.Signer
	hostKey              gossh.PublicKey
	sampleEvents, bobEvs int
	aliceEvs             int
}

func startServer(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	return startServerOn(t, mod, nil)
}

// startServerOn is startServer with a listener wrapper (nil: none).
func startServerOn(t *testing.T, mod func(*Config), wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{dir: dir, alice: newSigner(t), bob: newSigner(t), mallory: newSigner(t), access: &syncBuf{}}
	ts.src = filepath.Join(dir, "audit.log")
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ts.src, b, 0o400); err != nil { // read-only, as evidence is
		t.Fatal(err)
	}
	ts.sampleEvents = strings.Count(string(b), "\n")
	ts.bobEvs = strings.Count(string(b), `"user":{"username":"bob@corp.example"`)
	ts.aliceEvs = strings.Count(string(b), `"user":{"username":"alice@corp.example"`)
	ts.keysPath = filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(ts.keysPath, []byte(authLine(ts.alice, "alice@laptop")+authLine(ts.bob, "bob@desk")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	src, err := file.New(ts.src, file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := cmdutil.LoadRules(nil, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lv, err := live.Open(ctx, live.Options{Sources: []data.Source{src}, Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lv.Close() })
	cfg := Config{
		HostKey: filepath.Join(dir, "host_key"), AuthorizedKeys: ts.keysPath, Live: lv,
		UI:        ui.Options{Title: "audit.log", Compile: ui.CompileLogQL},
		AccessLog: NewAccessLog(ts.access, nil), MaxSessions: 8, MaxSessionsPerKey: 4,
		StallTimeout: 30 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	ts.hostKey = srv.signer.PublicKey()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	if wrap != nil {
		ln = wrap(ln)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		cfg.AccessLog.Close()
	})
	return ts
}

// dial connects with auth methods, checking the host key.
func (ts *testServer) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: "oncall", Auth: auth, HostKeyCallback: gossh.FixedHostKey(ts.hostKey), Timeout: 10 * time.Second,
	})
}

func (ts *testServer) client(t *testing.T, s gossh.Signer) *gossh.Client {
	t.Helper()
	c, err := ts.dial(gossh.PublicKeys(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// records returns the access log's records so far.
func (ts *testServer) records(t *testing.T) []Record {
	t.Helper()
	var out []Record
	for _, line := range strings.Split(strings.TrimSpace(ts.access.String()), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("access log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// waitRecord waits for an access record matching ok.
func (ts *testServer) waitRecord(t *testing.T, what string, ok func(Record) bool) Record {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range ts.records(t) {
			if ok(r) {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no access record for %s; log:\n%s", what, ts.access.String())
	return Record{}
}

// tty is a session with a terminal running the TUI; what the server
// sends is drawn by a terminal emulator, as a person's terminal would.
type tty struct {
	t    *testing.T
	sess *gossh.Session
	in   io.WriteCloser
	raw  *syncBuf
	mu   sync.Mutex
	emu  *vt.Emulator
	done chan error
}

func (tt *tty) Write(p []byte) (int, error) {
	tt.mu.Lock()
	tt.emu.Write(p)
	tt.mu.Unlock()
	return tt.raw.Write(p)
}

func openTTY(t *testing.T, c *gossh.Client, w, h int) *tty {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	ew, eh := ClampWindow(w, h)
	tt := &tty{t: t, sess: sess, raw: &syncBuf{}, emu: vt.NewEmulator(ew, eh), done: make(chan error, 1)}
	// The terminal's answers to queries are dropped (the emulator blocks
	// until they are read). The goroutine ends with the test process: the
	// emulator's Close races with its Read.
	go io.Copy(io.Discard, tt.emu)
	sess.Stdout = tt
	sess.Stderr = tt
	if tt.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { tt.done <- sess.Wait() }()
	t.Cleanup(func() { sess.Close() })
	return tt
}

// screen is what the terminal shows now.
func (tt *tty) screen() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.emu.String()
}

// resize changes the terminal's size (the emulator takes the size the
// server draws for).
func (tt *tty) resize(w, h int) {
	tt.t.Helper()
	tt.mu.Lock()
	tt.emu.Resize(ClampWindow(w, h))
	tt.mu.Unlock()
	if err := tt.sess.WindowChange(h, w); err != nil {
		tt.t.Fatal(err)
	}
}

// waitFor waits until every want is on the screen, and returns it.
func (tt *tty) waitFor(what string, want ...string) string {
	tt.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		s = tt.screen()
		all := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				all = false
				break
			}
		}
		if all {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	tt.t.Fatalf("%s: the screen never showed %q; it shows:\n%s", what, want, s)
	return ""
}

func (tt *tty) send(s string) {
	tt.t.Helper()
	if _, err := io.WriteString(tt.in, s); err != nil {
		tt.t.Fatalf("send %q: %v", s, err)
	}
}

// filter types a filter into the bar and submits it.
func (tt *tty) filter(q string) {
	tt.send("/")
	time.Sleep(100 * time.Millisecond) // the bar opens before the text comes
	tt.send(q + "\r")
}

// exit waits for the session to end and returns its exit status (-1:
// ended without one).
func (tt *tty) exit() int {
	tt.t.Helper()
	select {
	case err := <-tt.done:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*gossh.ExitError); ok {
			return ee.ExitStatus()
		}
		return -1
	case <-time.After(20 * time.Second):
		tt.t.Fatal("the session did not end")
		return -1
	}
}
