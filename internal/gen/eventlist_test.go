package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

func TestEventListWriter(t *testing.T) {
	var plain bytes.Buffer
	if _, err := New(Config{Seed: 12, Stories: true}).Write(context.Background(), []io.Writer{&plain}, Limit{Events: 1003}); err != nil {
		t.Fatal(err)
	}
	var lists bytes.Buffer
	ew := NewEventListWriter(&lists, 100)
	if _, err := New(Config{Seed: 12, Stories: true}).Write(context.Background(), []io.Writer{ew}, Limit{Events: 1003}); err != nil {
		t.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	events := strings.Split(strings.TrimSuffix(plain.String(), "\n"), "\n")
	docs := strings.Split(strings.TrimSuffix(lists.String(), "\n"), "\n")
	if len(docs) != 11 {
		t.Fatalf("%d EventList documents for 1003 events in batches of 100, want 11", len(docs))
	}
	k := 0
	for i, doc := range docs {
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.DisallowUnknownFields()
		var list auditv1.EventList
		if err := dec.Decode(&list); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if list.Kind != "EventList" || list.APIVersion != "audit.k8s.io/v1" {
			t.Fatalf("document %d: kind/apiVersion %q/%q", i, list.Kind, list.APIVersion)
		}
		var raw struct{ Items []json.RawMessage }
		if err := json.Unmarshal([]byte(doc), &raw); err != nil {
			t.Fatal(err)
		}
		for _, item := range raw.Items {
			want := "{" + strings.TrimPrefix(events[k], eventPrefix)
			if string(item) != want {
				t.Fatalf("item %d differs from event line:\n%s\n%s", k, item, want)
			}
			k++
		}
	}
	if k != len(events) {
		t.Fatalf("%d items, want %d", k, len(events))
	}
	bad := NewEventListWriter(io.Discard, 0)
	if _, err := bad.Write([]byte("{\"kind\":\"Other\"}\n")); err == nil {
		t.Error("a non-event line: want an error")
	}
	partial := NewEventListWriter(io.Discard, 0)
	partial.Write([]byte(eventPrefix))
	if err := partial.Close(); err == nil {
		t.Error("close inside a line: want an error")
	}
}
