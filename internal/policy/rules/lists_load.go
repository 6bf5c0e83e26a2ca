package rules

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/audittui/audittui/internal/data/logql"
)

// readLists reads a file's top-level lists: (nil when absent) and sets
// the lists its expressions expand with. It reports false on errors.
func (p *parser) readLists(n *yaml.Node) bool {
	if defaultListErr != nil {
		p.errs = append(p.errs, &Error{File: p.file, Msg: "built-in lists: " + defaultListErr.Error()})
		return false
	}
	p.lists = defaultLists
	if n == nil {
		return true
	}
	before := len(p.errs)
	p.overrides = p.parseLists(n)
	if len(p.errs) > before {
		return false
	}
	ls, err := defaultLists.apply(p.overrides)
	if err != nil {
		p.errs = append(p.errs, asError(p.file, err))
		return false
	}
	p.lists = ls
	return true
}

func asError(file string, err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{File: file, Msg: err.Error()}
}

// expand expands r.Source's list placeholders into r.Expr.
func (p *parser) expand(r *Rule, exprNode *yaml.Node) bool {
	if !HasPlaceholders(r.Source) {
		return true
	}
	x, err := ExpandLists(r.Source, p.lists)
	if err != nil {
		p.errorf(exprNode, "rule %s: expr: %v", r.Alert, err)
		return false
	}
	r.Expr = x
	return true
}

// mergeLists applies other's list overrides to s and expands every rule
// of s again with the result, so that lists given in a later file (an
// audittui rule file with a lists: key) change the built-in pack's
// expressions. A rule whose new expansion does not parse keeps its
// previous expression and a warning says so.
func (s *Set) mergeLists(other *Set) {
	if len(other.listOverrides) == 0 {
		if s.lists == nil {
			s.lists = other.lists
		}
		return
	}
	base := s.lists
	if base == nil {
		base = defaultLists
	}
	ls, err := base.apply(other.listOverrides)
	if err != nil {
		s.Warnings = append(s.Warnings, err.Error()+" (lists ignored)")
		return
	}
	s.lists = ls
	s.listOverrides = append(s.listOverrides, other.listOverrides...)
	for _, r := range s.Rules() {
		if !HasPlaceholders(r.Source) {
			continue
		}
		x, err := ExpandLists(r.Source, ls)
		if err == nil && x == r.Expr {
			continue
		}
		var q *logql.MetricQuery
		if err == nil {
			q, err = logql.ParseMetric(x)
		}
		if err != nil {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: rule %s keeps its previous lists: %v", r.Where(), r.Alert, err))
			continue
		}
		r.Expr, r.query = x, q
	}
}

// Lists returns the lists the set's expressions are expanded with.
func (s *Set) Lists() *Lists {
	if s.lists == nil {
		return defaultLists.clone()
	}
	return s.lists.clone()
}

// ExpandYAML expands the list placeholders of a rule file's text (what
// `audittui alerts export` writes for the built-in pack): every
// placeholder sits inside an expr block, so the text stays the same YAML
// with plain LogQL in it.
func ExpandYAML(content []byte, ls *Lists) ([]byte, error) {
	if ls == nil {
		ls = defaultLists
	}
	x, err := ExpandLists(string(content), ls)
	if err != nil {
		return nil, err
	}
	return []byte(x), nil
}
