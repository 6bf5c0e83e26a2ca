package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// TestCitations reads a plain and a gzip object with blank lines and a
// CRLF line between events: each event cites s3://bucket/key:LINE, the
// line in the object's decompressed stream, and the sha256 of its raw
// bytes is that of the line.
func TestCitations(t *testing.T) {
	ctx := context.Background()
	fake := s3test.NewFake(t)
	f := testFormat(t, "c1")
	objs := s3test.Archive{Format: f, Start: start, Hours: 1, ObjectsPerHour: 2, Nodes: 1, EventsPerObject: 3}.Build()
	s3test.CreateBucket(ctx, t, fake.Client, bucket)
	plain := map[string][]byte{} // key -> decompressed body
	wantCites := map[string]bool{}
	for k, o := range objs {
		var body bytes.Buffer
		body.WriteString("\n")       // line 1: blank
		body.Write(o.Events[0].Line) // line 2
		body.WriteString("\r\n\n")   // line 3: blank
		body.Write(o.Events[1].Line) // line 4
		body.WriteString("\n")       //
		body.Write(o.Events[2].Line) // line 5 (no final newline)
		plain[o.Key] = append([]byte(nil), body.Bytes()...)
		stored := body.Bytes()
		if k == 1 {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(stored)
			zw.Close()
			stored = z.Bytes()
		}
		s3test.Put(ctx, t, fake.Client, bucket, o.Key, stored, "")
		for _, l := range []int{2, 4, 5} {
			wantCites["s3://"+bucket+"/"+o.Key+":"+strconv.Itoa(l)] = true
		}
	}
	src, err := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: f})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Open(ctx, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evs, rejs := readAll(t, st)
	if len(evs) != 6 || len(rejs) != 0 {
		t.Fatalf("%d events, rejects %v", len(evs), rejs)
	}
	for _, e := range evs {
		cite := e.Origin.Cite()
		if !wantCites[cite] {
			t.Errorf("unexpected citation %s", cite)
			continue
		}
		delete(wantCites, cite)
		key := e.Origin.Source.Name[len("s3://"+bucket+"/"):]
		lines := bytes.Split(plain[key], []byte("\n"))
		line := bytes.TrimSuffix(lines[e.Origin.Line-1], []byte("\r"))
		if sha256.Sum256(line) != sha256.Sum256(e.Raw) {
			t.Errorf("%s: sha256 of the raw bytes is not that of the line", cite)
		}
	}
	if len(wantCites) != 0 {
		t.Errorf("citations not seen: %v", wantCites)
	}
}
