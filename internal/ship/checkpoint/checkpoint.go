// Package checkpoint stores how far ship has delivered each tailed file,
// to every sink and to each one.
//
// The file is versioned JSON written atomically: a temp file is written and
// fsynced, then renamed over the checkpoint and the directory is fsynced.
// If a crash interrupts the rename, the temp file is complete and newer, so
// Load prefers it when it parses (as Vector's checkpointer does).
//
// Progress is also written after every acknowledgement, without fsync, to
// a second file (ProgressName): it survives a crash of the process (kill
// -9, OOM), not necessarily one of the machine, which the fsynced file
// covers up to Checkpoint_interval. Load takes the newer of the two.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/audittui/audittui/internal/tail"
)

// Version is the current file format version.
const Version = 1

// FileName is the checkpoint file inside the state directory.
const FileName = "checkpoints.json"

// ProgressName is the file written after every acknowledgement.
const ProgressName = "checkpoints.progress.json"

// Position is a point in one file (the tailer's position: path, file
// identity, offset): everything before Offset has been delivered to every
// sink. The file format is unchanged from when these fields were declared
// here: the embedded tail.Position's fields are inlined.
type Position struct {
	tail.Position
	// EventTime is the stageTimestamp (Unix ns) of the last delivered line,
	// for lag reporting.
	EventTime int64     `json:"event_time,omitempty"`
	Updated   time.Time `json:"updated"`
}

type fileFormat struct {
	Version int `json:"version"`
	// Checkpoints are keyed by the configured Path.
	Checkpoints map[string]Position `json:"checkpoints"`
	// Sinks: per configured Path, per sink, how far that sink has
	// delivered (at or after the checkpoint).
	Sinks map[string]map[string]tail.Position `json:"sinks,omitempty"`
}

// State is everything the checkpoint file holds.
type State struct {
	Checkpoints map[string]Position
	Sinks       map[string]map[string]tail.Position
}

// Store reads and writes the checkpoint file of one state directory.
type Store struct {
	dir string
	// progressSize is the progress file's size: it never shrinks, so one
	// write always replaces all of it.
	progressSize int
}

// writeProgress writes b as the progress file in place, in one write of
// the whole file (padded with spaces, which JSON ignores): a process that
// dies leaves the old or the new content, never a mix, and there is no
// rename to journal. (A machine crash may tear it: Load then ignores it
// for the fsynced file.)
func (s *Store) writeProgress(b []byte) error {
	if s.progressSize == 0 {
		if fi, err := os.Stat(s.progressPath()); err == nil {
			s.progressSize = int(fi.Size())
		}
	}
	size := max(s.progressSize, (len(b)+1+4095)/4096*4096)
	buf := make([]byte, size)
	copy(buf, b)
	for i := len(b); i < size-1; i++ {
		buf[i] = ' '
	}
	buf[size-1] = '\n'
	f, err := os.OpenFile(s.progressPath(), os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", s.progressPath(), err)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		f.Close()
		return fmt.Errorf("write checkpoint %s: %w", s.progressPath(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", s.progressPath(), err)
	}
	s.progressSize = size
	return nil
}

// New returns a store in dir (created when missing).
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create state dir %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Path returns the checkpoint file path.
func (s *Store) Path() string { return filepath.Join(s.dir, FileName) }

func (s *Store) tmpPath() string { return s.Path() + ".tmp" }

// Load returns the saved positions (empty when none were saved).
func (s *Store) Load() (map[string]Position, error) {
	st, err := s.LoadState()
	return st.Checkpoints, err
}

// LoadState returns the saved positions and per-sink progress: for each
// path, the newer of the fsynced checkpoint and the progress file (a
// progress file that does not parse is ignored: it was torn by a crash of
// the machine).
func (s *Store) LoadState() (State, error) {
	st, err := readFile(s.tmpPath())
	if err != nil {
		st, err = readFile(s.Path())
		if errors.Is(err, os.ErrNotExist) {
			st, err = State{Checkpoints: map[string]Position{}, Sinks: map[string]map[string]tail.Position{}}, nil
		}
		if err != nil {
			return st, err
		}
	}
	if pr, err := readFile(s.progressPath()); err == nil {
		for k, p := range pr.Checkpoints {
			if old, ok := st.Checkpoints[k]; !ok || p.Updated.After(old.Updated) {
				st.Checkpoints[k] = p
				st.Sinks[k] = pr.Sinks[k]
			}
		}
	}
	return st, nil
}

func (s *Store) progressPath() string { return filepath.Join(s.dir, ProgressName) }

func readFile(p string) (State, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return State{}, err
	}
	var ff fileFormat
	if err := json.Unmarshal(b, &ff); err != nil {
		return State{}, fmt.Errorf("checkpoint %s: %w", p, err)
	}
	if ff.Version != Version {
		return State{}, fmt.Errorf("checkpoint %s: unsupported version %d (want %d)", p, ff.Version, Version)
	}
	if ff.Checkpoints == nil {
		ff.Checkpoints = map[string]Position{}
	}
	if ff.Sinks == nil {
		ff.Sinks = map[string]map[string]tail.Position{}
	}
	return State{Checkpoints: ff.Checkpoints, Sinks: ff.Sinks}, nil
}

// Save writes positions atomically and durably.
func (s *Store) Save(pos map[string]Position) error {
	return s.SaveState(State{Checkpoints: pos}, true)
}

// SaveState writes the state atomically: durably (fsynced, to FileName)
// or as progress (ProgressName, no fsync: it survives the process, and
// costs one write in place, see writeProgress).
func (s *Store) SaveState(st State, durable bool) error {
	ff := fileFormat{Version: Version, Checkpoints: st.Checkpoints, Sinks: st.Sinks}
	var b []byte
	var err error
	if durable {
		b, err = json.MarshalIndent(ff, "", "  ")
	} else {
		b, err = json.Marshal(ff)
	}
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if !durable {
		return s.writeProgress(b)
	}
	tmp := s.tmpPath()
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", tmp, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write checkpoint %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync checkpoint %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close checkpoint %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, s.Path()); err != nil {
		return fmt.Errorf("rename checkpoint: %w", err)
	}
	return SyncDir(s.dir)
}

// SyncDir fsyncs a directory so a rename or create in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
