package ui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// The Timeline's histogram is also a time-range selector: ←/→ (or </>)
// move a cursor over its columns, v starts (or drops) a selection that the
// cursor then extends, + zooms the view's window to the selection (or to
// the half around the cursor), - zooms back out. The window applies to
// every pane and is shown in the header (window.go). The histogram's axis
// is the view's window when it has one, else the subject's first to last
// event, so zooming in gives the selection the whole width.

// brush is the selection state over the histogram's columns.
type brush struct {
	active bool
	cursor int
	anchor int // -1: no selection
	// The axis last drawn: columns w over [lo, hi).
	lo, hi int64
	w      int
}

func newBrush() brush { return brush{anchor: -1} }

// colTime is the start of column c. (In floating point: span times
// width overflows int64 for spans of a few years, which a bogus timestamp
// can give.)
func (b *brush) colTime(c int) int64 {
	if c >= b.w {
		return b.hi
	}
	return b.lo + int64(float64(b.hi-b.lo)*float64(c)/float64(max(1, b.w)))
}

// selection returns the selected columns [c1, c2].
func (b *brush) selection() (int, int, bool) {
	if !b.active || b.anchor < 0 {
		return 0, 0, false
	}
	return min(b.anchor, b.cursor), max(b.anchor, b.cursor), true
}

// action handles the brush's keys.
func (b *brush) action(a Action) (tea.Cmd, bool) {
	if b.w <= 0 || b.hi <= b.lo {
		switch a {
		case ActBrushLeft, ActBrushRight, ActBrushMark, ActZoomIn:
			return func() tea.Msg { return statusMsg("no histogram to select on: no events") }, true
		case ActZoomOut:
			return func() tea.Msg { return windowMsg{pop: true} }, true
		}
		return nil, false
	}
	switch a {
	case ActBrushLeft, ActBrushRight:
		if !b.active {
			b.active, b.cursor = true, b.w/2
		} else if a == ActBrushLeft {
			b.cursor = max(0, b.cursor-1)
		} else {
			b.cursor = min(b.w-1, b.cursor+1)
		}
	case ActBrushMark:
		if !b.active {
			b.active, b.cursor = true, b.w/2
		}
		if b.anchor >= 0 {
			b.anchor = -1
		} else {
			b.anchor = b.cursor
		}
	case ActZoomIn:
		var w TimeWindow
		if c1, c2, ok := b.selection(); ok {
			w = TimeWindow{b.colTime(c1), b.colTime(c2 + 1)}
		} else {
			c := b.cursor
			if !b.active {
				c = b.w / 2
			}
			quarter := (b.hi - b.lo) / 4
			mid := b.colTime(c)
			w = TimeWindow{max(b.lo, mid-quarter), min(b.hi, mid+quarter)}
		}
		if w.To-w.From < 2 {
			return func() tea.Msg { return statusMsg("the window cannot get any narrower") }, true
		}
		b.anchor, b.active = -1, false
		return func() tea.Msg { return windowMsg{w: w} }, true
	case ActZoomOut:
		b.anchor, b.active = -1, false
		return func() tea.Msg { return windowMsg{pop: true} }, true
	case ActBack:
		if !b.active {
			return nil, false
		}
		b.active, b.anchor = false, -1
	default:
		return nil, false
	}
	return nil, true
}

// setAxis sets the axis the histogram of rows is drawn on in w columns:
// the view's window where it is set, else the first to the last event.
// It returns false when there is nothing to draw.
func (b *brush) setAxis(s *Snapshot, rows []int, w int, c *Common) bool {
	if len(rows) == 0 || w < 10 {
		b.w = 0
		return false
	}
	lo, hi := c.Window.From, c.Window.To
	if lo == 0 || hi == 0 {
		dlo, dhi := int64(0), int64(0)
		for _, i := range rows { // times are nearly sorted; be exact anyway
			if t := s.Time(i); t != 0 && (t < dlo || dlo == 0) {
				dlo = t
			}
			if t := s.Time(i); t > dhi {
				dhi = t
			}
		}
		if lo == 0 {
			lo = dlo
		}
		if hi == 0 {
			hi = dhi + 1
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	b.lo, b.hi, b.w = lo, hi, w
	b.cursor = max(0, min(b.cursor, w-1))
	if b.anchor >= w {
		b.anchor = w - 1
	}
	return true
}

// histogram draws rows' events over time as vertical bars (height rows
// tall, one column per time bucket) with a time axis (setAxis), and the
// brush on top.
func (b *brush) histogram(st *Styles, s *Snapshot, rows []int, w, height int, c *Common) []string {
	if !b.setAxis(s, rows, w, c) {
		return make([]string, height+1)
	}
	lo, hi := b.lo, b.hi
	buckets := make([]int, w)
	span := hi - lo
	for _, i := range rows {
		t := s.Time(i)
		if t < lo || t >= hi {
			continue
		}
		k := int(float64(t-lo) * float64(w) / float64(span))
		buckets[max(0, min(k, w-1))]++
	}
	peak := 0
	for _, n := range buckets {
		peak = max(peak, n)
	}
	c1, c2, sel := b.selection()
	blocks := []rune(" ▁▂▃▄▅▆▇█")
	lines := make([]string, height)
	for r := 0; r < height; r++ {
		level := height - 1 - r // 0 = bottom row
		var out, run strings.Builder
		runHi := false
		flush := func() {
			if run.Len() == 0 {
				return
			}
			if runHi {
				out.WriteString(st.Selected.Render(run.String()))
			} else {
				out.WriteString(st.Bar.Render(run.String()))
			}
			run.Reset()
		}
		for col, n := range buckets {
			eighths := 0
			if peak > 0 {
				eighths = n * height * 8 / peak
				if n > 0 && eighths == 0 {
					eighths = 1
				}
			}
			hiCol := (sel && col >= c1 && col <= c2) || (b.active && col == b.cursor && level == 0)
			if hiCol != runHi {
				flush()
				runHi = hiCol
			}
			run.WriteRune(blocks[max(0, min(8, eighths-level*8))])
		}
		flush()
		lines[r] = out.String()
	}
	var axis string
	if b.active {
		axis = fmt.Sprintf("◆ %s (%d)", fmtBrushTime(b.colTime(b.cursor), c.Loc), buckets[b.cursor])
		if sel {
			n := 0
			for _, k := range buckets[c1 : c2+1] {
				n += k
			}
			axis = fmt.Sprintf("[%s → %s) %s", fmtBrushTime(b.colTime(c1), c.Loc), fmtBrushTime(b.colTime(c2+1), c.Loc), plural(n, "event", "events"))
		}
		axis += "  + zoom in  - out  v select  esc"
	} else {
		left := c.fmtTime(lo)
		right := fmt.Sprintf("%s  peak %d/bucket", c.fmtTime(hi), peak)
		axis = left + strings.Repeat(" ", max(1, w-len(left)-len(right))) + right
	}
	return append(lines, st.Muted.Render(truncateANSI(axis, w)))
}

func fmtBrushTime(ns int64, loc *time.Location) string {
	return time.Unix(0, ns).In(loc).Format("2006-01-02 15:04:05")
}
