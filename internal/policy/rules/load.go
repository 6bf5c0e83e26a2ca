// Package rules loads alert rules written in the Loki ruler format,
// evaluates them over audit events (replay over a time range, or live as
// events arrive) and carries audittui's built-in detection pack.
//
// A rule file is exactly what Loki's ruler loads:
//
//	groups:
//	  - name: kubernetes-audit
//	    interval: 1m
//	    rules:
//	      - alert: PodExecDetected
//	        expr: sum(count_over_time({job="audit"} | json | objectRef_subresource="exec" [5m])) by (user_username) > 0
//	        for: 0m
//	        labels: {severity: info}
//	        annotations: {summary: "{{ $labels.user_username }} ran exec"}
//
// Every expression is parsed by internal/data/logql; every annotation is a
// Go text/template with $labels, $value and $externalLabels defined, as in
// Prometheus and Loki. Errors name the file and line.
//
// audittui also reads a top-level lists: key and expands ${list:NAME} and
// ${unless:NAME} placeholders in expressions (lists.go); the built-in pack
// uses them for what a site changes, and is exported expanded.
package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// DefaultInterval is the evaluation interval of a group that sets none
// (Loki's ruler default, evaluation_interval).
const DefaultInterval = time.Minute

// Severities, lowest first. A rule's severity is its "severity" label.
var severityRank = map[string]int{"info": 1, "warning": 2, "critical": 3}

// SeverityRank returns 1 (info), 2 (warning), 3 (critical), or 0 for an
// unknown or empty severity.
func SeverityRank(s string) int { return severityRank[strings.ToLower(s)] }

// Set is a loaded collection of rule groups, from one or more files.
type Set struct {
	Groups []*Group
	// Warnings are non-fatal findings (for example recording rules, which
	// audittui does not evaluate), each prefixed with file:line.
	Warnings []string

	// lists are the lists the set's expressions were expanded with;
	// listOverrides what its files said about them (see lists.go).
	lists         *Lists
	listOverrides []*listOverride
}

// Group is one rule group.
type Group struct {
	Name     string
	Interval time.Duration
	// Limit is the group's alert limit (0 = none), as Loki's ruler
	// honours it: when more alerts than this would be active at once the
	// evaluation of that rule fails for that step.
	Limit int
	Rules []*Rule
	// File is the file the group came from; Line its 1-based line.
	File string
	Line int
}

// Rule is one alerting rule.
type Rule struct {
	Alert string
	// Expr is the expression as evaluated (and as exported): Source with
	// its list placeholders expanded (see lists.go).
	Expr        string
	Source      string
	For         time.Duration
	Labels      map[string]string
	Annotations map[string]string

	// Group points back at the rule's group.
	Group *Group
	// File/Line locate the rule ("- alert:" item) in its file.
	File string
	Line int

	// CountRequests is set by the annotation audittui_count: requests:
	// the rule counts each request (auditID) once, at its earliest stage
	// that passes the expression's pipeline, instead of each stage event
	// (ResponseStarted and ResponseComplete of one exec are one request).
	// Off by default, so rules keep Loki's semantics (a line is a line).
	CountRequests bool

	query          *logql.MetricQuery
	templates      map[string]*annotationTemplate
	labelTemplates map[string]*annotationTemplate
}

// Where returns "file:line" of the rule.
func (r *Rule) Where() string { return r.File + ":" + strconv.Itoa(r.Line) }

// Severity returns the rule's severity label ("" when unset).
func (r *Rule) Severity() string { return r.Labels["severity"] }

// Query returns the parsed metric query.
func (r *Rule) Query() *logql.MetricQuery { return r.query }

// Rules returns every rule of the set, in file order.
func (s *Set) Rules() []*Rule {
	var out []*Rule
	for _, g := range s.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// Merge appends the groups and warnings of other to s.
func (s *Set) Merge(other *Set) {
	s.Groups = append(s.Groups, other.Groups...)
	s.Warnings = append(s.Warnings, other.Warnings...)
	s.mergeLists(other)
}

// Override adds other's groups to s: a group of other whose name matches
// one of s replaces it in place (so a user file that carries the seed's
// "kubernetes-audit" group replaces the built-in copy instead of doubling
// every alert); the rest are appended. It returns the replaced names.
func (s *Set) Override(other *Set) []string {
	var replaced []string
	for _, g := range other.Groups {
		done := false
		for i, mine := range s.Groups {
			if mine.Name == g.Name {
				s.Groups[i] = g
				replaced = append(replaced, g.Name)
				done = true
				break
			}
		}
		if !done {
			s.Groups = append(s.Groups, g)
		}
	}
	s.Warnings = append(s.Warnings, other.Warnings...)
	s.mergeLists(other)
	return replaced
}

// LoadFile reads and parses one rule file.
func LoadFile(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return Parse(path, b)
}

// LoadFiles loads several rule files into one set. Group names must be
// unique per file (as Loki requires), not across files.
func LoadFiles(paths ...string) (*Set, error) {
	out := &Set{}
	for _, p := range paths {
		s, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		out.Merge(s)
	}
	return out, nil
}

// Error is a rule-file problem with its position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Errors is every problem found in one file.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

type parser struct {
	file     string
	errs     Errors
	warnings []string
	// lists expand the file's expressions: the defaults with the file's
	// own lists: applied.
	lists     *Lists
	overrides []*listOverride
}

func (p *parser) errorf(n *yaml.Node, format string, a ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, a...)})
}

func (p *parser) warnf(n *yaml.Node, format string, a ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, a...)))
}

// Parse parses the contents of a rule file; name is used in messages. It
// collects every problem it finds and returns them as Errors.
func Parse(name string, content []byte) (*Set, error) {
	p := &parser{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(content))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Msg: "empty rule file (want a top-level groups: list)"}}
		}
		return nil, Errors{yamlError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Line: extra.Line, Msg: "more than one YAML document; a rule file has one"}}
	}
	set := &Set{}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "top level must be a mapping with a groups: list")
		return nil, p.errs
	}
	var groupsNode, listsNode *yaml.Node
	if kind := auditKind(root); kind != nil {
		// An audit policy (or log) given as a rule file: one error that
		// says so, not one per key it has.
		what, use := "log", "give it as a SOURCE"
		if kind.Value == "Policy" {
			what, use = "policy", "audittui policy lint reads it, and policy check --policy"
		}
		p.errorf(kind, "kind %s: this is an audit %s, not a Loki ruler file (groups: of alert rules); %s", kind.Value, what, use)
		return nil, p.errs
	}
	forEachKey(root, func(k, v *yaml.Node) {
		switch k.Value {
		case "groups":
			groupsNode = v
		case "lists":
			listsNode = v
		case "namespace":
			// cortextool / lokitool files carry a namespace; it is metadata.
		default:
			p.errorf(k, "unknown top-level key %q (want groups, or lists)", k.Value)
		}
	})
	if !p.readLists(listsNode) {
		return nil, p.errs
	}
	if groupsNode == nil && listsNode != nil {
		return &Set{lists: p.lists, listOverrides: p.overrides}, nil
	}
	if groupsNode == nil {
		p.errorf(root, "missing groups:")
		return nil, p.errs
	}
	if groupsNode.Kind != yaml.SequenceNode {
		p.errorf(groupsNode, "groups must be a list")
		return nil, p.errs
	}
	seen := map[string]int{}
	for _, gn := range groupsNode.Content {
		g := p.group(gn)
		if g == nil {
			continue
		}
		if prev, dup := seen[g.Name]; dup {
			p.errorf(gn, "group %q defined twice (first at line %d)", g.Name, prev)
			continue
		}
		seen[g.Name] = g.Line
		set.Groups = append(set.Groups, g)
	}
	set.Warnings = p.warnings
	set.lists, set.listOverrides = p.lists, p.overrides
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return set, nil
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into an
// Error with the line split out.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				return &Error{File: file, Line: n, Msg: strings.TrimSpace(rest[i+1:])}
			}
		}
	}
	return &Error{File: file, Msg: msg}
}

func forEachKey(m *yaml.Node, fn func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		fn(m.Content[i], m.Content[i+1])
	}
}

func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a string", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) group(n *yaml.Node) *Group {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each group must be a mapping with name and rules")
		return nil
	}
	g := &Group{File: p.file, Line: n.Line, Interval: DefaultInterval}
	var rulesNode *yaml.Node
	forEachKey(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			g.Name, _ = p.scalar(v, "group name")
		case "interval":
			if s, ok := p.scalar(v, "interval"); ok {
				d, err := ParseDuration(s)
				switch {
				case err != nil:
					p.errorf(v, "interval: %v", err)
				case d <= 0:
					p.errorf(v, "interval must be positive")
				default:
					g.Interval = d
				}
			}
		case "limit":
			if s, ok := p.scalar(v, "limit"); ok {
				l, err := strconv.Atoi(s)
				if err != nil || l < 0 {
					p.errorf(v, "limit must be a non-negative integer, got %q", s)
				} else {
					g.Limit = l
				}
			}
		case "rules":
			rulesNode = v
		case "query_offset", "source_tenants", "labels":
			p.warnf(k, "group key %q is not used by audittui's local evaluation", k.Value)
		default:
			p.errorf(k, "unknown group key %q (want name, interval, limit, rules)", k.Value)
		}
	})
	if g.Name == "" {
		p.errorf(n, "group without a name")
	}
	if rulesNode == nil {
		p.errorf(n, "group %q has no rules:", g.Name)
		return nil
	}
	if rulesNode.Kind != yaml.SequenceNode {
		p.errorf(rulesNode, "rules must be a list")
		return nil
	}
	for _, rn := range rulesNode.Content {
		if r := p.rule(rn, g); r != nil {
			g.Rules = append(g.Rules, r)
		}
	}
	return g
}

func (p *parser) rule(n *yaml.Node, g *Group) *Rule {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each rule must be a mapping with alert and expr")
		return nil
	}
	r := &Rule{Group: g, File: p.file, Line: n.Line}
	var exprNode, recordNode *yaml.Node
	before := len(p.errs)
	forEachKey(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "alert":
			r.Alert, _ = p.scalar(v, "alert")
			if r.Alert != "" && !validMetricName(r.Alert) {
				p.errorf(v, "invalid alert name %q", r.Alert)
			}
		case "record":
			recordNode = v
		case "expr":
			r.Source, _ = p.scalar(v, "expr")
			r.Expr = r.Source
			exprNode = v
		case "for":
			if s, ok := p.scalar(v, "for"); ok {
				d, err := ParseDuration(s)
				if err != nil {
					p.errorf(v, "for: %v", err)
				}
				r.For = d
			}
		case "keep_firing_for":
			p.warnf(k, "keep_firing_for is not supported by audittui; ignored")
		case "labels":
			r.Labels = p.stringMap(v, "labels", true)
		case "annotations":
			r.Annotations = p.stringMap(v, "annotations", false)
		default:
			p.errorf(k, "unknown rule key %q (want alert, expr, for, labels, annotations)", k.Value)
		}
	})
	if recordNode != nil {
		p.warnf(n, "recording rule %q ignored: audittui evaluates alerting rules only", recordNode.Value)
		return nil
	}
	if v, ok := r.Annotations[CountAnnotation]; ok {
		switch v {
		case "requests":
			r.CountRequests = true
		case "stages":
		default:
			p.errorf(annotationNode(n, CountAnnotation), "rule %s: annotation %s: %q is not requests or stages", r.Alert, CountAnnotation, v)
		}
	}
	if r.Alert == "" {
		p.errorf(n, "rule without alert: name")
	}
	if exprNode == nil || strings.TrimSpace(r.Expr) == "" {
		p.errorf(n, "rule %q has no expr", r.Alert)
	}
	if len(p.errs) > before {
		return nil
	}
	if !p.expand(r, exprNode) {
		return nil
	}
	q, err := logql.ParseMetric(r.Expr)
	if err != nil {
		p.exprError(exprNode, r.Alert, err)
		return nil
	}
	r.query = q
	r.labelTemplates = map[string]*annotationTemplate{}
	for _, k := range sortedKeys(r.Labels) {
		if !strings.Contains(r.Labels[k], "{{") {
			continue
		}
		t, err := newAnnotationTemplate(r.Alert+"/label/"+k, r.Labels[k])
		if err != nil {
			p.errorf(n, "rule %s: label %s: %v", r.Alert, k, err)
			continue
		}
		r.labelTemplates[k] = t
	}
	r.templates = map[string]*annotationTemplate{}
	for _, k := range sortedKeys(r.Annotations) {
		t, err := newAnnotationTemplate(r.Alert+"/"+k, r.Annotations[k])
		if err != nil {
			p.errorf(n, "rule %s: annotation %s: %v", r.Alert, k, err)
			continue
		}
		r.templates[k] = t
	}
	return r
}

// CountAnnotation is the rule annotation that says what one count is:
// "stages" (the default: every audit event, as Loki counts lines) or
// "requests" (one per auditID; see Rule.CountRequests).
const CountAnnotation = "audittui_count"

// annotationNode returns the value node of annotation name in rule node
// n (n itself when absent), for error positions.
func annotationNode(n *yaml.Node, name string) *yaml.Node {
	found := n
	forEachKey(n, func(k, v *yaml.Node) {
		if k.Value == "annotations" && v.Kind == yaml.MappingNode {
			forEachKey(v, func(ak, av *yaml.Node) {
				if ak.Value == name {
					found = av
				}
			})
		}
	})
	return found
}

// exprError reports a LogQL error at the file line it points to: the
// query's own line is counted from the start of the expr value (a block
// scalar starts on the line after "expr: |").
func (p *parser) exprError(n *yaml.Node, alert string, err error) {
	var pe *logql.ParseError
	if !errors.As(err, &pe) {
		p.errorf(n, "rule %s: expr: %v", alert, err)
		return
	}
	line := n.Line + pe.Line - 1
	if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		line = n.Line + pe.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line,
		Msg: fmt.Sprintf("rule %s: expr (query line %d, col %d): %s", alert, pe.Line, pe.Col, pe.Msg)})
}

func (p *parser) stringMap(n *yaml.Node, what string, labelNames bool) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of strings", what)
		return nil
	}
	out := map[string]string{}
	forEachKey(n, func(k, v *yaml.Node) {
		if labelNames && !data.ValidLabelName(k.Value) {
			p.errorf(k, "invalid label name %q", k.Value)
			return
		}
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "%s.%s must be a string", what, k.Value)
			return
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, "%s.%s set twice", what, k.Value)
			return
		}
		out[k.Value] = v.Value
	})
	return out
}

func validMetricName(s string) bool {
	for i, c := range s {
		if c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return s != ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseDuration parses a Prometheus duration: one or more <number><unit>
// with units y, w, d, h, m, s, ms, in decreasing order ("1h30m", "5m", "0").
func ParseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	units := []struct {
		name string
		d    time.Duration
	}{
		{"y", 365 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour},
		{"h", time.Hour}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second},
	}
	order := map[string]int{"y": 0, "w": 1, "d": 2, "h": 3, "m": 4, "s": 5, "ms": 6}
	var total time.Duration
	last := -1
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 30s, 5m, 1h30m)", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", s, err)
		}
		rest = rest[i:]
		matched := false
		for _, u := range units {
			if strings.HasPrefix(rest, u.name) {
				if order[u.name] <= last {
					return 0, fmt.Errorf("invalid duration %q: units out of order", s)
				}
				last = order[u.name]
				total += time.Duration(n) * u.d
				rest = rest[len(u.name):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("invalid duration %q: unknown unit", s)
		}
	}
	return total, nil
}

// FormatDuration prints d the way Prometheus does ("5m", "1h30m", "0s").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	units := []struct {
		name string
		d    time.Duration
	}{
		{"y", 365 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour},
		{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond},
	}
	for _, u := range units {
		if d >= u.d {
			fmt.Fprintf(&b, "%d%s", d/u.d, u.name)
			d %= u.d
		}
	}
	return b.String()
}

// LookBack is how far before a window's start the set's rules read: the
// longest range (plus offset) and `for` of any rule, and an interval.
// Alerts for a window starting at From need the events from From minus
// LookBack (see Options.From).
func (s *Set) LookBack() time.Duration {
	var d time.Duration
	for _, g := range s.Groups {
		iv := g.Interval
		if iv <= 0 {
			iv = DefaultInterval
		}
		for _, r := range g.Rules {
			if r.query == nil {
				continue
			}
			d = max(d, r.query.Range()+r.query.Offset()+r.For+iv)
		}
	}
	return d
}

// auditKind returns the value node of root's kind when it names a
// Kubernetes audit object (Policy, Event, EventList), else nil.
func auditKind(root *yaml.Node) *yaml.Node {
	var kind *yaml.Node
	forEachKey(root, func(k, v *yaml.Node) {
		if k.Value == "kind" && v.Kind == yaml.ScalarNode {
			switch v.Value {
			case "Policy", "Event", "EventList":
				kind = v
			}
		}
	})
	return kind
}
