package casefile

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func ev(id string, sec int) *EventRef {
	return &EventRef{SHA256: sha(id), Cite: "nodes/audit-cp1.log:" + id, AuditID: id,
		Time: time.Date(2026, 11, 20, 8, 0, sec, 0, time.UTC)}
}

// clock returns a clock that moves one second per call, from t0.
func clock(t0 time.Time) func() time.Time {
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
}

func mustAdd(t *testing.T, c *Case, r Record) Record {
	t.Helper()
	out, err := c.Add(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func bookmarked(st *State) string {
	var out []string
	for _, b := range st.Bookmarks {
		s := b.Event.AuditID
		if len(b.IDs) == 0 {
			s += "(annotated)"
		}
		for _, n := range b.Notes {
			s += " note:" + n.Author + ":" + n.Text
		}
		for _, tg := range b.Tags {
			s += " #" + tg
		}
		out = append(out, s)
	}
	return strings.Join(out, " | ")
}

func TestReopenRestores(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Now, c.Author = clock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), "alice"
	from := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	mustAdd(t, c, Record{Kind: KindOpen, Sources: []string{"nodes/"}, Dir: "/work", From: &from})
	b1 := mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e2", 2)})
	mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e1", 1)})
	mustAdd(t, c, Record{Kind: KindNote, Event: ev("e2", 2), Text: "deleted the rolebinding"})
	mustAdd(t, c, Record{Kind: KindNote, Text: "case opened after the 03:00 page"})
	tg := mustAdd(t, c, Record{Kind: KindTag, Event: ev("e2", 2), Tag: "persistence"})
	mustAdd(t, c, Record{Kind: KindTag, Event: ev("e1", 1), Tag: "recon"})
	mustAdd(t, c, Record{Kind: KindFilter, Name: "alice", Query: `{job="audit"} | json | user_username="alice"`})
	mustAdd(t, c, Record{Kind: KindFilter, Name: "alice", Query: `{job="audit"} | json | user_username="alice@corp"`})
	s1 := mustAdd(t, c, Record{Kind: KindSilence, Silence: &Silence{Group: "rules.yaml:3 PodExec {user_username=\"ci\"}", Rule: "PodExec", Labels: map[string]string{"user_username": "ci"}, Note: "CI runs exec"}})
	mustAdd(t, c, Record{Kind: KindSilence, Silence: &Silence{Group: "g2"}})
	mustAdd(t, c, Record{Kind: KindUnsilence, Refs: []string{s1.ID}})
	mustAdd(t, c, Record{Kind: KindUntag, Refs: []string{tg.ID}, Tag: "persistence", Event: ev("e2", 2)})
	_ = b1

	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := c2.Problems(); len(p) != 0 {
		t.Fatalf("problems %v", p)
	}
	st := c2.State()
	if got, want := bookmarked(st), "e1 #recon | e2 note:alice:deleted the rolebinding"; got != want {
		t.Errorf("bookmarks %q, want %q", got, want)
	}
	if len(st.Notes) != 1 || st.Notes[0].Text != "case opened after the 03:00 page" {
		t.Errorf("case notes %v", st.Notes)
	}
	if f := st.Filters["alice"]; f.Query != `{job="audit"} | json | user_username="alice@corp"` {
		t.Errorf("saved filter %q: the latest should win", f.Query)
	}
	if len(st.Silences) != 1 || st.Silences[0].Silence.Group != "g2" {
		t.Errorf("silences %v", st.Silences)
	}
	if len(st.Opens) != 1 || !st.Opens[0].From.Equal(from) || st.Opens[0].Sources[0] != "nodes/" {
		t.Errorf("opens %v", st.Opens)
	}
	// The files are plain JSON lines, one record each, by kind.
	b, err := os.ReadFile(filepath.Join(dir, "bookmarks.jsonl"))
	if err != nil || strings.Count(string(b), "\n") != 2 || !strings.Contains(string(b), `"kind":"bookmark"`) {
		t.Errorf("bookmarks.jsonl: %q %v", b, err)
	}
	if ga, err := os.ReadFile(filepath.Join(dir, ".gitattributes")); err != nil || !strings.Contains(string(ga), "*.jsonl merge=union") {
		t.Errorf(".gitattributes %q %v", ga, err)
	}
}

// writeCase plays one investigator's session into dir.
func writeCase(t *testing.T, dir, author string, t0 time.Time, play func(c *Case)) {
	t.Helper()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.Now, c.Author = clock(t0), author
	play(c)
}

// TestTwoInvestigatorsMerge: Alice and Bob work on copies of one case
// independently; concatenating their files (or copying them in under other
// names) reopens with the union. Bob removes his bookmark of an event
// Alice also bookmarked: hers stays.
func TestTwoInvestigatorsMerge(t *testing.T) {
	base := t.TempDir()
	alice, bob := filepath.Join(base, "alice"), filepath.Join(base, "bob")
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	writeCase(t, alice, "alice", t0, func(c *Case) {
		mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e1", 1)})
		mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e3", 3)})
		mustAdd(t, c, Record{Kind: KindNote, Event: ev("e3", 3), Text: "alice: token created here"})
		mustAdd(t, c, Record{Kind: KindTag, Event: ev("e3", 3), Tag: "credential"})
	})
	writeCase(t, bob, "bob", t0, func(c *Case) { // the same clock: equal times, different ids
		b := mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e3", 3)})
		mustAdd(t, c, Record{Kind: KindNote, Event: ev("e3", 3), Text: "bob: same token, used from 10.0.0.9"})
		mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e2", 2)})
		mustAdd(t, c, Record{Kind: KindUnbookmark, Refs: []string{b.ID}, Event: ev("e3", 3)})
		mustAdd(t, c, Record{Kind: KindNote, Text: "bob: escalated to security"})
	})
	// Notes in the time they were written (Bob's came first).
	want := "e1 | e2 | e3 note:bob:bob: same token, used from 10.0.0.9 note:alice:alice: token created here #credential"

	// 1. Concatenated file by file.
	merged := filepath.Join(base, "merged")
	os.MkdirAll(merged, 0o755)
	for _, name := range []string{"bookmarks.jsonl", "notes.jsonl", "tags.jsonl"} {
		a, _ := os.ReadFile(filepath.Join(alice, name))
		b, _ := os.ReadFile(filepath.Join(bob, name))
		os.WriteFile(filepath.Join(merged, name), append(a, b...), 0o644)
	}
	// Alice's records a second time (a merge of a merge) change nothing.
	a, _ := os.ReadFile(filepath.Join(alice, "bookmarks.jsonl"))
	os.WriteFile(filepath.Join(merged, "again.jsonl"), a, 0o644)
	c, err := Load(merged)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Problems(); len(p) != 0 {
		t.Fatalf("problems %v", p)
	}
	st := c.State()
	if got := bookmarked(st); got != want {
		t.Errorf("merged:\n got %q\nwant %q", got, want)
	}
	if len(st.Notes) != 1 {
		t.Errorf("case notes %v", st.Notes)
	}
	if b, _ := st.Bookmark(sha("e3")); b == nil || len(b.IDs) != 1 {
		t.Errorf("e3 should keep Alice's bookmark only: %+v", b)
	}

	// 2. Bob's files copied into Alice's case under other names.
	for _, name := range []string{"bookmarks.jsonl", "notes.jsonl"} {
		b, _ := os.ReadFile(filepath.Join(bob, name))
		os.WriteFile(filepath.Join(alice, "bob-"+name), b, 0o644)
	}
	c, err = Load(alice)
	if err != nil {
		t.Fatal(err)
	}
	if got := bookmarked(c.State()); got != want {
		t.Errorf("copied in:\n got %q\nwant %q", got, want)
	}
}

// TestGitMergesWithoutConflict: the case in git, two branches adding
// records, merged: git's union merge (asked for by .gitattributes) gives
// no conflict, and the merged case has both.
func TestGitMergesWithoutConflict(t *testing.T) {
	testutil.Tool(t, "git", "git")
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q")
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	writeCase(t, repo, "lead", t0, func(c *Case) { mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e0", 0)}) })
	git("add", "-A")
	git("commit", "-qm", "case")
	git("checkout", "-qb", "alice")
	writeCase(t, repo, "alice", t0.Add(time.Hour), func(c *Case) {
		mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e1", 1)})
		mustAdd(t, c, Record{Kind: KindNote, Event: ev("e1", 1), Text: "alice"})
	})
	git("commit", "-qam", "alice")
	git("checkout", "-q", "main")
	git("checkout", "-qb", "bob")
	writeCase(t, repo, "bob", t0.Add(time.Hour), func(c *Case) {
		mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e2", 2)})
		mustAdd(t, c, Record{Kind: KindNote, Event: ev("e1", 1), Text: "bob"})
	})
	git("add", "-A")
	git("commit", "-qm", "bob")
	git("merge", "-q", "--no-edit", "alice")
	c, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Problems(); len(p) != 0 {
		t.Fatalf("problems %v", p)
	}
	var notes []string
	for _, b := range c.State().Bookmarks {
		for _, n := range b.Notes {
			notes = append(notes, n.Text)
		}
	}
	sort.Strings(notes)
	if got := bookmarked(c.State()); !strings.HasPrefix(got, "e0 | e1 ") || !strings.HasSuffix(got, " | e2") || strings.Join(notes, ",") != "alice,bob" {
		t.Errorf("after git merge: %q notes %v", got, notes)
	}
}

// TestBadLinesAreReported: a line that is not a record, a record missing
// what its kind needs, an id reused by another record: each is skipped and
// named by file and line; the rest is read.
func TestBadLinesAreReported(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e1", 1)})
	f, _ := os.OpenFile(filepath.Join(dir, "bookmarks.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json\n")
	f.WriteString(`{"id":"x1","kind":"note","time":"2026-12-01T09:00:00Z"}` + "\n")
	f.WriteString(`{"id":"` + b.ID + `","kind":"bookmark","time":"2026-12-01T09:00:00Z","event":{"sha256":"` + sha("other") + `","cite":"x:1"}}` + "\n")
	f.WriteString(`{"id":"x2","kind":"teleport","time":"2026-12-01T09:00:00Z"}` + "\n")
	f.Close()
	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c2.Problems() {
		got = append(got, filepath.Base(p.File)+":"+string(rune('0'+p.Line))+" "+p.Msg)
	}
	want := []string{"bookmarks.jsonl:2 not a JSON record", "bookmarks.jsonl:3 note without text", "bookmarks.jsonl:4 record id", "bookmarks.jsonl:5 unknown record kind \"teleport\""}
	if len(got) != len(want) {
		t.Fatalf("problems %v", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %q, want %q…", got[i], want[i])
		}
	}
	if len(c2.State().Bookmarks) != 1 {
		t.Errorf("the good record was not kept")
	}
	if _, err := c2.Add(Record{Kind: KindTag, Event: ev("e1", 1)}); err == nil {
		t.Errorf("a tag without a name was accepted")
	}
}

// TestMemoryThenAttach: records added before a directory is given are
// written when it is, merged with what the directory holds.
func TestMemoryThenAttach(t *testing.T) {
	dir := t.TempDir()
	writeCase(t, dir, "alice", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), func(c *Case) {
		mustAdd(t, c, Record{Kind: KindBookmark, Event: ev("e1", 1)})
	})
	m := Memory()
	mustAdd(t, m, Record{Kind: KindBookmark, Event: ev("e2", 2)})
	if m.Dir() != "" {
		t.Fatal("memory case has a directory")
	}
	if err := m.Attach(dir); err != nil {
		t.Fatal(err)
	}
	if got := bookmarked(m.State()); got != "e1 | e2" {
		t.Errorf("attached: %q", got)
	}
	c, _ := Load(dir)
	if got := bookmarked(c.State()); got != "e1 | e2" {
		t.Errorf("reloaded: %q", got)
	}
}

// TestFingerprintRecords: a fingerprint needs a path, a size and a
// sha256; the state keeps every one in time order, answers the first of
// a path, and whether the latest matches a size and modification time.
func TestFingerprintRecords(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(Record{Kind: KindFingerprint, File: &SourceFile{Path: "/e/a.log", Size: 1, SHA256: "x"}}); err == nil {
		t.Error("a fingerprint without a sha256 was added")
	}
	sha := strings.Repeat("ab", 32)
	mt := time.Date(2026, 11, 20, 3, 0, 0, 123456789, time.UTC)
	c.Now = func() time.Time { return mt }
	first, _ := c.Add(Record{Kind: KindFingerprint, File: &SourceFile{Path: "/e/a.log", Size: 10, SHA256: sha, ModTime: mt}})
	c.Now = func() time.Time { return mt.Add(time.Hour) }
	c.Add(Record{Kind: KindFingerprint, File: &SourceFile{Path: "/e/a.log", Size: 20, SHA256: sha, ModTime: mt.Add(time.Minute)}})
	re, err := Load(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	st := re.State()
	if len(st.Fingerprints) != 2 || len(re.Problems()) != 0 {
		t.Fatalf("fingerprints %+v problems %v", st.Fingerprints, re.Problems())
	}
	if r, ok := st.Fingerprint("/e/a.log"); !ok || r.ID != first.ID {
		t.Errorf("first fingerprint %+v", r)
	}
	if !st.Fingerprinted("/e/a.log", 20, mt.Add(time.Minute)) || st.Fingerprinted("/e/a.log", 10, mt) || st.Fingerprinted("/e/b.log", 20, mt.Add(time.Minute)) {
		t.Error("Fingerprinted answers other than the latest fingerprint of the path")
	}
	if b, _ := os.ReadFile(filepath.Join(c.Dir(), "sessions.jsonl")); !strings.Contains(string(b), `"kind":"fingerprint"`) || !strings.Contains(string(b), `"mtime":"2026-11-20T03:00:00.123456789Z"`) {
		t.Errorf("sessions.jsonl:\n%s", b)
	}
}

// TestObjectAndFollowRecords: an object record needs an s3:// URL, a size
// and an ETag or sha256; a fingerprint's content sha256, when set, is 64
// hex digits; the state keeps object records apart from the local files'
// fingerprints; an open record's follow survives a reload (absent when
// not said).
func TestObjectAndFollowRecords(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("cd", 32)
	for _, bad := range []Record{
		{Kind: KindObject},
		{Kind: KindObject, Object: &SourceObject{URL: "/e/a.log", Size: 1, ETag: "e"}},
		{Kind: KindObject, Object: &SourceObject{URL: "s3://b/k", Size: 1}},
		{Kind: KindObject, Object: &SourceObject{URL: "s3://b/k", Size: 1, SHA256: "x"}},
		{Kind: KindFingerprint, File: &SourceFile{Path: "/e/a.gz", Size: 1, SHA256: sha, ContentSHA256: "x"}},
	} {
		if _, err := c.Add(bad); err == nil {
			t.Errorf("added %+v", bad)
		}
	}
	yes := true
	lm := time.Date(2026, 2, 10, 2, 0, 0, 0, time.UTC)
	c.Add(Record{Kind: KindOpen, Sources: []string{"s3://b/p/"}, Follow: &yes})
	c.Add(Record{Kind: KindOpen, Sources: []string{"/e"}})
	c.Add(Record{Kind: KindObject, Object: &SourceObject{URL: "s3://b/p/k", Source: "s3://b/p/", ETag: "e1", Size: 3, LastModified: lm, SHA256: sha}})
	c.Add(Record{Kind: KindFingerprint, File: &SourceFile{Path: "/e/a.gz", Size: 1, SHA256: sha, ContentSHA256: sha}})
	re, err := Load(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	st := re.State()
	if len(re.Problems()) != 0 || len(st.Objects) != 1 || len(st.Fingerprints) != 1 || len(st.Opens) != 2 {
		t.Fatalf("objects %+v fingerprints %+v problems %v", st.Objects, st.Fingerprints, re.Problems())
	}
	if o := st.Objects[0].Object; o.URL != "s3://b/p/k" || o.ETag != "e1" || !o.LastModified.Equal(lm) || o.SHA256 != sha {
		t.Errorf("object %+v", o)
	}
	if st.Fingerprints[0].File.ContentSHA256 != sha {
		t.Errorf("fingerprint %+v", st.Fingerprints[0].File)
	}
	if f := st.Opens[0].Follow; f == nil || !*f || st.Opens[1].Follow != nil {
		t.Errorf("follow %v %v", st.Opens[0].Follow, st.Opens[1].Follow)
	}
}

// TestAuthor: $USER signs the records; without it (a container), the
// user the process runs as, else its uid.
func TestAuthor(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	if got := Author(env("alice")); got != "alice" {
		t.Errorf("USER=alice: %q", got)
	}
	me, err := user.Current()
	if err == nil && me.Username != "" {
		if got := Author(env("")); got != me.Username {
			t.Errorf("no USER: %q, want %q", got, me.Username)
		}
	}
	defer func(f func() (*user.User, error)) { currentUser = f }(currentUser)
	currentUser = func() (*user.User, error) { return nil, user.UnknownUserIdError(os.Getuid()) }
	if got, want := Author(env(" ")), "uid "+strconv.Itoa(os.Getuid()); got != want {
		t.Errorf("no USER, no passwd entry: %q, want %q", got, want)
	}
}
