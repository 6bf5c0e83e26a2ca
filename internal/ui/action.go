package ui

// RecordKind names what a session did, for Options.OnAction records.
type RecordKind string

// The kinds of ActionRecord.
const (
	// RecordFilter: a filter was applied (the bar, a drill-in, :since,
	// :clear, esc). Text is the filter as the filter line shows it ("" once
	// cleared); a filter that did not compile has Err set.
	RecordFilter RecordKind = "filter"
	// RecordCommand: a `:` command line was submitted, as typed (without
	// the colon); one that did not parse has Err set.
	RecordCommand RecordKind = "command"
	// RecordExport: files were written (the export and case features).
	// Text is the command, Path the directory written; a refused or failed
	// export has Err set.
	RecordExport RecordKind = "export"
	// RecordBookmark, RecordUnbookmark: an event was bookmarked (m) or
	// its bookmark removed. Text is the event's citation (file:line, or
	// the Loki stream and time).
	RecordBookmark   RecordKind = "bookmark"
	RecordUnbookmark RecordKind = "unbookmark"
)

// ActionRecord is one thing a session did, as Options.OnAction receives it. The
// strings are as the user typed them: untrusted, sanitise before they
// reach a terminal (JSON encoding escapes them for a log file).
type ActionRecord struct {
	Kind RecordKind
	Text string
	Path string
	Err  string
}

// newAction builds a record, with err's text when it failed.
func newAction(kind RecordKind, text string, err error) ActionRecord {
	a := ActionRecord{Kind: kind, Text: text}
	if err != nil {
		a.Err = err.Error()
	}
	return a
}

// action reports a to the OnAction hook, if any.
func (a *App) action(act ActionRecord) {
	if a.opts.OnAction != nil {
		a.opts.OnAction(act)
	}
}
