package logql

import "slices"

import "strings"

// UnboundLabels returns, in query order and without repeats, the label
// names the query reads that nothing in the query itself names: those of
// its label filters, of the fields its line_format and label_format
// templates read ({{.name}}), of label_format renames (dst=src) and of
// drop and keep, when they are not a stream matcher of the selector, not
// the label of a `| json name="path"` expression or a `| label_format`
// destination before them, not __error__, __error_details__ or __line__.
// Those names must come from what `| json` extracts (or from the stream's
// labels), so a caller that knows the fields can tell a misspelt one
// (which silently matches nothing, or renders or groups as empty) from a
// real one. A `name_extracted` label is reported as name.
func (q *LogQuery) UnboundLabels() []string {
	u := q.unbound()
	return u.out
}

// unboundNames collects unbound names; bound is what the stages seen so
// far name.
type unboundNames struct {
	bound, seen map[string]bool
	out         []string
}

func (u *unboundNames) add(name string) {
	name = strings.TrimSuffix(name, extractedSuffix)
	if name != "" && !u.bound[name] && !u.seen[name] {
		u.seen[name] = true
		u.out = append(u.out, name)
	}
}

func (q *LogQuery) unbound() *unboundNames {
	u := &unboundNames{bound: map[string]bool{ErrorLabel: true, ErrorDetailsLabel: true, lineField: true}, seen: map[string]bool{}}
	for _, m := range q.matchers {
		u.bound[m.Name] = true
	}
	var walk func(f labelFilter)
	walk = func(f labelFilter) {
		switch f := f.(type) {
		case *binaryFilter:
			walk(f.l)
			walk(f.r)
		case *stringFilter:
			u.add(f.m.Name)
		case *numericFilter:
			u.add(f.name)
		case *ipFilter:
			u.add(f.name)
		}
	}
	template := func(t *lineTemplate) {
		if t != nil {
			for _, n := range t.fields {
				u.add(n)
			}
		}
	}
	for _, s := range q.stages {
		switch s := s.(type) {
		case *jsonStage:
			for _, n := range s.names {
				u.bound[n] = true
			}
		case *labelFilterStage:
			walk(s.f)
		case *unwrapStage:
			u.add(s.label)
		case *lineFormatStage:
			template(s.t)
		case *labelFormatStage:
			// The templates and renamed labels are read before any
			// destination of the stage is set.
			for _, it := range s.items {
				if it.rename != "" {
					u.add(it.rename)
				} else {
					template(it.t)
				}
			}
			for _, n := range s.dsts {
				u.bound[n] = true
			}
		case *dropStage:
			for _, n := range s.names {
				u.add(n)
			}
		}
	}
	return u
}

// UnboundLabels is the log query's UnboundLabels followed by the names of
// the by and without clauses of the aggregations that the log query does
// not name itself (sum by (objectRef_resorce) groups every event under an
// empty value).
func (q *MetricQuery) UnboundLabels() []string {
	if q.leaf == nil {
		var out []string
		for _, l := range q.legs {
			for _, n := range l.UnboundLabels() {
				if !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
		return out
	}
	u := q.leaf.log.unbound()
	var walk func(n metricNode)
	walk = func(n metricNode) {
		switch n := n.(type) {
		case *vectorAgg:
			walk(n.inner)
			if n.group != nil {
				for _, name := range n.group.names {
					u.add(name)
				}
			}
		case *scalarBinary:
			walk(n.vec)
		}
	}
	walk(q.root)
	return u.out
}
