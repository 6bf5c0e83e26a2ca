package ui

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// opEvent is what the oracle below reads from a line, with encoding/json:
// independent of the decoder, the index and the LogQL evaluator.
type opEvent struct {
	raw   string
	Level string `json:"level"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef struct {
		Namespace   string `json:"namespace"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code *float64 `json:"code"`
	} `json:"responseStatus"`
}

// code applies cmp to the status code; an event without one never
// matches a numeric filter (Loki drops a line without the label).
func (e *opEvent) code(cmp func(c float64) bool) bool {
	return e.ResponseStatus.Code != nil && cmp(*e.ResponseStatus.Code)
}

// operatorCases: every operator of the filter bar, on an indexed column
// (evaluated on the index), on a field the index does not keep (evaluated
// on the raw event) and on the line, each with the plain-Go predicate the
// TUI must agree with. Cases of one group use the same field and value
// with different operators, and must select different rows: an operator
// that behaves like its neighbour (!= like =, >= like >) changes the rows.
var operatorCases = []struct {
	group, query string
	want         func(e *opEvent) bool
}{
	{"verb", `verb="get"`, func(e *opEvent) bool { return e.Verb == "get" }},
	{"verb", `verb!="get"`, func(e *opEvent) bool { return e.Verb != "get" }},
	{"verb", `verb=~"get|list"`, func(e *opEvent) bool { return e.Verb == "get" || e.Verb == "list" }},
	{"verb", `verb!~"get|list"`, func(e *opEvent) bool { return e.Verb != "get" && e.Verb != "list" }},
	{"verb", `verb=~"ge"`, func(e *opEvent) bool { return false }}, // anchored
	{"namespace", `objectRef_namespace=""`, func(e *opEvent) bool { return e.ObjectRef.Namespace == "" }},
	{"namespace", `objectRef_namespace!=""`, func(e *opEvent) bool { return e.ObjectRef.Namespace != "" }},
	{"namespace", `objectRef_namespace=~"kube-.*"`, func(e *opEvent) bool { return strings.HasPrefix(e.ObjectRef.Namespace, "kube-") }},
	{"namespace", `objectRef_namespace!~"kube-.*"`, func(e *opEvent) bool { return !strings.HasPrefix(e.ObjectRef.Namespace, "kube-") }},
	{"user", `user_username=~"system:serviceaccount:.*"`, func(e *opEvent) bool { return strings.HasPrefix(e.User.Username, "system:serviceaccount:") }},
	{"user", `user_username!~"system:.*"`, func(e *opEvent) bool { return !strings.HasPrefix(e.User.Username, "system:") }},
	{"code", `responseStatus_code == 403`, func(e *opEvent) bool { return e.code(func(c float64) bool { return c == 403 }) }},
	{"code", `responseStatus_code != 403`, func(e *opEvent) bool { return e.code(func(c float64) bool { return c != 403 }) }},
	{"code", `responseStatus_code > 403`, func(e *opEvent) bool { return e.code(func(c float64) bool { return c > 403 }) }},
	{"code", `responseStatus_code >= 403`, func(e *opEvent) bool { return e.code(func(c float64) bool { return c >= 403 }) }},
	{"code", `responseStatus_code < 403`, func(e *opEvent) bool { return e.code(func(c float64) bool { return c < 403 }) }},
	{"code", `responseStatus_code <= 403`, func(e *opEvent) bool { return e.code(func(c float64) bool { return c <= 403 }) }},
	{"code range", `responseStatus_code >= 401 | responseStatus_code < 500`, func(e *opEvent) bool {
		return e.code(func(c float64) bool { return c >= 401 && c < 500 })
	}},
	{"code range", `responseStatus_code > 401 | responseStatus_code <= 500`, func(e *opEvent) bool {
		return e.code(func(c float64) bool { return c > 401 && c <= 500 })
	}},
	// level is not an index column: these run on the raw event.
	{"level", `level="Request"`, func(e *opEvent) bool { return e.Level == "Request" }},
	{"level", `level!="Request"`, func(e *opEvent) bool { return e.Level != "Request" }},
	{"level", `level=~"Request.*"`, func(e *opEvent) bool { return strings.HasPrefix(e.Level, "Request") }},
	{"level", `level!~"Request.*"`, func(e *opEvent) bool { return !strings.HasPrefix(e.Level, "Request") }},
	// Line filters.
	{"line", `|= "kube-system"`, func(e *opEvent) bool { return strings.Contains(e.raw, "kube-system") }},
	{"line", `!= "kube-system"`, func(e *opEvent) bool { return !strings.Contains(e.raw, "kube-system") }},
	{"line", `|~ "exec|attach"`, func(e *opEvent) bool { return regexp.MustCompile("exec|attach").MatchString(e.raw) }},
	{"line", `!~ "exec|attach"`, func(e *opEvent) bool { return !regexp.MustCompile("exec|attach").MatchString(e.raw) }},
	// and / or.
	{"bool", `verb="get" and responseStatus_code >= 400`, func(e *opEvent) bool {
		return e.Verb == "get" && e.code(func(c float64) bool { return c >= 400 })
	}},
	{"bool", `verb="get" or responseStatus_code >= 400`, func(e *opEvent) bool {
		return e.Verb == "get" || e.code(func(c float64) bool { return c >= 400 })
	}},
}

// TestFilterOperators: the filter bar's result (the rows the TUI shows)
// for every operator equals the plain-Go predicate on the bundled sample,
// and so does its negation (/!).
func TestFilterOperators(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	snap := loadIndex(t, path).Snapshot()
	evs := make([]opEvent, snap.Len())
	for i := range evs {
		raw, err := snap.Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &evs[i]); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		evs[i].raw = string(raw)
	}
	byGroup := map[string][][]uint32{}
	for _, c := range operatorCases {
		var want []uint32
		for i := range evs {
			if c.want(&evs[i]) {
				want = append(want, uint32(i))
			}
		}
		if c.query != `verb=~"ge"` && (len(want) == 0 || len(want) == len(evs)) {
			t.Errorf("%s: the oracle selects %d of %d rows: the case cannot tell operators apart", c.query, len(want), len(evs))
		}
		for _, prev := range byGroup[c.group] {
			if slices.Equal(prev, want) {
				t.Errorf("%s: selects the same rows as another case of group %s: the case cannot tell operators apart", c.query, c.group)
			}
		}
		byGroup[c.group] = append(byGroup[c.group], want)
		for _, negate := range []bool{false, true} {
			f, err := CompileLogQL(c.query)
			if err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			f.Negate = negate
			got, err := f.Eval(context.Background(), snap, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			exp := want
			if negate {
				exp = complement(want, len(evs))
			}
			if !slices.Equal(got, exp) {
				t.Errorf("filter %s (negated %v): %d rows, want %d; first difference at row %d", c.query, negate, len(got), len(exp), firstDiff(got, exp))
			}
			// A second run answers from the memo: the same rows.
			again, err := f.Eval(context.Background(), snap, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again, got) {
				t.Errorf("filter %s (negated %v): a second evaluation gives %d rows, the first %d", c.query, negate, len(again), len(got))
			}
		}
	}
}

func complement(rows []uint32, n int) []uint32 {
	var out []uint32
	k := 0
	for i := 0; i < n; i++ {
		if k < len(rows) && rows[k] == uint32(i) {
			k++
			continue
		}
		out = append(out, uint32(i))
	}
	return out
}

func firstDiff(a, b []uint32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int(min(a[i], b[i]))
		}
	}
	if len(a) > len(b) {
		return int(a[len(b)])
	}
	if len(b) > len(a) {
		return int(b[len(a)])
	}
	return -1
}
