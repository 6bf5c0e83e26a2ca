package data

import "testing"

func TestOriginCite(t *testing.T) {
	file := &SourceInfo{Name: "nodes/audit-cp3.log", Labels: Labels{{Name: "job", Value: "audit"}}}
	stream := &SourceInfo{Name: "loki{...}", Labels: Labels{{Name: "job", Value: "audit"}, {Name: "cluster", Value: `a"b`}}}
	for _, tc := range []struct {
		o    Origin
		want string
	}{
		{Origin{Source: file, Line: 279, Offset: 1234}, "nodes/audit-cp3.log:279"},
		{Origin{Source: &SourceInfo{Name: "s3://b/k/x.gz"}, Line: 7}, "s3://b/k/x.gz:7"},
		{Origin{Source: stream, Line: 3, StreamTime: 1763629320123456789}, `{cluster="a\"b", job="audit"} @1763629320123456789`},
		{Origin{Line: 1}, "?:1"},
	} {
		if got := tc.o.Cite(); got != tc.want {
			t.Errorf("Cite() = %s, want %s", got, tc.want)
		}
	}
}
