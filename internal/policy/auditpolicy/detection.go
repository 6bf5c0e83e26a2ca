package auditpolicy

import (
	"regexp/syntax"
	"slices"
	"sort"
	"strings"

	"github.com/audittui/audittui/internal/data"
)

// GroupResource names what a detection watches. Group "*" means any API
// group (the LogQL rule did not filter on objectRef_apiGroup). Resource may
// carry a subresource ("pods/exec") or be "*/exec" when only the
// subresource is known.
type GroupResource struct {
	Group    string
	Resource string
}

// Detection is the part of an alert rule that an audit policy can blind:
// which requests it looks at, and the audit level their events need for the
// rule to see them.
type Detection struct {
	Name string
	// Resources the rule selects; empty means any request (also
	// non-resource ones). Resource "" stands for non-resource requests
	// (objectRef_resource="").
	Resources []GroupResource
	// Verbs the rule selects; empty means any.
	Verbs []string
	// Namespaces, Names and Users narrow the requests when the rule
	// filters on them with = (or a regexp of literal alternatives).
	Namespaces, Names, Users []string
	// NeedsLevel is the lowest audit level at which the rule still sees
	// the events: Metadata for metadata fields, Request for request bodies
	// (requestObject_* fields, line filters over bodies), RequestResponse
	// for responseObject_* fields.
	NeedsLevel string
	// Match, when set, tells exactly whether an event is one the rule
	// selects (the LogQL pipeline). When nil, Resources and Verbs are used,
	// which over-approximates filters on other fields.
	Match func(e *data.Event) bool
	// model, when set, is what the rule's query says about a request
	// before any event exists (lint: can this request be one the rule
	// selects?).
	model *queryModel
	// Sides, when set, are the detections of each side of a rule with a
	// binary operation between vectors (one per range aggregation, each
	// with its own selector and pipeline): the rule selects an event when
	// one of them does, and needs it at the level of each side that
	// selects it. The fields above then describe no side: NeedsLevel is
	// the highest side's, the structure is open (any request).
	Sides []Detection
}

// LabelFilter is one `| name op value` label filter of a LogQL pipeline.
// Op is one of = != =~ !~ == > >= < <=.
type LabelFilter struct {
	Name, Op, Value string
}

// DetectionFromFilters builds a Detection from a rule's label filters (all
// ANDed) and the values of its positive line filters (|= and |~).
// Filters that cannot be turned into a finite set of values (negations,
// open regexps) leave that dimension open ("any"), which is the safe side
// for "does the policy blind this rule".
//
// A line filter needs request bodies unless it only pre-selects what a
// metadata label filter checks (|= "kube-system" before
// objectRef_namespace="kube-system") or names a metadata key
// ("impersonatedUser", "requestURI", ...).
func DetectionFromFilters(name string, filters []LabelFilter, lineFilters []string) Detection {
	d := Detection{Name: name, NeedsLevel: LevelMetadata}
	var groups, resources, subs []string
	groupsOpen, resOpen, subsOpen := true, true, true
	for _, f := range filters {
		if need := levelForField(f.Name); LevelRank(need) > LevelRank(d.NeedsLevel) {
			d.NeedsLevel = need
		}
		vals, ok := literalValues(f)
		if !ok {
			continue
		}
		switch f.Name {
		case "verb":
			d.Verbs = intersectOrSet(d.Verbs, vals)
		case "objectRef_resource":
			resources, resOpen = intersectOrSetOpen(resources, resOpen, vals)
		case "objectRef_subresource":
			subs, subsOpen = intersectOrSetOpen(subs, subsOpen, vals)
		case "objectRef_apiGroup":
			groups, groupsOpen = intersectOrSetOpen(groups, groupsOpen, vals)
		case "objectRef_namespace":
			d.Namespaces = intersectOrSet(d.Namespaces, vals)
		case "objectRef_name":
			d.Names = intersectOrSet(d.Names, vals)
		case "user_username":
			d.Users = intersectOrSet(d.Users, vals)
		}
	}
	for _, lf := range lineFilters {
		if !lineFilterOnMetadata(lf, filters) && LevelRank(d.NeedsLevel) < LevelRank(LevelRequest) {
			// What `| json` cannot reach sits in request bodies: arrays
			// of containers, volumes, RBAC rules and subjects.
			d.NeedsLevel = LevelRequest
		}
	}
	if resOpen && subsOpen {
		return d
	}
	if groupsOpen {
		groups = []string{"*"}
	}
	if resOpen {
		resources = []string{"*"}
	}
	if subsOpen {
		subs = []string{""}
	}
	for _, g := range groups {
		for _, r := range resources {
			for _, s := range subs {
				res := r
				if s != "" {
					res = r + "/" + s
				}
				d.Resources = append(d.Resources, GroupResource{Group: g, Resource: res})
			}
		}
	}
	return d
}

// levelForField returns the audit level an event needs to carry a field
// under Loki's `| json` name: the schema's (data.LevelOf), so
// requestObject_* needs Request and responseObject_* RequestResponse.
func levelForField(name string) string {
	return data.LevelOf(name).String()
}

// literalValues returns the finite set of values a filter accepts: one for
// =, the alternatives of a regexp made of literals only (=~"get|list").
func literalValues(f LabelFilter) ([]string, bool) {
	switch f.Op {
	case "=", "==":
		return []string{f.Value}, true
	case "=~":
		re, err := syntax.Parse(f.Value, syntax.Perl)
		if err != nil {
			return nil, false
		}
		return literalAlternatives(re.Simplify())
	}
	return nil, false
}

func literalAlternatives(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCapture:
		return literalAlternatives(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			v, ok := literalAlternatives(s)
			if !ok {
				return nil, false
			}
			out = append(out, v...)
		}
		return out, true
	case syntax.OpCharClass:
		// Go's parser factors "get|list" into alternations whose common
		// prefixes become char classes ("r[eo]les"); expand small ones.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				out = append(out, string(c))
				if len(out) > 64 {
					return nil, false
				}
			}
		}
		return out, true
	case syntax.OpConcat:
		acc := []string{""}
		for _, s := range re.Sub {
			v, ok := literalAlternatives(s)
			if !ok {
				return nil, false
			}
			var next []string
			for _, a := range acc {
				for _, b := range v {
					next = append(next, a+b)
				}
			}
			if len(next) > 256 {
				return nil, false
			}
			acc = next
		}
		return acc, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	}
	return nil, false
}

func intersectOrSet(cur, vals []string) []string {
	if cur == nil {
		return dedupe(vals)
	}
	var out []string
	for _, v := range cur {
		if has(vals, v) {
			out = append(out, v)
		}
	}
	if out == nil {
		out = []string{} // contradictory filters: nothing matches
	}
	return out
}

func intersectOrSetOpen(cur []string, open bool, vals []string) ([]string, bool) {
	if open {
		return dedupe(vals), false
	}
	return intersectOrSet(cur, vals), false
}

func dedupe(vs []string) []string {
	out := append([]string(nil), vs...)
	sort.Strings(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}

// Matches reports whether the detection selects event e (for a rule with
// Sides, whether one of them does). The structure
// (resources, verbs, namespaces, names, users) is checked first; it is a
// superset of what the query selects (TestDetectionStructureCoversQuery), so
// Match, which runs the whole LogQL pipeline, only sees events that may
// match.
func (d *Detection) Matches(e *data.Event) bool {
	if len(d.Sides) > 0 {
		for i := range d.Sides {
			if d.Sides[i].Matches(e) {
				return true
			}
		}
		return false
	}
	if !d.matchesStructure(e) {
		return false
	}
	return d.Match == nil || d.Match(e)
}

func (d *Detection) matchesStructure(e *data.Event) bool {
	if len(d.Verbs) > 0 && !has(d.Verbs, e.Verb) ||
		len(d.Namespaces) > 0 && !has(d.Namespaces, e.Namespace) ||
		len(d.Names) > 0 && !has(d.Names, e.Name) ||
		len(d.Users) > 0 && !has(d.Users, e.User) {
		return false
	}
	if len(d.Resources) == 0 {
		return true
	}
	group, _ := groupVersion(e)
	for _, gr := range d.Resources {
		if gr.Resource == "" {
			if !IsResourceRequest(e) {
				return true
			}
			continue
		}
		if gr.Group != "*" && gr.Group != group {
			continue
		}
		if parseRes(gr.Resource).matchesConcrete(e.Resource, e.Subresource) {
			return true
		}
	}
	return false
}

// metadataKeys are the top-level keys of the schema's Metadata-level
// event fields, except those that request bodies commonly carry too, so
// that a line filter naming them says nothing about the level: kind and
// apiVersion head every object, level is common in configuration objects.
var metadataKeys = func() []string {
	skip := map[string]bool{"kind": true, "apiVersion": true, "level": true}
	var out []string
	for _, f := range data.Fields() {
		if f.Level != data.LevelMetadata || f.Wrapper || f.Kind == data.FieldDerived {
			continue
		}
		k := f.Path
		if i := strings.IndexAny(k, ".["); i >= 0 {
			k = k[:i]
		}
		if !skip[k] && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}()

// lineFilterOnMetadata reports whether a line filter value only looks at
// metadata: it is part of a label filter's value or name, or of a metadata
// key's name ("impersonatedUser"), or it names one in quotes
// ("\"requestURI\":...").
func lineFilterOnMetadata(v string, filters []LabelFilter) bool {
	// Loki's `| json` turns "pod-security.kubernetes.io/audit-violations"
	// into pod_security_kubernetes_io_audit_violations.
	flat := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, v)
	for _, f := range filters {
		if levelForField(f.Name) != LevelMetadata {
			continue
		}
		if strings.Contains(f.Value, v) || strings.Contains(f.Name, v) || len(flat) >= 4 && strings.Contains(f.Name, flat) {
			return true
		}
	}
	for _, k := range metadataKeys {
		if strings.Contains(v, `"`+k+`"`) || len(v) >= 4 && strings.Contains(k, v) {
			return true
		}
	}
	return false
}
