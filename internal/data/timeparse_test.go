package data

import (
	"testing"
	"time"
)

// FuzzFastRFC3339: the straight-line reader accepts and reads exactly
// what the digit-loop reader it replaced did (refRFC3339, kept here as
// the oracle), and what it accepts time.Parse reads alike; a Decoder's
// minute cache, holding the minute of the time read before (prev),
// answers as ParseTime does.
func FuzzFastRFC3339(f *testing.F) {
	for _, s := range []string{
		"2026-11-20T08:00:00Z", "2026-11-20T02:00:00.001306Z", "2024-02-29T23:59:59.999999999Z",
		"2026-11-20T08:00:00.5+02:00", "1969-12-31T23:59:59Z", "2000-03-01T00:00:00-05:30",
		"2026-11-20T08:00:00.1234567890123Z", "2026-11-20t08:00:00z", "2026-13-01T00:00:00Z",
		"2026-02-30T00:00:00Z", "2026-11-20T08:00:00.Z", "2026-11-20T08:00:00", "2026-11-20T24:00:00Z",
		"2026-11-20T08:00:00+2:00", "0000-01-01T00:00:00Z", "2026-1/-20T08:00:00Z",
	} {
		f.Add(s, "2026-11-20T08:00:00.000001Z")
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, s, prev string) {
		var mc minuteCache
		mc.parseTime(prev)
		ct, cerr := mc.parseTime(s)
		pt, perr := ParseTime(s)
		if ct != pt || (cerr == nil) != (perr == nil) {
			t.Fatalf("%q after %q: cached %d %v, ParseTime %d %v", s, prev, ct, cerr, pt, perr)
		}
		got, ok := fastRFC3339(s)
		want, wok := refRFC3339(s)
		if ok != wok || got != want {
			t.Fatalf("%q: got %d %v, want %d %v", s, got, ok, want, wok)
		}
		if !ok {
			return
		}
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil && tm.UnixNano() != got {
			t.Fatalf("%q: %d, time.Parse %d", s, got, tm.UnixNano())
		}
	})
}

// refRFC3339 is fastRFC3339 as it was, with a loop per run of digits.
func refRFC3339(s string) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	y, ok1 := refDigits(s, 0, 4)
	mo, ok2 := refDigits(s, 5, 2)
	d, ok3 := refDigits(s, 8, 2)
	h, ok4 := refDigits(s, 11, 2)
	mi, ok5 := refDigits(s, 14, 2)
	se, ok6 := refDigits(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h > 23 || mi > 59 || se > 59 {
		return 0, false
	}
	i := 19
	var nanos int64
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		scale := int64(100000000)
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if i-start < 9 {
				nanos += int64(s[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i >= len(s) {
		return 0, false
	}
	var off int64
	switch s[i] {
	case 'Z', 'z':
		if i+1 != len(s) {
			return 0, false
		}
	case '+', '-':
		if len(s) != i+6 || s[i+3] != ':' {
			return 0, false
		}
		oh, ok1 := refDigits(s, i+1, 2)
		om, ok2 := refDigits(s, i+4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off = int64(oh*3600 + om*60)
		if s[i] == '-' {
			off = -off
		}
	default:
		return 0, false
	}
	days := daysFromCivil(y, mo, d)
	secs := days*86400 + int64(h*3600+mi*60+se) - off
	return secs*1e9 + nanos, true
}

func refDigits(s string, i, n int) (int, bool) {
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
