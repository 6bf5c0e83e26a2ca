package logql_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/audittui/audittui/internal/data/logql"
)

func ExampleParse_error() {
	_, err := logql.Parse(`{job="audit"} | json | verb=~"get|(list"`)
	var pe *logql.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Line, pe.Col)
	}
	fmt.Println(err)
	// Output:
	// 1 30
	// line 1, col 30: invalid regular expression "get|(list": missing closing ): "get|(list"
}

func ExampleLogQuery_Matches() {
	q, err := logql.ParseLog(`{job="audit"} | json | objectRef_resource="secrets" | verb=~"get|list"`)
	if err != nil {
		panic(err)
	}
	e := &logql.JSONEntry{
		Line:   []byte(`{"verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","name":"db"}}`),
		Labels: [][2]string{{"job", "audit"}},
	}
	fmt.Println(q.Matches(e))
	for _, lit := range q.RequiredLiterals() {
		fmt.Printf("%s\n", lit)
	}
	// Output:
	// true
	// "secrets"
}

func ExampleMetricQuery_NewRangeEvaluator() {
	mq, err := logql.ParseMetric(`sum by (user_username) (count_over_time({job="audit"} | json [5m]))`)
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC).UnixNano()
	ev, err := mq.NewRangeEvaluator(t0, t0+int64(10*time.Minute), 5*time.Minute)
	if err != nil {
		panic(err)
	}
	for i, user := range []string{"alice", "bob", "alice"} {
		ev.Add(&logql.JSONEntry{
			Time:   t0 + int64(i)*int64(time.Minute),
			Line:   []byte(`{"user":{"username":"` + user + `"}}`),
			Labels: [][2]string{{"job", "audit"}},
		})
	}
	for _, s := range ev.Result() {
		fmt.Print(s.Labels)
		for _, p := range s.Points {
			fmt.Printf(" +%v=%g", time.Duration(p.T-t0), p.V)
		}
		fmt.Println()
	}
	// Windows are left-open: the step at +5m counts (+0s, +5m], so the
	// entry at +0s is only in the first step.

	// Output:
	// {user_username="alice"} +0s=1 +5m0s=1
	// {user_username="bob"} +5m0s=1
}

func ExampleMetricQuery_Contributes() {
	mq, err := logql.ParseMetric(`sum(count_over_time({job="audit"} | json | objectRef_resource="secrets" [5m])) by (user_username, objectRef_namespace) > 0`)
	if err != nil {
		panic(err)
	}
	e := &logql.JSONEntry{
		Line:   []byte(`{"user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"prod"}}`),
		Labels: [][2]string{{"job", "audit"}},
	}
	fmt.Println(mq.Contributes(e))
	// Output:
	// {objectRef_namespace="prod", user_username="alice"} true
}
