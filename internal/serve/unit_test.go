package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authLine(s gossh.Signer, comment string) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey()))) + " " + comment + "\n"
}

func TestHostKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "host_ed25519")
	s1, created, err := HostKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	if s1.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Fatalf("host key type %s, want ed25519", s1.PublicKey().Type())
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v %v", fi.Mode(), err)
	}
	s2, created, err := HostKey(path)
	if err != nil || created {
		t.Fatalf("second start: created=%v err=%v", created, err)
	}
	if !bytes.Equal(s1.PublicKey().Marshal(), s2.PublicKey().Marshal()) {
		t.Fatal("the host key changed between starts")
	}
	// A key others may read is refused; group read (a Secret with
	// fsGroup) is not.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("mode 0644 accepted: %v", err)
	}
	if err := os.Chmod(path, 0o440); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HostKey(path); err != nil {
		t.Fatalf("mode 0440: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HostKey(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("garbage host key: %v", err)
	}
	if _, _, err := HostKey(filepath.Join(dir, "missing-dir", "key")); err == nil {
		t.Fatal("a key in a missing directory was created")
	}
}

func TestAuthorizedKeysParse(t *testing.T) {
	a, b := newSigner(t), newSigner(t)
	la, lb := authLine(a, "alice@laptop"), authLine(b, "bob")
	for name, tc := range map[string]struct {
		text string
		want string // error text; "" : fine
	}{
		"ok":             {"# team\n\n" + la + "restrict,no-agent-forwarding " + lb, ""},
		"garbage":        {la + "ssh-ed25519 AAAAnotbase64 x\n", ":2:"},
		"forced command": {"command=\"ls\" " + la, "option command is not supported"},
		"from":           {"from=\"10.0.0.0/8\" " + la, "option from is not supported"},
		"no-pty":         {"no-pty " + la, "option no-pty is not supported"},
		"empty":          {"# nobody\n", "no key"},
		"cert-authority": {"cert-authority " + la, "cert-authority"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "authorized_keys")
			if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := LoadAuthorizedKeys(p, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				ka, ok := k.Lookup(a.PublicKey())
				if !ok || ka.Comment != "alice@laptop" || ka.Fingerprint != gossh.FingerprintSHA256(a.PublicKey()) || ka.Line != 3 {
					t.Fatalf("alice: %+v %v", ka, ok)
				}
				if _, ok := k.Lookup(b.PublicKey()); !ok {
					t.Fatal("bob (with restrict) not authorized")
				}
				if _, ok := k.Lookup(newSigner(t).PublicKey()); ok {
					t.Fatal("a stranger is authorized")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want it to name %s and say %q", err, p, tc.want)
			}
		})
	}
}

// TestAuthorizedKeysReload: the file is read again when it changes: a
// removed key is refused, an added one accepted, a broken line skipped,
// and a missing file refuses everyone until it is back.
func TestAuthorizedKeysReload(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "authorized_keys")
	a, b := newSigner(t), newSigner(t)
	write := func(text string) {
		t.Helper()
		// Written aside and renamed over, as editors and Kubernetes do
		// (a new inode), and also in place below.
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	write(authLine(a, "alice"))
	var logs bytes.Buffer
	k, err := LoadAuthorizedKeys(p, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(a.PublicKey()); !ok {
		t.Fatal("alice refused")
	}
	write(authLine(b, "bob"))
	if _, ok := k.Lookup(a.PublicKey()); ok {
		t.Fatal("alice still authorized after her key was removed")
	}
	if _, ok := k.Lookup(b.PublicKey()); !ok {
		t.Fatal("bob refused after his key was added")
	}
	// In place, same size: the modification time (and ctime) tell.
	lineA := authLine(a, "bob")
	if len(lineA) != len(authLine(b, "bob")) {
		t.Fatal("test keys differ in length")
	}
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(p, []byte(lineA), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(b.PublicKey()); ok {
		t.Fatal("a same-size rewrite in place was not noticed")
	}
	write("garbage line\n" + authLine(b, "bob"))
	if _, ok := k.Lookup(b.PublicKey()); !ok {
		t.Fatal("a broken line made a reload refuse the good one")
	}
	if !strings.Contains(logs.String(), "authorized_keys:1") {
		t.Fatalf("the skipped line is not logged with its place:\n%s", logs.String())
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(b.PublicKey()); ok {
		t.Fatal("a missing file still authorizes")
	}
	write(authLine(b, "bob"))
	if _, ok := k.Lookup(b.PublicKey()); !ok {
		t.Fatal("the file is back but bob is refused")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAccessLog(t *testing.T) {
	var buf syncBuf
	l := NewAccessLog(&buf, nil)
	for k := range 1000 {
		l.Log(Record{Event: "filter", Session: uint64(k), Text: fmt.Sprintf("q%d", k)})
	}
	l.Log(Record{Event: "command", Text: "evil \x1b[2J \u009b31m \x7f \u2028 end"})
	l.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1001 {
		t.Fatalf("%d lines, want 1001", len(lines))
	}
	for k, line := range lines[:1000] {
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Session != uint64(k) || r.Text != fmt.Sprintf("q%d", k) || r.Time.IsZero() || r.Time.Location() != time.UTC {
			t.Fatalf("line %d out of order or incomplete: %s", k, line)
		}
	}
	last := lines[1000]
	for _, raw := range []string{"\x1b", "\u009b", "\x7f", "\u2028"} {
		if strings.Contains(last, raw) {
			t.Fatalf("control %q reached the log raw: %q", raw, last)
		}
	}
	var r Record
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		t.Fatal(err)
	}
	if r.Text != "evil \x1b[2J \u009b31m \x7f \u2028 end" {
		t.Fatalf("escaped text does not decode back: %q", r.Text)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestAccessLogWriteFailureIsReported(t *testing.T) {
	var logs syncBuf
	l := NewAccessLog(failWriter{}, slog.New(slog.NewTextHandler(&logs, nil)))
	l.Log(Record{Event: "connect", Fingerprint: "SHA256:x"})
	l.Close()
	if !strings.Contains(logs.String(), "disk full") || !strings.Contains(logs.String(), "SHA256:x") {
		t.Fatalf("a lost record is not reported with its content:\n%s", logs.String())
	}
}

func TestLimits(t *testing.T) {
	l := newLimits(3, 2)
	r1, err := l.acquire("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.acquire("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.acquire("a"); err == nil || !strings.Contains(err.Error(), "--max-sessions-per-key") {
		t.Fatalf("third session of a key: %v", err)
	}
	if _, err := l.acquire("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.acquire("c"); err == nil || !strings.Contains(err.Error(), "server is full") {
		t.Fatalf("fourth session: %v", err)
	}
	r1()
	r1() // twice is once
	if l.open() != 2 {
		t.Fatalf("%d open after a release, want 2", l.open())
	}
	if _, err := l.acquire("c"); err != nil {
		t.Fatal(err)
	}
	l.close()
	if _, err := l.acquire("d"); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("after close: %v", err)
	}
}

func TestClampWindow(t *testing.T) {
	for _, tc := range []struct{ w, h, ww, wh int }{
		{80, 24, 80, 24}, {1, 1, 1, 1}, {0, 0, 80, 24}, {0, 50, 80, 24}, {-5, 10, 80, 24},
		{10000, 10000, MaxWidth, MaxHeight}, {1 << 31, 3, MaxWidth, 3}, {250, 100000, 250, MaxHeight},
	} {
		if w, h := ClampWindow(tc.w, tc.h); w != tc.ww || h != tc.wh {
			t.Errorf("ClampWindow(%d, %d) = %d, %d; want %d, %d", tc.w, tc.h, w, h, tc.ww, tc.wh)
		}
	}
}

func TestKeyDir(t *testing.T) {
	got := KeyDir("/data", "SHA256:ab/cd+ef")
	if got != "/data/SHA256_ab_cd-ef" {
		t.Fatalf("KeyDir = %s", got)
	}
	s := newSigner(t)
	fp := gossh.FingerprintSHA256(s.PublicKey())
	if d := KeyDir("/data", fp); filepath.Dir(d) != "/data" || strings.ContainsAny(filepath.Base(d), "/:+") {
		t.Fatalf("KeyDir(%s) = %s: not one safe name under /data", fp, d)
	}
}
