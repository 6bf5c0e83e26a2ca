package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/data"
)

// TestIndexKeepsCitations: the index keeps each event's line (and a Loki
// entry's stream time) whatever the source kind, and the Detail cites
// FILE:LINE (FILE:LINE:COL for a record that does not start its line, or
// stream and time), the sha256 of the bytes it read back and their length.
func TestIndexKeepsCitations(t *testing.T) {
	ix := NewIndex(t.TempDir(), nil)
	defer ix.Close()
	gz := &data.SourceInfo{Name: "nodes/audit-cp3.log.gz", Labels: data.Labels{{Name: "job", Value: "audit"}}}
	s3 := &data.SourceInfo{Name: "s3://audit/c1/2026/11/20/08/00/00-abc.json.zst"}
	lk := &data.SourceInfo{Name: `loki{cluster="c1", job="audit"}`, Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "c1"}}}
	var dec data.Decoder
	b := &data.Batch{}
	type want struct {
		cite, sha string
		n         int
	}
	var wants []want
	add := func(o data.Origin, id string) {
		raw := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":%q,"stage":"ResponseComplete","verb":"get","user":{"username":"u"},"stageTimestamp":"2026-11-20T08:00:%02d.123456Z"}`, id, len(wants))
		n := len(b.Events)
		var rej *data.Reject
		b.Events, rej = dec.Decode(b.Events, []byte(raw), o)
		if rej != nil {
			t.Fatal(rej)
		}
		b.Events[n] = b.Events[n].Clone()
		wants = append(wants, want{o.Cite(), RawSHA256([]byte(raw)), len(raw)})
	}
	add(data.Origin{Source: gz, Line: 279}, "a")
	add(data.Origin{Source: s3, Line: 5_000_000_123}, "b") // past 32 bits
	add(data.Origin{Source: lk, Line: 1, StreamTime: 1763625600123456789}, "c")
	add(data.Origin{Source: gz, Line: 281}, "d")
	// A record that does not start its line (a Firehose object's).
	add(data.Origin{Source: gz, Line: 282, Col: 4520}, "e")
	if err := ix.Add(b); err != nil {
		t.Fatal(err)
	}
	ix.Finish(nil)
	s := ix.Snapshot()
	for i, w := range wants {
		if got := s.Cite(i); got != w.cite {
			t.Errorf("row %d cites %s, want %s", i, got, w.cite)
		}
	}
	if s.Line(1) != 5_000_000_123 || s.Origin(2).StreamTime != 1763625600123456789 || s.Origin(0).StreamTime != 0 {
		t.Errorf("line %d, stream times %d %d", s.Line(1), s.Origin(2).StreamTime, s.Origin(0).StreamTime)
	}
	a := New(context.Background(), ix, nil, Options{NoColor: true, Compile: CompileLogQL})
	a.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	for i, w := range wants {
		a.setFocus(paneTail)
		a.tail.Select(i)
		send(t, a, "enter")
		sc := screen(a)
		if !strings.Contains(sc, "source    "+w.cite+"\n") || !strings.Contains(sc, "sha256    "+w.sha) || !strings.Contains(sc, fmt.Sprintf("length    %d bytes", w.n)) {
			t.Errorf("detail of row %d does not cite %s / %s:\n%s", i, w.cite, w.sha, sc)
		}
		send(t, a, "esc")
	}
	if wants[0].cite != "nodes/audit-cp3.log.gz:279" || wants[4].cite != "nodes/audit-cp3.log.gz:282:4520" || !strings.Contains(wants[2].cite, `{cluster="c1", job="audit"} @1763625600123456789`) {
		t.Errorf("citations %v", wants)
	}
}
