// Package s3key implements Fluent Bit's S3_key_format: rendering object keys
// for the ship sink, and the reverse for the S3 source (which prefixes to
// LIST for a time window, and the time a key stands for, so objects outside
// the window are skipped without being downloaded).
//
// The format is the one Fluent Bit's s3 output accepts, for example
//
//	/audit-logs/${CLUSTER_NAME}/%Y/%m/%d/%H/%M/%S-$UUID.json
//
// What it supports, and how it matches Fluent Bit:
//
//   - ${NAME} is replaced by the environment variable NAME once, when the
//     format is parsed (Fluent Bit does this when it loads its config). An
//     unset variable is an error naming it.
//   - strftime directives are rendered in UTC (Fluent Bit uses gmtime). All
//     C-locale directives are supported: %Y %C %y %G %g %m %b %h %B %d %e %j
//     %H %I %p %M %S %s %a %A %u %w %U %W %V %Z (renders "GMT", as glibc
//     does under gmtime) %z (+0000) %n %t %%, and the composites %F %T %D %R
//     %r %c %x %X. Any other directive is a parse error.
//   - $UUID is replaced by 8 random characters (Fluent Bit uses 8 random
//     alphanumerics; we produce 8 characters of [a-z0-9] from crypto/rand).
//     All occurrences in one key get the same value.
//   - $INDEX is replaced by Vars.Index in decimal.
//   - $TAG is the whole tag; $TAG[n] (n = 0..9) is the n-th part of the tag
//     split on Vars.TagDelimiters (default "."). As in Fluent Bit, an
//     out-of-range $TAG[n] is not replaced as a unit: the $TAG inside it is
//     replaced, leaving "<tag>[n]".
//   - Fluent Bit requires the format to start with "/" and sends
//     PUT /<bucket><key>, so the stored object key has no leading slash.
//     Render therefore returns the key without it, and Parse accepts the
//     format with or without the leading "/".
//
// Fluent Bit (since the key time became the first record's time) and the
// ship sink both put the time of the first record of an object in its key;
// an object holds events from roughly that time to that time plus the
// upload timeout. Readers must widen the window by that span (see Plan).
package s3key

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultFormat is the seed pipeline's S3_key_format (fluent-bit.conf),
// shared by the ship sink and the S3 source.
const DefaultFormat = "/audit-logs/${CLUSTER_NAME}/%Y/%m/%d/%H/%M/%S-$UUID.json"

// Unit is the precision of the time a key carries.
type Unit int

// Units from the finest to the coarsest. Unknown means the format carries
// no usable date.
const (
	Unknown Unit = iota
	Second
	Minute
	Hour
	Day
	Month
	Year
)

var unitNames = [...]string{"unknown", "second", "minute", "hour", "day", "month", "year"}

func (u Unit) String() string {
	if u < 0 || int(u) >= len(unitNames) {
		return "unit(" + strconv.Itoa(int(u)) + ")"
	}
	return unitNames[u]
}

// Truncate returns t (in UTC) rounded down to the start of its unit.
func (u Unit) Truncate(t time.Time) time.Time {
	t = t.UTC()
	y, mo, d := t.Date()
	switch u {
	case Year:
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case Day:
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case Hour:
		return t.Truncate(time.Hour)
	case Minute:
		return t.Truncate(time.Minute)
	case Second:
		return t.Truncate(time.Second)
	}
	return t
}

// Next returns t plus one unit.
func (u Unit) Next(t time.Time) time.Time {
	switch u {
	case Year:
		return t.AddDate(1, 0, 0)
	case Month:
		return t.AddDate(0, 1, 0)
	case Day:
		return t.AddDate(0, 0, 1)
	case Hour:
		return t.Add(time.Hour)
	case Minute:
		return t.Add(time.Minute)
	case Second:
		return t.Add(time.Second)
	}
	return t
}

// Vars are the per-object values of a key.
type Vars struct {
	// Tag is the Fluent Bit tag ($TAG, $TAG[n]).
	Tag string
	// TagDelimiters split Tag into parts for $TAG[n]; "" means ".".
	TagDelimiters string
	// Index is $INDEX.
	Index uint64
	// UUID is $UUID; "" means 8 fresh random characters per Render.
	UUID string
}

type partKind uint8

const (
	pLiteral partKind = iota
	pTime             // a single strftime directive
	pUUID
	pIndex
	pTag
	pTagPart
	pUnset // an unset ${NAME} read with ParseOptions.UnsetAsWildcard
)

type part struct {
	kind partKind
	lit  string // pLiteral
	dir  byte   // pTime: the directive letter
	n    int    // pTagPart
	name string // pUnset: the variable's name
}

// Format is a parsed S3 key format. It is immutable and safe for
// concurrent use.
type Format struct {
	src   string
	parts []part
	unit  Unit // finest time unit in the format
	// hasDate: the format determines a calendar date (year known).
	hasDate bool
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// LookupEnv resolves ${NAME}; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// UnsetAsWildcard makes an unset ${NAME} match any text when reading
	// (TimeOf, Plan) instead of failing; Render writes it as "${NAME}".
	// Readers use it so an archive can be read without knowing, say,
	// CLUSTER_NAME; Anchor binds it from an s3:// prefix.
	UnsetAsWildcard bool
}

// Parse parses a key format, substituting ${NAME} from the environment.
func Parse(format string, opts ParseOptions) (*Format, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if strings.TrimSpace(format) == "" {
		return nil, fmt.Errorf("s3 key format: empty")
	}
	f := &Format{src: format}
	s := strings.TrimPrefix(format, "/")
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.parts = append(f.parts, part{kind: pLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '$' && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("s3 key format %q: unterminated ${ at offset %d", format, i)
			}
			name := s[i+2 : i+end]
			if name == "" {
				return nil, fmt.Errorf("s3 key format %q: empty ${} at offset %d", format, i)
			}
			v, ok := lookup(name)
			if !ok && opts.UnsetAsWildcard {
				flush()
				f.parts = append(f.parts, part{kind: pUnset, name: name})
				i += end + 1
				continue
			}
			if !ok {
				return nil, fmt.Errorf("s3 key format %q: environment variable %s is not set", format, name)
			}
			// The value is literal text: a % in it is not a directive.
			lit.WriteString(v)
			i += end + 1
		case c == '$' && strings.HasPrefix(s[i:], "$UUID"):
			flush()
			f.parts = append(f.parts, part{kind: pUUID})
			i += len("$UUID")
		case c == '$' && strings.HasPrefix(s[i:], "$INDEX"):
			flush()
			f.parts = append(f.parts, part{kind: pIndex})
			i += len("$INDEX")
		case c == '$' && strings.HasPrefix(s[i:], "$TAG"):
			flush()
			rest := s[i+len("$TAG"):]
			if len(rest) >= 3 && rest[0] == '[' && rest[1] >= '0' && rest[1] <= '9' && rest[2] == ']' {
				f.parts = append(f.parts, part{kind: pTagPart, n: int(rest[1] - '0')})
				i += len("$TAG[n]")
			} else {
				f.parts = append(f.parts, part{kind: pTag})
				i += len("$TAG")
			}
		case c == '%':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("s3 key format %q: lone %% at the end", format)
			}
			d := s[i+1]
			i += 2
			switch d {
			case '%':
				lit.WriteByte('%')
				continue
			case 'n':
				lit.WriteByte('\n')
				continue
			case 't':
				lit.WriteByte('\t')
				continue
			}
			exp, ok := composites[d]
			if !ok {
				exp = string([]byte{'%', d})
			}
			for j := 0; j < len(exp); j++ {
				if exp[j] != '%' {
					lit.WriteByte(exp[j])
					continue
				}
				dd := exp[j+1]
				j++
				if _, ok := directives[dd]; !ok {
					return nil, fmt.Errorf("s3 key format %q: unsupported strftime directive %%%c at offset %d", format, dd, i-2)
				}
				flush()
				f.parts = append(f.parts, part{kind: pTime, dir: dd})
			}
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	f.unit, f.hasDate = f.analyse()
	return f, nil
}

// String returns the format as given.
func (f *Format) String() string { return f.src }

// Unit returns the finest time unit the keys carry (Unknown if the format
// has no date: then Plan cannot narrow the listing and TimeOf fails).
func (f *Format) Unit() Unit {
	if !f.hasDate {
		return Unknown
	}
	return f.unit
}

// HasUUID reports whether the format contains $UUID.
func (f *Format) HasUUID() bool { return f.has(pUUID) }

// HasIndex reports whether the format contains $INDEX.
func (f *Format) HasIndex() bool { return f.has(pIndex) }

func (f *Format) has(k partKind) bool {
	for _, p := range f.parts {
		if p.kind == k {
			return true
		}
	}
	return false
}

// LiteralPrefix returns the part of every key that does not vary: the text
// before the first directive or variable.
func (f *Format) LiteralPrefix() string {
	if len(f.parts) > 0 && f.parts[0].kind == pLiteral {
		return f.parts[0].lit
	}
	return ""
}

// Unset returns the names of the ${NAME} variables that were unset (only
// with ParseOptions.UnsetAsWildcard).
func (f *Format) Unset() []string {
	var out []string
	for _, p := range f.parts {
		if p.kind == pUnset {
			out = append(out, p.name)
		}
	}
	return out
}

// Anchor binds the unset variables and $TAG parts that a known key prefix
// (the prefix of an s3:// URL) fixes. Given the format audit-logs/${CLUSTER_NAME}/%Y/...
// with CLUSTER_NAME unset and the prefix audit-logs/prod-eu/, it returns
// the format audit-logs/prod-eu/%Y/.... A variable is bound to the prefix
// text up to the literal that follows it in the format. ok is false when
// the prefix contradicts the format (keys under it cannot follow it).
func (f *Format) Anchor(prefix string) (*Format, bool) {
	prefix = strings.TrimPrefix(prefix, "/")
	out := &Format{src: f.src, unit: f.unit, hasDate: f.hasDate}
	rest := prefix
	for i := 0; i < len(f.parts); i++ {
		p := f.parts[i]
		if rest == "" {
			out.parts = append(out.parts, f.parts[i:]...)
			break
		}
		switch p.kind {
		case pLiteral:
			n := min(len(p.lit), len(rest))
			if p.lit[:n] != rest[:n] {
				return f, false
			}
			rest = rest[n:]
			out.parts = append(out.parts, p)
		case pUnset, pTag, pTagPart:
			// A value that is the same for every object of one stream (an
			// unset variable, the tag) is bound up to the next literal's
			// first character, if the prefix holds it; otherwise the
			// prefix ends inside the value.
			next := ""
			if i+1 < len(f.parts) && f.parts[i+1].kind == pLiteral {
				next = f.parts[i+1].lit
			}
			j := -1
			if next != "" {
				j = strings.Index(rest, next[:1])
			}
			if j <= 0 {
				out.parts = append(out.parts, f.parts[i:]...)
				rest = ""
				i = len(f.parts)
				break
			}
			out.parts = append(out.parts, part{kind: pLiteral, lit: rest[:j]})
			rest = rest[j:]
		default:
			// A directive or a per-object variable: the prefix goes into
			// the varying part of the keys; keep the rest as it is.
			out.parts = append(out.parts, f.parts[i:]...)
			rest = ""
			i = len(f.parts)
		}
	}
	// Merge adjacent literals so LiteralPrefix sees the bound text.
	merged := out.parts[:0:0]
	for _, p := range out.parts {
		if n := len(merged); n > 0 && p.kind == pLiteral && merged[n-1].kind == pLiteral {
			merged[n-1].lit += p.lit
			continue
		}
		merged = append(merged, p)
	}
	out.parts = merged
	return out, true
}

// OpenVariable reports whether the listing of the format's keys stops at
// a per-stream variable (an unset ${NAME} or $TAG) that is followed by a
// "/" and then by time fields. A reader can then list the prefix with the
// delimiter "/" to learn the variable's values and Anchor the format to
// each (one cluster or tag at a time) instead of listing every key.
func (f *Format) OpenVariable() (prefix string, ok bool) {
	for i, p := range f.parts {
		switch p.kind {
		case pLiteral:
			continue
		case pUnset, pTag, pTagPart:
			if i+1 >= len(f.parts) || f.parts[i+1].kind != pLiteral || !strings.HasPrefix(f.parts[i+1].lit, "/") {
				return "", false
			}
			for _, q := range f.parts[i+1:] {
				if q.kind == pTime {
					return f.LiteralPrefix(), true
				}
			}
		}
		return "", false
	}
	return "", false
}

// Render returns the object key (without a leading "/") for time t.
func (f *Format) Render(t time.Time, v Vars) string {
	t = t.UTC()
	uuid := v.UUID
	if uuid == "" && f.HasUUID() {
		uuid = RandomUUID()
	}
	var b strings.Builder
	for _, p := range f.parts {
		switch p.kind {
		case pLiteral:
			b.WriteString(p.lit)
		case pTime:
			directives[p.dir].render(&b, t)
		case pUUID:
			b.WriteString(uuid)
		case pIndex:
			b.WriteString(strconv.FormatUint(v.Index, 10))
		case pUnset:
			b.WriteString("${" + p.name + "}")
		case pTag:
			b.WriteString(v.Tag)
		case pTagPart:
			parts := splitTag(v.Tag, v.TagDelimiters)
			if p.n < len(parts) {
				b.WriteString(parts[p.n])
			} else {
				b.WriteString(v.Tag + "[" + strconv.Itoa(p.n) + "]")
			}
		}
	}
	return b.String()
}

func splitTag(tag, delims string) []string {
	if delims == "" {
		delims = "."
	}
	return strings.FieldsFunc(tag, func(r rune) bool { return strings.ContainsRune(delims, r) })
}

const uuidAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// RandomUUID returns what $UUID renders to: 8 random characters of [a-z0-9].
func RandomUUID() string {
	var buf [8]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+)
	for i := range buf {
		buf[i] = uuidAlphabet[int(buf[i])%len(uuidAlphabet)]
	}
	return string(buf[:])
}

// analyse returns the finest unit present and whether a year is known.
func (f *Format) analyse() (Unit, bool) {
	unit := Unknown
	hasYear := false
	finer := func(u Unit) {
		if unit == Unknown || u < unit {
			unit = u
		}
	}
	for _, p := range f.parts {
		if p.kind != pTime {
			continue
		}
		switch p.dir {
		case 's':
			hasYear = true
			finer(Second)
		case 'Y', 'y':
			hasYear = true
			finer(Year)
		case 'G', 'g', 'C':
			finer(Year)
		case 'm', 'b', 'h', 'B':
			finer(Month)
		case 'd', 'e', 'j':
			finer(Day)
		case 'H':
			finer(Hour)
		case 'I':
			if f.hasDir('p') {
				finer(Hour)
			}
		case 'M':
			finer(Minute)
		case 'S':
			finer(Second)
		}
	}
	// A unit only counts when the coarser fields it depends on are there:
	// %H without %d (or %j) does not say which hour of which day.
	if hasYear {
		unit = f.contiguousUnit(unit)
	}
	return unit, hasYear
}

func (f *Format) hasDir(ds ...byte) bool {
	for _, p := range f.parts {
		if p.kind != pTime {
			continue
		}
		for _, d := range ds {
			if p.dir == d {
				return true
			}
		}
	}
	return false
}

// contiguousUnit returns the finest unit u such that every unit from Year
// down to u is determined by the format.
func (f *Format) contiguousUnit(finest Unit) Unit {
	if f.hasDir('s') {
		return Second
	}
	u := Year
	if f.hasDir('j') {
		u = Day
	} else if f.hasDir('m', 'b', 'h', 'B') {
		u = Month
		if f.hasDir('d', 'e') {
			u = Day
		}
	}
	if u == Day && (f.hasDir('H') || (f.hasDir('I') && f.hasDir('p'))) {
		u = Hour
		if f.hasDir('M') {
			u = Minute
			if f.hasDir('S') {
				u = Second
			}
		}
	}
	if finest != Unknown && u < finest {
		u = finest
	}
	return u
}
