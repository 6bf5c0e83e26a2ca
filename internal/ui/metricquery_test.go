package ui

import (
	"fmt"
	"strings"
	"testing"
)

// TestMetricQueryInFilterBar: a metric query pasted into `/` is not
// searched for as text ("matching 0", "not LogQL: searching..."): the bar
// says that / takes a log query and which command answers metric
// queries, whole at 80 columns (review M 14).
func TestMetricQueryInFilterBar(t *testing.T) {
	const msg = "a metric query: / takes a log query; `audittui query` answers metric queries"
	for _, q := range []string{
		`sum(count_over_time({job="audit"}[5m]))`,
		`count_over_time({job="audit"} | json | verb="delete" [1h])`,
		`topk(3, sum by (user_username) (count_over_time({job="audit"} | json [5m])))`,
	} {
		if _, err := CompileLogQL(q); err == nil || err.Error() != msg {
			t.Errorf("%s: %v, want %q", q, err, msg)
		}
	}
	for _, sz := range sizes {
		a := newTestApp(t, sz.w, sz.h)
		send(t, a, "/")
		a.bar.Paste(`sum(count_over_time({job="audit"}[5m]))`)
		send(t, a, "enter")
		s := screen(a)
		checkScreen(t, s, sz.w, sz.h)
		golden(t, fmt.Sprintf("filter_metric_%dx%d.txt", sz.w, sz.h), s)
		if !a.bar.Active() || !strings.Contains(s, msg) || a.c.Rows.Len() != a.c.Snap.Len() {
			t.Errorf("%dx%d: a metric query: bar open %v, %d of %d rows:\n%s", sz.w, sz.h, a.bar.Active(), a.c.Rows.Len(), a.c.Snap.Len(), s)
		}
	}
	// A log query still compiles; words with parentheses are still a search.
	for _, q := range []string{`{job="audit"} | json | verb="get"`, `sum(x)`} {
		if _, err := CompileLogQL(q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}
