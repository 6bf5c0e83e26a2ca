// Package ui is audittui's terminal UI (Bubble Tea v2, Bubbles v2, Lip
// Gloss v2).
//
// Data path: a Feed (loader.go) reads batches from a data.Stream into the
// Index (index.go) on its own goroutine and coalesces "the index grew"
// notifications (at most one per 50 ms; the first batch at once, so the
// first screen does not wait for the whole input). The Index keeps compact
// per-event columns (time, latency, dictionary ids of the shown and
// filtered fields, auditID hash, where the original bytes are, the line in
// the source and, for Loki entries, the stream time) and reads an
// event's JSON back from its file, or from an unlinked spill file for
// non-seekable sources, only when it is shown. Readers work on Snapshots,
// which the single writer never disturbs. The dictionary columns are the
// fields the schema (data.Fields) marks Indexed; their names, the memo's
// field and JSON-path lookups and tab completion come from the same table.
//
// Rows are shown in time order: an input read out of order (concatenated
// files) gets a permutation column once it is read (Snapshot.Row/Pos,
// RowSet); the events are not moved.
//
// Filtering (filter.go, logqlfilter.go): the filter bar takes LogQL log
// queries (or a shorthand that adds {job="audit"} | json); plain words are
// a line filter (|= "word"), and a label filter on a name that is not a
// field but close to one is an error naming the field meant. A query is
// evaluated on the columns through a memoised decision tree keyed by
// dictionary ids, so re-filtering a million events costs tens of
// milliseconds; only line filters and fields the index does not keep
// re-read events. Filters run in tea.Cmds tagged with a generation; stale
// results are dropped. Every filter the TUI writes itself is LogQL, shown
// in the filter line and answered by `audittui query` and Grafana the same
// way: the Timeline's `f` builds it from the schema (EqualsQuery,
// AuditIDQuery); the Alerts' `f` is the rule's own query narrowed to the
// group's labels, over the alert's window (Filter.Since/Until, as
// --from/--to); so is the Stats drill-in (DrillQuery), which narrows the
// filter in use. Every filter change the user makes can be undone (u,
// :undo).
//
// Alerts (alerts.go, silences.go): the pane groups the engine's instances
// with rules.GroupAlerts (rule, then grouping labels; Alertmanager's
// model), draws the Loki ruler's alerts beside the local ones, drills in
// with the rule's LogQL plus the alert's window, and keeps silences as a
// list of group keys (App.Silences, SetSilences); each silence and
// unsilence is also a record of the case (RecordSilence,
// RecordUnsilence), and a reopened case restores them. The engine runs
// outside the UI (package ui/live) and reports through AlertSource.
//
// Screen: App (app.go, layout.go) routes keys through the one Keymap table
// (keymap.go): a pane's overrides (the `/` search of Detail and of the
// help), then global bindings, then the focused pane's; it lays out
// header, pane, filter bar and status bar (keys.go: key routing, the bars
// and `:` commands; appfilter.go: filter changes, undo, drill-ins, time
// order). The help overlay (help.go) is built from the key table and the
// `:` command table (command.go, also the one source of the commands'
// parse errors), scrolls and searches. Panes, one per file: Tail
// (tail.go), Timeline (timeline.go), Alerts (alerts.go), Stats (stats.go),
// Detail (detail.go, jsonview.go: valid JSON, wrapped or scrolled
// sideways with ←/→, searchable); FilterBar (filterbar.go) edits `/`, `:`
// and search input. The History pane (history.go, over internal/history)
// opens over the focused one: `h` on an event (on an alert: the objects
// its events touched) or `:history RESOURCE/NAME`, with the object's
// LogQL query as its filter. Rows are rendered by pure functions
// (rows.go). Who made a request (identity.go) is shown as the account in
// its short form (ShortIdentity: sa:NS:NAME, node:HOST; its rule table is
// where new identity kinds go) with the person behind it where the event
// records one (data.Identity: an EKS role's session, a token's pod, an
// impersonated user), both cut in the middle when too long (UserCell);
// the Timeline pivots to a token's credential id and to a role's person.
// Every string from an event goes through the shared sanitiser,
// internal/termsafe, before it is drawn (sanitize.go adds the styled,
// width-cut form); Styles (styles.go) come from one small palette and
// honour NO_COLOR.
//
// The investigation workbench: window.go (absolute time: the read window
// of --since/--from/--to, :from/:to/:window/:goto, the header's window),
// brush.go (the Timeline histogram as a time-range selector with zoom),
// cite.go (the Detail's FILE:LINE citation and sha256), bookmarks.go (m,
// [, ], the ' list, ★ in the Tail), casefile.go (the case directory of
// internal/casefile: notes, tags, saved filters, silences, sessions,
// restored on reopen by the events' sha256) and export.go (:export through
// internal/evidence).
//
// Update never does I/O: reading events back, filtering, alert snapshots
// and case writes run in commands that return typed messages (msgs.go).
//
// Many Apps, one index (loader.go, package ui/live): an Index has one
// writer, the Feed's goroutine, and any number of readers. Feed.Subscribe
// gives each further App its own waiter on the same feed (a generation
// counter and a channel closed on each change, so no App waits for
// another and none misses a change); a waiter's context ends its pending
// wait when its App is gone. Package live builds the Index, the Feed and
// the alert engine once (live.Open) and fans the alerts out
// (Alerts.Subscribe, one ui.AlertSource per App). The local TUI builds one
// for its App; `audittui serve` (internal/serve) one for all its SSH
// sessions, each with its own App: filters, panes and window size are per
// App, the index and the rule evaluation are not.
//
// Writing files (write.go, files.go): Options.Write is the only way the
// TUI may write, and every feature that writes (`:export DIR`, the case
// directory of --case and :case) goes through it: App.writeDir calls
// Options.Write.Dir(name) from a tea.Cmd (it does I/O), which checks the
// name, creates the directory (refusing names that leave it and symbolic
// links on the way) and gives its path; the case file (internal/casefile)
// and the export (internal/evidence) then write only inside that
// directory (nothing a session does can create a link there). A finished
// export is reported as an ActionRecord{Kind: RecordExport}. The policies: WritesOff (nil Options.Write: every write is
// refused with a message; serve without --data-dir), LocalWrites (the
// local TUI: the user's own rights, relative or absolute paths) and
// WriteUnder(dir) (serve --data-dir: DIR/<key fingerprint>; absolute
// paths, `..` and symbolic links are refused). Nothing ever writes to a
// source.
//
// Audit hook (action.go): Options.OnAction receives an ActionRecord for
// every filter applied (from the bar, a drill-in, :since, :clear, esc, a
// window, u or :undo; one that does not compile with Err; not the same
// filter evaluated again when the rows are put in time order), every `:`
// command submitted (as typed), and every export. It runs on the Update goroutine, so it must
// only hand the record on (serve's access log queues it to a writer
// goroutine). serve writes these records, with the session's key, to its
// access log.
package ui
