package data

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// joinedCase is a log built from real lines with some damaged as an API
// server that crashed mid-write leaves them: a line cut short with the
// next event appended to it (no newline between them), a line whose
// newline was lost (two whole events on one line), a line after a stretch
// of NUL bytes (a zero-filled block after a crash).
type joinedCase struct {
	in     []byte
	whole  map[string]bool // the lines that must be read, each exactly once
	cut    int             // events cut short (each one reject)
	joined int             // whole events that do not start their line
}

func buildJoined(lines [][]byte) joinedCase {
	c := joinedCase{whole: map[string]bool{}}
	var b bytes.Buffer
	for i, n := 0, 0; i < len(lines); i, n = i+1, n+1 {
		l := lines[i]
		switch {
		case n%7 == 3 && i+1 < len(lines):
			// Cut short, the next event appended.
			b.Write(l[:len(l)/2])
			b.Write(lines[i+1])
			c.whole[string(lines[i+1])] = true
			c.cut++
			c.joined++
			i++
		case n%7 == 5 && i+1 < len(lines):
			// The newline between two whole events lost.
			b.Write(l)
			b.Write(lines[i+1])
			c.whole[string(l)], c.whole[string(lines[i+1])] = true, true
			c.joined++
			i++
		case n%7 == 6:
			b.Write(bytes.Repeat([]byte{0}, 512))
			b.Write(l)
			c.whole[string(l)] = true
			c.joined++
		default:
			b.Write(l)
			c.whole[string(l)] = true
		}
		b.WriteByte('\n')
	}
	c.in = b.Bytes()
	return c
}

func (c joinedCase) check(t *testing.T, name string) {
	t.Helper()
	evs, rejs := readBytes(t, c.in, 0)
	read := map[string]int{}
	notAtStart := 0
	for _, e := range evs {
		read[string(e.Raw)]++
		if got := c.in[e.Origin.Offset : e.Origin.Offset+int64(len(e.Raw))]; !bytes.Equal(got, e.Raw) {
			t.Fatalf("%s: %s: Raw is not the bytes at its offset %d", name, e.Origin.Cite(), e.Origin.Offset)
		}
		// The citation leads to the bytes: line LINE, column COL.
		ls := bytes.Split(c.in, []byte{'\n'})
		col := max(e.Origin.Col, 1)
		if l := ls[e.Origin.Line-1]; int(col-1) > len(l) || !bytes.HasPrefix(l[col-1:], e.Raw) {
			t.Fatalf("%s: %s does not lead to the event's bytes", name, e.Origin.Cite())
		}
		if e.Origin.Col > 1 {
			notAtStart++
		}
	}
	for l := range c.whole {
		if read[l] != 1 {
			t.Errorf("%s: a whole event read %d times, want once: %.120s", name, read[l], l)
		}
	}
	if len(read) != len(c.whole) {
		t.Errorf("%s: %d distinct events read, want %d", name, len(read), len(c.whole))
	}
	if notAtStart != c.joined {
		t.Errorf("%s: %d events cited at a column, want %d", name, notAtStart, c.joined)
	}
	cutSaid := 0
	for _, r := range rejs {
		if strings.Contains(r.Reason, "the rest of the line, from column") {
			cutSaid++
		}
	}
	if len(rejs) != c.cut+countNULRuns(c.in) || cutSaid != len(rejs) {
		t.Errorf("%s: %d rejects (%d saying where the next event is), want %d: %v", name, len(rejs), cutSaid, c.cut+countNULRuns(c.in), rejs)
	}
}

func countNULRuns(in []byte) int {
	n := 0
	for _, l := range bytes.Split(in, []byte{'\n'}) {
		if len(l) > 0 && l[0] == 0 {
			n++
		}
	}
	return n
}

// TestJoinedLinesKeepTheirWholeEvents: a line that holds a damaged event
// and, after it, the start of another audit event as the API server
// writes one ({"kind":"Event","apiVersion":"audit.k8s.io/...) is read as
// what it holds: the damaged part rejected (naming the column where the
// next event starts), each whole event read and cited at its line and
// column. Before, the whole line was one reject and the whole events on
// it were lost (a crash mid-write loses the first event after the
// restart with the cut one), though the same bytes at the top of a file
// were read (the concatenated-objects path).
func TestJoinedLinesKeepTheirWholeEvents(t *testing.T) {
	var lines [][]byte
	for i := range 30 {
		lines = append(lines, fmt.Appendf(nil, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/pods/p%d","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"ns","name":"p%d"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-20T02:00:%02dZ"}`, i, i, i, i))
	}
	c := buildJoined(lines)
	c.check(t, "synthetic")

	// The first line damaged: the shape is told from it.
	first := joinedCase{whole: map[string]bool{}, cut: 1, joined: 1}
	first.in = append(append([]byte(nil), lines[0][:60]...), lines[1]...)
	first.in = append(first.in, '\n')
	first.whole[string(lines[1])] = true
	for _, l := range lines[2:] {
		first.in = append(append(first.in, l...), '\n')
		first.whole[string(l)] = true
	}
	first.check(t, "first line")

	// A line whose JSON is broken but holds no second event is one
	// reject, as before; so is a one-line EventList with a broken item
	// (its items start as events do), and a valid one is read whole.
	var d Decoder
	list := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + string(lines[0]) + `,` + string(lines[1][:40]) + `]}`
	if evs, rej := d.Decode(nil, []byte(list), Origin{Line: 1}); len(evs) != 0 || rej == nil || strings.Contains(rej.Reason, "column") {
		t.Errorf("broken EventList: %d events, %v", len(evs), rej)
	}
	list = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + string(lines[0]) + `,` + string(lines[1]) + `]}`
	if evs, rej := d.Decode(nil, []byte(list), Origin{Line: 1}); len(evs) != 2 || rej != nil {
		t.Errorf("EventList: %d events, %v", len(evs), rej)
	}
	if evs, rej := d.Decode(nil, lines[0][:50], Origin{Line: 1}); len(evs) != 0 || rej == nil || strings.Contains(rej.Reason, "column") {
		t.Errorf("cut line: %d events, %v", len(evs), rej)
	}
}

// TestJoinedRealLines: the same damage on the real API server logs
// (audit2rbac's v1 and v1beta1 demo logs, OpenShift's event, Panther's
// EKS-shaped events: every line that starts as the API server writes
// one).
func TestJoinedRealLines(t *testing.T) {
	var lines [][]byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for l := range bytes.SplitSeq(b, []byte{'\n'}) {
			if bytes.HasPrefix(l, []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/`)) {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) < 100 {
		t.Fatalf("%d real lines", len(lines))
	}
	c := buildJoined(lines)
	if c.cut < 10 || c.joined < 30 {
		t.Fatalf("cut %d, joined %d", c.cut, c.joined)
	}
	c.check(t, "realdata")
}
