package sample

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

func TestCopyIsCurrent(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"))
	if err != nil {
		t.Fatalf("read the bundled sample: %v", err)
	}
	if !bytes.Equal(orig, auditLog) {
		t.Fatal("internal/ui/sample/audit.log differs from testdata/sample/audit.log: run go generate ./internal/ui/sample")
	}
}

func TestSourceDecodesEveryLine(t *testing.T) {
	st, err := Source{}.Open(context.Background(), data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := 0
	for {
		b, err := st.Next(context.Background())
		if b != nil {
			events += len(b.Events)
			for _, r := range b.Rejects {
				t.Errorf("sample line rejected: %v", r.Error())
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if lines := bytes.Count(auditLog, []byte("\n")); events < lines {
		t.Fatalf("decoded %d events from %d lines", events, lines)
	}
}
