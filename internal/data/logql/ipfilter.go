package logql

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ipFilter is `name = ip("pattern")` or `name != ip("pattern")`: the
// label's value is an IP address in the pattern, a single address
// ("10.0.0.1", "::1"), a range ("10.0.0.1-10.0.0.9") or a CIDR prefix
// ("10.0.0.0/8"), IPv4 or IPv6. A value that is not an IP address (or a
// missing label) is not in the pattern: `=` drops the line, `!=` keeps
// it.
type ipFilter struct {
	name    string
	neg     bool
	pattern string
	match   func(netip.Addr) bool
}

func (f *ipFilter) String() string {
	op := "="
	if f.neg {
		op = "!="
	}
	return f.name + op + "ip(" + strconv.Quote(f.pattern) + ")"
}

// matches reports whether the line with the label value v (found: the
// label is set) passes the filter. As in Loki, the value is scanned for
// addresses: any in the pattern matches ("10.0.0.1:443",
// "client=10.0.0.1", "203.0.113.5, 10.0.0.1"); a zone is left out
// ("fe80::1%eth0" is fe80::1); an IPv4-mapped IPv6 address is IPv6 (it is
// not in an IPv4 pattern, as net/netip has it).
func (f *ipFilter) matches(v string, found bool) bool {
	in := false
	if found {
		in = anyAddr(v, f.match)
	}
	return in != f.neg
}

// anyAddr reports whether some address in s (a run of the characters an
// address, a zone or a port are made of, alone or as host:port or
// [host]:port) satisfies match.
func anyAddr(s string, match func(netip.Addr) bool) bool {
	for len(s) > 0 {
		i := strings.IndexFunc(s, isAddrByte)
		if i < 0 {
			return false
		}
		s = s[i:]
		j := strings.IndexFunc(s, func(r rune) bool { return !isAddrByte(r) })
		if j < 0 {
			j = len(s)
		}
		tok := strings.Trim(s[:j], "[]")
		s = s[j:]
		a, err := netip.ParseAddr(tok)
		if err != nil {
			ap, perr := netip.ParseAddrPort(rebracket(tok))
			if perr != nil {
				continue
			}
			a = ap.Addr()
		}
		if match(a.WithZone("")) {
			return true
		}
	}
	return false
}

// rebracket gives back the "[" that trimming took from "[::1]:443" (an
// IPv6 address and a port), for ParseAddrPort.
func rebracket(tok string) string {
	if i := strings.LastIndex(tok, "]:"); i >= 0 && !strings.HasPrefix(tok, "[") {
		return "[" + tok
	}
	return tok
}

// isAddrByte reports whether r can be part of an address, its zone or a
// port.
func isAddrByte(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
		r == ':' || r == '.' || r == '%' || r == '[' || r == ']'
}

// parseIPPattern compiles an ip() pattern.
func parseIPPattern(s string) (func(netip.Addr) bool, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR prefix %s", strconv.Quote(s))
		}
		return p.Masked().Contains, nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
		b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("invalid IP range %s: want FIRST-LAST, two addresses", strconv.Quote(s))
		}
		if a.Is4() != b.Is4() || b.Less(a) {
			return nil, fmt.Errorf("invalid IP range %s: the addresses must be of one family, the first no greater than the last", strconv.Quote(s))
		}
		return func(x netip.Addr) bool { return x.Is4() == a.Is4() && !x.Less(a) && !b.Less(x) }, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, fmt.Errorf("invalid IP address %s: want an address, a range FIRST-LAST or a CIDR prefix", strconv.Quote(s))
	}
	return func(x netip.Addr) bool { return x == a }, nil
}
