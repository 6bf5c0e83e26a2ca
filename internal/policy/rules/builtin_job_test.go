package rules

import (
	"strings"
	"testing"
)

// TestBuiltinForJob: with --label job=kube-audit the built-in rules select
// that job, every one of them, at the same lines; "audit" and "" are the
// pack as written; a job with a quote is quoted as LogQL quotes it.
func TestBuiltinForJob(t *testing.T) {
	base, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"kube-audit", `odd "job"`} {
		set, err := BuiltinFor(job)
		if err != nil {
			t.Fatalf("%s: %v", job, err)
		}
		rs, want := set.Rules(), base.Rules()
		if len(rs) != len(want) {
			t.Fatalf("%s: %d rules, want %d", job, len(rs), len(want))
		}
		for i, r := range rs {
			sel := r.Query().LogQuery().Selector()
			if len(sel) != 1 || sel[0].Name != "job" || sel[0].Value != job {
				t.Errorf("%s: %s selects %v", job, r.Alert, sel)
			}
			if r.Alert != want[i].Alert || r.Line != want[i].Line || r.File != want[i].File {
				t.Errorf("%s: rule %d is %s at %s, want %s at %s", job, i, r.Alert, r.Where(), want[i].Alert, want[i].Where())
			}
		}
		y, err := BuiltinYAMLFor(nil, job)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(y), `{job="audit"}`) {
			t.Errorf("%s: the exported pack still selects job=\"audit\"", job)
		}
	}
	for _, job := range []string{"", "audit"} {
		set, err := BuiltinFor(job)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range set.Rules() {
			if sel := r.Query().LogQuery().Selector(); sel[0].Value != "audit" {
				t.Errorf("%q: %s selects %v", job, r.Alert, sel)
			}
		}
	}
}
