package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/audittui/audittui/internal/buildinfo"
	"github.com/audittui/audittui/internal/casefile"
	"github.com/audittui/audittui/internal/evidence"
)

// :export DIR writes the events of the current filter and window, as
// one line each in index (time) order (compacted when they span lines),
// to DIR/events.jsonl, with DIR/events.index.jsonl citing each line's
// original bytes, with the
// SHA-256 manifests `audittui export` writes (internal/evidence: the same
// layout, checked by `audittui verify DIR` and `sha256sum -c`), and records
// the export in the case. The filter is evaluated again over everything
// read so far, in the command, so the export is complete even while a
// filter is still running on screen.

func (a *App) export(path string) tea.Cmd {
	if path == "" {
		return a.statusErr(fmt.Errorf(":export DIR writes the matching events and their manifest to DIR"))
	}
	f := a.filter.Clone()
	s := a.c.Snap
	view := a.viewRecord(casefile.KindExport)
	man := evidence.Manifest{
		Generator: buildinfo.Get().String(), ExportedAt: a.c.Now().UTC(),
		Sources: a.opts.Sources.Args, Query: view.Query, Filter: view.Filter, Negated: view.Negate,
		From: view.From, To: view.To, NotRead: a.opts.Sources.NotRead,
	}
	if len(man.Sources) == 0 && a.opts.Title != "" {
		man.Sources = []string{a.opts.Title}
	}
	cs := a.wb.cs
	ctx := a.ctx
	loading := !s.Done
	// The record OnAction gets (the access log of `audittui serve`): the
	// command as typed, the directory written, why it failed.
	act := &ActionRecord{Kind: RecordExport, Text: "export " + path}
	return func() tea.Msg {
		dir, err := a.writeDir(path)
		if err != nil {
			err = fmt.Errorf("export: %w", err)
			act.Err = err.Error()
			return caseMsg{err: err, row: -1, act: act}
		}
		act.Path = dir
		fail := func(err error) tea.Msg {
			err = fmt.Errorf("export %s: %w", dir, err)
			act.Err = err.Error()
			return caseMsg{err: err, row: -1, act: act}
		}
		// Events whose bytes are gone (a followed file cut in place, no
		// copy found) are not exported: counted and named per file, in
		// the status, MANIFEST.json and the case.
		gone := &goneTally{s: s}
		var rows []uint32
		all := !f.Active()
		if !all {
			var err error
			if rows, _, err = f.evalRangeGone(ctx, s, 0, s.Len(), nil, func(i int) { gone.add(i, true) }); err != nil {
				return fail(err)
			}
		}
		d, err := evidence.Create(dir, man, false)
		if err != nil {
			return fail(err)
		}
		w, err := d.Events()
		if err != nil {
			return fail(err)
		}
		n := len(rows)
		if all {
			n = s.Len()
		}
		for k := 0; k < n; k++ {
			i := k
			if !all {
				i = int(rows[k])
			}
			raw, err := s.RawChecked(i)
			if errors.Is(err, errCut) {
				gone.add(i, false)
				continue
			}
			if err == nil {
				err = w.WriteEvent(raw, s.Cite(i))
			}
			if err != nil {
				w.Abort()
				return fail(err)
			}
		}
		if err := w.Close(); err != nil {
			return fail(err)
		}
		if gone.n > 0 {
			d.Update(func(m *evidence.Manifest) { m.EventsGone, m.Gone = gone.n, gone.list() })
		}
		m, err := d.WriteManifests()
		if err != nil {
			return fail(err)
		}
		msum, _, err := evidence.HashFile(filepath.Join(dir, evidence.ManifestSHA))
		if err != nil {
			return fail(err)
		}
		ex := &casefile.Export{Dir: dir, Events: m.Events, ManifestSHA256: msum}
		for _, e := range m.Entries {
			ex.Entries = append(ex.Entries, casefile.ExportEntry{Path: e.Path, SHA256: e.SHA256, Size: e.Size})
		}
		ex.EventsGone = m.EventsGone
		for _, g := range m.Gone {
			ex.Gone = append(ex.Gone, casefile.ExportGone{Source: g.Source, Events: g.Events, Unsearched: g.Unsearched, First: g.First})
		}
		view.Export = ex
		view.Time = time.Time{}
		rec, err := cs.Add(view)
		if err != nil {
			return fail(err)
		}
		status := fmt.Sprintf("exported %s to %s (check: audittui verify %s)", plural(m.Events, "event", "events"), dir, dir)
		if gone.n > 0 {
			status = fmt.Sprintf("exported %s to %s; NOT exported: %s (check: audittui verify %s)", plural(m.Events, "event", "events"), dir, gone.summary(), dir)
		}
		if loading {
			status += "; the input was still loading: only what was read so far"
		}
		if cs.Dir() == "" {
			status += "; no case open: :case DIR records it"
		}
		return caseMsg{cs: cs, st: cs.State(), row: -1, status: status, records: []casefile.Record{rec}, act: act}
	}
}

// goneTally counts, per file, the events an export could not write
// because their bytes are gone (RawChecked: errCut; the filter's
// cutReader: rows it could not search).
type goneTally struct {
	s     *Snapshot
	by    map[string]*evidence.GoneEvents
	order []string
	n     int
}

// add counts row i: selected (unsearched false) or not searched.
func (g *goneTally) add(i int, unsearched bool) {
	o := g.s.Origin(i)
	name := "(unnamed source)"
	if o.Source != nil {
		name = o.Source.Name
	}
	e := g.by[name]
	if e == nil {
		if g.by == nil {
			g.by = map[string]*evidence.GoneEvents{}
		}
		e = &evidence.GoneEvents{Source: name, First: o.Cite(),
			Reason: "cut in place (logrotate copytruncate?) after they were read: its offsets hold other bytes now, and no copy beside it (" + name + ".1, -YYYYMMDD, .gz) holds theirs"}
		g.by[name] = e
		g.order = append(g.order, name)
	}
	if unsearched {
		e.Unsearched++
	} else {
		e.Events++
	}
	g.n++
}

// list is the tally for MANIFEST.json, per file in the order met.
func (g *goneTally) list() []evidence.GoneEvents {
	out := make([]evidence.GoneEvents, 0, len(g.order))
	for _, n := range g.order {
		out = append(out, *g.by[n])
	}
	return out
}

// summary says it in the status bar: how many, from which file, and
// that their bytes are gone.
func (g *goneTally) summary() string {
	var parts []string
	for _, e := range g.list() {
		p := fmt.Sprintf("%s of %s", plural(e.Events+e.Unsearched, "event", "events"), e.Source)
		if e.Unsearched > 0 {
			p += fmt.Sprintf(" (%d the filter could not search: they may match)", e.Unsearched)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ") + ": their bytes are gone (the file was cut in place after they were read, no copy found; MANIFEST.json \"gone\" lists them)"
}
