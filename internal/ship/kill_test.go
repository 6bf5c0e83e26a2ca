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
	os.Exit(m.Run())
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

// shipBinary builds cmd/audittui into a temp dir (or uses $AUDITTUI_BIN)
// and returns a command factory for `audittui ship --config cfg`. When the shared tree does not
// build, it falls back to this test binary's ship entry point.
func shipBinary(t *testing.T) func(cfg string) *exec.Cmd { return shipBinaryTB(t) }

func shipBinaryTB(t testing.TB) func(cfg string) *exec.Cmd {
	t.Helper()
	if bin := os.Getenv("AUDITTUI_BIN"); bin != "" {
		// A prebuilt binary (bench/ship.sh, CI).
		return func(cfg string) *exec.Cmd { return exec.Command(bin, "ship", "--config", cfg) }
	}
	bin := filepath.Join(t.TempDir(), "audittui")
	build := exec.Command("go", "build", "-o", bin, "./cmd/audittui")
	build.Dir = testutil.RepoRoot()
	out, err := build.CombinedOutput()
	if err == nil {
		return func(cfg string) *exec.Cmd { return exec.Command(bin, "ship", "--config", cfg) }
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("go build ./cmd/audittui: %v\n%s", err, out)
	}
	t.Logf("go build ./cmd/audittui failed (using the test binary's ship entry point instead): %v\n%s", err, firstLines(string(out), 5))
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
	mk := shipBinary(t)
	cfgPath := filepath.Join(e.dir, "ship.yaml")
	writeConfig := func() {
		// The child has its own environment: write the config with values.
		b := []byte(strings.Replace(e.configYAML(), "Grace_period: 5s", "Grace_period: 3s", 1))
		if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig()
	logf, err := os.Create(filepath.Join(e.dir, "ship.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := func() *exec.Cmd {
		c := mk(cfgPath)
		c.Env = append(c.Environ(), e.awsEnv...)
		c.Stdout, c.Stderr = logf, logf
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Load: ~4000 events/s in bursts, a rotation every ~1500 events.
	e.w.write(200)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		n := 0
		for ctx.Err() == nil {
			e.w.write(40)
			n += 40
			if n%1520 == 0 {
				e.w.rotate(n%3040 == 0)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 6
	for i := 0; i < kills; i++ {
		c := start()
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		if err := c.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.Wait()
	}
	cancel()
	wg.Wait()
	e.w.close()

	// Final run: let it deliver everything, then SIGTERM.
	c := start()
	e.deliveredWithin(60 * time.Second)
	c.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Errorf("ship exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		t.Fatal("ship did not stop on SIGTERM")
	}
	t.Logf("%d kills, %d events written across %d rotations", kills, len(e.w.written()), e.w.rot)
	e.check()
}
