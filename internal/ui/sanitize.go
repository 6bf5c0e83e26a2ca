package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Every string that comes from an audit event is attacker-controlled (user
// agents, object names, request bodies). Before it is drawn it goes through
// the sanitiser, which turns anything a terminal could interpret into
// visible text:
//
//   - ESC and the other C0 controls (and DEL) become \xNN (\t, \n, \r are
//     spelled as such);
//   - C1 controls (U+0080..U+009F) become <U+0085>-style tokens;
//   - bidi embeddings, overrides and isolates (U+202A..U+202E,
//     U+2066..U+2069) and the bidi marks U+200E/U+200F/U+061C become
//     <U+202E>-style tokens, so text cannot be visually reordered;
//   - bytes that are not valid UTF-8 become \xNN.
//
// The replacements are pure printable ASCII, so the output can be styled,
// measured and truncated safely.

// segment is a run of sanitised text; esc marks a replacement token.
type segment struct {
	text string
	esc  bool
}

// needsEscape reports whether r must be replaced.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

func escapeRune(r rune) string {
	switch r {
	case '\t':
		return `\t`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	}
	if r < 0x80 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf("<U+%04X>", r)
}

// isPlain reports whether s is printable ASCII only (the common case).
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// segments splits s into safe text runs and escape tokens.
func segments(s string) []segment {
	if isPlain(s) {
		return []segment{{text: s}}
	}
	var out []segment
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, segment{text: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			flush()
			out = append(out, segment{text: fmt.Sprintf(`\x%02x`, s[i]), esc: true})
			i++
			continue
		}
		if needsEscape(r) {
			flush()
			out = append(out, segment{text: escapeRune(r), esc: true})
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	flush()
	return out
}

// Sanitize returns s with every control character, bidi control and invalid
// byte replaced by a visible escape. The result is safe to write to a
// terminal.
func Sanitize(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for _, sg := range segments(s) {
		b.WriteString(sg.text)
	}
	return b.String()
}

// SafeText renders untrusted s for the terminal: the text in base, escape
// tokens in esc, cut to at most width cells (width <= 0: no limit) with an
// ellipsis when cut.
func SafeText(s string, width int, base, esc lipgloss.Style) string {
	segs := segments(s)
	if width > 0 {
		segs = truncateSegments(segs, width)
	}
	var b strings.Builder
	for _, sg := range segs {
		if sg.esc {
			b.WriteString(esc.Render(sg.text))
		} else {
			b.WriteString(base.Render(sg.text))
		}
	}
	return b.String()
}

// SafeWidth is the display width of Sanitize(s).
func SafeWidth(s string) int {
	w := 0
	for _, sg := range segments(s) {
		w += ansi.StringWidth(sg.text)
	}
	return w
}

// truncateSegments cuts segs to width cells, ending in "…" when cut. Escape
// tokens are never split.
func truncateSegments(segs []segment, width int) []segment {
	total := 0
	for _, sg := range segs {
		total += ansi.StringWidth(sg.text)
	}
	if total <= width {
		return segs
	}
	room := width - 1 // for the ellipsis
	var out []segment
	for _, sg := range segs {
		if room <= 0 {
			break
		}
		w := ansi.StringWidth(sg.text)
		if w <= room {
			out = append(out, sg)
			room -= w
			continue
		}
		if !sg.esc {
			out = append(out, segment{text: ansi.Truncate(sg.text, room, "")})
		}
		break
	}
	return append(out, segment{text: "…"})
}
