package evidence

import (
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Manifest file names inside an export directory.
const (
	ManifestSHA  = "MANIFEST.sha256"
	ManifestJSON = "MANIFEST.json"
	EventsFile   = "events.jsonl"
	// EventsIndexFile leads each line of events.jsonl back to the bytes it
	// was read from (IndexEntry).
	EventsIndexFile = "events.index.jsonl"
)

// Manifest is MANIFEST.json: what was exported, from where, when.
type Manifest struct {
	Version    int       `json:"version"`
	Generator  string    `json:"generator,omitempty"` // the audittui build that wrote it
	ExportedAt time.Time `json:"exported_at"`
	Sources    []string  `json:"sources"`
	Query      string    `json:"query,omitempty"`
	// Filter is the filter as typed in the TUI (:export), and Negated
	// says events.jsonl holds the events Query does NOT match (`/!`).
	Filter  string `json:"filter,omitempty"`
	Negated bool   `json:"negated,omitempty"`
	// Labels (--label NAME=VALUE, in the order given) and Cluster
	// (--cluster) are the stream labels export read the copies with: a
	// selector or job naming them selects what it did only when the
	// copies carry them again, so verify reads the copies with exactly
	// these (none when absent, as in an export made before they were
	// recorded).
	Labels  []string `json:"labels,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	// Recursive records -r: the directory Sources were read with their
	// subdirectories (the copies are listed in Entries either way).
	Recursive bool            `json:"recursive,omitempty"`
	From      *time.Time      `json:"from,omitempty"`
	To        *time.Time      `json:"to,omitempty"`
	Entries   []ManifestEntry `json:"entries"`
	// Skipped lists source objects that could not be exported (archived
	// storage classes, read errors), with the reason.
	Skipped []ManifestEntry `json:"skipped,omitempty"`
	// EventsGone counts the events the TUI's :export left out of
	// events.jsonl because their bytes are gone, and Gone says from
	// which file, how many and why (each file's events).
	EventsGone int          `json:"events_gone,omitempty"`
	Gone       []GoneEvents `json:"gone,omitempty"`
	// NotRead lists the directories the Sources hold that were not read,
	// so nothing in them is exported: the subdirectories of a directory
	// SOURCE given without -r, a glob's directories, the subdirectories
	// -r could not list.
	NotRead []NotRead `json:"not_read,omitempty"`
	// Events is the number of events written to events.jsonl (query mode).
	Events int `json:"events,omitempty"`
	// Rejected counts input lines that could not be decoded (query mode),
	// and RejectedLines lists the first MaxListed of them (where: reason).
	Rejected      int      `json:"rejected,omitempty"`
	RejectedLines []string `json:"rejected_lines,omitempty"`
	// DuplicatesDropped counts matching events left out of events.jsonl
	// as exact copies of one written (query's duplicate filter, so
	// events.jsonl is the set query counts); Duplicates lists the first
	// MaxListed: where the copy was and where the event kept was read.
	DuplicatesDropped int             `json:"duplicates_dropped,omitempty"`
	Duplicates        []DuplicateCopy `json:"duplicates,omitempty"`
	// Undated counts events the time window left out for lack of a
	// timestamp; UndatedAt is where the first was.
	Undated   int    `json:"undated_left_out,omitempty"`
	UndatedAt string `json:"undated_first_at,omitempty"`
}

// NotRead is a directory a SOURCE holds that the export did not read.
type NotRead struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// MaxListed bounds the rejects and duplicates MANIFEST.json lists one by
// one (the counts are whole).
const MaxListed = 1000

// GoneEvents are events of one file that an export could not write: the
// file, followed, was cut in place (logrotate's copytruncate) after they
// were read, and no copy beside it (.1, -YYYYMMDD, .gz) holds their bytes.
// Events were selected by the filter (or every event, without one);
// Unsearched are those the filter needed the bytes of to decide, which
// may have matched. First cites the first of them (FILE:LINE as read).
type GoneEvents struct {
	Source     string `json:"source"`
	Events     int    `json:"events"`
	Unsearched int    `json:"unsearched,omitempty"`
	First      string `json:"first,omitempty"`
	Reason     string `json:"reason"`
}

// DuplicateCopy is a matching event left out as a copy of one kept.
type DuplicateCopy struct {
	Cite string `json:"cite"`           // where the copy left out was read
	Of   string `json:"of,omitempty"`   // where the event kept was read
	Line int    `json:"line,omitempty"` // the kept event's line in events.jsonl
}

// ManifestEntry is one exported file.
type ManifestEntry struct {
	// Path is relative to the export directory (slash-separated).
	Path string `json:"path,omitempty"`
	// Source is where the bytes came from: s3://bucket/key, a local path,
	// or "query" for events.jsonl.
	Source string `json:"source"`
	// Filename is the filename label the copy is read with: the
	// original's (a file's path as given, an object's s3:// URL), so a
	// selector naming it selects the same events from the copy. Absent
	// (an export made before it was recorded): the copy's own path.
	Filename     string     `json:"filename,omitempty"`
	SHA256       string     `json:"sha256,omitempty"`
	Size         int64      `json:"size"`
	ETag         string     `json:"etag,omitempty"`
	VersionID    string     `json:"version_id,omitempty"`
	StorageClass string     `json:"storage_class,omitempty"`
	LastModified *time.Time `json:"last_modified,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

// ShaLine formats a sha256sum line. As GNU sha256sum does, a name holding
// a backslash, newline or carriage return is escaped and the line starts
// with a backslash.
func ShaLine(sum, path string) string {
	if !strings.ContainsAny(path, "\\\n\r") {
		return sum + "  " + path + "\n"
	}
	r := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
	return "\\" + sum + "  " + r.Replace(path) + "\n"
}

// ParseShaLine reverses ShaLine (and reads sha256sum -b lines).
func ParseShaLine(line string) (sum, path string, err error) {
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
