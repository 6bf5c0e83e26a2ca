package rules

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// dryRunVariant rewrites each write of a fixture as the same request made
// as a server-side dry run: create, update and patch with ?dryRun=All
// first in the query (kubectl's order); delete and deletecollection as
// the variant says: "body" (kubectl: the option in the DeleteOptions
// body, logged at the Request level), "query" (?dryRun=All and no body,
// at RequestResponse level) or "metadata" (?dryRun=All at the Metadata
// level, where a body would not be logged: no dry run to the decoder).
// Reads and connect requests are left as they are.
func dryRunVariant(t *testing.T, b []byte, deletes string) []byte {
	t.Helper()
	return editLines(t, b, func(i int, ev map[string]any) {
		verb, _ := ev["verb"].(string)
		addQuery := func() {
			uri, _ := ev["requestURI"].(string)
			if p, q, ok := strings.Cut(uri, "?"); ok {
				uri = p + "?dryRun=All&" + q
			} else {
				uri += "?dryRun=All"
			}
			ev["requestURI"] = uri
		}
		switch verb {
		case "create", "update", "patch":
			addQuery()
		case "delete", "deletecollection":
			switch deletes {
			case "body":
				body, _ := ev["requestObject"].(map[string]any)
				if body == nil {
					body = map[string]any{"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/__internal", "propagationPolicy": "Background"}
				}
				body["dryRun"] = []any{"All"}
				ev["requestObject"] = body
				if ev["level"] == "Metadata" {
					ev["level"] = "Request"
				}
			case "query":
				addQuery()
				delete(ev, "requestObject")
				ev["level"] = "RequestResponse"
			case "metadata":
				addQuery()
				delete(ev, "requestObject")
				ev["level"] = "Metadata"
			}
		}
	})
}

// dryRunExempt are the rules about something done that still see dry
// runs, and why.
var dryRunExempt = map[string]string{
	// The reference five are the user's rules as they are (group
	// kubernetes-audit): RBACModification fires on dry runs as it does on
	// refused requests.
	"RBACModification": "reference pipeline",
	// A refused host-level pod is an attempt; a refused dry run of one
	// is the same attempt.
	"HostLevelPodDenied": "refusals are the signal",
}

// TestDryRunsAreNotChanges: every rule that leaves dry runs out
// (${not_dry_run}) stays silent on its fire fixture made a dry run, the
// delete's option in its body or (at Request level and above, no body
// logged) in its query, and still fires when the query names a dry run at
// the Metadata level, which may have been a real delete; every other rule
// fires on the dry-run variant as on the fixture: an exec, attach,
// port-forward, proxy or token request with ?dryRun=All runs all the same.
// A rule about a change that happened (writes that succeeded) leaves dry
// runs out unless dryRunExempt says why not.
func TestDryRunsAreNotChanges(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	left, kept := 0, 0
	for _, r := range set.Rules() {
		t.Run(r.Alert, func(t *testing.T) {
			path := filepath.Join("testdata", "fixtures", r.Alert+".fire.jsonl")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			one := singleRuleSet(r)
			fires := func(b []byte) bool {
				return len(replayEvents(t, one, decodeLines(t, path, b, nil)).Alerts) > 0
			}
			evs := decodeLines(t, path, b, nil)
			writes, deletes, connect := 0, 0, 0
			for _, e := range evs {
				switch e.Verb {
				case "create", "update", "patch", "delete", "deletecollection":
					switch e.Subresource {
					case "exec", "attach", "portforward", "proxy", "token":
						connect++
					default:
						writes++
					}
				}
				if e.Verb == "delete" || e.Verb == "deletecollection" {
					deletes++
				}
			}
			excludes := strings.Contains(r.Source, "${"+notDryRun+"}")
			onlyDry := strings.Contains(r.Source, "${"+onlyDryRun+"}")
			aboutChanges := writes == len(evs) && strings.Contains(r.Expr, "responseStatus_code < 400") && !onlyDry
			if aboutChanges && !excludes && dryRunExempt[r.Alert] == "" {
				t.Errorf("%s is about changes that happened (its fixture is %d successful writes) but does not leave dry runs out (${%s})", r.Alert, writes, notDryRun)
			}
			if excludes && dryRunExempt[r.Alert] != "" {
				t.Errorf("%s is exempt (%s) but leaves dry runs out", r.Alert, dryRunExempt[r.Alert])
			}
			for _, how := range []string{"body", "query", "metadata"} {
				v := dryRunVariant(t, b, how)
				got := fires(v)
				want := !excludes
				if how == "metadata" && deletes > 0 && !want {
					// Deletes that may not have been dry runs count: the
					// rule fires as it does on the fixture's deletes.
					want = fires(deletesOf(t, b))
				}
				if got != want {
					t.Errorf("%s on its fixture as dry runs (deletes: %s): fires %v, want %v", r.Alert, how, got, want)
				}
			}
			if excludes {
				left++
			} else {
				kept++
			}
		})
	}
	if left < 40 || kept < 20 {
		t.Errorf("%d rules leave dry runs out, %d keep them: the pack lost its dry-run filters", left, kept)
	}
}

// TestDryRunFilterMatchesDecoder: over every fixture and scenario event
// and their dry-run variants, ${not_dry_run} keeps exactly the events the
// decoder does not call dry runs, and ${only_dry_run} the others.
func TestDryRunFilterMatchesDecoder(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.jsonl"))
	more, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "*.jsonl"))
	files = append(files, more...)
	not := mustLogQuery(t, `{job="audit"} | json `+data.DryRunFilter(true))
	only := mustLogQuery(t, `{job="audit"} | json `+data.DryRunFilter(false))
	dry, n := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range [][]byte{b, dryRunVariant(t, b, "body"), dryRunVariant(t, b, "query"), dryRunVariant(t, b, "metadata")} {
			for _, e := range decodeLines(t, f, v, nil) {
				n++
				if e.DryRun {
					dry++
				}
				if not.Matches(&e) == e.DryRun || only.Matches(&e) != e.DryRun {
					t.Errorf("%s: DryRun %v, ${not_dry_run} keeps %v, ${only_dry_run} %v: %s", f, e.DryRun, not.Matches(&e), only.Matches(&e), e.EntryLine())
				}
			}
		}
	}
	if dry < 100 || dry == n {
		t.Errorf("%d dry runs in %d events: the comparison proves little", dry, n)
	}
}

func mustLogQuery(t *testing.T, s string) *logql.LogQuery {
	t.Helper()
	q, err := logql.ParseLog(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return q
}

// deletesOf keeps the delete and deletecollection lines of b.
func deletesOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		var ev struct{ Verb string }
		if json.Unmarshal(l, &ev) == nil && (ev.Verb == "delete" || ev.Verb == "deletecollection") {
			out = append(out, l...)
		}
	}
	if len(out) == 0 {
		t.Fatal("no delete in the fixture")
	}
	return out
}
