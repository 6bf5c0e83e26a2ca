// Package checkpoint stores how far ship has delivered each tailed file.
//
// The file is versioned JSON written atomically: a temp file is written and
// fsynced, then renamed over the checkpoint and the directory is fsynced.
// If a crash interrupts the rename, the temp file is complete and newer, so
// Load prefers it when it parses (as Vector's checkpointer does).
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/audittui/audittui/internal/tail"
)

// Version is the current file format version.
const Version = 1

// FileName is the checkpoint file inside the state directory.
const FileName = "checkpoints.json"

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
}

// Store reads and writes the checkpoint file of one state directory.
type Store struct {
	dir string
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
	if m, err := readFile(s.tmpPath()); err == nil {
		return m, nil
	}
	m, err := readFile(s.Path())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Position{}, nil
	}
	return m, err
}

func readFile(p string) (map[string]Position, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var ff fileFormat
	if err := json.Unmarshal(b, &ff); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", p, err)
	}
	if ff.Version != Version {
		return nil, fmt.Errorf("checkpoint %s: unsupported version %d (want %d)", p, ff.Version, Version)
	}
	if ff.Checkpoints == nil {
		ff.Checkpoints = map[string]Position{}
	}
	return ff.Checkpoints, nil
}

// Save writes positions atomically.
func (s *Store) Save(pos map[string]Position) error {
	keys := make([]string, 0, len(pos))
	for k := range pos {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b, err := json.MarshalIndent(fileFormat{Version: Version, Checkpoints: pos}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
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
