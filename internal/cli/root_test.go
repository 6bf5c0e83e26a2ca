package cli

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/cli/clitest"
	"github.com/audittui/audittui/internal/cli/cmdutil"
)

func newRoot() *cobra.Command {
	ios, _, _ := clitest.Streams("")
	return NewCmdRoot(cmdutil.NewFactory(ios))
}

func TestRootRegistersEveryCommand(t *testing.T) {
	var got []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if s.Name() == "help" || s.Name() == "completion" {
				continue
			}
			got = append(got, s.CommandPath())
			walk(s)
		}
	}
	walk(newRoot())
	sort.Strings(got)
	want := []string{"audittui alerts", "audittui alerts export", "audittui export", "audittui history", "audittui loki", "audittui loki labels",
		"audittui loki series", "audittui loki stats", "audittui policy", "audittui policy check", "audittui policy lint",
		"audittui query", "audittui report", "audittui serve", "audittui ship", "audittui verify", "audittui version"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Every command that reads events takes the same window flags.
func TestEventCommandsShareTheWindowFlags(t *testing.T) {
	root := newRoot()
	var ref cmdutil.WindowFlags
	want := pflag.NewFlagSet("ref", pflag.ContinueOnError)
	ref.AddFlags(want)
	for _, path := range [][]string{{}, {"query"}, {"alerts"}, {"policy", "check"}, {"export"}, {"serve"}, {"history"}} {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		want.VisitAll(func(w *pflag.Flag) {
			f := c.Flags().Lookup(w.Name)
			if f == nil || f.Usage != w.Usage || f.DefValue != w.DefValue || f.Value.Type() != w.Value.Type() {
				t.Errorf("%s: --%s is not the shared window flag (%+v)", c.CommandPath(), w.Name, f)
			}
		})
	}
}

// Two command trees share no state: flags parsed in one do not show in
// the other (no package-level mutable state).
func TestCommandTreesAreIndependent(t *testing.T) {
	a, b := newRoot(), newRoot()
	qa, _, _ := a.Find([]string{"query"})
	qb, _, _ := b.Find([]string{"query"})
	if err := qa.ParseFlags([]string{"--cluster", "prod", "--since", "1h", "-o", "csv", "--loki-addr", "http://x"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cluster", "since", "output", "loki-addr"} {
		if qb.Flags().Lookup(name).Changed || qb.Flags().Lookup(name).Value.String() != qb.Flags().Lookup(name).DefValue {
			t.Errorf("--%s leaked from one tree to the other", name)
		}
	}
}

func TestMainExitCodes(t *testing.T) {
	ios, out, errOut := clitest.Streams("")
	if code := Main(context.Background(), []string{"--help"}, ios); code != cmdutil.ExitOK || !strings.Contains(out.String(), "Available Commands") {
		t.Fatalf("--help: exit %d, stdout %q", code, out.String())
	}
	ios, _, errOut = clitest.Streams("")
	if code := Main(context.Background(), []string{"query", "--no-such-flag", "{}"}, ios); code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), "unknown flag: --no-such-flag") {
		t.Fatalf("unknown flag: exit %d, stderr %q", code, errOut.String())
	}
	ios, _, errOut = clitest.Streams("")
	if code := Main(context.Background(), []string{"verify", "/nonexistent"}, ios); code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), "no MANIFEST.sha256") {
		t.Fatalf("verify: exit %d, stderr %q", code, errOut.String())
	}
}
