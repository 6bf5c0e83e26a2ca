package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// TestFeedManyWaiters: one feed, several waiters (serve's sessions). Each
// one that keeps waiting sees the whole index and the end; a waiter that
// never waits (a stuck session) blocks nobody; a waiter whose context ends
// returns at once.
func TestFeedManyWaiters(t *testing.T) {
	info := &data.SourceInfo{Name: "-", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	ix := NewIndex(t.TempDir(), nil)
	defer ix.Close()
	feed := NewFeed(ix, nil)
	st := &fakeStream{ch: make(chan *data.Batch)}
	_ = feed.Subscribe(context.Background()) // never waits
	waiters := []*Feed{feed, feed.Subscribe(context.Background()), feed.Subscribe(context.Background())}

	ctx, cancel := context.WithCancel(context.Background())
	gone := feed.Subscribe(ctx)
	goneDone := make(chan tea.Msg)
	go func() { goneDone <- gone.Wait()() }()

	const batches, per = 200, 20
	type result struct {
		lens  []int
		ended bool
	}
	results := make([]result, len(waiters))
	var wg sync.WaitGroup
	for k, w := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				switch w.Wait()().(type) {
				case indexGrewMsg:
					results[k].lens = append(results[k].lens, ix.Snapshot().Len())
					time.Sleep(time.Duration(k) * time.Millisecond) // slow and fast waiters
				case feedDoneMsg:
					results[k].ended = true
					return
				default:
					t.Error("unexpected message")
					return
				}
			}
		}()
	}
	// Nothing was indexed yet: gone's Wait is pending until its context
	// ends.
	cancel()
	select {
	case m := <-goneDone:
		if m != nil {
			t.Errorf("a cancelled waiter returned %T, want nil", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled waiter did not return")
	}
	go feed.Run(context.Background(), st)
	for k := range batches {
		st.ch <- spillBatch(info, k*per, per)
	}
	close(st.ch)
	wg.Wait()
	for k, r := range results {
		if !r.ended {
			t.Errorf("waiter %d never saw the end", k)
		}
		if len(r.lens) == 0 || r.lens[len(r.lens)-1] != batches*per {
			t.Errorf("waiter %d: last snapshot %v, want %d events", k, r.lens[max(0, len(r.lens)-1):], batches*per)
		}
		if len(r.lens) >= batches {
			t.Errorf("waiter %d: %d notifications for %d batches: not coalesced", k, len(r.lens), batches)
		}
	}
	// A waiter that subscribes after the end sees the index once, then
	// the end.
	late := feed.Subscribe(context.Background())
	if _, ok := late.Wait()().(indexGrewMsg); !ok {
		t.Fatal("late waiter: first message is not indexGrewMsg")
	}
	if _, ok := late.Wait()().(feedDoneMsg); !ok {
		t.Fatal("late waiter: second message is not feedDoneMsg")
	}
}

// TestTwoAppsOneIndex: two apps over one index and feed filter and move
// independently.
func TestTwoAppsOneIndex(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	feed := NewFeed(ix, nil)
	a := New(context.Background(), ix, feed.Subscribe(context.Background()), Options{NoColor: true, Compile: CompileLogQL})
	b := New(context.Background(), ix, feed.Subscribe(context.Background()), Options{NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	b.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	send(t, a, "/")
	typeText(t, a, `user_username="carol"`)
	send(t, a, "enter")
	send(t, b, "2")
	if a.c.Rows.Len() != 4 {
		t.Fatalf("a: %d rows, want carol's 4", a.c.Rows.Len())
	}
	if b.filter.Active() || b.c.Rows.Len() != ix.Snapshot().Len() {
		t.Fatalf("b's rows changed with a's filter: %d", b.c.Rows.Len())
	}
	if a.focus != paneTail || b.focus != paneTimeline {
		t.Fatalf("focus a=%d b=%d", a.focus, b.focus)
	}
	checkScreen(t, screen(a), 80, 24)
	checkScreen(t, screen(b), 120, 40)
}

// TestOnAction: every filter applied and every `:` command reaches the
// hook, failures with their error.
func TestOnAction(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	var got []ActionRecord
	a := New(context.Background(), ix, nil, Options{NoColor: true, Compile: CompileLogQL,
		OnAction: func(r ActionRecord) { got = append(got, r) }})
	a.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	send(t, a, "/")
	typeText(t, a, `user_username="carol"`)
	send(t, a, "enter")
	send(t, a, "/")
	a.bar.text, a.bar.pos = nil, 0
	typeText(t, a, `user_username=`)
	send(t, a, "enter") // does not compile
	send(t, a, "esc", "esc")
	send(t, a, ":")
	typeText(t, a, "user carol")
	send(t, a, "enter")
	send(t, a, ":")
	typeText(t, a, "frobnicate")
	send(t, a, "enter")
	send(t, a, "esc")
	send(t, a, ":")
	typeText(t, a, "clear")
	send(t, a, "enter")

	want := []ActionRecord{
		{Kind: RecordFilter, Text: `user_username="carol"`},
		{Kind: RecordFilter, Text: `user_username=`, Err: "*"},
		{Kind: RecordFilter, Text: ""}, // esc in the tail clears the filter
		{Kind: RecordCommand, Text: "user carol"},
		{Kind: RecordCommand, Text: "frobnicate", Err: "*"},
		{Kind: RecordCommand, Text: "clear"},
		{Kind: RecordFilter, Text: ""},
	}
	checkRecords(t, got, want)
}

// checkRecords fails unless got are want (an Err of "*": any error).
func checkRecords(t *testing.T, got, want []ActionRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("records:\n%s\nwant:\n%s", fmtRecords(got), fmtRecords(want))
	}
	for k := range want {
		g, w := got[k], want[k]
		if g.Kind != w.Kind || g.Text != w.Text || g.Path != w.Path || (w.Err == "*") != (g.Err != "") {
			t.Fatalf("record %d = %+v, want %+v\nall:\n%s", k, g, w, fmtRecords(got))
		}
	}
}

func fmtRecords(rs []ActionRecord) string {
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("  %+v\n", r)
	}
	return s
}

// TestOnActionWrites: what a session writes reaches the hook (the access
// log of `audittui serve`): an export with the command as typed and the
// directory written, a refused one with its error, a bookmark and its
// removal with the event's citation.
func TestOnActionWrites(t *testing.T) {
	ix := loadIndex(t, "testdata/events.jsonl")
	base := t.TempDir()
	var got []ActionRecord
	a := New(context.Background(), ix, nil, Options{NoColor: true, Compile: CompileLogQL, Write: WriteUnder(base),
		OnAction: func(r ActionRecord) { got = append(got, r) }})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	row, ok := a.tail.Selected()
	if !ok {
		t.Fatal("no row selected")
	}
	cite := ix.Snapshot().Cite(row)
	send(t, a, "m", "m")
	send(t, a, ":")
	typeText(t, a, "export ev1")
	send(t, a, "enter")
	send(t, a, ":")
	typeText(t, a, "export ../out")
	send(t, a, "enter")
	var writes []ActionRecord
	for _, r := range got {
		if r.Kind != RecordCommand {
			writes = append(writes, r)
		}
	}
	want := []ActionRecord{
		{Kind: RecordBookmark, Text: cite},
		{Kind: RecordUnbookmark, Text: cite},
		{Kind: RecordExport, Text: "export ev1", Path: filepath.Join(base, "ev1")},
		{Kind: RecordExport, Text: "export ../out", Err: "*"},
	}
	checkRecords(t, writes, want)
}
