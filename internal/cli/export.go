package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/s3src"
	"github.com/audittui/audittui/internal/ui"
)

func init() { subcommands = append(subcommands, newExportCmd) }

// Manifest file names inside an export directory.
const (
	manifestSHA  = "MANIFEST.sha256"
	manifestJSON = "MANIFEST.json"
	eventsFile   = "events.jsonl"
)

// ExportOptions are `audittui export`'s options.
type ExportOptions struct {
	Sources []string
	Query   string
	Dir     string
	Since   time.Duration
	From    string
	Until   string
	Force   bool
	now     func() time.Time
}

// Manifest is MANIFEST.json: what was exported, from where, when.
type Manifest struct {
	Version    int             `json:"version"`
	ExportedAt time.Time       `json:"exported_at"`
	Sources    []string        `json:"sources"`
	Query      string          `json:"query,omitempty"`
	From       *time.Time      `json:"from,omitempty"`
	To         *time.Time      `json:"to,omitempty"`
	Entries    []ManifestEntry `json:"entries"`
	// Skipped lists source objects that could not be exported (archived
	// storage classes, read errors), with the reason.
	Skipped []ManifestEntry `json:"skipped,omitempty"`
	// Events is the number of events written to events.jsonl (query mode).
	Events int `json:"events,omitempty"`
	// Rejected counts input lines that could not be decoded (query mode).
	Rejected int `json:"rejected,omitempty"`
}

// ManifestEntry is one exported file.
type ManifestEntry struct {
	// Path is relative to the export directory (slash-separated).
	Path string `json:"path,omitempty"`
	// Source is where the bytes came from: s3://bucket/key, a local path,
	// or "query" for events.jsonl.
	Source       string     `json:"source"`
	SHA256       string     `json:"sha256,omitempty"`
	Size         int64      `json:"size"`
	ETag         string     `json:"etag,omitempty"`
	VersionID    string     `json:"version_id,omitempty"`
	StorageClass string     `json:"storage_class,omitempty"`
	LastModified *time.Time `json:"last_modified,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

func newExportCmd(s *IO) *cobra.Command {
	opts := &ExportOptions{}
	var sources *sourceSet
	cmd := &cobra.Command{
		Use:   "export [flags] SOURCE... --to DIR [QUERY]",
		Short: "Copy audit evidence (S3 objects, files, selected events) to a directory with a SHA-256 manifest",
		Long: `Copy the evidence of an investigation to DIR so it can be repeated offline from
exactly the same bytes.

Every S3 object in the time window (--since/--from/--until, planned from
--key-format) and every local file named is copied byte for byte as stored
(compressed objects stay compressed) under DIR/objects/BUCKET/KEY and
DIR/files/PATH. With a QUERY (a LogQL log query, the last argument, starting
with "{"), the matching events are also written, in time order and as their
original bytes, to DIR/events.jsonl; they are selected from the copies, so
they come from exactly the bytes hashed. Loki sources export events only.

DIR/MANIFEST.sha256 holds one sha256sum-compatible line per file written
(check it with "audittui verify DIR" or "cd DIR && sha256sum -c MANIFEST.sha256");
DIR/MANIFEST.json adds each object's key, ETag, size, storage class and
last-modified time, the sources, query, window and time of the export, and
the objects that could not be exported (GLACIER and DEEP_ARCHIVE objects must
be restored first) with the reason.

Reading never writes to the bucket. Exit status: 0 success; 1 when some object
or line could not be exported (listed on stderr and in MANIFEST.json); 2 on
usage errors.`,
		Example: `  audittui export s3://kubernetes-audit-logs/audit-logs/prod/ --since 6h --to ./case-4711
  audittui export s3://kubernetes-audit-logs/audit-logs/prod/ --from 2026-11-20T08:00:00Z --until 2026-11-20T12:00:00Z \
      --to ./case-4711 '{job="audit"} | json | user_username="alice"'
  audittui verify ./case-4711`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if last := strings.TrimSpace(args[len(args)-1]); strings.HasPrefix(last, "{") {
				opts.Query = last
				args = args[:len(args)-1]
			}
			opts.Sources = args
			return runExport(cmd.Context(), s, sources, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Dir, "to", "", "directory to export into (created; must not hold an export already)")
	fs.DurationVar(&opts.Since, "since", 0, "only the last duration before --until (or now), e.g. 6h")
	fs.StringVar(&opts.From, "from", "", "start of the window, inclusive (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&opts.Until, "until", "", "end of the window, exclusive (RFC 3339 or YYYY-MM-DD)")
	fs.BoolVar(&opts.Force, "force", false, "export into a directory that already holds a manifest (files are overwritten)")
	sources = newSourceSet(fs)
	return cmd
}

// exporter holds the state of one export.
type exporter struct {
	io       *IO
	dir      string
	man      Manifest
	mu       sync.Mutex
	problems int
}

func runExport(ctx context.Context, s *IO, sources *sourceSet, opts *ExportOptions) error {
	if opts.Dir == "" {
		return usageErr("--to DIR is required")
	}
	if len(opts.Sources) == 0 {
		return usageErr("no SOURCE given")
	}
	var q *logql.LogQuery
	if opts.Query != "" {
		expr, err := logql.Parse(opts.Query)
		if err != nil {
			return usageErr("query: %v", err)
		}
		lq, ok := expr.(*logql.LogQuery)
		if !ok {
			return usageErr("query: export needs a log query (events), not a metric query")
		}
		q = lq
	}
	from, to, err := exportWindow(opts)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, manifestSHA)); err == nil && !opts.Force {
		return usageErr("%s already holds an export (%s); choose another --to or pass --force", opts.Dir, manifestSHA)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	srcs, ok, err := sources.resolve(ctx, opts.Sources)
	if err != nil {
		return err
	}
	if !ok {
		return usageErr("no SOURCE given")
	}
	now := time.Now
	if opts.now != nil {
		now = opts.now
	}
	ex := &exporter{io: s, dir: opts.Dir}
	ex.man = Manifest{Version: 1, ExportedAt: now().UTC(), Sources: opts.Sources, Query: opts.Query}
	if from != 0 {
		t := time.Unix(0, from).UTC()
		ex.man.From = &t
	}
	if to != 0 {
		t := time.Unix(0, to).UTC()
		ex.man.To = &t
	}

	// 1. Copy the evidence; remember local copies to query.
	var copies []data.Source
	for _, src := range srcs {
		switch src := src.(type) {
		case *s3src.Source:
			paths, err := ex.copyS3(ctx, src, from, to)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fsrc, err := data.NewFileSource(p, data.FileOptions{Cluster: sources.common.Cluster})
				if err != nil {
					return err
				}
				copies = append(copies, fsrc)
			}
		case *data.FileSource:
			paths, err := ex.copyFiles(src)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fsrc, err := data.NewFileSource(p, data.FileOptions{Cluster: sources.common.Cluster})
				if err != nil {
					return err
				}
				copies = append(copies, fsrc)
			}
		default:
			if q == nil {
				return usageErr("%s: only events can be exported from this source: give a QUERY", src)
			}
			copies = append(copies, src)
		}
	}

	// 2. Select events from the copies.
	if q != nil {
		if err := ex.selectEvents(ctx, copies, q, opts.Query, from, to); err != nil {
			return err
		}
	}

	// 3. Write the manifests.
	if err := ex.writeManifests(); err != nil {
		return err
	}
	var bytes int64
	for _, e := range ex.man.Entries {
		bytes += e.Size
	}
	fmt.Fprintf(s.Err, "audittui: exported %d file(s), %.1f MB, to %s", len(ex.man.Entries), float64(bytes)/1e6, ui.Sanitize(opts.Dir))
	if q != nil {
		fmt.Fprintf(s.Err, " (%d event(s) in %s)", ex.man.Events, eventsFile)
	}
	fmt.Fprintf(s.Err, "; check with: audittui verify %s\n", ui.Sanitize(opts.Dir))
	if ex.problems > 0 || ex.man.Rejected > 0 {
		return &ExitError{Code: ExitInputError, Err: fmt.Errorf("%d object(s) not exported and %d line(s) rejected (listed above and in %s)",
			ex.problems, ex.man.Rejected, manifestJSON)}
	}
	return nil
}

// exportWindow turns --since/--from/--until into [from, to) in Unix
// nanoseconds (0 = open), as query's --since/--from/--to.
func exportWindow(opts *ExportOptions) (from, to int64, err error) {
	parse := func(flag, v string) (int64, error) {
		if t, err := data.ParseTime(v); err == nil {
			return t, nil
		}
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return t.UnixNano(), nil
		}
		return 0, usageErr("%s: cannot parse %q (want RFC 3339 such as 2026-11-20T08:00:00Z, or YYYY-MM-DD)", flag, v)
	}
	if opts.Until != "" {
		if to, err = parse("--until", opts.Until); err != nil {
			return 0, 0, err
		}
	}
	if opts.From != "" {
		if opts.Since != 0 {
			return 0, 0, usageErr("--since and --from are mutually exclusive")
		}
		if from, err = parse("--from", opts.From); err != nil {
			return 0, 0, err
		}
	}
	if opts.Since > 0 {
		end := to
		if end == 0 {
			now := time.Now
			if opts.now != nil {
				now = opts.now
			}
			end = now().UnixNano()
		}
		from = end - int64(opts.Since)
	}
	if from != 0 && to != 0 && from >= to {
		return 0, 0, usageErr("empty window: --from is not before --until")
	}
	return from, to, nil
}

// safeRel turns an S3 key or a path into a relative path inside the
// export directory: no absolute paths, no "." or ".." segments, no empty
// segments, and no glob characters (the copies are opened as file sources,
// which expand globs); "%" is escaped too so the mapping is one to one.
// MANIFEST.json keeps the original key.
func safeRel(p string) string {
	segs := strings.Split(filepath.ToSlash(p), "/")
	out := segs[:0]
	esc := strings.NewReplacer("%", "%25", "*", "%2A", "?", "%3F", "[", "%5B", "\\", "%5C")
	for _, s := range segs {
		switch s {
		case "":
			continue
		case ".", "..":
			out = append(out, strings.ReplaceAll(s, ".", "%2E"))
		default:
			out = append(out, esc.Replace(s))
		}
	}
	if len(out) == 0 {
		return "_"
	}
	return strings.Join(out, "/")
}

func (ex *exporter) warn(format string, a ...any) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.problems++
	fmt.Fprintf(ex.io.Err, "audittui: %s\n", ui.Sanitize(fmt.Sprintf(format, a...)))
}

// copyS3 downloads the window's objects as stored. It returns the local
// paths written.
func (ex *exporter) copyS3(ctx context.Context, src *s3src.Source, from, to int64) ([]string, error) {
	l, err := src.List(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, o := range l.Archived {
		e := objectEntry(src, o)
		e.Reason = "archived in storage class " + o.StorageClass + ": restore it first, then export again"
		ex.man.Skipped = append(ex.man.Skipped, e)
		ex.warn("%s: not exported: %s", src.URL(o), e.Reason)
	}
	type result struct {
		entry ManifestEntry
		path  string
		err   error
	}
	results := make([]result, len(l.Objects))
	var total int64
	for _, o := range l.Objects {
		total += o.Size
	}
	prog := &exportProgress{w: ex.io.Err, name: src.String(), total: len(l.Objects), bytesTotal: total, last: time.Now()}
	sem := make(chan struct{}, s3src.DefaultConcurrency)
	var wg sync.WaitGroup
	for i, o := range l.Objects {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rel := filepath.ToSlash(filepath.Join("objects", safeRel(src.Bucket()), safeRel(o.Key)))
			path := filepath.Join(ex.dir, filepath.FromSlash(rel))
			d, err := ex.download(ctx, src, o, path)
			e := objectEntry(src, o)
			e.Path, e.SHA256, e.Size = rel, d.SHA256, d.Bytes
			if d.Object.ETag != "" {
				e.ETag = d.Object.ETag
			}
			e.VersionID = d.VersionID
			results[i] = result{entry: e, path: path, err: err}
			prog.done(d.Bytes)
		}()
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var paths []string
	for i, r := range results {
		if r.err != nil {
			e := objectEntry(src, l.Objects[i])
			e.Reason = r.err.Error()
			ex.man.Skipped = append(ex.man.Skipped, e)
			ex.warn("%s: not exported: %v", src.URL(l.Objects[i]), r.err)
			continue
		}
		ex.man.Entries = append(ex.man.Entries, r.entry)
		paths = append(paths, r.path)
	}
	return paths, nil
}

// exportProgress prints how far the downloads are, at most once a second.
type exportProgress struct {
	mu                sync.Mutex
	w                 io.Writer
	name              string
	n, total          int
	bytes, bytesTotal int64
	last              time.Time
}

func (p *exportProgress) done(b int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.bytes += b
	if time.Since(p.last) < time.Second && p.n < p.total {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "audittui: %s: %d/%d objects, %.1f/%.1f MB\n", ui.Sanitize(p.name), p.n, p.total,
		float64(p.bytes)/1e6, float64(p.bytesTotal)/1e6)
}

func (ex *exporter) download(ctx context.Context, src *s3src.Source, o s3src.Object, path string) (s3src.Digest, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return s3src.Digest{}, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.Create(path)
	if err != nil {
		return s3src.Digest{}, fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	d, err := src.Download(ctx, o, w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return d, err
	}
	if !o.LastModified.IsZero() {
		_ = os.Chtimes(path, o.LastModified, o.LastModified)
	}
	return d, nil
}

func objectEntry(src *s3src.Source, o s3src.Object) ManifestEntry {
	e := ManifestEntry{Source: src.URL(o), Size: o.Size, ETag: o.ETag, StorageClass: o.StorageClass}
	if !o.LastModified.IsZero() {
		t := o.LastModified.UTC()
		e.LastModified = &t
	}
	return e
}

// copyFiles copies a file source's files, hashing while copying. It
// returns the local copies.
func (ex *exporter) copyFiles(src *data.FileSource) ([]string, error) {
	var paths []string
	for _, group := range src.Files() {
		for _, p := range group {
			if p == "-" {
				return nil, usageErr("export cannot copy stdin: save it to a file first")
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			rel := filepath.ToSlash(filepath.Join("files", safeRel(abs)))
			dst := filepath.Join(ex.dir, filepath.FromSlash(rel))
			sum, n, mtime, err := copyFile(p, dst)
			if err != nil {
				return nil, err
			}
			e := ManifestEntry{Path: rel, Source: abs, SHA256: sum, Size: n}
			if !mtime.IsZero() {
				t := mtime.UTC()
				e.LastModified = &t
			}
			ex.man.Entries = append(ex.man.Entries, e)
			paths = append(paths, dst)
		}
	}
	return paths, nil
}

func copyFile(src, dst string) (string, int64, time.Time, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	var mtime time.Time
	if fi, err := in.Stat(); err == nil {
		mtime = fi.ModTime()
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", 0, mtime, fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return "", 0, mtime, fmt.Errorf("create %s: %w", dst, err)
	}
	h := sha256.New()
	// A live audit.log may grow while it is copied: what is hashed is
	// exactly what was copied.
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return "", 0, mtime, fmt.Errorf("copy %s: %w", src, err)
	}
	if !mtime.IsZero() {
		_ = os.Chtimes(dst, mtime, mtime)
	}
	return hex.EncodeToString(h.Sum(nil)), n, mtime, nil
}

// selectEvents writes the events matching q from srcs, in time order, as
// their original bytes, to events.jsonl.
func (ex *exporter) selectEvents(ctx context.Context, srcs []data.Source, q *logql.LogQuery, query string, from, to int64) error {
	path := filepath.Join(ex.dir, eventsFile)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	var size int64
	ro := data.ReadOptions{From: from, To: to, Query: query, Prefilter: data.PrefilterFor(q)}
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		return err
	}
	defer st.Close()
	undated := 0 // events the window left out for lack of a time
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			if undated > 0 {
				fmt.Fprintf(ex.io.Err, "audittui: %d event(s) without a timestamp could not be placed in the time window and were left out\n", undated)
			}
			break
		}
		if err != nil {
			return err
		}
		for _, r := range b.Rejects {
			ex.man.Rejected++
			fmt.Fprintf(ex.io.Err, "audittui: skipped %s\n", ui.Sanitize(r.Error()))
		}
		undated += b.Undated
		for i := range b.Events {
			e := &b.Events[i]
			if !q.Matches(e) {
				continue
			}
			w.Write(e.Raw)
			w.WriteByte('\n')
			size += int64(len(e.Raw)) + 1
			ex.man.Events++
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ex.man.Entries = append(ex.man.Entries, ManifestEntry{Path: eventsFile, Source: "query", SHA256: hex.EncodeToString(h.Sum(nil)), Size: size})
	return nil
}

// writeManifests writes MANIFEST.json and MANIFEST.sha256 (each through a
// temporary file and a rename).
func (ex *exporter) writeManifests() error {
	sort.SliceStable(ex.man.Entries, func(i, j int) bool { return ex.man.Entries[i].Path < ex.man.Entries[j].Path })
	js, err := json.MarshalIndent(ex.man, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(ex.dir, manifestJSON), append(js, '\n')); err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range ex.man.Entries {
		b.WriteString(shaLine(e.SHA256, e.Path))
	}
	return writeFileAtomic(filepath.Join(ex.dir, manifestSHA), []byte(b.String()))
}

// shaLine formats a sha256sum line. As GNU sha256sum does, a name holding
// a backslash, newline or carriage return is escaped and the line starts
// with a backslash.
func shaLine(sum, path string) string {
	if !strings.ContainsAny(path, "\\\n\r") {
		return sum + "  " + path + "\n"
	}
	r := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
	return "\\" + sum + "  " + r.Replace(path) + "\n"
}

// parseShaLine reverses shaLine.
func parseShaLine(line string) (sum, path string, err error) {
	escaped := strings.HasPrefix(line, "\\")
	if escaped {
		line = line[1:]
	}
	sum, path, ok := strings.Cut(line, "  ")
	if !ok {
		// sha256sum -b writes "SUM *PATH".
		sum, path, ok = strings.Cut(line, " *")
	}
	if !ok || len(sum) != 64 {
		return "", "", errors.New("not a sha256sum line (want 64 hex digits, two spaces, a path)")
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", "", errors.New("the checksum is not hex")
	}
	if escaped {
		var b strings.Builder
		for i := 0; i < len(path); i++ {
			if path[i] != '\\' || i+1 == len(path) {
				b.WriteByte(path[i])
				continue
			}
			i++
			switch path[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(path[i])
			}
		}
		path = b.String()
	}
	return strings.ToLower(sum), path, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
