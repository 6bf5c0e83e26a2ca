package auditpolicy

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/policy/rules"
)

// DetectionsFromRules turns every alert rule of a Loki ruler rule set into
// a Detection.
func DetectionsFromRules(set *rules.Set) []Detection {
	var out []Detection
	for _, r := range set.Rules() {
		q := r.Query()
		if q == nil || q.LogQuery() == nil {
			continue
		}
		d := DetectionFromLogQL(r.Alert, q.LogQuery())
		if lvl := r.AuditLevel(); lvl != "" {
			// The built-in pack says what each rule needs (rules/levels.go).
			d.NeedsLevel = lvl
		}
		out = append(out, d)
	}
	return out
}

// DetectionFromLogQL builds a Detection from a log query: its label and
// line filters give the resources, verbs and level it needs; Match runs
// the query itself, so check counts exactly the events the rule selects.
//
// The logql package does not export its pipeline stages, so the filters
// are read back from the query's canonical rendering (String), whose
// grammar is fixed: stages separated by " | ", label filters written
// name<op>"quoted" or name<op>number, line filters |= != |~ !~ "quoted".
func DetectionFromLogQL(name string, q *logql.LogQuery) Detection {
	filters, lines := pipelineFilters(q.String())
	d := DetectionFromFilters(name, filters, lines)
	d.Match = func(e *data.Event) bool { return q.Matches(e) }
	return d
}

var (
	quotedRe      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	placeholderRe = regexp.MustCompile("\x00([0-9]+)\x00")
	labelFilterRe = regexp.MustCompile("([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|==|>=|<=|=|>|<)(\x00[0-9]+\x00|[^\\s()]+)")
	jsonExprRe    = regexp.MustCompile("([A-Za-z_][A-Za-z0-9_]*)=(\x00[0-9]+\x00)")
)

// pipelineFilters extracts the label filters (from stages without "or")
// and the values of positive line filters from a canonical LogQL string.
func pipelineFilters(s string) (filters []LabelFilter, lineValues []string) {
	// Mask quoted strings so that "|" or spaces inside values cannot split
	// stages.
	var quoted []string
	masked := quotedRe.ReplaceAllStringFunc(s, func(q string) string {
		v, err := strconv.Unquote(q)
		if err != nil {
			v = q
		}
		quoted = append(quoted, v)
		return "\x00" + strconv.Itoa(len(quoted)-1) + "\x00"
	})
	unmask := func(t string) string {
		return placeholderRe.ReplaceAllStringFunc(t, func(m string) string {
			i, _ := strconv.Atoi(strings.Trim(m, "\x00"))
			if i < len(quoted) {
				return quoted[i]
			}
			return m
		})
	}
	if i := strings.IndexByte(masked, '}'); i >= 0 {
		masked = masked[i+1:]
	}
	alias := map[string]string{} // `| json name="path"`: name -> flattened path
	for _, st := range splitStages(masked) {
		switch {
		case strings.HasPrefix(st, "|=") || strings.HasPrefix(st, "|~"):
			for _, m := range placeholderRe.FindAllString(st, -1) {
				lineValues = append(lineValues, unmask(m))
			}
		case strings.HasPrefix(st, "!=") || strings.HasPrefix(st, "!~"):
			// A negative line filter keeps lines that lack the text: it
			// needs no body to be present.
		case st == "| json" || strings.HasPrefix(st, "| json "):
			for _, m := range jsonExprRe.FindAllStringSubmatch(st, -1) {
				alias[m[1]] = strings.NewReplacer(".", "_", "[", "_", "]", "").Replace(unmask(m[2]))
			}
		case strings.HasPrefix(st, "| drop ") || strings.HasPrefix(st, "| keep "):
		case strings.HasPrefix(st, "|"):
			body := st[1:]
			or := strings.Contains(body, " or ")
			for _, m := range labelFilterRe.FindAllStringSubmatch(body, -1) {
				f := LabelFilter{Name: m[1], Op: m[2], Value: unmask(m[3])}
				if p, ok := alias[f.Name]; ok {
					f.Name = p
				}
				if or {
					// Part of a disjunction: keep the name (for the level it
					// needs) but no value constraint.
					f.Op = "or"
				}
				filters = append(filters, f)
			}
		}
	}
	return filters, lineValues
}

// splitStages splits a masked pipeline at stage boundaries: " | ", " |= ",
// " |~ ", " != ", " !~ " (outside quotes, which are masked).
func splitStages(s string) []string {
	var out []string
	start := -1
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' || i+2 >= len(s) {
			continue
		}
		c, d := s[i+1], s[i+2]
		if (c == '|' && (d == ' ' || d == '=' || d == '~')) || (c == '!' && (d == '=' || d == '~') && i+3 < len(s) && s[i+3] == ' ') {
			if start >= 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
			}
			start = i + 1
		}
	}
	if start >= 0 {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out
}
