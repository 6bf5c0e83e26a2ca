package data

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestOriginCite(t *testing.T) {
	file := &SourceInfo{Name: "nodes/audit-cp3.log", Labels: Labels{{Name: "job", Value: "audit"}}}
	stream := &SourceInfo{Name: "loki{...}", Labels: Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: `a"b`}}}
	for _, tc := range []struct {
		o    Origin
		want string
	}{
		{Origin{Source: file, Line: 279, Offset: 1234}, "nodes/audit-cp3.log:279"},
		{Origin{Source: &SourceInfo{Name: "s3://b/k/x.gz"}, Line: 7}, "s3://b/k/x.gz:7"},
		{Origin{Source: stream, Line: 3, StreamTime: 1763629320123456789}, `{cluster="a\"b", job="audit"} @1763629320123456789`},
		{Origin{Line: 1}, "?:1"},
	} {
		if got := tc.o.Cite(); got != tc.want {
			t.Errorf("Cite() = %s, want %s", got, tc.want)
		}
	}
}

// citeAt finds the bytes a citation "NAME:LINE[:COL]" names in the
// (decompressed) stream, n bytes long from that line and column, as a
// reviewer cuts them out: `sed -n LINEp | cut -b COL-` (on across lines
// for a record that spans them).
func citeAt(t *testing.T, stream []byte, name, cite string, n int) (int64, []byte) {
	t.Helper()
	rest, ok := strings.CutPrefix(cite, name+":")
	if !ok {
		t.Fatalf("citation %q does not name %s", cite, name)
	}
	parts := strings.Split(rest, ":")
	line, err := strconv.ParseInt(parts[0], 10, 64)
	col := int64(1)
	if err == nil && len(parts) == 2 {
		col, err = strconv.ParseInt(parts[1], 10, 64)
		if err == nil && col <= 1 {
			t.Errorf("citation %q: column %d is said only past a line's first byte", cite, col)
		}
	}
	if err != nil || len(parts) > 2 || line < 1 {
		t.Fatalf("citation %q: not NAME:LINE[:COL]", cite)
	}
	off := int64(0)
	for l := int64(1); l < line; l++ {
		i := bytes.IndexByte(stream[off:], '\n')
		if i < 0 {
			t.Fatalf("citation %q: no line %d", cite, line)
		}
		off += int64(i) + 1
	}
	if eol := bytes.IndexByte(stream[off:], '\n'); eol >= 0 && int64(eol) < col-1 {
		t.Fatalf("citation %q: line %d has %d bytes", cite, line, eol)
	}
	off += col - 1
	if off+int64(n) > int64(len(stream)) {
		t.Fatalf("citation %q: %d bytes from there run past the end", cite, n)
	}
	return off, stream[off : off+int64(n)]
}

// checkCitations checks that every event's citation, with its Raw's
// length, gives back its bytes (and so its sha256), and that no two events
// share one.
func checkCitations(t *testing.T, what string, stream []byte, name string, evs []Event, rejs []Reject) {
	t.Helper()
	if len(evs) == 0 {
		t.Fatalf("%s: no events", what)
	}
	seen := map[string]bool{}
	for _, e := range evs {
		c := e.Origin.Cite()
		if seen[c] {
			t.Errorf("%s: two events cited %s", what, c)
		}
		seen[c] = true
		off, got := citeAt(t, stream, name, c, len(e.Raw))
		if off != e.Origin.Offset {
			t.Errorf("%s: %s names offset %d, the event is at %d", what, c, off, e.Origin.Offset)
		}
		if sha256.Sum256(got) != sha256.Sum256(e.Raw) {
			t.Errorf("%s: the %d bytes at %s are %.60q..., not the event's record %.60q...", what, len(e.Raw), c, got, e.Raw)
		}
	}
	for _, r := range rejs {
		if r.Origin.Line > 0 && r.Origin.Offset < int64(len(stream)) {
			if off, _ := citeAt(t, stream, name, r.Origin.Where(), 0); off != r.Origin.Offset {
				t.Errorf("%s: reject %s names offset %d, is at %d", what, r.Origin.Where(), off, r.Origin.Offset)
			}
		}
	}
}

// TestCitationsLocateTheRecord: an event's citation names the line and,
// when its record does not start the line, the column where its bytes
// start; from there its length gives its bytes and its sha256. Every
// event of a Firehose object (objects back to back on one line) and of an
// array or an EventList on one line has its own citation; an event that
// starts its line is cited NAME:LINE.
func TestCitationsLocateTheRecord(t *testing.T) {
	for _, name := range []string{"plain.jsonl", "eks-firehose.gz", "eks-filter-log-events.json", "pretty.json", "array.json", "concatenated.json",
		"eventlist-pretty.json", "wrappers.jsonl", "shippers.jsonl", "fluentd-out_file.log", "filebeat-json.jsonl", "aks-pt1h.json", "aks-eventhub.json", "gke-sink.jsonl", "gke-gcloud.json"} {
		evs, rejs, info := readShape(t, name, ReadOptions{})
		fh, err := os.Open(shapePath(name))
		if err != nil {
			t.Fatal(err)
		}
		r, _, done, err := Decompress(fh)
		if err != nil {
			t.Fatal(err)
		}
		stream, err := io.ReadAll(r)
		done()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkCitations(t, name, stream, info.Name, evs, rejs)
		if name == "plain.jsonl" || name == "gke-sink.jsonl" {
			for _, e := range evs {
				if e.Origin.Cite() != info.Name+":"+strconv.FormatInt(e.Origin.Line, 10) {
					t.Errorf("%s: a JSON line's event is cited %s", name, e.Origin.Cite())
				}
			}
		}
		if name == "eks-firehose.gz" {
			if len(evs) < 10 || evs[0].Origin.Line != 1 || evs[len(evs)-1].Origin.Line != 1 {
				t.Errorf("%s: %d events, want them all on line 1", name, len(evs))
			}
		}
	}

	lines := plainLines(t)
	oneLine := func(open, close string) []byte {
		b := []byte(open)
		for i, l := range lines[:6] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, l...)
		}
		return append(append(b, close...), '\n')
	}
	longest := 0
	for _, l := range lines[:6] {
		longest = max(longest, len(l))
	}
	array := oneLine("[", "]")
	eventList := oneLine(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`, "]}")
	// (A first line that does not close its object: read as documents.)
	bigList := oneLine("{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\n\"items\":[", "]}")
	var concat []byte
	for _, l := range lines[:6] {
		concat = append(concat, l...)
	}
	concat = append(concat, '\n')
	indented := append(append([]byte("\n   "), lines[0]...), "\n\t"...)
	indented = append(append(indented, lines[1]...), '\n')
	bom := append(append(append([]byte{}, lines[0]...), "\n\xef\xbb\xbf"...), lines[1]...)
	pretty := append(append(append([]byte("[\n  "), lines[0]...), ",\n  "...), lines[1]...)
	pretty = append(pretty, "\n]\n"...)
	twoLines := append(append(append([]byte{}, array...), "  "...), eventList...)
	for _, tc := range []struct {
		what    string
		in      []byte
		maxLine int
		n       int
	}{
		{"array on one line", array, 0, 6},
		{"EventList on one line (JSON lines)", eventList, 0, 6},
		{"EventList items on one line, too big to hold", bigList, longest + 100, 6},
		{"objects back to back on one line", concat, 0, 6},
		{"an array, then an EventList after blanks", twoLines, 0, 12},
		{"indented JSON lines", indented, 0, 2},
		{"a byte order mark starting a line", bom, 0, 2},
		{"a byte order mark starting the file", append([]byte("\xef\xbb\xbf"), bom...), 0, 2},
		{"a byte order mark starting a pretty file", append([]byte("\xef\xbb\xbf"), pretty...), 0, 2},
		{"a byte order mark alone on the first line", append([]byte("\xef\xbb\xbf\n"), bom...), 0, 2},
	} {
		evs, rejs := readBytes(t, tc.in, tc.maxLine)
		if len(evs) != tc.n || len(rejs) != 0 {
			t.Errorf("%s: %d events, %d rejects (%v), want %d events", tc.what, len(evs), len(rejs), rejs, tc.n)
		}
		checkCitations(t, tc.what, tc.in, "in", evs, rejs)
	}
}
