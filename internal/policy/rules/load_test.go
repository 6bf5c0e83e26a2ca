package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
)

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		file string
		want []string // substrings, each must appear in the error
	}{
		{"unknown-key.yaml", []string{"unknown-key.yaml:6:", `unknown rule key "severity"`}},
		// The broken query is on the third line of the block scalar that
		// starts after line 8, so the error points at line 11.
		{"bad-expr.yaml", []string{"bad-expr.yaml:11:", "rule Broken: expr"}},
		{"log-query.yaml", []string{"log-query.yaml:5:", "rule NotAMetric: expr"}},
		{"bad-duration.yaml", []string{"bad-duration.yaml:3:", "interval", "bad-duration.yaml:7:", "for:"}},
		{"bad-template.yaml", []string{"bad-template.yaml:4:", "annotation summary"}},
		{"dup-group.yaml", []string{"dup-group.yaml:6:", `group "g" defined twice (first at line 2)`}},
		{"syntax.yaml", []string{"syntax.yaml:"}},
		{"no-alert.yaml", []string{"no-alert.yaml:4:", "rule without alert", "no-alert.yaml:7:", `invalid label name "bad-name"`}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", "bad", tc.file))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var es Errors
			if tc.file != "syntax.yaml" && !errors.As(err, &es) {
				t.Errorf("error %T is not Errors", err)
			}
		})
	}
}

func TestLoadRecordingRuleWarnsAndTemplates(t *testing.T) {
	set, err := LoadFile(filepath.Join("testdata", "rules", "with-record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "with-record.yaml:5: recording rule") {
		t.Fatalf("warnings = %q", set.Warnings)
	}
	rs := set.Rules()
	if len(rs) != 1 {
		t.Fatalf("got %d rules, want 1", len(rs))
	}
	r := rs[0]
	if r.Alert != "ManyDeletes" || r.For != time.Minute || r.Group.Interval != 30*time.Second || r.Line != 7 {
		t.Fatalf("rule = %+v", r)
	}
	labels, ann := r.render(map[string]string{"user_username": "bob"}, 1500)
	if ann["summary"] != "bob deleted 1500 objects" || ann["shout"] != "BOB (1.5k)" {
		t.Fatalf("annotations = %q", ann)
	}
	if labels["team"] != "bob-team" || labels["severity"] != "critical" || labels["user_username"] != "bob" {
		t.Fatalf("labels = %q", labels)
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"0": 0, "30s": 30 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute,
		"1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, "250ms": 250 * time.Millisecond,
	}
	for s, want := range good {
		got, err := ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
		if want != 0 && FormatDuration(got) != s {
			t.Errorf("FormatDuration(%v) = %q, want %q", got, FormatDuration(got), s)
		}
	}
	for _, s := range []string{"", "5", "m", "5x", "30m1h", "1.5h", "-5m"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q): want an error", s)
		}
	}
}

func TestBuiltinPack(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 0 {
		t.Fatalf("warnings: %q", set.Warnings)
	}
	rs := set.Rules()
	if len(rs) < 40 {
		t.Fatalf("pack has %d rules, want at least 40", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Alert] {
			t.Errorf("%s: alert name %s used twice", r.Where(), r.Alert)
		}
		seen[r.Alert] = true
		if SeverityRank(r.Severity()) == 0 {
			t.Errorf("%s: %s has severity %q", r.Where(), r.Alert, r.Severity())
		}
		mt := r.Labels["mitre_technique"]
		if len(mt) < 5 || mt[0] != 'T' {
			t.Errorf("%s: %s has mitre_technique %q", r.Where(), r.Alert, mt)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: %s lacks summary or description", r.Where(), r.Alert)
		}
	}
	for _, name := range []string{"UnauthorizedAPIAccess", "SecretAccessed", "RBACModification", "PodExecDetected", "ServiceAccountTokenCreated"} {
		if !seen[name] {
			t.Errorf("seed rule %s missing from the pack", name)
		}
	}
}

func TestOverrideReplacesSameNamedGroups(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	n := len(set.Rules())
	seed, err := LoadFile(filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	replaced := set.Override(seed)
	if len(replaced) != 1 || replaced[0] != "kubernetes-audit" || len(set.Rules()) != n {
		t.Fatalf("replaced %v, %d rules (had %d)", replaced, len(set.Rules()), n)
	}
	if set.Groups[0].File == builtinName {
		t.Fatal("the seed group did not replace the built-in one in place")
	}
	extra, err := LoadFile(filepath.Join("testdata", "rules", "with-record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if r := set.Override(extra); len(r) != 0 || len(set.Rules()) != n+1 {
		t.Fatalf("replaced %v, %d rules", r, len(set.Rules()))
	}
}

// FuzzParse: any input gives a set or an error naming the file, never a
// panic; a set's rules all have a parsed query.
func FuzzParse(f *testing.F) {
	f.Add(builtinYAML)
	for _, name := range []string{"unknown-key.yaml", "bad-expr.yaml", "bad-template.yaml", "syntax.yaml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "bad", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("groups: []"))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: count_over_time({a=\"b\"}[1m]) > 1\n    for: 1h\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := Parse("fuzz.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, r := range set.Rules() {
			if r.query == nil || r.Alert == "" {
				t.Fatalf("rule without query or name: %+v", r)
			}
			r.render(map[string]string{"user_username": "x"}, 1)
		}
	})
}
