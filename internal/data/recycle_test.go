package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// recycleInput is n JSON lines of distinct events, with a bad line.
func recycleInput(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		if i == n/2 {
			b.WriteString("{\"kind\":\"Event\",\"verb\":\n")
		}
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%06d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns%d/pods?limit=%d\u0026x=1","verb":"list","user":{"username":"user-%d","groups":["g%d"]},"sourceIPs":["10.0.%d.%d"],"objectRef":{"resource":"pods","namespace":"ns%d"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T08:%02d:%02d.000000Z"}`+"\n",
			i, i%7, i, i%13, i%5, i%256, i%199, i%7, i/60%60, i%60)
	}
	return b.Bytes()
}

// readAll reads input through a ReaderStream with small chunks; each
// batch goes to use, then is released.
func readAll(t *testing.T, input []byte, recycle bool, use func(*Batch)) {
	t.Helper()
	info := &SourceInfo{Name: "recycle.log"}
	s := NewReaderStream(context.Background(), bytes.NewReader(input), info, ReadOptions{Recycle: recycle, ChunkBytes: 16 << 10, Workers: 2}, nil)
	defer s.Close()
	for {
		b, err := s.Next(context.Background())
		if b != nil {
			use(b)
			b.Release()
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func cloneBatch(b *Batch) ([]Event, []Reject) {
	evs := make([]Event, len(b.Events))
	for i := range b.Events {
		evs[i] = b.Events[i].Clone()
	}
	return evs, append([]Reject(nil), b.Rejects...)
}

// TestRecycleReusesMemoryAndChangesNothing: a recycling stream reads into
// the memory of the batches released before (a few buffers serve
// hundreds of chunks), its events are those of a stream that does not
// recycle, a batch held past its release keeps its events until the last
// holder releases it, and then (poisoned, as in tests) it reads 'X's.
func TestRecycleReusesMemoryAndChangesNothing(t *testing.T) {
	input := recycleInput(20000)
	var want []Event
	var wantRejects []Reject
	readAll(t, input, false, func(b *Batch) {
		if b.lease != nil {
			t.Fatal("a batch of a stream without Recycle is lent")
		}
		evs, rejs := cloneBatch(b)
		want, wantRejects = append(want, evs...), append(wantRejects, rejs...)
	})
	defer PoisonRecycled()()
	var got []Event
	var gotRejects []Reject
	bufs, arrays := map[*byte]bool{}, map[*Event]bool{}
	batches := 0
	var held *Batch
	var heldEvents []Event
	readAll(t, input, true, func(b *Batch) {
		batches++
		if b.lease == nil {
			t.Fatal("a batch of a recycling stream is not lent")
		}
		bufs[unsafe.SliceData(b.lease.buf)] = true
		if cap(b.Events) > 0 {
			arrays[unsafe.SliceData(b.Events)] = true
		}
		evs, rejs := cloneBatch(b)
		got, gotRejects = append(got, evs...), append(gotRejects, rejs...)
		if batches == 3 {
			b.Hold()
			held, heldEvents = b, evs
		}
	})
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRejects, wantRejects) {
		t.Fatalf("recycled: %d events, %d rejects; not recycled: %d, %d", len(got), len(gotRejects), len(want), len(wantRejects))
	}
	if len(wantRejects) != 1 || !strings.Contains(wantRejects[0].Reason, "malformed JSON") {
		t.Fatalf("rejects: %+v", wantRejects)
	}
	// Two decode workers, a chunk being read and the pool's few: far
	// fewer buffers than chunks.
	if batches < 100 || len(bufs) > 2*recycleKeep+6 || len(arrays) > 2*recycleKeep+6 {
		t.Fatalf("%d batches read into %d buffers and %d event arrays", batches, len(bufs), len(arrays))
	}
	// The held batch was not reused while the stream read on.
	for i := range held.Events {
		if e := held.Events[i].Clone(); !reflect.DeepEqual(e, heldEvents[i]) {
			t.Fatalf("held event %d changed: %s, was %s", i, e.AuditID, heldEvents[i].AuditID)
		}
	}
	id := held.Events[0].AuditID
	held.Release()
	if id != strings.Repeat("X", len(id)) {
		t.Fatalf("a kept string of a released, poisoned batch reads %q", id)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second Release of a poisoned batch did not panic")
		}
	}()
	held.Release()
}

// TestHoldAndReleaseWithoutRecycling do nothing.
func TestHoldAndReleaseWithoutRecycling(t *testing.T) {
	b := &Batch{Events: []Event{{AuditID: "a"}}}
	b.Hold()
	b.Release()
	b.Release()
	var nilBatch *Batch
	nilBatch.Hold()
	nilBatch.Release()
	if b.Events[0].AuditID != "a" {
		t.Fatal("changed")
	}
}

// TestMergeRecyclesItsSources: a merge of recycling streams hands out
// batches whose release gives back the sources' batches their events
// come from, once the merge has moved past them: the sources reuse their
// memory, and the merged events are those of a merge that does not
// recycle, with the released memory poisoned.
func TestMergeRecyclesItsSources(t *testing.T) {
	// Three nodes' files whose times interleave (and one file that ends
	// early), so merged batches draw on several sources at once.
	var inputs [][]byte
	for k := range 3 {
		var b bytes.Buffer
		for i := range 24000 - 8000*(k/2) {
			fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"n%d-%06d","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"get","user":{"username":"u%d"},"objectRef":{"resource":"pods","namespace":"ns%d"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T08:%02d:%02d.%06dZ"}`+"\n",
				k, i, i%17, k, i/600%60, i/10%60, (i%10)*100000+k)
		}
		inputs = append(inputs, b.Bytes())
	}
	read := func(recycle bool) ([]Event, int, int) {
		var streams []Stream
		for k, in := range inputs {
			info := &SourceInfo{Name: fmt.Sprintf("node%d.log", k)}
			streams = append(streams, NewReaderStream(context.Background(), bytes.NewReader(in), info, ReadOptions{Recycle: recycle, ChunkBytes: 128 << 10, Workers: 2}, nil))
		}
		m := MergeStreams(streams)
		defer m.Close()
		var out []Event
		bufs := map[*byte]bool{}
		batches := 0
		for {
			b, err := m.Next(context.Background())
			if b != nil {
				batches++
				for i := range b.Events {
					out = append(out, b.Events[i].Clone())
				}
				if b.lease != nil {
					for _, d := range b.lease.deps {
						if d.lease != nil {
							bufs[unsafe.SliceData(d.lease.buf)] = true
						}
					}
				}
				b.Release()
			}
			if errors.Is(err, io.EOF) {
				return out, batches, len(bufs)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	want, _, _ := read(false)
	defer PoisonRecycled()()
	got, batches, bufs := read(true)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("recycled merge: %d events, not recycled %d (or they differ)", len(got), len(want))
	}
	if len(want) != 64000 || batches < 10 {
		t.Fatalf("%d events in %d batches", len(want), batches)
	}
	// Three sources, each with its workers, its pool and the batch the
	// merge is reading: far fewer buffers than chunks (about 150).
	t.Logf("%d merged batches, sources read into %d buffers", batches, bufs)
	if bufs > 3*(2*recycleKeep+6) {
		t.Fatalf("the merge's sources read into %d buffers", bufs)
	}
}
