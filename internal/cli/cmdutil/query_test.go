package cmdutil

import (
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

// TestFieldWarnings: the CLI names the field meant as the TUI's filter
// bar does (the same cases as ui's TestUnknownFieldDidYouMean), and is
// quiet on fields, family names, stream labels and names the query binds.
func TestFieldWarnings(t *testing.T) {
	for typed, meant := range map[string]string{
		`objectRef_resorce="pods"`:                           "objectRef_resorce, did you mean objectRef_resource?",
		`user_usernme="bob"`:                                 "user_usernme, did you mean user_username?",
		`verb="get" | objectref_namespace="payments"`:        "objectref_namespace, did you mean objectRef_namespace?",
		`responseStatus_cdoe >= 400`:                         "responseStatus_cdoe, did you mean responseStatus_code?",
		`requestObjct_spec_replicas > 3`:                     "requestObjct_spec_replicas, did you mean requestObject_spec_replicas?",
		`objectRef_resource="pods" | verb="x" | nonsense=""`: "",
	} {
		expr, err := ParseQuery(`{job="audit"} | json | ` + typed)
		if err != nil {
			t.Fatal(err)
		}
		w, n := FieldWarnings(expr)
		switch {
		case meant == "" && (len(w) != 0 || len(n) != 1 || n[0] != "nonsense is not a known field: only events that have it can match"):
			t.Errorf("%s: warnings %q, notes %q", typed, w, n)
		case meant != "" && (len(w) != 1 || !strings.HasPrefix(w[0], "unknown field "+meant+" (") || len(n) != 0):
			t.Errorf("%s: warnings %q, notes %q", typed, w, n)
		}
	}
	for _, q := range []string{
		`{job="audit"} | json | objectRef_resource="pods" | filename=~".+" | cluster="" | job="audit"`,
		`sum by (user_username) (count_over_time({job="audit"} | json | requestObject_spec_replicas > 3 [1h]))`,
		`{job="audit"} | json ip="sourceIPs[0]" | ip="10.0.0.5" | __error__=""`,
	} {
		expr, err := ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if w, n := FieldWarnings(expr); len(w)+len(n) != 0 {
			t.Errorf("%s: warnings %q, notes %q", q, w, n)
		}
	}
}

// TestParseQueryShorthand: what the TUI's filter line shows of a query
// typed there (no stream selector) is read as the TUI reads it; queries
// that start with a selector or a function are LogQL as they stand; an
// error in the shorthand points into the text typed and says how it was
// read.
func TestParseQueryShorthand(t *testing.T) {
	for typed, full := range map[string]string{
		`objectRef_resource="rolebindings" | verb="delete"`: `{job="audit"} | json | objectRef_resource="rolebindings" | verb="delete"`,
		`  user_username="alice"`:                           `{job="audit"} | json | user_username="alice"`,
		`| verb="delete"`:                                   `{job="audit"} | json | verb="delete"`,
		`|= "secrets" | verb=~"get|list"`:                   `{job="audit"} | json |= "secrets" | verb=~"get|list"`,
		`!= "kube-system"`:                                  `{job="audit"} | json != "kube-system"`,
		`{job="audit"} |= "x"`:                              `{job="audit"} |= "x"`,
		`sum(count_over_time({job="audit"} | json [5m]))`:   `sum(count_over_time({job="audit"} | json [5m]))`,
	} {
		got, err := ParseQuery(typed)
		if err != nil {
			t.Fatalf("%s: %v", typed, err)
		}
		want, err := ParseQuery(full)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: read as %s, want %s", typed, got, want)
		}
	}
	_, err := ParseQuery(`objectRef_resource="x" | verb=`)
	want := "query: line 1, col 31: expected a quoted string or a number after verb=, found end of query (read as the TUI's filter line reads it: {job=\"audit\"} | json | ...; a query of your own starts with a stream selector such as {job=\"audit\"})\n  objectRef_resource=\"x\" | verb=\n                                ^"
	if err == nil || err.Error() != want {
		t.Errorf("shorthand error:\n%v\nwant\n%s", err, want)
	}
	// A metric query's error is the metric query's, with its grouping
	// before the parenthesis too (sum by (verb) (...) was read as a
	// filter line: "expected a comparison operator after sum").
	if _, err := ParseQuery(`sum(count_over_time({job="audit"} | json [5m])`); err == nil || strings.Contains(err.Error(), "filter line") || !strings.Contains(err.Error(), `expected ")"`) {
		t.Errorf("metric error: %v", err)
	}
	for _, q := range []string{
		`sum by (verb)(count_over_time({job="audit"}|json[1h])) / ignoring(verb) group_left sum(count_over_time({job="audit"}|json[1h]))`,
		`sum without (verb) (count_over_time({job="audit"}|json[1h])) / on() group_left sum(count_over_time({job="audit"}|json[1h]))`,
	} {
		if _, err := ParseQuery(q); err == nil || strings.Contains(err.Error(), "filter line") || !strings.Contains(err.Error(), "group_left (many-to-one matching) is not supported") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// TestFieldWarningsDryRun: the derived dryRun field read without its
// stage is a warning naming the stage; with it, nothing is said.
func TestFieldWarningsDryRun(t *testing.T) {
	expr, err := ParseQuery(`{job="audit"} | json | dryRun="true"`)
	if err != nil {
		t.Fatal(err)
	}
	if w, n := FieldWarnings(expr); len(w) != 1 || !strings.Contains(w[0], data.DryRunStage()) || len(n) != 0 {
		t.Errorf("warnings %q, notes %q", w, n)
	}
	expr, err = ParseQuery(`{job="audit"} | json | ` + data.DryRunStage() + ` | dryRun="true"`)
	if err != nil {
		t.Fatal(err)
	}
	if w, n := FieldWarnings(expr); len(w)+len(n) != 0 {
		t.Errorf("with the stage: warnings %q, notes %q", w, n)
	}
}
