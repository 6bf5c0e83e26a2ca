package data

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func digits(s string, i, n int) (int, bool) {
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

func fastRFC3339(s string) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	y, ok1 := digits(s, 0, 4)
	mo, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	h, ok4 := digits(s, 11, 2)
	mi, ok5 := digits(s, 14, 2)
	se, ok6 := digits(s, 17, 2)
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
		oh, ok1 := digits(s, i+1, 2)
		om, ok2 := digits(s, i+4, 2)
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
