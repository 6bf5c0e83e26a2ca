// Command auditgen writes realistic Kubernetes audit logs (audit.k8s.io/v1
// JSON lines, as kube-apiserver's log backend writes them) for tests,
// demos and benchmarks.
//
//	go run ./cmd/auditgen -o /tmp/audit.log -size 1GB -seed 1
//	go run ./cmd/auditgen -o testdata/sample/audit.log -duration 2h -rate 0.55/s -stories
//	go run ./cmd/auditgen -o out/audit.log -events 30000 -nodes 3 -gzip
//	go run ./cmd/auditgen -o out/audit.log -events 20000 -rotate 1MB -compress
//	go run ./cmd/auditgen -o webhook.jsonl -events 5000 -format eventlist -batch 400
//	go run ./cmd/auditgen -sample testdata/sample   # regenerate the bundled sample
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/audittui/audittui/internal/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var usage usageError
	switch {
	case err == nil:
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "auditgen:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "auditgen:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("auditgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out      = fs.String("o", "-", "output file (- for stdout); with -nodes N > 1, one file per node: FILE-cp1.ext ...")
		sizeS    = fs.String("size", "", "stop after this many bytes (uncompressed, all nodes together), e.g. 1GB, 500MB")
		events   = fs.Int64("events", 0, "stop after this many events")
		duration = fs.Duration("duration", 0, "stop at start+duration (event time), e.g. 2h")
		seed     = fs.Int64("seed", 1, "random seed (same seed and flags, same bytes)")
		startS   = fs.String("start", gen.DefaultStart.Format(time.RFC3339), "time of the first request (RFC 3339)")
		rateS    = fs.String("rate", "200/s", "mean event rate: N/s, N/m or N/h")
		stories  = fs.Bool("stories", false, "inject the attack stories (see testdata/stories/README.md)")
		nodes    = fs.Int("nodes", 1, "control-plane nodes (apiserver instances); >1 writes one file per node")
		gz       = fs.Bool("gzip", false, "gzip the output files")
		format   = fs.String("format", "jsonl", "jsonl (the log backend: one event per line) or eventlist (the webhook backend: EventList documents, one per line)")
		batch    = fs.Int("batch", gen.DefaultBatch, "events per EventList with -format eventlist (--audit-webhook-batch-max-size)")
		rr       = fs.Float64("request-received", 0.01, "fraction of requests that also log a RequestReceived stage")
		disorder = fs.Duration("disorder", 0, "let stageTimestamp order slip by up to this much (e.g. 5ms), as in real apiserver logs; 0 keeps files sorted")
		rotateS  = fs.String("rotate", "", "write an apiserver rotated set in the directory of -o: rotate the live file at this size (e.g. 1MB)")
		compress = fs.Bool("compress", false, "with -rotate: gzip the backups (all but the newest)")
		quiet    = fs.Bool("q", false, "do not print the summary on stderr")
		sample   = fs.String("sample", "", "regenerate the bundled sample into this directory (testdata/sample) and exit")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: auditgen [flags]\n\nWrites realistic Kubernetes audit events (audit.k8s.io/v1 JSON lines).\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *sample != "" {
		if err := gen.WriteSample(ctx, *sample); err != nil {
			return err
		}
		if !*quiet {
			fmt.Fprintln(stderr, "auditgen: wrote the sample under", *sample)
		}
		return nil
	}
	start, err := time.Parse(time.RFC3339Nano, *startS)
	if err != nil {
		return usageError{fmt.Errorf("-start: %w", err)}
	}
	rate, err := gen.ParseRate(*rateS)
	if err != nil {
		return usageError{fmt.Errorf("-rate: %w", err)}
	}
	if rate > gen.MaxRate {
		return usageError{fmt.Errorf("-rate %s: at most %d events/s", *rateS, gen.MaxRate)}
	}
	lim := gen.Limit{Events: *events}
	if *sizeS != "" {
		if lim.Bytes, err = gen.ParseSize(*sizeS); err != nil {
			return usageError{fmt.Errorf("-size: %w", err)}
		}
	}
	if *duration < 0 {
		return usageError{errors.New("-duration must be positive")}
	}
	if *duration > 0 {
		lim.Until = start.Add(*duration)
	}
	if lim.Events <= 0 && lim.Bytes <= 0 && lim.Until.IsZero() {
		return usageError{errors.New("say how much to write: -size, -events or -duration")}
	}
	if *nodes < 1 || *nodes > 64 {
		return usageError{errors.New("-nodes must be between 1 and 64")}
	}
	if *rr < 0 || *rr > 1 {
		return usageError{errors.New("-request-received must be between 0 and 1")}
	}
	if *format != "jsonl" && *format != "eventlist" {
		return usageError{fmt.Errorf("-format %q: want jsonl or eventlist", *format)}
	}
	if *batch < 1 {
		return usageError{errors.New("-batch must be at least 1")}
	}
	eventList := *format == "eventlist"
	if *disorder < 0 {
		return usageError{errors.New("-disorder must not be negative")}
	}
	g := gen.New(gen.Config{Seed: *seed, Start: start, Rate: rate, Nodes: *nodes, Stories: *stories, RequestReceived: *rr, Disorder: *disorder})

	began := time.Now()
	var st gen.Stats
	var written []string
	switch {
	case *rotateS != "":
		if *out == "-" || *nodes > 1 || *gz || eventList {
			return usageError{errors.New("-rotate needs -o FILE, one node, -format jsonl and no -gzip (use -compress for gzipped backups)")}
		}
		max, err := gen.ParseSize(*rotateS)
		if err != nil {
			return usageError{fmt.Errorf("-rotate: %w", err)}
		}
		written, st, err = g.WriteRotated(ctx, gen.RotatedSet{Dir: filepath.Dir(*out), Base: filepath.Base(*out), MaxBytes: max, Compress: *compress}, lim)
		if err != nil {
			return err
		}
	case *out == "-":
		if *nodes > 1 {
			return usageError{errors.New("-nodes > 1 writes one file per node: give -o FILE")}
		}
		var w io.Writer = stdout
		if *gz {
			return usageError{errors.New("-gzip needs -o FILE")}
		}
		var el *gen.EventListWriter
		if eventList {
			el = gen.NewEventListWriter(w, *batch)
			w = el
		}
		if st, err = g.Write(ctx, []io.Writer{w}, lim); err != nil {
			return err
		}
		if el != nil {
			if err := el.Close(); err != nil {
				return err
			}
		}
	default:
		if st, err = g.WriteFiles(ctx, *out, gen.FileOptions{Gzip: *gz, EventList: eventList, Batch: *batch}, lim); err != nil {
			return err
		}
		for i := range *nodes {
			written = append(written, gen.NodeFile(*out, i, *nodes))
		}
	}
	if !*quiet {
		el := time.Since(began)
		fmt.Fprintf(stderr, "auditgen: %d events, %.1f MB in %s (%.0f MB/s), %s .. %s\n",
			st.Events, float64(st.Bytes)/1e6, el.Round(time.Millisecond), float64(st.Bytes)/1e6/el.Seconds(),
			st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339))
		for _, f := range written {
			fmt.Fprintln(stderr, "  wrote", f)
		}
	}
	return nil
}
