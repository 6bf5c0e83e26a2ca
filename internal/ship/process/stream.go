package process

import (
	"bufio"
	"bytes"
	"io"
	"strconv"

	"github.com/audittui/audittui/internal/data/jsonscan"
)

// ProcessTo processes one line, as Process does, and writes the result
// (without a newline) to w. It is for lines too long to hold twice in
// memory: Process's parser copies the line and re-serialises it, ProcessTo
// only scans it (github.com/audittui/audittui/internal/data/jsonscan) and
// writes it out with the same changes applied: the same keys removed, the
// same values redacted (the same hashes), the same keys added, the same
// Time and Fields. Untouched parts keep their bytes; the rest is compact
// JSON (Process writes everything compact). Record.Line is nil; n is the
// number of bytes written.
func (p *Processor) ProcessTo(w io.Writer, line []byte) (rec Record, n int64, err error) {
	if nf := len(p.o.Fields); nf > 0 {
		rec.Fields = make([]string, nf)
	}
	x := &streamer{p: p, b: line, root: &planNode{}}
	sc := jsonscan.Scanner{B: line}
	sc.SkipWS()
	start := sc.I
	if sc.Peek() != '{' || sc.SkipValue(0) != nil || !onlyWS(line[sc.I:]) {
		rec.Unparsed = true
		rec.Time = p.Now().UnixNano()
		m, err := w.Write(line)
		return rec, int64(m), err
	}
	x.top = span{start, sc.I}
	rec.Time = x.eventTime()
	if rec.Time == 0 {
		rec.Time = p.Now().UnixNano()
	}
	for i, path := range p.o.Fields {
		rec.Fields[i] = x.field(path)
	}
	for _, path := range p.remove {
		if x.removePath(x.top, x.root, path) {
			x.changed = true
		}
	}
	if p.o.Redact {
		x.redact()
	}
	var missing [][]byte
	for i, kv := range p.o.Add {
		if _, ok := x.member(x.top, x.root, kv.Key); !ok {
			missing = append(missing, p.add[i])
		}
	}
	rec.Redacted = x.redacted
	cw := &counter{w: w}
	if !x.changed && len(missing) == 0 {
		_, err := cw.Write(line)
		return rec, cw.n, err
	}
	rec.Changed = x.changed
	bw := bufio.NewWriterSize(cw, 64<<10)
	x.out = bw
	if x.changed {
		x.emit(x.top, x.root, missing)
	} else {
		x.write(line[x.top.s : x.top.e-1])
		x.writeMissing(line[x.top.s:x.top.e-1], missing)
		x.write([]byte{'}'})
	}
	if x.err == nil {
		x.err = bw.Flush()
	}
	return rec, cw.n, x.err
}

func onlyWS(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// span is a value's bytes in the line.
type span struct{ s, e int }

// planNode says what changes inside one object or array, by member or
// element index.
type planNode struct {
	del  map[int]bool
	repl map[int][]byte
	sub  map[int]*planNode
}

func (n *planNode) child(i int) *planNode {
	if n.sub == nil {
		n.sub = map[int]*planNode{}
	}
	c := n.sub[i]
	if c == nil {
		c = &planNode{}
		n.sub[i] = c
	}
	return c
}

func (n *planNode) deleted(i int) bool { return n != nil && n.del[i] }

func (n *planNode) remove(i int) {
	if n.del == nil {
		n.del = map[int]bool{}
	}
	n.del[i] = true
}

func (n *planNode) replace(i int, v []byte) {
	if n.repl == nil {
		n.repl = map[int][]byte{}
	}
	n.repl[i] = v
}

// streamer plans the changes to one line and writes it out.
type streamer struct {
	p        *Processor
	b        []byte
	top      span
	root     *planNode
	changed  bool
	redacted int
	out      *bufio.Writer
	err      error
	kbuf     []byte
}

func (x *streamer) kind(v span) byte {
	if v.s >= v.e {
		return 0
	}
	return x.b[v.s]
}

// eachMember calls f with every member of object v (index, unescaped key,
// value) until f returns false.
func (x *streamer) eachMember(v span, f func(i int, key string, val span) bool) {
	if x.kind(v) != '{' {
		return
	}
	sc := jsonscan.Scanner{B: x.b[:v.e], I: v.s + 1}
	for i := 0; ; i++ {
		k, esc, done, err := sc.NextKey(i == 0)
		if err != nil || done {
			return
		}
		key := string(k)
		if esc {
			if u, err := jsonscan.Unescape(k, x.kbuf); err == nil {
				x.kbuf = u
				key = string(u)
			}
		}
		s := sc.I
		if sc.SkipValue(1) != nil {
			return
		}
		if !f(i, key, span{s, sc.I}) {
			return
		}
	}
}

// eachElem calls f with every element of array v until f returns false.
func (x *streamer) eachElem(v span, f func(i int, val span) bool) {
	if x.kind(v) != '[' {
		return
	}
	sc := jsonscan.Scanner{B: x.b[:v.e], I: v.s + 1}
	for i := 0; ; i++ {
		done, err := sc.NextElem(i == 0)
		if err != nil || done {
			return
		}
		s := sc.I
		if sc.SkipValue(1) != nil {
			return
		}
		if !f(i, span{s, sc.I}) {
			return
		}
	}
}

// member returns the first member of object v named key that the plan n
// has not removed.
func (x *streamer) member(v span, n *planNode, key string) (span, bool) {
	var out span
	found := false
	x.eachMember(v, func(i int, k string, val span) bool {
		if k == key && !n.deleted(i) {
			out, found = val, true
			return false
		}
		return true
	})
	return out, found
}

// memberIndex is member with the member's index.
func (x *streamer) memberIndex(v span, n *planNode, key string) (int, span, bool) {
	idx, out, found := -1, span{}, false
	x.eachMember(v, func(i int, k string, val span) bool {
		if k == key && !n.deleted(i) {
			idx, out, found = i, val, true
			return false
		}
		return true
	})
	return idx, out, found
}

// get follows path as fastjson's Value.Get does (array indexes as decimal
// numbers), ignoring removed members; plan nodes follow along (nil where
// nothing is planned).
func (x *streamer) get(v span, n *planNode, path ...string) (span, *planNode, bool) {
	for _, key := range path {
		switch x.kind(v) {
		case '{':
			i, c, ok := x.memberIndex(v, n, key)
			if !ok {
				return span{}, nil, false
			}
			v, n = c, subOf(n, i)
		case '[':
			k, err := strconv.Atoi(key)
			if err != nil || k < 0 {
				return span{}, nil, false
			}
			found := false
			x.eachElem(v, func(i int, val span) bool {
				if i == k {
					v, found = val, true
					return false
				}
				return true
			})
			if !found {
				return span{}, nil, false
			}
			n = subOf(n, k)
		default:
			return span{}, nil, false
		}
	}
	return v, n, true
}

func subOf(n *planNode, i int) *planNode {
	if n == nil || n.sub == nil {
		return nil
	}
	return n.sub[i]
}

// str returns the unescaped content of string value v (false when v is
// not a string).
func (x *streamer) str(v span) ([]byte, bool) {
	if x.kind(v) != '"' {
		return nil, false
	}
	raw := x.b[v.s+1 : v.e-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	u, err := jsonscan.Unescape(raw, nil)
	if err != nil {
		return nil, false
	}
	return u, true
}

func (x *streamer) eventTime() int64 {
	for _, k := range [...]string{"stageTimestamp", "requestReceivedTimestamp", "timestamp"} {
		if v, _, ok := x.get(x.top, nil, k); ok {
			if b, ok := x.str(v); ok && len(b) > 0 {
				if t, err := parseTime(b); err == nil {
					return t
				}
			}
		}
	}
	return 0
}

func (x *streamer) field(path []string) string {
	v, _, ok := x.get(x.top, nil, path...)
	if !ok {
		return ""
	}
	var b []byte
	switch c := x.kind(v); {
	case c == '"':
		b, _ = x.str(v)
	case c == '-' || c >= '0' && c <= '9':
		b = x.b[v.s:v.e]
	case c == 't':
		return "true"
	case c == 'f':
		return "false"
	default:
		return ""
	}
	return x.p.internString(b)
}

// removePath plans the removal of the values at path as removePath does
// on the parsed line.
func (x *streamer) removePath(v span, n *planNode, path []string) bool {
	if len(path) == 0 {
		return false
	}
	head := path[0]
	if len(path) == 1 {
		if x.kind(v) != '{' {
			return false
		}
		removed := false
		x.eachMember(v, func(i int, k string, _ span) bool {
			if n.deleted(i) {
				return true
			}
			if head == "*" || k == head {
				n.remove(i)
				removed = true
				return head == "*"
			}
			return true
		})
		return removed
	}
	removed := false
	switch x.kind(v) {
	case '{':
		x.eachMember(v, func(i int, k string, val span) bool {
			if n.deleted(i) {
				return true
			}
			if head == "*" || k == head {
				if x.removePath(val, n.child(i), path[1:]) {
					removed = true
				}
				return head == "*"
			}
			return true
		})
	case '[':
		k := -1
		if head != "*" {
			var err error
			if k, err = strconv.Atoi(head); err != nil || k < 0 {
				return false
			}
		}
		x.eachElem(v, func(i int, val span) bool {
			if head == "*" || i == k {
				if x.removePath(val, n.child(i), path[1:]) {
					removed = true
				}
				return head == "*"
			}
			return true
		})
	}
	return removed
}

// redact plans the same replacements as Processor.redact.
func (x *streamer) redact() {
	var resource, group []byte
	if v, _, ok := x.get(x.top, x.root, "objectRef", "resource"); ok {
		resource, _ = x.str(v)
	}
	if v, _, ok := x.get(x.top, x.root, "objectRef", "apiGroup"); ok {
		group, _ = x.str(v)
	}
	secrets := string(resource) == "secrets" && len(group) == 0
	for _, k := range [...]string{"requestObject", "responseObject"} {
		x.eachNamed(x.top, x.root, k, func(i int, v span) { x.redactObject(v, x.root.child(i), secrets) })
	}
}

// eachNamed calls f with every member of object v named key (duplicates
// included) that the plan n has not removed.
func (x *streamer) eachNamed(v span, n *planNode, key string, f func(i int, val span)) {
	x.eachMember(v, func(i int, k string, val span) bool {
		if k == key && !n.deleted(i) {
			f(i, val)
		}
		return true
	})
}

func (x *streamer) kindOf(v span, n *planNode) string {
	if k, _, ok := x.get(v, n, "kind"); ok {
		if b, ok := x.str(k); ok {
			return string(b)
		}
	}
	return ""
}

func (x *streamer) redactObject(obj span, n *planNode, secrets bool) {
	switch x.kind(obj) {
	case '{':
		kind := x.kindOf(obj, n)
		_, _, hasItems := x.get(obj, n, "items")
		if kind == "Secret" || (secrets && kind != "SecretList" && kind != "Status" && !hasItems) {
			x.redactSecret(obj, n)
		}
		if kind == "SecretList" || (secrets && hasItems) || kind == "List" {
			x.eachNamed(obj, n, "items", func(ii int, items span) {
				in := n.child(ii)
				x.eachElem(items, func(i int, it span) bool {
					if kind == "List" && x.kindOf(it, subOf(in, i)) != "Secret" {
						return true
					}
					x.redactSecret(it, in.child(i))
					return true
				})
			})
		}
	case '[':
		if !secrets {
			return
		}
		x.eachElem(obj, func(i int, op span) bool {
			on := n.child(i)
			var path []byte
			if v, _, ok := x.get(op, on, "path"); ok {
				path, _ = x.str(v)
			}
			if !bytes.HasPrefix(path, []byte("/data")) && !bytes.HasPrefix(path, []byte("/stringData")) {
				return true
			}
			x.eachNamed(op, on, "value", func(vi int, val span) {
				switch x.kind(val) {
				case '"':
					s, _ := x.str(val)
					on.replace(vi, x.hash(s))
					x.redacted++
					x.changed = true
				case '{':
					x.redactMap(val, on.child(vi))
				}
			})
			return true
		})
	}
}

func (x *streamer) redactSecret(obj span, n *planNode) {
	if x.kind(obj) != '{' {
		return
	}
	for _, k := range [...]string{"data", "stringData"} {
		x.eachNamed(obj, n, k, func(i int, v span) { x.redactMap(v, n.child(i)) })
	}
}

func (x *streamer) redactMap(m span, n *planNode) {
	if x.kind(m) != '{' {
		return
	}
	x.eachMember(m, func(i int, _ string, val span) bool {
		if n.deleted(i) {
			return true
		}
		var raw []byte
		if x.kind(val) == '"' {
			raw, _ = x.str(val)
			if bytes.HasPrefix(raw, []byte(RedactPrefix)) {
				return true
			}
		} else {
			raw = compact(x.b[val.s:val.e])
		}
		n.replace(i, x.hash(raw))
		x.redacted++
		x.changed = true
		return true
	})
}

// hash returns the JSON string that replaces a redacted value.
func (x *streamer) hash(raw []byte) []byte {
	return strconv.AppendQuote(nil, x.p.hashString(raw))
}

// compact removes insignificant whitespace from a JSON value (how Process
// serialises a non-string value before hashing it).
func compact(b []byte) []byte {
	out := make([]byte, 0, len(b))
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case in:
			out = append(out, c)
			if c == '\\' && i+1 < len(b) {
				i++
				out = append(out, b[i])
			} else if c == '"' {
				in = false
			}
		case c == '"':
			in = true
			out = append(out, c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			out = append(out, c)
		}
	}
	return out
}

func (x *streamer) write(b []byte) {
	if x.err == nil {
		_, x.err = x.out.Write(b)
	}
}

// emit writes value v with the changes planned in n; at the top level the
// missing keys are added before the closing brace.
func (x *streamer) emit(v span, n *planNode, missing [][]byte) {
	if n == nil || (n.del == nil && n.repl == nil && n.sub == nil) && missing == nil {
		x.write(x.b[v.s:v.e])
		return
	}
	switch x.kind(v) {
	case '{':
		x.write([]byte{'{'})
		first := true
		sc := jsonscan.Scanner{B: x.b[:v.e], I: v.s + 1}
		for i := 0; ; i++ {
			_, _, done, err := sc.NextKey(i == 0)
			if err != nil || done {
				break
			}
			// The key's raw bytes: from its quote to the colon.
			ks := bytes.LastIndexByte(x.b[:sc.I], ':')
			kq := keyStart(x.b, ks)
			vs := sc.I
			if sc.SkipValue(1) != nil {
				break
			}
			if n.deleted(i) {
				continue
			}
			if !first {
				x.write([]byte{','})
			}
			first = false
			x.write(x.b[kq:ks])
			x.write([]byte{':'})
			if r, ok := n.repl[i]; ok {
				x.write(r)
			} else {
				x.emit(span{vs, sc.I}, subOf(n, i), nil)
			}
		}
		if len(missing) > 0 {
			for j, f := range missing {
				if j == 0 && first {
					f = f[1:]
				}
				x.write(f)
			}
		}
		x.write([]byte{'}'})
	case '[':
		x.write([]byte{'['})
		first := true
		x.eachElem(v, func(i int, val span) bool {
			if n.deleted(i) {
				return true
			}
			if !first {
				x.write([]byte{','})
			}
			first = false
			if r, ok := n.repl[i]; ok {
				x.write(r)
			} else {
				x.emit(val, subOf(n, i), nil)
			}
			return true
		})
		x.write([]byte{']'})
	default:
		x.write(x.b[v.s:v.e])
	}
}

// keyStart returns where the key ending before the colon at colon starts
// (its opening quote).
func keyStart(b []byte, colon int) int {
	i := colon - 1
	for i >= 0 && b[i] != '"' {
		i-- // whitespace between the key and the colon
	}
	for j := i - 1; j >= 0; j-- {
		if b[j] == '"' {
			// An escaped quote has an odd number of backslashes before it.
			k := j - 1
			for k >= 0 && b[k] == '\\' {
				k--
			}
			if (j-k-1)%2 == 0 {
				return j
			}
		}
	}
	return 0
}

// writeMissing writes the keys to add to an object whose text without the
// closing brace is obj.
func (x *streamer) writeMissing(obj []byte, missing [][]byte) {
	empty := len(bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(obj), []byte("{")))) == 0
	for j, f := range missing {
		if j == 0 && empty {
			f = f[1:]
		}
		x.write(f)
	}
}

func parseTime(b []byte) (int64, error) { return parseRFC3339(string(b)) }
