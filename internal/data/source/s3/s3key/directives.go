package s3key

import (
	"strconv"
	"strings"
	"time"
)

// composites expand to simple directives at parse time (C locale).
var composites = map[byte]string{
	'F': "%Y-%m-%d",
	'T': "%H:%M:%S",
	'D': "%m/%d/%y",
	'x': "%m/%d/%y",
	'R': "%H:%M",
	'X': "%H:%M:%S",
	'r': "%I:%M:%S %p",
	'c': "%a %b %e %H:%M:%S %Y",
	'h': "%b",
}

// fields collects what parsing a key found.
type fields struct {
	year, century, yy, month, day, yday, hour, hour12, min, sec int
	epoch                                                       int64
	hasYear, hasCentury, hasYY, hasMonth, hasDay, hasYday       bool
	hasHour, hasHour12, hasMin, hasSec, hasEpoch, hasPM, pm     bool
}

type directive struct {
	// unit is the coarsest unit that determines the directive's value
	// (a directive is fixed within one unit of it).
	unit   Unit
	render func(b *strings.Builder, t time.Time)
	// parse consumes the directive's text at the start of s and returns
	// how many bytes it used; ok is false if s does not fit.
	parse func(s string, f *fields) (n int, ok bool)
}

var shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
var shortDays = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func pad(b *strings.Builder, v, width int) {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

// digits parses exactly w decimal digits.
func digits(s string, w int) (int, bool) {
	if len(s) < w {
		return 0, false
	}
	v := 0
	for i := 0; i < w; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func num(w int, set func(f *fields, v int)) func(string, *fields) (int, bool) {
	return func(s string, f *fields) (int, bool) {
		v, ok := digits(s, w)
		if !ok {
			return 0, false
		}
		if set != nil {
			set(f, v)
		}
		return w, true
	}
}

func oneOf(names []string, set func(f *fields, i int)) func(string, *fields) (int, bool) {
	return func(s string, f *fields) (int, bool) {
		for i, n := range names {
			if len(s) >= len(n) && strings.EqualFold(s[:len(n)], n) {
				if set != nil {
					set(f, i)
				}
				return len(n), true
			}
		}
		return 0, false
	}
}

// isoWeek returns the ISO 8601 year and week of t.
func isoWeek(t time.Time) (int, int) { return t.ISOWeek() }

// weekOfYear is strftime's %U (first=Sunday) or %W (first=Monday).
func weekOfYear(t time.Time, first time.Weekday) int {
	yday := t.YearDay() - 1
	wday := (int(t.Weekday()) - int(first) + 7) % 7
	return (yday + 7 - wday) / 7
}

var directives = map[byte]directive{
	'Y': {Year, func(b *strings.Builder, t time.Time) { pad(b, t.Year(), 4) },
		num(4, func(f *fields, v int) { f.year, f.hasYear = v, true })},
	'C': {Year, func(b *strings.Builder, t time.Time) { pad(b, t.Year()/100, 2) },
		num(2, func(f *fields, v int) { f.century, f.hasCentury = v, true })},
	'y': {Year, func(b *strings.Builder, t time.Time) { pad(b, t.Year()%100, 2) },
		num(2, func(f *fields, v int) { f.yy, f.hasYY = v, true })},
	'G': {Year, func(b *strings.Builder, t time.Time) { y, _ := isoWeek(t); pad(b, y, 4) }, num(4, nil)},
	'g': {Year, func(b *strings.Builder, t time.Time) { y, _ := isoWeek(t); pad(b, y%100, 2) }, num(2, nil)},
	'm': {Month, func(b *strings.Builder, t time.Time) { pad(b, int(t.Month()), 2) },
		num(2, func(f *fields, v int) { f.month, f.hasMonth = v, true })},
	'b': {Month, func(b *strings.Builder, t time.Time) { b.WriteString(shortMonths[t.Month()-1]) },
		oneOf(shortMonths, func(f *fields, i int) { f.month, f.hasMonth = i+1, true })},
	'B': {Month, func(b *strings.Builder, t time.Time) { b.WriteString(t.Month().String()) },
		oneOf(longMonths(), func(f *fields, i int) { f.month, f.hasMonth = i+1, true })},
	'd': {Day, func(b *strings.Builder, t time.Time) { pad(b, t.Day(), 2) },
		num(2, func(f *fields, v int) { f.day, f.hasDay = v, true })},
	'e': {Day, func(b *strings.Builder, t time.Time) {
		if t.Day() < 10 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(t.Day()))
	}, func(s string, f *fields) (int, bool) {
		if len(s) < 2 {
			return 0, false
		}
		if s[0] == ' ' {
			v, ok := digits(s[1:], 1)
			f.day, f.hasDay = v, true
			return 2, ok
		}
		v, ok := digits(s, 2)
		f.day, f.hasDay = v, true
		return 2, ok
	}},
	'j': {Day, func(b *strings.Builder, t time.Time) { pad(b, t.YearDay(), 3) },
		num(3, func(f *fields, v int) { f.yday, f.hasYday = v, true })},
	'a': {Day, func(b *strings.Builder, t time.Time) { b.WriteString(shortDays[t.Weekday()]) }, oneOf(shortDays, nil)},
	'A': {Day, func(b *strings.Builder, t time.Time) { b.WriteString(t.Weekday().String()) }, oneOf(longDays(), nil)},
	'u': {Day, func(b *strings.Builder, t time.Time) {
		w := int(t.Weekday())
		if w == 0 {
			w = 7
		}
		b.WriteString(strconv.Itoa(w))
	}, num(1, nil)},
	'w': {Day, func(b *strings.Builder, t time.Time) { b.WriteString(strconv.Itoa(int(t.Weekday()))) }, num(1, nil)},
	'U': {Day, func(b *strings.Builder, t time.Time) { pad(b, weekOfYear(t, time.Sunday), 2) }, num(2, nil)},
	'W': {Day, func(b *strings.Builder, t time.Time) { pad(b, weekOfYear(t, time.Monday), 2) }, num(2, nil)},
	'V': {Day, func(b *strings.Builder, t time.Time) { _, w := isoWeek(t); pad(b, w, 2) }, num(2, nil)},
	'H': {Hour, func(b *strings.Builder, t time.Time) { pad(b, t.Hour(), 2) },
		num(2, func(f *fields, v int) { f.hour, f.hasHour = v, true })},
	'I': {Hour, func(b *strings.Builder, t time.Time) {
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		pad(b, h, 2)
	}, num(2, func(f *fields, v int) { f.hour12, f.hasHour12 = v, true })},
	'p': {Hour, func(b *strings.Builder, t time.Time) {
		if t.Hour() < 12 {
			b.WriteString("AM")
		} else {
			b.WriteString("PM")
		}
	}, oneOf([]string{"AM", "PM"}, func(f *fields, i int) { f.pm, f.hasPM = i == 1, true })},
	'M': {Minute, func(b *strings.Builder, t time.Time) { pad(b, t.Minute(), 2) },
		num(2, func(f *fields, v int) { f.min, f.hasMin = v, true })},
	'S': {Second, func(b *strings.Builder, t time.Time) { pad(b, t.Second(), 2) },
		num(2, func(f *fields, v int) { f.sec, f.hasSec = v, true })},
	's': {Second, func(b *strings.Builder, t time.Time) { b.WriteString(strconv.FormatInt(t.Unix(), 10)) },
		func(s string, f *fields) (int, bool) {
			n := 0
			for n < len(s) && n < 19 && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n == 0 {
				return 0, false
			}
			v, err := strconv.ParseInt(s[:n], 10, 64)
			if err != nil {
				return 0, false
			}
			f.epoch, f.hasEpoch = v, true
			return n, true
		}},
	// gmtime sets tm_zone to "GMT" in glibc, so Fluent Bit renders %Z as GMT.
	'Z': {Year, func(b *strings.Builder, t time.Time) { b.WriteString("GMT") }, oneOf([]string{"GMT", "UTC"}, nil)},
	'z': {Year, func(b *strings.Builder, t time.Time) { b.WriteString("+0000") }, oneOf([]string{"+0000"}, nil)},
}

func longMonths() []string {
	out := make([]string, 12)
	for i := range out {
		out[i] = time.Month(i + 1).String()
	}
	return out
}

func longDays() []string {
	out := make([]string, 7)
	for i := range out {
		out[i] = time.Weekday(i).String()
	}
	return out
}
