package s3sink

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/audittui/audittui/internal/data/source/s3/s3key"
	"github.com/audittui/audittui/internal/ship/pipe"
	"github.com/audittui/audittui/internal/ship/process"
)

// BenchmarkStoreDir measures the disk buffer: batches of 256 KiB (one
// read) appended to a chunk in Store_dir and synced before they are
// acknowledged; nothing is uploaded.
func BenchmarkStoreDir(b *testing.B) {
	format, _ := s3key.Parse("/x/$UUID.json", s3key.ParseOptions{})
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true})
	s, err := New(Options{Client: client, Bucket: "b", Format: format, StoreDir: b.TempDir(), TotalFileSize: 1 << 40, StoreLimit: 1 << 40, UploadTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	line := []byte(`{"kind":"Event","auditID":"` + strings.Repeat("x", 1000) + `"}`)
	mk := func(seq uint64) *pipe.Batch {
		bt := &pipe.Batch{Seq: seq}
		for range 256 {
			bt.Records = append(bt.Records, process.Record{Line: line, Time: time.Now().UnixNano()})
			bt.LineBytes += int64(len(line))
		}
		return bt
	}
	in := make(chan *pipe.Batch, 4)
	var acked atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.SetBytes(256 * int64(len(line)+1))
	b.ResetTimer()
	go func() { done <- s.Run(ctx, in, ackN(&acked)) }()
	for i := 0; i < b.N; i++ {
		in <- mk(uint64(i + 1))
	}
	for acked.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		fmt.Println(err)
	}
}

func ackN(n *atomic.Int64) func(...*pipe.Batch) {
	return func(bs ...*pipe.Batch) { n.Add(int64(len(bs))) }
}
