// Package evidence writes and checks export directories: evidence copied
// (files, S3 objects, selected events) with a SHA-256 manifest. It is
// shared by `audittui export`/`verify` (internal/cli/evidence) and the
// TUI's `:export`, so both write the same layout:
//
//	DIR/events.jsonl      selected events, one per line (JSON Lines): each
//	                      event's bytes, compacted when they span lines
//	                      (as `query -o raw` prints them)
//	DIR/events.index.jsonl one line per line of events.jsonl: where the
//	                      event was read (citation) and the sha256 and size
//	                      of its original bytes there
//	DIR/files/PATH        local files copied byte for byte
//	DIR/objects/B/KEY     S3 objects copied as stored
//	DIR/MANIFEST.sha256   one sha256sum line per file (sha256sum -c reads it)
//	DIR/MANIFEST.json     the same entries plus sources, query, window, time
package evidence

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrExists says an export directory holds a manifest already.
var ErrExists = errors.New("already holds an export")

// ErrForeign says a directory export --force would write into holds files
// its old manifest does not list (not removed: clear it yourself).
var ErrForeign = errors.New("not cleared: remove them or choose another directory")

// Dir is an export directory being written. Add, CopyFile and Events are
// safe for concurrent use; WriteManifests comes last.
type Dir struct {
	// Path is the directory.
	Path string
	mu   sync.Mutex
	man  Manifest
}

// Create prepares path for an export with manifest m (its Entries are
// filled in as files are added): it creates the directory and refuses,
// with an error wrapping ErrExists, one that holds a manifest already
// unless force is set. With force the old export's files are removed
// (those its MANIFEST.sha256 lists); a directory holding other files is
// refused with ErrForeign.
func Create(path string, m Manifest, force bool) (*Dir, error) {
	if _, err := os.Stat(filepath.Join(path, ManifestSHA)); err == nil {
		if !force {
			return nil, fmt.Errorf("%s %w (%s)", path, ErrExists, ManifestSHA)
		}
		// The old export's files go, so the new manifest lists every file.
		if err := clearOld(path); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if m.Version == 0 {
		m.Version = 1
	}
	return &Dir{Path: path, man: m}, nil
}

// Add records a file written (or, with Reason set and no Path, one that
// could not be).
func (d *Dir) Add(e ManifestEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.man.Entries = append(d.man.Entries, e)
}

// Skip records a source that could not be exported, with the reason.
func (d *Dir) Skip(e ManifestEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.man.Skipped = append(d.man.Skipped, e)
}

// Update lets the caller change the manifest's header fields (events and
// rejects counted, ...) under the lock.
func (d *Dir) Update(fn func(m *Manifest)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn(&d.man)
}

// Manifest returns a copy of the manifest as it is now.
func (d *Dir) Manifest() Manifest {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.man
	m.Entries = append([]ManifestEntry(nil), d.man.Entries...)
	m.Skipped = append([]ManifestEntry(nil), d.man.Skipped...)
	m.NotRead = append([]NotRead(nil), d.man.NotRead...)
	return m
}

// Local returns the local path of a manifest path (slash-separated,
// relative to the directory).
func (d *Dir) Local(rel string) string { return filepath.Join(d.Path, filepath.FromSlash(rel)) }

// CopyFile copies the local file src to rel inside the directory, hashing
// what it copies (a live audit.log may grow meanwhile: what is hashed is
// exactly what was copied), keeps its modification time, and records the
// entry (Source: src made absolute; Filename: src as given, the filename
// label a file source gives it). It returns the entry and the copy's
// path.
func (d *Dir) CopyFile(src, rel string) (ManifestEntry, string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return ManifestEntry{}, "", err
	}
	dst := d.Local(rel)
	sum, n, mtime, err := copyFile(src, dst)
	if err != nil {
		return ManifestEntry{}, "", err
	}
	e := ManifestEntry{Path: rel, Source: abs, Filename: src, SHA256: sum, Size: n}
	if !mtime.IsZero() {
		t := mtime.UTC()
		e.LastModified = &t
	}
	d.Add(e)
	return e, dst, nil
}

// FilesRel is where CopyFile puts a local file in the layout export uses:
// files/ and the file's absolute path made safe (SafeRel).
func FilesRel(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return "files/" + SafeRel(abs), nil
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

// EventsWriter writes events.jsonl, one event per line (its bytes,
// compacted when they span lines: a pretty-printed event or an array's
// element), and events.index.jsonl, which leads each line back to the
// original bytes: line number, citation, sha256 and size of the bytes as
// read. Both are hashed as written.
type EventsWriter struct {
	d    *Dir
	ev   *sideFile
	ix   *sideFile
	n    int
	buf  bytes.Buffer
	line []byte
}

// IndexEntry is one line of events.index.jsonl.
type IndexEntry struct {
	Line      int    `json:"line"`                // 1-based line of events.jsonl
	Cite      string `json:"cite,omitempty"`      // where the event was read (FILE:LINE, ...)
	SHA256    string `json:"sha256"`              // sha256 of the event's original bytes
	Size      int    `json:"size"`                // length of the original bytes
	Compacted bool   `json:"compacted,omitempty"` // the line is the original bytes compacted
}

// sideFile is a file written through a buffer and hashed.
type sideFile struct {
	f    *os.File
	w    *bufio.Writer
	h    hash.Hash
	size int64
}

func createSide(path string) (*sideFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	h := sha256.New()
	return &sideFile{f: f, h: h, w: bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)}, nil
}

func (s *sideFile) writeLine(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", s.f.Name(), err)
	}
	if err := s.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("write %s: %w", s.f.Name(), err)
	}
	s.size += int64(len(b)) + 1
	return nil
}

func (s *sideFile) close() error {
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.f.Name(), err)
	}
	return nil
}

// Events creates DIR/events.jsonl and DIR/events.index.jsonl.
func (d *Dir) Events() (*EventsWriter, error) {
	ev, err := createSide(d.Local(EventsFile))
	if err != nil {
		return nil, err
	}
	ix, err := createSide(d.Local(EventsIndexFile))
	if err != nil {
		ev.f.Close()
		return nil, err
	}
	return &EventsWriter{d: d, ev: ev, ix: ix}, nil
}

// Write writes one event's bytes with no citation (WriteEvent).
func (w *EventsWriter) Write(raw []byte) error { return w.WriteEvent(raw, "") }

// WriteEvent writes one event: raw (its original bytes, without a
// trailing newline) on one line of events.jsonl, compacted when it spans
// lines, and its line of events.index.jsonl with cite (where it was read)
// and the sha256 of raw.
func (w *EventsWriter) WriteEvent(raw []byte, cite string) error {
	line := raw
	compacted := false
	if bytes.ContainsAny(raw, "\r\n") {
		w.buf.Reset()
		if err := json.Compact(&w.buf, raw); err != nil {
			return fmt.Errorf("%s: the event is not valid JSON and spans lines: %v", cite, err)
		}
		line, compacted = w.buf.Bytes(), true
	}
	if err := w.ev.writeLine(line); err != nil {
		return err
	}
	w.n++
	sum := sha256.Sum256(raw)
	js, err := json.Marshal(IndexEntry{Line: w.n, Cite: cite, SHA256: hex.EncodeToString(sum[:]), Size: len(raw), Compacted: compacted})
	if err != nil {
		return err
	}
	return w.ix.writeLine(js)
}

// Count is the number of events written.
func (w *EventsWriter) Count() int { return w.n }

// Close flushes and syncs the files, records their entries (Source
// "query") and the number of events in the manifest.
func (w *EventsWriter) Close() error {
	err := w.ev.close()
	if ierr := w.ix.close(); err == nil {
		err = ierr
	}
	if err != nil {
		return err
	}
	w.d.Add(ManifestEntry{Path: EventsFile, Source: "query", SHA256: hex.EncodeToString(w.ev.h.Sum(nil)), Size: w.ev.size})
	w.d.Add(ManifestEntry{Path: EventsIndexFile, Source: "query", SHA256: hex.EncodeToString(w.ix.h.Sum(nil)), Size: w.ix.size})
	w.d.Update(func(m *Manifest) { m.Events += w.n })
	return nil
}

// Abort closes the files after a failed export (no entry is recorded).
func (w *EventsWriter) Abort() {
	w.ev.f.Close()
	w.ix.f.Close()
}

// WriteManifests writes MANIFEST.json and MANIFEST.sha256, each through a
// temporary file and a rename, entries sorted by path. It returns the
// manifest written.
func (d *Dir) WriteManifests() (Manifest, error) {
	d.mu.Lock()
	sort.SliceStable(d.man.Entries, func(i, j int) bool { return d.man.Entries[i].Path < d.man.Entries[j].Path })
	d.mu.Unlock()
	m := d.Manifest()
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := writeFileAtomic(filepath.Join(d.Path, ManifestJSON), append(js, '\n')); err != nil {
		return m, err
	}
	var b strings.Builder
	for _, e := range m.Entries {
		b.WriteString(ShaLine(e.SHA256, e.Path))
	}
	// MANIFEST.json is covered too: its line comes last, so the sha256 of
	// MANIFEST.sha256 (Digest) covers every file and the manifest.
	jsum := sha256.Sum256(append(js, '\n'))
	b.WriteString(ShaLine(hex.EncodeToString(jsum[:]), ManifestJSON))
	return m, writeFileAtomic(filepath.Join(d.Path, ManifestSHA), []byte(b.String()))
}

// Digest is the sha256 of DIR/MANIFEST.sha256, which lists every file of
// the export and MANIFEST.json: one value that covers the whole export,
// for case notes or a chain-of-custody form. Without a signature it tells
// a rewrite only when compared with a value kept elsewhere.
func Digest(dir string) (string, error) {
	sum, _, err := HashFile(filepath.Join(dir, ManifestSHA))
	return sum, err
}

// clearOld removes the files of the export in path (those its
// MANIFEST.sha256 lists, and the manifests), for export --force. A file
// that manifest does not list is not removed: the directory is refused
// (ErrForeign), as the new manifest would not list it either.
func clearOld(path string) error {
	want, _, err := readShaManifest(path)
	if err != nil {
		return err
	}
	var foreign []string
	_ = filepath.WalkDir(path, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if _, ok := want[rel]; !ok && rel != ManifestSHA && rel != ManifestJSON {
			foreign = append(foreign, rel)
		}
		return nil
	})
	if len(foreign) > 0 {
		sort.Strings(foreign)
		more := ""
		if len(foreign) > 3 {
			more = fmt.Sprintf(" and %d more", len(foreign)-3)
			foreign = foreign[:3]
		}
		return fmt.Errorf("%s holds files its manifest does not list (%s%s): %w", path, strings.Join(foreign, ", "), more, ErrForeign)
	}
	for rel := range want {
		if err := os.Remove(filepath.Join(path, filepath.FromSlash(rel))); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	for _, m := range []string{ManifestJSON, ManifestSHA} {
		if err := os.Remove(filepath.Join(path, m)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
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

// SafeRel turns an S3 key or a path into a relative path inside an export
// directory: no absolute paths, no "." or ".." segments, no empty
// segments, and no glob characters (the copies are opened as file sources,
// which expand globs); "%" is escaped too so the mapping is one to one.
// MANIFEST.json keeps the original key.
func SafeRel(p string) string {
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

// HashFile returns the sha256 and size of a file's bytes as stored.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
