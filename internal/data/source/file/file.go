// Package file is the local-file source: a SOURCE argument naming a file,
// a glob, a directory (its audit logs, the apiserver's rotated set read in
// order: backups oldest first, .gz and .zst decompressed, then the live
// file) or "-" for stdin, read with the parallel decoder of package data.
// Several rotated sets (one per node) are merged in time order. With
// --follow the live file is read in parallel to its end, then tailed by
// internal/tail (the tailer ship uses): rotation, copytruncate, deletion,
// partial and over-long lines.
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/tail"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Options configure file sources.
type Options struct {
	// Cluster, when set, becomes the cluster stream label of every file.
	Cluster string
	// Labels are more stream labels of every file (--label): a job
	// among them replaces job="audit"; filename and cluster are not
	// taken from here.
	Labels data.Labels
	// Stdin is read for the path "-" (os.Stdin when nil).
	Stdin io.Reader
	// Filename, when set, is the filename label of the files instead of
	// their paths: export reads a copy under the name of the file (or
	// object) it copies, so a selector naming that selects the same.
	Filename string
	// Recursive (-r) reads a directory's subdirectories too, every
	// level (tree.go); without it a directory's subdirectories are named
	// in a notice (Notices).
	Recursive bool
}

// Source reads one SOURCE argument naming local files: a file, a glob,
// a directory (its audit logs, including the apiserver's rotated set), or
// "-" for stdin. Each rotated set is read as one sequence (backups oldest
// first, then the live file); different sets (one per node) are merged in
// time order.
type Source struct {
	arg     string
	groups  [][]string
	opts    Options
	notices []string
	unread  []Unread
	// names are the filename labels of an export directory's copies:
	// the originals' (exportNames).
	names map[string]string
}

// New expands arg. It fails when nothing matches.
func New(arg string, opts Options) (*Source, error) {
	if arg == "-" {
		return &Source{arg: arg, groups: [][]string{{"-"}}, opts: opts}, nil
	}
	l, err := list(arg, opts.Recursive)
	if err != nil {
		return nil, err
	}
	return &Source{arg: arg, groups: GroupRotated(l.files), opts: opts, notices: l.notices, unread: l.unread, names: l.names}, nil
}

// Unread is a directory the argument holds that is not read, and why: a
// subdirectory (or a directory a glob matched) without Recursive, or one
// that could not be listed. Export records them in its manifest.
type Unread struct{ Dir, Why string }

// Unread lists every directory the argument holds that is not read (the
// notices name the first few).
func (f *Source) Unread() []Unread { return f.unread }

// Why a directory left out without -r is.
const (
	whyGlobDir = "a directory the glob matched: not read without -r (--recursive)"
	whySubdir  = "a subdirectory: not read without -r (--recursive)"
)

func unreadDirs(dirs []string, why string) []Unread {
	out := make([]Unread, len(dirs))
	for k, d := range dirs {
		out[k] = Unread{Dir: d, Why: why}
	}
	return out
}

// Notices say what the argument holds that is not read: the
// subdirectories of a directory read without Recursive, and with it the
// symbolic links not followed (a loop, a directory read once already)
// and the subdirectories that could not be listed. The commands print
// them.
func (f *Source) Notices() []string { return f.notices }

func (f *Source) String() string { return f.arg }

// Files returns the expanded files, grouped by rotated set.
func (f *Source) Files() [][]string { return f.groups }

// ExpandPath turns a path, glob or directory into the files to read (a
// directory's own files: its subdirectories are not read). A path that
// exists is read as named, glob characters and all (a file called
// "audit[1].log").
func ExpandPath(arg string) ([]string, error) {
	l, err := list(arg, false)
	return l.files, err
}

// listing is what a SOURCE argument names: the files to read, and what
// the user is told is not read (Source.Notices).
type listing struct {
	files, notices []string
	unread         []Unread
	names          map[string]string // export copies' filename labels
}

// list expands arg as ExpandPath does; with recursive, a directory's (or
// a glob's directories') subdirectories are read too (tree.go).
func list(arg string, recursive bool) (listing, error) {
	if _, err := os.Stat(arg); err != nil && strings.ContainsAny(arg, "*?[") {
		m, err := filepath.Glob(arg)
		if err != nil {
			return listing{}, fmt.Errorf("bad glob %q: %w", arg, err)
		}
		var l listing
		var dirs []string
		for _, p := range m {
			fi, err := os.Stat(p)
			switch {
			case err != nil:
			case fi.Mode().IsRegular():
				l.files = append(l.files, p)
			case fi.IsDir():
				dirs = append(dirs, p)
			}
		}
		if recursive {
			w := &walker{}
			for _, d := range dirs {
				if err := w.root(d); err != nil {
					w.notRead(d, err)
				}
			}
			l.files, l.notices, l.unread, l.names = append(l.files, w.files...), w.notices, w.unread, w.names
		} else if len(dirs) > 0 {
			l.notices = []string{unreadNotice(arg, dirs, true)}
			l.unread = unreadDirs(dirs, whyGlobDir)
		}
		if len(l.files) == 0 {
			if len(dirs) > 0 && !recursive {
				return l, fmt.Errorf("%s: no files match, only %s, %s not descended: use -r (--recursive) to read %s", arg,
					plural.Count(len(dirs), "directory", "directories"), plural.Word(len(dirs), "which is", "which are"), plural.Word(len(dirs), "it", "them"))
			}
			return l, fmt.Errorf("%s: no files match", arg)
		}
		return l, nil
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return listing{}, fmt.Errorf("open %s: %w", arg, unwrapPathErr(err))
	}
	if !fi.IsDir() {
		return listing{files: []string{arg}}, nil
	}
	if isExportDir(arg) {
		files, err := exportCopies(arg)
		return listing{files: files, names: exportNames(arg)}, err
	}
	if recursive {
		return walkTree(arg)
	}
	files, subdirs, err := dirEntries(arg)
	if err != nil {
		return listing{}, err
	}
	if len(files) == 0 && len(subdirs) > 0 {
		// Not descended without -r, as lnav does not: a folder of
		// evidence often holds copies of the same logs, which a glob or
		// the folders named make a choice of.
		names := subdirs
		more := ""
		if len(names) > 3 {
			names, more = names[:3], fmt.Sprintf(", and %d more", len(subdirs)-3)
		}
		for i := range names {
			names[i] = filepath.Base(names[i])
		}
		how := "read them all, name them"
		if len(subdirs) == 1 {
			how = "read it, name it"
		}
		return listing{}, fmt.Errorf("%s: directory holds no audit log files but %s (%s%s), %s not descended: use -r (--recursive) to %s, or use a glob such as %s",
			arg, plural.Count(len(subdirs), "subdirectory", "subdirectories"), strings.Join(names, ", "), more, plural.Word(len(subdirs), "which is", "which are"), how, filepath.Join(arg, "*", "*"))
	}
	if len(files) == 0 {
		return listing{}, fmt.Errorf("%s: directory holds no audit log files (named *.log, *.json, *.jsonl, optionally .gz/.zst, or holding JSON, gzip, zstd or a Logs Insights CSV)", arg)
	}
	l := listing{files: files}
	if len(subdirs) > 0 {
		l.notices = []string{unreadNotice(arg, subdirs, false)}
		l.unread = unreadDirs(subdirs, whySubdir)
	}
	return l, nil
}

// isExportDir reports whether dir is an audittui export directory (it
// holds MANIFEST.sha256 and MANIFEST.json, as internal/evidence writes).
func isExportDir(dir string) bool {
	for _, n := range []string{"MANIFEST.sha256", "MANIFEST.json"} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// exportCopies returns the copies of an export directory: every file
// under files/ and objects/ (the evidence copied byte for byte), in path
// order. events.jsonl (a selection of them) and the manifests are not
// read: the export is read again from the bytes it hashed.
func exportCopies(dir string) ([]string, error) {
	var files []string
	for _, sub := range []string{"files", "objects"} {
		root := filepath.Join(dir, sub)
		if _, err := os.Stat(root); err != nil {
			continue
		}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read export directory %s: %w", dir, unwrapPathErr(err))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: an audittui export that holds no copies (files/, objects/): give %s to read its selected events", dir, filepath.Join(dir, "events.jsonl"))
	}
	return files, nil
}

// looksLikeAuditContent reports whether a file whose name says nothing
// (node3.txt, an S3 object's key copied as is) holds what the readers
// take: compressed data, JSON (after a byte-order mark or blanks), UTF-16
// text, or a Logs Insights CSV export. The shape is told from the
// content, never from the name: a directory's file of audit events is
// read whatever it is called; one that holds something else (a README, a
// policy) is not.
func looksLikeAuditContent(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return true // read it: the reader names the error
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, _ := io.ReadFull(f, buf)
	b := buf[:n]
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}), bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return true // gzip, zstd
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}), bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return true // UTF-16
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[') ||
		bytes.HasPrefix(b, []byte("@timestamp")) || bytes.HasPrefix(b, []byte(`"@timestamp`))
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func looksLikeLog(name string) bool {
	n := strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")
	return strings.HasSuffix(n, ".log") || strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") ||
		strings.HasSuffix(n, ".ndjson") || strings.Contains(n, ".log.")
}

// lumberjack backups: audit-2026-11-20T08-00-00.000.log[.gz]
var backupRE = regexp.MustCompile(`^(.*)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(\.[^.]+)?(\.gz|\.zst)?$`)

// logrotate's backups of a log: audit.log.1, audit.log.2.gz (the higher
// the number, the older) and, with dateext, audit.log-20261120[.gz].
var (
	numberedRE = regexp.MustCompile(`^(.+\.(?:log|json|jsonl))\.(\d{1,6})(\.gz|\.zst)?$`)
	datedRE    = regexp.MustCompile(`^(.+\.(?:log|json|jsonl))-(\d{8,10})(\.gz|\.zst)?$`)
)

// rotKey returns the rotated-set key of a path and the key its backups
// are ordered by, oldest first (the lumberjack timestamp; "" for the live
// file).
func rotKey(p string) (key, stamp string) {
	dir, base := filepath.Split(p)
	if m := backupRE.FindStringSubmatch(base); m != nil {
		return dir + m[1] + m[3], m[2]
	}
	if m := numberedRE.FindStringSubmatch(base); m != nil {
		n, _ := strconv.Atoi(m[2])
		return dir + m[1], fmt.Sprintf("#%06d", 999999-n) // .2 before .1
	}
	if m := datedRE.FindStringSubmatch(base); m != nil {
		return dir + m[1], m[2]
	}
	b := strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".zst")
	return dir + b, ""
}

// IsLive reports whether path is named as a rotated set's live file
// (audit.log, not one of its backups) and is not compressed.
func IsLive(path string) bool {
	_, stamp := rotKey(path)
	return stamp == "" && !isCompressedName(path)
}

// GroupRotated groups paths by rotated set: `audit.log` with its
// `audit-<time>.log[.gz]` backups (the apiserver's) or `audit.log.N[.gz]`
// and `audit.log-DATE[.gz]` ones (logrotate's), backups first, oldest
// first, the live file last. Sets are ordered by name.
func GroupRotated(paths []string) [][]string {
	type member struct{ path, stamp string }
	sets := map[string][]member{}
	var keys []string
	for _, p := range paths {
		k, st := rotKey(p)
		if _, ok := sets[k]; !ok {
			keys = append(keys, k)
		}
		sets[k] = append(sets[k], member{p, st})
	}
	sort.Strings(keys)
	var out [][]string
	for _, k := range keys {
		ms := sets[k]
		sort.SliceStable(ms, func(i, j int) bool {
			a, b := ms[i], ms[j]
			if (a.stamp == "") != (b.stamp == "") {
				return b.stamp == "" // live file last
			}
			if a.stamp != b.stamp {
				return a.stamp < b.stamp
			}
			return a.path < b.path
		})
		g := make([]string, len(ms))
		for i, m := range ms {
			g[i] = m.path
		}
		out = append(out, g)
	}
	return out
}

// labelsFor builds the stream labels of a file: job ("audit" unless
// Labels set it), filename, cluster (when set), then the other Labels.
func (f *Source) labelsFor(path string) data.Labels {
	job := data.DefaultJob
	if v, ok := f.opts.Labels.Get("job"); ok {
		job = v
	}
	name := path
	if n, ok := f.names[path]; ok {
		name = n // an export's copy: the original's name
	}
	if f.opts.Filename != "" {
		name = f.opts.Filename
	}
	ls := data.Labels{{Name: "job", Value: job}, {Name: "filename", Value: name}}
	if f.opts.Cluster != "" {
		ls = append(ls, data.Label{Name: "cluster", Value: f.opts.Cluster})
	}
	for _, l := range f.opts.Labels {
		switch l.Name {
		case "job", "filename", "cluster":
		default:
			ls = append(ls, l)
		}
	}
	return ls
}

// StreamLabels returns the labels of the files' streams (data.StreamLabeler):
// known without reading them.
func (f *Source) StreamLabels(context.Context, data.ReadOptions, []string) (*data.StreamLabels, error) {
	sl := &data.StreamLabels{}
	for _, g := range f.groups {
		for _, p := range g {
			sl.AddStream(f.labelsFor(p))
		}
	}
	return sl, nil
}

// Open starts reading. In follow mode every file's live file is tailed
// after its backups are read. Several rotated sets are merged in time
// order, each opened only once the merge reaches its first event (see
// data.Starter): files that do not overlap in time are read one after the
// other, whatever their number.
func (f *Source) Open(ctx context.Context, opts data.ReadOptions) (data.Stream, error) {
	if n := len(f.groups); n > 1 && opts.ChunkBytes == 0 {
		// The sets read at once share the read-ahead of one, as
		// data.OpenAll's sources do.
		opts.ChunkBytes = max(minMergeChunk, defaultChunk/n)
	}
	var streams []data.Stream
	for _, g := range f.groups {
		streams = append(streams, &chainStream{f: f, paths: g, opts: opts})
	}
	if len(streams) == 1 {
		return streams[0], nil
	}
	if opts.Follow {
		return data.FanIn(ctx, streams), nil
	}
	return data.MergeStreams(streams), nil
}

// openOne opens one file (or "-") for reading, decompressing by magic
// bytes, and returns its stream.
func (f *Source) openOne(ctx context.Context, path string, opts data.ReadOptions, follow bool, moves *tracker) (data.Stream, error) {
	info := &data.SourceInfo{Name: path, Labels: f.labelsFor(path)}
	if path == "-" {
		in := f.opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		r, _, done, err := data.Decompress(in)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		return data.NewReaderStream(ctx, r, info, opts, func() error { done(); return nil }), nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, unwrapPathErr(err))
	}
	if follow {
		return newFollowStream(ctx, fh, path, info, opts, moves)
	}
	if moves != nil {
		// A file of a followed set, read before its live file: tracked
		// from now on, as stored now.
		if fi, err := fh.Stat(); err == nil {
			dev, ino := tail.DevIno(fi)
			moves.add(info, path, dev, ino, fi.Size(), true)
		}
	}
	r, kind, done, err := data.Decompress(fh)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info.Seekable = kind == ""
	return data.NewReaderStream(ctx, r, info, opts, func() error { done(); return fh.Close() }), nil
}

// The read-ahead several rotated sets share (data.OpenAll's figures).
const (
	defaultChunk  = 2 << 20
	minMergeChunk = 512 << 10
)

// chainStream reads the files of one rotated set one after the other. It
// opens a file only when it is read (a set waiting in a merge holds no
// file descriptor).
type chainStream struct {
	f     *Source
	paths []string
	opts  data.ReadOptions
	i     int
	cur   data.Stream
	// moves, when the set's live file is followed, tracks where each file
	// read is now: a rotation renames, compresses and deletes them while
	// the set is followed (moves.go).
	moves *tracker
}

// Start reads the head of the set's first file for the time its events
// start (data.Starter), and closes it again. stdin and followed sets
// cannot wait.
func (c *chainStream) Start(ctx context.Context) (int64, bool) {
	if c.i > 0 || c.cur != nil || c.opts.Follow || len(c.paths) == 0 || c.paths[0] == "-" {
		return 0, false
	}
	p := c.paths[0]
	fh, err := os.Open(p)
	if err != nil {
		return 0, false // read at once: the read reports the error
	}
	defer fh.Close()
	r, _, done, err := data.Decompress(fh)
	if err != nil {
		return 0, false
	}
	defer done()
	return data.PeekStart(ctx, r, &data.SourceInfo{Name: p, Labels: c.f.labelsFor(p)}, c.opts)
}

func (c *chainStream) Next(ctx context.Context) (*data.Batch, error) {
	for {
		if c.cur == nil {
			if c.i >= len(c.paths) {
				return nil, io.EOF
			}
			p := c.paths[c.i]
			c.i++
			last := c.i == len(c.paths)
			follow := c.opts.Follow && last && p != "-" && !isCompressedName(p)
			if c.moves == nil && c.opts.Follow && c.followed() {
				c.moves = newTracker(ctx, c.paths[len(c.paths)-1])
			}
			s, err := c.f.openOne(ctx, p, c.opts, follow, c.moves)
			if err != nil {
				// An unreadable file of a set is reported, and the rest
				// of the set is still read. One whose compressed header
				// cannot be read is rejected at its line 1.
				if he := (*data.HeaderError)(nil); errors.As(err, &he) {
					return &data.Batch{Rejects: []data.Reject{{Origin: data.Origin{Source: &data.SourceInfo{Name: p}, Line: 1}, Reason: he.Error()}}}, nil
				}
				return &data.Batch{Rejects: []data.Reject{{Origin: data.Origin{Source: &data.SourceInfo{Name: p}}, Reason: err.Error()}}}, nil
			}
			c.cur = s
		}
		b, err := c.cur.Next(ctx)
		if errors.Is(err, io.EOF) {
			c.cur.Close()
			c.cur = nil
			continue
		}
		return b, err
	}
}

// followed reports whether the set's live file is followed.
func (c *chainStream) followed() bool {
	p := c.paths[len(c.paths)-1]
	return p != "-" && !isCompressedName(p)
}

func (c *chainStream) Close() error {
	var err error
	if c.cur != nil {
		err = c.cur.Close()
	}
	c.moves.close()
	return err
}

func isCompressedName(p string) bool {
	return strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".zst")
}
