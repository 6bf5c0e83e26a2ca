package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeLines writes lines to a file in a temp dir and returns its path.
func writeLines(t *testing.T, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fixtureLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// mixedFile writes the events of testdata/events.jsonl (without its
// reject) as two "nodes" concatenated, the second half first, to a file
// called name, and returns the events in time order and the file.
func mixedFile(t *testing.T, name string) (lines []string, path string) {
	t.Helper()
	lines = fixtureLines(t, "testdata/events.jsonl")
	lines = lines[:len(lines)-1] // the reject
	half := len(lines) / 2
	mixed := append(append([]string(nil), lines[half:]...), lines[:half]...)
	return lines, writeLines(t, name, mixed)
}

// TestUnsortedFileShownInTimeOrder: a single file whose lines are not in
// time order (concatenated node logs) is shown in time order once read,
// through a permutation column; filters, the Timeline and Search follow
// it.
func TestUnsortedFileShownInTimeOrder(t *testing.T) {
	lines, p := mixedFile(t, "mixed.jsonl")
	a := newTestAppFile(t, p, 120, 40)
	if !a.c.Snap.Unsorted {
		t.Fatal("the index did not notice the disorder")
	}
	send(t, a, "/")
	typeText(t, a, `user_username="alice"`)
	send(t, a, "enter")
	// The input is read: the order is computed in a command.
	_, cmd := a.Update(feedDoneMsg{})
	runCmd(t, a, cmd)
	if !a.c.Snap.Ordered() {
		t.Fatal("no time order after the input ended")
	}
	if !strings.Contains(screen(a), "rows sorted by time") {
		t.Errorf("the status does not say the rows were sorted:\n%s", screen(a))
	}
	times := func() []int64 {
		var out []int64
		for k := 0; k < a.c.Rows.Len(); k++ {
			out = append(out, a.c.Snap.Time(a.c.Rows.At(k)))
		}
		return out
	}
	if got := times(); len(got) != 10 || !slices.IsSorted(got) {
		t.Fatalf("alice's events (filtered) not in time order: %v", got)
	}
	send(t, a, "esc")
	if got := times(); len(got) != len(lines) || !slices.IsSorted(got) {
		t.Fatalf("all events not in time order (%d)", len(got))
	}
	// The screen shows them in order.
	s := screen(a)
	if i, j := strings.Index(s, "09:00:00 "), strings.Index(s, "09:03:34 "); i < 0 || j < 0 || i > j {
		t.Fatalf("screen not in time order:\n%s", s)
	}
	// The Timeline lists a subject's events in time order.
	send(t, a, "2")
	a.tl.compute()
	var tl []int64
	for _, i := range a.tl.events {
		tl = append(tl, a.c.Snap.Time(i))
	}
	if !slices.IsSorted(tl) {
		t.Fatalf("timeline events not in time order: %v", tl)
	}
	// Select finds a row's position.
	send(t, a, "1")
	row := a.c.Rows.At(3)
	a.tail.Select(row)
	if got, _ := a.tail.Selected(); got != row {
		t.Fatalf("Select(%d) selected %d", row, got)
	}
	// A sorted file gets no permutation.
	b := newTestApp(t, 80, 24)
	_, cmd = b.Update(feedDoneMsg{})
	runCmd(t, b, cmd)
	if b.c.Snap.Unsorted || b.c.Snap.Ordered() {
		t.Fatal("a sorted file was reordered")
	}
}

// TestYearsShown: when the data spans years the year is shown, in full
// (2025-12-31: 25-12-31 reads as DD-MM-YY too); when it spans days, the
// date.
func TestYearsShown(t *testing.T) {
	lines := fixtureLines(t, "testdata/events.jsonl")
	first := lines[0]
	mk := func(ts string) string {
		return strings.ReplaceAll(strings.ReplaceAll(first, "2026-11-20T09:00:00.000000Z", ts), "2026-11-20T09:00:00.012000Z", ts)
	}
	p := writeLines(t, "years.jsonl", []string{mk("2025-12-31T23:59:58.000000Z"), mk("2026-01-01T00:00:03.000000Z")})
	for _, tc := range []struct {
		w    int
		want []string
	}{
		{120, []string{"2025-12-31 23:59:58", "2026-01-01 00:00:03"}},
		{80, []string{"2025-12-31 23:59", "2026-01-01 00:00"}},
	} {
		a := newTestAppFile(t, p, tc.w, 24)
		s := screen(a)
		checkScreen(t, s, tc.w, 24)
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("%d columns: %q missing:\n%s", tc.w, w, s)
			}
		}
	}
	// The formats.
	day := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	for _, tc := range []struct {
		lo, hi     int64
		long, shrt string
	}{
		{day, day + int64(time.Hour), "03-01 10:00:00", "10:00:00"},
		{day, day + int64(48*time.Hour), "03-01 10:00:00", "03-01 10:00"},
		{day - int64(365*24*time.Hour), day, "2026-03-01 10:00:00", "2026-03-01 10:00"},
	} {
		tf := newTimeFormat(tc.lo, tc.hi, nil)
		if got := tf.format(day, true); got != tc.long {
			t.Errorf("long %q, want %q", got, tc.long)
		}
		if got := tf.format(day, false); got != tc.shrt {
			t.Errorf("short %q, want %q", got, tc.shrt)
		}
	}
}

// TestTimeOrderAndWorkbench: once an unsorted input is shown in time
// order, the workbench follows the display order: ] goes to the next
// bookmark on screen (not in file order), :goto finds the first event at
// or after a time; putting the rows in order is not a filter change for
// the access log; a window from :from is undone by u like any filter.
func TestTimeOrderAndWorkbench(t *testing.T) {
	_, p := mixedFile(t, "mixed.jsonl")
	ix := loadIndex(t, p)
	var recs []ActionRecord
	a := New(t.Context(), ix, nil, Options{NoColor: true, Compile: CompileLogQL, Write: LocalWrites{},
		OnAction: func(r ActionRecord) { recs = append(recs, r) }})
	a.Update(windowSize(120, 40))
	runCmd(t, a, a.Init())
	_, cmd := a.Update(feedDoneMsg{})
	runCmd(t, a, cmd)
	if !a.c.Snap.Ordered() {
		t.Fatal("no time order")
	}
	if len(recs) != 0 {
		t.Fatalf("sorting the rows was recorded as %+v", recs)
	}
	// Bookmark the events at display positions 2 and 20: in the file the
	// second comes first.
	rows := a.c.Rows
	r2, r20 := rows.At(2), rows.At(20)
	if r20 >= r2 {
		t.Fatalf("fixture: rows %d and %d are in file order", r2, r20)
	}
	for _, r := range []int{r2, r20} {
		a.tail.Select(r)
		send(t, a, "m")
	}
	a.tail.Select(rows.At(0))
	for _, want := range []int{r2, r20} {
		send(t, a, "]")
		if got, _ := a.tail.Selected(); got != want {
			t.Fatalf("] selected row %d (position %d), want %d (position %d)", got, rows.Search(got), want, rows.Search(want))
		}
	}
	send(t, a, "[")
	if got, _ := a.tail.Selected(); got != r2 {
		t.Fatalf("[ selected row %d, want %d", got, r2)
	}
	// :goto lands on the first event at or after the time, in time order.
	at := a.c.Snap.Time(rows.At(10))
	command_(t, a, "goto "+time.Unix(0, at).UTC().Format(time.RFC3339Nano))
	if got, _ := a.tail.Selected(); a.c.Snap.Time(got) != at || rows.Search(got) > 10 {
		t.Fatalf(":goto selected row %d at position %d", got, rows.Search(got))
	}
	// A window is a filter change: u undoes it.
	n := a.c.Rows.Len()
	command_(t, a, "from "+time.Unix(0, at).UTC().Format(time.RFC3339Nano))
	if a.filter.Since != at || a.c.Rows.Len() >= n {
		t.Fatalf(":from: since %d, %d rows of %d", a.filter.Since, a.c.Rows.Len(), n)
	}
	send(t, a, "u")
	if a.filter.Since != 0 || a.c.Rows.Len() != n {
		t.Fatalf("u after :from: since %d, %d rows of %d", a.filter.Since, a.c.Rows.Len(), n)
	}
	if last := recs[len(recs)-1]; last.Kind != RecordFilter || last.Text != "" {
		t.Fatalf("the undo was recorded as %+v", last)
	}
}

// TestFollowedUnsortedFileSorted: the default command line follows a
// single file; one whose lines are not in time order (concatenated node
// logs) is shown in time order once its content is read, and lines
// appended later (live) come after it, in the order they arrive.
func TestFollowedUnsortedFileSorted(t *testing.T) {
	lines, p := mixedFile(t, "audit.log")
	a, wait := followApp(t, p)
	wait("rows sorted by time")
	if !a.c.Snap.CaughtUp {
		t.Fatal("sorted before the content was read")
	}
	times := func() []int64 {
		var out []int64
		for k := 0; k < a.c.Rows.Len(); k++ {
			out = append(out, a.c.Snap.Time(a.c.Rows.At(k)))
		}
		return out
	}
	if got := times(); len(got) != len(lines) || !slices.IsSorted(got) {
		t.Fatalf("followed events not in time order once read (%d of %d): %v", len(got), len(lines), got)
	}
	// A line appended while following: after the sorted rows, though
	// older than the newest of them.
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	late := strings.Replace(lines[0], `"auditID":"`, `"auditID":"late-`, 1)
	if _, err := f.WriteString(late + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wait(fmt.Sprintf("loaded %d ·", len(lines)+1))
	got := times()
	if len(got) != len(lines)+1 || !slices.IsSorted(got[:len(lines)]) {
		t.Fatalf("rows after the append: %v", got)
	}
	if last := a.c.Rows.At(len(lines)); last != len(lines) || got[len(lines)] >= got[len(lines)-1] {
		t.Fatalf("the appended (older) event is not last: row %d, times %v", last, got)
	}
	if a.c.Snap.Pos(len(lines)) != len(lines) || a.c.Snap.Row(len(lines)) != len(lines) {
		t.Fatalf("row %d is at position %d", len(lines), a.c.Snap.Pos(len(lines)))
	}
	// A filter over both: the sorted rows, then the live one.
	send(t, a, "/")
	typeText(t, a, `user_username=~".+"`)
	send(t, a, "enter")
	if n := a.c.Rows.Len(); n == 0 || a.c.Rows.At(n-1) != len(lines) {
		t.Fatalf("filtered rows do not end with the live one: %d rows", n)
	}
}

// TestFollowedLiveLinesNeverSorted: a followed file that was empty (or in
// order) when read is never sorted later, even when the lines that come
// live are a little out of order: live rows stay in arrival order.
func TestFollowedLiveLinesNeverSorted(t *testing.T) {
	lines, _ := mixedFile(t, "unused.jsonl")
	p := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a, wait := followApp(t, p)
	wait("live · following")
	// The app decides on the order at its first notification with the
	// file read (the status may have shown "live" from another message).
	a.Update(indexGrewMsg{}) // its command (another feed wait) is not run
	if !a.orderChecked {
		t.Fatal("the order was not decided once the file was read")
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The second half, then the first: out of order, live.
	half := len(lines) / 2
	for _, l := range append(slices.Clone(lines[half:]), lines[:half]...) {
		f.WriteString(l + "\n")
	}
	f.Close()
	s := wait(fmt.Sprintf("loaded %d ·", len(lines)))
	if a.sorting || a.c.Snap.Ordered() || a.sortIfNeeded() != nil || strings.Contains(s, "rows sorted") {
		t.Fatalf("live lines were (being) sorted:\n%s", s)
	}
}
