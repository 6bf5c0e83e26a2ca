package rules

import (
	_ "embed"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/audittui/audittui/internal/data"
)

// Lists and macros, after Falco's: the built-in pack keeps the things a
// site may need to change (its cluster's addresses, the controllers it
// runs, the images allowed to reach the host) in named lists, and its
// expressions refer to them with placeholders:
//
//	${list:NAME}    inside a LogQL string: a regular expression matching
//	                any item of list NAME (an alternation, escaped for the
//	                LogQL string it sits in);
//	${unless:NAME}  as a pipeline stage: one label filter per item of the
//	                exception list NAME that drops the events the item
//	                describes (nothing when the list is empty);
//	${not_dry_run}  as a pipeline stage after `| json`: drops server-side
//	                dry runs (${only_dry_run}: keeps only them), with the
//	                label filters of data.DryRunFilter.
//
// Placeholders are expanded when a file is loaded and when the pack is
// exported, so Loki's ruler only ever sees plain LogQL. The defaults are
// lists.yaml (embedded); a rule file may carry a top-level `lists:` key
// (an audittui extension: such a file is for audittui, not for Loki) that
// replaces a list's items (`items:`) or adds to them (`append:`). Lists of
// a file given later override those of the built-in pack and of files
// given earlier.

//go:embed lists.yaml
var listsYAML []byte

// List kinds.
const (
	// ListStrings: literal strings, matched whole.
	ListStrings = "strings"
	// ListRegexes: RE2 regular expressions (LogQL label matchers are
	// anchored at both ends; line filters are not).
	ListRegexes = "regexes"
	// ListCIDRs: IPv4 and IPv6 networks, matched against an address as
	// the apiserver writes it (sourceIPs).
	ListCIDRs = "cidrs"
	// ListPaths: absolute file system paths. ${list:NAME} matches a path
	// as a JSON string holds it (between its quotes) when, made canonical
	// as the kubelet does (path.Clean: repeated slashes and "." segments
	// dropped, a trailing slash ignored; a slash may be written \/), it is
	// one of the items, lies below one, or is a parent of one (/ and /var
	// hold /var/lib/kubelet): see PathsRegex.
	ListPaths = "paths"
	// ListURIStrings: literal strings as a request URI may carry them, any
	// character percent-encoded in either case (%2F, %2f, %6B for k) and
	// a space also as +, which the API server decodes alike: see
	// URIStringRegex.
	ListURIStrings = "uristrings"
	// ListExceptions: items are maps of a `| json` field name to an RE2
	// expression; an event matching every field of one item is dropped
	// by ${unless:NAME}.
	ListExceptions = "exceptions"
)

// List is one named list.
type List struct {
	Name        string
	Kind        string
	Description string
	// Items are the strings, regexes or CIDRs of the list.
	Items []string
	// Exceptions are the items of an exceptions list.
	Exceptions []map[string]string
	// Line is where the list was (last) defined, and File the file.
	File string
	Line int
}

// Lists is a set of named lists.
type Lists struct {
	byName map[string]*List
}

// Names returns the list names, sorted.
func (ls *Lists) Names() []string {
	if ls == nil {
		return nil
	}
	out := make([]string, 0, len(ls.byName))
	for n := range ls.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns list name (nil when there is none).
func (ls *Lists) Get(name string) *List {
	if ls == nil {
		return nil
	}
	return ls.byName[name]
}

func (ls *Lists) clone() *Lists {
	out := &Lists{byName: map[string]*List{}}
	if ls == nil {
		return out
	}
	for n, l := range ls.byName {
		c := *l
		c.Items = append([]string(nil), l.Items...)
		c.Exceptions = append([]map[string]string(nil), l.Exceptions...)
		out.byName[n] = &c
	}
	return out
}

// listOverride is what one file says about one list.
type listOverride struct {
	name, kind, description string
	items, appendItems      []string
	exc, appendExc          []map[string]string
	replace                 bool
	file                    string
	line                    int
}

// apply returns ls with the overrides applied, in order.
func (ls *Lists) apply(ovs []*listOverride) (*Lists, error) {
	if len(ovs) == 0 {
		return ls, nil
	}
	out := ls.clone()
	for _, o := range ovs {
		l := out.byName[o.name]
		if l == nil {
			if o.kind == "" {
				return nil, &Error{File: o.file, Line: o.line, Msg: fmt.Sprintf("list %s: no such list; a new list needs kind: (%s)", o.name, strings.Join(listKinds, ", "))}
			}
			l = &List{Name: o.name, Kind: o.kind}
			out.byName[o.name] = l
		} else if o.kind != "" && o.kind != l.Kind {
			return nil, &Error{File: o.file, Line: o.line, Msg: fmt.Sprintf("list %s is of kind %s, not %s", o.name, l.Kind, o.kind)}
		}
		if o.description != "" {
			l.Description = o.description
		}
		if o.kind == "" {
			// The file did not say the kind: its items were not checked
			// when it was read; check them for the list's kind now.
			for _, it := range append(append([]string(nil), o.items...), o.appendItems...) {
				if err := validateItem(l.Kind, it); err != nil {
					return nil, &Error{File: o.file, Line: o.line, Msg: fmt.Sprintf("list %s: %v", o.name, err)}
				}
			}
			if l.Kind == ListExceptions && (len(o.items) > 0 || len(o.appendItems) > 0) {
				return nil, &Error{File: o.file, Line: o.line, Msg: fmt.Sprintf("list %s holds exceptions (maps of field: regex), not strings", o.name)}
			}
			if l.Kind != ListExceptions && (len(o.exc) > 0 || len(o.appendExc) > 0) {
				return nil, &Error{File: o.file, Line: o.line, Msg: fmt.Sprintf("list %s holds strings, not maps", o.name)}
			}
		}
		if o.replace {
			l.Items = append([]string(nil), o.items...)
			l.Exceptions = append([]map[string]string(nil), o.exc...)
		}
		l.Items = append(l.Items, o.appendItems...)
		l.Exceptions = append(l.Exceptions, o.appendExc...)
		l.File, l.Line = o.file, o.line
	}
	return out, nil
}

var listKinds = []string{ListStrings, ListRegexes, ListCIDRs, ListPaths, ListURIStrings, ListExceptions}

var (
	defaultLists   *Lists
	defaultListErr error
)

func init() {
	p := &parser{file: "lists.yaml"}
	var doc yaml.Node
	if err := yaml.Unmarshal(listsYAML, &doc); err != nil {
		defaultListErr = fmt.Errorf("lists.yaml: %w", err)
		return
	}
	root := doc.Content[0]
	var ovs []*listOverride
	forEachKey(root, func(k, v *yaml.Node) {
		if k.Value == "lists" {
			ovs = p.parseLists(v)
		} else {
			p.errorf(k, "unknown key %q", k.Value)
		}
	})
	if len(p.errs) > 0 {
		defaultListErr = p.errs
		return
	}
	defaultLists, defaultListErr = (&Lists{byName: map[string]*List{}}).apply(ovs)
}

// DefaultLists returns the built-in lists (lists.yaml).
func DefaultLists() *Lists { return defaultLists.clone() }

// DefaultListsYAML returns lists.yaml, the documented defaults.
func DefaultListsYAML() []byte { return append([]byte(nil), listsYAML...) }

// lists parses a `lists:` mapping into overrides.
func (p *parser) parseLists(n *yaml.Node) []*listOverride {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "lists must be a mapping of list name to {kind, description, items | append}")
		return nil
	}
	var out []*listOverride
	forEachKey(n, func(k, v *yaml.Node) {
		if !data.ValidLabelName(k.Value) {
			p.errorf(k, "invalid list name %q (letters, digits and _)", k.Value)
			return
		}
		if v.Kind != yaml.MappingNode {
			p.errorf(v, "list %s must be a mapping with items: or append:", k.Value)
			return
		}
		o := &listOverride{name: k.Value, file: p.file, line: k.Line}
		var itemsNode, appendNode *yaml.Node
		forEachKey(v, func(kk, vv *yaml.Node) {
			switch kk.Value {
			case "kind":
				s, _ := p.scalar(vv, "kind")
				if !contains(listKinds, s) {
					p.errorf(vv, "list %s: kind %q (want %s)", o.name, s, strings.Join(listKinds, ", "))
				}
				o.kind = s
			case "description":
				o.description, _ = p.scalar(vv, "description")
			case "items":
				itemsNode = vv
				o.replace = true
			case "append":
				appendNode = vv
			default:
				p.errorf(kk, "list %s: unknown key %q (want kind, description, items, append)", o.name, kk.Value)
			}
		})
		if itemsNode == nil && appendNode == nil {
			p.errorf(v, "list %s has neither items: nor append:", o.name)
			return
		}
		// Items of a built-in list are checked against its kind here, so
		// that errors point at the item's line.
		check := *o
		if check.kind == "" {
			if l := defaultLists.Get(o.name); l != nil {
				check.kind = l.Kind
			}
		}
		o.items, o.exc = p.listItems(&check, itemsNode)
		o.appendItems, o.appendExc = p.listItems(&check, appendNode)
		out = append(out, o)
	})
	return out
}

func (p *parser) listItems(o *listOverride, n *yaml.Node) ([]string, []map[string]string) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "list %s: items must be a list", o.name)
		return nil, nil
	}
	var strs []string
	var excs []map[string]string
	for _, it := range n.Content {
		switch it.Kind {
		case yaml.ScalarNode:
			if o.kind == ListExceptions {
				p.errorf(it, "list %s: an exception is a mapping of field: regex", o.name)
				continue
			}
			if o.kind != "" {
				if err := validateItem(o.kind, it.Value); err != nil {
					p.errorf(it, "list %s: %v", o.name, err)
					continue
				}
			}
			strs = append(strs, it.Value)
		case yaml.MappingNode:
			if o.kind != "" && o.kind != ListExceptions {
				p.errorf(it, "list %s: items of a %s list are strings", o.name, o.kind)
				continue
			}
			m := map[string]string{}
			ok := true
			forEachKey(it, func(fk, fv *yaml.Node) {
				if !data.ValidLabelName(fk.Value) {
					p.errorf(fk, "list %s: invalid field name %q", o.name, fk.Value)
					ok = false
					return
				}
				if fv.Kind != yaml.ScalarNode {
					p.errorf(fv, "list %s: %s must be a regular expression", o.name, fk.Value)
					ok = false
					return
				}
				if _, err := syntax.Parse(fv.Value, syntax.Perl); err != nil {
					p.errorf(fv, "list %s: %s: %v", o.name, fk.Value, err)
					ok = false
					return
				}
				m[fk.Value] = fv.Value
			})
			if len(m) == 0 && ok {
				p.errorf(it, "list %s: an empty exception would drop every event", o.name)
				continue
			}
			if ok {
				excs = append(excs, m)
			}
		default:
			p.errorf(it, "list %s: items must be strings or mappings", o.name)
		}
	}
	return strs, excs
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func validateItem(kind, s string) error {
	switch kind {
	case ListStrings, ListURIStrings:
		if s == "" {
			return fmt.Errorf("empty string item")
		}
		if kind == ListURIStrings && strings.ContainsAny(s, `\|()[]{}*?^$`) {
			// token_paths held regular expressions before it held
			// literal strings: refuse one rather than never match it.
			return fmt.Errorf("item %q: a literal string, not a regular expression (%%2F and %%2f are matched for /)", s)
		}
	case ListRegexes:
		if s == "" {
			return fmt.Errorf("empty regex item")
		}
		if _, err := syntax.Parse(s, syntax.Perl); err != nil {
			return fmt.Errorf("item %q: %v", s, err)
		}
	case ListCIDRs:
		if _, err := CIDRRegex(s); err != nil {
			return err
		}
	case ListPaths:
		if !strings.HasPrefix(s, "/") {
			return fmt.Errorf("path %q: not absolute (it must start with /)", s)
		}
		for _, c := range s {
			if c == '"' || c == '\\' || c < 0x20 {
				return fmt.Errorf("path %q: quotes, backslashes and control characters are not supported", s)
			}
		}
		if strings.ContainsAny(s, `*?[]()|{}^$`) {
			return fmt.Errorf("path %q: a path, not a pattern (a path matches its parents and what lies below it)", s)
		}
		if slices.Contains(strings.Split(s, "/"), "..") {
			return fmt.Errorf("path %q: .. is not allowed (the API server refuses it in a hostPath)", s)
		}
	}
	return nil
}

// Regex returns the list's items as one RE2 alternation (not escaped for
// LogQL). An empty list gives a pattern that matches nothing.
func (l *List) Regex() (string, error) {
	if l.Kind == ListExceptions {
		return "", fmt.Errorf("list %s holds exceptions: use ${unless:%s}", l.Name, l.Name)
	}
	if len(l.Items) == 0 {
		return `[^\s\S]`, nil
	}
	if l.Kind == ListPaths {
		return PathsRegex(l.Items), nil
	}
	parts := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		switch l.Kind {
		case ListStrings:
			parts = append(parts, regexp.QuoteMeta(it))
		case ListRegexes:
			parts = append(parts, it)
		case ListCIDRs:
			re, err := CIDRRegex(it)
			if err != nil {
				return "", err
			}
			parts = append(parts, re)
		case ListURIStrings:
			parts = append(parts, URIStringRegex(it))
		}
	}
	return "(?:" + strings.Join(parts, "|") + ")", nil
}

// Unless renders an exceptions list as LogQL label-filter stages: for each
// item, `| (f1 !~ "r1" or f2 !~ "r2")`, which keeps an event unless it
// matches every field of the item.
func (l *List) Unless() (string, error) {
	if l.Kind != ListExceptions {
		return "", fmt.Errorf("list %s is not an exceptions list: use ${list:%s}", l.Name, l.Name)
	}
	var b strings.Builder
	for i, m := range l.Exceptions {
		if i > 0 {
			b.WriteByte(' ')
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("| (")
		for j, k := range keys {
			if j > 0 {
				b.WriteString(" or ")
			}
			b.WriteString(k + ` !~ ` + strconv.Quote(m[k]))
		}
		b.WriteByte(')')
	}
	return b.String(), nil
}

var placeholderRE = regexp.MustCompile(`\$\{(?:(list|unless):([A-Za-z_][A-Za-z0-9_]*)|(` + notDryRun + `|` + onlyDryRun + `))\}`)

// The dry-run placeholders: pipeline stages, after `| json`, that keep
// the events that are not server-side dry runs (${not_dry_run}: the rules
// about changes that happened) or only those that are (${only_dry_run}).
// They expand to data.DryRunFilter, the label filters that decide as the
// decoder does (Event.DryRun), and depend on no list.
const (
	notDryRun  = "not_dry_run"
	onlyDryRun = "only_dry_run"
)

// HasPlaceholders reports whether s refers to a list (or holds a dry-run
// placeholder).
func HasPlaceholders(s string) bool { return placeholderRE.MatchString(s) }

// ExpandLists replaces the list placeholders of s with their expansion.
// ${list:..} is escaped for a LogQL double-quoted string.
func ExpandLists(s string, ls *Lists) (string, error) {
	var firstErr error
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		if sub[3] != "" {
			return data.DryRunFilter(sub[3] == notDryRun)
		}
		l := ls.Get(sub[2])
		if l == nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("unknown list %q in %s", sub[2], m)
			}
			return m
		}
		var r string
		var err error
		if sub[1] == "list" {
			r, err = l.Regex()
			// Inside a LogQL "..." string: escape as Go's strconv does.
			q := strconv.Quote(r)
			r = q[1 : len(q)-1]
		} else {
			r, err = l.Unless()
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return r
	})
	return out, firstErr
}

// CIDRRegex returns an RE2 expression that matches exactly the textual
// addresses of network cidr as Go (and so the apiserver) prints them:
// dotted decimal for IPv4, lower-case compressed form for IPv6. A single
// address (no /len) is a /32 or /128. IPv6 networks are supported for
// prefix lengths that are a multiple of 16 with non-zero fixed groups, for
// prefixes shorter than 16 bits whose first hex digit is not zero (fc00::/7,
// fe80::/10), and for single addresses.
func CIDRRegex(cidr string) (string, error) {
	var pfx netip.Prefix
	var err error
	if strings.Contains(cidr, "/") {
		pfx, err = netip.ParsePrefix(cidr)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(cidr)
		if err == nil && a.Zone() != "" {
			return "", fmt.Errorf("CIDR %q: zones are not supported", cidr)
		}
		if err == nil {
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return "", fmt.Errorf("CIDR %q: %v", cidr, err)
	}
	if pfx.Addr().Zone() != "" {
		return "", fmt.Errorf("CIDR %q: zones are not supported", cidr)
	}
	pfx = pfx.Masked()
	if pfx.Addr().Is4() {
		return cidr4Regex(pfx), nil
	}
	return cidr6Regex(cidr, pfx)
}

const anyOctet = `[0-9]{1,3}`

func cidr4Regex(p netip.Prefix) string {
	a := p.Addr().As4()
	bits := p.Bits()
	parts := make([]string, 4)
	for i := 0; i < 4; i++ {
		fixed := bits - 8*i // bits of this octet that are fixed
		switch {
		case fixed >= 8:
			parts[i] = strconv.Itoa(int(a[i]))
		case fixed <= 0:
			parts[i] = anyOctet
		default:
			lo := int(a[i])
			hi := lo | (1<<(8-fixed) - 1)
			parts[i] = decRange(lo, hi)
		}
	}
	return strings.Join(parts, `\.`)
}

// decRange matches the decimal numbers lo..hi (0 <= lo <= hi <= 255)
// written without leading zeros.
func decRange(lo, hi int) string {
	var alts []string
	for n := lo; n <= hi; {
		// Group numbers that share all digits but the last.
		if n < 10 {
			end := min(hi, 9)
			alts = append(alts, digitClass(n, end))
			n = end + 1
			continue
		}
		prefix := n / 10
		end := min(hi, prefix*10+9)
		alts = append(alts, strconv.Itoa(prefix)+digitClass(n%10, end%10))
		n = end + 1
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "(?:" + strings.Join(alts, "|") + ")"
}

func digitClass(a, b int) string {
	switch {
	case a == b:
		return strconv.Itoa(a)
	case a == 0 && b == 9:
		return "[0-9]"
	}
	return "[" + strconv.Itoa(a) + "-" + strconv.Itoa(b) + "]"
}

func cidr6Regex(cidr string, p netip.Prefix) (string, error) {
	a := p.Addr()
	bits := p.Bits()
	if bits == 128 {
		return regexp.QuoteMeta(a.String()), nil
	}
	b := a.As16()
	group := func(i int) uint16 { return uint16(b[2*i])<<8 | uint16(b[2*i+1]) }
	if bits < 16 {
		g := group(0)
		nibbles := (bits + 3) / 4
		free := nibbles*4 - bits // low bits of the last fixed nibble that vary
		if g>>12 == 0 {
			return "", fmt.Errorf("CIDR %q: an IPv6 prefix shorter than 16 bits must fix a non-zero first hex digit", cidr)
		}
		var alts []string
		base := g >> (16 - 4*nibbles)
		for v := uint16(0); v < 1<<free; v++ {
			alts = append(alts, fmt.Sprintf("%0*x", nibbles, base|v))
		}
		head := alts[0]
		if len(alts) > 1 {
			head = "(?:" + strings.Join(alts, "|") + ")"
		}
		rest := 4 - nibbles
		tail := ""
		if rest > 0 {
			tail = "[0-9a-f]{" + strconv.Itoa(rest) + "}"
		}
		return head + tail + ":[0-9a-f:.]*", nil
	}
	if bits%16 != 0 {
		return "", fmt.Errorf("CIDR %q: IPv6 prefix lengths from 16 bits on must be a multiple of 16", cidr)
	}
	var fixed []string
	for i := 0; i < bits/16; i++ {
		g := group(i)
		if g == 0 {
			return "", fmt.Errorf("CIDR %q: a zero group in an IPv6 prefix may be compressed away; give the prefix without it", cidr)
		}
		fixed = append(fixed, strconv.FormatUint(uint64(g), 16))
	}
	return strings.Join(fixed, ":") + ":[0-9a-f:.]*", nil
}

// PathsRegex returns an RE2 expression matching the text of a JSON string
// (what lies between its quotes) that holds a path which, made canonical
// as path.Clean does (the kubelet mounts //etc, /./etc and /etc/ as /etc),
// is one of paths, lies below one, or is a parent of one: a mount of /var
// holds /var/lib/kubelet, and / holds everything. A slash may be written
// \/ (a JSON escape some encoders use); ".." never occurs (the API server
// refuses it in a hostPath). The expression is not anchored: the caller
// puts the quotes around it.
func PathsRegex(paths []string) string {
	clean := map[string]bool{}
	for _, p := range paths {
		clean[path.Clean("/"+p)] = true
	}
	// covered reports whether p is an item or below one.
	covered := func(p string) bool {
		for it := range clean {
			if p == it || it == "/" || strings.HasPrefix(p, it+"/") {
				return true
			}
		}
		return false
	}
	parents := map[string]bool{}
	for it := range clean {
		for d := path.Dir(it); d != "/"; d = path.Dir(d) {
			if !covered(d) {
				parents[d] = true
			}
		}
	}
	const (
		sep      = `\\?/(?:\.?\\?/)*` // one slash or more, with "." segments between
		below    = `(?:\\?/[^"]*)?`   // the item, or anything below it
		trailing = `(?:\\?/\.?)*`     // a parent itself: /var, /var/, /var/.
	)
	segs := func(p string) string {
		var b strings.Builder
		for i, s := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(regexp.QuoteMeta(s))
		}
		return b.String()
	}
	var items, dirs []string
	for it := range clean {
		if it != "/" {
			items = append(items, segs(it))
		}
	}
	for d := range parents {
		dirs = append(dirs, segs(d))
	}
	sort.Strings(items)
	sort.Strings(dirs)
	alts := []string{`\.?`} // / itself, every path's parent
	if clean["/"] {
		alts = []string{`[^"]*`}
	}
	if len(items) > 0 {
		alts = append(alts, "(?:"+strings.Join(items, "|")+")"+below)
	}
	if len(dirs) > 0 {
		alts = append(alts, "(?:"+strings.Join(dirs, "|")+")"+trailing)
	}
	return sep + "(?:" + strings.Join(alts, "|") + ")"
}

// URIStringRegex returns an RE2 expression matching s as a request URI
// may hold it: each character RFC 3986 reserves (/, :, ...) as itself or
// percent-encoded with either case of hex digit (url.QueryUnescape, which
// the API server's handlers use, decodes %2F and %2f alike), a space also
// as +. Letters, digits and - . _ ~ ("unreserved") are matched as
// themselves: clients do not encode them (kubectl, curl, Go's
// url.QueryEscape, Python's quote, JavaScript's encodeURIComponent), and
// so the expression stays cheap (Go's regexp runs it on every exec).
func URIStringRegex(s string) string {
	const hex = "0123456789ABCDEF"
	hexRE := func(d byte) string {
		if d >= 'A' {
			return "[" + string(d) + string(d+'a'-'A') + "]"
		}
		return string(d)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteString(regexp.QuoteMeta(string(c)))
			continue
		}
		b.WriteString("(?:")
		if c == ' ' {
			b.WriteString(`\+| |`)
		} else {
			b.WriteString(regexp.QuoteMeta(string(c)) + "|")
		}
		b.WriteString("%" + hexRE(hex[c>>4]) + hexRE(hex[c&15]) + ")")
	}
	return b.String()
}
