package logql

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
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

var byteUnits = map[string]float64{
	"b":  1,
	"kb": 1e3, "kib": 1 << 10,
	"mb": 1e6, "mib": 1 << 20,
	"gb": 1e9, "gib": 1 << 30,
	"tb": 1e12, "tib": 1 << 40,
	"pb": 1e15, "pib": 1 << 50,
	"eb": 1e18, "eib": 1 << 60,
}

// parseBytes parses a byte size such as "20MB", "1.5KiB", "512B" (units
// are case-insensitive, SI and IEC, as in Loki's bytes label filters). It
// also accepts a space between number and unit, as a label value might.
func parseBytes(s string) (float64, error) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, errors.New("invalid byte size")
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, errors.New("invalid byte size")
	}
	unit := strings.ToLower(strings.TrimSpace(s[i:]))
	if unit == "" {
		return n, nil
	}
	m, ok := byteUnits[unit]
	if !ok {
		return 0, errors.New("invalid byte size unit " + strconv.Quote(s[i:]))
	}
	return n * m, nil
}
