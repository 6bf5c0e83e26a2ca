package cmdutil

import (
	"strings"
	"testing"
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
