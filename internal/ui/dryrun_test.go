package ui

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// dryRunFixture is review I's reproduction: lines 1, 2 and 4 are dry
// runs, line 3 a Metadata-level delete that only asks for one.
const dryRunFixture = "../../testdata/dryrun/dryrun.log"

// TestTailMarksDryRuns: at 80 and 120 columns, and 60 (the short mark),
// the Tail's rows of the three dry runs, and only those, say so before
// the object; the verb is not coloured as a change.
func TestTailMarksDryRuns(t *testing.T) {
	for _, w := range []int{60, 80, 120} {
		a := newTestAppFile(t, dryRunFixture, w, 24)
		var marked []string
		for _, l := range strings.Split(screen(a), "\n") {
			if !strings.Contains(l, "rp.example") {
				continue
			}
			if strings.Contains(l, " dry run ") || w < 80 && strings.Contains(l, " dry ") {
				marked = append(marked, l)
			}
		}
		if len(marked) != 3 {
			t.Errorf("%d columns: %d rows marked, want the 3 dry runs:\n%s", w, len(marked), screen(a))
		}
		for _, l := range marked {
			if strings.Contains(l, "erin") {
				t.Errorf("%d columns: a real change marked a dry run: %s", w, l)
			}
		}
	}
	s := loadIndex(t, dryRunFixture).Snapshot()
	var got []bool
	for i := 0; i < s.Len(); i++ {
		got = append(got, s.DryRun(i))
	}
	if want := []bool{true, true, false, true, false, false}; !slices.Equal(got, want) {
		t.Errorf("Snapshot.DryRun = %v, want %v", got, want)
	}
	st := NewStyles(DefaultPalette(), false)
	l := newRowLayout(100, 20, newTimeFormat(s.MinTime, s.MaxTime, nil))
	if r := renderRow(st, s, 0, l, false); !strings.Contains(r, st.DryRun.Render(dryRunMark)) || strings.Contains(r, st.VerbWrite.Render("create")) {
		t.Errorf("dry-run row not styled as one: %q", r)
	}
}

// TestDetailSaysDryRun: Detail of a dry run says it was not persisted; of
// the Metadata-level delete that only asks for one, that it may have
// deleted the object; of a real change, nothing about dry runs.
func TestDetailSaysDryRun(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{`verb="patch" | user_username="dave@corp.example"`, "dry run   not persisted: a server-side dry run"},
		{`verb="delete" | level="Metadata"`, "dry run?  the URI asks for one"},
		{`verb="create" | user_username="erin@corp.example"`, ""},
	} {
		a := newTestAppFile(t, dryRunFixture, 100, 40)
		openEvent(t, a, c.q)
		text := strings.Join(a.detail.plain, "\n")
		if c.want == "" {
			if strings.Contains(text, "dry run") {
				t.Errorf("%s: a real change's Detail mentions a dry run:\n%s", c.q, text)
			}
			continue
		}
		if !strings.Contains(text, c.want) {
			t.Errorf("%s: Detail lacks %q:\n%s", c.q, c.want, text)
		}
	}
}

// TestDryRunThreeWays: the dryRun field, reached with its stage, selects
// the same events in the TUI's filter (over its index), in `audittui
// query`, and in jq running the definition (data/dryrun.go) on the JSON,
// on the reproduction, the sample, the rule scenarios and the real data;
// and the index's flag says the same.
func TestDryRunThreeWays(t *testing.T) {
	jq := testutil.Tool(t, "jq", "jq")
	files := []string{
		dryRunFixture,
		filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"),
		filepath.Join(testutil.RepoRoot(), "internal", "policy", "rules", "testdata", "scenarios", "benign-argocd-server-side-diff.jsonl"),
		filepath.Join(testutil.RepoRoot(), "internal", "policy", "rules", "testdata", "fixtures", "MassDeletion.benign.jsonl"),
	}
	t.Run("realdata", func(t *testing.T) { files = append(files, testutil.RealAuditFiles(t)...) })
	bin := buildAudittui(t)
	q := shorthandSelector + " | " + data.DryRunStage() + ` | dryRun="true"`
	const prog = `def query: (.requestURI // "") | (index("?")) as $i | if $i == null then [] else .[$i+1:] | split("&") end;
		def uriDry: any(query[]; . == "dryRun" or (startswith("dryRun=") and (test("[;%]") | not)));
		def del: .verb == "delete" or .verb == "deletecollection";
		select((.verb | IN("create","update","patch","delete","deletecollection"))
			and ((.objectRef.subresource // "") | IN("exec","attach","portforward","proxy","token") | not)
			and (if del then
				(((.requestObject | objects | .dryRun | arrays | .[0] | strings) // "") != "")
				or (uriDry and ((.requestObject | objects | .kind | strings) // "") == "" and (.level | IN("Request","RequestResponse")))
			else uriDry end))`
	total := 0
	for _, file := range files {
		snap := loadIndex(t, file).Snapshot()
		tui := tuiLines(t, q, snap)
		cli := cliLines(t, bin, q, file)
		cmd := exec.Command(jq, "-R", "-r", `. as $l | fromjson? | `+prog+` | $l`, file)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("jq over %s: %v\n%s", file, err, stderr.Bytes())
		}
		byJQ := sortedLines(out)
		var flagged []string
		for i := 0; i < snap.Len(); i++ {
			if snap.DryRun(i) {
				raw, err := snap.Raw(i)
				if err != nil {
					t.Fatal(err)
				}
				flagged = append(flagged, string(raw))
			}
		}
		sort.Strings(flagged)
		if !slices.Equal(tui, byJQ) || !slices.Equal(cli, byJQ) || !slices.Equal(flagged, byJQ) {
			t.Errorf("%s: dry runs: TUI filter %d, audittui query %d, index flag %d, jq %d", filepath.Base(file), len(tui), len(cli), len(flagged), len(byJQ))
		}
		total += len(byJQ)
	}
	if total < 10 {
		t.Errorf("%d dry runs in all: the comparison proves little", total)
	}
}

// TestDryRunFieldInTheFilterBar: dryRun alone is an error that names the
// stage to add (no event has the label otherwise); tab completes it to
// the stage; with the stage, the filter selects the dry runs.
func TestDryRunFieldInTheFilterBar(t *testing.T) {
	a := newTestAppFile(t, dryRunFixture, 100, 30)
	if _, err := a.compile(`dryRun="true"`); err == nil || !strings.Contains(err.Error(), data.DryRunStage()) || !strings.Contains(err.Error(), "tab completes it") {
		t.Errorf("dryRun without its stage: %v", err)
	}
	found := false
	for _, c := range completionFields() {
		if c.key == "dryRun" {
			found = c.text == data.DryRunStage()+" | dryRun"
		}
	}
	if !found {
		t.Error("dryRun does not complete to its stage")
	}
	f := mustFilter(t, a, data.DryRunStage()+` | dryRun="true"`)
	rows, err := f.Eval(context.Background(), a.c.Snap, 0, nil)
	if err != nil || len(rows) != 3 {
		t.Errorf("the dry runs: %d rows, %v", len(rows), err)
	}
}
