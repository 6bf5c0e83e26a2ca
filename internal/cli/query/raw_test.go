package query

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/cli/cmdutil"
)

// TestRawOneLinePerEvent: -o raw prints one line per event even when the
// event spans lines in its file (pretty JSON, an array's elements): the
// whitespace between tokens is removed and nothing else, so each line is
// the element's JSON, and a one-line event is printed byte for byte.
func TestRawOneLinePerEvent(t *testing.T) {
	shapes := filepath.Join("..", "..", "..", "testdata", "shapes")
	for _, name := range []string{"array.json", "pretty.json", "eventlist-pretty.json", "plain.jsonl"} {
		f := filepath.Join(shapes, name)
		code, jl, errOut := queryCLI(t, "-o", "jsonl", "-q", `{job="audit"}`, f)
		if code != cmdutil.ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		code, raw, errOut := queryCLI(t, "-o", "raw", "-q", `{job="audit"}`, f)
		if code != cmdutil.ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		events := strings.Count(jl, "\n")
		lines := strings.Split(strings.TrimSuffix(raw, "\n"), "\n")
		if len(lines) != events || events == 0 {
			t.Fatalf("%s: %d raw lines for %d events", name, len(lines), events)
		}
		for _, l := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%s: a raw line is not JSON: %v: %.80s", name, err, l)
			}
		}
		if name == "plain.jsonl" {
			// Byte for byte: the lines of the file, in its order.
			if want := readLines(t, f); raw != want {
				t.Errorf("plain.jsonl: -o raw is not the file's bytes")
			}
		}
	}
}

func readLines(t *testing.T, f string) string {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	return string(b)
}

// TestRawPrintsFormattedLines: with line_format in the query, the default
// output prints the lines as it formats them (as logcli does), not the
// events' bytes.
func TestRawPrintsFormattedLines(t *testing.T) {
	f := filepath.Join("..", "..", "..", "testdata", "shapes", "plain.jsonl")
	code, out, errOut := queryCLI(t, "-q", `{job="audit"} | json | line_format "{{.verb}} {{.user_username}}"`, f)
	if code != cmdutil.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 16 || strings.HasPrefix(lines[0], "{") || len(strings.Fields(lines[0])) != 2 {
		t.Fatalf("%d lines, first %q", len(lines), lines[0])
	}
}
