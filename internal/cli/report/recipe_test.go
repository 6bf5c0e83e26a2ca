package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/testutil"
)

// readmeRecipe returns the shell recipe the README gives after intro, in
// backquotes (its line breaks read as spaces).
func readmeRecipe(t *testing.T, intro string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(b)), " ")
	m := regexp.MustCompile(regexp.QuoteMeta(intro) + " `([^`]+)`").FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("README has no recipe after %q", intro)
	}
	return m[1]
}

// TestReadmeRecipesOnCRLF: the README's recipes, run by the shell on the
// citations and lengths the report prints, give the sha256 it prints, for
// a file with CRLF line endings (review F finding 15: the one-line recipe
// kept the \r, which is not part of the event's bytes), its .gz, and a
// pretty-printed CRLF file whose events span lines. The logs are CRLF
// copies of real ones.
func TestReadmeRecipesOnCRLF(t *testing.T) {
	for _, tool := range []string{"bash", "sed", "tr", "tail", "head", "sha256sum", "zcat"} {
		testutil.Tool(t, tool, map[bool]string{true: "gzip", false: "coreutils"}[tool == "zcat"])
	}
	oneLine := readmeRecipe(t, "For a line holding one event,")
	anyEvent := readmeRecipe(t, "For any event, with LEN the length Detail shows,")
	if !strings.Contains(oneLine, "137") || !strings.Contains(oneLine, "FILE") || !strings.Contains(anyEvent, "LINE") || !strings.Contains(anyEvent, "LEN") {
		t.Fatalf("recipes %q and %q", oneLine, anyEvent)
	}

	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	plain, gz, pretty := filepath.Join(dir, "crlf.jsonl"), filepath.Join(dir, "crlf-gz.jsonl.gz"), filepath.Join(dir, "pretty.json")
	os.WriteFile(plain, crlf, 0o644)
	demo, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "audit2rbac-demo-v1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(bytes.ReplaceAll(demo, []byte("\n"), []byte("\r\n")))
	zw.Close()
	os.WriteFile(gz, zb.Bytes(), 0o644)
	var pb bytes.Buffer
	for _, l := range bytes.SplitN(b, []byte("\n"), 12)[8:11] { // other events than crlf.jsonl's 2 and 3
		json.Indent(&pb, l, "", "  ")
		pb.WriteString("\n")
	}
	os.WriteFile(pretty, bytes.ReplaceAll(pb.Bytes(), []byte("\n"), []byte("\r\n")), 0o644)

	paths := []string{plain, gz, pretty}
	var refs []casefile.EventRef
	for _, p := range paths {
		src, err := file.New(p, file.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		got := pickEvents(t, src, data.ReadOptions{}, func(e *data.Event) bool { n++; return n == 2 || n == 3 })
		if len(got) != 2 {
			t.Fatalf("%s: %d events", p, len(got))
		}
		refs = append(refs, got...)
	}
	c, err := casefile.Open(filepath.Join(dir, "case"))
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, casefile.Record{Kind: casefile.KindOpen, Sources: paths})
	for k := range refs {
		add(t, c, casefile.Record{Kind: casefile.KindBookmark, Event: &refs[k]})
	}
	code, md, errOut := reportCmd(t, "--no-alerts", c.Dir())
	if code != 0 {
		t.Fatalf("exit %d %s\n%s", code, errOut, md)
	}
	ms := mdCitation.FindAllStringSubmatch(md, -1)
	if len(ms) != len(refs) {
		t.Fatalf("%d citations, want %d:\n%s", len(ms), len(refs), md)
	}
	sh := func(cmd string) string {
		t.Helper()
		out, err := exec.Command("bash", "-c", cmd).Output() // head ends the pipe early: no pipefail
		if f := strings.Fields(string(out)); err == nil && len(f) == 2 && len(f[0]) == 64 {
			return f[0]
		}
		t.Fatalf("%s: %v %q", cmd, err, out)
		return ""
	}
	q := func(s string) string { return "'" + s + "'" }
	oneLines := 0
	for _, m := range ms {
		cite, sum, length := m[1], m[2], m[3]
		path, rest := "", ""
		for _, p := range paths {
			if r, ok := strings.CutPrefix(cite, p+":"); ok {
				path, rest = p, r
			}
		}
		lc := strings.Split(rest, ":")
		n := strings.TrimSuffix(length, " bytes")
		if path == "" || len(lc) != 1 {
			t.Fatalf("citation %q (COL not expected here)", cite)
		}
		// The README: "zcat a .gz first".
		read := func(recipe string) string {
			if path == gz {
				return "zcat " + q(path) + " | " + strings.Replace(recipe, " FILE", "", 1)
			}
			return strings.Replace(recipe, "FILE", q(path), 1)
		}
		r := strings.NewReplacer("LINE", lc[0], "COL", "1", "LEN", n).Replace(read(anyEvent))
		if got := sh(r); got != sum {
			t.Errorf("%s: %s gives %s, the report says %s", cite, r, got, sum)
		}
		if path != pretty {
			oneLines++
			// The example's line number, not digits of the temporary
			// directory's name (TestReadme...2887878137/ once did).
			r := read(strings.Replace(oneLine, "137", lc[0], 1))
			if got := sh(r); got != sum {
				t.Errorf("%s: %s gives %s, the report says %s", cite, r, got, sum)
			}
		}
		if _, err := strconv.Atoi(n); err != nil {
			t.Errorf("%s: length %q", cite, length)
		}
	}
	if oneLines != 4 {
		t.Errorf("%d events on one line checked, want 4", oneLines)
	}
}
