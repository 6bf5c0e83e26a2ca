package gen

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestWriteRoutesEventsToNodes(t *testing.T) {
	cfg := Config{Seed: 11, Nodes: 3, Stories: true}
	var one bytes.Buffer
	if _, err := New(cfg).Write(context.Background(), []io.Writer{&one}, Limit{Events: 5000}); err != nil {
		t.Fatal(err)
	}
	bufs := make([]bytes.Buffer, 3)
	st, err := New(cfg).Write(context.Background(), []io.Writer{&bufs[0], &bufs[1], &bufs[2]}, Limit{Events: 5000})
	if err != nil {
		t.Fatal(err)
	}
	var split []string
	for i := range bufs {
		lines := strings.SplitAfter(bufs[i].String(), "\n")
		lines = lines[:len(lines)-1]
		if int64(len(lines)) != st.PerNode[i] || len(lines) < 1000 {
			t.Errorf("node %d: %d lines, stats say %d", i, len(lines), st.PerNode[i])
		}
		split = append(split, lines...)
	}
	all := strings.SplitAfter(one.String(), "\n")
	all = all[:len(all)-1]
	slices.Sort(all)
	slices.Sort(split)
	if !slices.Equal(all, split) {
		t.Error("the per-node files do not hold the same events as the single file")
	}
	if _, err := New(cfg).Write(context.Background(), []io.Writer{&one, &one}, Limit{Events: 1}); err == nil {
		t.Error("2 writers for 3 nodes: want an error")
	}
}

func TestWriteFilesGzipAndNodes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.log.gz")
	st, err := New(Config{Seed: 2, Nodes: 2}).WriteFiles(context.Background(), file, FileOptions{Gzip: true}, Limit{Events: 2000})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i := range 2 {
		name := NodeFile(file, i, 2)
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		total += int64(len(data))
		scanLines(t, data, func(n int, line []byte) {
			if _, err := decodeStrict(line); err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
		})
	}
	if total != st.Bytes {
		t.Errorf("decompressed %d bytes, stats say %d", total, st.Bytes)
	}
}

func TestWriteRotated(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Seed: 4}
	paths, st, err := New(cfg).WriteRotated(context.Background(), RotatedSet{Dir: dir, MaxBytes: 200 << 10, Compress: true}, Limit{Events: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 4 {
		t.Fatalf("want at least 3 backups and the live file, got %v", paths)
	}
	backup := regexp.MustCompile(`^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log(\.gz)?$`)
	var joined bytes.Buffer
	for i, p := range paths {
		base := filepath.Base(p)
		last := i == len(paths)-1
		switch {
		case last && base != "audit.log":
			t.Errorf("last path %s, want the live audit.log", base)
		case !last && !backup.MatchString(base):
			t.Errorf("backup name %s does not match the apiserver's pattern", base)
		case i < len(paths)-2 && !strings.HasSuffix(base, ".gz"):
			t.Errorf("older backup %s is not compressed", base)
		case i == len(paths)-2 && strings.HasSuffix(base, ".gz"):
			t.Errorf("newest backup %s should not be compressed yet", base)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		if int64(len(data)) > 200<<10 {
			t.Errorf("%s holds %d bytes, over the 200 KiB rotation size", base, len(data))
		}
		joined.Write(data)
	}
	if !slices.IsSorted(paths[:len(paths)-1]) {
		t.Errorf("backups not in time order: %v", paths)
	}
	var want bytes.Buffer
	if _, err := New(cfg).Write(context.Background(), []io.Writer{&want}, Limit{Events: 3000}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(joined.Bytes(), want.Bytes()) || int64(joined.Len()) != st.Bytes {
		t.Error("the rotated set, read oldest to newest, is not the same stream as a single file")
	}
}

func BenchmarkGenerate(b *testing.B) {
	g := New(Config{Seed: 1, Stories: true, RequestReceived: 0.01})
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		n += int64(len(g.Next().Line))
	}
	b.SetBytes(n / int64(b.N))
}

func BenchmarkWrite(b *testing.B) {
	for b.Loop() {
		st, err := New(Config{Seed: 1, Stories: true}).Write(context.Background(), []io.Writer{io.Discard}, Limit{Bytes: 64 << 20})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(st.Bytes)
	}
}
