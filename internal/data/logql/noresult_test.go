package logql

import (
	"fmt"
	"testing"
)

// TestNoResultWithout: which legs that read nothing leave a query without
// a result (a rule that can never fire), by operator; a leg of
// absent_over_time answers all the more.
func TestNoResultWithout(t *testing.T) {
	const a = `sum(count_over_time({job="audit"}[5m]))`
	const b = `sum(count_over_time({job="audit"} |= "alice" [5m]))`
	tests := []struct {
		query string
		none  []bool
		want  bool
	}{
		{a, []bool{true}, true},
		{a, []bool{false}, false},
		{`absent_over_time({job="audit"}[5m])`, []bool{true}, false},
		{a + " / " + b, []bool{false, true}, true},
		{a + " / " + b, []bool{true, false}, true},
		{a + " / " + b, []bool{false, false}, false},
		{a + " > on () " + b, []bool{false, true}, true},
		{a + " and " + b, []bool{false, true}, true},
		{a + " or " + b, []bool{false, true}, false},
		{a + " or " + b, []bool{true, false}, false},
		{a + " or " + b, []bool{true, true}, true},
		{a + " unless " + b, []bool{false, true}, false},
		{a + " unless " + b, []bool{true, false}, true},
		{"sum(" + a + " / " + b + ") * 2", []bool{false, true}, true},
		{"(" + a + " or " + b + ") / " + a, []bool{true, false, false}, false},
		{"(" + a + " or " + b + ") / " + a, []bool{false, false, true}, true},
		{a + ` or on () absent_over_time({job="audit"}[5m])`, []bool{true, true}, false},
		{a + ` and on () absent_over_time({job="audit"}[5m])`, []bool{true, true}, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.query, tt.none), func(t *testing.T) {
			q, err := ParseMetric(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(q.LogQueries()); n != len(tt.none) {
				t.Fatalf("%d legs, test gives %d", n, len(tt.none))
			}
			if got := q.NoResultWithout(tt.none); got != tt.want {
				t.Errorf("NoResultWithout(%v) = %v, want %v", tt.none, got, tt.want)
			}
		})
	}
}
