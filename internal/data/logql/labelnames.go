package logql

import "strings"

// UnboundLabels returns, in query order and without repeats, the label
// names the query's label filters read that nothing in the query itself
// names: not a stream matcher of the selector, not the label of a
// `| json name="path"` expression or a `| label_format` destination, not
// __error__ or __error_details__. Those names must come from what
// `| json` extracts (or from the stream's labels), so a caller that knows
// the fields can tell a misspelt one (which silently matches nothing)
// from a real one. A `name_extracted` label is reported as name.
func (q *LogQuery) UnboundLabels() []string {
	bound := map[string]bool{ErrorLabel: true, ErrorDetailsLabel: true}
	for _, m := range q.matchers {
		bound[m.Name] = true
	}
	seen := map[string]bool{}
	var out []string
	var walk func(f labelFilter)
	walk = func(f labelFilter) {
		name := ""
		switch f := f.(type) {
		case *binaryFilter:
			walk(f.l)
			walk(f.r)
			return
		case *stringFilter:
			name = f.m.Name
		case *numericFilter:
			name = f.name
		case *ipFilter:
			name = f.name
		default:
			return
		}
		name = strings.TrimSuffix(name, extractedSuffix)
		if !bound[name] && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, s := range q.stages {
		switch s := s.(type) {
		case *jsonStage:
			for _, n := range s.names {
				bound[n] = true
			}
		case *labelFormatStage:
			for _, n := range s.dsts {
				bound[n] = true
			}
		case *labelFilterStage:
			walk(s.f)
		}
	}
	return out
}
