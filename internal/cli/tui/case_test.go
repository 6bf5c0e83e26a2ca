package tui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// TestReopenCase: --case DIR without SOURCE takes the sources (relative
// paths from where they were opened) and the window of the case's last
// session; SOURCE arguments and window flags win.
func TestReopenCase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"nodes/a.log", "s3://b/p/"}, Dir: "/srv/evidence", From: &from, To: &to}); err != nil {
		t.Fatal(err)
	}
	opts := &TUIOptions{Case: dir}
	if err := reopenCase(opts); err != nil {
		t.Fatal(err)
	}
	if len(opts.Args) != 2 || opts.Args[0] != "/srv/evidence/nodes/a.log" || opts.Args[1] != "s3://b/p/" {
		t.Errorf("args %v", opts.Args)
	}
	if opts.Window.From != "2026-11-20T02:30:00Z" || opts.Window.To != "2026-11-20T03:30:00Z" {
		t.Errorf("window %+v", opts.Window)
	}
	f, tt, err := opts.Window.Range(time.Now)
	if err != nil || f != from.UnixNano() || tt != to.UnixNano() {
		t.Errorf("range %d %d %v", f, tt, err)
	}
	given := &TUIOptions{Case: dir, Args: []string{"x.log"}}
	given.Window.Since = time.Hour
	if err := reopenCase(given); err != nil || len(given.Args) != 1 || given.Window.From != "" {
		t.Errorf("arguments given: %+v %v", given, err)
	}
	fresh := &TUIOptions{Case: filepath.Join(t.TempDir(), "new")}
	if err := reopenCase(fresh); err != nil || len(fresh.Args) != 0 {
		t.Errorf("a new case: %+v %v", fresh, err)
	}
}

func TestSessionSources(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"audit.log", "audit-2026-11-20T01-00-00.000.log.gz"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	ios, _, _ := clitest.Streams("")
	set := clitest.Factory(ios).Sources(pflag.NewFlagSet("t", pflag.ContinueOnError))
	src, err := set.File(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := sessionSources(&TUIOptions{Args: []string{dir}}, []data.Source{src}, false)
	wd, _ := os.Getwd()
	if len(s.Args) != 1 || s.Dir != wd || len(s.Files) != 2 {
		t.Errorf("%+v", s)
	}
}

// TestReopenCaseReadFromStdin: a case whose source was stdin is never
// reopened over a terminal (the TUI would take the keys typed as audit
// events); with stdin a pipe, stdin is read as that source and the status
// bar says so. SOURCE - given on a terminal is refused too.
func TestReopenCaseReadFromStdin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"-"}, Dir: "/srv"}); err != nil {
		t.Fatal(err)
	}
	ios, _, _ := clitest.Streams("")
	ios.InTTY = true
	opts := &TUIOptions{Case: dir, IO: ios}
	err = reopenCase(opts)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "this case was read from stdin; pipe the same evidence in again: cat FILE | audittui --case "+dir+" -") {
		t.Errorf("stdin a terminal: %v", err)
	}
	if len(opts.Args) != 0 {
		t.Errorf("stdin a terminal: would open %v", opts.Args)
	}

	piped, _, _ := clitest.Streams("{}\n")
	opts = &TUIOptions{Case: dir, IO: piped}
	if err := reopenCase(opts); err != nil || len(opts.Args) != 1 || opts.Args[0] != "-" || !strings.Contains(opts.Notice, "stdin taken as the case's stdin source") || !opts.StdinCase {
		t.Errorf("stdin a pipe: %v %+v", err, opts)
	}
	if err := stdinOnTerminal(opts); err != nil {
		t.Errorf("stdin a pipe: %v", err)
	}

	// A case read from stdin and a file: the message names both ways.
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"/srv/a.log"}}); err != nil {
		t.Fatal(err)
	}
	if err := reopenCase(&TUIOptions{Case: dir, IO: ios}); err == nil || !strings.Contains(err.Error(), "(and /srv/a.log); pipe the same evidence in again: cat FILE | audittui --case "+dir+" (or name") {
		t.Errorf("stdin and a file, on a terminal: %v", err)
	}

	if err := stdinOnTerminal(&TUIOptions{IO: ios, Args: []string{"a.log", "-"}, Case: dir}); !errors.As(err, &ee) || ee.Code != cmdutil.ExitUsage || !strings.Contains(err.Error(), "cat FILE | audittui --case "+dir+" -") {
		t.Errorf("SOURCE - on a terminal: %v", err)
	}
}

// TestS3ObjectsForTheCase: the TUI records the S3 objects it reads in its
// window (Prints) for `audittui report`: each with its ETag, size,
// LastModified and the sha256 of its bytes as stored (here those of the
// archive uploaded to gofakes3); an object the case holds as it is now is
// not listed again, and one overwritten since is, with its new bytes.
func TestS3ObjectsForTheCase(t *testing.T) {
	w := clitest.NewS3World(t, false)
	ctx := context.Background()
	format, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{UnsetAsWildcard: true, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	arg := "s3://" + w.Bucket + "/audit-logs/c1/"
	src, err := s3src.New(ctx, arg, s3src.Options{Client: w.Client, KeyFormat: format})
	if err != nil {
		t.Fatal(err)
	}
	if s3Objects(nil, 0, 0, nil, nil) != nil {
		t.Error("objects listed without an S3 source")
	}
	from, to := w.Start.Add(2*time.Hour), w.Start.Add(3*time.Hour)
	list := s3Objects([]data.Source{src}, from.UnixNano(), to.UnixNano(), nil, nil)
	objs, err := list(ctx, nil)
	if err != nil || len(objs) < 2 {
		t.Fatalf("%d objects: %v", len(objs), err)
	}
	keyOf := func(url string) string { return strings.TrimPrefix(url, "s3://"+w.Bucket+"/") }
	bodies := map[string][]byte{}
	for _, o := range w.Objects {
		bodies[o.Key] = o.Body
	}
	known := map[string]casefile.SourceObject{}
	for _, o := range objs {
		b, ok := bodies[keyOf(o.URL)]
		sum := sha256.Sum256(b)
		if !ok || o.Source != arg || o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(b)) || o.ETag == "" || o.LastModified.IsZero() {
			t.Errorf("object %+v", o)
		}
		known[o.URL] = o
	}
	if again, err := list(ctx, known); err != nil || len(again) != 0 {
		t.Errorf("listed again as recorded: %+v %v", again, err)
	}
	other := bodies[keyOf(objs[1].URL)]
	s3test.Put(ctx, t, w.Client, w.Bucket, keyOf(objs[0].URL), other, "")
	again, err := list(ctx, known)
	sum := sha256.Sum256(other)
	if err != nil || len(again) != 1 || again[0].URL != objs[0].URL || again[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("after an overwrite: %+v %v", again, err)
	}
}

// TestCaseReadsAsRecorded: the session record holds the --label labels
// and -r the sources were read with, and `audittui --case DIR` without
// SOURCE reads them the same way; a --label given on the command line
// wins over the recorded one of that name.
func TestCaseReadsAsRecorded(t *testing.T) {
	ios, _, _ := clitest.Streams("")
	sources := func(args ...string) *cmdutil.SourceSet {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		set := clitest.Factory(ios).Sources(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return set
	}
	ev := t.TempDir()
	s := sessionSources(&TUIOptions{Args: []string{ev}, Sources: sources("--label", "job=kube-audit", "--label", "team=sec", "-r")}, nil, false)
	if !s.Recursive || strings.Join(s.Labels, ",") != "job=kube-audit,team=sec" {
		t.Errorf("session sources %+v", s)
	}
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: s.Args, Dir: s.Dir, Labels: s.Labels, Recursive: s.Recursive}); err != nil {
		t.Fatal(err)
	}
	opts := &TUIOptions{Case: dir, Sources: sources()}
	if err := reopenCase(opts); err != nil {
		t.Fatal(err)
	}
	if l := opts.Sources.LabelArgs(); !opts.Sources.Recursive() || opts.Sources.Job() != "kube-audit" || strings.Join(l, ",") != "job=kube-audit,team=sec" {
		t.Errorf("reopened: recursive %v, labels %v", opts.Sources.Recursive(), l)
	}
	given := &TUIOptions{Case: dir, Sources: sources("--label", "job=other")}
	if err := reopenCase(given); err != nil || given.Sources.Job() != "other" || !given.Sources.Recursive() {
		t.Errorf("--label given: job %s, %v", given.Sources.Job(), err)
	}
}

// TestCaseReadsTheRecordedCluster: a session read a managed cluster's
// export with --cluster prod (and a label, and -r); the case records the
// cluster, and reopening it, without SOURCE or with other SOURCEs (the
// evidence copied elsewhere), reads them with it: the recorded flags
// apply unless the command line gives them again, and the status bar
// says which did.
func TestCaseReadsTheRecordedCluster(t *testing.T) {
	ios, _, _ := clitest.Streams("")
	sources := func(args ...string) *cmdutil.SourceSet {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		set := clitest.Factory(ios).Sources(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return set
	}
	evidence := func() string {
		d := t.TempDir()
		line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a-1","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"stageTimestamp":"2026-11-20T02:30:00.000000Z"}` + "\n"
		if err := os.WriteFile(filepath.Join(d, "audit.log"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	ev := evidence()
	s := sessionSources(&TUIOptions{Args: []string{ev}, Sources: sources("--cluster", "prod", "--label", "job=kube-audit", "-r")}, nil, false)
	if s.Cluster != "prod" {
		t.Errorf("session sources %+v", s)
	}
	dir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(casefile.Record{Kind: casefile.KindOpen, Sources: s.Args, Dir: s.Dir, Labels: s.Labels, Cluster: s.Cluster, Recursive: s.Recursive}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cluster, job string
		recursive          bool
		args, flags        []string
		notice             string
	}{
		{"no SOURCE", "prod", "kube-audit", true, nil, nil, "read with the case's --label job=kube-audit --cluster prod -r"},
		{"SOURCE given", "prod", "kube-audit", true, []string{evidence()}, nil, "read with the case's --label job=kube-audit --cluster prod -r"},
		{"--cluster given", "staging", "kube-audit", true, []string{evidence()}, []string{"--cluster", "staging"},
			"read with the case's --label job=kube-audit -r · given: --cluster staging in place of the case's --cluster prod"},
		{"--label cluster= given", "", "kube-audit", true, nil, []string{"--label", "cluster=dev"}, "read with the case's --label job=kube-audit -r · given: --label cluster=dev in place of the case's --cluster prod"},
		{"--recursive=false given", "prod", "other", false, nil, []string{"--recursive=false", "--label", "job=other"},
			"read with the case's --cluster prod · given: --label job=other in place of the case's --label job=kube-audit, --recursive=false in place of the case's -r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := &TUIOptions{Case: dir, Sources: sources(tc.flags...), Args: tc.args}
			if err := reopenCase(opts); err != nil {
				t.Fatal(err)
			}
			if opts.Sources.Cluster() != tc.cluster || opts.Sources.Job() != tc.job || opts.Sources.Recursive() != tc.recursive || opts.Notice != tc.notice {
				t.Errorf("cluster %q, job %q, -r %v, notice %q", opts.Sources.Cluster(), opts.Sources.Job(), opts.Sources.Recursive(), opts.Notice)
			}
			if len(tc.args) == 0 && (len(opts.Args) != 1 || opts.Args[0] != ev) {
				t.Errorf("args %v", opts.Args)
			}
			// What is read carries the cluster label.
			srcs, _, err := opts.Sources.Resolve(context.Background(), opts.Args)
			if err != nil || len(srcs) != 1 {
				t.Fatalf("%v %v", srcs, err)
			}
			want := tc.cluster
			if want == "" {
				want = "dev"
			}
			sl := cmdutil.StreamLabels(context.Background(), srcs, data.ReadOptions{}, []string{"cluster"}).Labels
			if v := sl.Values("cluster"); len(v) != 1 || v[0] != want {
				t.Errorf("cluster label %v", v)
			}
		})
	}
}

// countingTransport counts the GET requests of objects (not listings) a
// client sends over HTTP.
type countingTransport struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	gets int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if q := r.URL.Query(); r.Method == http.MethodGet && !q.Has("list-type") && !q.Has("prefix") && !q.Has("delimiter") {
		c.mu.Lock()
		c.gets++
		c.mu.Unlock()
	}
	return c.rt.RoundTrip(r)
}

func (c *countingTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets
}

// TestS3ObjectsHashedAsRead: with a case, the TUI records each S3 object
// it read with the sha256 its read computed: recording them sends no GET
// (each object was downloaded a second time for its sha256). Against
// gofakes3 and versitygw, the GETs counted on the wire: the session's read
// alone, the read and the case's records (which wait for the read), and
// the records without the read's digests (a case opened later: one GET
// per object, the same sha256s).
func TestS3ObjectsHashedAsRead(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "gofakes3", true: "versitygw"}[real], func(t *testing.T) {
			w := clitest.NewS3World(t, real)
			ctx := context.Background()
			ct := &countingTransport{rt: http.DefaultTransport}
			client := awss3.New(w.Client.Options(), func(o *awss3.Options) { o.HTTPClient = &http.Client{Transport: ct} })
			format, err := s3key.Parse(s3key.DefaultFormat, s3key.ParseOptions{UnsetAsWildcard: true, LookupEnv: func(string) (string, bool) { return "", false }})
			if err != nil {
				t.Fatal(err)
			}
			from, to := w.Start.Add(2*time.Hour).UnixNano(), w.Start.Add(5*time.Hour).UnixNano()
			open := func(read *s3Digests) *s3src.Source {
				opts := s3src.Options{Client: client, KeyFormat: format}
				if read != nil {
					opts.OnObject = read.add
				}
				src, err := s3src.New(ctx, "s3://"+w.Bucket+"/audit-logs/c1/", opts)
				if err != nil {
					t.Fatal(err)
				}
				return src
			}
			session := func(src *s3src.Source) {
				st, err := data.OpenAll(ctx, []data.Source{src}, data.ReadOptions{From: from, To: to})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				for {
					if _, err := st.Next(ctx); errors.Is(err, io.EOF) {
						return
					} else if err != nil {
						t.Fatal(err)
					}
				}
			}
			bodies := map[string][]byte{}
			for _, o := range w.Objects {
				bodies["s3://"+w.Bucket+"/"+o.Key] = o.Body
			}
			check := func(what string, objs []casefile.SourceObject) {
				for _, o := range objs {
					sum := sha256.Sum256(bodies[o.URL])
					if o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(bodies[o.URL])) || o.ETag == "" {
						t.Errorf("%s: object %+v", what, o)
					}
				}
			}

			session(open(nil))
			readGets := ct.count()

			// The session with a case: the records wait for its read.
			read := &s3Digests{}
			src := open(read)
			start := ct.count()
			waited := false
			objs, err := s3Objects([]data.Source{src}, from, to, read, func(context.Context) { waited = true; session(src) })(ctx, nil)
			withCase := ct.count() - start
			if err != nil || len(objs) < 4 || !waited {
				t.Fatalf("%d objects, waited %v: %v", len(objs), waited, err)
			}
			check("hashed as read", objs)

			// A case opened later: the objects are downloaded again.
			start = ct.count()
			again, err := s3Objects([]data.Source{open(nil)}, from, to, nil, nil)(ctx, nil)
			later := ct.count() - start
			check("downloaded again", again)
			if err != nil || len(again) != len(objs) {
				t.Fatalf("%d objects: %v", len(again), err)
			}
			t.Logf("GETs: the read %d; the read and the case's records of its %d objects %d; the records alone, downloading %d",
				readGets, len(objs), withCase, later)
			if withCase != readGets || later != len(objs) {
				t.Errorf("GETs: the read %d, with the case's records %d (want the same); the records alone %d (want %d)", readGets, withCase, later, len(objs))
			}
		})
	}
}

// TestS3HashedBeforeTheCase: a session started without --case hashes the
// S3 objects it reads all the same (one sha256 per object, kept as read),
// so `:case DIR` typed after the read records them with those sha256s and
// downloads none again (it downloaded each once more). The sources are
// those runTUI opens (its SourceSet, hashS3AsRead); the GETs are counted
// on the wire, against gofakes3 and versitygw.
func TestS3HashedBeforeTheCase(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "gofakes3", true: "versitygw"}[real], func(t *testing.T) {
			w := clitest.NewS3World(t, real)
			ctx := context.Background()
			ct := &countingTransport{rt: http.DefaultTransport}
			ios, _, _ := clitest.Streams("")
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			opts := &TUIOptions{Sources: clitest.Factory(ios).Sources(fs)} // no --case
			if err := fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			opts.Sources.S3Client = awss3.New(w.Client.Options(), func(o *awss3.Options) { o.HTTPClient = &http.Client{Transport: ct} })
			read := hashS3AsRead(opts)
			srcs, _, err := opts.Sources.Resolve(ctx, []string{"s3://" + w.Bucket + "/audit-logs/c1/"})
			if err != nil {
				t.Fatal(err)
			}
			from, to := w.Start.Add(2*time.Hour).UnixNano(), w.Start.Add(5*time.Hour).UnixNano()
			st, err := data.OpenAll(ctx, srcs, data.ReadOptions{From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := st.Next(ctx); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			st.Close()
			readGets := ct.count()

			// :case DIR, once the read is over.
			objs, err := s3Objects(srcs, from, to, read, func(context.Context) {})(ctx, nil)
			later := ct.count() - readGets
			if err != nil || len(objs) < 4 {
				t.Fatalf("%d objects: %v", len(objs), err)
			}
			bodies := map[string][]byte{}
			for _, o := range w.Objects {
				bodies["s3://"+w.Bucket+"/"+o.Key] = o.Body
			}
			for _, o := range objs {
				sum := sha256.Sum256(bodies[o.URL])
				if o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(bodies[o.URL])) || o.ETag == "" {
					t.Errorf("object %+v", o)
				}
			}
			t.Logf("GETs: the read %d; the case's records of its %d objects, opened after it, %d", readGets, len(objs), later)
			if readGets < len(objs) || later != 0 {
				t.Errorf("GETs: the read %d (of %d objects), the records after it %d (want 0: no second download)", readGets, len(objs), later)
			}
		})
	}
}

// TestReopenCaseReadsTheBookmarks: reopening a case reads the window of
// its last session widened to hold every bookmarked event (an earlier
// session bookmarked one outside it: it showed ☆, not read, though its
// source holds it); an undated bookmark, which any window leaves out,
// drops the window. The status bar says so. A window given on the
// command line is read as given.
func TestReopenCaseReadsTheBookmarks(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 20, h, m, 0, 0, time.UTC) }
	newCase := func(t *testing.T, marks ...time.Time) string {
		dir := filepath.Join(t.TempDir(), "case")
		c, err := casefile.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		add := func(r casefile.Record) {
			if _, err := c.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"a.log"}, Dir: "/srv/evidence"})
		for k, m := range marks {
			ev := &casefile.EventRef{SHA256: strings.Repeat(string(rune('a'+k)), 64), Cite: "a.log:" + string(rune('1'+k)), Time: m}
			add(casefile.Record{Kind: casefile.KindBookmark, Event: ev})
		}
		from, to := at(3, 0), at(3, 30)
		add(casefile.Record{Kind: casefile.KindOpen, Sources: []string{"a.log"}, Dir: "/srv/evidence", From: &from, To: &to})
		return dir
	}
	window := func(t *testing.T, opts *TUIOptions) (int64, int64) {
		t.Helper()
		f, to, err := opts.Window.Range(time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return f, to
	}
	t.Run("inside", func(t *testing.T) {
		opts := &TUIOptions{Case: newCase(t, at(3, 10))}
		if err := reopenCase(opts); err != nil {
			t.Fatal(err)
		}
		if f, to := window(t, opts); f != at(3, 0).UnixNano() || to != at(3, 30).UnixNano() || opts.Notice != "" {
			t.Errorf("window %d %d (want the last session's), notice %q", f, to, opts.Notice)
		}
	})
	t.Run("before and after", func(t *testing.T) {
		last := at(3, 45) // --to is exclusive: the window must go past it
		opts := &TUIOptions{Case: newCase(t, at(2, 5), at(3, 10), last, at(3, 30))}
		if err := reopenCase(opts); err != nil {
			t.Fatal(err)
		}
		f, to := window(t, opts)
		if f != at(2, 5).UnixNano() || to != last.Add(time.Second).UnixNano() {
			t.Errorf("window %s → %s, want 02:05:00 → 03:45:01 (whole seconds)", time.Unix(0, f).UTC(), time.Unix(0, to).UTC())
		}
		for _, want := range []string{"3 bookmarks", "2026-11-20 03:00:00 → 2026-11-20 03:30:00"} {
			if !strings.Contains(opts.Notice, want) {
				t.Errorf("notice %q lacks %q", opts.Notice, want)
			}
		}
	})
	t.Run("undated", func(t *testing.T) {
		opts := &TUIOptions{Case: newCase(t, at(3, 10), time.Time{})}
		if err := reopenCase(opts); err != nil {
			t.Fatal(err)
		}
		if f, to := window(t, opts); f != 0 || to != 0 {
			t.Errorf("window %d %d, want none (an undated bookmark)", f, to)
		}
		if !strings.Contains(opts.Notice, "undated") {
			t.Errorf("notice %q does not say why the window went", opts.Notice)
		}
	})
	t.Run("given", func(t *testing.T) {
		opts := &TUIOptions{Case: newCase(t, at(2, 5))}
		opts.Window.From = "2026-11-20T03:00:00Z"
		if err := reopenCase(opts); err != nil {
			t.Fatal(err)
		}
		if f, to := window(t, opts); f != at(3, 0).UnixNano() || to != 0 {
			t.Errorf("window %d %d, want --from as given", f, to)
		}
	})
}
