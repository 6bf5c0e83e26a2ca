package lokitest

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/data/logql"
)

// parseQuery parses LogQL with audittui's logql package (the subset the
// project supports) and words errors as Loki does ("parse error at line
// 1, col N: ...").
func parseQuery(s string) (*logql.LogQuery, *logql.MetricQuery, error) {
	e, err := logql.Parse(s)
	if err != nil {
		var pe *logql.ParseError
		if errors.As(err, &pe) {
			return nil, nil, errors.New("parse error at " + pe.Error())
		}
		return nil, nil, errors.New("parse error: " + err.Error())
	}
	switch q := e.(type) {
	case *logql.LogQuery:
		return q, nil, nil
	case *logql.MetricQuery:
		return nil, q, nil
	}
	return nil, nil, errors.New("parse error: unsupported expression")
}

// matchesStream reports whether q selects a stream.
func (m *memStream) selectedBy(q *logql.LogQuery) bool {
	return q.MatchesStream(m.labels.Get)
}

// entry is the logql view of entry i.
func (m *memStream) entry(i int) *logql.JSONEntry {
	return &logql.JSONEntry{Time: m.times[i], Line: m.lines[i], Labels: m.pairs}
}

// parseDuration accepts Prometheus durations (1d, 5m, 30s, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		d, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(d) * 7 * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
