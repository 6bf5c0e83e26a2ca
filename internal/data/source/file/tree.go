package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/audittui/audittui/internal/plural"
)

// Reading a directory tree (-r, --recursive): a forensic reviewer's
// archive laid out as case/node-a/audit-....log.gz, case/node-b/...,
// every level read. Each file keeps its path as its filename label, so
// {filename=~".*/node-a/.*"} selects a node's, and rotated sets are
// grouped per directory (GroupRotated's key holds the directory).
// Symbolic links are followed, to files and directories; a link back
// to a directory above it (a loop) and a second way to a directory read
// already are not followed, and said. An export directory met on the way
// is read as its copies (exportCopies), as when it is named.

// dirEntries lists one directory: the files it holds that are audit logs
// (by name or content, as a directory SOURCE is read) and its
// subdirectories, as paths. A symbolic link counts as what it leads to.
func dirEntries(dir string) (files, subdirs []string, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read directory %s: %w", dir, unwrapPathErr(err))
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		mode := e.Type()
		if mode&os.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				continue // a dangling link holds nothing to read
			}
			mode = fi.Mode().Type()
		}
		switch {
		case mode.IsDir():
			subdirs = append(subdirs, p)
		case mode.IsRegular() && (looksLikeLog(e.Name()) || looksLikeAuditContent(p)):
			files = append(files, p)
		}
	}
	return files, subdirs, nil
}

// walkTree lists every audit log under root, every level.
func walkTree(root string) (listing, error) {
	w := &walker{}
	if err := w.root(root); err != nil {
		return listing{}, err
	}
	if len(w.files) == 0 {
		return listing{notices: w.notices, unread: w.unread}, fmt.Errorf("%s: no audit log files in it or its subdirectories (named *.log, *.json, *.jsonl, optionally .gz/.zst, or holding JSON, gzip, zstd or a Logs Insights CSV)", root)
	}
	return listing{files: w.files, notices: w.notices, unread: w.unread, names: w.names}, nil
}

// walker collects the files of one or more trees.
type walker struct {
	files, notices []string
	unread         []Unread          // the directories not read (errors)
	names          map[string]string // export copies' filename labels
	// seen are the directories read, so that two links to one are read
	// once.
	seen []dirSeen
}

type dirSeen struct {
	path string
	fi   os.FileInfo
}

// root reads the tree at dir. Only dir itself being unreadable is an
// error; a subdirectory that is becomes a notice.
func (w *walker) root(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, unwrapPathErr(err))
	}
	if prev, ok := w.find(w.seen, fi); ok {
		w.notices = append(w.notices, fmt.Sprintf("%s: the same directory as %s: read once", dir, prev))
		return nil
	}
	return w.dir(dir, fi, nil)
}

func (w *walker) dir(dir string, fi os.FileInfo, above []dirSeen) error {
	w.seen = append(w.seen, dirSeen{dir, fi})
	if isExportDir(dir) {
		files, err := exportCopies(dir)
		w.files = append(w.files, files...)
		for p, n := range exportNames(dir) {
			if w.names == nil {
				w.names = map[string]string{}
			}
			w.names[p] = n
		}
		return err
	}
	files, subdirs, err := dirEntries(dir)
	if err != nil {
		return err
	}
	w.files = append(w.files, files...)
	above = append(above, dirSeen{dir, fi})
	for _, sub := range subdirs {
		sfi, err := os.Stat(sub)
		if err != nil {
			w.notRead(sub, unwrapPathErr(err))
			continue
		}
		if to, loop := w.find(above, sfi); loop {
			w.notices = append(w.notices, fmt.Sprintf("%s: a symbolic link back to %s (a loop): not followed", sub, to))
			continue
		}
		if prev, ok := w.find(w.seen, sfi); ok {
			w.notices = append(w.notices, fmt.Sprintf("%s: the same directory as %s: read once", sub, prev))
			continue
		}
		if err := w.dir(sub, sfi, above); err != nil {
			w.notRead(sub, err)
		}
	}
	return nil
}

// notRead notes that directory dir could not be read.
func (w *walker) notRead(dir string, err error) {
	w.notices = append(w.notices, fmt.Sprintf("%s: not read: %v", dir, err))
	w.unread = append(w.unread, Unread{Dir: dir, Why: fmt.Sprintf("not read: %v", err)})
}

// find returns the path of the directory of dirs that fi is.
func (w *walker) find(dirs []dirSeen, fi os.FileInfo) (string, bool) {
	for _, d := range dirs {
		if os.SameFile(d.fi, fi) {
			return d.path, true
		}
	}
	return "", false
}

// unreadNotice names the subdirectories of arg (or the directories its
// glob matched) that were not read: at most five, then a count.
func unreadNotice(arg string, dirs []string, glob bool) string {
	names := make([]string, 0, min(len(dirs), 5))
	for _, d := range dirs[:min(len(dirs), 5)] {
		if glob {
			names = append(names, d)
		} else {
			names = append(names, filepath.Base(d))
		}
	}
	list := strings.Join(names, ", ")
	if len(dirs) > 5 {
		list += fmt.Sprintf(" and %d more", len(dirs)-5)
	}
	what := plural.Count(len(dirs), "subdirectory", "subdirectories")
	if glob {
		what = plural.Count(len(dirs), "directory", "directories")
	}
	how := "not read"
	if glob {
		how = "matched, not read"
	}
	return fmt.Sprintf("%s: %s %s: %s; use -r (--recursive) to read %s too", arg, what, how, list, plural.Word(len(dirs), "it", "them"))
}
