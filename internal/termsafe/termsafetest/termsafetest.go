// Package termsafetest checks that text is safe to write to a terminal. It
// is the tests' oracle for termsafe and for everything that draws untrusted
// text (the TUI's frames, the CLI's tables and messages), and shares no
// code with termsafe: it decides by its own rune loop.
package termsafetest

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Check returns an error naming the first thing in s that a terminal could
// interpret or that would hide or reorder text: invalid UTF-8, any C0
// control (tab and newline included), DEL, a C1 control (U+0080..U+009F),
// a bidi control (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C),
// any other format character (Unicode category Cf) or a line or paragraph
// separator.
func Check(s string) error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Errorf("byte %d: invalid UTF-8 (0x%02x) in %q", i, s[i], s)
		}
		if what := unsafe(r); what != "" {
			return fmt.Errorf("byte %d: %s %U in %q", i, what, r, s)
		}
		i += size
	}
	return nil
}

// CheckLines is Check for text made of lines: each line of s (split at
// '\n') must pass Check.
func CheckLines(s string) error {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			if err := Check(s[start:i]); err != nil {
				return err
			}
			start = i + 1
		}
	}
	return nil
}

func unsafe(r rune) string {
	switch {
	case r < 0x20:
		return "C0 control"
	case r == 0x7f:
		return "DEL"
	case r >= 0x80 && r <= 0x9f:
		return "C1 control"
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return "bidi control"
	case r == 0x2028, r == 0x2029:
		return "line or paragraph separator"
	case unicode.In(r, unicode.Cf):
		return "format character"
	}
	return ""
}
