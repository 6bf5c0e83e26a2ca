package ship

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/metrics"
)

// blackhole is a Loki-protocol endpoint that reads and discards pushes.
func blackhole(b testing.TB) (string, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := io.Copy(io.Discard, r.Body)
		n.Add(k)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv.URL, &n
}

// s3Blackhole is an S3 endpoint that accepts and discards every upload;
// it returns the S3 section of a config using it.
func s3Blackhole(b testing.TB, store string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"0"`)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return "S3:\n  Bucket: bench\n  Region: us-east-1\n  Endpoint: " + srv.URL + "\n  Total_file_size: 4M\n  Store_dir: " + store + "\n"
}

func benchMB() int {
	if v, err := strconv.Atoi(os.Getenv("AUDITTUI_BENCH_MB")); err == nil && v > 0 {
		return v
	}
	return 128
}

// writeBenchFile writes about mb MiB of events; it returns lines and bytes.
func writeBenchFile(b testing.TB, path string, mb int) (int, int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Now().Add(-time.Hour)
	var size int64
	n := 0
	for size < int64(mb)<<20 {
		l := eventLine(n, base.Add(time.Duration(n)*time.Microsecond))
		w.WriteString(l)
		w.WriteByte('\n')
		size += int64(len(l) + 1)
		n++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return n, size
}

func benchConfig(path, state, lokiURL, membuf string) string {
	return `Path: ` + path + `
Mem_Buf_Limit: ` + membuf + `
Cluster: bench
State_dir: ` + state + `
Loki:
  URL: ` + lokiURL + `
  Label_keys: $verb,$objectRef['resource']
  Batch_wait: 100ms
`
}

// BenchmarkFileToLoki measures the in-process pipeline: an audit file
// tailed, processed and pushed (protobuf+snappy) to a loopback endpoint.
func BenchmarkFileToLoki(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "audit.log")
	lines, size := writeBenchFile(b, path, benchMB())
	url, _ := blackhole(b)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		state := filepath.Join(dir, fmt.Sprintf("state%d", i))
		c, err := config.Parse([]byte(benchConfig(path, state, url, "16M")), nil)
		if err != nil {
			b.Fatal(err)
		}
		m := metrics.New()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Run(ctx, Options{Config: c, Metrics: m, ReadSize: 1 << 20}) }()
		for metrics.Value(m.SinkSentLines.WithLabelValues("loki")) < float64(lines) {
			time.Sleep(2 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

func freePort(b testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func scrape(addr, metric string) (float64, bool) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), metric+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// procCPU returns utime+stime of pid in clock ticks (100 per second).
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

// BenchmarkBinaryFullRate runs the real binary (cmd/audittui, or this test
// binary's ship entry point when the tree does not build) over a file at
// full speed to a loopback Loki endpoint and reports throughput, peak RSS
// and CPU seconds.
func BenchmarkBinaryFullRate(b *testing.B) {
	mk := shipBinaryTB(b)
	for _, v := range []struct{ membuf, s3 string }{{"16M", ""}, {"50M", ""}, {"16M", "s3"}} {
		name := "Mem_Buf_Limit=" + v.membuf
		if v.s3 != "" {
			name += ",Loki+S3"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			path := filepath.Join(dir, "audit.log")
			lines, size := writeBenchFile(b, path, benchMB())
			url, _ := blackhole(b)
			extra := ""
			if v.s3 != "" {
				// S3 to a loopback endpoint that accepts every PUT: the
				// Store_dir disk buffer (write, fsync) and the uploads.
				extra = s3Blackhole(b, filepath.Join(dir, "s3buf"))
				b.Setenv("AWS_ACCESS_KEY_ID", "bench")
				b.Setenv("AWS_SECRET_ACCESS_KEY", "bench")
			}
			b.SetBytes(size)
			b.ResetTimer()
			var rss int64
			for i := 0; i < b.N; i++ {
				maddr := freePort(b)
				cfg := filepath.Join(dir, "ship.yaml")
				os.WriteFile(cfg, []byte(benchConfig(path, filepath.Join(dir, fmt.Sprint("state", i)), url, v.membuf)+extra+"Metrics_addr: "+maddr+"\n"), 0o600)
				c := mk(cfg)
				c.Stderr = io.Discard
				start := time.Now()
				if err := c.Start(); err != nil {
					b.Fatal(err)
				}
				for {
					v, _ := scrape(maddr, `audittui_ship_sink_sent_lines_total{sink="loki"}`)
					if v >= float64(lines) {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				el := time.Since(start)
				c.Process.Signal(syscall.SIGTERM)
				c.Wait()
				ru := c.ProcessState.SysUsage().(*syscall.Rusage)
				rss = max(rss, ru.Maxrss*1024)
				cpu := c.ProcessState.UserTime() + c.ProcessState.SystemTime()
				b.ReportMetric(float64(size)/(1<<20)/el.Seconds(), "MiB/s(wall,incl.start)")
				b.ReportMetric(cpu.Seconds()/el.Seconds(), "cores")
			}
			b.ReportMetric(float64(rss)/(1<<20), "peakRSS_MiB")
		})
	}
}

// BenchmarkBinaryCPUAt1kEventsPerSecond writes 1000 events/s to the live
// file for 10 s and reports the shipper's CPU use as a share of one core.
func BenchmarkBinaryCPUAt1kEventsPerSecond(b *testing.B) {
	mk := shipBinaryTB(b)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		path := filepath.Join(dir, "audit.log")
		url, _ := blackhole(b)
		maddr := freePort(b)
		cfg := filepath.Join(dir, "ship.yaml")
		os.WriteFile(cfg, []byte(benchConfig(path, filepath.Join(dir, "state"), url, "50M")+"Metrics_addr: "+maddr+"\n"), 0o600)
		w := newWriter(b, path)
		w.write(10)
		c := mk(cfg)
		c.Stderr = io.Discard
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			if v, ok := scrape(maddr, `audittui_ship_lines_read_total`); ok && v >= 10 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // settle after start-up
		cpu0, _ := procCPU(c.Process.Pid)
		t0 := time.Now()
		tick := time.NewTicker(10 * time.Millisecond)
		for time.Since(t0) < 10*time.Second {
			<-tick.C
			w.write(10) // 1000 events/s in 10 ms steps
		}
		tick.Stop()
		cpu1, _ := procCPU(c.Process.Pid)
		el := time.Since(t0)
		c.Process.Signal(syscall.SIGTERM)
		c.Wait()
		w.close()
		b.ReportMetric(float64(cpu1-cpu0)/100/el.Seconds()*100, "%core")
	}
}
