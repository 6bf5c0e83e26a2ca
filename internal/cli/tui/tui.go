// Package tui is the root command, `audittui [flags] [SOURCE...]`: it opens
// the investigation TUI (internal/ui) over the sources, with the alert
// engine feeding its Alerts pane.
package tui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/cli/report"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/ui"
	"github.com/audittui/audittui/internal/ui/live"
	"github.com/audittui/audittui/internal/ui/sample"
)

// gcPercent is the TUI's GOGC once the sources are read (live.TuneGC
// tunes the collector while they are), unless GOGC or GOMEMLIMIT is set.
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
	Case      string
	Args      []string
	// Notice is shown in the status bar at start; StdinCase says stdin
	// is read as the case's stdin source "-" (reopenCase), which the
	// header says too.
	Notice    string
	StdinCase bool
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
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "tail new events (default: on when the only source is one plain file, or a directory or glob holding one rotated set whose live file is plain)")
	fs.StringArrayVar(&opts.Rules, "rules", nil, "a Loki ruler file to evaluate besides the built-in pack (repeatable)")
	fs.BoolVar(&opts.NoBuiltin, "no-builtin", false, "do not load the built-in alert rules")
	fs.BoolVar(&opts.NoAlerts, "no-alerts", false, "do not evaluate alert rules")
	fs.StringVar(&opts.Policy, "policy", "", "audit policy file: show the level it gives each event in the detail pane")
	fs.StringVar(&opts.LogFile, "log-file", "", "write the TUI's log to this file (never to the terminal)")
	fs.StringVar(&opts.SpillDir, "spill-dir", "", "directory for the spill file of non-seekable sources (default: system temp)")
	fs.BoolVar(&opts.Local, "local-time", false, "show times in the local time zone instead of UTC")
	fs.BoolVar(&opts.Sample, "sample", false, "open the bundled sample data")
	fs.StringVar(&opts.Case, "case", "", "keep the investigation (bookmarks, notes, tags, filters, exports) in this case directory; reopening it restores them, and without SOURCE reopens its sources")
	opts.Sources = f.Sources(fs)
	return cmd
}

// chooseInput decides what to open: the SOURCE arguments, a default source
// kind (Loki via LOKI_ADDR), the node's audit.log, or the sample; and,
// unless --follow was given, whether to follow them
// (cmdutil.DefaultFollow).
func chooseInput(ctx context.Context, opts *TUIOptions) (srcs []data.Source, title string, isSample bool, follow cmdutil.Follow, err error) {
	follow.On = opts.Follow
	if opts.Sample {
		return []data.Source{sample.Source{}}, sample.Name, true, cmdutil.Follow{}, nil
	}
	srcs, ok, err := opts.Sources.Resolve(ctx, opts.Args)
	if err != nil {
		return nil, "", false, cmdutil.Follow{}, err
	}
	if ok {
		title = strings.Join(opts.Args, " ")
		if len(opts.Args) == 0 && len(srcs) > 0 {
			title = srcs[0].String()
		}
		if !opts.FollowSet {
			follow = cmdutil.DefaultFollowTree(opts.Args, opts.Sources.Recursive())
		}
		// Subdirectories not read (without -r): said on stderr, which the
		// screen hides, so at start too.
		for _, n := range cmdutil.Notices(srcs) {
			follow.Notice = strings.TrimPrefix(follow.Notice+" · "+n, " · ")
		}
		return srcs, title, false, follow, nil
	}
	if f, err := os.Open(defaultAuditLog); err == nil {
		f.Close()
		src, err := opts.Sources.File(defaultAuditLog)
		if err != nil {
			return nil, "", false, cmdutil.Follow{}, err
		}
		if !opts.FollowSet {
			follow = cmdutil.DefaultFollow([]string{defaultAuditLog})
		}
		return []data.Source{src}, defaultAuditLog, false, follow, nil
	}
	return []data.Source{sample.Source{}}, sample.Name, true, cmdutil.Follow{}, nil
}

func runTUI(ctx context.Context, opts *TUIOptions) error {
	if !opts.IO.OutTTY {
		return cmdutil.UsageErrorf("the TUI needs a terminal on stdout; use `audittui query` for scripts")
	}
	if err := reopenCase(opts); err != nil {
		return err
	}
	if err := stdinOnTerminal(opts); err != nil {
		return err
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
	read := hashS3AsRead(opts)
	srcs, title, isSample, follow, err := chooseInput(ctx, opts)
	if err != nil {
		return err
	}
	if to != 0 {
		follow.Status = "" // a window that ends: nothing new could fall in it
	}
	if opts.StdinCase {
		title += " (piped stdin)" // the header keeps it after the status bar moves on
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	notice := opts.Notice
	if follow.Notice != "" {
		notice = strings.TrimPrefix(notice+" · "+follow.Notice, " · ")
	}
	// The job the sources' audit events carry (--label job=...): the
	// filter shorthand, the TUI's own queries and the built-in rules
	// select it. The sample is labelled job="audit" whatever the flags.
	job := data.DefaultJob
	if !isSample {
		job = opts.Sources.Job()
	}
	ro := data.ReadOptions{From: from, To: to, Follow: follow.On}
	uo := ui.Options{Title: title, Sample: isSample, Follow: follow.On, NotFollowing: follow.Status, Compile: ui.CompileLogQLFor(job),
		NoColor: opts.Getenv("NO_COLOR") != "", Log: log, Write: ui.LocalWrites{},
		Window: ui.TimeWindow{From: from, To: to}, Case: opts.Case, Sources: sessionSources(opts, srcs, isSample),
		Author: casefile.Author(opts.Getenv), Notice: notice, Job: job,
		// A filter whose selector no stream has is refused with the
		// labels they carry (a Loki server is asked for its jobs).
		Streams: cmdutil.StreamLabels(ctx, srcs, ro, []string{"job"}).Labels}
	// The index, and the rules (stored before it), once opened.
	var ix atomic.Pointer[ui.Index]
	var al atomic.Pointer[live.Alerts]
	opened := newFeedSignal()
	uo.Sources.Objects = s3Objects(srcs, from, to, read, func(ctx context.Context) { waitLoaded(ctx, opened) })
	uo.Sources.FollowedLive = report.FollowedLive
	if opts.Local {
		uo.Loc = time.Local
	}
	if opts.Policy != "" {
		p, err := auditpolicy.LoadFile(opts.Policy)
		if err != nil {
			return cmdutil.UsageError(err)
		}
		uo.Level = cmdutil.PolicyLevel(p)
	}
	lo, err := liveOptions(opts, srcs, from, to, follow.On, job, log)
	if err != nil {
		return err
	}
	if lo.Alerts {
		// The rules start once the first screen is drawn (at most 500 ms
		// later), so they never slow it down.
		firstScreen := make(chan struct{})
		uo.OnFirstScreen = func() { close(firstScreen) }
		lo.FirstScreen = firstScreen
		if lo.Rules != nil {
			// --rules files: rules with a selector that selects no
			// stream are counted in the status bar at start and named in
			// the Alerts pane (and the log).
			// (One path with serve's: live.BlindRules.)
			var notice string
			lo.Blind, notice = live.BlindRules(ctx, srcs, ro, lo.Rules, slogWriter{log})
			uo.Notice = joinNotice(notice, uo.Notice)
		}
	}
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" { // the runtime's own variables: the process's environment, not the factory's
		// The index is the only large live data. While the sources are
		// read and the rules evaluate them, the heap grows to a floor,
		// then within 1.5x of what is live; once loaded and evaluated,
		// GOGC=40 keeps a long live tail small. (Ending the tuning when
		// the index was loaded left the rules' last seconds on a 1 GB
		// file to GOGC=40 without a limit: 209 MiB at peak, not 175.)
		loaded := func() bool {
			i := ix.Load()
			if i == nil || !i.Loaded() {
				return false
			}
			a := al.Load()
			return a == nil || a.Settled()
		}
		defer live.TuneGC(ctx, loaded, gcPercent)()
	}
	lv, err := live.Open(ctx, lo)
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: err}
	}
	if lv.Alerts != nil {
		al.Store(lv.Alerts)
	}
	ix.Store(lv.Index)
	opened.set(lv.Feed)
	defer lv.Close()
	if lv.Alerts != nil {
		sub := lv.Alerts.Subscribe()
		defer sub.Close()
		uo.Alerts = sub
	}
	app := ui.New(ctx, lv.Index, lv.Feed, uo)
	p := tea.NewProgram(app, tea.WithContext(ctx), tea.WithOutput(opts.IO.Out))
	_, err = p.Run()
	cancel()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// liveOptions says what the TUI reads into its index and the rules it
// evaluates over the same events: with a window (--since, --from), the
// rules read their look-back before it as `audittui alerts` does, while
// the index holds the window's events (live.Open).
func liveOptions(opts *TUIOptions, srcs []data.Source, from, to int64, follow bool, job string, log *slog.Logger) (live.Options, error) {
	lo := live.Options{Read: data.ReadOptions{From: from, To: to, Follow: follow},
		Sources: srcs, SpillDir: opts.SpillDir, Log: log, Alerts: !opts.NoAlerts}
	if !lo.Alerts {
		return lo, nil
	}
	if len(opts.Rules) == 0 && !opts.NoBuiltin {
		// The built-in pack alone cannot fail to load (its tests load
		// it): it loads while the first batches are read (with a window,
		// before: the read starts at its look-back).
		lo.LoadRules = func() (*rules.Set, error) { return loadRules(nil, false, job, log) }
		return lo, nil
	}
	var err error
	// --rules files: a bad one is an error before the screen.
	lo.Rules, err = loadRules(opts.Rules, opts.NoBuiltin, job, log)
	return lo, err
}

// feedSignal hands the feed, once opened, to those that wait for it
// to load the index (the case's S3 object records wait for the read).
type feedSignal struct {
	opened chan struct{} // closed by set
	feed   *ui.Feed
}

func newFeedSignal() *feedSignal { return &feedSignal{opened: make(chan struct{})} }

// set hands the feed over (once).
func (s *feedSignal) set(f *ui.Feed) {
	s.feed = f
	close(s.opened)
}

// waitLoaded returns once the feed (when opened) has loaded the index
// (ui.Feed.Loaded: read to its end, or a followed input caught up), or
// ctx ends.
func waitLoaded(ctx context.Context, s *feedSignal) {
	select {
	case <-ctx.Done():
		return
	case <-s.opened:
	}
	select {
	case <-ctx.Done():
	case <-s.feed.Loaded():
	}
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

// joinNotice puts two status messages together ("" is none).
func joinNotice(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " · " + b
}
