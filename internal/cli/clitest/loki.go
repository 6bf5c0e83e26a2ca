package clitest

import (
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/loki"
	"github.com/audittui/audittui/internal/data/source/loki/lokitest"
)

// SeedLoki pushes three entries of stream {job="audit", cluster="prod"} in
// the last seconds: alice's get, a delete by a user whose name carries an
// escape sequence, and a line that is not an audit event.
func SeedLoki(s *lokitest.Server) {
	now := time.Now().UnixNano()
	line := func(verb, user string) []byte {
		return []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-` + verb + `","stage":"ResponseComplete","requestURI":"/api/v1/secrets","verb":"` + verb +
			`","user":{"username":"` + user + `"},"objectRef":{"resource":"secrets"},"requestReceivedTimestamp":"2026-11-25T10:00:00Z","stageTimestamp":"2026-11-25T10:00:00.1Z"}`)
	}
	s.Push("", loki.PushRequest{Streams: []loki.PushStream{{
		Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: "prod"}},
		Entries: []loki.PushEntry{
			{Time: now - 3e9, Line: line("get", "alice")},
			{Time: now - 2e9, Line: line("delete", `mallory\u001b[31m`)},
			{Time: now - 1e9, Line: []byte("not an audit event")},
		},
	}}})
}
