package logql

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Entry is one log entry as the engine sees it. internal/data's Event
// implements it; JSONEntry is a ready implementation over a raw line.
//
// JSONField, JSONPath and RangeJSONFields report raw flattened names (see
// FlattenJSON): the engine itself renames a field that collides with a
// stream label to name_extracted, as Loki does.
type Entry interface {
	EntryTime() int64                              // Unix nanoseconds
	EntryLine() []byte                             // the raw line
	StreamLabel(name string) (string, bool)        // stream labels (job, filename, cluster, ...)
	RangeStreamLabels(fn func(name, value string)) // every stream label
	JSONField(name string) (string, bool)          // what `| json` extracts under that flattened name
	JSONPath(path string) (string, bool)           // `| json x="a.b[0].c"`; see JSONPath.Extract
	RangeJSONFields(fn func(name, value string))   // every flattened field, first occurrence of each name
}

// Labels that the pipeline sets on errors, as in Loki.
const (
	ErrorLabel        = "__error__"
	ErrorDetailsLabel = "__error_details__"
	// ErrJSONParser is __error__'s value when `| json` cannot parse a line.
	ErrJSONParser = "JSONParserErr"
	// ErrLabelFilter is __error__'s value when a numeric label filter meets
	// a value that is not a number (the line is kept, as in Loki).
	ErrLabelFilter = "LabelFilterErr"
	// ErrSampleExtraction is __error__'s value when `| unwrap` meets a
	// missing label or a value it cannot convert (the sample is 0).
	ErrSampleExtraction = "SampleExtractionErr"

	extractedSuffix = "_extracted"
)

// maxLayers bounds the label-producing stages (json, drop, keep) of one
// query; each costs one slot of a fixed array during evaluation.
const maxLayers = 8

type layerKind uint8

const (
	layerJSONAll   layerKind = iota // `| json`: every flattened field
	layerJSONExprs                  // `| json a="x"`: values in vals, names from the stage
	layerDrop                       // `| drop a, b`
	layerKeep                       // `| keep a, b`
	layerJSONLine                   // `| json` of a line changed by line_format: fields in names/vals
	layerSet                        // label_format results: names/vals
)

type layer struct {
	kind  layerKind
	names []string // exprs' names (before _extracted renaming), drop/keep names
	vals  []string // layerJSONExprs values
}

// evalState is the label context of one entry going through a pipeline.
type evalState struct {
	e          Entry
	line       []byte // the current line (line_format changes it)
	changed    bool   // line is no longer e's raw line
	layers     [maxLayers]layer
	n          int
	err        string
	errDetails string
	value      float64 // the unwrapped sample value
}

// lookup resolves a label name the way a LogQL label filter sees it after
// the stages run so far: newest stage first, then stream labels.
func (st *evalState) lookup(name string) (string, bool) {
	switch name {
	case ErrorLabel:
		return st.err, st.err != ""
	case ErrorDetailsLabel:
		return st.errDetails, st.errDetails != ""
	}
	for i := st.n - 1; i >= 0; i-- {
		l := &st.layers[i]
		switch l.kind {
		case layerJSONAll:
			if v, ok := st.jsonLookup(name); ok {
				return v, true
			}
		case layerJSONExprs:
			for j, n := range l.names {
				if st.extractedName(n) == name {
					return l.vals[j], true
				}
			}
		case layerJSONLine:
			if v, ok := st.flatLookup(l, name); ok {
				return v, true
			}
		case layerSet:
			for j, n := range l.names {
				if n == name {
					return l.vals[j], true
				}
			}
		case layerDrop:
			for _, n := range l.names {
				if n == name {
					return "", false
				}
			}
		case layerKeep:
			kept := false
			for _, n := range l.names {
				if n == name {
					kept = true
					break
				}
			}
			if !kept {
				return "", false
			}
		}
	}
	return st.e.StreamLabel(name)
}

// extractedName is the label name a parser gives to field name: name, or
// name_extracted when a stream label already has that name.
func (st *evalState) extractedName(name string) string {
	if _, ok := st.e.StreamLabel(name); ok {
		return name + extractedSuffix
	}
	return name
}

// jsonLookup finds label name among the fields of `| json` (all fields).
func (st *evalState) jsonLookup(name string) (string, bool) { return jsonLookup(st.e, name) }

// jsonLookup finds label name among the fields `| json` extracts from e:
// a field named like a stream label is renamed name_extracted, as in Loki.
func jsonLookup(e Entry, name string) (string, bool) {
	if _, ok := e.StreamLabel(name); ok {
		// The JSON field of that name was renamed name_extracted.
		return "", false
	}
	if base, ok := strings.CutSuffix(name, extractedSuffix); ok {
		if _, ok := e.StreamLabel(base); ok {
			return e.JSONField(base)
		}
	}
	return e.JSONField(name)
}

// flatLookup is jsonLookup over fields flattened from a changed line.
func (st *evalState) flatLookup(l *layer, name string) (string, bool) {
	if _, ok := st.e.StreamLabel(name); ok {
		return "", false
	}
	if base, ok := strings.CutSuffix(name, extractedSuffix); ok {
		if _, ok := st.e.StreamLabel(base); ok {
			name = base
		}
	}
	for j, n := range l.names {
		if n == name {
			return l.vals[j], true
		}
	}
	return "", false
}

func (st *evalState) setErr(kind, details string) {
	if st.err == "" {
		st.err = kind
		st.errDetails = details
	}
}

// matchSelector checks the stream matchers.
func (q *LogQuery) matchSelector(e Entry) bool {
	for _, m := range q.matchers {
		v, _ := e.StreamLabel(m.Name)
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// MatchesStream reports whether a stream with these labels is selected
// (get returns a stream label's value). Sources use it to skip whole
// streams.
func (q *LogQuery) MatchesStream(get func(name string) (string, bool)) bool {
	for _, m := range q.matchers {
		v, _ := get(m.Name)
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// Matches reports whether e is selected by the stream selector and passes
// every pipeline stage. It is safe for concurrent use.
func (q *LogQuery) Matches(e Entry) bool {
	if !q.matchSelector(e) {
		return false
	}
	var st evalState
	st.e = e
	return q.run(&st)
}

// Labels returns the label set of e after the pipeline (stream labels,
// extracted fields, __error__ ...), sorted by name, without empty values;
// ok is false when e does not match.
func (q *LogQuery) Labels(e Entry) (Labels, bool) {
	_, ls, ok := q.Process(e)
	return ls, ok
}

// Process runs e through the query and returns its line (as changed by
// line_format; otherwise e's raw line) and its labels (see Labels); ok is
// false when e does not match.
func (q *LogQuery) Process(e Entry) (line []byte, labels Labels, ok bool) {
	if !q.matchSelector(e) {
		return nil, nil, false
	}
	var st evalState
	st.e = e
	if !q.run(&st) {
		return nil, nil, false
	}
	return st.line, st.fullLabels(), true
}

// ErrTemplateFormat is __error__'s value when a line_format or
// label_format template fails on an entry.
const ErrTemplateFormat = "TemplateFormatErr"

// run executes the pipeline stages on st.
func (q *LogQuery) run(st *evalState) bool { return q.runStages(st, q.stages) }

// runStages executes stages (q's, or some of them: GatedQuery) on st.
func (q *LogQuery) runStages(st *evalState, stages []stage) bool {
	st.line = st.e.EntryLine()
	for _, s := range stages {
		switch s := s.(type) {
		case *lineFilter:
			if !s.match(st.line) {
				return false
			}
		case *jsonStage:
			if st.changed {
				st.jsonOnLine(s)
				continue
			}
			if je, ok := st.e.(jsonErrorer); ok {
				if err := je.JSONError(); err != nil {
					st.setErr(ErrJSONParser, err.Error())
					continue
				}
			}
			l := &st.layers[st.n]
			st.n++
			if len(s.exprs) == 0 {
				*l = layer{kind: layerJSONAll}
				continue
			}
			vals := make([]string, len(s.exprs))
			for i, ex := range s.exprs {
				vals[i], _ = st.e.JSONPath(ex.path) // a missing path gives "", as in Loki
			}
			*l = layer{kind: layerJSONExprs, names: s.names, vals: vals}
		case *dropStage:
			kind := layerDrop
			if s.keep {
				kind = layerKeep
			}
			st.layers[st.n] = layer{kind: kind, names: s.names}
			st.n++
			// `| drop __error__, __error_details__` clears the error, as
			// in Loki (the usual way to keep lines a parser failed on).
			if slices.Contains(s.names, ErrorLabel) != s.keep {
				st.err = ""
			}
			if slices.Contains(s.names, ErrorDetailsLabel) != s.keep {
				st.errDetails = ""
			}
		case *labelFilterStage:
			if !st.filter(s.f) {
				return false
			}
		case *unwrapStage:
			st.value = 0
			v, _ := st.lookup(s.label)
			if v == "" {
				// As Loki (grafana/loki#6713): an entry without the
				// label (or with it empty) has no sample; it is
				// skipped, not a 0 under __error__.
				return false
			}
			x, err := s.convert(v)
			if err != nil {
				st.setErr(ErrSampleExtraction, err.Error())
				continue
			}
			st.value = x
		case *lineFormatStage:
			out, err := s.t.render(st, st.line)
			if err != nil {
				st.setErr(ErrTemplateFormat, err.Error())
				continue
			}
			st.line = []byte(out)
			st.changed = true
		case *labelFormatStage:
			// Every item sees the labels as they were before the stage.
			vals := make([]string, len(s.items))
			for i, it := range s.items {
				if it.rename != "" {
					vals[i], _ = st.lookup(it.rename)
					continue
				}
				v, err := it.t.render(st, st.line)
				if err != nil {
					st.setErr(ErrTemplateFormat, err.Error())
				}
				vals[i] = v
			}
			st.layers[st.n] = layer{kind: layerDrop, names: s.srcs}
			st.layers[st.n+1] = layer{kind: layerSet, names: s.dsts, vals: vals}
			st.n += 2
		}
	}
	return true
}

// jsonOnLine runs a json stage on a line that line_format produced.
func (st *evalState) jsonOnLine(s *jsonStage) {
	var names, vals []string
	err := FlattenJSON(st.line, func(n, v string) {
		if len(s.exprs) == 0 && !slices.Contains(names, n) {
			names = append(names, n)
			vals = append(vals, v)
		}
	})
	if err != nil {
		st.setErr(ErrJSONParser, err.Error())
		return
	}
	if len(s.exprs) == 0 {
		st.layers[st.n] = layer{kind: layerJSONLine, names: names, vals: vals}
		st.n++
		return
	}
	vals = make([]string, len(s.exprs))
	for i, ex := range s.exprs {
		vals[i], _ = ex.cp.Extract(st.line)
	}
	st.layers[st.n] = layer{kind: layerJSONExprs, names: s.names, vals: vals}
	st.n++
}

func (f *lineFilter) match(line []byte) bool {
	any := false
	for i := range f.values {
		var ok bool
		if f.res != nil {
			// The prefilter answers most lines without the NFA.
			ok = (f.pre[i] == nil || f.pre[i].mayMatch(line)) && f.res[i].Match(line)
		} else {
			ok = f.finds[i].in(line)
		}
		if ok {
			any = true
			break
		}
	}
	if f.op == lineNotContains || f.op == lineNotMatch {
		return !any
	}
	return any
}

// filter evaluates a label filter with Loki's semantics: `and` evaluates
// both sides, `or` stops at the first true side; once __error__ is set,
// only filters on __error__ can drop the line.
func (st *evalState) filter(f labelFilter) bool {
	switch f := f.(type) {
	case *binaryFilter:
		l := st.filter(f.l)
		if !f.and && l {
			return true
		}
		r := st.filter(f.r)
		if f.and {
			return l && r
		}
		return r
	case *stringFilter:
		if f.m.Name == ErrorLabel {
			return f.m.Matches(st.err)
		}
		if st.err != "" {
			return true
		}
		v, _ := st.lookup(f.m.Name)
		return f.m.Matches(v)
	case *ipFilter:
		if st.err != "" {
			return true
		}
		v, ok := st.lookup(f.name)
		return f.matches(v, ok)
	case *numericFilter:
		if st.err != "" {
			return true
		}
		v, ok := st.lookup(f.name)
		if !ok {
			return false
		}
		x, err := f.parse(v)
		if err != nil {
			st.setErr(ErrLabelFilter, err.Error())
			return true
		}
		return f.op.apply(x, f.value)
	}
	return false
}

func (f *numericFilter) parse(v string) (float64, error) {
	switch f.kind {
	case kindDuration:
		d, err := time.ParseDuration(v)
		if err != nil {
			d, err = parseDuration(v)
		}
		return float64(d), err
	case kindBytes:
		return parseBytes(v)
	}
	return strconv.ParseFloat(v, 64)
}

// fullLabels builds the complete label set of the entry: stream labels,
// then each stage's labels (later stages win), then __error__, sorted by
// name, empty values dropped.
func (st *evalState) fullLabels() Labels {
	e := st.e // closures must not capture st, or st escapes to the heap
	var ls Labels
	set := func(name, value string) {
		for i := range ls {
			if ls[i].Name == name {
				ls[i].Value = value
				return
			}
		}
		ls = append(ls, Label{Name: name, Value: value})
	}
	e.RangeStreamLabels(func(name, value string) { set(name, value) })
	for i := 0; i < st.n; i++ {
		l := &st.layers[i]
		switch l.kind {
		case layerJSONAll:
			// Fast path: appending is enough until a name repeats.
			seen := make(map[string]int, len(ls)+32)
			for j, x := range ls {
				seen[x.Name] = j
			}
			e.RangeJSONFields(func(name, value string) {
				if _, ok := e.StreamLabel(name); ok {
					name += extractedSuffix
				}
				if j, ok := seen[name]; ok {
					ls[j].Value = value
					return
				}
				seen[name] = len(ls)
				ls = append(ls, Label{Name: name, Value: value})
			})
		case layerJSONExprs:
			for j, n := range l.names {
				set(st.extractedName(n), l.vals[j])
			}
		case layerJSONLine:
			for j, n := range l.names {
				set(st.extractedName(n), l.vals[j])
			}
		case layerSet:
			for j, n := range l.names {
				set(n, l.vals[j])
			}
		case layerDrop, layerKeep:
			out := ls[:0]
			for _, x := range ls {
				in := false
				for _, n := range l.names {
					if n == x.Name {
						in = true
						break
					}
				}
				if in != (l.kind == layerDrop) {
					out = append(out, x)
				}
			}
			ls = out
		}
	}
	if st.err != "" {
		set(ErrorLabel, st.err)
		set(ErrorDetailsLabel, st.errDetails)
	}
	out := ls[:0]
	for _, x := range ls {
		if x.Value != "" {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RequiredLiterals returns byte strings that every line matching the
// query must contain, so a source can skip decoding lines without them
// (see data.Prefilter). It assumes the stream labels are those named in
// the selector plus job, filename and cluster (what audittui's file
// sources set); a source that knows its stream
// label names should call RequiredLiteralsFor.
func (q *LogQuery) RequiredLiterals() [][]byte { return q.RequiredLiteralsFor(nil) }

// defaultStreamLabels are the stream label names audittui's file sources
// set; RequiredLiterals never derives a literal from a filter on them.
var defaultStreamLabels = [...]string{"job", "filename", "cluster"}

// RequiredLiteralsFor is RequiredLiterals for a source whose stream label
// names are those for which isStreamLabel returns true (nil: none beyond
// the defaults). Names in the selector, job, filename and cluster are
// always treated as stream labels (a filter on them never gives a
// literal, whatever isStreamLabel says).
//
// Literals come from `|=` line filters exactly, and, as `"value"` with the
// quotes, from `label="value"` equality filters that are ANDed at the top
// level of a stage after `| json`, when the value is made only of
// characters a JSON encoder never escapes (letters, digits, -_.:/@ and
// space) and is not a number or a boolean (the field could be a JSON
// number). Nothing comes from `or` branches, `!=`, regexes, numeric
// filters, or any label filter after a numeric one (a numeric filter can
// set __error__, after which string filters keep every line). The
// guarantee assumes lines are valid JSON objects: a line `| json` cannot
// parse would also pass label filters in Loki.
func (q *LogQuery) RequiredLiteralsFor(isStreamLabel func(name string) bool) [][]byte {
	var out [][]byte
	add := func(b []byte) {
		for _, x := range out {
			if string(x) == string(b) {
				return
			}
		}
		out = append(out, b)
	}
	jsonAll := false
	labelsOK := true
	unsafe := map[string]bool{ErrorLabel: true, ErrorDetailsLabel: true}
	for _, m := range q.matchers {
		unsafe[m.Name] = true
	}
	for _, n := range defaultStreamLabels {
		unsafe[n] = true
	}
	for _, s := range q.stages {
		switch s := s.(type) {
		case *lineFilter:
			if s.op == lineContains && len(s.values) == 1 && len(s.lits[0]) > 0 {
				add(append([]byte(nil), s.lits[0]...))
			}
		case *jsonStage:
			if len(s.exprs) == 0 {
				jsonAll = true
			}
			for _, n := range s.names {
				unsafe[n] = true
			}
		case *dropStage, *labelFormatStage:
			// Conservative: a dropped, renamed or formatted label.
			labelsOK = false
		case *lineFormatStage:
			// Later filters see the formatted line, not the raw one.
			return out
		case *labelFilterStage:
			if !labelsOK || !jsonAll {
				if hasNumeric(s.f) {
					labelsOK = false
				}
				continue
			}
			if hasNumeric(s.f) {
				labelsOK = false
				continue
			}
			for _, c := range conjuncts(s.f, nil) {
				sf, ok := c.(*stringFilter)
				if !ok || sf.m.Op != MatchEqual {
					continue
				}
				name := sf.m.Name
				if unsafe[name] || strings.HasSuffix(name, extractedSuffix) || (isStreamLabel != nil && isStreamLabel(name)) {
					continue
				}
				if !neverEscaped(sf.m.Value) || isJSONScalarText(sf.m.Value) {
					continue
				}
				add([]byte(strconv.Quote(sf.m.Value)))
			}
		}
	}
	return out
}

func hasNumeric(f labelFilter) bool {
	switch f := f.(type) {
	case *numericFilter:
		return true
	case *binaryFilter:
		return hasNumeric(f.l) || hasNumeric(f.r)
	}
	return false
}

// conjuncts flattens top-level `and`s.
func conjuncts(f labelFilter, acc []labelFilter) []labelFilter {
	if b, ok := f.(*binaryFilter); ok && b.and {
		acc = conjuncts(b.l, acc)
		return conjuncts(b.r, acc)
	}
	return append(acc, f)
}

// neverEscaped reports whether every byte of s is one a JSON encoder
// writes as is (and s is not empty).
func neverEscaped(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isIdentChar(c) || strings.IndexByte("-.:/@ ", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

var jsonNumberRe = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// isJSONScalarText reports whether s could be the text of a JSON number or
// boolean (a field the filter compares as a string, but which the line
// holds unquoted).
func isJSONScalarText(s string) bool {
	return s == "true" || s == "false" || jsonNumberRe.MatchString(s)
}

// convert reads an unwrapped label's value: a number, or with
// duration/duration_seconds a duration in seconds ("1.5s", "250ms"), or
// with bytes a byte size ("20MB", "1.5 KiB").
func (s *unwrapStage) convert(v string) (float64, error) {
	switch s.conv {
	case "duration", "duration_seconds":
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, err
		}
		return d.Seconds(), nil
	case "bytes":
		return parseBytes(v)
	}
	return strconv.ParseFloat(v, 64)
}
