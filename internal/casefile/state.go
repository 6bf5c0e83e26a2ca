package casefile

import (
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// State is what a case holds once its records are applied in order: the
// bookmarked events with their notes and tags, case notes, saved filters,
// active silences, sessions, views and exports.
type State struct {
	// Bookmarks are the bookmarked events, in event time order (then by
	// citation).
	Bookmarks []*Bookmark
	// Notes are the notes about no event (the case's), in time order.
	Notes []Record
	// Filters are the saved filters by name: the latest record of each.
	Filters map[string]Record
	// Silences are the active silences, in time order.
	Silences []Record
	// Opens, Views and Exports are the sessions opened, the filters and
	// windows applied, and the exports written, in time order.
	Opens, Views, Exports []Record
	// Fingerprints are the source files' fingerprints, in time order (a
	// file fingerprinted again when it changed between sessions has
	// several: see Fingerprint).
	Fingerprints []Record
	// Objects are the S3 objects' fingerprints (KindObject), in time
	// order.
	Objects []Record

	byKey map[string]*Bookmark
}

// Bookmark is one bookmarked event: the event, who bookmarked it when
// (the ids of the active bookmark records), its notes and tags.
type Bookmark struct {
	Event EventRef
	// IDs are the active bookmark records of the event (several when
	// several people bookmarked it); First is the earliest.
	IDs   []string
	First time.Time
	// Marks are those records (who bookmarked it, when).
	Marks []Record
	// Notes are the notes about the event, in time order.
	Notes []Record
	// Tags are the active tags (sorted), TagIDs their records by tag.
	Tags   []string
	TagIDs map[string][]string
}

// Bookmark returns the bookmark of the event with this sha256, if any.
func (s *State) Bookmark(sha string) (*Bookmark, bool) {
	b, ok := s.byKey[sha]
	return b, ok
}

// State applies the case's records.
func (c *Case) State() *State { return Apply(c.Records()) }

// Apply derives the state of a list of records (in any order: they are
// applied in time order, ties by id). A removal removes the records it
// names, wherever they come in the list.
func Apply(recs []Record) *State {
	recs = append([]Record(nil), recs...)
	sortRecords(recs)
	removed := map[string]bool{}
	for _, r := range recs {
		switch r.Kind {
		case KindUnbookmark, KindUntag, KindUnsilence:
			for _, id := range r.Refs {
				removed[id] = true
			}
		}
	}
	st := &State{Filters: map[string]Record{}, byKey: map[string]*Bookmark{}}
	bm := func(ev *EventRef) *Bookmark {
		b := st.byKey[ev.SHA256]
		if b == nil {
			b = &Bookmark{Event: *ev, TagIDs: map[string][]string{}}
			st.byKey[ev.SHA256] = b
		}
		if b.Event.Length == 0 {
			// The same bytes: a record written before lengths were.
			b.Event.Length = ev.Length
		}
		return b
	}
	var notes []Record // notes about events, attached after
	var tags []Record  // tags, likewise
	for _, r := range recs {
		switch r.Kind {
		case KindBookmark:
			if removed[r.ID] {
				continue
			}
			b := bm(r.Event)
			b.IDs = append(b.IDs, r.ID)
			b.Marks = append(b.Marks, r)
			if b.First.IsZero() || r.Time.Before(b.First) {
				b.First = r.Time
			}
		case KindNote:
			if r.Event == nil {
				st.Notes = append(st.Notes, r)
			} else {
				notes = append(notes, r)
			}
		case KindTag:
			if !removed[r.ID] {
				tags = append(tags, r)
			}
		case KindFilter:
			st.Filters[r.Name] = r // records are in time order: the latest wins
		case KindSilence:
			if !removed[r.ID] {
				st.Silences = append(st.Silences, r)
			}
		case KindOpen:
			st.Opens = append(st.Opens, r)
		case KindView:
			st.Views = append(st.Views, r)
		case KindExport:
			st.Exports = append(st.Exports, r)
		case KindFingerprint:
			st.Fingerprints = append(st.Fingerprints, r)
		case KindObject:
			st.Objects = append(st.Objects, r)
		}
	}
	// A note or a tag on an event bookmarks it (as a comment does in
	// lnav): it is part of the case's timeline.
	for _, r := range notes {
		b := bm(r.Event)
		b.Notes = append(b.Notes, r)
		if b.First.IsZero() {
			b.First = r.Time
		}
	}
	for _, r := range tags {
		b := bm(r.Event)
		if len(b.TagIDs[r.Tag]) == 0 {
			b.Tags = append(b.Tags, r.Tag)
		}
		b.TagIDs[r.Tag] = append(b.TagIDs[r.Tag], r.ID)
		if b.First.IsZero() {
			b.First = r.Time
		}
	}
	for _, b := range st.byKey {
		sort.Strings(b.Tags)
		st.Bookmarks = append(st.Bookmarks, b)
	}
	sort.Slice(st.Bookmarks, func(i, j int) bool {
		a, b := st.Bookmarks[i], st.Bookmarks[j]
		if !a.Event.Time.Equal(b.Event.Time) {
			return a.Event.Time.Before(b.Event.Time)
		}
		if a.Event.Cite != b.Event.Cite {
			return a.Event.Cite < b.Event.Cite
		}
		return a.Event.SHA256 < b.Event.SHA256
	})
	return st
}

// SourceArgs are the distinct SOURCE arguments the case's sessions opened,
// in order. A relative path is taken from the directory its session was
// opened in when that is not wd, so a case reopens (and reports) from
// anywhere.
func (s *State) SourceArgs(wd string) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range s.Opens {
		for _, a := range o.Sources {
			if o.Dir != "" && o.Dir != wd && a != "-" && !strings.Contains(a, "://") && !filepath.IsAbs(a) {
				a = filepath.Join(o.Dir, a)
			}
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// Reading is how a case's sessions read their sources (State.Reading).
type Reading struct {
	Labels    []string // --label NAME=VALUE
	Cluster   string   // --cluster
	Recursive bool     // -r
}

// Reading is how the case's sessions read their sources: the --label
// labels of the last session that gave any, the --cluster of the last
// session that gave one, and -r when a session read with it (reading the
// other sessions' directories with it too reads what they read, and
// more, which a report says).
func (s *State) Reading() Reading {
	var r Reading
	for _, o := range s.Opens {
		if len(o.Labels) > 0 {
			r.Labels = o.Labels
		}
		if o.Cluster != "" {
			r.Cluster = o.Cluster
		}
		r.Recursive = r.Recursive || o.Recursive
	}
	return r
}

// Fingerprint returns the first fingerprint the case recorded of the file
// at path (absolute): the evidence as the case first found it.
func (s *State) Fingerprint(path string) (Record, bool) {
	for _, r := range s.Fingerprints {
		if r.File.Path == path {
			return r, true
		}
	}
	return Record{}, false
}

// Fingerprinted reports whether the case holds a fingerprint of the file
// at path with this size and modification time (the latest one of the
// path): a session need not hash it again.
func (s *State) Fingerprinted(path string, size int64, mtime time.Time) bool {
	var last *SourceFile
	for _, r := range s.Fingerprints {
		if r.File.Path == path {
			last = r.File
		}
	}
	return last != nil && last.Size == size && last.ModTime.Equal(mtime)
}
