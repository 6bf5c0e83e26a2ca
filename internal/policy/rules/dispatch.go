package rules

import (
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// dispatch offers each event only to the rules it can feed. Nearly every
// rule filters on a few fields right after `| json` (objectRef_resource
// = "pods", verb =~ "create|update|patch", responseStatus_code < 400):
// logql's gates, each a necessary condition of its pipeline
// (logql.LogQuery.Gates). For each field some gate tests, the event's
// value is looked up once, and the rules whose gates on that field accept
// it are read from a cache of such answers by value (audit fields take
// few values: verbs, resources, status codes); the event is offered to
// the rules that every gate accepts, and their pipelines run in full. An
// event that fails a gate would not have fed the rule, so the alerts are
// those of every pipeline run on every event, at a fraction of the cost.
type dispatch struct {
	words  int
	fields []*gateField
	// primary are the fields nearly every rule gates on (status code,
	// resource, verb, subresource): looked up together, by the
	// combination of their values (combo), before the other fields.
	primary []*gateField
	combo   comboCache
	all     []uint64
	mask    []uint64 // the last candidates (push holds the evaluator's lock)
	// src is the source of the last event: whether each field's name is
	// one of its stream labels (conflict) is worked out once per source.
	src *data.SourceInfo
	// queries are the rules' (nil: no rule); sel has the bits of those
	// whose stream selector selects src's streams: the others are never
	// candidates (their pipelines refuse every event of src), and the
	// candidates' selectors need no test (logql.GatedQuery).
	queries []*logql.LogQuery
	sel     []uint64
	// proven: the last candidates met every gate provenGates returns for
	// their queries (false when the gates did not apply to the event,
	// and every rule was a candidate).
	proven bool
}

// provenGates returns the gates of q that a dispatch tests on every event
// it offers q's rule when the gates apply (dispatch.proven): its single
// gates on labels the decoder keeps. The rule's pipeline need not test
// their string filters again (logql.MetricQuery.WithoutGates).
func provenGates(q *logql.LogQuery) []logql.Gate {
	var out []logql.Gate
	for _, g := range q.Gates() {
		if len(g.Alternatives()) == 1 && getter(g) != nil {
			out = append(out, g)
		}
	}
	return out
}

// gateField is one label some gates test (by name, or by the path of
// the json expression that sets it), or the labels of `or` gates on the
// same set of labels (parts).
type gateField struct {
	fieldPart // the label (one-label fields)
	// parts are the labels of an `or` field, each read as a one-label
	// field's; the cache is keyed by all their values (key).
	parts  []fieldPart
	key    []byte
	vals   []string
	founds []bool

	gates []ruleGate
	// tested has the bits of the rules with a gate here: once none is
	// left among an event's candidates, the field is not looked up.
	tested []uint64
	// base has the bits of the rules that do not test this field and of
	// those that do (cleared by accept where a gate refuses).
	base    []uint64
	absent  []uint64   // the rules that accept an entry without the label
	byValue valueTable // the rules that accept a value
	scratch []uint64
}

// fieldPart is one label a field reads.
type fieldPart struct {
	gate logql.Gate // the first: Value looks the label up
	// get reads the label from the decoded event, as gate.Value does
	// when no stream label has its name (conflict false).
	get      func(*data.Event) (string, bool)
	conflict bool
}

type ruleGate struct {
	rule int
	gate logql.Gate
	// alts, for an `or` gate, is the part of its field each of its
	// alternatives tests.
	alts []int
}

// maxCachedValues bounds each field's cache of answers by value; values
// beyond it (a field of many values, such as user names) are answered
// afresh each time.
const maxCachedValues = 1024

// newDispatch indexes rules by their gates: rule i (a bit of the
// candidates) is queries[i] (nil: no rule i, never a candidate).
func newDispatch(queries []*logql.LogQuery) *dispatch {
	d := &dispatch{words: (len(queries) + 63) / 64, queries: queries}
	d.all = make([]uint64, d.words)
	d.mask = make([]uint64, d.words)
	d.sel = make([]uint64, d.words)
	byName := map[string]*gateField{}
	for i, q := range queries {
		if q == nil {
			continue
		}
		d.all[i/64] |= 1 << (i % 64)
		for _, g := range q.Gates() {
			if alts := g.Alternatives(); len(alts) > 1 {
				d.addOr(byName, i, g, alts)
				continue
			}
			get := getter(g)
			if get == nil {
				// Not kept by the decoder: looking it up would read the
				// line again; the pipeline tests it.
				continue
			}
			key := g.Name + "\x00" + g.Path
			f := byName[key]
			if f == nil {
				f = &gateField{fieldPart: fieldPart{gate: g, get: get}, byValue: newValueTable(maxCachedValues), tested: make([]uint64, d.words)}
				byName[key] = f
				d.fields = append(d.fields, f)
			}
			f.gates = append(f.gates, ruleGate{rule: i, gate: g})
			f.tested[i/64] |= 1 << (i % 64)
		}
	}
	// The fields that gate the most rules first: they empty the mask of
	// most events soonest.
	sort.SliceStable(d.fields, func(i, j int) bool { return len(d.fields[i].gates) > len(d.fields[j].gates) })
	for _, f := range d.fields {
		f.base = append([]uint64(nil), d.all...)
		f.scratch = make([]uint64, d.words)
		if f.parts == nil {
			f.absent = make([]uint64, d.words)
			f.accept(f.absent, "", false)
		}
	}
	d.selectFor(nil) // d.src
	n := 0
	for n < len(d.fields) && n < maxPrimary && d.fields[n].parts == nil && len(d.fields[n].gates) >= minPrimaryGates {
		n++
	}
	if n > 1 {
		d.primary, d.fields = d.fields[:n:n], d.fields[n:]
		d.combo = comboCache{byKey: newValueTable(maxCachedCombos), scratch: make([]uint64, d.words)}
	}
	return d
}

// The primary fields: at most maxPrimary, each gating minPrimaryGates
// rules or more. Their values' combinations are cached up to
// maxCachedCombos (beyond, a new combination is answered field by field).
const (
	maxPrimary      = 4
	minPrimaryGates = 16
	maxCachedCombos = 1 << 14
)

// comboCache holds the rules the primary fields' gates accept, by the
// combination of the fields' values: one look-up per event where there
// would be one per field. Audit events combine few of them: the 100,372
// events of the benchmark file's first 100 MB have 139 (status code,
// resource, verb, subresource) combinations.
type comboCache struct {
	key     []byte
	byKey   valueTable
	scratch []uint64
}

// primaryRules returns the rules whose gates on the primary fields
// accept ev (applies false when the gates do not apply to it).
func (d *dispatch) primaryRules(ev *data.Event) (bs []uint64, applies bool) {
	c := &d.combo
	c.key = c.key[:0]
	for _, f := range d.primary {
		v, found, ok := f.value(ev)
		if !ok {
			return nil, false
		}
		c.key = appendPart(c.key, v, found)
	}
	if bs := c.byKey.get(b2s(c.key)); bs != nil {
		return bs, true
	}
	if !c.byKey.full() {
		bs = make([]uint64, d.words)
		c.byKey.put(string(c.key), bs)
	} else {
		bs = c.scratch
	}
	copy(bs, d.all)
	for _, f := range d.primary {
		fs, _ := f.rules(ev, d.words) // applies, as above
		for w := range bs {
			bs[w] &= fs[w]
		}
	}
	return bs, true
}

// appendPart appends a label's value to a cache key: its length (and
// whether the label was found), then its bytes.
func appendPart(key []byte, v string, found bool) []byte {
	n := uint64(len(v)) << 1
	if found {
		n |= 1
	}
	key = binary.AppendUvarint(key, n)
	return append(key, v...)
}

// addOr indexes rule i's `or` gate g (alternatives alts) in the field of
// its set of labels, unless the decoder does not keep one of them.
func (d *dispatch) addOr(byName map[string]*gateField, i int, g logql.Gate, alts []logql.Gate) {
	var keys []string
	parts := map[string]fieldPart{}
	for _, a := range alts {
		get := getter(a)
		if get == nil {
			return
		}
		k := a.Name + "\x00" + a.Path
		if _, ok := parts[k]; !ok {
			keys = append(keys, k)
			parts[k] = fieldPart{gate: a, get: get}
		}
	}
	sort.Strings(keys)
	fk := strings.Join(keys, "\x01") + "\x01or"
	f := byName[fk]
	if f == nil {
		f = &gateField{byValue: newValueTable(maxCachedValues), tested: make([]uint64, d.words),
			vals: make([]string, len(keys)), founds: make([]bool, len(keys))}
		for _, k := range keys {
			f.parts = append(f.parts, parts[k])
		}
		byName[fk] = f
		d.fields = append(d.fields, f)
	}
	rg := ruleGate{rule: i, gate: g}
	for _, a := range alts {
		rg.alts = append(rg.alts, slices.Index(keys, a.Name+"\x00"+a.Path))
	}
	f.gates = append(f.gates, rg)
	f.tested[i/64] |= 1 << (i % 64)
}

// getter returns the schema's getter of the label g tests, nil when the
// decoder does not keep it (reading it would parse the line again).
func getter(g logql.Gate) func(*data.Event) (string, bool) {
	if g.Path != "" {
		if spec, ok := data.FieldByPath(g.Path); ok {
			return spec.Get
		}
		if g.Path == data.SourceIPsPath {
			// Every address, from the decoded event (as the event's
			// JSONPath answers it): the built-in rules' test of where a
			// service account's request came from.
			return data.SourceIPsJSON
		}
		return nil
	}
	if spec, ok := data.FieldByName(g.Name); ok && spec.Kind == data.FieldJSON {
		return spec.Get
	}
	return nil
}

// setConflict notes whether src has a stream label of the field's name.
func (f *fieldPart) setConflict(src *data.SourceInfo) {
	f.conflict = false
	if src != nil && f.get != nil {
		_, f.conflict = src.Labels.Get(f.gate.Name)
	}
}

// value is f.gate.Value(ev), read straight from the decoded event when
// no stream label of ev's source has the label's name (an event's
// JSONField and JSONPath answer with these getters: data's schema test).
func (f *fieldPart) value(ev *data.Event) (v string, found, applies bool) {
	if f.conflict {
		return f.gate.Value(ev)
	}
	v, found = f.get(ev)
	if f.gate.Path != "" {
		return v, true, true // a json expression always sets its label
	}
	return v, found, true
}

// accept sets in bs the rules that accept an entry whose label is v
// (found: the entry has the label).
func (f *gateField) accept(bs []uint64, v string, found bool) {
	copy(bs, f.base)
	for _, rg := range f.gates {
		if !rg.gate.Accepts(v, found) {
			bs[rg.rule/64] &^= 1 << (rg.rule % 64)
		}
	}
}

// rules returns the rules of f that accept ev (applies false when f's
// gates do not apply to it).
func (f *gateField) rules(ev *data.Event, words int) (bs []uint64, applies bool) {
	if f.parts != nil {
		return f.orValue(ev, words)
	}
	v, found, applies := f.value(ev)
	if !applies {
		return nil, false
	}
	if !found {
		return f.absent, true
	}
	bs = f.byValue.get(v)
	if bs == nil {
		if !f.byValue.full() {
			bs = make([]uint64, words)
			// A copy: v may alias the read buffer of its batch.
			f.byValue.put(strings.Clone(v), bs)
		} else {
			bs = f.scratch
		}
		f.accept(bs, v, true)
	}
	return bs, true
}

// orValue returns the rules of an `or` field that accept ev (applies
// false when a part does not apply to ev), from the cache when its
// labels' values were seen together before.
func (f *gateField) orValue(ev *data.Event, words int) (bs []uint64, applies bool) {
	f.key = f.key[:0]
	for i := range f.parts {
		v, found, ok := f.parts[i].value(ev)
		if !ok {
			return nil, false
		}
		f.vals[i], f.founds[i] = v, found
		f.key = appendPart(f.key, v, found)
	}
	defer clear(f.vals) // they may alias the event's read buffer
	if bs := f.byValue.get(b2s(f.key)); bs != nil {
		return bs, true
	}
	if !f.byValue.full() {
		bs = make([]uint64, words)
		f.byValue.put(string(f.key), bs)
	} else {
		bs = f.scratch
	}
	copy(bs, f.base)
	for _, rg := range f.gates {
		ok := false
		for j, a := range rg.gate.Alternatives() {
			if p := rg.alts[j]; a.Accepts(f.vals[p], f.founds[p]) {
				ok = true
				break
			}
		}
		if !ok {
			bs[rg.rule/64] &^= 1 << (rg.rule % 64)
		}
	}
	return bs, true
}

// candidates returns the rules ev may feed, as a bitset valid until the
// next call: those whose stream selector selects ev's stream and every
// gate accepts (every such rule when ev's line is not JSON `| json`
// parses, where no gate applies).
func (d *dispatch) candidates(ev *data.Event) []uint64 {
	mask := d.mask
	d.proven = false
	if src := ev.Origin.Source; src != d.src {
		d.src = src
		d.selectFor(src)
		for _, f := range d.primary {
			f.setConflict(src)
		}
		for _, f := range d.fields {
			f.setConflict(src)
			for i := range f.parts {
				f.parts[i].setConflict(src)
			}
		}
	}
	copy(mask, d.sel)
	if d.primary != nil {
		bs, applies := d.primaryRules(ev)
		if !applies {
			copy(mask, d.sel)
			return mask
		}
		if !and(mask, bs) {
			return mask
		}
	}
	d.proven = true
	for _, f := range d.fields {
		tested := uint64(0)
		for w := range mask {
			tested |= mask[w] & f.tested[w]
		}
		if tested == 0 {
			continue // no candidate left has a gate here
		}
		bs, applies := f.rules(ev, d.words)
		if !applies {
			copy(mask, d.sel)
			d.proven = false
			return mask
		}
		if !and(mask, bs) {
			return mask
		}
	}
	return mask
}

// selectFor sets sel to the rules whose stream selector selects the
// streams of src (an event's stream labels are its source's).
func (d *dispatch) selectFor(src *data.SourceInfo) {
	get := func(name string) (string, bool) {
		if src == nil {
			return "", false
		}
		return src.Labels.Get(name)
	}
	clear(d.sel)
	for i, q := range d.queries {
		if q != nil && q.MatchesStream(get) {
			d.sel[i/64] |= 1 << (i % 64)
		}
	}
}

// and leaves in mask the rules bs has too, and reports whether any is
// left.
func and(mask, bs []uint64) bool {
	any := uint64(0)
	for w := range mask {
		mask[w] &= bs[w]
		any |= mask[w]
	}
	return any != 0
}

// valueTable holds the answers of a field's gates (or of the primary
// fields' together) by value, at most max of them. It is a Go map: its
// hash is seeded per process, and the values are what the API server's
// clients chose (user agents, names): a hash of a few fixed bytes of
// them (tried: the length and the first, middle and last eight bytes, in
// an open-addressing table) let a client that sends values alike in those
// bytes make every look-up probe the whole table, for a dispatch that was
// at most 14% cheaper and not measurably faster as a whole.
type valueTable struct {
	m   map[string][]uint64
	max int
}

func newValueTable(max int) valueTable {
	return valueTable{m: make(map[string][]uint64, 64), max: max}
}

// full reports whether the table holds its max values.
func (t *valueTable) full() bool { return len(t.m) >= t.max }

// get returns the answer kept for key, nil if none.
func (t *valueTable) get(key string) []uint64 {
	return t.m[key]
}

// put keeps bs (not nil) as the answer for key, which must not alias
// memory that changes; the table must not be full.
func (t *valueTable) put(key string, bs []uint64) { t.m[key] = bs }

// b2s is the bytes of b as a string, without a copy: for look-ups only
// (the string must not outlive a change of b).
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
