// Command testreport reads `go test -json` on stdin (scripts/test.sh pipes
// the whole suite into it) and prints what a person needs: one line per
// package (ok or FAIL, with its time), the output of every failing test
// and of every build that failed, and, at the end, one line naming every
// skipped test grouped by why it skipped:
//
//	skipped 31 tests: realdata (../shared/realdata absent): TestA/realdata, ...; server (...): ...
//
// Skip messages start with their category (internal/testutil: "realdata:",
// "server:", "tool:"); any other skip is listed under "other" with its
// message, so no skip goes unseen. The exit status is 1 when a test, a
// package or a build failed, 0 otherwise.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string
	FailedBuild string
}

// categories, in the order the summary lists them, with why they skip.
var categories = []struct{ prefix, why string }{
	{"realdata:", "realdata (../shared/realdata absent; AUDITTUI_REALDATA makes it required)"},
	{"server:", "server (test server not running; make test starts them)"},
	{"tool:", "tool (not installed; scripts/deps.sh installs it)"},
}

const module = "github.com/audittui/audittui/"

func main() {
	os.Exit(report(os.Stdin, os.Stdout))
}

func report(in io.Reader, out io.Writer) int {
	type testKey struct{ pkg, test string }
	outputs := map[testKey][]string{}
	buildOut := map[string][]string{}
	skipped := map[string][]string{} // category -> names
	var other []string
	failed := 0
	var failedPkgs []string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(out, sc.Text()) // not test2json: pass it on
			continue
		}
		pkg := strings.TrimPrefix(e.Package, module)
		switch e.Action {
		case "build-output":
			buildOut[e.ImportPath] = append(buildOut[e.ImportPath], e.Output)
		case "build-fail":
			fmt.Fprintf(out, "FAIL build %s\n%s", strings.TrimPrefix(e.ImportPath, module), strings.Join(buildOut[e.ImportPath], ""))
			failed++
		case "output":
			k := testKey{pkg, e.Test}
			outputs[k] = append(outputs[k], e.Output)
		case "skip":
			if e.Test == "" {
				delete(outputs, testKey{pkg, ""})
				continue // a package without tests
			}
			name := e.Test + " (" + pkg + ")"
			cat, msg := classify(outputs[testKey{pkg, e.Test}])
			if cat == "" {
				other = append(other, name+": "+msg)
			} else {
				skipped[cat] = append(skipped[cat], name)
			}
			delete(outputs, testKey{pkg, e.Test})
		case "pass":
			delete(outputs, testKey{pkg, e.Test})
			if e.Test == "" {
				fmt.Fprintf(out, "ok   %s %.1fs\n", pkg, e.Elapsed)
			}
		case "fail":
			if e.Test != "" {
				// A parent's output comes after its subtests'; print each
				// failing test's own lines once.
				fmt.Fprint(out, strings.Join(outputs[testKey{pkg, e.Test}], ""))
				delete(outputs, testKey{pkg, e.Test})
				failed++
				continue
			}
			// The package: what was printed outside any test (a panic, a
			// timeout, TestMain) and the verdict.
			fmt.Fprint(out, strings.Join(outputs[testKey{pkg, ""}], ""))
			delete(outputs, testKey{pkg, ""})
			fmt.Fprintf(out, "FAIL %s %.1fs\n", pkg, e.Elapsed)
			failedPkgs = append(failedPkgs, pkg)
			failed++
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testreport:", err)
		failed++
	}
	n := len(other)
	var parts []string
	for _, c := range categories {
		names := skipped[c.prefix]
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		n += len(names)
		parts = append(parts, fmt.Sprintf("%s: %s", c.why, strings.Join(names, ", ")))
	}
	if len(other) > 0 {
		sort.Strings(other)
		parts = append(parts, "other: "+strings.Join(other, ", "))
	}
	if n == 0 {
		fmt.Fprintln(out, "skipped 0 tests")
	} else {
		fmt.Fprintf(out, "skipped %d tests: %s\n", n, strings.Join(parts, "; "))
	}
	if failed > 0 {
		if len(failedPkgs) > 0 {
			fmt.Fprintf(out, "FAILED: %s\n", strings.Join(failedPkgs, ", "))
		}
		return 1
	}
	return 0
}

// classify returns the category of a skip from the test's output (its
// t.Skip message), or "" and the message.
func classify(lines []string) (string, string) {
	msg := ""
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		// "file_test.go:12: message"
		if i := strings.Index(t, ": "); i > 0 && strings.Contains(t[:i], ".go:") {
			t = t[i+2:]
		}
		msg = t
	}
	for _, c := range categories {
		if strings.HasPrefix(msg, c.prefix) {
			return c.prefix, msg
		}
	}
	if msg == "" {
		msg = "no message"
	}
	return "", msg
}
