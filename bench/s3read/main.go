// Command s3read measures reading audit events from an S3-compatible
// server against reading the same events from local disk (bench/s3.sh runs
// it; each mode runs in its own process so its peak RSS is its own).
//
//	s3read load -in FILE -objects 200 -bucket B [-gzip]
//	    split FILE into objects in the Fluent Bit layout
//	    (audit-logs/bench/%Y/%m/%d/%H/%M/%S-$UUID.json) and upload them
//	s3read read [-query Q] SOURCE
//	    read s3://B/prefix/ or a local file with the audittui data path and
//	    print: source, seconds, decompressed MB/s, events, matches, max RSS
//
// The server is AUDITTUI_S3_ENDPOINT with AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (eval "$(scripts/versitygw.sh start)").
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/file"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: s3read load|read ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = load(os.Args[2:])
	case "read":
		err = read(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3read:", err)
		os.Exit(1)
	}
}

func client() (*s3.Client, string, error) {
	ep := os.Getenv("AUDITTUI_S3_ENDPOINT")
	if ep == "" {
		return nil, "", errors.New("AUDITTUI_S3_ENDPOINT is not set (eval \"$(scripts/versitygw.sh start)\")")
	}
	// The credentials scripts/versitygw.sh prints come from the environment.
	c, err := s3src.NewClient(context.Background(), s3src.ClientConfig{Region: "us-east-1", Endpoint: ep, PathStyle: true})
	return c, ep, err
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	in := fs.String("in", "", "audit log to split")
	objects := fs.Int("objects", 200, "number of objects")
	bucket := fs.String("bucket", "audittui-bench", "bucket")
	gz := fs.Bool("gzip", false, "gzip the objects")
	fs.Parse(args)
	c, _, err := client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		return fmt.Errorf("create bucket: %w", err)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, _ := f.Stat()
	target := fi.Size() / int64(*objects)
	format, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{LookupEnv: func(string) (string, bool) { return "bench", true }})
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var dec data.Decoder
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var upErr error
	var mu sync.Mutex
	n := 0
	for {
		var buf bytes.Buffer
		var first time.Time
		for int64(buf.Len()) < target {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				if first.IsZero() {
					if evs, rej := dec.Decode(nil, bytes.TrimSpace(line), data.Origin{}); rej == nil && len(evs) > 0 {
						first = evs[0].Timestamp()
					}
				}
				buf.Write(line)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if buf.Len() == 0 {
			break
		}
		if first.IsZero() {
			first = time.Unix(0, 0)
		}
		body := buf.Bytes()
		if *gz {
			var zb bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&zb, gzip.DefaultCompression)
			zw.Write(body)
			zw.Close()
			body = zb.Bytes()
		}
		key := format.Render(first, s3key.Vars{UUID: fmt.Sprintf("b%07d", n)})
		n++
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)})
			if err != nil {
				mu.Lock()
				upErr = fmt.Errorf("put %s: %w", key, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "uploaded %d objects to s3://%s/audit-logs/bench/\n", n, *bucket)
	return upErr
}

func read(args []string) error {
	fs := flag.NewFlagSet("read", flag.ExitOnError)
	q := fs.String("query", "", "LogQL log query to count matches of")
	conc := fs.Int("concurrency", s3src.DefaultConcurrency, "S3 objects fetched in parallel")
	prof := fs.String("cpuprofile", "", "write a CPU profile here")
	fs.Parse(args)
	if *prof != "" {
		pf, err := os.Create(*prof)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	if fs.NArg() != 1 {
		return errors.New("read: one SOURCE")
	}
	arg := fs.Arg(0)
	ctx := context.Background()
	var src data.Source
	if strings.HasPrefix(arg, "s3://") {
		c, _, err := client()
		if err != nil {
			return err
		}
		f, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{UnsetAsWildcard: true})
		if err != nil {
			return err
		}
		src, err = s3src.New(ctx, arg, s3src.Options{Client: c, KeyFormat: f, Concurrency: *conc})
		if err != nil {
			return err
		}
	} else {
		fsrc, err := file.New(arg, file.Options{})
		if err != nil {
			return err
		}
		src = fsrc
	}
	var lq *logql.LogQuery
	ro := data.ReadOptions{}
	if *q != "" {
		var err error
		if lq, err = logql.ParseLog(*q); err != nil {
			return err
		}
		ro.Prefilter = data.PrefilterFor(lq)
	}
	t0 := time.Now()
	st, err := src.Open(ctx, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	var bytesRead, events, matches, rejects int64
	var last int64
	ordered := true
	for {
		b, err := st.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		bytesRead += b.Bytes
		rejects += int64(len(b.Rejects))
		for i := range b.Events {
			e := &b.Events[i]
			events++
			if e.Time < last {
				ordered = false
			}
			last = e.Time
			if lq != nil && lq.Matches(e) {
				matches++
			}
		}
	}
	secs := time.Since(t0).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	kind := "local"
	if strings.HasPrefix(arg, "s3://") {
		kind = "s3"
	}
	fmt.Printf("%s %.2f %.1f %d %d %d %d %v\n", kind, secs, float64(bytesRead)/1e6/secs, events, matches, rejects, ru.Maxrss/1024, ordered)
	return nil
}
