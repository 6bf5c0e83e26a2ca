package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// WritePolicy decides where a session may write files. Every feature that
// writes (`:export DIR`, case directories) asks Options.Write for the
// directory and writes only through the *os.Root it returns; nothing else
// in the TUI writes to disk, and nothing ever writes to a source.
//
//   - WritesOff (the default when Options.Write is nil): every write is
//     refused with a message saying so. `audittui serve` without
//     --data-dir.
//   - LocalWrites: the local TUI, which writes with the user's own rights:
//     a path relative to the working directory, or absolute.
//   - WriteUnder(dir): `audittui serve --data-dir DIR` gives each key
//     DIR/<key fingerprint>; a session names paths relative to it. Absolute
//     paths, `..` elements and symbolic links anywhere below the directory
//     are refused.
//
// Dir does I/O (it creates the directory): call it from a tea.Cmd, never
// from Update.
type WritePolicy interface {
	// Dir checks name, as the user typed it, creates the directory it
	// names (0700, with its parents) when missing, and opens it. The
	// caller writes through WriteDir.Root and closes it.
	Dir(name string) (*WriteDir, error)
	// Where says where writes go, for help and messages ("writing is off"
	// or the base directory).
	Where() string
}

// WriteDir is a directory a session may write into.
type WriteDir struct {
	// Root is the directory. Write through it (Root.Create, OpenFile,
	// MkdirAll): it refuses names that leave the directory, through
	// symbolic links too, at the time of the write.
	Root *os.Root
	// Path is the directory's path, for messages and the access log.
	Path string
}

// Close closes the directory handle.
func (d *WriteDir) Close() error { return d.Root.Close() }

// ErrWritesOff is returned by WritesOff.
var ErrWritesOff = errors.New("writing files is off here")

// WritesOff refuses every write.
type WritesOff struct {
	// Reason, if set, replaces ErrWritesOff's text (e.g. how to turn it on).
	Reason string
}

func (w WritesOff) Dir(string) (*WriteDir, error) {
	if w.Reason != "" {
		return nil, fmt.Errorf("%w: %s", ErrWritesOff, w.Reason)
	}
	return nil, ErrWritesOff
}

func (WritesOff) Where() string { return "writing files is off" }

// LocalWrites writes where the local user says, with the user's rights.
type LocalWrites struct{}

func (LocalWrites) Dir(name string) (*WriteDir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "~" || strings.HasPrefix(name, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		name = filepath.Join(home, strings.TrimPrefix(name, "~"))
	}
	if err := os.MkdirAll(name, 0o700); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		abs = name
	}
	return &WriteDir{Root: r, Path: abs}, nil
}

func (LocalWrites) Where() string { return "the working directory" }

// WriteUnder confines writes to base: names are relative to it, and may
// not leave it (no absolute path, no `..` element, no symbolic link below
// base). base is created (0700) on the first write.
func WriteUnder(base string) WritePolicy { return underDir{base: filepath.Clean(base)} }

type underDir struct{ base string }

func (u underDir) Where() string { return u.base }

func (u underDir) Dir(name string) (*WriteDir, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if filepath.IsAbs(name) || strings.HasPrefix(name, "~") {
		return nil, fmt.Errorf("%q: name a directory relative to %s, not an absolute path", name, u.base)
	}
	for _, el := range strings.Split(filepath.ToSlash(name), "/") {
		if el == ".." {
			return nil, fmt.Errorf("%q: `..` is not allowed; paths stay under %s", name, u.base)
		}
	}
	clean := filepath.Clean(name)
	if err := os.MkdirAll(u.base, 0o700); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(u.base)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	// Walk down from base: create what is missing, refuse a symbolic link
	// or a file on the way (os.Root would follow a link that stays inside;
	// here no link is followed at all).
	if clean != "." {
		parts := strings.Split(clean, string(filepath.Separator))
		for k := range parts {
			p := filepath.Join(parts[:k+1]...)
			fi, err := root.Lstat(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if err := root.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
					return nil, err
				}
				if fi, err = root.Lstat(p); err != nil {
					return nil, err
				}
			case err != nil:
				return nil, err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				return nil, fmt.Errorf("%q: %s is a symbolic link; links are not followed", name, p)
			}
			if !fi.IsDir() {
				return nil, fmt.Errorf("%q: %s is not a directory", name, p)
			}
		}
	}
	sub, err := root.OpenRoot(clean)
	if err != nil {
		return nil, err
	}
	return &WriteDir{Root: sub, Path: filepath.Join(u.base, clean)}, nil
}

// checkName refuses empty names and names with control characters (which
// would reach the screen and the access log).
func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("no directory named")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("%q: control characters are not allowed in a path", name)
		}
	}
	return nil
}
