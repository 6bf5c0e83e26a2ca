package lokisink

import (
	"regexp"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// Loki's timestamp refusals name a stream and a bound, so every entry of
// that stream beyond the bound can be dead-lettered in one step instead
// of bisecting the push down to single lines:
//
//	entry with timestamp T ignored, reason: 'entry too far behind, entry timestamp is: T, oldest acceptable timestamp is: B' for stream: {...}
//	entry for stream '{...}' has timestamp too old: T, oldest acceptable timestamp is: B
//	entry for stream '{...}' has timestamp too new: T
var (
	oldestRe = regexp.MustCompile(`oldest acceptable timestamp is: ([^,']+?)\s*(?:'|,|\bfor stream|$)`)
	tooNewRe = regexp.MustCompile(`has timestamp too new: ([^,']+?)\s*(?:'|,|$)`)
	streamRe = regexp.MustCompile(`for stream(?::\s*| ')(\{[^}]*\})`)
	labelRe  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// timeRefusal is a parsed timestamp refusal: the stream's entries before
// (or, too new, at or after) bound were refused.
type timeRefusal struct {
	stream map[string]string
	bound  int64
	newer  bool
}

// parseTimeRefusal parses a Loki 400 body naming a stream and a time bound.
func parseTimeRefusal(body string) (timeRefusal, bool) {
	var r timeRefusal
	sm := streamRe.FindStringSubmatch(body)
	if sm == nil {
		return r, false
	}
	r.stream = parseLabels(sm[1])
	if len(r.stream) == 0 {
		return r, false
	}
	var ts string
	if m := oldestRe.FindStringSubmatch(body); m != nil && (strings.Contains(body, "too far behind") || strings.Contains(body, "too old")) {
		ts = m[1]
	} else if m := tooNewRe.FindStringSubmatch(body); m != nil {
		ts, r.newer = m[1], true
	} else {
		return r, false
	}
	t, ok := parseLokiTime(strings.TrimSpace(ts))
	if !ok {
		return r, false
	}
	r.bound = t.UnixNano()
	return r, true
}

// parseLokiTime reads the time formats Loki's messages use: RFC 3339, and
// Go's time.Time String (%v).
func parseLokiTime(s string) (time.Time, bool) {
	if i := strings.Index(s, " m="); i >= 0 { // monotonic clock reading
		s = s[:i]
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999 -0700 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseLabels(s string) map[string]string {
	out := map[string]string{}
	for _, m := range labelRe.FindAllStringSubmatch(s, -1) {
		out[m[1]] = strings.ReplaceAll(strings.ReplaceAll(m[2], `\"`, `"`), `\\`, `\`)
	}
	return out
}

// is reports whether ls are the labels r names.
func (r timeRefusal) is(ls data.Labels) bool {
	if len(ls) != len(r.stream) {
		return false
	}
	for _, l := range ls {
		if v, ok := r.stream[l.Name]; !ok || v != l.Value {
			return false
		}
	}
	return true
}

// refuses reports whether an entry of the stream at time ts is beyond the
// bound. Loki's messages may give the bound to the second: an entry within
// that second is left to the bisection.
func (r timeRefusal) refuses(ts int64) bool {
	if r.newer {
		return ts >= r.bound+int64(time.Second)
	}
	return ts < r.bound
}
