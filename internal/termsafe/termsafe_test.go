package termsafe

import (
	"fmt"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/termsafe/termsafetest"
)

// Payloads seen in attacks on log viewers and terminals.
const (
	osc52       = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"                           // write the clipboard
	osc52ST     = "\x1b]52;c;Y3VybA==\x1b\\"                                 // the same, ST-terminated
	osc8        = "\x1b]8;;https://evil.example/\x1b\\kubectl\x1b]8;;\x1b\\" // a hyperlink hiding its target
	oscTitle    = "\x1b]0;pwned\x07"                                         // set the window title
	csiClear    = "\x1b[2J\x1b[H"                                            // clear the screen, cursor home
	csiSGR      = "\x1b[8mhidden\x1b[0m"                                     // concealed text
	dcs         = "\x1bP1$qm\x1b\\"                                          // DECRQSS: make the terminal answer
	bidiRLO     = "\u202egnp.exe"                                            // right-to-left override
	invalidUTF8 = "ok\xff\xfeend"
)

func TestString(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "kubectl/v1.30.0 (linux/amd64)", "kubectl/v1.30.0 (linux/amd64)"},
		{"empty", "", ""},
		{"osc 52 clipboard", "ua" + osc52, `ua\x1b]52;c;Y3VybCBldmlsfHNo\x07`},
		{"osc 52 with ST", osc52ST, `\x1b]52;c;Y3VybA==\x1b\`},
		{"osc 8 hyperlink", osc8, `\x1b]8;;https://evil.example/\x1b\kubectl\x1b]8;;\x1b\`},
		{"osc title", oscTitle, `\x1b]0;pwned\x07`},
		{"csi clear", csiClear + "x", `\x1b[2J\x1b[Hx`},
		{"csi conceal", csiSGR, `\x1b[8mhidden\x1b[0m`},
		{"dcs", dcs, `\x1bP1$qm\x1b\`},
		{"bidi override", bidiRLO, "<U+202E>gnp.exe"},
		{"bidi embeddings", "\u202aa\u202bb\u202cc\u202dd", "<U+202A>a<U+202B>b<U+202C>c<U+202D>d"},
		{"bidi isolates", "a\u2066b\u2067c\u2068d\u2069e", "a<U+2066>b<U+2067>c<U+2068>d<U+2069>e"},
		{"bidi marks", "\u200ex\u200fy\u061cz", "<U+200E>x<U+200F>y<U+061C>z"},
		{"c1 csi as utf-8", "x\u009b31mred", "x<U+009B>31mred"},
		{"c1 first and last", "\u0080\u0085\u009d\u009f", "<U+0080><U+0085><U+009D><U+009F>"},
		{"c1 dcs as utf-8", "\u0090q\u009c", "<U+0090>q<U+009C>"},
		{"raw 0x9b byte (8-bit csi)", "x\x9b31m", `x\x9b31m`},
		{"raw 0x9d byte (8-bit osc)", "\x9d0;t\x9c", `\x9d0;t\x9c`},
		{"nul", "a\x00b", `a\x00b`},
		{"del", "a\x7fb", `a\x7fb`},
		{"bel backspace", "a\a\bb", `a\x07\x08b`},
		{"tab newline cr", "a\tb\nc\rd", `a\tb\nc\rd`},
		{"invalid utf-8", invalidUTF8, `ok\xff\xfeend`},
		{"truncated rune", "a\xe2\x80", `a\xe2\x80`},
		{"overlong slash", "\xc0\xaf", `\xc0\xaf`},
		{"surrogate", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"zero-width space", "ad\u200bmin", "ad<U+200B>min"},
		{"zero-width joiners and bom", "\ufeffa\u200cb\u200dc\u2060", "<U+FEFF>a<U+200C>b<U+200D>c<U+2060>"},
		{"soft hyphen", "se\u00adcret", "se<U+00AD>cret"},
		{"tag characters", "ok\U000E0041\U000E007F", "ok<U+E0041><U+E007F>"},
		{"line and paragraph separators", "a\u2028b\u2029c", "a<U+2028>b<U+2029>c"},
		{"letters, marks, emoji kept", "pod-ü-日本-e\u0301-مرحبا-🔑", "pod-ü-日本-e\u0301-مرحبا-🔑"},
		{"replacement character kept", "a\ufffdb", "a\ufffdb"},
		{"nbsp kept", "a\u00a0b", "a\u00a0b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Fatalf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err := termsafetest.Check(got); err != nil {
				t.Fatal(err)
			}
			var joined strings.Builder
			for _, sg := range Segments(tt.in) {
				joined.WriteString(sg.Text)
			}
			if joined.String() != got {
				t.Fatalf("Segments(%q) join to %q, String gives %q", tt.in, joined.String(), got)
			}
		})
	}
}

func TestEveryC0Control(t *testing.T) {
	named := map[rune]string{'\t': `\t`, '\n': `\n`, '\r': `\r`}
	for r := rune(0); r < 0x20; r++ {
		want, ok := named[r]
		if !ok {
			want = fmt.Sprintf(`\x%02x`, r)
		}
		if got := String("<" + string(r) + ">"); got != "<"+want+">" {
			t.Errorf("%U: got %q, want %q", r, got, "<"+want+">")
		}
	}
}

func TestSegments(t *testing.T) {
	got := Segments("ab\x1b[2Jcd\u202e")
	want := []Segment{{"ab", false}, {`\x1b`, true}, {"[2Jcd", false}, {"<U+202E>", true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Segments = %v, want %v", got, want)
	}
	if got := Segments("plain"); len(got) != 1 || got[0] != (Segment{"plain", false}) {
		t.Fatalf("Segments(plain) = %v", got)
	}
	if got := Segments(""); len(got) != 1 || got[0].Text != "" {
		t.Fatalf("Segments(\"\") = %v", got)
	}
}

// FuzzSanitize: for any input, the output passes the independent oracle
// (termsafetest shares no code with this package), the segments join to
// it, and input the oracle finds safe is left exactly as it is.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{osc52, osc52ST, osc8, oscTitle, csiClear, csiSGR, dcs, bidiRLO, invalidUTF8,
		"\x9b31m", "\u009b", "\x00\x7f", "\t\n\r", "ad\u200bmin", "\U000E0041", "日本\xe2\x80", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if err := termsafetest.Check(out); err != nil {
			t.Fatalf("String(%q): %v", s, err)
		}
		var joined strings.Builder
		for _, sg := range Segments(s) {
			if sg.Escape && termsafetest.Check(sg.Text) != nil {
				t.Fatalf("escape token %q is not safe", sg.Text)
			}
			joined.WriteString(sg.Text)
		}
		if joined.String() != out {
			t.Fatalf("Segments(%q) join to %q, String gives %q", s, joined.String(), out)
		}
		if termsafetest.Check(s) == nil && out != s {
			t.Fatalf("safe input %q changed to %q", s, out)
		}
	})
}

func BenchmarkString(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"plain", "system:serviceaccount:kube-system:generic-garbage-collector"},
		{"unicode", "pod-ü-日本-données-конфиг"},
		{"hostile", "evil" + oscTitle + "agent\u2066x\u2069" + csiClear + invalidUTF8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = String(bc.in)
			}
		})
	}
}
