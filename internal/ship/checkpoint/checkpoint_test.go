package checkpoint

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/ship/fileid"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || len(got) != 0 {
		t.Fatalf("empty load = %v %v", got, err)
	}
	want := map[string]Position{"/var/log/audit.log": {Path: "/var/log/audit.log", ID: fileid.ID{Dev: 1, Ino: 2, FPLen: 10, FP: 99}, Offset: 1234, Updated: time.Unix(5, 0).UTC()}}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err = s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got["/var/log/audit.log"] != want["/var/log/audit.log"] {
		t.Fatalf("got %+v", got)
	}
	if _, err := os.Stat(s.tmpPath()); !os.IsNotExist(err) {
		t.Fatal("temp file left behind")
	}
}

func TestLoadPrefersCompleteTemp(t *testing.T) {
	s, _ := New(t.TempDir())
	old := map[string]Position{"p": {Offset: 10}}
	if err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash between writing the temp file and the rename.
	b, _ := os.ReadFile(s.Path())
	newer := strings.Replace(string(b), `"offset": 10`, `"offset": 20`, 1)
	os.WriteFile(s.tmpPath(), []byte(newer), 0o600)
	got, err := s.Load()
	if err != nil || got["p"].Offset != 20 {
		t.Fatalf("got %+v %v, want the temp file's offset 20", got, err)
	}
	// A torn temp file is ignored.
	os.WriteFile(s.tmpPath(), []byte(`{"version":1,"checkp`), 0o600)
	got, err = s.Load()
	if err != nil || got["p"].Offset != 10 {
		t.Fatalf("got %+v %v, want the main file's offset 10", got, err)
	}
}

func TestLoadErrors(t *testing.T) {
	s, _ := New(t.TempDir())
	os.WriteFile(s.Path(), []byte(`{"version":7,"checkpoints":{}}`), 0o600)
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "unsupported version 7") {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(s.Path(), []byte(`nope`), 0o600)
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("err = %v", err)
	}
}
