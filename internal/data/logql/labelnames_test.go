package logql

import (
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"testing"
)

func TestUnboundLabels(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{`{job="audit"} | json | verb="get"`, []string{"verb"}},
		{`{job="audit"} | json | objectRef_resorce="pods" or (verb="get" and responseStatus_code >= 400)`, []string{"objectRef_resorce", "verb", "responseStatus_code"}},
		{`{job="audit"} | json | verb="get" | verb!="list"`, []string{"verb"}},
		// Names the query binds itself are not reported.
		{`{job="audit"} | json ip="sourceIPs[0]" | ip="10.0.0.1"`, nil},
		{`{job="audit"} | json | label_format who=user_username | who="alice"`, []string{"user_username"}},
		{`{job="audit"} | json | label_format who="{{.user_username}}" | who="alice"`, []string{"user_username"}},
		// What templates, renames, drop and keep read is read too.
		{`{job="audit"} | json | line_format "{{.objectRef_resorce}} {{ToUpper .verb}} {{__line__}}"`, []string{"objectRef_resorce", "verb"}},
		{`{job="audit"} | json | label_format who=user_usernme, res="{{.objectRef_resource}}" | line_format "{{.who}} {{.res}}"`, []string{"user_usernme", "objectRef_resource"}},
		{`{job="audit"} | json | drop __error__, __error_details__, user_uid | keep verb`, []string{"user_uid", "verb"}},
		{`{job="audit"} | json | job="audit" | __error__=""`, nil},
		// A name used before the stage that binds it is unbound there.
		{`{job="audit"} | json | ip="x" | json ip="sourceIPs[0]"`, []string{"ip"}},
		{`{job="audit"} | json | cluster_extracted="prod"`, []string{"cluster"}},
		{`{job="audit"} |= "x"`, nil},
	}
	for _, tt := range tests {
		q, err := ParseLog(tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		if got := q.UnboundLabels(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: UnboundLabels = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// TestMetricUnboundLabels: a metric query's unbound names are its log
// query's, then its by and without names that the log query does not
// bind (every aggregation's, in the order they are evaluated).
func TestMetricUnboundLabels(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{`sum by (objectRef_resorce) (count_over_time({job="audit"} | json [1h]))`, []string{"objectRef_resorce"}},
		{`sum without (objectRef_nme) (count_over_time({job="audit"} | json | verb="get" [1h]))`, []string{"verb", "objectRef_nme"}},
		{`topk(3, sum by (user_username, ip) (rate({job="audit"} | json ip="sourceIPs[0]" [5m]))) > 1`, []string{"user_username"}},
		{`count by (job) (count_over_time({job="audit"} | json [1h]))`, nil},
		{`sum by (who) (count_over_time({job="audit"} | json | label_format who=user_username [1h]))`, []string{"user_username"}},
		{`max by (verb) (sum by (verb, user_username) (count_over_time({job="audit"} | json [1h])))`, []string{"verb", "user_username"}},
	}
	for _, tt := range tests {
		q, err := ParseMetric(tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		if got := q.UnboundLabels(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: UnboundLabels = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// FuzzLabelsString: the series key text is what strconv.Quote renders,
// whatever the values hold (quotes, escapes, control bytes, non-ASCII,
// invalid UTF-8).
func FuzzLabelsString(f *testing.F) {
	for _, v := range []string{"", "alice", `say "hi"`, `back\slash`, "tab\there", "\x7f", "é", "\xff\xfe", "sa:kube-system:x"} {
		f.Add("user_username", v, "verb", "get")
	}
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		ls := Labels{{n1, v1}, {n2, v2}}
		want := "{" + n1 + "=" + strconv.Quote(v1) + ", " + n2 + "=" + strconv.Quote(v2) + "}"
		if got := ls.String(); got != want {
			t.Fatalf("String() = %s, want %s", got, want)
		}
		if got := (Labels{}).String(); got != "{}" {
			t.Fatalf("empty: %s", got)
		}
	})
}

// TestSortDedupLabels: labels sorted by name, stable, the first of each
// name kept, for the short lists of a by clause (insertion sort) and long
// ones alike, as sort.SliceStable orders them.
func TestSortDedupLabels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		for range 50 {
			ls := make(Labels, n)
			for i := range ls {
				ls[i] = Label{Name: string(rune('a' + r.IntN(6))), Value: strconv.Itoa(i)}
			}
			want := append(Labels(nil), ls...)
			sort.SliceStable(want, func(i, j int) bool { return want[i].Name < want[j].Name })
			out := want[:0:0]
			for i, l := range want {
				if i == 0 || l.Name != want[i-1].Name {
					out = append(out, l)
				}
			}
			if got := sortDedupLabels(ls); !reflect.DeepEqual(got, out) && !(len(got) == 0 && len(out) == 0) {
				t.Fatalf("n=%d: got %v, want %v", n, got, out)
			}
		}
	}
}
