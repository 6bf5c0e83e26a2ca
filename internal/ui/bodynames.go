package ui

import (
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// bodyNames are the names `| json` yields under the request and response
// bodies (requestObject_spec_replicas, responseObject_metadata_uid) of the
// events indexed, for tab completion in the filter bar: the schema names
// the families only by their prefix, and what is under it depends on the
// objects. The index does not keep bodies, so the names are collected as
// events are added, from a sample: every event with a body until
// bodySampleAll of them were seen, then one in bodySampleEvery (a name
// that only rare events carry can be missed once the sample thins; the
// field still filters when typed). At most maxBodyNames are kept.
//
// names is append-only: a snapshot keeps a prefix of it (index.go).
type bodyNames struct {
	seen   map[string]bool
	names  []string
	events int
}

const (
	bodySampleAll   = 1024
	bodySampleEvery = 64
	maxBodyNames    = 2000
)

// bodyPrefixes are the families whose names are collected: the bodies.
var bodyPrefixes = func() []string {
	var out []string
	for _, f := range data.Fields() {
		if f.Kind == data.FieldFamily && f.Level >= data.LevelRequest {
			out = append(out, f.Name)
		}
	}
	return out
}()

// add collects the body names of e (see bodyNames).
func (b *bodyNames) add(e *data.Event) {
	if !e.HasRequestObject && !e.HasResponseObject {
		return
	}
	b.events++
	if len(b.names) >= maxBodyNames || (b.events > bodySampleAll && b.events%bodySampleEvery != 0) {
		return
	}
	_ = logql.FlattenJSON(e.EntryLine(), func(name, _ string) {
		if b.seen[name] || len(b.names) >= maxBodyNames || !isBodyName(name) {
			return
		}
		if b.seen == nil {
			b.seen = map[string]bool{}
		}
		b.seen[name] = true
		b.names = append(b.names, name)
	})
}

// isBodyName reports whether name is under a body family.
func isBodyName(name string) bool {
	for _, p := range bodyPrefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// BodyNames are the names `| json` yields under the bodies of the
// snapshot's events (a sample, see bodyNames), in the order first seen.
// Do not modify.
func (s *Snapshot) BodyNames() []string { return s.bodyNames }
