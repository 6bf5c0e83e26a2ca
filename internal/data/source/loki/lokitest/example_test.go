package lokitest_test

import (
	"context"
	"fmt"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

// A test pushes through the real client, makes the server fail, and reads
// back what was stored.
func Example() {
	srv := lokitest.New(lokitest.Options{RequireTenant: true})
	defer srv.Close()

	c, _ := loki.NewClient(loki.Config{Addr: srv.URL, TenantID: "team-a"})
	req := loki.PushRequest{Streams: []loki.PushStream{{
		Labels:  data.Labels{{Name: "job", Value: "audit"}},
		Entries: []loki.PushEntry{{Time: 1700000000000000000, Line: []byte(`{"verb":"get"}`)}},
	}}}

	srv.FailPushes(1, 429, "Ingestion rate limit exceeded")
	err := c.Push(context.Background(), req)
	fmt.Println("first push retryable:", loki.IsRetryable(err))

	fmt.Println("second push:", c.Push(context.Background(), req))
	for _, e := range srv.Entries("team-a") {
		fmt.Println(loki.FormatLabels(e.Labels), e.Time, e.Line)
	}
	// Output:
	// first push retryable: true
	// second push: <nil>
	// {job="audit"} 1700000000000000000 {"verb":"get"}
}
