package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/serve"
	"github.com/audittui/audittui/internal/testutil"
)

func sample() string { return filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log") }

func TestServeFlags(t *testing.T) {
	var got *ServeOptions
	mk := func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdServe(f, func(o *ServeOptions) error { got = o; return nil })
	}
	code, _, errOut := clitest.Run(t, mk, "", "--authorized-keys", "k", "--host-key", "h", "--data-dir", "/d",
		"--max-sessions", "3", "--max-sessions-per-key", "1", "--idle-timeout", "5m", "--since", "1h", "a.log", "b.log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got.Listen != "127.0.0.1:2222" || got.AuthorizedKeys != "k" || got.HostKey != "h" || got.DataDir != "/d" ||
		got.MaxSessions != 3 || got.MaxSessionsPerKey != 1 || got.IdleTimeout != 5*time.Minute ||
		got.AccessLog != "" || len(got.Args) != 2 || got.Window.Since != time.Hour {
		t.Fatalf("options %+v", got)
	}
	code, _, errOut = clitest.Run(t, mk, "", "--authorized-keys", "k", "--host-key", "h")
	if code != 2 || !strings.Contains(errOut, "requires at least 1 arg") {
		t.Fatalf("no SOURCE: exit %d: %s", code, errOut)
	}
}

func TestServeBadFlags(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, []byte("ssh-ed25519 garbage x\n"), 0o600)
	mk := func(f *cmdutil.Factory) *cobra.Command { return NewCmdServe(f, nil) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--host-key", "h", sample()}, "--authorized-keys is required"},
		{[]string{"--authorized-keys", keys, sample()}, "--host-key is required"},
		{[]string{"--authorized-keys", keys, "--host-key", "h", "--listen", "nocolon", sample()}, "--listen"},
		{[]string{"--authorized-keys", keys, "--host-key", "h", "--max-sessions", "-1", sample()}, "must not be negative"},
		{[]string{"--authorized-keys", keys, "--host-key", filepath.Join(dir, "hk"), "--access-log", filepath.Join(dir, "a.jsonl"), sample()}, keys + ":1"},
		{[]string{"--authorized-keys", filepath.Join(dir, "missing"), "--host-key", filepath.Join(dir, "hk"), sample()}, "missing"},
		{[]string{"--authorized-keys", keys, "--host-key", "h", "/nonexistent/audit.log"}, "/nonexistent/audit.log"},
	} {
		code, _, errOut := clitest.Run(t, mk, "", tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want it to say %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestServeRuns starts the command as the binary does, connects, sees
// the TUI, and stops it with its context; a second start reuses the host
// key it generated.
func TestServeRuns(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(dir, "host_key")
	access := filepath.Join(dir, "access.jsonl")
	var hostFP []string
	for n := range 2 {
		var opts *ServeOptions
		ios, _, errOut := clitest.Streams("")
		cmd := NewCmdServe(clitest.Factory(ios), func(o *ServeOptions) error { opts = o; return nil })
		cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--authorized-keys", keys, "--host-key", hostKey,
			"--access-log", access, "--no-alerts", sample()})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		opts.Ready = func(addr string) { ready <- addr }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, opts) }()
		var addr string
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("run: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not start")
		}
		var seen gossh.PublicKey
		c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "u", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
			HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error { seen = k; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := c.NewSession()
		var out syncBuffer
		s.Stdout = &out
		s.RequestPty("xterm", 24, 80, nil)
		if err := s.Shell(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "Tail"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no TUI; got %q", out.String())
			}
		}
		hostFP = append(hostFP, gossh.FingerprintSHA256(seen))
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not stop")
		}
		c.Close()
		log := errOut.String()
		if !strings.Contains(log, "audittui serve listening") || !strings.Contains(log, hostFP[n]) {
			t.Fatalf("start-up line:\n%s", log)
		}
		if strings.Contains(log, "generated a new host key") != (n == 0) {
			t.Fatalf("start %d: host key generation logged wrongly:\n%s", n, log)
		}
	}
	if hostFP[0] != hostFP[1] {
		t.Fatalf("the host key changed between starts: %v", hostFP)
	}
	fi, err := os.Stat(hostKey)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key %v %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(access)
	if bytes.Count(b, []byte(`"event":"connect"`)) != 2 || bytes.Count(b, []byte(`"event":"disconnect"`)) != 2 {
		t.Fatalf("access log:\n%s", b)
	}
}

type syncBuffer = clitest.Buffer

func TestDataDirOutsideTheEvidence(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	os.MkdirAll(filepath.Join(ev, "node1"), 0o755)
	file := filepath.Join(ev, "node1", "audit.log")
	os.WriteFile(file, nil, 0o644)
	os.Symlink(ev, filepath.Join(dir, "link"))
	for _, tc := range []struct {
		data string
		args []string
		ok   bool
	}{
		{filepath.Join(dir, "exports"), []string{ev}, true},
		{filepath.Join(dir, "exports"), []string{file, "s3://b/p/", "-"}, true},
		{filepath.Join(ev, "exports"), []string{ev}, false},
		{ev, []string{ev}, false},
		{filepath.Join(ev, "node1", "x"), []string{file}, false},
		{filepath.Join(dir, "link", "exports"), []string{ev}, false}, // through a link
		{filepath.Join(ev, "node1", "x"), []string{filepath.Join(ev, "*", "audit*.log")}, false},
	} {
		err := checkDataDir(tc.data, tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("--data-dir %s with %v: %v", tc.data, tc.args, err)
		}
	}
}

// TestServeNamesRulesThatCannotFire: a --rules rule whose selector selects
// no stream of the sources is named in a serve session's Alerts pane and
// counted in its status bar, as the local TUI names it (one path:
// live.BlindRules), and said on the server's log; a rule whose evaluation
// fails is named there too.
func TestServeNamesRulesThatCannotFire(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	team := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(team, []byte(`groups:
  - name: team
    rules:
      - alert: KubeExec
        expr: sum(count_over_time({job="kube-audit"} |= "exec" [5m])) > 0
      - alert: ManyToOne
        expr: sum by (user_username, verb) (count_over_time({job="audit"} | json [5m])) / on (user_username) sum by (user_username) (count_over_time({job="audit"} | json [5m])) > 0
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var opts *ServeOptions
	ios, _, errOut := clitest.Streams("")
	cmd := NewCmdServe(clitest.Factory(ios), func(o *ServeOptions) error { opts = o; return nil })
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--authorized-keys", keys, "--host-key", filepath.Join(dir, "host_key"),
		"--access-log", filepath.Join(dir, "access.jsonl"), "--no-builtin", "--rules", team, sample()})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	opts.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, opts) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("the server did not stop")
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start")
	}
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "u", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := c.NewSession()
	var out syncBuffer
	s.Stdout = &out
	in, _ := s.StdinPipe()
	s.RequestPty("xterm", 40, 160, nil)
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	wait := func(what, want string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %q; got %q", what, want, out.String())
			}
		}
	}
	wait("the status bar", "selects no stream of the sources")
	in.Write([]byte("3"))
	wait("the Alerts pane", "team.yaml:4) can never fire")
	// A rule whose evaluation fails (many-to-one) is named there too.
	wait("the failed rule", "team.yaml:6) failed:")
	if !strings.Contains(errOut.String(), "can never fire") {
		t.Errorf("the server's log does not name the rule:\n%s", errOut.String())
	}
}

// TestServeWritesNothingAmongTheEvidence: the access log, the spill
// directory and a host key to generate are refused among the evidence, as
// --data-dir is, before anything is written; nothing appears beside the
// sources. A host key that is there already is only read: accepted.
func TestServeWritesNothingAmongTheEvidence(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	if err := os.MkdirAll(ev, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sample())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ev, "audit.log"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	// run as the binary does, except that a server that starts (the
	// check missed) stops at once instead of serving until killed.
	mk := func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdServe(f, func(o *ServeOptions) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o.Ready = func(string) { cancel() }
			return run(ctx, o)
		})
	}
	hk := filepath.Join(dir, "host_key")
	for _, tc := range []struct{ flag, path string }{
		{"--access-log", filepath.Join(ev, "access.jsonl")},
		{"--access-log", filepath.Join(ev, "audit.log")}, // appending to a source
		{"--spill-dir", filepath.Join(ev, "spill")},
		{"--host-key", filepath.Join(ev, "host_key")},
	} {
		args := []string{"--listen", "127.0.0.1:0", "--authorized-keys", keys, "--host-key", hk, tc.flag, tc.path, filepath.Join(ev, "audit.log")}
		code, _, errOut := clitest.Run(t, mk, "", args...)
		if code != 2 || !strings.Contains(errOut, tc.flag+" "+tc.path+" is among the evidence") {
			t.Errorf("%s %s: exit %d, stderr %q", tc.flag, tc.path, code, errOut)
		}
		if got, _ := os.ReadFile(filepath.Join(ev, "audit.log")); !bytes.Equal(got, b) {
			t.Fatalf("%s %s: the source was written", tc.flag, tc.path)
		}
		if es, _ := os.ReadDir(ev); len(es) != 1 {
			t.Fatalf("%s %s: the evidence directory holds %d entries, want only audit.log", tc.flag, tc.path, len(es))
		}
	}
	// A host key that exists among the evidence is only read.
	existing := filepath.Join(ev, "host_key")
	if _, _, err := serve.HostKey(existing); err != nil {
		t.Fatal(err)
	}
	if err := checkWrites(&ServeOptions{HostKey: existing, Args: []string{ev}}); err != nil {
		t.Errorf("an existing host key among the evidence: %v", err)
	}
}
