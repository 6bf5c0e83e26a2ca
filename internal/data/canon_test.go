package data

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/audittui/audittui/internal/testutil"
)

// TestCanonEscapes: each way a JSON writer spells a character inside a
// string has one canonical form; escapes JSON requires stay escaped;
// what is not an escape is kept.
func TestCanonEscapes(t *testing.T) {
	var buf []byte
	for _, tc := range []struct{ in, want string }{
		{`{"a":"b"}`, `{"a":"b"}`},
		{`{"u":"/api?a=1\u0026b=2"}`, `{"u":"/api?a=1&b=2"}`},
		{`{"u":"\u003cx\u003e \u003C\u003E"}`, `{"u":"<x> <>"}`},
		{`{"s":"a\u2028b\u2029c"}`, "{\"s\":\"a\u2028b\u2029c\"}"},
		{`{"s":"\/api\/v1"}`, `{"s":"/api/v1"}`},
		{`{"s":"\u00e9\u4e2d\ud83d\ude00"}`, `{"s":"é中😀"}`},
		{`{"s":"\uD83D\uDE00"}`, `{"s":"😀"}`},
		{`{"s":"\u007f"}`, "{\"s\":\"\x7f\"}"},
		{`{"s":"\ufffd"}`, "{\"s\":\"\ufffd\"}"},
		{`{"s":"\ud800x"}`, "{\"s\":\"\ufffdx\"}"},      // lone high surrogate
		{`{"s":"\udc00\u0041"}`, "{\"s\":\"\ufffdA\"}"}, // lone low surrogate
		{`{"s":"\ud800\u0041"}`, "{\"s\":\"\ufffdA\"}"}, // high, then no low half
		{`{"s":"\u0022\u005c\u002f"}`, `{"s":"\"\\/"}`}, // quote and backslash stay escaped
		{`{"s":"\u0008\u000c\u000a\u000d\u0009"}`, `{"s":"\b\f\n\r\t"}`},
		{`{"s":"\u001B\u0000\u001f"}`, `{"s":"\u001b\u0000\u001f"}`},
		{`{"s":"\b\f\n\r\t\"\\"}`, `{"s":"\b\f\n\r\t\"\\"}`},
		{`{"s":"C:\\users\\u0026"}`, `{"s":"C:\\users\\u0026"}`}, // \\ then the text u0026
		{`{"s":"\\\u0026"}`, `{"s":"\\&"}`},
		{`{"s":"\u00zz"}`, `{"s":"\u00zz"}`}, // not an escape: kept
		{`{"s":"\u00`, `{"s":"\u00`},
		{`{"s":"x\`, `{"s":"x\`},
		{`{"s\u0026":"x"}`, `{"s&":"x"}`}, // keys too
	} {
		got := canonEscapes([]byte(tc.in), nil)
		if string(got) != tc.want {
			t.Errorf("canonEscapes(%s) = %s, want %s", tc.in, got, tc.want)
		}
		// Built in a buffer kept from the call before (DupLineBuf).
		if inBuf := canonEscapes([]byte(tc.in), &buf); string(inBuf) != tc.want {
			t.Errorf("canonEscapes(%s, buf) = %s, want %s", tc.in, inBuf, tc.want)
		}
		if again := canonEscapes(got, nil); !bytes.Equal(again, got) || hasLooseEscape(got) && !bytes.Equal(canonEscapes(got, nil), got) {
			t.Errorf("canonEscapes(%s) is not canonical: %s", got, again)
		}
		if !hasLooseEscape([]byte(tc.in)) && tc.in != tc.want {
			t.Errorf("hasLooseEscape(%s): false, but it changes", tc.in)
		}
		var a, b any
		if json.Unmarshal([]byte(tc.in), &a) == nil {
			if err := json.Unmarshal(got, &b); err != nil || !sameValue(a, b) {
				t.Errorf("canonEscapes(%s) = %s: another value (%v)", tc.in, got, err)
			}
		}
	}
	plain := []byte(`{"a":"b\"c\\d\n"}`)
	if got := canonEscapes(plain, nil); &got[0] != &plain[0] || hasLooseEscape(plain) {
		t.Error("a line without \\u or \\/ escapes is not returned as it is")
	}
}

func sameValue(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// jqString writes s as a JSON string the way jq 1.6 and 1.7 write it
// (jv_print.c jvp_dump_string): `"` and `\` escaped, \b \f \n \r \t
// short, the other control characters and DEL as \u00xx, everything else
// raw UTF-8 (invalid UTF-8 as U+FFFD, as jq reads it).
func jqString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pythonString writes s as Python's json.dumps does by default
// (ensure_ascii): every non-ASCII character as \uXXXX, in surrogate pairs
// beyond the BMP, upper case never; and `/` as `\/`, as PHP writes it.
func pythonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '/':
			b.WriteString(`\/`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r >= 0x7f:
			if r > 0xffff {
				r -= 0x10000
				writeU(&b, 0xd800+(r>>10))
				writeU(&b, 0xdc00+(r&0x3ff))
			} else {
				writeU(&b, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789ABCDEF"
	b.WriteString(`\u`)
	for sh := 12; sh >= 0; sh -= 4 {
		b.WriteByte(hex[r>>sh&0xf])
	}
}

// TestCanonEscapesWriters: strings of every kind of character, written
// as Go (the apiserver), jq and Python write them, have one canonical
// form, and it reads as the string.
func TestCanonEscapesWriters(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune{'a', 'Z', '0', ' ', '&', '<', '>', '/', '"', '\\', '\b', '\f', '\n', '\r', '\t', 0, 1, 0x1b, 0x1f, 0x7f,
		0x80, 0xe9, 0x2028, 0x2029, 0xfffd, 0x4e2d, 0xfeff, 0x1f600, 0x10ffff, 'u', '0'}
	for n := 0; n < 5000; n++ {
		var s []rune
		for range rng.IntN(12) {
			s = append(s, alphabet[rng.IntN(len(alphabet))])
		}
		str := string(s)
		goLine, _ := json.Marshal(map[string]string{"s": str})
		jqLine := `{"s":` + jqString(str) + `}`
		pyLine := `{"s":` + pythonString(str) + `}`
		want := canonEscapes(goLine, nil)
		for name, l := range map[string]string{"jq": jqLine, "python": pyLine} {
			if got := canonEscapes([]byte(l), nil); !bytes.Equal(got, want) {
				t.Fatalf("%q: %s writes %s, canonical %s; Go's %s is %s", str, name, l, got, goLine, want)
			}
		}
		var back map[string]string
		if err := json.Unmarshal(want, &back); err != nil || back["s"] != str || !utf8.Valid(want) {
			t.Fatalf("%q: canonical %s reads as %q (%v)", str, want, back["s"], err)
		}
	}
}

// jqExport runs `jq .` over the file at path (scripts/deps.sh installs
// jq), as a user exports evidence.
func jqExport(t *testing.T, path string) []byte {
	t.Helper()
	testutil.Tool(t, "jq", "jq")
	out, err := exec.Command("jq", ".", path).Output()
	if err != nil {
		t.Fatalf("jq . %s: %v", path, err)
	}
	return out
}

// TestDupLineJQExport: every event of the sample and of the real logs,
// re-exported by `jq .` (pretty, with & < > and U+2028 raw where the
// apiserver wrote \u0026 ...), has the line of the event it repeats; the
// compact `jq -c .` one too. The sample has 1,012 events with such
// escapes.
func TestDupLineJQExport(t *testing.T) {
	files := []string{filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")}
	files = append(files, testutil.RealAuditFiles(t)...)
	escaped := 0
	for _, f := range files {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		orig, rejs := readBytes(t, in, 0)
		if len(rejs) != 0 || len(orig) == 0 {
			t.Fatalf("%s: %d events, %d rejects", f, len(orig), len(rejs))
		}
		for i := range orig {
			if hasLooseEscape(orig[i].Raw) {
				escaped++
			}
		}
		compact, err := exec.Command("jq", "-c", ".", f).Output()
		if err != nil {
			t.Fatal(err)
		}
		for name, export := range map[string][]byte{"jq .": jqExport(t, f), "jq -c .": compact} {
			evs, rejs := readBytes(t, export, 0)
			if len(rejs) != 0 || len(evs) != len(orig) {
				t.Fatalf("%s of %s: %d events, %d rejects; want %d", name, f, len(evs), len(rejs), len(orig))
			}
			var buf []byte
			for i := range evs {
				if got, want := DupLine(&evs[i]), DupLine(&orig[i]); !bytes.Equal(got, want) {
					t.Fatalf("%s of %s, event %d: line\n%s\nwant\n%s", name, f, i+1, got, want)
				}
				if got, want := DupLineBuf(&evs[i], &buf), DupLine(&orig[i]); !bytes.Equal(got, want) {
					t.Fatalf("%s of %s, event %d: DupLineBuf\n%s\nwant\n%s", name, f, i+1, got, want)
				}
			}
		}
	}
	if escaped < 1000 {
		t.Fatalf("%d events with a \\u escape: the sample has 1,012", escaped)
	}
}
