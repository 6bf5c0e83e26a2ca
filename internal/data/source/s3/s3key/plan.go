package s3key

import (
	"strings"
	"time"
)

// DefaultMaxPrefixes bounds how many prefixes Plan returns: it picks the
// finest time unit (but no finer than an hour) whose prefixes for the window
// number at most this many: hour prefixes for a 3-hour window, day prefixes
// for two weeks, month prefixes for a year.
const DefaultMaxPrefixes = 48

// PlanOptions tune PlanWith.
type PlanOptions struct {
	// MaxPrefixes bounds the number of prefixes (0 = DefaultMaxPrefixes).
	MaxPrefixes int
	// FinestUnit is the finest unit to plan at (0 = Hour). One LIST page
	// holds 1000 keys, so an hour prefix (60 objects per node at Fluent
	// Bit's 1-minute upload timeout) usually costs one call: listing minute
	// prefixes would cost more calls for the same keys.
	FinestUnit Unit
}

// Plan returns the key prefixes to LIST so that every key whose time lies
// in [from, to) is found. Keys under these prefixes may still fall outside
// the window: check them with TimeOf.
//
// The keys carry the time of an object's first record, so callers that
// want the events in [from, to) pass a window widened by the longest span
// an object covers (the upload timeout) before from, and a little after to
// for late-arriving records.
//
// When the window is open (a zero from or to), or the format has no date,
// Plan returns the literal prefix alone. An empty window (to <= from)
// returns no prefixes.
func (f *Format) Plan(from, to time.Time) []string {
	return f.PlanWith(from, to, PlanOptions{})
}

// PlanWith is Plan with options.
func (f *Format) PlanWith(from, to time.Time, o PlanOptions) []string {
	limit := o.MaxPrefixes
	if limit <= 0 {
		limit = DefaultMaxPrefixes
	}
	finest := o.FinestUnit
	if finest == Unknown {
		finest = Hour
	}
	whole := []string{f.LiteralPrefix()}
	if from.IsZero() || to.IsZero() || f.Unit() == Unknown {
		return whole
	}
	if !to.After(from) {
		return []string{}
	}
	for u := max(f.Unit(), finest); u <= Year; u++ {
		if out, ok := f.prefixes(from, to, u, limit); ok {
			return out
		}
	}
	return whole
}

// prefixes enumerates the distinct prefixes at unit u for [from, to); ok
// is false if there are more than max.
func (f *Format) prefixes(from, to time.Time, u Unit, max int) ([]string, bool) {
	seen := make(map[string]bool)
	var out []string
	for t := u.Truncate(from); t.Before(to); t = u.Next(t) {
		p := f.prefixAt(t, u)
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		if len(out) > max {
			return nil, false
		}
	}
	return out, true
}

// prefixAt renders the format for t up to the first part that is not
// fixed within the unit u starting at t.
func (f *Format) prefixAt(t time.Time, u Unit) string {
	var b strings.Builder
	for _, p := range f.parts {
		switch p.kind {
		case pLiteral:
			b.WriteString(p.lit)
			continue
		case pTime:
			d := directives[p.dir]
			if d.unit >= u {
				d.render(&b, t)
				continue
			}
		}
		break
	}
	return b.String()
}

// TimeOf parses the time a key carries (the start of its unit) and the
// unit. ok is false when the key does not fit the format or the format
// carries no date. Text after the last time directive is not checked, so
// keys Fluent Bit suffixed with "-object<random>" still parse.
func (f *Format) TimeOf(key string) (time.Time, Unit, bool) {
	if f.Unit() == Unknown {
		return time.Time{}, Unknown, false
	}
	key = strings.TrimPrefix(key, "/")
	last := -1
	for i, p := range f.parts {
		if p.kind == pTime {
			last = i
		}
	}
	var fl fields
	if !f.match(key, 0, last, &fl) {
		return time.Time{}, Unknown, false
	}
	t, ok := fl.time()
	if !ok {
		return time.Time{}, Unknown, false
	}
	return t, f.Unit(), true
}

// match matches parts[i..last] against the start of s, backtracking over
// the variable-length variables.
func (f *Format) match(s string, i, last int, fl *fields) bool {
	if i > last {
		return true
	}
	p := f.parts[i]
	switch p.kind {
	case pLiteral:
		if !strings.HasPrefix(s, p.lit) {
			return false
		}
		return f.match(s[len(p.lit):], i+1, last, fl)
	case pTime:
		saved := *fl
		n, ok := directives[p.dir].parse(s, fl)
		if !ok {
			*fl = saved
			return false
		}
		if f.match(s[n:], i+1, last, fl) {
			return true
		}
		*fl = saved
		return false
	default:
		// $UUID, $INDEX, $TAG, $TAG[n], an unset ${NAME}: one or more
		// characters.
		for n := 1; n <= len(s); n++ {
			if p.kind == pIndex && (s[n-1] < '0' || s[n-1] > '9') {
				return false
			}
			if f.match(s[n:], i+1, last, fl) {
				return true
			}
		}
		return false
	}
}

// time assembles the parsed fields into a UTC time.
func (fl *fields) time() (time.Time, bool) {
	if fl.hasEpoch {
		return time.Unix(fl.epoch, 0).UTC(), true
	}
	year := 0
	switch {
	case fl.hasYear:
		year = fl.year
	case fl.hasCentury && fl.hasYY:
		year = fl.century*100 + fl.yy
	case fl.hasYY:
		// POSIX strptime: 69-99 are 1969-1999, 00-68 are 2000-2068.
		year = 2000 + fl.yy
		if fl.yy >= 69 {
			year = 1900 + fl.yy
		}
	default:
		return time.Time{}, false
	}
	month, day := 1, 1
	if fl.hasMonth {
		month = fl.month
	}
	if fl.hasDay {
		day = fl.day
	}
	hour := 0
	switch {
	case fl.hasHour:
		hour = fl.hour
	case fl.hasHour12 && fl.hasPM:
		if fl.hour12 < 1 || fl.hour12 > 12 {
			return time.Time{}, false
		}
		hour = fl.hour12 % 12
		if fl.pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || fl.min > 59 || fl.sec > 60 {
		return time.Time{}, false
	}
	sec := fl.sec
	if sec == 60 { // a leap second
		sec = 59
	}
	var t time.Time
	if fl.hasYday && !fl.hasMonth {
		if fl.yday < 1 || fl.yday > 366 {
			return time.Time{}, false
		}
		t = time.Date(year, 1, fl.yday, hour, fl.min, sec, 0, time.UTC)
		if t.Year() != year {
			return time.Time{}, false
		}
		return t, true
	}
	t = time.Date(year, time.Month(month), day, hour, fl.min, sec, 0, time.UTC)
	if t.Day() != day { // 31 June and the like
		return time.Time{}, false
	}
	return t, true
}
