package ship

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/ship/config"
	"github.com/audittui/audittui/internal/ship/lokisink"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
	"github.com/audittui/audittui/internal/ship/s3sink"
)

// tcpProxy forwards 127.0.0.1 connections to a server; Down closes the
// listener (connection refused, as when the server is stopped) and Up
// listens again on the same port.
type tcpProxy struct {
	to   string
	addr string
	mu   sync.Mutex
	ln   net.Listener
}

func newTCPProxy(b testing.TB, to string) *tcpProxy {
	p := &tcpProxy{to: to}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	b.Cleanup(p.Down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", p.to)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
}

func (p *tcpProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

func (p *tcpProxy) Up(b testing.TB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	for range 100 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal(err)
}

// BenchmarkS3RecoveryAfterOutage measures how long after an S3 outage
// (connection refused for AUDITTUI_BENCH_OUTAGE seconds, default 60) the
// chunk waiting in Store_dir is uploaded, with the shipped defaults, with
// a shorter S3.Max_backoff, and with what ship did before the options were
// wired (sink backoff up to 1m, the SDK's default retries). It needs
// versitygw (scripts/versitygw.sh start).
func BenchmarkS3RecoveryAfterOutage(b *testing.B) {
	ep := os.Getenv("AUDITTUI_S3_ENDPOINT")
	if ep == "" {
		b.Skip("AUDITTUI_S3_ENDPOINT not set (scripts/versitygw.sh start)")
	}
	outage := 60 * time.Second
	if v, err := strconv.Atoi(os.Getenv("AUDITTUI_BENCH_OUTAGE")); err == nil && v > 0 {
		outage = time.Duration(v) * time.Second
	}
	host := ep[len("http://"):]
	variants := []struct {
		name                   string
		retry                  int
		minBackoff, maxBackoff time.Duration
	}{
		{"defaults(Retry_limit=3,Max_backoff=10s)", config.DefaultS3RetryLimit, config.DefaultS3MinBackoff, config.DefaultS3MaxBackoff},
		{"Max_backoff=2s", config.DefaultS3RetryLimit, config.DefaultS3MinBackoff, 2 * time.Second},
		{"before(sink_backoff_1m,SDK_defaults)", 0, 500 * time.Millisecond, time.Minute},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				proxy := newTCPProxy(b, host)
				s3c := &config.S3{Bucket: "audittui-recovery", Endpoint: "http://" + proxy.addr, Region: "us-east-1", RetryLimit: v.retry}
				if v.retry > 0 {
					s3c.MaxBackoff = config.Duration(v.maxBackoff)
				}
				client, err := S3Client(context.Background(), s3c)
				if err != nil {
					b.Fatal(err)
				}
				createBucket(b, client, s3c.Bucket)
				format, _ := s3key.Parse("/recovery/%Y/%m/%d/$UUID.json", s3key.ParseOptions{})
				dir := b.TempDir()
				sink, err := s3sink.New(s3sink.Options{Client: client, Bucket: s3c.Bucket, Format: format, StoreDir: dir,
					TotalFileSize: 1, UploadTimeout: time.Hour, MinBackoff: v.minBackoff, MaxBackoff: v.maxBackoff})
				if err != nil {
					b.Fatal(err)
				}
				proxy.Down()
				in := make(chan *pipe.Batch, 1)
				in <- &pipe.Batch{Seq: 1, Records: []process.Record{{Line: []byte(`{"auditID":"x"}`), Time: time.Now().UnixNano()}}, LineBytes: 15}
				close(in)
				done := make(chan error, 1)
				go func() { done <- sink.Run(context.Background(), in, func(...*pipe.Batch) {}) }()
				time.Sleep(outage)
				up := time.Now()
				proxy.Up(b)
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				rec := time.Since(up)
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					b.Fatalf("chunk not uploaded: %v", ents)
				}
				b.ReportMetric(rec.Seconds(), "s_to_recover")
				fmt.Fprintf(os.Stderr, "%s: outage %v, uploaded %.1fs after S3 was back\n", v.name, outage, rec.Seconds())
			}
		})
	}
}

// BenchmarkLokiRecoveryAfterOutage measures how long after a Loki outage
// (connection refused for AUDITTUI_BENCH_OUTAGE seconds, default 60) the
// waiting push is accepted, with Loki.Max_backoff 5m (the default, and
// deploy/ before review J) and 30s (deploy/ now). The receiver is the
// in-process Loki stand-in behind a proxy that refuses connections.
func BenchmarkLokiRecoveryAfterOutage(b *testing.B) {
	outage := 60 * time.Second
	if v, err := strconv.Atoi(os.Getenv("AUDITTUI_BENCH_OUTAGE")); err == nil && v > 0 {
		outage = time.Duration(v) * time.Second
	}
	for _, maxBackoff := range []time.Duration{config.DefaultMaxBackoff, 30 * time.Second} {
		b.Run("Max_backoff="+maxBackoff.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				srv := lokitest.New(lokitest.Options{})
				b.Cleanup(srv.Close)
				proxy := newTCPProxy(b, srv.Listener.Addr().String())
				client, err := loki.NewClient(loki.Config{Addr: "http://" + proxy.addr})
				if err != nil {
					b.Fatal(err)
				}
				sink, err := lokisink.New(lokisink.Options{Client: client, Static: data.Labels{{Name: "job", Value: "audit"}},
					BatchWait: time.Millisecond, DeadLetter: b.TempDir() + "/dl.jsonl",
					Backoff: loki.Backoff{Min: config.DefaultMinBackoff, Max: maxBackoff}})
				if err != nil {
					b.Fatal(err)
				}
				proxy.Down()
				in := make(chan *pipe.Batch, 1)
				in <- &pipe.Batch{Seq: 1, Records: []process.Record{{Line: []byte(`{"auditID":"x"}`), Time: time.Now().UnixNano()}}, LineBytes: 15}
				close(in)
				done := make(chan error, 1)
				go func() { done <- sink.Run(context.Background(), in, func(...*pipe.Batch) {}) }()
				time.Sleep(outage)
				up := time.Now()
				proxy.Up(b)
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				rec := time.Since(up)
				if srv.Count("") != 1 {
					b.Fatalf("push not stored")
				}
				b.ReportMetric(rec.Seconds(), "s_to_recover")
				fmt.Fprintf(os.Stderr, "Loki Max_backoff=%v: outage %v, pushed %.1fs after Loki was back\n", maxBackoff, outage, rec.Seconds())
			}
		})
	}
}
