// Package casefile keeps an investigation: a plain directory of
// append-only JSON-lines records, one record per line, each with its own
// id, that the TUI writes as the investigator works (`audittui --case DIR`,
// `:case DIR`) and `audittui report` reads.
//
//	DIR/bookmarks.jsonl  bookmark, unbookmark    (m)
//	DIR/notes.jsonl      note                    (:note TEXT, :comment TEXT)
//	DIR/tags.jsonl       tag, untag              (:tag NAME, :untag NAME)
//	DIR/filters.jsonl    filter                  (:save NAME)
//	DIR/silences.jsonl   silence, unsilence      (the Alerts pane)
//	DIR/sessions.jsonl   open, view, fingerprint, object (sources and window opened; filters and windows applied; each local source file's size and sha256; each S3 object's ETag, size and sha256)
//	DIR/exports.jsonl    export                  (:export DIR)
//	DIR/.gitattributes   *.jsonl merge=union
//
// Records are never rewritten: removing a bookmark, a tag or a silence
// appends a record naming the ids it removes (an observed-remove set), so
// two investigators' case files merge without conflict. Concatenate their
// files (or let git merge them: .gitattributes asks for a union merge),
// and the case reopens with the union: the same record read twice counts
// once, a removal only removes what its writer had seen, and an event both
// bookmarked is one bookmark with both people's notes. Open reads every
// *.jsonl file in the directory whatever its name, so copying another
// case's files in under other names merges too.
//
// Events are named by the sha256 of their raw bytes (what the TUI's Detail
// shows), so the same event read from the same evidence has the same key
// in every case file.
package casefile

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record kinds.
const (
	KindOpen       = "open"
	KindView       = "view"
	KindBookmark   = "bookmark"
	KindUnbookmark = "unbookmark"
	KindNote       = "note"
	KindTag        = "tag"
	KindUntag      = "untag"
	KindFilter     = "filter"
	KindSilence    = "silence"
	KindUnsilence  = "unsilence"
	KindExport     = "export"
	// KindFingerprint records a local source file as a session found it
	// (its size, modification time and sha256): a report tells a source
	// changed since from the same evidence read again. Its Text, when
	// set, says how the session found the file changed since an earlier
	// fingerprint ("CHANGED since the case recorded it: ..."), which a
	// later session that finds the file as recorded says again.
	KindFingerprint = "fingerprint"
	// KindObject records an S3 object a session read (its URL, the
	// SOURCE that listed it, its ETag, size and LastModified as listed,
	// and the sha256 of its bytes as stored when the session read them):
	// a report tells an object changed, gone or new under the prefix
	// since.
	KindObject = "object"
)

// fileOf is the file each kind is appended to.
var fileOf = map[string]string{
	KindOpen: "sessions.jsonl", KindView: "sessions.jsonl", KindFingerprint: "sessions.jsonl", KindObject: "sessions.jsonl",
	KindBookmark: "bookmarks.jsonl", KindUnbookmark: "bookmarks.jsonl",
	KindNote: "notes.jsonl",
	KindTag:  "tags.jsonl", KindUntag: "tags.jsonl",
	KindFilter:  "filters.jsonl",
	KindSilence: "silences.jsonl", KindUnsilence: "silences.jsonl",
	KindExport: "exports.jsonl",
}

// Record is one line of a case file. ID, Kind and Time are set on every
// record; the other fields by kind (see the package doc).
type Record struct {
	ID   string    `json:"id"`
	Kind string    `json:"kind"`
	Time time.Time `json:"time"` // when it was recorded
	// Author is who recorded it (the user name, or what the TUI was told).
	Author string `json:"author,omitempty"`

	// Event is the event a bookmark, note or tag is about (a note without
	// one is about the case).
	Event *EventRef `json:"event,omitempty"`
	// Refs are the ids an unbookmark, untag or unsilence removes.
	Refs []string `json:"refs,omitempty"`
	// Text is a note's text (a session's title; a fingerprint's change:
	// see KindFingerprint).
	Text string `json:"text,omitempty"`
	// Tag is a tag's name.
	Tag string `json:"tag,omitempty"`
	// Name names a saved filter.
	Name string `json:"name,omitempty"`

	// Query is the LogQL of a view, filter or export, as `audittui query`
	// takes it; Filter is what the investigator typed (a shorthand, with
	// `!` in front for a negated filter); Negate says the events are those
	// the query does NOT match.
	Query  string `json:"query,omitempty"`
	Filter string `json:"filter,omitempty"`
	Negate bool   `json:"negate,omitempty"`
	// From and To are the window (From inclusive, To exclusive, as
	// --from/--to); nil is open.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`

	// Sources are the SOURCE arguments a session opened, Dir the working
	// directory they are relative to, Files the local files they named.
	Sources []string `json:"sources,omitempty"`
	Dir     string   `json:"dir,omitempty"`
	Files   []string `json:"files,omitempty"`
	// Follow says whether an open session followed its sources live
	// (--follow, on by default for one plain file or one rotated set):
	// nil in records that do not say, and the report then decides as
	// the TUI's default would. Growth of a source file is benign only
	// for the live file of a followed session.
	Follow *bool `json:"follow,omitempty"`
	// Labels are the --label NAME=VALUE stream labels the session gave
	// its file and S3 sources, Recursive whether it read a directory
	// SOURCE's subdirectories (-r): a session that reopens the case
	// without SOURCE, and its report, read them the same way.
	Labels    []string `json:"labels,omitempty"`
	Recursive bool     `json:"recursive,omitempty"`
	// Cluster is the --cluster NAME the session gave (the cluster label
	// of its file and S3 sources: a managed cluster's export, a
	// multi-cluster read), read again the same way as Labels.
	Cluster string `json:"cluster,omitempty"`

	// Silence is an alert silence (silence, unsilence).
	Silence *Silence `json:"silence,omitempty"`
	// Export is an export's directory and manifest.
	Export *Export `json:"export,omitempty"`
	// File is a fingerprint's source file.
	File *SourceFile `json:"file,omitempty"`
	// Object is an object record's S3 object.
	Object *SourceObject `json:"object,omitempty"`
}

// SourceObject is an S3 object as a session found it: its URL
// (s3://bucket/key), the SOURCE that listed it (s3://bucket/prefix), its
// ETag, size and LastModified as listed, and the sha256 of its bytes as
// stored (a .gz object's compressed bytes) when the session read them
// ("" when it did not).
type SourceObject struct {
	URL          string    `json:"url"`
	Source       string    `json:"source,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified,omitzero"`
	SHA256       string    `json:"sha256,omitempty"`
}

// SourceFile is a local source file as a session found it: its absolute
// path, its size and modification time, and the sha256 of its first Size
// bytes as stored (a .gz file's compressed bytes; a live audit.log grows
// past Size, and those bytes stay the same).
//
// ContentSHA256, for a compressed file (gzip, zstd), is the sha256 of its
// bytes decompressed (evidence.Fingerprint's): a report tells a file
// recompressed since (other stored bytes, the same content) from one
// changed. "" for a plain file, and in records that do not hold it.
type SourceFile struct {
	Path          string    `json:"path"`
	Size          int64     `json:"size"`
	SHA256        string    `json:"sha256"`
	ModTime       time.Time `json:"mtime,omitzero"`
	ContentSHA256 string    `json:"content_sha256,omitempty"`
}

// EventRef names an event: by the sha256 of its raw bytes (the key), and
// by where it was read (Cite: FILE:LINE, FILE:LINE:COL, s3://bucket/key:LINE,
// or a Loki stream and nanosecond time), plus what a report shows of it.
// Length is the number of those bytes, as the Detail shows it: with the
// citation it cuts them out of the file (sed -n 'LINE,$p' FILE | tail -c
// +COL | head -c LEN); 0 in cases written before it was recorded.
type EventRef struct {
	SHA256     string    `json:"sha256"`
	Cite       string    `json:"cite"`
	Length     int64     `json:"length,omitempty"`
	Source     string    `json:"source,omitempty"`
	Line       int64     `json:"line,omitempty"`
	StreamTime int64     `json:"stream_time,omitempty"`
	AuditID    string    `json:"auditID,omitempty"`
	Stage      string    `json:"stage,omitempty"`
	Time       time.Time `json:"time,omitzero"` // the event's time
	User       string    `json:"user,omitempty"`
	Verb       string    `json:"verb,omitempty"`
	Object     string    `json:"object,omitempty"`
	Code       int       `json:"code,omitempty"`
}

// Silence is an alert silence as the Alerts pane keeps it: the group key
// (rules.AlertGroup.Key), the rule and its grouping labels, and why.
type Silence struct {
	Group  string            `json:"group"`
	Rule   string            `json:"rule,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Note   string            `json:"note,omitempty"`
}

// Export is what :export wrote: the directory, the number of events, the
// sha256 of its MANIFEST.sha256, and the manifest's entries.
type Export struct {
	Dir            string        `json:"dir"`
	Events         int           `json:"events"`
	ManifestSHA256 string        `json:"manifest_sha256"`
	Entries        []ExportEntry `json:"entries,omitempty"`
	// EventsGone counts the events left out because their bytes are
	// gone (the manifest's events_gone), Gone per file (its gone).
	EventsGone int          `json:"events_gone,omitempty"`
	Gone       []ExportGone `json:"gone,omitempty"`
}

// ExportGone is the events of one file an export left out because their
// bytes are gone (evidence.GoneEvents).
type ExportGone struct {
	Source     string `json:"source"`
	Events     int    `json:"events"`
	Unsearched int    `json:"unsearched,omitempty"`
	First      string `json:"first,omitempty"`
}

// ExportEntry is one file of an export.
type ExportEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Problem is a line of a case file that could not be used: it is skipped
// and reported, never dropped silently.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) Error() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Case is an open case. Its methods are safe for concurrent use; the ones
// that write (Add, Attach) do file I/O.
type Case struct {
	mu      sync.Mutex
	dir     string // "" while the case lives in memory
	recs    []Record
	byID    map[string]int
	pending []Record // added while in memory, written by Attach
	// Problems are the lines Open skipped.
	problems []Problem

	// Now and Author stamp new records; NewID names them.
	Now    func() time.Time
	Author string
	NewID  func(t time.Time) string
}

// Memory returns a case that is not on disk yet: records added are kept
// until Attach gives it a directory.
func Memory() *Case {
	return &Case{byID: map[string]int{}, Now: time.Now, NewID: NewID}
}

// Open reads the case in dir, creating the directory (with its
// .gitattributes) when it does not exist. Lines that cannot be used are
// skipped and listed by Problems.
func Open(dir string) (*Case, error) {
	c := Memory()
	if err := c.Attach(dir); err != nil {
		return nil, err
	}
	return c, nil
}

// Load reads the case in dir without creating anything (for reports).
func Load(dir string) (*Case, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("case %s: not a directory", dir)
	}
	c := Memory()
	if err := c.read(dir); err != nil {
		return nil, err
	}
	c.dir = dir
	return c, nil
}

// Attach opens dir (creating it when needed), merges its records with
// those of the case, and writes the records added while the case was in
// memory to it. From then on Add appends to dir.
func (c *Case) Attach(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("case %s: %w", dir, err)
	}
	ga := filepath.Join(dir, ".gitattributes")
	if _, err := os.Stat(ga); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(ga, []byte("# audittui case file: records are append-only; a merge is their union\n*.jsonl merge=union\n"), 0o644); err != nil {
			return fmt.Errorf("case %s: %w", dir, err)
		}
	}
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if err := c.read(dir); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dir = dir
	for _, r := range pending {
		if err := c.write(r); err != nil {
			return err
		}
	}
	c.pending = nil
	return nil
}

// Dir is the case's directory ("" while it lives in memory).
func (c *Case) Dir() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dir
}

// Problems lists the lines the case could not use.
func (c *Case) Problems() []Problem {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Problem(nil), c.problems...)
}

// read merges every *.jsonl file of dir into the case.
func (c *Case) read(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := c.readFile(name); err != nil {
			return err
		}
	}
	return nil
}

func (c *Case) readFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("case: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r Record
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&r); err != nil {
			c.problems = append(c.problems, Problem{name, n, "not a JSON record: " + err.Error()})
			continue
		}
		if dec.More() {
			c.problems = append(c.problems, Problem{name, n, "more than one JSON value on the line"})
			continue
		}
		if msg := validate(&r); msg != "" {
			c.problems = append(c.problems, Problem{name, n, msg})
			continue
		}
		if i, dup := c.byID[r.ID]; dup {
			if !reflect.DeepEqual(normal(c.recs[i]), normal(r)) {
				c.problems = append(c.problems, Problem{name, n, fmt.Sprintf("record id %s is used by a different record already; this one is skipped", r.ID)})
			}
			continue // the same record twice: a merge
		}
		c.byID[r.ID] = len(c.recs)
		c.recs = append(c.recs, r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("case: read %s: %w", name, err)
	}
	return nil
}

// normal drops what JSON does not keep apart (a time's monotonic reading
// and location) so two decodings of one record compare equal.
func normal(r Record) Record {
	r.Time = r.Time.UTC()
	return r
}

func isSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// validate says what is wrong with a record ("" when nothing is).
func validate(r *Record) string {
	switch {
	case r.ID == "":
		return "record without an id"
	case r.Kind == "":
		return "record without a kind"
	case r.Time.IsZero():
		return "record without a time"
	}
	needEvent := func() string {
		if r.Event == nil || !isSHA(r.Event.SHA256) {
			return r.Kind + " without an event sha256 (64 hex digits)"
		}
		return ""
	}
	switch r.Kind {
	case KindBookmark:
		return needEvent()
	case KindTag:
		if r.Tag == "" {
			return "tag without a name"
		}
		return needEvent()
	case KindNote:
		if strings.TrimSpace(r.Text) == "" {
			return "note without text"
		}
		if r.Event != nil && !isSHA(r.Event.SHA256) {
			return "note about an event without an event sha256"
		}
	case KindUnbookmark, KindUntag, KindUnsilence:
		if len(r.Refs) == 0 {
			return r.Kind + " that names no record (refs)"
		}
	case KindFilter:
		if r.Name == "" {
			return "saved filter without a name"
		}
	case KindSilence:
		if r.Silence == nil || r.Silence.Group == "" {
			return "silence without a group key"
		}
	case KindExport:
		if r.Export == nil || r.Export.Dir == "" {
			return "export without a directory"
		}
	case KindFingerprint:
		if r.File == nil || r.File.Path == "" || !isSHA(r.File.SHA256) || r.File.Size < 0 {
			return "fingerprint without a file path, size and sha256 (64 hex digits)"
		}
		if c := r.File.ContentSHA256; c != "" && !isSHA(c) {
			return "fingerprint whose content_sha256 is not 64 hex digits"
		}
	case KindObject:
		if o := r.Object; o == nil || !strings.HasPrefix(o.URL, "s3://") || o.Size < 0 || (o.ETag == "" && o.SHA256 == "") || (o.SHA256 != "" && !isSHA(o.SHA256)) {
			return "object without an s3:// URL, a size and an ETag or sha256 (64 hex digits)"
		}
	case KindOpen, KindView:
	default:
		return fmt.Sprintf("unknown record kind %q (written by a newer audittui?)", r.Kind)
	}
	return ""
}

// NewID names a record: its time (so ids sort in time order) and 48
// random bits (so two writers never collide).
func NewID(t time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	return t.UTC().Format("20060102T150405.000000Z") + "-" + hex.EncodeToString(b[:])
}

// Add stamps r (id, time, author when not set), validates it, and appends
// it to the case: to its file when the case has a directory, else to
// memory. It returns the record as stored.
func (c *Case) Add(r Record) (Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Time.IsZero() {
		r.Time = c.Now().UTC()
	}
	r.Time = r.Time.UTC()
	if r.ID == "" {
		r.ID = c.NewID(r.Time)
	}
	if r.Author == "" {
		r.Author = c.Author
	}
	if msg := validate(&r); msg != "" {
		return r, errors.New(msg)
	}
	if _, dup := c.byID[r.ID]; dup {
		return r, fmt.Errorf("record id %s exists", r.ID)
	}
	if c.dir != "" {
		if err := c.write(r); err != nil {
			return r, err
		}
	} else {
		c.pending = append(c.pending, r)
	}
	c.byID[r.ID] = len(c.recs)
	c.recs = append(c.recs, r)
	return r, nil
}

// write appends one record to its file as one line, with one write, and
// syncs it (c.mu held).
func (c *Case) write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	name := filepath.Join(c.dir, fileOf[r.Kind])
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("case: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("case: write %s: %w", name, err)
	}
	return nil
}

// Records returns every record in time order (ties by id).
func (c *Case) Records() []Record {
	c.mu.Lock()
	out := append([]Record(nil), c.recs...)
	c.mu.Unlock()
	sortRecords(out)
	return out
}

func sortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].Time.Equal(rs[j].Time) {
			return rs[i].Time.Before(rs[j].Time)
		}
		return rs[i].ID < rs[j].ID
	})
}

// currentUser is os/user.Current (tests replace it).
var currentUser = user.Current

// Author is who signs a case's records: $USER (getenv's), else the name
// of the user the process runs as (os/user: the password database), else
// its uid ("uid 65532"), so that a TUI in a container, where $USER is
// often unset, still signs what it records.
func Author(getenv func(string) string) string {
	if u := strings.TrimSpace(getenv("USER")); u != "" {
		return u
	}
	if u, err := currentUser(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid())
}
