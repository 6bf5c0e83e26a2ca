package s3

import (
	"context"
	"io"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/s3/s3test"
)

// BenchmarkRead fetches, decompresses and decodes 24 objects (about 24 MB
// of events, plain and gzip) from an in-process fake S3 server. The 1 GB
// comparison against local disk on versitygw is bench/s3.sh.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	fake := s3test.NewFake(b)
	objs := s3test.Archive{Format: testFormat(b, "c1"), Start: start, Hours: 12, ObjectsPerHour: 2, Nodes: 1,
		EventsPerObject: 1500, Pad: 200, Compression: []string{"none", "gzip"}}.Build()
	s3test.Upload(ctx, b, fake.Client, bucket, objs)
	var size int64
	for _, o := range objs {
		for _, e := range o.Events {
			size += int64(len(e.Line)) + 1
		}
	}
	src, err := New(ctx, "s3://"+bucket+"/", Options{Client: fake.Client, KeyFormat: testFormat(b, "c1")})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := src.Open(ctx, data.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			bt, err := st.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(bt.Events)
		}
		st.Close()
		if n != 24*1500 {
			b.Fatalf("%d events", n)
		}
	}
}
