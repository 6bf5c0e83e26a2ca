package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every mutation applies to the tree as it is: when the code a mutation
// edits moves, this test (and so make test) fails and names it, instead
// of the next make mutate run.
func TestEveryMutationApplies(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	names := map[string]bool{}
	for _, m := range mutations {
		if names[m.Name] {
			t.Errorf("two mutations named %s", m.Name)
		}
		names[m.Name] = true
		if len(m.Guards) == 0 || m.What == "" {
			t.Errorf("%s: needs What and at least one guard", m.Name)
		}
		if _, _, err := m.apply(); err != nil {
			t.Error(err)
		}
		for _, g := range m.Guards {
			if _, err := os.Stat(strings.TrimSuffix(g.Pkg, "/...")); err != nil {
				t.Errorf("%s: guard %s: %v", m.Name, g, err)
			}
		}
	}
}

func TestApplyRefusesStaleAnchors(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.go")
	if err := os.WriteFile(f, []byte("x := 1\ny := 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m    Mutation
		want string
	}{
		{Mutation{Name: "gone", File: f, Old: "z := 1", New: "z := 2"}, "anchor not found"},
		{Mutation{Name: "twice", File: f, Old: " := 1", New: " := 2"}, "anchor found 2 times"},
		{Mutation{Name: "noop", File: f, Old: "x := 1", New: "x := 1"}, "changes nothing"},
		{Mutation{Name: "nofile", File: filepath.Join(dir, "b.go"), Old: "x", New: "y"}, "no such file"},
		{Mutation{Name: "noalt", File: f, Old: "z := 1", New: "z := 2", Alt: []Edit{{File: f, Old: "w := 1", New: "w := 2"}}},
			"none of its 2 edits applies"},
		{Mutation{Name: "bothalt", File: f, Old: "x := 1", New: "x := 2", Alt: []Edit{{File: f, Old: "y := 1", New: "y := 2"}}},
			"2 of its edits apply"},
	} {
		_, _, err := c.m.apply()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.m.Name) {
			t.Errorf("%s: err = %v, want %q naming the mutation", c.m.Name, err, c.want)
		}
	}
	m := Mutation{Name: "ok", File: f, Old: "y := 1", New: "y := 2"}
	file, got, err := m.apply()
	if err != nil || file != f || string(got) != "x := 1\ny := 2\n" {
		t.Fatalf("apply = %s %q, %v", file, got, err)
	}
	// The edit that applies is the one used, in whichever file it is.
	g := filepath.Join(dir, "c.go")
	if err := os.WriteFile(g, []byte("v := 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m = Mutation{Name: "alt", File: f, Old: "gone", New: "x", Alt: []Edit{{File: g, Old: "v := 1", New: "v := 2"}}}
	file, got, err = m.apply()
	if err != nil || file != g || string(got) != "v := 2\n" {
		t.Fatalf("apply = %s %q, %v", file, got, err)
	}
}

// parseTestJSON: a failing subtest is named, not its parents; a build
// failure is not a catch.
func TestParseTestJSON(t *testing.T) {
	in := `{"Action":"run","Test":"TestA"}
{"Action":"output","Test":"TestA/x","Output":"a_test.go:3: wrong\n"}
{"Action":"fail","Test":"TestA/x"}
{"Action":"fail","Test":"TestA"}
{"Action":"pass","Test":"TestB"}
{"Action":"fail"}
`
	r := parseTestJSON(strings.NewReader(in))
	if !r.failed || r.buildFailed || strings.Join(r.failedTests, ",") != "TestA/x" || !strings.Contains(r.output, "wrong") {
		t.Fatalf("result = %+v", r)
	}
	r = parseTestJSON(strings.NewReader(`{"Action":"build-fail","ImportPath":"x"}
{"Action":"fail","FailedBuild":"x"}
`))
	if r.failed || !r.buildFailed {
		t.Fatalf("build failure read as %+v", r)
	}
}
