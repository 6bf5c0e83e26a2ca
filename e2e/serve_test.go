package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// requireOpenSSH returns the paths of ssh and ssh-keygen (openssh-client,
// which scripts/deps.sh installs); it skips without them, except in CI.
func requireOpenSSH(t *testing.T) (ssh, keygen string) {
	t.Helper()
	for _, p := range []*string{&ssh, &keygen} {
		name := "ssh"
		if p == &keygen {
			name = "ssh-keygen"
		}
		*p = testutil.Tool(t, name, "openssh-client")
	}
	return ssh, keygen
}

// lockedBuf is a buffer safe for the process writing and the test reading.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sshServer is `audittui serve` running as a process, with its keys and
// the OpenSSH client options to reach it.
type sshServer struct {
	t         *testing.T
	dir       string
	cmd       *exec.Cmd
	stderr    *lockedBuf
	addr      string
	port      string
	access    string
	ssh       string
	keygen    string
	keys      map[string]string // name -> private key file
	knownHost string
}

// newKey makes an ed25519 key pair with ssh-keygen.
func (s *sshServer) newKey(name, comment string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if out, err := exec.Command(s.keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", p).CombinedOutput(); err != nil {
		s.t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	s.keys[name] = p
	return p
}

var addrRe = regexp.MustCompile(`msg="audittui serve listening" addr=(\S+)`)

// startServe generates alice's (authorized) and mallory's (not) keys and
// starts the server on 127.0.0.1 over sources.
func startServe(t *testing.T, bin string, extra []string, sources ...string) *sshServer {
	t.Helper()
	sshPath, keygen := requireOpenSSH(t)
	s := &sshServer{t: t, dir: t.TempDir(), ssh: sshPath, keygen: keygen, keys: map[string]string{}, stderr: &lockedBuf{}}
	s.newKey("alice", "alice@laptop")
	s.newKey("bob", "bob@desk")
	s.newKey("mallory", "mallory@elsewhere")
	var authorized []byte
	for _, n := range []string{"alice", "bob"} {
		b, err := os.ReadFile(s.keys[n] + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		authorized = append(authorized, b...)
	}
	authFile := filepath.Join(s.dir, "authorized_keys")
	if err := os.WriteFile(authFile, authorized, 0o600); err != nil {
		t.Fatal(err)
	}
	s.access = filepath.Join(s.dir, "access.jsonl")
	hostKey := filepath.Join(s.dir, "host_ed25519")
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--authorized-keys", authFile, "--host-key", hostKey,
		"--access-log", s.access}, extra...)
	s.cmd = exec.Command(bin, append(args, sources...)...)
	s.cmd.Stderr = s.stderr
	s.cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-done
			t.Errorf("serve did not stop on SIGTERM; stderr:\n%s", s.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for s.addr == "" {
		if m := addrRe.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start; stderr:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, s.port, _ = strings.Cut(s.addr, ":")
	// known_hosts from the host key the server generated: the client
	// checks the server strictly, as it would in real use.
	pub, err := exec.Command(keygen, "-y", "-f", hostKey).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y %s: %v", hostKey, err)
	}
	if fi, err := os.Stat(hostKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key %s: %v %v", hostKey, fi.Mode(), err)
	}
	s.knownHost = filepath.Join(s.dir, "known_hosts")
	if err := os.WriteFile(s.knownHost, []byte(fmt.Sprintf("[127.0.0.1]:%s %s", s.port, pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// sshArgs are the OpenSSH client's options: no user configuration, strict
// host key checking against the server's key, only the named key.
func (s *sshServer) sshArgs(key string, extra ...string) []string {
	args := []string{"-F", "/dev/null", "-p", s.port, "-o", "UserKnownHostsFile=" + s.knownHost,
		"-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"}
	if key != "" {
		args = append(args, "-i", s.keys[key], "-o", "BatchMode=yes")
	}
	args = append(args, extra...)
	return append(args, "oncall@127.0.0.1")
}

// sshCommand is the shell command that runs the client (for tmux).
func (s *sshServer) sshCommand(key string, extra ...string) string {
	q := []string{s.ssh}
	for _, a := range s.sshArgs(key, extra...) {
		q = append(q, "'"+a+"'")
	}
	return strings.Join(q, " ")
}

// records reads the access log.
func (s *sshServer) records() []map[string]any {
	s.t.Helper()
	f, err := os.Open(s.access)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			s.t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// waitRecords waits until the access log has every want (field subsets).
func (s *sshServer) waitRecords(what string, want ...map[string]any) []map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs := s.records()
		missing := 0
		for _, w := range want {
			if findRecord(recs, w) == nil {
				missing++
			}
		}
		if missing == 0 {
			return recs
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.access)
			s.t.Fatalf("%s: the access log lacks some of %v:\n%s", what, want, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func findRecord(recs []map[string]any, want map[string]any) map[string]any {
	for _, r := range recs {
		ok := true
		for k, v := range want {
			if fmt.Sprint(r[k]) != fmt.Sprint(v) {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

func fingerprint(t *testing.T, keygen, pub string) string {
	t.Helper()
	out, err := exec.Command(keygen, "-l", "-E", "sha256", "-f", pub).Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out)) // 256 SHA256:... comment (ED25519)
	if len(f) < 2 {
		t.Fatalf("ssh-keygen -l: %q", out)
	}
	return f[1]
}

// TestServeOverOpenSSH drives `audittui serve` with the real OpenSSH
// client in tmux: an authorized key sees the TUI; two sessions filter
// independently; an unknown key, a password and a remote command are
// refused; the access log records the sessions and their queries.
func TestServeOverOpenSSH(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	user, count, total := sampleFacts(t)
	srv := startServe(t, bin, []string{"--no-alerts"}, sample)
	fpAlice := fingerprint(t, srv.keygen, srv.keys["alice"]+".pub")
	fpBob := fingerprint(t, srv.keygen, srv.keys["bob"]+".pub")

	// Refusals, with the client's own words.
	run := func(args ...string) (string, int) {
		cmd := exec.Command(srv.ssh, args...)
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run(srv.sshArgs("mallory", "-t")...); code != 255 || !strings.Contains(out, "Permission denied (publickey)") {
		t.Errorf("unknown key: exit %d: %s", code, out)
	}
	pw := srv.sshArgs("", "-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no",
		"-o", "NumberOfPasswordPrompts=1", "-o", "BatchMode=yes")
	if out, code := run(pw...); code != 255 || !strings.Contains(out, "Permission denied (publickey)") {
		t.Errorf("password: exit %d: %s", code, out)
	}
	if out, code := run(append(srv.sshArgs("alice"), "cat", "/etc/passwd")...); code != 1 ||
		!strings.Contains(out, "runs no commands") || strings.Contains(out, "root:") {
		t.Errorf("remote command: exit %d: %s", code, out)
	}
	if out, code := run(append(srv.sshArgs("alice", "-t"), "sh")...); code != 1 || !strings.Contains(out, "runs no commands") {
		t.Errorf("remote command with -t: exit %d: %s", code, out)
	}
	srv.waitRecords("the refusals",
		map[string]any{"event": "auth_refused", "fingerprint": fingerprint(t, srv.keygen, srv.keys["mallory"]+".pub")},
		map[string]any{"event": "refused", "fingerprint": fpAlice, "reason": "remote command", "text": "cat /etc/passwd"},
	)

	// alice and bob, each in a terminal.
	a := startSession(t, tmux, 120, 40, srv.sshCommand("alice", "-t"))
	b := startSession(t, tmux, 100, 30, srv.sshCommand("bob", "-t"))
	loaded := "loaded " + thousands(total)
	a.waitFor("alice sees the TUI", "1 Tail", "2 Timeline", loaded)
	b.waitFor("bob sees the TUI", "1 Tail", loaded)

	a.keys("/")
	a.waitGone("alice's filter bar", "no filter ·")
	a.text(fmt.Sprintf(`user_username="%s"`, user))
	a.keys("Enter")
	a.waitFor("alice's filter", fmt.Sprintf("matching %s", thousands(count)), `filter user_username="`+user+`"`)

	b.keys("/")
	b.waitGone("bob's filter bar", "no filter ·")
	b.text(`verb="delete"`)
	b.keys("Enter")
	bs := b.waitFor("bob's filter", `filter verb="delete"`, "matching")
	if strings.Contains(bs, user+`"`) {
		t.Fatalf("alice's filter shows in bob's session:\n%s", bs)
	}
	// alice's screen did not change with bob's filter.
	as := a.waitFor("alice keeps hers", fmt.Sprintf("matching %s", thousands(count)))
	if strings.Contains(as, `verb="delete"`) {
		t.Fatalf("bob's filter shows in alice's session:\n%s", as)
	}
	b.keys(":")
	b.text("since 30m")
	b.keys("Enter")
	b.waitFor("bob's :since", "(window ")

	a.keys("q")
	a.waitFor("alice quits", "audittui-exit=0")
	b.keys("q")
	b.waitFor("bob quits", "audittui-exit=0")

	recs := srv.waitRecords("the sessions",
		map[string]any{"event": "connect", "fingerprint": fpAlice, "comment": "alice@laptop", "user": "oncall"},
		map[string]any{"event": "connect", "fingerprint": fpBob, "comment": "bob@desk"},
		map[string]any{"event": "filter", "fingerprint": fpAlice, "text": fmt.Sprintf(`user_username="%s"`, user)},
		map[string]any{"event": "filter", "fingerprint": fpBob, "text": `verb="delete"`},
		map[string]any{"event": "command", "fingerprint": fpBob, "text": "since 30m"},
		map[string]any{"event": "disconnect", "fingerprint": fpAlice},
		map[string]any{"event": "disconnect", "fingerprint": fpBob},
	)
	for _, r := range recs {
		if r["event"] == "connect" {
			if !strings.HasPrefix(fmt.Sprint(r["remote"]), "127.0.0.1:") || r["time"] == nil {
				t.Errorf("connect record without remote address or time: %v", r)
			}
		}
	}
}

// rss returns a process's resident set and its peak, in KiB.
func rss(t *testing.T, pid int) (cur, peak int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			cur = n
		case "VmHWM:":
			peak = n
		}
	}
	return cur, peak
}

// TestServeMemoryTenSessions: ten sessions cost little more than one,
// because the sources are indexed once. It measures the server process's
// resident memory with one session, then with ten (each with its own
// filter), over a file from auditgen: 8 MB here; set
// AUDITTUI_SERVE_MEM_SIZE=100MB for the measurement. The limit is
// 1.3x for the large file; for the small one, whose index is small beside
// the runtime's own baseline, each extra session may cost at most 3 MB.
func TestServeMemoryTenSessions(t *testing.T) {
	tmux := requireTmux(t)
	bin := buildBinary(t)
	size := os.Getenv("AUDITTUI_SERVE_MEM_SIZE")
	big := size != ""
	if !big {
		size = "8MB"
	}
	file := filepath.Join(t.TempDir(), "audit.log")
	gen := exec.Command("go", "run", "./cmd/auditgen", "-o", file, "-size", size, "-seed", "7")
	gen.Dir = testutil.RepoRoot()
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("auditgen: %v\n%s", err, out)
	}
	fi, _ := os.Stat(file)
	srv := startServe(t, bin, []string{"--max-sessions-per-key", "10", "--follow=false"}, file)
	pid := srv.cmd.Process.Pid

	queries := []string{`verb="delete"`, `verb="get"`, `objectRef_resource="secrets"`, `responseStatus_code="403"`,
		`verb="list"`, `objectRef_namespace="kube-system"`, `verb="create"`, `objectRef_resource="pods"`,
		`verb!="get"`, `user_username=~"system:node:.*"`}
	open := func(k int) *session {
		key := "alice"
		if k%2 == 1 {
			key = "bob"
		}
		s := startSession(t, tmux, 120, 40, srv.sshCommand(key, "-t"))
		s.waitFor(fmt.Sprintf("session %d", k), "1 Tail", "loaded")
		s.keys("/")
		s.waitGone(fmt.Sprintf("session %d's filter bar", k), "no filter ·")
		s.text(queries[k])
		s.keys("Enter")
		s.waitFor(fmt.Sprintf("session %d's filter", k), "filter "+queries[k], "matching")
		return s
	}
	settle := func() (int, int) {
		time.Sleep(3 * time.Second)
		return rss(t, pid)
	}
	first := open(0)
	first.waitFor("the index is complete", "loaded ", "matching")
	for deadline := time.Now().Add(60 * time.Second); strings.Contains(first.capture(), "loading"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the index never completed")
		}
	}
	one, onePeak := settle()
	for k := 1; k < 10; k++ {
		open(k)
	}
	ten, tenPeak := settle()
	ratio := float64(ten) / float64(one)
	perSession := float64(ten-one) / 9 / 1024
	t.Logf("%s (%d bytes): RSS with 1 session %.1f MB (peak %.1f), with 10 sessions %.1f MB (peak %.1f): %.2fx, %.2f MB per extra session",
		size, fi.Size(), float64(one)/1024, float64(onePeak)/1024, float64(ten)/1024, float64(tenPeak)/1024, ratio, perSession)
	if big && ratio > 1.3 {
		t.Errorf("ten sessions use %.2fx the memory of one (limit 1.3x)", ratio)
	}
	if !big && perSession > 3 {
		t.Errorf("each extra session costs %.2f MB (limit 3 MB)", perSession)
	}
}
