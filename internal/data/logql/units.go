package logql

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

var errBadDuration = errors.New("invalid duration")

// parseDuration parses a Prometheus/Loki duration: a sequence of
// number+unit pairs with units y, w, d, h, m, s, ms, us, µs, ns
// ("5m", "1h30m", "1.5h", "250ms").
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errBadDuration
	}
	orig := s
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, errBadDuration
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, errBadDuration
		}
		s = s[i:]
		j := 0
		for j < len(s) && !isDigit(s[j]) && s[j] != '.' {
			j++
		}
		var unit time.Duration
		switch s[:j] {
		case "y":
			unit = 365 * 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		case "d":
			unit = 24 * time.Hour
		case "h":
			unit = time.Hour
		case "m":
			unit = time.Minute
		case "s":
			unit = time.Second
		case "ms":
			unit = time.Millisecond
		case "us", "µs":
			unit = time.Microsecond
		case "ns":
			unit = time.Nanosecond
		default:
			return 0, errBadDuration
		}
		total += n * float64(unit)
		s = s[j:]
	}
	if total > math.MaxInt64 || math.IsNaN(total) {
		return 0, errors.New("duration " + orig + " is too large")
	}
	return time.Duration(total), nil
}

// parseBytes parses a byte size as Loki does, with go-humanize's
// ParseBytes (Loki's | unwrap bytes(x), its bytes label filters and their
// literals): a number (decimals and thousands commas allowed) then,
// after optional spaces, a unit of b, k/kb, ki/kib, m/mb, mi/mib, g, t, p
// or e likewise, or none, in any case ("20MB", "1.5 KiB", "1k", "1M",
// "512"). The result is a whole number of bytes, rounded down.
func parseBytes(s string) (float64, error) {
	n, err := humanize.ParseBytes(s)
	if err == nil {
		return float64(n), nil
	}
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ',') {
		i++
	}
	if _, perr := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", ""), 64); i == 0 || perr != nil {
		return 0, errors.New("invalid byte size " + strconv.Quote(s))
	}
	if strings.HasPrefix(err.Error(), "too large") {
		return 0, errors.New("byte size " + strconv.Quote(s) + " is too large")
	}
	return 0, errors.New("invalid byte size unit " + strconv.Quote(strings.TrimSpace(s[i:])) + " (units: b, k, kb, ki, kib, m, mb, mi, mib, ... e, eb, ei, eib)")
}
