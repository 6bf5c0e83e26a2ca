package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/testutil"
	"github.com/audittui/audittui/internal/ui/sample"
)

func TestTUIInput(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	gz := filepath.Join(dir, "audit-2026.log.gz")
	// A node's audit directory: the apiserver's rotated set.
	node := filepath.Join(t.TempDir(), "audit")
	// logrotate's names.
	lr := t.TempDir()
	// Two nodes' files, and a directory of gzipped backups only.
	nodes, gzOnly := t.TempDir(), t.TempDir()
	// A reviewer's case: a node per subdirectory.
	tree := t.TempDir()
	for _, p := range []string{live, gz,
		filepath.Join(node, "audit-2026-11-20T02-05-00.000.log.gz"), filepath.Join(node, "audit-2026-11-20T02-40-00.000.log"), filepath.Join(node, "audit.log"),
		filepath.Join(lr, "audit.log.2.gz"), filepath.Join(lr, "audit.log.1"), filepath.Join(lr, "audit.log"),
		filepath.Join(nodes, "cp1.log"), filepath.Join(nodes, "cp2.log"),
		filepath.Join(gzOnly, "audit-2026-11-20T02-05-00.000.log.gz"),
		filepath.Join(tree, "notes.log.gz"), filepath.Join(tree, "node-a", "audit.log"), filepath.Join(tree, "node-b", "audit.log.1.gz")} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, defaultErr := os.Stat(defaultAuditLog)
	type tc struct {
		name       string
		opts       TUIOptions
		flags      []string
		wantFiles  int // files read, when not 0
		followSet  bool
		wantSample bool
		wantFollow bool
		wantStatus string // the status bar when not following
		wantNotice string // part of the notice at start
	}
	tests := []tc{
		{name: "--sample", opts: TUIOptions{Sample: true}, wantSample: true},
		{name: "one live file follows", opts: TUIOptions{Args: []string{live}}, wantFollow: true},
		{name: "--follow=false wins", opts: TUIOptions{Args: []string{live}}, followSet: true},
		{name: "gzip does not follow", opts: TUIOptions{Args: []string{gz}}},
		{name: "two files do not follow", opts: TUIOptions{Args: []string{live, gz}}, wantStatus: "not following (--follow)"},
		// Review I finding 7: the README's /var/log/kubernetes/audit/.
		{name: "a node's audit directory follows", opts: TUIOptions{Args: []string{node + "/"}}, wantFollow: true},
		{name: "a glob of one rotated set follows", opts: TUIOptions{Args: []string{filepath.Join(node, "audit*")}}, wantFollow: true},
		{name: "logrotate's set follows", opts: TUIOptions{Args: []string{lr}}, wantFollow: true},
		{name: "two nodes' files: said not followed", opts: TUIOptions{Args: []string{nodes}}, wantStatus: "not following (--follow)"},
		{name: "--follow=false on a directory: not said", opts: TUIOptions{Args: []string{node}}, followSet: true},
		{name: "gzipped backups only", opts: TUIOptions{Args: []string{gzOnly}}},
		{name: "audit.log with backups beside it: named", opts: TUIOptions{Args: []string{filepath.Join(node, "audit.log")}}, wantFollow: true,
			wantNotice: "following audit.log; 2 rotated files beside it are not read (audittui " + node + "/ reads them too, and follows it)"},
	}
	tests = append(tests,
		tc{name: "a case tree: subdirectories named", opts: TUIOptions{Args: []string{tree}}, wantFiles: 1,
			wantNotice: "2 subdirectories not read: node-a, node-b; use -r"},
		tc{name: "a case tree with -r: read, said not followed", opts: TUIOptions{Args: []string{tree}}, flags: []string{"-r"}, wantFiles: 3, wantStatus: "not following (--follow)"},
		tc{name: "one node's set under a directory with -r: followed", opts: TUIOptions{Args: []string{filepath.Dir(node)}}, flags: []string{"-r"}, wantFiles: 3, wantFollow: true})
	if defaultErr != nil {
		tests = append(tests, tc{name: "no source, no audit.log: sample", wantSample: true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _ := clitest.Streams("")
			opts := tt.opts
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			opts.Sources = clitest.Factory(ios).Sources(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			opts.FollowSet = tt.followSet
			srcs, title, isSample, follow, err := chooseInput(context.Background(), &opts)
			if err != nil {
				t.Fatal(err)
			}
			if isSample != tt.wantSample || follow.On != tt.wantFollow || follow.Status != tt.wantStatus ||
				!strings.Contains(follow.Notice, tt.wantNotice) || (tt.wantNotice == "") != (follow.Notice == "") {
				t.Fatalf("sample=%v follow=%+v, want %v %v %q %q", isSample, follow, tt.wantSample, tt.wantFollow, tt.wantStatus, tt.wantNotice)
			}
			if tt.wantFiles != 0 {
				n := 0
				for _, s := range srcs {
					for _, g := range s.(*file.Source).Files() {
						n += len(g)
					}
				}
				if n != tt.wantFiles {
					t.Fatalf("%d file(s) read, want %d", n, tt.wantFiles)
				}
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

func tuiCLI(t *testing.T, outTTY bool, args ...string) (int, string) {
	t.Helper()
	ios, _, errOut := clitest.Streams("")
	ios.OutTTY = outTTY
	code := clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command { return NewCmdTUI(f, nil) }, args...)
	return code, errOut.String()
}

func TestTUINeedsATerminal(t *testing.T) {
	code, errOut := tuiCLI(t, false, "--sample")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "terminal") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestTUIMissingSource(t *testing.T) {
	code, errOut := tuiCLI(t, true, "/nonexistent/audit.log")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "/nonexistent/audit.log") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// A bad window is refused before anything is opened.
func TestTUIBadWindow(t *testing.T) {
	code, errOut := tuiCLI(t, true, "--since", "1h", "--from", "2026-01-01", "--sample")
	if code != cmdutil.ExitUsage || !strings.Contains(errOut, "mutually exclusive") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestTUIFlagsToOptions(t *testing.T) {
	var got *TUIOptions
	ios, _, errOut := clitest.Streams("")
	code := clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdTUI(f, func(o *TUIOptions) error { got = o; return nil })
	}, "--follow=false", "--since", "2h", "--rules", "r.yaml", "--no-builtin", "--policy", "p.yaml", "--local-time", "--spill-dir", "/tmp/x", "a.log", "b.log")
	if code != 0 || got.Follow || !got.FollowSet || got.Window.Since != 2*time.Hour || strings.Join(got.Rules, ",") != "r.yaml" || !got.NoBuiltin ||
		got.Policy != "p.yaml" || !got.Local || got.SpillDir != "/tmp/x" || strings.Join(got.Args, ",") != "a.log,b.log" {
		t.Fatalf("exit %d (%s), options %+v", code, errOut, got)
	}
	// Without --follow, FollowSet is false: one live file is then followed.
	code = clitest.Exec(context.Background(), ios, func(f *cmdutil.Factory) *cobra.Command {
		return NewCmdTUI(f, func(o *TUIOptions) error { got = o; return nil })
	}, "a.log")
	if code != 0 || got.FollowSet {
		t.Fatalf("exit %d, options %+v", code, got)
	}
}

func TestPolicyLevelForDetail(t *testing.T) {
	p, err := auditpolicy.LoadFile(filepath.Join(testutil.SeedDir(t), "audit-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	level := cmdutil.PolicyLevel(p)
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
	set, err := loadRules([]string{filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml")}, false, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := loadRules(nil, false, "", nil)
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
	if none, err := loadRules(nil, true, "", nil); err != nil || none != nil {
		t.Fatalf("--no-builtin without --rules: %v, %v", none, err)
	}
}
