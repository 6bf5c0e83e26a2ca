package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteUnder(t *testing.T) {
	top := t.TempDir()
	base := filepath.Join(top, "data", "SHA256_key")
	outside := filepath.Join(top, "outside")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	p := WriteUnder(base)

	// Allowed: relative names, nested, created 0700 under base.
	for _, name := range []string{"case-1", "incidents/2026/case-2", "./case-3", "case-1"} {
		d, err := p.Dir(name)
		if err != nil {
			t.Fatalf("Dir(%q): %v", name, err)
		}
		want := filepath.Join(base, filepath.Clean(name))
		if d.Path != want {
			t.Errorf("Dir(%q).Path = %s, want %s", name, d.Path, want)
		}
		f, err := d.Root.Create("events.jsonl")
		if err != nil {
			t.Fatalf("create in %s: %v", d.Path, err)
		}
		f.Close()
		d.Close()
		fi, err := os.Stat(want)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", want, fi, err)
		}
		if _, err := os.Stat(filepath.Join(want, "events.jsonl")); err != nil {
			t.Errorf("file not written under %s: %v", want, err)
		}
	}

	// Planted links below base (as if the directory had been tampered with).
	if err := os.Symlink(outside, filepath.Join(base, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "case-1"), filepath.Join(base, "link-in")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "plain-file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		"":                    "no directory",
		"   ":                 "no directory",
		"/tmp/x":              "absolute",
		outside:               "absolute",
		"~/x":                 "absolute",
		"..":                  "`..`",
		"../outside":          "`..`",
		"a/../../outside":     "`..`",
		"a/../b":              "`..`", // no `..` at all, even one that stays inside
		"link-out":            "symbolic link",
		"link-out/sub":        "symbolic link",
		"link-in":             "symbolic link", // a link is refused even when it stays inside
		"plain-file/sub":      "not a directory",
		"bad\x1b[2Jname":      "control characters",
		"nul\x00byte":         "control characters",
		"bidi\u202eoverride":  "", // not a control character: allowed (sanitised where shown)
		"tab\tin/the/name":    "control characters",
		"newline\nin-the-nam": "control characters",
	}
	for name, want := range refused {
		d, err := p.Dir(name)
		if want == "" {
			if err != nil {
				t.Errorf("Dir(%q): %v", name, err)
			} else {
				d.Close()
			}
			continue
		}
		if err == nil {
			d.Close()
			t.Errorf("Dir(%q) allowed (%s), want refused (%s)", name, d.Path, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Dir(%q): %v, want it to say %q", name, err, want)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("something was written outside: %v", ents)
	}

	// A link planted after Dir returned is refused at the write: the Root
	// never leaves the directory.
	d, err := p.Dir("later")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink(outside, filepath.Join(base, "later", "escape")); err != nil {
		t.Fatal(err)
	}
	if f, err := d.Root.Create("escape/x"); err == nil {
		f.Close()
		t.Fatal("write through a link planted later escaped the directory")
	}
	if f, err := d.Root.Create("../x"); err == nil {
		f.Close()
		t.Fatal("write to ../x escaped the directory")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("something was written outside: %v", ents)
	}
}

func TestWritesOffAndLocal(t *testing.T) {
	if _, err := (WritesOff{}).Dir("x"); !errors.Is(err, ErrWritesOff) {
		t.Fatalf("WritesOff: %v", err)
	}
	if _, err := (WritesOff{Reason: "start the server with --data-dir"}).Dir("x"); !errors.Is(err, ErrWritesOff) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("WritesOff with a reason: %v", err)
	}
	// The zero Options write nowhere.
	a := New(t.Context(), NewIndex(t.TempDir(), nil), nil, Options{})
	if _, err := a.opts.Write.Dir("x"); !errors.Is(err, ErrWritesOff) {
		t.Fatalf("default policy: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	d, err := (LocalWrites{}).Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Path != dir {
		t.Fatalf("local path %s, want %s", d.Path, dir)
	}
	if f, err := d.Root.Create("x"); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
}
