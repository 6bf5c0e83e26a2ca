package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// fakeStream yields batches from a channel, like a followed file.
type fakeStream struct {
	ch     chan *data.Batch
	closed bool
	mu     sync.Mutex
}

func (f *fakeStream) Next(ctx context.Context) (*data.Batch, error) {
	select {
	case b, ok := <-f.ch:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeStream) Close() error { f.mu.Lock(); f.closed = true; f.mu.Unlock(); return nil }

// spillBatch builds a batch of n events from a non-seekable source, each
// with a distinct name and raw line.
func spillBatch(info *data.SourceInfo, from, n int) *data.Batch {
	b := &data.Batch{}
	for k := from; k < from+n; k++ {
		raw := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"id-%d","stage":"ResponseComplete","verb":"get","user":{"username":"u%d"},"objectRef":{"resource":"pods","name":"p-%d"}}`+"\n", k, k%7, k)
		var dec data.Decoder
		evs, rej := dec.Decode(nil, bytes.TrimSpace([]byte(raw)), data.Origin{Source: info, Line: int64(k + 1)})
		if rej != nil {
			panic(rej.Reason)
		}
		e := evs[0].Clone()
		e.Raw = []byte(raw)
		e.Time = int64(k+1) * 1e6 // dated (time 0 is "undated")
		b.Events = append(b.Events, e)
		b.Bytes += int64(len(raw))
	}
	return b
}

// TestFeedLosesNothingAndCoalesces streams many small batches (a live
// tail) into the index while the UI side consumes notifications: every
// event is indexed, notifications are far fewer than batches, and spilled
// events read back byte for byte.
func TestFeedLosesNothingAndCoalesces(t *testing.T) {
	info := &data.SourceInfo{Name: "-", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	ix := NewIndex(t.TempDir(), nil)
	defer ix.Close()
	feed := NewFeed(ix, nil)
	st := &fakeStream{ch: make(chan *data.Batch)}
	var seen int
	feed.OnBatch = func(b *data.Batch) { seen += len(b.Events) }
	go feed.Run(context.Background(), st)

	const batches, per = 400, 50
	go func() {
		for k := 0; k < batches; k++ {
			st.ch <- spillBatch(info, k*per, per)
			if k%50 == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		close(st.ch)
	}()
	notes := 0
	for {
		msg := feed.Wait()()
		if _, ok := msg.(feedDoneMsg); ok {
			break
		}
		notes++
	}
	s := ix.Snapshot()
	if s.Len() != batches*per || seen != batches*per {
		t.Fatalf("indexed %d events (OnBatch saw %d), want %d", s.Len(), seen, batches*per)
	}
	if !s.Done {
		t.Fatal("index not marked done")
	}
	if notes >= batches {
		t.Fatalf("%d notifications for %d batches: not coalesced", notes, batches)
	}
	for _, i := range []int{0, 1, 777, batches*per - 1} {
		raw, err := s.Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`"name":"p-%d"`, i)
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("spilled event %d read back as %q", i, raw)
		}
		if got := s.Str(ColName, i); got != fmt.Sprintf("p-%d", i) {
			t.Fatalf("name column of %d = %q", i, got)
		}
	}
}

// TestLiveTailFollowsAndCounts drives the app with a growing index: the
// tail follows new events; after space it stays put and counts "N new".
func TestLiveTailFollowsAndCounts(t *testing.T) {
	info := &data.SourceInfo{Name: "-", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	ix := NewIndex(t.TempDir(), nil)
	defer ix.Close()
	a := New(context.Background(), ix, nil, Options{NoColor: true, Follow: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	grow := func(from, n int) {
		b := spillBatch(info, from, n)
		b.CaughtUp = true // what a followed file says once it is live
		if err := ix.Add(b); err != nil {
			t.Fatal(err)
		}
		_, cmd := a.Update(indexGrewMsg{})
		runCmd(t, a, cmd)
	}
	grow(0, 100)
	if row, _ := a.tail.Selected(); row != 99 {
		t.Fatalf("tail not at the newest event: %d", row)
	}
	send(t, a, "space")
	grow(100, 30)
	if row, _ := a.tail.Selected(); row != 99 {
		t.Fatalf("paused tail moved to %d", row)
	}
	if n := a.tail.NewCount(); n != 30 {
		t.Fatalf("new counter = %d, want 30", n)
	}
	if s := screen(a); !containsLine(s, "PAUSED · 30 new") {
		t.Fatalf("status does not show the counter:\n%s", s)
	}
	send(t, a, "space")
	if row, _ := a.tail.Selected(); row != 129 {
		t.Fatalf("resumed tail at %d, want 129", row)
	}
	// Scrolling up stops following too; G resumes.
	send(t, a, "k", "k")
	grow(130, 5)
	if row, _ := a.tail.Selected(); row != 127 {
		t.Fatalf("scrolled tail moved to %d", row)
	}
	send(t, a, "G")
	if row, _ := a.tail.Selected(); row != 134 {
		t.Fatalf("G went to %d", row)
	}
	// A filter applies to events that arrive later too.
	send(t, a, "/")
	typeText(t, a, `user_username="u3"`)
	send(t, a, "enter")
	before := a.c.Rows.Len()
	grow(135, 70)
	if got := a.c.Rows.Len(); got != before+10 {
		t.Fatalf("filter over new events: %d matches, want %d", got, before+10)
	}
}

func containsLine(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

func TestMouseWheelAndResize(t *testing.T) {
	a := newTestApp(t, 80, 24)
	row0, _ := a.tail.Selected()
	a.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	row1, _ := a.tail.Selected()
	if row1 != row0-3 {
		t.Fatalf("wheel up moved from %d to %d, want 3 rows", row0, row1)
	}
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	checkScreen(t, screen(a), 100, 30)
	a.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
	checkScreen(t, screen(a), 40, 10)
	for _, k := range []string{"2", "3", "4", "5", "?"} {
		send(t, a, k)
		checkScreen(t, screen(a), 40, 10)
		send(t, a, "esc")
	}
}

// TestStaleFilterResultIgnored: a result computed for a filter that was
// replaced meanwhile is dropped, not drawn.
func TestStaleFilterResultIgnored(t *testing.T) {
	a := newTestApp(t, 80, 24)
	fa, err := CompileLogQL(`user_username="bob"`)
	if err != nil {
		t.Fatal(err)
	}
	cmdA := a.applyFilter(fa) // generation 1, not run yet
	fb, err := CompileLogQL(`user_username="carol"`)
	if err != nil {
		t.Fatal(err)
	}
	cmdB := a.applyFilter(fb) // generation 2
	a.Update(cmdA())          // stale: bob's rows must not appear
	if a.c.Rows.Len() != 0 {
		t.Fatalf("stale result drawn: %d rows", a.c.Rows.Len())
	}
	runCmd(t, a, cmdB)
	if a.c.Rows.Len() != 4 {
		t.Fatalf("carol: %d rows, want 4", a.c.Rows.Len())
	}
	for k := 0; k < a.c.Rows.Len(); k++ {
		if u := a.c.Snap.Str(ColUser, a.c.Rows.At(k)); u != "carol" {
			t.Fatalf("row of %q in carol's result", u)
		}
	}
}

// TestFilterNeedingRawEvents: a line filter and a field the index does
// not keep are evaluated on the re-read events.
func TestFilterNeedingRawEvents(t *testing.T) {
	a := newTestApp(t, 80, 24)
	for q, want := range map[string]int{
		`|= "cat%20%2Fetc%2Fshadow"`:                         2, // line filter: both exec stages
		`level="RequestResponse"`:                            1, // not an indexed column
		`requestObject_data_b="two"`:                         1, // inside the request body
		`user_username="alice" != "configmaps"`:              8, // mixed: columns, then the line
		`annotations_authorization_k8s_io_decision="forbid"`: 7,
	} {
		send(t, a, "/")
		a.bar.text, a.bar.pos = nil, 0
		typeText(t, a, q)
		send(t, a, "enter")
		if a.bar.Active() {
			t.Fatalf("%s did not compile: %s", q, a.bar.err)
		}
		if got := a.c.Rows.Len(); got != want {
			t.Errorf("%s: %d matches, want %d", q, got, want)
		}
	}
}

// TestFeedFromIndexesTheWindowOnly: with From (a window read with the
// rules' look-back before it), OnBatch sees every event and the index only
// those from From on, whatever their order within a batch; a batch's
// rejects and bytes still count.
func TestFeedFromIndexesTheWindowOnly(t *testing.T) {
	info := &data.SourceInfo{Name: "-", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	ix := NewIndex(t.TempDir(), nil)
	defer ix.Close()
	feed := NewFeed(ix, nil)
	const batches, per, from = 6, 50, 130 // events 0..299; From at event 130's time
	feed.From = int64(from+1) * 1e6
	st := &fakeStream{ch: make(chan *data.Batch)}
	seen, bytes := 0, int64(0)
	feed.OnBatch = func(b *data.Batch) { seen += len(b.Events) }
	go feed.Run(context.Background(), st)
	go func() {
		for k := 0; k < batches; k++ {
			b := spillBatch(info, k*per, per)
			if k == from/per {
				slices.Reverse(b.Events) // the window's events after the others
			}
			if k == 0 {
				b.Rejects = []data.Reject{{Reason: "not JSON", Sample: []byte("x")}}
			}
			bytes += b.Bytes
			st.ch <- b
		}
		close(st.ch)
	}()
	for {
		if _, ok := feed.Wait()().(feedDoneMsg); ok {
			break
		}
	}
	s := ix.Snapshot()
	if seen != batches*per {
		t.Fatalf("OnBatch saw %d events, want %d", seen, batches*per)
	}
	if s.Len() != batches*per-from {
		t.Fatalf("indexed %d events, want the %d from From on", s.Len(), batches*per-from)
	}
	names := map[string]bool{}
	for i := range s.Len() {
		if s.Time(i) < feed.From {
			t.Fatalf("row %d at %d is before From %d", i, s.Time(i), feed.From)
		}
		names[s.Str(ColName, i)] = true
	}
	for k := from; k < batches*per; k++ {
		if !names[fmt.Sprintf("p-%d", k)] {
			t.Fatalf("event %d of the window is not indexed", k)
		}
	}
	if s.Rejected != 1 || s.Bytes != bytes {
		t.Fatalf("rejected %d, bytes %d: want 1 and %d", s.Rejected, s.Bytes, bytes)
	}
}
