// Package ui is audittui's terminal UI (Bubble Tea v2, Bubbles v2, Lip
// Gloss v2).
//
// Data path: a Feed (loader.go) reads batches from a data.Stream into the
// Index (index.go) on its own goroutine and coalesces "the index grew"
// notifications (at most one per 50 ms; the first batch at once, so the
// first screen does not wait for the whole input). The Index keeps compact
// per-event columns (time, latency, dictionary ids of the shown and
// filtered fields, auditID hash, where the original bytes are) and reads an
// event's JSON back from its file, or from an unlinked spill file for
// non-seekable sources, only when it is shown. Readers work on Snapshots,
// which the single writer never disturbs. The dictionary columns are the
// fields the schema (data.Fields) marks Indexed; their names, the memo's
// field and JSON-path lookups and tab completion come from the same table.
//
// Filtering (filter.go, logqlfilter.go): the filter bar takes LogQL log
// queries (or a shorthand that adds {job="audit"} | json). A query is
// evaluated on the columns through a memoised decision tree keyed by
// dictionary ids, so re-filtering a million events costs tens of
// milliseconds; only line filters and fields the index does not keep
// re-read events. Filters run in tea.Cmds tagged with a generation; stale
// results are dropped. Every filter the TUI writes itself is LogQL, shown
// in the filter line and answered by `audittui query` and Grafana the same
// way: the Timeline's `f` builds it from the schema (EqualsQuery,
// AuditIDQuery); the Alerts' `f` is the rule's own query narrowed to the
// group's labels, over the alert's window (Since/Until, as --from/--to).
//
// Alerts (alerts.go, silences.go): the pane groups the engine's instances
// with rules.GroupAlerts (rule, then grouping labels; Alertmanager's
// model), draws the Loki ruler's alerts beside the local ones, drills in
// with the rule's LogQL plus the alert's window (Filter.Since/Until), and
// keeps silences as a list of group keys (App.Silences, SetSilences). The
// engine runs outside the UI (internal/cli/tui) and reports through
// AlertSource.
//
// Screen: App (app.go, layout.go) routes keys through the one Keymap table
// (keymap.go, which also drives the help overlay) — global bindings first,
// then the focused pane's — and lays out header, pane, filter bar and
// status bar. Panes, one per file: Tail (tail.go), Timeline (timeline.go),
// Alerts (alerts.go), Stats (stats.go), Detail (detail.go, jsonview.go);
// FilterBar (filterbar.go) edits `/` and `:` input. Rows are rendered by
// pure functions (rows.go). Every string from an event goes through the
// shared sanitiser, internal/termsafe, before it is drawn (sanitize.go adds
// the styled, width-cut form); Styles (styles.go) come from one small
// palette and honour NO_COLOR.
//
// Update never does I/O: reading events back, filtering and alert
// snapshots run in commands that return typed messages (msgs.go).
package ui
