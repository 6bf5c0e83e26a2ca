package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/tail"
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
	want := map[string]Position{"/var/log/audit.log": {Position: tail.Position{Path: "/var/log/audit.log", ID: tail.ID{Dev: 1, Ino: 2, FPLen: 10, FP: 99}, Offset: 1234}, Updated: time.Unix(5, 0).UTC()}}
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
	old := map[string]Position{"p": {Position: tail.Position{Offset: 10}}}
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

// The file written before the position type moved to internal/tail is read
// as it was, and written the same way.
func TestFileFormatUnchanged(t *testing.T) {
	s, _ := New(t.TempDir())
	old := `{
  "version": 1,
  "checkpoints": {
    "/var/log/audit.log": {
      "path": "/var/log/audit-2026-11-25T10-00-01.000.log",
      "id": {
        "dev": 2049,
        "ino": 131,
        "fp_len": 1024,
        "fp": 1234567890123
      },
      "offset": 4096,
      "event_time": 1764064800000000000,
      "updated": "2026-11-25T10:00:02Z"
    }
  }
}
`
	os.WriteFile(s.Path(), []byte(old), 0o600)
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := Position{Position: tail.Position{Path: "/var/log/audit-2026-11-25T10-00-01.000.log",
		ID: tail.ID{Dev: 2049, Ino: 131, FPLen: 1024, FP: 1234567890123}, Offset: 4096},
		EventTime: 1764064800000000000, Updated: time.Date(2026, 11, 25, 10, 0, 2, 0, time.UTC)}
	if got["/var/log/audit.log"] != want {
		t.Fatalf("loaded %+v", got)
	}
	if err := s.Save(got); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(s.Path()); string(b) != old {
		t.Fatalf("saved\n%s\nwant\n%s", b, old)
	}
}

// Progress written after every acknowledgement wins over an older fsynced
// checkpoint; one torn by a machine crash is ignored; per-sink positions
// come with it.
func TestProgressFile(t *testing.T) {
	dir := t.TempDir()
	s, _ := New(dir)
	at := func(off int64, sec int64) State {
		return State{Checkpoints: map[string]Position{"p": {Position: tail.Position{Offset: off}, Updated: time.Unix(sec, 0).UTC()}},
			Sinks: map[string]map[string]tail.Position{"p": {"s3": {Offset: off + 5}}}}
	}
	if err := s.SaveState(at(10, 1), true); err != nil {
		t.Fatal(err)
	}
	// A long state, then a short one: the file never holds a mix.
	long := at(20, 2)
	long.Sinks["p"]["loki"] = tail.Position{Path: strings.Repeat("x", 5000)}
	if err := s.SaveState(long, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveState(at(30, 3), false); err != nil {
		t.Fatal(err)
	}
	// A new process writes over the same file.
	s2, _ := New(dir)
	if err := s2.SaveState(at(40, 4), false); err != nil {
		t.Fatal(err)
	}
	st, err := s2.LoadState()
	if err != nil || st.Checkpoints["p"].Offset != 40 || st.Sinks["p"]["s3"].Offset != 45 {
		t.Fatalf("state %+v, %v", st, err)
	}
	// An older progress file loses to a newer fsynced checkpoint.
	if err := s2.SaveState(at(50, 5), true); err != nil {
		t.Fatal(err)
	}
	if st, _ := s2.LoadState(); st.Checkpoints["p"].Offset != 50 {
		t.Fatalf("state %+v", st)
	}
	// Torn: ignored.
	os.WriteFile(filepath.Join(dir, ProgressName), []byte(`{"version":1,"checkpoints":{"p":{"offs`), 0o600)
	if st, err := s2.LoadState(); err != nil || st.Checkpoints["p"].Offset != 50 {
		t.Fatalf("state %+v, %v", st, err)
	}
}
