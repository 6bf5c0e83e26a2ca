package data

import (
	"bytes"
	"hash/maphash"
	"slices"
	"time"

	"github.com/audittui/audittui/internal/data/jsonscan"
)

// DupLine returns the bytes that make e a copy of another event: its
// line in one canonical form, equal for the line the apiserver wrote and
// for a re-export of it by jq (or another JSON writer that keeps the keys'
// order). That is the line `query -o raw` prints for it (Raw, compacted
// when it spans lines) with its string escapes canonicalised
// (canonEscapes: `\u0026` as `&`, `\/` as `/`, ...). For an event on one
// line without a `\u` or `\/` escape, the common case, that is Raw
// itself, found with one scan of its backslashes. For an event whose Raw
// spans lines (pretty-printed by `jq .`, an element of a pretty-printed
// array or EventList, a pretty-printed carrier record) it is Raw with
// only the whitespace between JSON tokens removed, then canonicalised:
// a `jq .` copy of a line is a copy of it, though jq writes `&` where
// the apiserver wrote `\u0026`. Other differences (keys in another
// order, a number written another way, an edited value) make another
// line, as in Loki.
// For an event in an AKS diagnostic record it is the event the record
// carries (properties.log, compacted when it spans lines), not the
// record: AKS sends each write twice, in records that differ only by
// category, when a diagnostic setting enables both kube-audit and
// kube-audit-admin (Microsoft documents kube-audit-admin as kube-audit
// without get and list), and the pair is one event.
// The result may alias Raw or Line; callers must not modify it.
func DupLine(e *Event) []byte { return DupLineBuf(e, nil) }

// DupLineBuf is DupLine for a hot loop that hashes the line at once (the
// rules, query's filter): a line it has to build (canonical escapes) is
// built in *buf, grown as needed and kept for the next call, so no
// garbage is made. The result may alias Raw, Line or *buf: it is valid
// until the next call with buf. A nil buf allocates, as DupLine.
func DupLineBuf(e *Event, buf *[]byte) []byte {
	if len(e.Line) != len(e.Raw) || e.Carrier != CarrierNone {
		return dupLineSlow(e, buf)
	}
	return canonEscapes(e.Raw, buf) // onOneLine: Raw itself unless it has a \u or \/ escape
}

func dupLineSlow(e *Event, buf *[]byte) []byte {
	if e.Carrier == CarrierLogEntry {
		return canonEscapes(sortedJSON(e.Raw), buf)
	}
	if e.Carrier == CarrierAKS && e.Line != nil {
		return canonEscapes(CompactLine(e.Line), buf)
	}
	if !SpansLines(e) {
		return canonEscapes(e.Raw, buf)
	}
	if e.Carrier == CarrierNone && e.Line != nil {
		return canonEscapes(e.Line, buf) // the decoder compacted it already (Line)
	}
	return canonEscapes(compactJSON(e.Raw), buf)
}

// onOneLine reports, without reading the bytes, that e's Raw is on one
// line: a plain event's Line is Raw itself unless the decoder compacted
// it, which it does exactly when Raw spans lines (a nil Line, as an Event
// built by hand has, differs in length from any Raw). False means "maybe
// not".
func onOneLine(e *Event) bool {
	return e.Carrier == CarrierNone && len(e.Line) == len(e.Raw)
}

// SpansLines reports whether e's Raw spans lines: for a plain event the
// lengths of Line and Raw tell (onOneLine); else its bytes are looked at.
func SpansLines(e *Event) bool {
	if onOneLine(e) {
		return false
	}
	return bytes.IndexByte(e.Raw, '\n') >= 0
}

// RawDupLine returns DupLine of the event whose Raw is raw (its bytes as
// read back, a valid JSON value): for an AKS record, the event it
// carries; else raw compacted when it spans lines (CompactLine), with
// its escapes canonicalised.
func RawDupLine(raw []byte) []byte {
	if bytes.Contains(raw, []byte(`"protoPayload"`)) {
		var d Decoder
		if evs, rej := d.Decode(nil, raw, Origin{}); rej == nil && len(evs) == 1 && evs[0].Carrier == CarrierLogEntry {
			return DupLine(&evs[0])
		}
	}
	if bytes.Contains(raw, []byte(`"kube-audit`)) {
		var d Decoder
		if evs, rej := d.Decode(nil, raw, Origin{}); rej == nil && len(evs) == 1 && evs[0].Carrier == CarrierAKS {
			return DupLine(&evs[0])
		}
	}
	return canonEscapes(CompactLine(raw), nil)
}

// sortedJSON returns the JSON value b compact, with the members of every
// object in the order of their keys: the line a GKE LogEntry is compared
// by. The same entries come as a Cloud Storage sink writes them (the
// API's key order) and as `gcloud logging read --format=json` prints
// them (keys sorted, pretty-printed), so a LogEntry's key order says
// nothing about it. Values keep their bytes; a b that is not valid JSON
// is only compacted.
func sortedJSON(b []byte) []byte {
	s := jsonscan.Scanner{B: b, MaxDepth: MaxDepth}
	out, err := sortedValue(&s, make([]byte, 0, len(b)))
	if err != nil {
		return CompactLine(b)
	}
	return out
}

type sortedMember struct{ key, val []byte }

func sortedValue(s *jsonscan.Scanner, out []byte) ([]byte, error) {
	s.SkipWS()
	if s.I >= len(s.B) {
		return out, s.EOFErr()
	}
	switch s.B[s.I] {
	case '{':
		s.I++
		var ms []sortedMember
		for first := true; ; first = false {
			key, _, done, err := s.NextKey(first)
			if err != nil {
				return out, err
			}
			if done {
				break
			}
			v, err := sortedValue(s, nil)
			if err != nil {
				return out, err
			}
			ms = append(ms, sortedMember{key, v})
		}
		slices.SortStableFunc(ms, func(x, y sortedMember) int { return bytes.Compare(x.key, y.key) })
		out = append(out, '{')
		for i, m := range ms {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(append(append(out, '"'), m.key...), '"', ':')
			out = append(out, m.val...)
		}
		return append(out, '}'), nil
	case '[':
		s.I++
		out = append(out, '[')
		for first := true; ; first = false {
			done, err := s.NextElem(first)
			if err != nil {
				return out, err
			}
			if done {
				break
			}
			if !first {
				out = append(out, ',')
			}
			if out, err = sortedValue(s, out); err != nil {
				return out, err
			}
		}
		return append(out, ']'), nil
	}
	start := s.I
	if err := s.SkipValue(0); err != nil {
		return out, err
	}
	return append(out, s.B[start:s.I]...), nil
}

// CompactLine returns raw (a record's bytes as read back, a valid JSON
// value) compacted when it spans lines, else raw.
func CompactLine(raw []byte) []byte {
	if bytes.IndexByte(raw, '\n') < 0 {
		return raw
	}
	return compactJSON(raw)
}

// Dups finds exact duplicates in a stream: events whose line (DupLine:
// their bytes, compacted when they span lines, escapes canonicalised)
// equals an earlier event's.
// An at-least-once shipper sends lines again after a crash or a failed
// upload, and forensic copies get concatenated twice or exported with
// `jq .`; Loki stores such copies once, and so the answers of `query`
// count them once. (The TUI's index and the rules have their own filters,
// over rows and contributions, with the same identity.)
//
// Events are remembered by 64-bit hashes per minute of event time (a copy
// has the same time; two different events of one minute share a hash
// once in 10^10 minutes of 20,000 events): the hash of its auditID, stage
// and time, holding the hash of its line. So an event with the auditID,
// stage and time of an earlier one but another line (another
// serialisation that DupLine does not make one: keys in another order, a
// number written another way; an edited copy) is told apart from a copy:
// it is kept, as in Loki, and counted (Others), so a command can say so.
// An AKS record that repeats the event of a record of the other category
// (kube-audit and kube-audit-admin) is a copy, counted apart too
// (AKSCategories): the line's hash keeps the record's category in its
// lowest bit. Only the events a caller asks about are remembered: a query asks about the entries that match,
// so memory grows with the answer, not the input. With a horizon (a
// followed input), minutes older than that behind the newest event are
// forgotten.
type Dups struct {
	seed    maphash.Seed
	minutes map[int64]*dupMinute
	keys    []int64 // minutes held, sorted (with a horizon)
	horizon int64
	newest  int64
	n       int64
	others  int64
	aksCats int64
	buf     []byte // DupLineBuf's
}

// dupMinute holds the events of one minute: by the hash of auditID,
// stage and time, the hash of the first line seen with them; lines holds
// the hashes of the other lines (events without an auditID, further
// serialisations of one), rarely any.
type dupMinute struct {
	ids   map[uint64]uint64
	lines map[uint64]struct{}
}

// NewDups returns an empty filter; horizon 0 remembers every event.
func NewDups(horizon time.Duration) *Dups {
	return &Dups{seed: maphash.MakeSeed(), minutes: map[int64]*dupMinute{}, horizon: int64(horizon)}
}

// Seen reports whether e repeats an event seen before (and counts it);
// else it remembers e.
func (d *Dups) Seen(e *Event) bool {
	m := e.Time / int64(time.Minute)
	set := d.minutes[m]
	if set == nil {
		set = &dupMinute{ids: map[uint64]uint64{}}
		d.minutes[m] = set
		if d.horizon > 0 {
			i, _ := slices.BinarySearch(d.keys, m)
			d.keys = slices.Insert(d.keys, i, m)
		}
	}
	line := maphash.Bytes(d.seed, DupLineBuf(e, &d.buf))
	if e.AuditID == "" {
		if set.seenLine(line) {
			d.n++
			return true
		}
	} else {
		var h maphash.Hash
		h.SetSeed(d.seed)
		h.WriteString(e.AuditID)
		h.WriteByte(0)
		h.WriteString(e.Stage)
		id := h.Sum64() ^ uint64(e.Time)*0x9e3779b97f4a7c15
		// An AKS event's line is the event's; what the id holds also
		// says the record's category, in the lowest bit.
		var cat uint64
		aks := e.Carrier == CarrierAKS
		if aks {
			line &^= 1
			if AKSCategory(e.Raw) == "kube-audit-admin" {
				cat = 1
			}
		}
		first, ok := set.ids[id]
		switch {
		case !ok:
			set.ids[id] = line | cat
		case first == line|cat:
			d.n++
			return true
		case aks && first&^1 == line:
			// The event of an AKS record of the other category. A
			// second record of this category is an ordinary copy, so
			// the figure does not depend on the order.
			d.n++
			if !set.seenLine((line | cat) ^ id*aksVariant) {
				d.aksCats++
			}
			return true
		case set.seenLine(line ^ id*0xff51afd7ed558ccd):
			// Other bytes of this request and stage seen before: the
			// set is keyed by both, as events of other requests can
			// share their bytes (one carrier record of an EventList).
			d.n++
			if aks && !set.seenLine((line|cat)^id*aksVariant) {
				d.aksCats++
			}
			return true
		default:
			d.others++
			if aks {
				set.seenLine((line | cat) ^ id*aksVariant)
			}
		}
	}
	if d.horizon > 0 && e.Time > d.newest {
		d.newest = e.Time
		old := (d.newest - d.horizon) / int64(time.Minute)
		for len(d.keys) > 0 && d.keys[0] < old {
			delete(d.minutes, d.keys[0])
			d.keys = d.keys[1:]
		}
	}
	return false
}

// aksVariant keys, among a minute's other lines, the category of an AKS
// record whose event was seen (in a record of the other category first).
const aksVariant = 0xc4ceb9fe1a85ec53

// seenLine reports whether the minute holds line among its other lines,
// else adds it.
func (s *dupMinute) seenLine(line uint64) bool {
	if _, ok := s.lines[line]; ok {
		return true
	}
	if s.lines == nil {
		s.lines = map[uint64]struct{}{}
	}
	s.lines[line] = struct{}{}
	return false
}

// Count is the number of duplicates seen.
func (d *Dups) Count() int64 { return d.n }

// Others is the number of events kept that have the auditID, stage and
// time of an earlier one but another line: another serialisation of the
// same event, or an edited copy. They are not duplicates (Loki keeps both
// too), but a command can say how many there were. The figure is the same
// whatever the order of the input: each group of lines sharing an
// auditID, stage and time counts all but its first.
func (d *Dups) Others() int64 { return d.others }

// AKSCategories is the number of duplicates (among Count) that are AKS
// records repeating the event of a record of the other category: a
// diagnostic setting with both kube-audit and kube-audit-admin sends every
// write twice. The figure is the same whatever the order of the input.
func (d *Dups) AKSCategories() int64 { return d.aksCats }
