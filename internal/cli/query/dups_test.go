package query

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// TestQueryDuplicatesOnce: exact duplicate lines (a file concatenated
// twice, shuffled) are printed and counted once, as Loki stores them:
// log and metric queries answer as on the file alone, the exit status is
// unchanged and stderr says how many copies there were. Lines that differ
// in one byte are both kept.
func TestQueryDuplicatesOnce(t *testing.T) {
	sample, lines := sampleLines(t)
	copied := slices.Clone(lines)
	rand.New(rand.NewPCG(7, 8)).Shuffle(len(copied), func(i, j int) { copied[i], copied[j] = copied[j], copied[i] })
	doubled := filepath.Join(t.TempDir(), "doubled.log")
	if err := os.WriteFile(doubled, []byte(strings.Join(append(slices.Clone(lines), copied...), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sorted := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		slices.Sort(l)
		return l
	}
	for _, q := range []string{
		`{job="audit"} | json | verb="delete"`,
		`{job="audit"} |= "secrets" | json | verb=~"get|list"`,
	} {
		_, want, _ := queryCLI(t, "-o", "raw", q, sample)
		code, got, errOut := queryCLI(t, "-o", "raw", q, doubled)
		if code != 0 || !slices.Equal(sorted(got), sorted(want)) {
			t.Fatalf("%s: exit %d, %d lines, want the %d of the file alone (%s)", q, code, len(sorted(got)), len(sorted(want)), errOut)
		}
		if n := len(sorted(want)); !strings.Contains(errOut, strconv.Itoa(n)+" of the matching lines were duplicates (identical to one read before) and counted once") {
			t.Fatalf("%s: stderr %q", q, errOut)
		}
	}
	for _, args := range [][]string{
		{`sum by (user_username) (count_over_time({job="audit"} | json | verb=~"create|delete" [1h]))`},
		{"--step", "10m", `sum(count_over_time({job="audit"} | json [10m]))`},
		{`topk(3, sum by (objectRef_resource) (bytes_over_time({job="audit"} [2h])))`},
	} {
		_, want, _ := queryCLI(t, append(append([]string{}, args...), sample)...)
		code, got, errOut := queryCLI(t, append(append([]string{}, args...), doubled)...)
		if code != 0 || got != want {
			t.Fatalf("%v: exit %d (%s)\n%s\nwant\n%s", args, code, errOut, got, want)
		}
	}

	// One byte different: not a copy.
	near := filepath.Join(t.TempDir(), "near.log")
	other := strings.Replace(lines[0], `"verb":"`, `"verb":"x`, 1)
	if err := os.WriteFile(near, []byte(lines[0]+"\n"+other+"\n"+lines[0]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, got, errOut := queryCLI(t, "-o", "raw", `{job="audit"}`, near); code != 0 || len(sorted(got)) != 2 || !strings.Contains(errOut, "1 of the matching lines were duplicates (identical to one read before)") {
		t.Fatalf("near copies: exit %d, %q, %q", code, got, errOut)
	}
}

// TestQueryDuplicatesSayWhatTheyCount: the real data given twice. A query
// checks only its matches for copies, so the count it prints depends on
// the query; the message says it counts matching lines (not the input's
// copies: every one of its lines is one), for log and metric queries.
func TestQueryDuplicatesSayWhatTheyCount(t *testing.T) {
	var all []byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	twice := filepath.Join(t.TempDir(), "twice.jsonl")
	if err := os.WriteFile(twice, append(append([]byte(nil), all...), all...), 0o644); err != nil {
		t.Fatal(err)
	}
	q := `{job="audit"} | json | verb="get"`
	code, out, errOut := queryCLI(t, "-o", "raw", q, twice)
	n := strings.Count(out, "\n")
	if code != 0 || n == 0 || n >= strings.Count(string(all), "\n") {
		t.Fatalf("exit %d, %d lines (%s)", code, n, errOut)
	}
	want := "audittui: " + strconv.Itoa(n) + " of the matching lines were duplicates (identical to one read before) and counted once\n"
	// (The real logs have events with another's auditID, stage and time
	// too: audit2rbac's v1beta1 and v1 logs; a note says so.)
	if !strings.HasSuffix(errOut, want) || strings.Count(errOut, "were duplicates") != 1 {
		t.Fatalf("stderr %q, want %q", errOut, want)
	}
	// A metric query counts the dated matches (the undated are left out,
	// and said so): its duplicates are those.
	_, out, errOut = queryCLI(t, `sum(count_over_time(`+q+` [100000h]))`, twice)
	m := strings.TrimSpace(strings.TrimPrefix(out, "VALUE\n"))
	if _, err := strconv.Atoi(m); err != nil || m == "0" {
		t.Fatalf("metric: %q", out)
	}
	if !strings.Contains(errOut, "audittui: "+m+" of the matching lines were duplicates (identical to one read before) and counted once\n") {
		t.Fatalf("metric: stderr %q", errOut)
	}
}

// TestQuerySaysWhenNotInTimeOrder: lines are printed as read; when the
// input is not in time order (two nodes' logs one after the other), stderr
// says so once, naming the first line out of order, and the exit status
// is unchanged. A sorted input says nothing.
func TestQuerySaysWhenNotInTimeOrder(t *testing.T) {
	sample, lines := sampleLines(t)
	half := len(lines) / 2
	swapped := filepath.Join(t.TempDir(), "nodes.log")
	if err := os.WriteFile(swapped, []byte(strings.Join(append(slices.Clone(lines[half:]), lines[:half]...), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := `{job="audit"} | json | verb="delete"`
	if code, _, errOut := queryCLI(t, "-o", "raw", q, sample); code != 0 || strings.Contains(errOut, "time order") {
		t.Fatalf("sorted: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := queryCLI(t, "-o", "raw", q, swapped)
	if code != 0 || strings.Count(errOut, "the input is not in time order (") != 1 || !strings.Contains(errOut, "nodes.log:") {
		t.Fatalf("swapped halves: exit %d, stderr %q", code, errOut)
	}
	_, want, _ := queryCLI(t, "-o", "raw", q, sample)
	if len(strings.Split(out, "\n")) != len(strings.Split(want, "\n")) {
		t.Fatal("the lines printed differ in number")
	}
	if code, _, errOut := queryCLI(t, "-q", "-o", "raw", q, swapped); code != 0 || errOut != "" {
		t.Fatalf("-q: exit %d, stderr %q", code, errOut)
	}
}

// sampleLines returns the bundled sample's path and its lines.
func sampleLines(t *testing.T) (string, []string) {
	t.Helper()
	sample := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	return sample, strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
}

// realPrettyCopy writes the real audit logs as one file and a `jq .` copy
// of them (pretty-printed, each event over many lines) as another, and
// returns both with the lines.
func realPrettyCopy(t *testing.T) (lines []string, real, pretty string) {
	t.Helper()
	var all, indented bytes.Buffer
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	lines = strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n")
	for _, l := range lines {
		if err := json.Indent(&indented, []byte(l), "", "  "); err != nil {
			t.Fatal(err)
		}
		indented.WriteByte('\n')
	}
	dir := t.TempDir()
	real, pretty = filepath.Join(dir, "audit.log"), filepath.Join(dir, "evidence-export.json")
	os.WriteFile(real, all.Bytes(), 0o644)
	os.WriteFile(pretty, indented.Bytes(), 0o644)
	return lines, real, pretty
}

// TestQueryPrettyCopyOnce: a `jq .` export of the real logs beside them is
// a copy of every event: its compacted bytes are the lines (-o raw prints
// them identically). Log and metric queries answer as over the logs alone,
// in either order, and stderr counts the copies. Events the export holds
// edited (here the requestURI) are other lines, kept as in Loki, and
// stderr says how many share an auditID, stage and time with another.
func TestQueryPrettyCopyOnce(t *testing.T) {
	lines, real, pretty := realPrettyCopy(t)
	sorted := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		slices.Sort(l)
		return l
	}
	q := `{job="audit"} | json`
	_, want, _ := queryCLI(t, "-o", "raw", q, real)
	metric := `sum(count_over_time({job="audit"} | json [1000000h]))`
	_, wantM, _ := queryCLI(t, metric, real)
	for _, args := range [][]string{{real, pretty}, {pretty, real}} {
		code, got, errOut := queryCLI(t, append([]string{"-o", "raw", q}, args...)...)
		if code != cmdutil.ExitOK || !slices.Equal(sorted(got), sorted(want)) || len(sorted(got)) != len(lines) {
			t.Fatalf("%v: exit %d, %d lines, want the %d of the logs alone (%s)", args, code, len(sorted(got)), len(lines), errOut)
		}
		if !strings.Contains(errOut, "audittui: "+strconv.Itoa(len(lines))+" of the matching lines were duplicates") {
			t.Fatalf("%v: stderr %q", args, errOut)
		}
		if _, got, errOut := queryCLI(t, append([]string{metric}, args...)...); got != wantM {
			t.Fatalf("%v: metric %q, want %q (%s)", args, got, wantM, errOut)
		}
	}

	b, _ := os.ReadFile(pretty)
	rewritten := bytes.ReplaceAll(b, []byte(`"requestURI": "/`), []byte(`"requestURI": "/edited`))
	n := bytes.Count(b, []byte(`"requestURI": "/`))
	os.WriteFile(pretty, rewritten, 0o644)
	_, _, alone := queryCLI(t, "-o", "raw", q, real)
	code, got, errOut := queryCLI(t, "-o", "raw", q, pretty, real)
	if code != cmdutil.ExitOK || len(sorted(got)) != len(lines)+n || !strings.Contains(errOut, "matching events have the auditID, stage and time of another but other bytes") || errOut == alone {
		t.Fatalf("rewritten: exit %d, %d lines (want %d), stderr %q", code, len(sorted(got)), len(lines)+n, errOut)
	}
}

// TestMetricNoMatchReportsInput: a metric query that matches nothing (so
// ends after its first pass, the span of the matches) still says what it
// rejected and the events without a timestamp it left out, and exits 1,
// as one that matches does: the real logs with a cut line at the end.
func TestMetricNoMatchReportsInput(t *testing.T) {
	var all []byte
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(p, append(all, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"cut`+"\n"...), 0o644)
	lines := strings.Count(string(all), "\n") + 1
	for _, q := range []string{
		`sum(count_over_time({job="audit"} | json | verb="nope" [5m]))`,
		`sum(count_over_time({job="audit"} | json [5m]))`,
	} {
		code, _, errOut := queryCLI(t, q, p)
		if code != cmdutil.ExitInputError || !strings.Contains(errOut, "audittui: skipped "+p+":"+strconv.Itoa(lines)+": ") ||
			!strings.Contains(errOut, "audittui: 48 events without a timestamp could not be placed in the time window and were left out (the first: "+p+":") ||
			!strings.HasSuffix(errOut, "audittui: 1 input line rejected (see above)\n") {
			t.Errorf("%s: exit %d, stderr %q", q, code, errOut)
		}
	}
}

// TestQueryJQExportOnce: the sample and every real log given with its
// `jq .` re-export (where jq writes & < > raw for the apiserver's \u0026
// \u003c \u003e: 994 of the sample's events have a requestURI with two
// query parameters), in either order or as one file holding the export
// then the log (`(jq . S; cat S)`, review H finding 10), count exactly as
// the log alone: the same lines printed (as their canonical lines), the
// same metric answers, every event of the export a duplicate, and the
// events said to have other bytes those of the log alone (fixtures that
// share auditIDs).
func TestQueryJQExportOnce(t *testing.T) {
	testutil.Tool(t, "jq", "jq")
	files := []string{filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}
	files = append(files, testutil.RealAuditFiles(t)...)
	canon := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		for i := range l {
			l[i] = string(data.RawDupLine([]byte(l[i])))
		}
		slices.Sort(l)
		return l
	}
	q := `{job="audit"} | json`
	metrics := []string{
		`sum(count_over_time({job="audit"} | json [1000000h]))`,
		`sum by (user_username) (count_over_time({job="audit"} | json | responseStatus_code >= 400 [3h]))`,
	}
	for _, f := range files {
		export, err := exec.Command("jq", ".", f).Output()
		if err != nil {
			t.Fatalf("jq . %s: %v", f, err)
		}
		log, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		real, pretty, both := filepath.Join(dir, "audit.log"), filepath.Join(dir, "export.json"), filepath.Join(dir, "both.log")
		os.WriteFile(real, log, 0o644)
		os.WriteFile(pretty, export, 0o644)
		os.WriteFile(both, append(export, log...), 0o644)
		n := strings.Count(string(log), "\n")
		_, want, errAlone := queryCLI(t, "-o", "raw", q, real)
		others := regexp.MustCompile(`\d+ matching events? (?:has|have) the auditID, stage and time of another`)
		var wantM []string
		for _, m := range metrics {
			_, got, _ := queryCLI(t, m, real)
			wantM = append(wantM, got)
		}
		for _, args := range [][]string{{real, pretty}, {pretty, real}, {both}} {
			code, got, errOut := queryCLI(t, append([]string{"-o", "raw", q}, args...)...)
			if code != cmdutil.ExitOK || !slices.Equal(canon(got), canon(want)) || len(canon(got)) != n {
				t.Errorf("%s %v: exit %d, %d lines, want the %d of the log alone (%s)", filepath.Base(f), args, code, len(canon(got)), n, errOut)
			}
			if !strings.Contains(errOut, "audittui: "+strconv.Itoa(n)+" of the matching lines were duplicates") || others.FindString(errOut) != others.FindString(errAlone) {
				t.Errorf("%s %v: stderr %q", filepath.Base(f), args, errOut)
			}
			for i, m := range metrics {
				if _, got, errOut := queryCLI(t, append([]string{m}, args...)...); got != wantM[i] {
					t.Errorf("%s %v: %s\n%s\nwant\n%s(%s)", filepath.Base(f), args, m, got, wantM[i], errOut)
				}
			}
		}
	}
}

// TestQueryGKEExportsOnce: the bucket's sink export and gcloud's output of
// the same GKE entries, read together in either order, answer as the
// sink alone: the same 7 events (each once, its sink or its gcloud copy),
// the same metric, the copies said (evidence-review: 14 events, "7
// matching events have the auditID, stage and time of another but other
// bytes").
func TestQueryGKEExportsOnce(t *testing.T) {
	shapes := filepath.Join(testutil.RepoRoot(), "testdata", "shapes")
	sink, gcloud := filepath.Join(shapes, "gke-sink.jsonl"), filepath.Join(shapes, "gke-gcloud.json")
	q := `{job="audit"} | json | line_format "{{.auditID}} {{.verb}} {{.user_username}}"`
	_, want, _ := queryCLI(t, "-o", "raw", q, sink)
	metric := `sum by (verb) (count_over_time({job="audit"} | json [1000000h]))`
	_, wantM, _ := queryCLI(t, metric, sink)
	sorted := func(s string) []string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		slices.Sort(l)
		return l
	}
	if len(sorted(want)) != 7 {
		t.Fatalf("the sink alone: %q", want)
	}
	for _, args := range [][]string{{sink, gcloud}, {gcloud, sink}} {
		_, got, errOut := queryCLI(t, append([]string{"-o", "raw", q}, args...)...)
		if !slices.Equal(sorted(got), sorted(want)) || !strings.Contains(errOut, "audittui: 7 of the matching lines were duplicates") || strings.Contains(errOut, "other bytes") {
			t.Errorf("%v: %q, want %q; stderr %s", args, got, want, errOut)
		}
		if _, got, errOut := queryCLI(t, append([]string{metric}, args...)...); got != wantM {
			t.Errorf("%v: metric %q, want %q (%s)", args, got, wantM, errOut)
		}
	}
}
