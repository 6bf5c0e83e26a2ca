package data

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

// TestDupsHorizon: copies are found by their bytes at any distance with no
// horizon; with one (a followed input), minutes of event time that far
// behind the newest event are forgotten, so memory stays bounded.
func TestDupsHorizon(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixNano()
	ev := func(min int, body string) *Event {
		return &Event{Time: t0 + int64(min)*int64(time.Minute), Raw: []byte(body)}
	}
	all := NewDups(0)
	bounded := NewDups(10 * time.Minute)
	for _, d := range []*Dups{all, bounded} {
		if d.Seen(ev(0, "a")) || d.Seen(ev(0, "b")) || !d.Seen(ev(0, "a")) || d.Seen(ev(1, "a")) {
			t.Fatal("same minute: a copy is a copy, other bytes or another time are not")
		}
		for m := 2; m < 120; m++ {
			d.Seen(ev(m, "x"))
		}
	}
	if !all.Seen(ev(0, "b")) || all.Count() != 2 {
		t.Fatalf("no horizon: the copy two hours back was not found (%d)", all.Count())
	}
	if bounded.Seen(ev(0, "b")) || len(bounded.minutes) > 12 {
		t.Fatalf("horizon 10m: %d minutes held, or a forgotten minute still known", len(bounded.minutes))
	}
	if !bounded.Seen(ev(115, "x")) {
		t.Fatal("horizon 10m: a copy within it was not found")
	}
}

// realLines returns the lines of every real audit log (../shared/realdata).
func realLines(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'})...)
	}
	return out
}

func indent(t *testing.T, line []byte, prefix string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, line, prefix, "  "); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDupLine: the line that identifies an event as a copy is its bytes
// for an event on one line (Raw itself, not a copy: the common path costs
// nothing), and its bytes compacted for one that spans lines, which is
// the line -o raw prints: a `jq .` copy of the real logs, a pretty array
// of their events, and a pretty-printed CloudWatch Logs export (the
// record is what Raw holds) each give the lines of the compact input.
func TestDupLine(t *testing.T) {
	lines := realLines(t)
	evs, rejs := readBytes(t, append(bytes.Join(lines, []byte{'\n'}), '\n'), 0)
	if len(rejs) != 0 || len(evs) != len(lines) {
		t.Fatalf("%d events, %d rejects from %d lines", len(evs), len(rejs), len(lines))
	}
	for i := range evs {
		e := &evs[i]
		if SpansLines(e) || &DupLine(e)[0] != &e.Raw[0] || len(DupLine(e)) != len(e.Raw) {
			t.Fatalf("line %d: spans lines, or its line is not Raw itself", i+1)
		}
	}

	var pretty, array bytes.Buffer
	array.WriteString("[\n")
	for i, l := range lines {
		pretty.Write(indent(t, l, ""))
		pretty.WriteByte('\n')
		if i > 0 {
			array.WriteString(",\n")
		}
		array.WriteString("  ")
		array.Write(indent(t, l, "  "))
	}
	array.WriteString("\n]\n")
	for name, in := range map[string][]byte{"jq .": pretty.Bytes(), "pretty array": array.Bytes()} {
		evs, rejs := readBytes(t, in, 0)
		if len(rejs) != 0 || len(evs) != len(lines) {
			t.Fatalf("%s: %d events, %d rejects", name, len(evs), len(rejs))
		}
		for i := range evs {
			if !SpansLines(&evs[i]) || !bytes.Equal(DupLine(&evs[i]), lines[i]) {
				t.Fatalf("%s: event %d: line %q, want %q", name, i, DupLine(&evs[i]), lines[i])
			}
		}
	}

	// A CloudWatch Logs export (filter-log-events), pretty and compact:
	// the records' lines are the same.
	type cwEvent struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		EventID       string `json:"eventId"`
	}
	var fle struct {
		Events []cwEvent `json:"events"`
	}
	for i, l := range lines[:20] {
		fle.Events = append(fle.Events, cwEvent{LogStreamName: "kube-apiserver-audit-1", Timestamp: 1700000000000 + int64(i), Message: string(l), EventID: strconv.Itoa(i)})
	}
	compact, _ := json.Marshal(fle)
	prettyCW, _ := json.MarshalIndent(fle, "", "    ")
	cevs, _ := readBytes(t, append(compact, '\n'), 0)
	pevs, _ := readBytes(t, append(prettyCW, '\n'), 0)
	if len(cevs) != 20 || len(pevs) != 20 {
		t.Fatalf("CloudWatch: %d and %d events", len(cevs), len(pevs))
	}
	for i := range cevs {
		if cevs[i].Carrier != CarrierCloudWatch || SpansLines(&cevs[i]) || !SpansLines(&pevs[i]) || !bytes.Equal(DupLine(&cevs[i]), DupLine(&pevs[i])) {
			t.Fatalf("CloudWatch event %d: compact %q, pretty %q", i, DupLine(&cevs[i]), DupLine(&pevs[i]))
		}
	}
}

// TestDupsPrettyCopy: the real logs and a `jq .` copy of them, in either
// order, count every event of the copy as a duplicate, and so they do
// when the copy spells a character with another escape (`\/` for `/`).
// Events of the copy that were edited (or written another way DupLine
// does not make one, keys in another order say) are not duplicates: they
// are kept, and those with an auditID counted as others, the same number
// whatever the order. (The real logs alone have
// others: audit2rbac's v1beta1 and v1 logs hold the same events.)
func TestDupsPrettyCopy(t *testing.T) {
	lines := realLines(t)
	compact, _ := readBytes(t, append(bytes.Join(lines, []byte{'\n'}), '\n'), 0)
	var pretty, escaped, rewritten bytes.Buffer
	changed, withID := 0, 0
	for _, l := range lines {
		p := indent(t, l, "")
		pretty.Write(p)
		pretty.WriteByte('\n')
		escaped.Write(bytes.ReplaceAll(p, []byte(`/`), []byte(`\/`)))
		escaped.WriteByte('\n')
		if q := bytes.Replace(p, []byte(`"requestURI": "/`), []byte(`"requestURI": "/edited`), 1); !bytes.Equal(q, p) {
			changed++
			if bytes.Contains(l, []byte(`"auditID"`)) {
				withID++
			}
			p = q
		}
		rewritten.Write(p)
		rewritten.WriteByte('\n')
	}
	if changed == 0 {
		t.Fatal("no event to rewrite")
	}
	alone := NewDups(0)
	for i := range compact {
		alone.Seen(&compact[i])
	}
	for _, tc := range []struct {
		name   string
		copy   []byte
		dups   int64
		others int64
	}{
		{"jq .", pretty.Bytes(), int64(len(lines)), 0},
		{"escaped", escaped.Bytes(), int64(len(lines)), 0},
		{"rewritten", rewritten.Bytes(), int64(len(lines) - changed), int64(withID)},
	} {
		copyEvs, _ := readBytes(t, tc.copy, 0)
		for _, order := range [][]Event{append(slices.Clone(compact), copyEvs...), append(slices.Clone(copyEvs), compact...)} {
			d := NewDups(0)
			for i := range order {
				d.Seen(&order[i])
			}
			if d.Count()-alone.Count() != tc.dups || d.Others()-alone.Others() != tc.others {
				t.Errorf("%s: %d duplicates, %d others; want %d and %d", tc.name, d.Count()-alone.Count(), d.Others()-alone.Others(), tc.dups, tc.others)
			}
		}
	}
}

// TestDupsSharedRecord: two requests carried in one record (an EventList
// in a shipper's record: both events' bytes are the record's) after the
// same requests read with other bytes are two events with other bytes,
// not one of them a copy (review F: query counted 3 of 4 and called one
// a duplicate, the TUI 4); a copy of the record is still two copies.
func TestDupsSharedRecord(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixNano()
	ev := func(id, body string) *Event {
		return &Event{Time: t0, AuditID: id, Stage: "ResponseComplete", Raw: []byte(body)}
	}
	d := NewDups(0)
	for _, e := range []*Event{ev("a", `{"a":1}`), ev("b", `{"b":1}`)} {
		if d.Seen(e) {
			t.Fatalf("%s: first read is a copy", e.AuditID)
		}
	}
	record := `{"message":"{\"items\":[a,b]}"}`
	if d.Seen(ev("a", record)) || d.Seen(ev("b", record)) {
		t.Fatal("the record's two requests: one is taken for a copy of the other")
	}
	if !d.Seen(ev("a", record)) || !d.Seen(ev("b", record)) || d.Count() != 2 {
		t.Fatalf("a copy of the record: %d copies, want 2", d.Count())
	}
}
