package ui

// Messages that commands send back to the app. Commands never change the
// model; results are tagged with the generation of the request so a stale
// result (for a filter that was replaced meanwhile) is ignored.

import "github.com/audittui/audittui/internal/data"

// filterDoneMsg carries the rows matching filter generation gen in
// [from, upTo).
type filterDoneMsg struct {
	gen  uint64
	from int
	upTo int
	rows []uint32
	gone int // rows not searched: bytes gone after a cut (cutReader)
	err  error
}

// detailLoadedMsg carries an event's raw bytes and its other stages.
type detailLoadedMsg struct {
	gen    uint64
	row    int
	stages []stageRaw
	level  string
	err    error
}

// stageRaw is one stage of an auditID, read back from its source, with
// the sha256 of its bytes (cite.go) and the audit event decoded from them
// (carrier.go; everr when they hold none).
type stageRaw struct {
	row    int
	raw    []byte
	sha256 string
	ev     data.Event
	everr  error
	// also are where copies of the event's bytes were read (cited,
	// untrusted), of alsoN (Snapshot.AlsoAt).
	also  []string
	alsoN int
}

// statusMsg shows a transient message in the status bar.
type statusMsg string

// fitStatusMsg is a status message (head+name+note+hint) whose parts give
// way in order when the status bar is short: the note, then the name
// (untrusted: a user name) is cut in the middle, down to a few cells,
// before the hint (how to go back) would be.
type fitStatusMsg struct{ head, name, note, hint string }

func (m fitStatusMsg) String() string { return m.head + m.name + m.note + m.hint }

// orderMsg carries the time order of the first n index rows (a
// permutation: position -> row).
type orderMsg struct {
	n     int
	order []uint32
}
