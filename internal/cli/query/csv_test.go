package query

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/testutil"
)

// csvHeader is -o csv's header before the citation column: kept as it
// was, in its order, for the scripts that read it.
var csvHeader = []string{"time", "auditID", "stage", "user", "impersonatedUser", "verb", "resource", "subresource", "namespace", "name", "code", "sourceIP", "userAgent", "source", "line"}

// TestCSVCitesEachEvent: -o csv's last column cites each event as the TUI
// and the report do, FILE:LINE, or FILE:LINE:COL when its bytes do not
// start their line (an EKS Firehose object's events, back to back on one
// line; an EventList's items; objects concatenated on a line). Followed
// in the file (decompressed), each citation reaches a JSON record that
// holds that row's auditID, and no two rows share one. Real logs (one
// event a line) and the fixtures of the shapes whose events share lines.
func TestCSVCitesEachEvent(t *testing.T) {
	shapes := filepath.Join(testutil.RepoRoot(), "testdata", "shapes")
	files := append(testutil.RealAuditFiles(t), filepath.Join(shapes, "eks-firehose.gz"), filepath.Join(shapes, "eventlist-pretty.json"),
		filepath.Join(shapes, "concatenated.json"), filepath.Join(shapes, "array.json"), filepath.Join(shapes, "plain.jsonl"))
	withCol := map[string]int{}
	for _, f := range files {
		code, out, errOut := queryCLI(t, "-o", "csv", `{job="audit"}`, f)
		if code != cmdutil.ExitOK {
			t.Fatalf("%s: exit %d: %s", f, code, errOut)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: %d rows (%v)", f, len(rows), err)
		}
		if want := strings.Join(append(csvHeader, "citation"), ","); strings.Join(rows[0], ",") != want {
			t.Fatalf("%s: header %v, want %s", f, rows[0], want)
		}
		stream := readStream(t, f)
		lineStart := []int{0}
		for i, c := range stream {
			if c == '\n' {
				lineStart = append(lineStart, i+1)
			}
		}
		seen := map[string]bool{}
		for _, r := range rows[1:] {
			id, source, line, cite := r[1], r[13], r[14], r[15]
			if seen[cite] {
				t.Errorf("%s: two events cited %s", f, cite)
			}
			seen[cite] = true
			rest, ok := strings.CutPrefix(cite, source+":"+line)
			col := 1
			if ok && rest != "" {
				col, err = strconv.Atoi(strings.TrimPrefix(rest, ":"))
				ok = err == nil && rest[0] == ':' && col > 1
				withCol[filepath.Base(f)]++
			}
			n, _ := strconv.Atoi(line)
			if !ok || n < 1 || n > len(lineStart) {
				t.Errorf("%s: citation %q is not %s:%s[:COL]", f, cite, source, line)
				continue
			}
			var rec json.RawMessage
			at := lineStart[n-1] + col - 1
			if err := json.NewDecoder(bytes.NewReader(stream[at:])).Decode(&rec); err != nil || !bytes.Contains(rec, []byte(id)) {
				t.Errorf("%s: %s does not reach the record of %s (%v): %.80s", f, cite, id, err, stream[at:])
			}
		}
	}
	for _, f := range []string{"eks-firehose.gz", "eventlist-pretty.json", "concatenated.json", "array.json"} {
		if withCol[f] == 0 {
			t.Errorf("%s: no event cited with its column", f)
		}
	}
}

// readStream returns a file's bytes, decompressed when it is gzip.
func readStream(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
