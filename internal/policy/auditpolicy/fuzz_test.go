package auditpolicy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// FuzzParse: any bytes either load (and then lint and evaluate without
// panicking) or give a *LoadError.
func FuzzParse(f *testing.F) {
	// The project's policies; real ones too when ../shared is there.
	own, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	own = append(own, filepath.Join(testutil.RepoRoot(), "testdata", "seed", "audit-policy.yaml"))
	for _, p := range own {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, p := range []string{"openshift-writerequestbodies.yaml", "gce-configure-helper.yaml", "openshift-default.yaml"} {
		if b, err := os.ReadFile(testutil.RepoRoot() + "/../shared/realdata/policy/" + p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(head + "rules:\n- level: Metadata\n  resources: [{group: '*', resources: ['*/exec', 'pods/*']}]\n"))
	f.Add([]byte(head + "rules:\n- level: None\n  nonResourceURLs: ['/api*', '*']\n- level: Bogus\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			return
		}
		p, err := Parse("fuzz.yaml", b)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v is not a *LoadError", err, err)
			}
			_ = LintLoadError(le)
			return
		}
		if len(p.API.Rules) > 20 {
			return // keep lint's probe space small
		}
		for _, f := range Lint(p, LintOptions{}) {
			if f.Rule >= len(p.API.Rules) {
				t.Fatalf("finding on rule %d of %d", f.Rule, len(p.API.Rules))
			}
		}
	})
}
