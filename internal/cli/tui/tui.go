// Package tui is the root command, `audittui [flags] [SOURCE...]`: it opens
// the investigation TUI (internal/ui) over the sources, with the alert
// engine feeding its Alerts pane.
package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
	"github.com/audittui/audittui/internal/ui/sample"
)

// gcPercent is the TUI's GOGC unless the GOGC variable is set.
const gcPercent = 40

// defaultAuditLog is opened when no SOURCE is given and it is readable.
const defaultAuditLog = "/var/log/kubernetes/audit/audit.log"

// TUIOptions are the root command's flags.
type TUIOptions struct {
	IO        *cmdutil.IOStreams
	Now       func() time.Time
	Getenv    func(string) string
	Sources   *cmdutil.SourceSet
	Window    cmdutil.WindowFlags
	Follow    bool
	FollowSet bool // --follow was given (else: on for one live file)
	Rules     []string
	NoBuiltin bool
	NoAlerts  bool
	Policy    string
	LogFile   string
	SpillDir  string
	Local     bool
	Sample    bool
	Args      []string
}

// NewCmdTUI builds the root command, which opens the TUI; the other
// commands are added to it as subcommands. runF, when not nil, runs
// instead of the TUI (tests).
func NewCmdTUI(f *cmdutil.Factory, runF func(*TUIOptions) error) *cobra.Command {
	opts := &TUIOptions{IO: f.IOStreams, Now: f.Now, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "audittui [flags] [SOURCE...]",
		Short: "Investigate, alert on and ship Kubernetes API-server audit logs",
		Long: `audittui reads Kubernetes API-server audit events from local files
(audit.log, rotated and gzipped sets, stdin), S3 archives and Loki, and shows
them in a terminal UI, answers LogQL queries, evaluates alert rules, lints
audit policies and ships audit.log to Loki and S3.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.FollowSet = cmd.Flags().Changed("follow")
			if runF != nil {
				return runF(opts)
			}
			return runTUI(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.Window.AddFlags(fs)
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "tail new events (default: on when the only source is one live file)")
	fs.StringArrayVar(&opts.Rules, "rules", nil, "Loki ruler file(s) to evaluate besides the built-in pack (repeatable)")
	fs.BoolVar(&opts.NoBuiltin, "no-builtin", false, "do not load the built-in alert rules")
	fs.BoolVar(&opts.NoAlerts, "no-alerts", false, "do not evaluate alert rules")
	fs.StringVar(&opts.Policy, "policy", "", "audit policy file: show the level it gives each event in the detail pane")
	fs.StringVar(&opts.LogFile, "log-file", "", "write the TUI's log to this file (never to the terminal)")
	fs.StringVar(&opts.SpillDir, "spill-dir", "", "directory for the spill file of non-seekable sources (default: system temp)")
	fs.BoolVar(&opts.Local, "local-time", false, "show times in the local time zone instead of UTC")
	fs.BoolVar(&opts.Sample, "sample", false, "open the bundled sample data")
	opts.Sources = f.Sources(fs)
	return cmd
}

// chooseInput decides what to open: the SOURCE arguments, a default source
// kind (Loki via LOKI_ADDR), the node's audit.log, or the sample.
func chooseInput(ctx context.Context, opts *TUIOptions) (srcs []data.Source, title string, isSample, follow bool, err error) {
	follow = opts.Follow
	if opts.Sample {
		return []data.Source{sample.Source{}}, sample.Name, true, false, nil
	}
	srcs, ok, err := opts.Sources.Resolve(ctx, opts.Args)
	if err != nil {
		return nil, "", false, false, err
	}
	if ok {
		title = strings.Join(opts.Args, " ")
		if len(opts.Args) == 0 && len(srcs) > 0 {
			title = srcs[0].String()
		}
		if !opts.FollowSet {
			follow = len(opts.Args) == 1 && isLiveFile(opts.Args[0])
		}
		return srcs, title, false, follow, nil
	}
	if f, err := os.Open(defaultAuditLog); err == nil {
		f.Close()
		src, err := opts.Sources.File(defaultAuditLog)
		if err != nil {
			return nil, "", false, false, err
		}
		if !opts.FollowSet {
			follow = true
		}
		return []data.Source{src}, defaultAuditLog, false, follow, nil
	}
	return []data.Source{sample.Source{}}, sample.Name, true, false, nil
}

// isLiveFile reports whether arg is one plain (uncompressed) regular file.
func isLiveFile(arg string) bool {
	fi, err := os.Stat(arg)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		if strings.HasSuffix(arg, ext) {
			return false
		}
	}
	return true
}

func runTUI(ctx context.Context, opts *TUIOptions) error {
	if !opts.IO.OutTTY {
		return cmdutil.UsageErrorf("the TUI needs a terminal on stdout; use `audittui query` for scripts")
	}
	from, to, err := opts.Window.Range(opts.Now)
	if err != nil {
		return err
	}
	log, closeLog, err := openLog(opts.LogFile)
	if err != nil {
		return err
	}
	defer closeLog()
	srcs, title, isSample, follow, err := chooseInput(ctx, opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	uo := ui.Options{Title: title, Sample: isSample, Follow: follow, Compile: ui.CompileLogQL,
		NoColor: opts.Getenv("NO_COLOR") != "", Log: log}
	if opts.Local {
		uo.Loc = time.Local
	}
	if opts.Policy != "" {
		p, err := auditpolicy.LoadFile(opts.Policy)
		if err != nil {
			return cmdutil.UsageError(err)
		}
		uo.Level = policyLevel(p)
	}
	ix := ui.NewIndex(opts.SpillDir, log)
	defer ix.Close()
	feed := ui.NewFeed(ix, log)
	var al *liveAlerts
	if !opts.NoAlerts {
		// One decode pass: the feed indexes each batch and hands it to
		// the rules, which run on goroutines of their own. They load
		// while the first batches are read (those wait for them), so the
		// first screen never waits for the rules.
		al = newLiveAlerts(log)
		feed.OnBatch = al.Push
		feed.OnEnd = al.End
	}
	if os.Getenv("GOGC") == "" { // the runtime's own variable: the process's environment, not the factory's
		// The index is the only large live data: collect the garbage of
		// decoding sooner than GOGC=100 would (which doubles the peak).
		debug.SetGCPercent(gcPercent)
	}
	stream, err := data.OpenAll(ctx, srcs, data.ReadOptions{From: from, To: to, Follow: follow, Progress: ix.Progress})
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: err}
	}
	go feed.Run(ctx, stream)
	if al != nil {
		firstScreen := make(chan struct{})
		uo.OnFirstScreen = func() { close(firstScreen) }
		if len(opts.Rules) == 0 && !opts.NoBuiltin {
			// The built-in pack alone cannot fail to load (its tests load
			// it): it loads while the first screen is drawn.
			uo.Alerts = al
			go func() {
				if _, err := al.load(ctx, opts, srcs, from, to, follow, firstScreen); err != nil {
					log.Error("alert rules", "err", err)
				}
			}()
		} else {
			// --rules files: a bad one is an error before the screen.
			ok, err := al.load(ctx, opts, srcs, from, to, follow, firstScreen)
			if err != nil {
				cancel()
				<-feed.Done()
				return err
			}
			if ok {
				uo.Alerts = al
			}
		}
	}
	app := ui.New(ctx, ix, feed, uo)
	p := tea.NewProgram(app, tea.WithContext(ctx), tea.WithOutput(opts.IO.Out))
	_, err = p.Run()
	cancel()
	<-feed.Done()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// readsStdin reports whether a SOURCE argument is stdin.
func readsStdin(args []string) bool {
	for _, a := range args {
		if a == "-" {
			return true
		}
	}
	return false
}

// load loads the rules and starts their evaluation (ok is false when no
// rule is loaded and the source is not Loki: alerts are off).
func (l *liveAlerts) load(ctx context.Context, opts *TUIOptions, srcs []data.Source, from, to int64, follow bool, gate <-chan struct{}) (bool, error) {
	set, err := loadRules(opts.Rules, opts.NoBuiltin, l.log)
	if err != nil {
		l.start(nil, nil, nil) // releases the batches held meanwhile
		return false, err
	}
	var remote *lokiAlerts
	if src, ok := lokiSource(srcs); ok {
		rf, rt := src.Range(data.ReadOptions{From: from, To: to})
		var server []*rules.Rule
		set, server = splitForLoki(set, rf, rt)
		if follow && to == 0 {
			rt = 0
		}
		remote = newLokiAlerts(src, server, rf, rt, l.log)
	}
	if (set == nil || len(set.Rules()) == 0) && remote == nil {
		l.start(nil, nil, nil)
		return false, nil
	}
	if err := l.start(set, remote, gate); err != nil {
		return false, err
	}
	go l.run(ctx)
	return true, nil
}

// startAlerts is newLiveAlerts and load (nil when alerts are off).
func startAlerts(ctx context.Context, opts *TUIOptions, srcs []data.Source, from, to int64, follow bool, log *slog.Logger) (*liveAlerts, error) {
	l := newLiveAlerts(log)
	ok, err := l.load(ctx, opts, srcs, from, to, follow, nil)
	if err != nil || !ok {
		return nil, err
	}
	return l, nil
}

// openLog writes JSON logs to path, or discards them: never the
// terminal, which the UI owns.
func openLog(path string) (*slog.Logger, func(), error) {
	if path == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, cmdutil.UsageErrorf("open log file %s: %v", path, err)
	}
	return slog.New(slog.NewJSONHandler(f, nil)), func() { f.Close() }, nil
}

// policyLevel decodes a raw event and asks the policy for its level.
func policyLevel(p *auditpolicy.Policy) func([]byte) (string, error) {
	return func(raw []byte) (string, error) {
		var dec data.Decoder
		evs, rej := dec.Decode(nil, bytes.TrimRight(raw, "\r\n"), data.Origin{})
		if rej != nil {
			return "", errors.New(rej.Reason)
		}
		if len(evs) == 0 {
			return "", errors.New("no event")
		}
		lv, rule := p.LevelFor(&evs[0])
		if rule >= 0 {
			return fmt.Sprintf("%s (rule %d)", lv, rule), nil // 0-based, as policy lint/check print it
		}
		return lv, nil
	}
}
