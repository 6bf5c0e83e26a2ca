package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files decides where the TUI may write. Every disk write the TUI does
// (the case file of --case and :case, the directory of :export) goes to
// the path Resolve returns for the path the user named, so a host can
// confine it (audittui serve: a directory per key).
type Files interface {
	// Resolve returns the path to write for a directory the user named,
	// or an error saying why it may not be written.
	Resolve(path string) (string, error)
}

// LocalFiles lets the local user write anywhere they name: relative
// paths are taken from the working directory (and made absolute, so the
// case records where an export went), and a leading ~/ is their home
// directory. It is the default.
type LocalFiles struct{}

// Resolve cleans the path and expands ~/.
func (LocalFiles) Resolve(path string) (string, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return "", fmt.Errorf("no directory named")
	}
	if path == "~" || strings.HasPrefix(path, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		path = filepath.Join(home, strings.TrimPrefix(path, "~"))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return abs, nil
}

// files returns the write policy (LocalFiles unless Options.Files says).
func (a *App) files() Files {
	if a.opts.Files != nil {
		return a.opts.Files
	}
	return LocalFiles{}
}
