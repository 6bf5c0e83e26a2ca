package ui

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// FilterError is a filter that does not compile, with the 1-based column
// of the problem in the text the user typed (0: unknown).
type FilterError struct {
	Msg string
	Col int
}

func (e *FilterError) Error() string { return e.Msg }

// describeErr returns the message and column to show under the bar.
func describeErr(err error, text string) (string, int) {
	shift := 0
	var se shiftErr
	if errors.As(err, &se) {
		shift = se.by
	}
	var fe *FilterError
	if errors.As(err, &fe) {
		col := fe.Col
		if col > 0 {
			col = min(col+shift, len([]rune(text))+1)
		}
		return fe.Msg, col
	}
	return err.Error(), 0
}

// layout gives every pane its body size.
func (a *App) layout() {
	bh := a.bodyHeight()
	for _, p := range a.panes {
		p.SetSize(a.w, bh)
	}
}

// barLines is how many lines the filter bar takes.
func (a *App) barLines() []string { return a.bar.Lines(a.filterText(), a.w) }

func (a *App) filterText() string {
	t := a.filter.Text
	var win []string
	if a.filter.Since != 0 {
		win = append(win, "since "+formatTime(a.filter.Since, true, a.c.Loc))
	}
	if a.filter.Until != 0 { // an alert drill-in's window (--from/--to)
		win = append(win, "until "+formatTime(a.filter.Until, true, a.c.Loc))
	}
	switch {
	case len(win) == 0:
	case t == "":
		t = strings.Join(win, " ")
	case a.filter.Until != 0:
		// A drill-in's window first: its query is long.
		t = "[" + strings.Join(win, " ") + "] " + t
	default:
		t += "  (" + strings.Join(win, " ") + ")"
	}
	return t
}

// bodyHeight is the pane height: the screen less header, bar and status.
func (a *App) bodyHeight() int {
	return max(1, a.h-2-len(a.barLines()))
}

func (a *App) render() string {
	if a.w <= 0 || a.h <= 0 {
		return ""
	}
	st := a.c.Styles
	var lines []string
	lines = append(lines, a.header())
	bh := a.bodyHeight()
	var body string
	switch {
	case a.help:
		body = a.helpView(a.w, bh)
	case a.rejects:
		body = a.rejectsView(a.w, bh)
	default:
		body = a.panes[a.focus].View()
	}
	bodyLines := strings.Split(body, "\n")
	for k := range bodyLines {
		bodyLines[k] = truncateANSI(bodyLines[k], a.w)
	}
	lines = append(lines, strings.Split(fill(bodyLines, bh), "\n")...)
	lines = append(lines, a.barLines()...)
	lines = append(lines, a.statusBar())
	_ = st
	return strings.Join(lines, "\n")
}

// header is the tab strip, the source and (for the sample) the banner.
func (a *App) header() string {
	st := a.c.Styles
	var tabs []string
	for k, p := range a.panes {
		label := fmt.Sprintf("%d %s", k+1, p.Title())
		if k == a.focus {
			tabs = append(tabs, st.TabActive.Render(label))
		} else {
			tabs = append(tabs, st.TabInactive.Render(label))
		}
	}
	left := strings.Join(tabs, "")
	right := ""
	if a.opts.Sample {
		right = st.Sample.Render(" SAMPLE DATA (bundled demo, not your cluster) ")
	} else if a.opts.Title != "" {
		right = st.Muted.Render(" " + termsafe.String(a.opts.Title))
	}
	gap := a.w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		if a.opts.Sample {
			right = st.Sample.Render(" SAMPLE DATA ")
		} else {
			right = truncateANSI(right, max(0, a.w-ansi.StringWidth(left)-1))
		}
		gap = max(1, a.w-ansi.StringWidth(left)-ansi.StringWidth(right))
	}
	return truncateANSI(left+strings.Repeat(" ", max(0, gap))+right, a.w)
}

// statusBar: loaded / matching / rejected, load progress, follow state.
func (a *App) statusBar() string {
	st := a.c.Styles
	s := a.c.Snap
	parts := []string{
		fmt.Sprintf("loaded %s", thousands(int64(s.Len()))),
		fmt.Sprintf("matching %s", thousands(int64(a.c.Rows.Len()))),
	}
	if s.Rejected > 0 {
		parts = append(parts, fmt.Sprintf("rejected %s (R)", thousands(s.Rejected)))
	} else {
		parts = append(parts, "rejected 0")
	}
	switch {
	case !s.Done && !a.done:
		if a.opts.Follow && s.Len() > 0 {
			parts = append(parts, "live · "+a.tail.State())
		} else {
			switch {
			case s.Total > 0:
				parts = append(parts, fmt.Sprintf("loading… %d%% of %s", min(100, s.Consumed*100/s.Total), humanBytes(s.Total)))
			default:
				parts = append(parts, fmt.Sprintf("loading… %s", humanBytes(max(s.Bytes, s.Consumed))))
			}
		}
	case s.Err != nil:
		parts = append(parts, "read error: "+termsafe.String(s.Err.Error()))
	case !a.opts.Follow && a.tail.State() == "following":
		parts = append(parts, "end of input")
	default:
		parts = append(parts, a.tail.State())
	}
	if a.running {
		parts = append(parts, "filtering…")
	}
	left := " " + strings.Join(parts, " · ")
	right := "? help "
	if a.status != "" {
		right = termsafe.String(a.status) + " "
	}
	gap := a.w - ansi.StringWidth(left) - ansi.StringWidth(right)
	line := left + strings.Repeat(" ", max(1, gap)) + right
	return st.StatusBar.Render(truncateANSI(line, a.w))
}

// helpView lists every binding of the key table, by scope.
func (a *App) helpView(w, h int) string {
	st := a.c.Styles
	var lines []string
	lines = append(lines, st.Title.Render("Keys")+st.Muted.Render("  (esc closes)"))
	for _, sc := range Scopes() {
		bs := a.c.Keys.Scope(sc)
		if len(bs) == 0 {
			continue
		}
		lines = append(lines, st.Header.Render(string(sc)))
		for _, b := range bs {
			hp := b.Key.Help()
			lines = append(lines, "  "+st.HelpKey.Render(pad(hp.Key, 12))+" "+st.HelpDesc.Render(hp.Desc))
		}
	}
	lines = append(lines, st.Header.Render("commands"),
		"  "+st.HelpKey.Render(pad(":user NAME", 12))+" timeline of a user",
		"  "+st.HelpKey.Render(pad(":ip ADDR", 12))+" timeline of a source IP",
		"  "+st.HelpKey.Render(pad(":since 1h", 12))+" only events in the last 1h before the newest",
		"  "+st.HelpKey.Render(pad(":clear", 12))+" drop the filter",
		"  "+st.HelpKey.Render(pad(":silence NOTE", 12))+" silence the selected alert group (Alerts; :silences lists, :unsilence)",
		"  "+st.HelpKey.Render(pad(":q", 12))+" quit",
		st.Header.Render("filter"),
		"  LogQL as in Grafana: {job=\"audit\"} | json | user_username=\"alice\"",
		"  shorthand: user_username=\"alice\" | verb=~\"create|delete\"  (selector and json added)",
		"  /!query shows what does NOT match; tab completes fields and values; ↑/↓ history")
	// Two columns when the screen is wide and the list long.
	if len(lines) > h && w >= 100 {
		half := (len(lines) + 1) / 2
		colW := w / 2
		var out []string
		for k := 0; k < half; k++ {
			l := pad(truncateANSI(lines[k], colW-1), colW)
			if k+half < len(lines) {
				l += truncateANSI(lines[k+half], colW)
			}
			out = append(out, l)
		}
		lines = out
	}
	return fill(lines, h)
}

// rejectsView shows why lines were rejected.
func (a *App) rejectsView(w, h int) string {
	st := a.c.Styles
	kept, by := a.ix.Rejects()
	lines := []string{st.Title.Render(fmt.Sprintf("Rejected lines: %s", thousands(a.c.Snap.Rejected))) + st.Muted.Render("  (esc closes)")}
	type rc struct {
		r string
		n int64
	}
	var rs []rc
	for r, n := range by {
		rs = append(rs, rc{r, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].r < rs[j].r })
	for _, r := range rs {
		lines = append(lines, fmt.Sprintf("%8s  %s", thousands(r.n), truncateANSI(r.r, w-10)))
	}
	if len(kept) > 0 {
		lines = append(lines, "", st.Header.Render("first rejected lines"))
	}
	for _, r := range kept {
		if len(lines) >= h {
			break
		}
		lines = append(lines, truncateANSI(st.Muted.Render(r.Where)+" "+st.Error.Render(r.Reason)+" "+r.Sample, w))
	}
	return fill(lines, h)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for k, c := range s {
		if k > 0 && (len(s)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
