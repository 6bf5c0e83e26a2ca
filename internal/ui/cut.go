package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/audittui/audittui/internal/termsafe"
)

// escapeGlyph stands for an escape token (\x1b…, <U+200B>, a bidi
// control) that does not fit its cell whole: one cell, drawn in the
// escape style, never removed. A zero-width space in a look-alike user
// name (ali<U+200B>ce) is the reason the name differs from the real one,
// so a cut drops ordinary letters, never the marker (review I 2).
const escapeGlyph = "¤"

// cutSegments cuts segs to at most w cells, keeping every escape token:
// ordinary text is dropped first (one "…" where it was); when the tokens
// would take more than half the room, each becomes escapeGlyph; when even the glyphs
// do not fit, the cell holds glyphs only. head is the share of the
// ordinary text kept from the start (the rest is kept from the end);
// head < 0 keeps the start only (a cut at the end). Tail, Timeline,
// Stats, Detail and Alerts all cut through here (SafeText, SafeMiddle,
// IdentityCell, the Alerts pane's label values).
func cutSegments(segs []termsafe.Segment, w int, head func(textRoom, textTotal int, text string) int) []termsafe.Segment {
	if segWidth(segs) <= w {
		return segs
	}
	if w <= 0 {
		return nil
	}
	type unit struct {
		text string
		w    int
		esc  bool
		keep bool
	}
	var units []unit
	escW, nEsc, textW := 0, 0, 0
	var plain strings.Builder
	for _, sg := range segs {
		if sg.Escape {
			sw := ansi.StringWidth(sg.Text)
			units = append(units, unit{text: sg.Text, w: sw, esc: true, keep: true})
			escW += sw
			nEsc++
			continue
		}
		plain.WriteString(sg.Text)
		for _, g := range graphemes(sg.Text) {
			gw := ansi.StringWidth(g)
			units = append(units, unit{text: g, w: gw})
			textW += gw
		}
	}
	room := w - 1 // the ellipsis
	if escW > 0 && 2*escW > room {
		// The tokens would leave less than half the cell to the text
		// around them (which is what shows whose name it is): the last
		// ones become one glyph each until they do not (all of them,
		// when even that is too much).
		for i := len(units) - 1; i >= 0 && 2*escW > room; i-- {
			if units[i].esc && units[i].w > 1 {
				escW -= units[i].w - 1
				units[i].text, units[i].w = escapeGlyph, 1
			}
		}
		if escW+textW <= w {
			return unitsToSegs(func(yield func(string, bool)) {
				for _, u := range units {
					yield(u.text, u.esc)
				}
			})
		}
	}
	if escW > room {
		// Glyphs only: as many as fit, the first one always.
		n := min(nEsc, max(w, 1))
		return []termsafe.Segment{{Text: strings.Repeat(escapeGlyph, n), Escape: true}}
	}
	textRoom := room - escW
	h := textRoom
	if head != nil {
		h = min(max(head(textRoom, textW, plain.String()), 0), textRoom)
	}
	// From the start: ordinary units while the head's share lasts.
	used := 0
	for i := range units {
		if units[i].esc {
			continue
		}
		if used+units[i].w > h {
			break
		}
		units[i].keep = true
		used += units[i].w
	}
	// From the end: the rest of the room.
	left := textRoom - used
	for i := len(units) - 1; i >= 0; i-- {
		if units[i].esc {
			continue
		}
		if units[i].keep || units[i].w > left {
			break
		}
		units[i].keep = true
		left -= units[i].w
	}
	return unitsToSegs(func(yield func(string, bool)) {
		dotted := false
		for _, u := range units {
			switch {
			case u.keep:
				yield(u.text, u.esc)
			case !dotted:
				yield("…", false)
				dotted = true
			}
		}
		if !dotted {
			yield("…", false)
		}
	})
}

// unitsToSegs merges consecutive pieces of one kind into segments.
func unitsToSegs(each func(yield func(string, bool))) []termsafe.Segment {
	var out []termsafe.Segment
	each(func(text string, esc bool) {
		if n := len(out); n > 0 && out[n-1].Escape == esc && !esc {
			out[n-1].Text += text
			return
		}
		out = append(out, termsafe.Segment{Text: text, Escape: esc})
	})
	return out
}

// graphemes splits kept (already safe) text into its grapheme clusters.
func graphemes(s string) []string {
	var out []string
	for s != "" {
		g, _ := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
		if g == "" {
			g = s[:1]
		}
		out = append(out, g)
		s = s[len(g):]
	}
	return out
}
