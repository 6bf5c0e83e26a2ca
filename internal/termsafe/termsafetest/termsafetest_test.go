package termsafetest

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, s := range []string{"", "plain", `\x1b[2J`, "<U+202E>", "日本 e\u0301 🔑 \ufffd \u00a0"} {
		if err := Check(s); err != nil {
			t.Errorf("Check(%q) = %v, want safe", s, err)
		}
	}
	for s, want := range map[string]string{
		"a\tb":         "C0 control U+0009",
		"\x1b[2J":      "C0 control U+001B",
		"\x7f":         "DEL",
		"\u0085":       "C1 control U+0085",
		"\u202e":       "bidi control U+202E",
		"\u2067":       "bidi control U+2067",
		"\u061c":       "bidi control U+061C",
		"\u200b":       "format character U+200B",
		"\U000E0041":   "format character U+E0041",
		"\u2028":       "line or paragraph separator U+2028",
		"ok\x9b":       "invalid UTF-8 (0x9b)",
		"\xed\xa0\x80": "invalid UTF-8 (0xed)",
	} {
		err := Check(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%q) = %v, want %q", s, err, want)
		}
	}
	if err := CheckLines("a\nb\x1b\nc"); err == nil || !strings.Contains(err.Error(), "U+001B") {
		t.Errorf("CheckLines missed ESC on the second line: %v", err)
	}
	if err := CheckLines("a\n\nb\n"); err != nil {
		t.Errorf("CheckLines(safe lines) = %v", err)
	}
}
