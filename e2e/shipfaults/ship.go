package shipfaults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ship runs `audittui ship --config FILE` as a child process, the way a
// DaemonSet would: start, SIGTERM, SIGKILL, scrape /metrics, /healthz and
// /readyz, and sample its peak resident memory (VmHWM) and its live Go
// heap (from /metrics).
type Ship struct {
	Bin     string
	Config  string // config file path
	LogPath string // stdout and stderr of every run, appended
	// MetricsAddr is the host:port in the config's Metrics_addr.
	MetricsAddr string
	Env         []string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	exitErr  error
	peakHWM  int64 // VmHWM, bytes, over every run
	lastHWM  int64 // VmHWM of the current (or last) run
	peakAnon int64 // highest RssAnon sampled, over every run
	maxFile  int64 // highest RssFile sampled, over every run
	// goPeak is the highest value of each of goMemSeries sampled from
	// /metrics, over every run.
	goPeak   map[string]float64
	starts   int
	kills    int
	exitCode int
}

// FreeAddr returns a free 127.0.0.1 port for Metrics_addr.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start starts ship and waits until /healthz answers (or ship exits).
func (s *Ship) Start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("ship is already running")
	}
	logf, err := os.OpenFile(s.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.starts++
	fmt.Fprintf(logf, "=== run %d: %s ship --config %s (%s)\n", s.starts, s.Bin, s.Config, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(s.Bin, "ship", "--config", s.Config)
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.mu.Unlock()
		return fmt.Errorf("start %s: %w", s.Bin, err)
	}
	done := make(chan struct{})
	s.cmd, s.done, s.lastHWM = cmd, done, 0
	pid := cmd.Process.Pid
	s.mu.Unlock()

	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.exitErr = err
		s.exitCode = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			s.exitCode = -int(ws.Signal())
		}
		s.mu.Unlock()
		close(done)
	}()
	go s.sampleRSS(pid, done)
	go s.sampleGo(done)

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			return fmt.Errorf("ship exited at start (exit %d); log %s:\n%s", s.ExitCode(), s.LogPath, s.LogTail(20))
		default:
		}
		if code, err := s.get("/healthz"); err == nil && code == http.StatusOK {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("ship's /healthz on %s did not answer within 30s; log:\n%s", s.MetricsAddr, s.LogTail(20))
}

// sampleRSS reads VmHWM (the peak resident set) until the process ends.
func (s *Ship) sampleRSS(pid int, done <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		s.readHWM(pid)
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// goMemSeries are the memory series sampled from /metrics: ship's live
// heap peak (read after every collection) and, for the report, the Go
// heap in use (live and garbage not yet swept) and all the memory the
// runtime has mapped.
var goMemSeries = []string{
	"audittui_ship_go_heap_live_peak_bytes",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_sys_bytes",
}

// sampleGo scrapes goMemSeries every 100 ms until the process ends.
func (s *Ship) sampleGo(done <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		s.scrapeGo()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// scrapeGo keeps the highest value of each of goMemSeries.
func (s *Ship) scrapeGo() {
	m, err := s.Metrics()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.goPeak == nil {
		s.goPeak = map[string]float64{}
	}
	for _, k := range goMemSeries {
		if v, ok := m.Get(k); ok {
			s.goPeak[k] = max(s.goPeak[k], v)
		}
	}
}

// GoPeaks returns the highest value sampled of each of goMemSeries.
func (s *Ship) GoPeaks() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]float64{}
	for k, v := range s.goPeak {
		out[k] = v
	}
	return out
}

func (s *Ship) readHWM(pid int) {
	st, err := procStatus(pid)
	if err != nil || st.hwm == 0 {
		return
	}
	s.mu.Lock()
	s.lastHWM = max(s.lastHWM, st.hwm)
	s.peakHWM = max(s.peakHWM, st.hwm)
	s.peakAnon = max(s.peakAnon, st.anon)
	s.maxFile = max(s.maxFile, st.file)
	s.mu.Unlock()
}

type memStatus struct{ hwm, anon, file int64 }

// procStatus reads a process's peak resident set (VmHWM) and its current
// anonymous and file-backed resident memory, in bytes.
func procStatus(pid int) (memStatus, error) {
	var st memStatus
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return st, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmHWM":
			dst = &st.hwm
		case "RssAnon":
			dst = &st.anon
		case "RssFile":
			dst = &st.file
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return st, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		*dst = kb << 10
	}
	return st, sc.Err()
}

// PeakRSS is the highest VmHWM of every run so far.
func (s *Ship) PeakRSS() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peakHWM
}

// PeakAnon is the peak of ship's own (anonymous: heap, stacks, runtime)
// resident memory, without the pages of the binary mapped from disk: the
// higher of the largest RssAnon sampled and VmHWM minus the largest
// RssFile (file-backed pages only grow once the binary has warmed up).
// This is what ship keeps within Mem_Buf_Limit + 16 MiB (its Go memory
// limit is Mem_Buf_Limit + 12 MiB).
func (s *Ship) PeakAnon() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.peakAnon, s.peakHWM-s.maxFile)
}

// Running reports whether the child is alive.
func (s *Ship) Running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Kill9 kills ship with SIGKILL and waits for it.
func (s *Ship) Kill9() error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return errors.New("ship is not running")
	}
	s.readHWM(cmd.Process.Pid)
	s.scrapeGo()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-done
	s.mu.Lock()
	s.cmd, s.kills = nil, s.kills+1
	s.mu.Unlock()
	return nil
}

// Stop sends SIGTERM and waits up to timeout; it returns ship's exit code
// (SIGKILL after the timeout is an error).
func (s *Ship) Stop(timeout time.Duration) (int, error) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return 0, errors.New("ship is not running")
	}
	s.readHWM(cmd.Process.Pid)
	s.scrapeGo()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		s.mu.Lock()
		s.cmd = nil
		s.mu.Unlock()
		return -9, fmt.Errorf("ship did not stop within %v of SIGTERM (killed)", timeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmd = nil
	return s.exitCode, nil
}

// Wait waits for ship to exit on its own (up to timeout).
func (s *Ship) Wait(timeout time.Duration) (int, bool) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return 0, false
	}
	select {
	case <-done:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cmd = nil
		return s.exitCode, true
	case <-time.After(timeout):
		return 0, false
	}
}

// ExitCode is the last run's exit code (negative: killed by that signal).
func (s *Ship) ExitCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitCode
}

// Starts and Kills count runs and SIGKILLs.
func (s *Ship) Starts() int { s.mu.Lock(); defer s.mu.Unlock(); return s.starts }

// Kills counts SIGKILLs.
func (s *Ship) Kills() int { s.mu.Lock(); defer s.mu.Unlock(); return s.kills }

func (s *Ship) get(path string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.MetricsAddr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Readyz returns /readyz's status code.
func (s *Ship) Readyz() (int, error) { return s.get("/readyz") }

// Healthz returns /healthz's status code.
func (s *Ship) Healthz() (int, error) { return s.get("/healthz") }

// Metrics scrapes /metrics.
func (s *Ship) Metrics() (Metrics, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.MetricsAddr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// LogTail returns the last n lines of the log file.
func (s *Ship) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogRuns returns the log split by run (index 0 is run 1).
func (s *Ship) LogRuns() []string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return nil
	}
	var runs []string
	for _, part := range strings.Split(string(b), "=== run ")[1:] {
		runs = append(runs, part)
	}
	return runs
}

// Metrics are scraped samples keyed by series (name{label="v",...} as
// exposed).
type Metrics map[string]float64

// ParseMetrics reads the Prometheus text format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// Get returns the value of the series named name whose labels include
// every name=value pair given (false when there is none).
func (m Metrics) Get(name string, labels ...string) (float64, bool) {
	for series, v := range m {
		n, rest, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+"="+strconv.Quote(labels[i+1])) {
				ok = false
				break
			}
		}
		if ok {
			return v, true
		}
	}
	return 0, false
}
