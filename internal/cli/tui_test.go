package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui/sample"
)

func TestTUIInput(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	gz := filepath.Join(dir, "audit-2026.log.gz")
	for _, p := range []string{live, gz} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, defaultErr := os.Stat(defaultAuditLog)
	tests := []struct {
		name       string
		opts       TUIOptions
		followSet  bool
		wantSample bool
		wantFollow bool
	}{
		{name: "--sample", opts: TUIOptions{Sample: true}, wantSample: true},
		{name: "one live file follows", opts: TUIOptions{Args: []string{live}}, wantFollow: true},
		{name: "--follow=false wins", opts: TUIOptions{Args: []string{live}}, followSet: true},
		{name: "gzip does not follow", opts: TUIOptions{Args: []string{gz}}},
		{name: "two files do not follow", opts: TUIOptions{Args: []string{live, gz}}},
	}
	if defaultErr != nil {
		tests = append(tests, struct {
			name       string
			opts       TUIOptions
			followSet  bool
			wantSample bool
			wantFollow bool
		}{name: "no source, no audit.log: sample", wantSample: true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			opts := tt.opts
			opts.Sources = NewFactory(ios).Sources(pflag.NewFlagSet("t", pflag.ContinueOnError))
			opts.FollowSet = tt.followSet
			srcs, title, isSample, follow, err := tuiInput(context.Background(), &opts)
			if err != nil {
				t.Fatal(err)
			}
			if isSample != tt.wantSample || follow != tt.wantFollow {
				t.Fatalf("sample=%v follow=%v, want %v %v", isSample, follow, tt.wantSample, tt.wantFollow)
			}
			if len(srcs) == 0 || title == "" {
				t.Fatalf("no source or title: %v %q", srcs, title)
			}
			if isSample && title != sample.Name {
				t.Fatalf("sample title %q", title)
			}
		})
	}
}

func TestTUINeedsATerminal(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--sample"}, &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
	if code != cmdutil.ExitUsage || !strings.Contains(errb.String(), "terminal") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestTUIMissingSource(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"/nonexistent/audit.log"}, &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb, OutTTY: true})
	if code != cmdutil.ExitUsage || !strings.Contains(errb.String(), "/nonexistent/audit.log") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestPolicyLevelForDetail(t *testing.T) {
	p, err := auditpolicy.LoadFile(filepath.Join(testutil.SeedDir(t), "audit-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	level := policyLevel(p)
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/x","verb":"get","user":{"username":"alice","groups":["system:authenticated"]},"objectRef":{"resource":"secrets","namespace":"default","name":"x","apiVersion":"v1"},"responseStatus":{"code":200}}` + "\n")
	got, err := level(line)
	if err != nil {
		t.Fatal(err)
	}
	if got == "" || strings.HasPrefix(got, "error") {
		t.Fatalf("level = %q", got)
	}
	if _, err := level([]byte("not json")); err == nil {
		t.Fatal("a broken line gave no error")
	}
}

func TestTUIRulesWithSeedFile(t *testing.T) {
	set, err := tuiRules([]string{filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml")}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := tuiRules(nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's group replaces the built-in group of the same name (which
	// holds the same five rules), so no alert is evaluated twice.
	if len(set.Rules()) != len(builtin.Rules()) {
		t.Fatalf("%d rules with the seed file, %d built in: the seed's group should replace, not add", len(set.Rules()), len(builtin.Rules()))
	}
	seen := map[string]int{}
	for _, r := range set.Rules() {
		seen[r.Alert]++
	}
	for _, name := range []string{"UnauthorizedAPIAccess", "SecretAccessed", "RBACModification", "PodExecDetected", "ServiceAccountTokenCreated"} {
		if seen[name] != 1 {
			t.Errorf("seed alert %s evaluated %d times, want once", name, seen[name])
		}
	}
	if none, err := tuiRules(nil, true, nil); err != nil || none != nil {
		t.Fatalf("--no-builtin without --rules: %v, %v", none, err)
	}
}
