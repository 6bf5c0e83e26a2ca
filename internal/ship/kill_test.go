package ship

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/testutil"
)

// childEnv runs ship in this test binary when set: the fallback when
// cmd/audittui does not build (the tree is shared and may be mid-change).
const childEnv = "AUDITTUI_SHIP_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(childMain(cfg))
	}
	code := m.Run()
	testutil.RemoveAudittui()
	os.Exit(code)
}

func childMain(path string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	c, err := config.Load(path, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := Run(ctx, Options{Config: c}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// shipBinary uses the audittui binary of testutil.Audittui ($AUDITTUI_BIN, or built once)
// and returns a command factory for `audittui ship --config cfg`. When the shared tree does not
// build, it falls back to this test binary's ship entry point.
func shipBinary(t *testing.T) func(cfg string) *exec.Cmd { return shipBinaryTB(t) }

func shipBinaryTB(t testing.TB) func(cfg string) *exec.Cmd {
	t.Helper()
	bin, err := testutil.Audittui() // $AUDITTUI_BIN (bench/ship.sh, CI) or built once
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Logf("%s\n(using the test binary's ship entry point instead)", firstLines(err.Error(), 6))
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		return func(cfg string) *exec.Cmd {
			c := exec.Command(self, "-test.run=^$")
			c.Env = append(os.Environ(), childEnv+"="+cfg)
			return c
		}
	}
	return func(cfg string) *exec.Cmd { return exec.Command(bin, "ship", "--config", cfg) }
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

// TestKill9UnderLoad kills the real binary with SIGKILL at random moments
// while events are written and the log rotates, restarts it each time,
// and checks at the end that every auditID reached Loki and S3.
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 matrix skipped in -short")
	}
	kill9(t, newEnv(t))
}

func kill9(t *testing.T, e *env) {
	p := newShipProc(t, e)
	// Load: ~4000 events/s in bursts, a rotation every ~1500 events.
	e.w.write(200)
	stop := e.load(40, 10*time.Millisecond, 1520)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 6
	for i := 0; i < kills; i++ {
		c := p.start()
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		p.kill(c)
	}
	stop()
	p.finish()
	t.Logf("%d kills, %d events written across %d rotations", kills, len(e.w.written()), e.w.rot)
	e.check()
}

// TestKill9LateAcks kills ship while its batches are in flight: the test
// Loki and S3 answer every write 150-300ms late (some of it before storing
// the request, the rest after), and each kill comes at a random moment
// after the restarted ship has started pushing, so it lands between
// dispatch and acknowledgement: lines handed to the sinks and not yet
// stored, or stored and not yet acknowledged. After the last restart every
// line written must be in Loki and in S3; duplicates are allowed,
// reported and bounded by the README's promise (a crash re-sends at most
// the push in flight). A checkpoint that moves before every sink has acknowledged
// loses the lines Loki had not stored (scripts/mutate runs this test on
// its own against such mutations).
func TestKill9LateAcks(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 matrix skipped in -short")
	}
	kill9LateAcks(t, newEnv(t), 0)
}

// kill9LateAcks is TestKill9LateAcks on e; each kill may re-send, beyond
// the push in flight, extra lines (a batch stored but not acknowledged
// when a Loki.Store_dir sink was killed).
func kill9LateAcks(t *testing.T, e *env, extra int) {
	const late = 300 * time.Millisecond
	e.lokiLate.set(late)
	e.s3.late.set(late)
	// Fewer, larger S3 objects: uploads are sequential and each is late.
	p := newShipProc(t, e, "Upload_timeout: 100ms", "Upload_timeout: 1s")
	e.w.write(200)
	// ~400 events/s, more than Loki takes one late push at a time: the
	// sinks always hold lines, a rotation every 400 events.
	stop := e.load(8, 20*time.Millisecond, 400)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	const kills = 8
	var waiting, answering, idle int
	for i := 0; i < kills; i++ {
		c := p.start()
		s0 := e.lokiLate.started.Load()
		waitUntil(t, "the restarted ship to push to Loki", func() bool { return e.lokiLate.started.Load() > s0 })
		time.Sleep(time.Duration(rng.Int64N(int64(2 * late))))
		w, a := e.lokiLate.waiting.Load(), e.lokiLate.answering.Load()
		p.kill(c)
		switch {
		case w > 0:
			waiting++
		case a > 0:
			answering++
		default:
			idle++
		}
	}
	stop()
	p.finish()
	t.Logf("%d kills: %d with a Loki push not yet stored, %d with one stored and not yet acknowledged, %d between pushes; %d events written across %d rotations",
		kills, waiting, answering, idle, len(e.w.written()), e.w.rot)
	if waiting+answering == 0 {
		t.Errorf("none of %d kills came while a Loki push was in flight: the test did not test acknowledgements", kills)
	}
	e.check()
	// README, Crashes and duplicates: a crash re-sends at most the push
	// Loki had in flight (Loki's own position skips the rest).
	pushed, maxPush := 0, 0
	for _, r := range e.loki.Requests() {
		pushed += r.Entries
		maxPush = max(maxPush, r.Entries)
	}
	resent := pushed - len(e.w.written())
	t.Logf("loki: %d lines sent again across %d kills (a push holds at most %d)", resent, kills, maxPush)
	if resent > kills*(maxPush+extra) {
		t.Errorf("Loki was sent %d lines again across %d kills: more than the one push in flight per kill (at most %d lines, plus %d)", resent, kills, maxPush, extra)
	}
}

// load writes burst events every tick until the returned stop is called,
// rotating every rotateEvery events (a multiple of burst; every other
// backup compressed).
func (e *env) load(burst int, tick time.Duration, rotateEvery int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n := 0
		for ctx.Err() == nil {
			e.w.write(burst)
			n += burst
			if n%rotateEvery == 0 {
				e.w.rotate(n%(2*rotateEvery) == 0)
			}
			time.Sleep(tick)
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		e.w.close()
	}
}

// shipProc runs the real binary on e's config, as a node restarts it.
type shipProc struct {
	t    *testing.T
	e    *env
	mk   func(cfg string) *exec.Cmd
	cfg  string
	logf *os.File
}

// newShipProc writes e's config (with a 3s grace period unless e sets
// one, and the given old, new replacement pairs) for the child, which has
// its own environment.
func newShipProc(t *testing.T, e *env, replace ...string) *shipProc {
	t.Helper()
	p := &shipProc{t: t, e: e, mk: shipBinary(t), cfg: filepath.Join(e.dir, "ship.yaml")}
	y := e.configYAML()
	if e.graceD == "" {
		replace = append([]string{"Grace_period: 5s", "Grace_period: 3s"}, replace...)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(y, replace[i]) {
			t.Fatalf("config has no %q", replace[i])
		}
		y = strings.Replace(y, replace[i], replace[i+1], 1)
	}
	if err := os.WriteFile(p.cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(e.dir, "ship.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	p.logf = logf
	return p
}

func (p *shipProc) start() *exec.Cmd {
	p.t.Helper()
	c := p.mk(p.cfg)
	c.Env = append(c.Environ(), p.e.awsEnv...)
	c.Stdout, c.Stderr = p.logf, p.logf
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() {
		if c.ProcessState == nil { // the test failed with it running
			c.Process.Kill()
			c.Wait()
		}
	})
	return c
}

func (p *shipProc) kill(c *exec.Cmd) {
	p.t.Helper()
	if err := c.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	c.Wait()
}

// finish is the last run: it lets ship deliver everything, then stops it
// with SIGTERM. It fails once the sinks have received nothing for 10s
// with lines missing (lost lines would otherwise take a minute to fail).
func (p *shipProc) finish() {
	p.t.Helper()
	c := p.start()
	p.e.deliveredBy(60*time.Second, 10*time.Second)
	c.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			p.t.Fatal(err)
		}
		if err != nil {
			p.t.Errorf("ship exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		p.t.Fatal("ship did not stop on SIGTERM")
	}
}
