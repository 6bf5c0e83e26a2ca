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
// results are dropped. Every filter the TUI writes itself (the Timeline's
// and Alerts' `f`) is LogQL built from the schema (EqualsQuery,
// AuditIDQuery), shown in the filter line and answered by `audittui query`
// and Grafana the same way; so is the Stats drill-in (DrillQuery), which
// narrows the filter in use. Every filter change the user makes can be
// undone (u, :undo).
//
// Screen: App (app.go, layout.go) routes keys through the one Keymap table
// (keymap.go): a pane's overrides (the `/` search of Detail and of the
// help), then global bindings, then the focused pane's; it lays out
// header, pane, filter bar and status bar. The help overlay (help.go) is
// built from the key table and the `:` command table (command.go), scrolls
// and searches. Panes, one per file: Tail (tail.go), Timeline
// (timeline.go), Alerts (alerts.go), Stats (stats.go), Detail (detail.go,
// jsonview.go: valid JSON, wrapped or scrolled sideways, searchable);
// FilterBar (filterbar.go) edits `/`, `:` and search input. Rows are
// rendered by pure functions (rows.go); identities are abbreviated for
// display by one function, ShortIdentity (identity.go, whose rule table is
// where new identity kinds go), and cut in the middle. Every string from an
// event goes through the shared sanitiser, internal/termsafe, before it is
// drawn (sanitize.go adds the styled, width-cut form); Styles (styles.go)
// come from one small palette and honour NO_COLOR.
//
// Update never does I/O: reading events back, filtering and alert
// snapshots run in commands that return typed messages (msgs.go).
package ui
