package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/termsafe"
)

// RejectReporter prints each rejected input line (file:line and reason) on
// stderr as it comes, counts them, and turns the count into exit status 1.
// It is safe for concurrent use (the alert engine reports from its own
// goroutine).
type RejectReporter struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool
	n     int
	// undated counts events a time window left out for lack of a time;
	// undatedAt cites the first.
	undated   int
	undatedAt string
	// undatedOne, undatedMany and undatedShort say what became of them
	// (SayUndated).
	undatedOne, undatedMany, undatedShort string
	// dups counts exact duplicate lines counted once (data.Dups) among
	// dupsOf ("the matching lines"): what the command checked for copies.
	dups   int64
	dupsOf string
	// notes are said once at the end (Err), before the counts.
	notes []string
}

// NewRejectReporter reports on w; quiet counts without printing.
func NewRejectReporter(w io.Writer, quiet bool) *RejectReporter {
	return &RejectReporter{w: w, quiet: quiet}
}

// Add reports rejected lines (a reject that stands for a run of lines, a
// skipped range, counts each of them).
func (r *RejectReporter) Add(rejs []data.Reject) {
	if len(rejs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rj := range rejs {
		r.n += int(rj.LineCount())
		if !r.quiet {
			fmt.Fprintf(r.w, "audittui: skipped %s\n", termsafe.String(rj.Error()))
		}
	}
}

// AddUndated counts events that a time window left out because they carry
// no timestamp (data.Batch.Undated), the first of which is at
// (data.Batch.UndatedAt); Err reports them once, and they make the exit
// status 1: the answer leaves out input it could not place in time.
func (r *RejectReporter) AddUndated(n int, at string) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	if r.undated == 0 {
		r.undatedAt = at
	}
	r.undated += n
	r.mu.Unlock()
}

// Left out by a time window: what every command but alerts says of its
// undated events.
const (
	undatedWindowOne   = "could not be placed in the time window and was left out"
	undatedWindowMany  = "could not be placed in the time window and were left out"
	undatedWindowShort = "left out"
)

// SayUndated sets the words Err uses for what became of the undated
// events: one or many (for one event, for several) on the stderr line
// ("N events without a timestamp MANY (the first: FILE:LINE)"), short in
// the one line that says why the exit status is 1 under quiet ("N events
// without a timestamp SHORT"). The default is a time window's: "could
// not be placed in the time window and was (were) left out", "left out".
// A command that leaves them out for another reason (the alert rules
// cannot evaluate them) says so here and reports them by the same path.
func (r *RejectReporter) SayUndated(one, many, short string) {
	r.mu.Lock()
	r.undatedOne, r.undatedMany, r.undatedShort = one, many, short
	r.mu.Unlock()
}

// UndatedMessage says that n events without a timestamp were left out
// (one or many: what became of one event, of several), naming the first
// (at, a citation; may be empty).
func UndatedMessage(n int64, at, one, many string) string {
	msg := fmt.Sprintf("%s %s", plural.Count(n, "event without a timestamp", "events without a timestamp"), plural.Word(n, one, many))
	if at != "" {
		msg += " (the first: " + at + ")"
	}
	return msg
}

// AddDuplicates counts exact duplicate lines that were counted once
// (data.Dups) among of, the lines the command checked for copies ("the
// matching lines", "the lines that feed a rule"): a command that checks
// only its matches must not make the count read as the input's. Err
// says them ("N of the matching lines were duplicates ..."), without
// making them an error.
func (r *RejectReporter) AddDuplicates(n int64, of string) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	r.dups += n
	r.dupsOf = of
	r.mu.Unlock()
}

// DuplicatesMessage says that n of the lines of (see AddDuplicates)
// were exact duplicates, counted once.
func DuplicatesMessage(n int64, of string) string {
	return fmt.Sprintf("%d of %s were duplicates (identical to one read before) and counted once", n, of)
}

// OthersMessage says that n of what (events the command checked for
// copies, one and many: "matching event", "matching events") have the
// auditID, stage and time of another but other bytes, so are not
// duplicates: both were done (what became of them: "printed and
// counted").
func OthersMessage(n int64, one, many, done string) string {
	return fmt.Sprintf("%s the auditID, stage and time of another but other bytes (another serialisation, such as keys in another order, or an edited copy): %s, so both are %s, as Loki keeps both",
		plural.Count(n, one+" has", many+" have"), plural.Word(n, "not a duplicate", "not duplicates"), done)
}

// AddNote says msg on stderr at the end (unless quiet), without making
// it an error.
func (r *RejectReporter) AddNote(msg string) {
	r.mu.Lock()
	r.notes = append(r.notes, msg)
	r.mu.Unlock()
}

// Count is the number of lines reported.
func (r *RejectReporter) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Err returns exit status 1 when input was rejected or events without a
// timestamp were left out, else nil. Each thing is said once: the
// rejected lines as they came (Add), then the notes, the duplicates and
// the undated events' line; the error that sets the status adds only the
// count of the rejected lines ("N input line(s) rejected (see above)"),
// or nothing when only undated events were left out (their line says
// it). Quiet, nothing is listed, and the error is the one line that says
// why the status is 1 ("N input line(s) rejected and M event(s) without
// a timestamp left out").
func (r *RejectReporter) Err() error {
	r.mu.Lock()
	undated, undatedAt, dups, dupsOf, notes := r.undated, r.undatedAt, r.dups, r.dupsOf, r.notes
	one, many, short := r.undatedOne, r.undatedMany, r.undatedShort
	r.mu.Unlock()
	if many == "" {
		one, many, short = undatedWindowOne, undatedWindowMany, undatedWindowShort
	}
	n := r.Count()
	if r.quiet {
		var parts []string
		if n > 0 {
			parts = append(parts, plural.Count(n, "input line", "input lines")+" rejected")
		}
		if undated > 0 {
			parts = append(parts, plural.Count(undated, "event without a timestamp", "events without a timestamp")+" "+short)
		}
		if len(parts) == 0 {
			return nil
		}
		return &ExitError{Code: ExitInputError, Err: errors.New(strings.Join(parts, " and "))}
	}
	for _, n := range notes {
		fmt.Fprintf(r.w, "audittui: %s\n", termsafe.String(n))
	}
	if dups > 0 {
		fmt.Fprintf(r.w, "audittui: %s\n", DuplicatesMessage(dups, dupsOf))
	}
	if undated > 0 {
		fmt.Fprintf(r.w, "audittui: %s\n", termsafe.String(UndatedMessage(int64(undated), undatedAt, one, many)))
	}
	switch {
	case n > 0:
		return &ExitError{Code: ExitInputError, Err: fmt.Errorf("%s rejected (see above)", plural.Count(n, "input line", "input lines"))}
	case undated > 0:
		return &ExitError{Code: ExitInputError} // said above
	}
	return nil
}
