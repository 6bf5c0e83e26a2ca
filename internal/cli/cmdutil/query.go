package cmdutil

import (
	"errors"
	"strings"

	"github.com/audittui/audittui/internal/data/logql"
)

// ParseQuery parses a LogQL query; a parse error is a usage error that
// shows the query's line with a caret under the column.
func ParseQuery(q string) (logql.Expr, error) {
	expr, err := logql.Parse(q)
	if err != nil {
		var pe *logql.ParseError
		if errors.As(err, &pe) {
			return nil, UsageErrorf("query: %v\n  %s\n  %s^", pe, queryLine(q, pe.Line), strings.Repeat(" ", max(0, pe.Col-1)))
		}
		return nil, UsageErrorf("query: %w", err)
	}
	return expr, nil
}

func queryLine(q string, line int) string {
	ls := strings.Split(q, "\n")
	if line >= 1 && line <= len(ls) {
		return ls[line-1]
	}
	return q
}
