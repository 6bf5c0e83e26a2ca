package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnreadWording: what a SOURCE holds that is not read is said with
// the noun and pronoun its count takes: "1 subdirectory ... read it too",
// "2 subdirectories ... read them too", never "subdirector(ies)" or
// "director(ies)" (review M 14).
func TestUnreadWording(t *testing.T) {
	mk := func(dirs ...string) string {
		root := t.TempDir()
		for _, d := range dirs {
			os.MkdirAll(filepath.Join(root, d), 0o755)
			os.WriteFile(filepath.Join(root, d, "audit.log"), []byte("{}\n"), 0o644)
		}
		return root
	}
	for _, c := range []struct {
		dirs []string
		top  bool // a file beside them: a notice, not an error
		glob bool
		want string
	}{
		{dirs: []string{"ex1"}, top: true, want: ": 1 subdirectory not read: ex1; use -r (--recursive) to read it too"},
		{dirs: []string{"a", "b"}, top: true, want: ": 2 subdirectories not read: a, b; use -r (--recursive) to read them too"},
		{dirs: []string{"ex1"}, want: "but 1 subdirectory (ex1), which is not descended: use -r (--recursive) to read it, name it, or use a glob"},
		{dirs: []string{"x", "y"}, want: "but 2 subdirectories (x, y), which are not descended: use -r (--recursive) to read them all, name them, or use a glob"},
		{dirs: []string{"ex1"}, glob: true, want: "no files match, only 1 directory, which is not descended: use -r (--recursive) to read it"},
		{dirs: []string{"x", "y"}, glob: true, want: "no files match, only 2 directories, which are not descended: use -r (--recursive) to read them"},
		{dirs: []string{"ex1"}, top: true, glob: true, want: ": 1 directory matched, not read: "},
	} {
		root := mk(c.dirs...)
		arg := root
		if c.top {
			os.WriteFile(filepath.Join(root, "top.log"), []byte("{}\n"), 0o644)
		}
		if c.glob {
			arg = filepath.Join(root, "*")
		}
		var text string
		s, err := New(arg, Options{})
		switch {
		case err != nil:
			text = err.Error()
		case len(s.Notices()) == 1:
			text = s.Notices()[0]
		}
		if !strings.Contains(text, c.want) || strings.Contains(text, "(ies)") || strings.Contains(text, "(s)") {
			t.Errorf("%v (file beside: %v, glob: %v): %q, want %q", c.dirs, c.top, c.glob, text, c.want)
		}
	}
}
