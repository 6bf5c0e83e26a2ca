package data

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// ParseTime parses an audit timestamp into Unix nanoseconds. The fast path
// handles the apiserver's RFC 3339 form (2026-11-20T08:00:00.123456Z, any
// fraction, Z or a numeric offset); other layouts seen in the wild
// ("2022-11-29 00:09:04.38", no zone = UTC) go through time.Parse.
func ParseTime(s string) (int64, error) {
	if t, ok := fastRFC3339(s); ok {
		return t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("cannot parse time %q", clip(s, 40))
}

// ParseTimeIn parses a time as a user types it: what ParseTime reads, or
// RFC 3339 without a zone, to the minute or finer, with a T or a space
// (2026-11-20T08:00, "2026-11-20 08:00:05"), or a date (midnight), in
// loc. The TUI's :from and every command's --from (loc UTC) take these.
func ParseTimeIn(s string, loc *time.Location) (int64, error) {
	if t, err := ParseTime(s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("cannot parse time %q", clip(s, 40))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// digits2 reads the two decimal digits at s[i] (ok false if either is
// not one).
func digits2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// pow10 holds 10^k for the nanoseconds of a fraction of 9-k digits.
var pow10 = [10]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// fastRFC3339 reads the apiserver's time layout: straight-line code over
// the fixed positions (each digit checked).
func fastRFC3339(s string) (int64, bool) {
	base, ok := minuteRFC3339(s)
	if !ok {
		return 0, false
	}
	return restRFC3339(s, base)
}

// minuteRFC3339 reads the minute of an RFC 3339 time, s[:16]
// ("2026-11-20T08:00"), as Unix seconds (before any zone offset); ok is
// false when s is shorter than 20 bytes or the minute is not one.
func minuteRFC3339(s string) (int64, bool) {
	if len(s) < 20 {
		return 0, false
	}
	_ = s[15]
	if s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' {
		return 0, false
	}
	y1, ok1 := digits2(s, 0)
	y2, ok2 := digits2(s, 2)
	mo, ok3 := digits2(s, 5)
	d, ok4 := digits2(s, 8)
	h, ok5 := digits2(s, 11)
	mi, ok6 := digits2(s, 14)
	y := y1*100 + y2
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h > 23 || mi > 59 {
		return 0, false
	}
	return daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60), true
}

// restRFC3339 reads what follows the minute of an RFC 3339 time of at
// least 20 bytes (":05.123456Z", any fraction, Z or a numeric offset)
// and returns the time, the minute being base (minuteRFC3339).
func restRFC3339(s string, base int64) (int64, bool) {
	_ = s[19]
	se, ok := digits2(s, 17)
	if s[16] != ':' || !ok || se > 59 {
		return 0, false
	}
	i := 19
	var nanos int64
	if s[i] == '.' {
		i++
		start := i
		// Digits past the ninth (below a nanosecond) are read and dropped.
		var frac int64
		n := 0
		for i < len(s) && s[i]-'0' <= 9 {
			if n < 9 {
				frac = frac*10 + int64(s[i]-'0')
				n++
			}
			i++
		}
		if i == start {
			return 0, false
		}
		nanos = frac * pow10[9-n]
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
		oh, ok1 := digits2(s, i+1)
		om, ok2 := digits2(s, i+4)
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
	return (base+int64(se)-off)*1e9 + nanos, true
}

// minuteCache holds the minute of the last time a Decoder read in the
// apiserver's layout (its text and Unix seconds, minuteRFC3339): an
// event's two times and those of the events around it nearly always
// share it, so only the seconds and what follows are read again.
type minuteCache struct {
	text [16]byte
	secs int64
	set  bool
}

// parseTime is ParseTime, reading the minute from the cache when s
// starts with the cached one.
func (c *minuteCache) parseTime(s string) (int64, error) {
	if len(s) >= 20 {
		m := (*[16]byte)(unsafe.Pointer(unsafe.StringData(s)))
		if c.set && *m == c.text {
			if t, ok := restRFC3339(s, c.secs); ok {
				return t, nil
			}
		} else if base, ok := minuteRFC3339(s); ok {
			c.text, c.secs, c.set = *m, base, true
			if t, ok := restRFC3339(s, base); ok {
				return t, nil
			}
		}
	}
	return ParseTime(s)
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// DecimalTime reads a time written as a decimal number of units of unit
// nanoseconds since the epoch (Fluent Bit's date: seconds, 1795140024.309;
// CloudWatch Logs: milliseconds) exactly, as a float64 would not
// (1795140024.309 s is 1795140024308999936 ns as a float). Exponents and
// negative times are refused.
func DecimalTime(s string, unit int64) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > (1<<62)/unit {
		return 0, false
	}
	ns := w * unit
	if frac != "" {
		frac = frac[:min(len(frac), 9)]
		f, err := strconv.ParseUint(frac, 10, 64)
		if err != nil {
			return 0, false
		}
		div := int64(1)
		for range frac {
			div *= 10
		}
		ns += int64(f) * unit / div
	}
	return ns, true
}

// ShortDuration writes d as a flag is written: 1h, 1h30m, 90s as 1m30s.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
