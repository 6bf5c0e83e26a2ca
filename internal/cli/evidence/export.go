package evidence

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/data/source/file"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/evidence"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/termsafe"
)

// ExportOptions are `audittui export`'s options.
type ExportOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Sources *cmdutil.SourceSet

	Args   []string // SOURCE arguments
	Query  string
	Dir    string
	Window cmdutil.WindowFlags
	Force  bool
}

// NewCmdExport builds `audittui export`; runF, when not nil, runs instead
// of the export (tests).
func NewCmdExport(f *cmdutil.Factory, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: f.IOStreams, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "export [flags] SOURCE... --dir DIR [QUERY]",
		Short: "Copy audit evidence (S3 objects, files, selected events) to a directory with a SHA-256 manifest",
		Long: `Copy the evidence of an investigation to DIR so it can be repeated offline from
exactly the same bytes.

Every S3 object in the time window (--since/--from/--to, planned from
--key-format) and every local file named is copied byte for byte as stored
(compressed objects stay compressed) under DIR/objects/BUCKET/KEY and
DIR/files/PATH. With a QUERY (a LogQL log query, the last argument, starting
with "{"), the matching events are also written, in time order, one per
line (JSON Lines, as "query -o raw" prints them: an event that spans lines
in its file is compacted), to DIR/events.jsonl; they are selected from the
copies, so they come from exactly the bytes hashed. DIR/events.index.jsonl
leads each line back to its original bytes: the citation (files/...:LINE)
and the sha256 and size of the bytes as read there. An exact copy of an
event written (query's duplicate filter) is left out, so events.jsonl holds
the events query counts; MANIFEST.json counts and lists the copies left out,
the events without a timestamp the window left out, and the rejected lines. Loki sources export events only.

DIR/MANIFEST.sha256 holds one sha256sum-compatible line per file written
(check it with "audittui verify DIR" or "cd DIR && sha256sum -c MANIFEST.sha256");
DIR/MANIFEST.json adds each object's key, ETag, size, storage class and
last-modified time, the sources, query, window and time of the export, the
--label, --cluster and -r the sources were read with, each copy's original
name (the filename label events are selected under, as over the sources), and
the objects that could not be exported (GLACIER and DEEP_ARCHIVE objects must
be restored first) with the reason.

Reading never writes to the bucket. Exit status: 0 success; 1 when some object
or line could not be exported (listed on stderr and in MANIFEST.json); 2 on
usage errors.`,
		Example: `  audittui export s3://kubernetes-audit-logs/audit-logs/prod/ --since 6h --dir ./case-4711
  audittui export s3://kubernetes-audit-logs/audit-logs/prod/ --from 2026-11-20T08:00:00Z --to 2026-11-20T12:00:00Z \
      -d ./case-4711 '{job="audit"} | json | user_username="alice"'
  audittui verify ./case-4711`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if last := strings.TrimSpace(args[len(args)-1]); strings.HasPrefix(last, "{") {
				opts.Query = last
				args = args[:len(args)-1]
			}
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runExport(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	// --until's deprecation notice goes to stderr (cobra would print it on
	// stdout).
	fs.SetOutput(f.IOStreams.ErrOut)
	fs.StringVarP(&opts.Dir, "dir", "d", "", "directory to export into (created; must not hold an export already)")
	opts.Window.AddFlags(fs)
	// --until was the end of the window while --to named the directory.
	fs.StringVar(&opts.Window.To, "until", "", "end of the window, exclusive")
	_ = fs.MarkDeprecated("until", "use --to (and --dir for the directory)")
	fs.BoolVar(&opts.Force, "force", false, "export into a directory that already holds an export: its files (those its manifest lists) are removed first; a directory holding other files is refused")
	opts.Sources = f.Sources(fs)
	return cmd
}

// exporter holds the state of one export.
type exporter struct {
	errOut   io.Writer
	dir      *evidence.Dir
	mu       sync.Mutex
	problems int
}

func runExport(ctx context.Context, opts *ExportOptions) error {
	from, to, werr := opts.Window.Range(opts.Now)
	if opts.Dir == "" {
		if werr != nil && opts.Window.To != "" {
			// An old command line: --to named the directory.
			return cmdutil.UsageErrorf("--to %q is not a time: --to is the end of the window; name the directory with --dir (-d)", opts.Window.To)
		}
		return cmdutil.UsageErrorf("--dir DIR is required")
	}
	if werr != nil {
		return werr
	}
	if len(opts.Args) == 0 {
		return cmdutil.UsageErrorf("no SOURCE given")
	}
	var q *logql.LogQuery
	if opts.Query != "" {
		expr, err := cmdutil.ParseQueryFor(opts.Query, opts.Sources.Job())
		if err != nil {
			return err
		}
		lq, ok := expr.(*logql.LogQuery)
		if !ok {
			return cmdutil.UsageErrorf("query: export needs a log query (events), not a metric query")
		}
		q = lq
	}
	man := evidence.Manifest{Version: 1, Generator: buildinfo.Get().String(), ExportedAt: opts.Now().UTC(), Sources: opts.Args, Query: opts.Query,
		Cluster: opts.Sources.Cluster(), Recursive: opts.Sources.Recursive()}
	// The labels the copies are read with shape the selection: verify
	// reads them again with these.
	for _, l := range opts.Sources.Labels() {
		man.Labels = append(man.Labels, l.Name+"="+l.Value)
	}
	if from != 0 {
		t := time.Unix(0, from).UTC()
		man.From = &t
	}
	if to != 0 {
		t := time.Unix(0, to).UTC()
		man.To = &t
	}
	dir, err := evidence.Create(opts.Dir, man, opts.Force)
	if errors.Is(err, evidence.ErrForeign) {
		return cmdutil.UsageErrorf("--force: %s", termsafe.String(err.Error()))
	}
	if errors.Is(err, evidence.ErrExists) {
		return cmdutil.UsageErrorf("%s already holds an export (%s); choose another --dir or pass --force", termsafe.String(opts.Dir), evidence.ManifestSHA)
	}
	if err != nil {
		return err
	}
	srcs, ok, err := opts.Sources.Resolve(ctx, opts.Args)
	if err != nil {
		return err
	}
	if !ok {
		return cmdutil.UsageErrorf("no SOURCE given")
	}
	ex := &exporter{errOut: opts.IO.ErrOut, dir: dir}
	// What the sources hold that is not read is not exported: the
	// manifest says so, not only stderr (review M 14).
	if unread := cmdutil.Unread(srcs); len(unread) > 0 {
		ex.dir.Update(func(m *evidence.Manifest) {
			for _, u := range unread {
				m.NotRead = append(m.NotRead, evidence.NotRead{Path: u.Dir, Reason: u.Why})
			}
		})
	}

	// 1. Copy the evidence; remember local copies to query.
	var copies []data.Source
	for _, src := range srcs {
		var paths []copied
		var err error
		switch src := src.(type) {
		case *s3src.Source:
			paths, err = ex.copyS3(ctx, src, from, to)
		case *file.Source:
			paths, err = ex.copyFiles(src)
		default:
			if q == nil {
				return cmdutil.UsageErrorf("%s: only events can be exported from this source: give a QUERY", src)
			}
			copies = append(copies, src)
			continue
		}
		if err != nil {
			return err
		}
		for _, p := range paths {
			// Read under the original's filename label: a selector
			// naming it selects the copy.
			fsrc, err := opts.Sources.FileAs(p.path, p.filename)
			if err != nil {
				return err
			}
			copies = append(copies, fsrc)
		}
	}

	// 2. Select events from the copies (what a copy's reader finds wrong
	// with it as a whole, one page of a longer CloudWatch answer, is said).
	if q != nil {
		if err := ex.selectEvents(ctx, opts.Sources.Warned(copies), q, from, to); err != nil {
			return err
		}
	}

	// 3. Write the manifests.
	m, err := ex.dir.WriteManifests()
	if err != nil {
		return err
	}
	var bytes int64
	for _, e := range m.Entries {
		bytes += e.Size
	}
	fmt.Fprintf(opts.IO.ErrOut, "audittui: exported %s, %.1f MB, to %s", plural.Count(len(m.Entries), "file", "files"), float64(bytes)/1e6, termsafe.String(opts.Dir))
	if q != nil {
		fmt.Fprintf(opts.IO.ErrOut, " (%s in %s)", plural.Count(m.Events, "event", "events"), evidence.EventsFile)
	}
	digest, err := evidence.Digest(opts.Dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "; check with: audittui verify %s\n", termsafe.String(opts.Dir))
	fmt.Fprintf(opts.IO.ErrOut, "audittui: digest of the export (sha256 of %s, covering every file and %s; note it down, verify --digest compares): %s\n",
		evidence.ManifestSHA, evidence.ManifestJSON, digest)
	if ex.problems > 0 || m.Rejected > 0 {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: fmt.Errorf("%s not exported and %s rejected (listed above and in %s)",
			plural.Count(ex.problems, "object", "objects"), plural.Count(m.Rejected, "line", "lines"), evidence.ManifestJSON)}
	}
	return nil
}

// cite is where e was read, relative to the export directory for its
// copies (files/..., objects/...), so the citation holds when DIR moves.
func (ex *exporter) cite(e *data.Event) string { return ex.relCite(e.Origin.Cite()) }

func (ex *exporter) relCite(c string) string {
	return strings.TrimPrefix(c, filepath.Clean(ex.dir.Path)+string(filepath.Separator))
}

func (ex *exporter) warn(format string, a ...any) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.problems++
	fmt.Fprintf(ex.errOut, "audittui: %s\n", termsafe.String(fmt.Sprintf(format, a...)))
}

// copied is a copy written: its local path and the filename label of
// what it copies (a file's path as given, an object's URL).
type copied struct{ path, filename string }

// copyS3 downloads the window's objects as stored. It returns the copies
// written.
func (ex *exporter) copyS3(ctx context.Context, src *s3src.Source, from, to int64) ([]copied, error) {
	l, err := src.List(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, o := range l.Archived {
		e := objectEntry(src, o)
		e.Reason = "archived in storage class " + o.StorageClass + ": restore it first, then export again"
		ex.dir.Skip(e)
		ex.warn("%s: not exported: %s", src.URL(o), e.Reason)
	}
	type result struct {
		entry evidence.ManifestEntry
		path  string
		err   error
	}
	results := make([]result, len(l.Objects))
	var total int64
	for _, o := range l.Objects {
		total += o.Size
	}
	prog := &exportProgress{w: ex.errOut, name: src.String(), total: len(l.Objects), bytesTotal: total, last: time.Now()}
	sem := make(chan struct{}, s3src.DefaultConcurrency)
	var wg sync.WaitGroup
	for i, o := range l.Objects {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rel := "objects/" + evidence.SafeRel(src.Bucket()) + "/" + evidence.SafeRel(o.Key)
			path := ex.dir.Local(rel)
			d, err := ex.download(ctx, src, o, path)
			e := objectEntry(src, o)
			e.Path, e.SHA256, e.Size, e.Filename = rel, d.SHA256, d.Bytes, src.URL(o)
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
	var paths []copied
	for i, r := range results {
		if r.err != nil {
			e := objectEntry(src, l.Objects[i])
			e.Reason = r.err.Error()
			ex.dir.Skip(e)
			ex.warn("%s: not exported: %v", src.URL(l.Objects[i]), r.err)
			continue
		}
		ex.dir.Add(r.entry)
		paths = append(paths, copied{r.path, r.entry.Filename})
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
	fmt.Fprintf(p.w, "audittui: %s: %d/%d objects, %.1f/%.1f MB\n", termsafe.String(p.name), p.n, p.total,
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

func objectEntry(src *s3src.Source, o s3src.Object) evidence.ManifestEntry {
	e := evidence.ManifestEntry{Source: src.URL(o), Size: o.Size, ETag: o.ETag, StorageClass: o.StorageClass}
	if !o.LastModified.IsZero() {
		t := o.LastModified.UTC()
		e.LastModified = &t
	}
	return e
}

// copyFiles copies a file source's files, hashing while copying. It
// returns the copies.
func (ex *exporter) copyFiles(src *file.Source) ([]copied, error) {
	var paths []copied
	for _, group := range src.Files() {
		for _, p := range group {
			if p == "-" {
				return nil, cmdutil.UsageErrorf("export cannot copy stdin: save it to a file first")
			}
			rel, err := evidence.FilesRel(p)
			if err != nil {
				return nil, err
			}
			e, dst, err := ex.dir.CopyFile(p, rel)
			if err != nil {
				return nil, err
			}
			paths = append(paths, copied{dst, e.Filename})
		}
	}
	return paths, nil
}

// selectEvents writes the events matching q from srcs, in time order, as
// their original bytes, to events.jsonl.
func (ex *exporter) selectEvents(ctx context.Context, srcs []data.Source, q *logql.LogQuery, from, to int64) error {
	w, err := ex.dir.Events()
	if err != nil {
		return err
	}
	rep := cmdutil.NewRejectReporter(ex.errOut, false)
	ro := data.ReadOptions{From: from, To: to, Query: q, Prefilter: data.PrefilterFor(q)}
	st, err := data.OpenAll(ctx, srcs, ro)
	if err != nil {
		w.Abort()
		return err
	}
	defer st.Close()
	var undated data.Undated // events the window left out for lack of a time
	// The duplicate filter of query (data.Dups): events.jsonl holds the
	// events query counts; the copies left out are listed with where the
	// event kept was read (kept: by the sha256 of its line, DupLine).
	dups := data.NewDups(0)
	kept := map[[32]byte]evidence.DuplicateCopy{}
	var copies []evidence.DuplicateCopy
	var rejLines []string
	for {
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Abort()
			return err
		}
		rep.Add(b.Rejects)
		for _, r := range b.Rejects {
			if len(rejLines) < evidence.MaxListed {
				rejLines = append(rejLines, ex.relCite(r.Origin.Where())+": "+r.Reason)
			}
		}
		undated.Add(int64(b.Undated), b.UndatedAt)
		for i := range b.Events {
			e := &b.Events[i]
			if !q.Matches(e) {
				continue
			}
			key := sha256.Sum256(data.DupLine(e))
			if dups.Seen(e) {
				if len(copies) < evidence.MaxListed {
					c := kept[key]
					c.Cite = ex.cite(e)
					copies = append(copies, c)
				}
				continue
			}
			cite := ex.cite(e)
			if err := w.WriteEvent(e.Raw, cite); err != nil {
				w.Abort()
				return err
			}
			if _, ok := kept[key]; !ok {
				kept[key] = evidence.DuplicateCopy{Of: cite, Line: w.Count()}
			}
		}
	}
	nUndated, undatedAt := undated.Count()
	if nUndated > 0 {
		fmt.Fprintf(ex.errOut, "audittui: %s\n", termsafe.String(cmdutil.UndatedMessage(nUndated, undatedAt, "could not be placed in the time window and was left out (counted in "+evidence.ManifestJSON+")", "could not be placed in the time window and were left out (counted in "+evidence.ManifestJSON+")")))
	}
	if n := dups.Count(); n > 0 {
		fmt.Fprintf(ex.errOut, "audittui: %s; left out of %s, listed in %s\n", cmdutil.DuplicatesMessage(n, "the matching events"), evidence.EventsFile, evidence.ManifestJSON)
	}
	if n := dups.AKSCategories(); n > 0 {
		fmt.Fprintf(ex.errOut, "audittui: %s twice, in AKS records of category kube-audit and of kube-audit-admin: written once, among the duplicates\n", plural.Count(n, "matching event came", "matching events came"))
	}
	if n := dups.Others(); n > 0 {
		fmt.Fprintf(ex.errOut, "audittui: %s the auditID, stage and time of another but other bytes (another serialisation or an edited copy): %s, both written\n",
			plural.Count(n, "matching event has", "matching events have"), plural.Word(n, "not a duplicate", "not duplicates"))
	}
	ex.dir.Update(func(m *evidence.Manifest) {
		m.RejectedLines = rejLines
		m.DuplicatesDropped = int(dups.Count())
		m.Duplicates = copies
		m.Undated = int(nUndated)
		if nUndated > 0 {
			m.UndatedAt = ex.relCite(undatedAt)
		}
	})
	ex.dir.Update(func(m *evidence.Manifest) { m.Rejected = rep.Count() })
	return w.Close()
}
