package ui

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data"
)

// TestFollowedFileRotatedCitesItsNewName: the TUI follows audit.log; the
// apiserver rotates it (renamed to audit-<time>.log, a new audit.log, the
// backup gzipped, the plain one removed). The Detail open on an event
// read before shows the citation that now holds its bytes (the .gz, the
// same line decompressed) and where it was read; a bookmark records that
// name, and the bookmark list shows where one made before the rotation
// is now (review I finding 3).
func TestFollowedFileRotatedCitesItsNewName(t *testing.T) {
	fixture, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // relative names: the citations fit a line
	lines := strings.SplitAfter(string(fixture), "\n")
	if err := os.WriteFile("audit.log", []byte(strings.Join(lines[:3], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	a, wait := followApp(t, "audit.log")
	a.Update(windowSize(140, 40))
	wait("loaded 3 ")
	a.tail.Select(0)
	send(t, a, "m") // bookmarked before the rotation
	if !strings.Contains(a.status, "bookmarked audit.log:1") {
		t.Fatalf("status %q", a.status)
	}
	send(t, a, "enter")
	wait("source    audit.log:1", "!read as")

	const backup = "audit-2026-11-20T09-04-00.000.log"
	if err := os.Rename("audit.log", backup); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("audit.log", []byte(lines[3]), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("loaded 4 ", "source    "+backup+":1", "read as audit.log:1, rotated since: the file above holds these bytes now")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines[:3], "")))
	zw.Close()
	if err := os.WriteFile(backup+".gz", gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(backup); err != nil {
		t.Fatal(err)
	}
	// Redrawn without a key: the move is news.
	wait("source    "+backup+".gz:1", "read as audit.log:1")

	send(t, a, "esc")
	a.tail.Select(1)
	send(t, a, "m")
	if !strings.Contains(a.status, "bookmarked "+backup+".gz:2") {
		t.Fatalf("a bookmark after the rotation: status %q", a.status)
	}
	a.tail.Select(3)
	send(t, a, "m")
	if !strings.Contains(a.status, "bookmarked audit.log:1") {
		t.Fatalf("an event of the new file: status %q", a.status)
	}
	send(t, a, "'")
	wait("Bookmarks: 3", backup+".gz:1 (bookmarked as audit.log:1)", backup+".gz:2  ")
}

// TestIndexOpensAFollowedFileWhereItsBytesAre: the index opens a seekable
// source when its first event comes, to read events back. A followed file
// rotated between the read and that moment is opened where its bytes are
// now (SourceInfo.Moved), and when the file at its path holds other bytes
// (rotated again, not seen yet) its events are spilled: Detail never reads
// another event's bytes back.
func TestIndexOpensAFollowedFileWhereItsBytesAre(t *testing.T) {
	dir := t.TempDir()
	ev := func(id string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"` + id + `","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"stageTimestamp":"2026-11-20T08:00:00Z"}`
	}
	read, other := ev("read"), ev("other")
	live, backup := dir+"/audit.log", dir+"/audit-2026-11-20T08-05-00.000.log"
	for _, tc := range []struct {
		name  string
		moved string // where the tracker saw it ("": not seen yet)
	}{{"rotated, seen", backup}, {"rotated, not seen yet", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(backup, []byte(read+"\n"), 0o644) // the file read, renamed
			os.WriteFile(live, []byte(other+"\n"), 0o644)  // a new file at its path
			info := &data.SourceInfo{Name: live, Seekable: true, Moved: &data.Moved{}}
			if tc.moved != "" {
				info.Moved.Set(tc.moved)
			}
			var dec data.Decoder
			evs, rej := dec.Decode(nil, []byte(read), data.Origin{Source: info, Line: 1})
			if rej != nil || len(evs) != 1 {
				t.Fatal(rej)
			}
			ix := NewIndex(t.TempDir(), nil)
			defer ix.Close()
			if err := ix.Add(&data.Batch{Events: []data.Event{evs[0].Clone()}}); err != nil {
				t.Fatal(err)
			}
			raw, err := ix.Snapshot().Raw(0)
			if err != nil || string(raw) != read {
				t.Fatalf("read back %q (%v), want %q", raw, err, read)
			}
		})
	}
}
