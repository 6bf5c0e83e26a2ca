// Package serve is `audittui serve`: the TUI over SSH (internal/serve),
// for an on-call team, over sources read and indexed once.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/serve"
	"github.com/audittui/audittui/internal/ui"
	"github.com/audittui/audittui/internal/ui/live"
)

// gcPercent is the server's GOGC unless the GOGC variable is set: the
// index is the large live data, and a server that runs for days keeps its
// heap close to what is live (the TUI instead lets the heap grow to a
// floor while it loads, live.TuneGC, which here would count as the
// sessions' memory).
const gcPercent = 40

// shutdownGrace is how long sessions get to restore their clients'
// screens when the server stops.
const shutdownGrace = 5 * time.Second

// ServeOptions are the flags of `audittui serve`.
type ServeOptions struct {
	IO      *cmdutil.IOStreams
	Now     func() time.Time
	Getenv  func(string) string
	Sources *cmdutil.SourceSet
	Window  cmdutil.WindowFlags

	Listen            string
	AuthorizedKeys    string
	HostKey           string
	AccessLog         string
	DataDir           string
	MaxSessions       int
	MaxSessionsPerKey int
	IdleTimeout       time.Duration

	Follow    bool
	FollowSet bool
	Rules     []string
	NoBuiltin bool
	NoAlerts  bool
	Policy    string
	SpillDir  string
	Local     bool
	Args      []string

	// Ready, if set, is called with the address the server listens on
	// (tests, which listen on port 0).
	Ready func(addr string)
}

// NewCmdServe builds `audittui serve`; runF, when not nil, runs instead
// of the server (tests).
func NewCmdServe(f *cmdutil.Factory, runF func(*ServeOptions) error) *cobra.Command {
	o := &ServeOptions{IO: f.IOStreams, Now: f.Now, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "serve --authorized-keys FILE --host-key FILE [flags] SOURCE...",
		Short: "Serve the TUI over SSH to the keys in an authorized_keys file, read-only",
		Long: `serve runs an SSH server that shows the audittui TUI, and nothing else, to
whoever holds a key listed in an OpenSSH authorized_keys file: no shell, no
remote commands, no port, agent or X11 forwarding, no SFTP. The sources are
read and indexed once and shared by every session; each session has its own
filters, panes and window size.

Only public keys get in (no passwords). The authorized_keys file is read
again whenever it changes. The host key is generated (ed25519, mode 0600) at
--host-key on first start and reused after.

The access log (JSON lines; stdout unless --access-log names a file) records
each session's connect and disconnect with the key's SHA256 fingerprint and
comment and the remote address, every filter and : command it ran, and every
export, with times; also refused keys, sessions and failed handshakes.

Nothing a session does writes to the sources. Files a session writes
(exports, case directories) go under --data-dir DIR/<key fingerprint>, or
nowhere without --data-dir. --data-dir, --access-log, --spill-dir and a
--host-key to generate are refused among the evidence (in a SOURCE
directory or beside a SOURCE file).`,
		Example: `  audittui serve --listen :2222 --authorized-keys ~/.ssh/oncall_keys \
      --host-key /var/lib/audittui/host_ed25519 --access-log /var/log/audittui-access.jsonl \
      /var/log/kubernetes/audit/
  ssh -t -p 2222 oncall@audit-box`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			o.FollowSet = cmd.Flags().Changed("follow")
			if runF != nil {
				return runF(o)
			}
			return run(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:2222", "address to listen on (HOST:PORT; :2222 for every interface)")
	fs.StringVar(&o.AuthorizedKeys, "authorized-keys", "", "OpenSSH authorized_keys file of the keys that may connect (required)")
	fs.StringVar(&o.HostKey, "host-key", "", "the server's private host key; generated (ed25519, 0600) when missing (required)")
	fs.StringVar(&o.AccessLog, "access-log", "", "append the access log (JSON lines) to this file (default: stdout)")
	fs.StringVar(&o.DataDir, "data-dir", "", "directory sessions may write exports and cases to, per key (default: writing is off)")
	fs.IntVar(&o.MaxSessions, "max-sessions", 32, "most sessions at once (0: no limit)")
	fs.IntVar(&o.MaxSessionsPerKey, "max-sessions-per-key", 4, "most sessions at once for one key (0: no limit)")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", 30*time.Minute, "end a session after this long without input (0: never)")
	o.Window.AddFlags(fs)
	fs.BoolVarP(&o.Follow, "follow", "f", false, "tail new events (default: on when the only source is one plain file, or a directory or glob holding one rotated set whose live file is plain)")
	fs.StringArrayVar(&o.Rules, "rules", nil, "a Loki ruler file to evaluate besides the built-in pack (repeatable)")
	fs.BoolVar(&o.NoBuiltin, "no-builtin", false, "do not load the built-in alert rules")
	fs.BoolVar(&o.NoAlerts, "no-alerts", false, "do not evaluate alert rules")
	fs.StringVar(&o.Policy, "policy", "", "audit policy file: show the level it gives each event in the detail pane")
	fs.StringVar(&o.SpillDir, "spill-dir", "", "directory for the spill file of non-seekable sources (default: system temp)")
	fs.BoolVar(&o.Local, "local-time", false, "show times in the server's local time zone instead of UTC")
	o.Sources = f.Sources(fs)
	return cmd
}

// validate checks the flags before anything is opened.
func (o *ServeOptions) validate() error {
	switch {
	case o.AuthorizedKeys == "":
		return cmdutil.UsageErrorf("--authorized-keys is required: the OpenSSH authorized_keys file of who may connect")
	case o.HostKey == "":
		return cmdutil.UsageErrorf("--host-key is required: where the server's host key is (or will be created)")
	case o.MaxSessions < 0 || o.MaxSessionsPerKey < 0:
		return cmdutil.UsageErrorf("--max-sessions and --max-sessions-per-key must not be negative")
	case o.IdleTimeout < 0:
		return cmdutil.UsageErrorf("--idle-timeout must not be negative")
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return cmdutil.UsageErrorf("--listen %q: %v", o.Listen, err)
	}
	return nil
}

// checkDataDir refuses a --data-dir among the evidence: in (or under) a
// local SOURCE directory or the directory of a local SOURCE file, where
// what sessions write would sit beside the sources and be read as sources
// by the next `audittui DIR/`.
func checkDataDir(dataDir string, args []string) error {
	return checkOutsideEvidence("--data-dir", dataDir, "sessions would write beside the sources; choose a directory", args)
}

// checkWrites refuses every path the server itself writes that is among
// the evidence, as checkDataDir does --data-dir: the access log, the spill
// directory, and a host key it would generate (one that exists is only
// read).
func checkWrites(o *ServeOptions) error {
	if o.DataDir != "" {
		if err := checkDataDir(o.DataDir, o.Args); err != nil {
			return err
		}
	}
	if o.AccessLog != "" && o.AccessLog != "-" {
		if err := checkOutsideEvidence("--access-log", o.AccessLog, "the server would append its log beside the sources; choose a file", o.Args); err != nil {
			return err
		}
	}
	if o.SpillDir != "" {
		if err := checkOutsideEvidence("--spill-dir", o.SpillDir, "the server would write spill files beside the sources; choose a directory", o.Args); err != nil {
			return err
		}
	}
	if _, err := os.Stat(o.HostKey); errors.Is(err, fs.ErrNotExist) {
		if err := checkOutsideEvidence("--host-key", o.HostKey, "the server would generate its key beside the sources; choose a file", o.Args); err != nil {
			return err
		}
	}
	return nil
}

// checkOutsideEvidence refuses path (of flag) in or under a local SOURCE
// directory or the directory of a local SOURCE file; what says what would
// happen there and what to choose instead.
func checkOutsideEvidence(flag, path, what string, args []string) error {
	dd, err := resolvePath(path)
	if err != nil {
		return cmdutil.UsageErrorf("%s: %v", flag, err)
	}
	for _, a := range args {
		if a == "-" || strings.Contains(a, "://") {
			continue
		}
		p := a
		if i := strings.IndexAny(p, "*?["); i >= 0 { // a glob: its fixed part
			p = filepath.Dir(p[:i] + "x")
		} else if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			p = filepath.Dir(p)
		}
		base, err := resolvePath(p)
		if err != nil {
			continue
		}
		if dd == base || strings.HasPrefix(dd, base+string(filepath.Separator)) || base == string(filepath.Separator) {
			return cmdutil.UsageErrorf("%s %s is among the evidence (SOURCE %s): %s outside %s", flag, path, a, what, base)
		}
	}
	return nil
}

// resolvePath is p absolute, with the symbolic links of its longest
// existing prefix resolved.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; cur = filepath.Dir(cur) {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		if cur == filepath.Dir(cur) {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}

func run(ctx context.Context, o *ServeOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	from, to, err := o.Window.Range(o.Now)
	if err != nil {
		return err
	}
	// The server's own log: text on stderr (the access log is separate).
	log := slog.New(slog.NewTextHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo}))

	srcs, ok, err := o.Sources.Resolve(ctx, o.Args)
	if err != nil {
		return err
	}
	if !ok || len(srcs) == 0 {
		return cmdutil.UsageErrorf("no SOURCE to serve")
	}
	if err := checkWrites(o); err != nil {
		return err
	}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return cmdutil.UsageErrorf("--data-dir: %v", err)
		}
	}
	fo := cmdutil.Follow{On: o.Follow}
	if !o.FollowSet {
		fo = cmdutil.DefaultFollowTree(o.Args, o.Sources.Recursive())
	}
	if to != 0 {
		fo.Status = "" // a window that ends: nothing new could fall in it
	}
	follow := fo.On
	// The job of --label: the filter shorthand and the TUI's queries
	// select it; a filter whose selector no stream has is refused.
	job := o.Sources.Job()
	uo := ui.Options{Title: strings.Join(o.Args, " "), Follow: follow, NotFollowing: fo.Status, Notice: fo.Notice,
		Compile: ui.CompileLogQLFor(job), Job: job,
		Streams: cmdutil.StreamLabels(ctx, srcs, data.ReadOptions{From: from, To: to, Follow: follow}, []string{"job"}).Labels}
	if o.Local {
		uo.Loc = time.Local
	}
	if o.Policy != "" {
		p, err := auditpolicy.LoadFile(o.Policy)
		if err != nil {
			return cmdutil.UsageError(err)
		}
		uo.Level = cmdutil.PolicyLevel(p)
	}
	// The same alert engine as the local TUI's (live.Alerts), evaluated
	// once for every session; with a Loki source, Loki's ruler too.
	lo := live.Options{Sources: srcs, Read: data.ReadOptions{From: from, To: to, Follow: follow},
		SpillDir: o.SpillDir, Log: log, Alerts: !o.NoAlerts}
	if !o.NoAlerts && !(o.NoBuiltin && len(o.Rules) == 0) {
		if lo.Rules, err = cmdutil.LoadRulesFor(o.Rules, o.NoBuiltin, o.Sources.Job(), o.IO.ErrOut); err != nil {
			return err
		}
		// Rules that watch nothing: named in every session's Alerts pane
		// and counted in its status bar as the local TUI does (one path),
		// said on the server's log.
		var notice string
		lo.Blind, notice = live.BlindRules(ctx, srcs, lo.Read, lo.Rules, o.IO.ErrOut)
		switch {
		case uo.Notice == "":
			uo.Notice = notice
		case notice != "":
			uo.Notice = notice + " · " + uo.Notice
		}
	}

	var accessW io.Writer = o.IO.Out
	if o.AccessLog != "" && o.AccessLog != "-" {
		f, err := os.OpenFile(o.AccessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return cmdutil.UsageErrorf("--access-log: %v", err)
		}
		defer f.Close()
		accessW = f
	}
	if os.Getenv("GOGC") == "" { // the runtime's own variable
		debug.SetGCPercent(gcPercent)
	}
	lv, err := live.Open(ctx, lo)
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitInputError, Err: err}
	}
	defer lv.Close()
	access := serve.NewAccessLog(accessW, log)
	defer access.Close()

	srv, err := serve.New(serve.Config{
		HostKey: o.HostKey, AuthorizedKeys: o.AuthorizedKeys, Live: lv, UI: uo,
		AccessLog: access, DataDir: o.DataDir,
		MaxSessions: o.MaxSessions, MaxSessionsPerKey: o.MaxSessionsPerKey, IdleTimeout: o.IdleTimeout,
		Version: buildinfo.Get().Version, Log: log,
	})
	if err != nil {
		return cmdutil.UsageError(err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return cmdutil.UsageErrorf("--listen: %v", err)
	}
	if srv.Created {
		log.Info("generated a new host key", "file", o.HostKey, "fingerprint", srv.HostKeyFingerprint())
	}
	writes := "off"
	if o.DataDir != "" {
		writes = o.DataDir + "/<key fingerprint>"
	}
	log.Info("audittui serve listening", "addr", ln.Addr().String(), "host_key", srv.HostKeyFingerprint(),
		"authorized_keys", srv.AuthorizedKeyCount(), "sources", len(srcs), "follow", follow, "writes", writes)
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("stopping: ending sessions")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		err = srv.Shutdown(sctx)
		cancel()
		if serr := <-served; err == nil {
			err = serr
		}
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
