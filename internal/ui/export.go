package ui

import (
	"fmt"
	"path/filepath"
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
	return func() tea.Msg {
		dir, err := a.writeDir(path)
		if err != nil {
			return caseMsg{err: fmt.Errorf("export: %w", err), row: -1}
		}
		fail := func(err error) tea.Msg { return caseMsg{err: fmt.Errorf("export %s: %w", dir, err), row: -1} }
		var rows []uint32
		all := !f.Active()
		if !all {
			var err error
			if rows, err = f.EvalRange(ctx, s, 0, s.Len(), nil); err != nil {
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
		view.Export = ex
		view.Time = time.Time{}
		rec, err := cs.Add(view)
		if err != nil {
			return fail(err)
		}
		status := fmt.Sprintf("exported %s to %s (check: audittui verify %s)", plural(m.Events, "event", "events"), dir, dir)
		if loading {
			status += "; the input was still loading: only what was read so far"
		}
		if cs.Dir() == "" {
			status += "; no case open: :case DIR records it"
		}
		return caseMsg{cs: cs, st: cs.State(), row: -1, status: status, records: []casefile.Record{rec}}
	}
}
