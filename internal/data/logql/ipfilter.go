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
// label is set) passes the filter.
func (f *ipFilter) matches(v string, found bool) bool {
	in := false
	if found {
		if a, err := netip.ParseAddr(v); err == nil {
			in = f.match(a.Unmap())
		}
	}
	return in != f.neg
}

// parseIPPattern compiles an ip() pattern.
func parseIPPattern(s string) (func(netip.Addr) bool, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR prefix %s", strconv.Quote(s))
		}
		p = p.Masked()
		if p.Addr().Is4In6() {
			return nil, fmt.Errorf("invalid CIDR prefix %s: an IPv4-mapped IPv6 prefix", strconv.Quote(s))
		}
		return p.Contains, nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(lo))
		b, err2 := netip.ParseAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("invalid IP range %s: want FIRST-LAST, two addresses", strconv.Quote(s))
		}
		a, b = a.Unmap(), b.Unmap()
		if a.Is4() != b.Is4() || b.Less(a) {
			return nil, fmt.Errorf("invalid IP range %s: the addresses must be of one family, the first no greater than the last", strconv.Quote(s))
		}
		return func(x netip.Addr) bool { return x.Is4() == a.Is4() && !x.Less(a) && !b.Less(x) }, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, fmt.Errorf("invalid IP address %s: want an address, a range FIRST-LAST or a CIDR prefix", strconv.Quote(s))
	}
	a = a.Unmap()
	return func(x netip.Addr) bool { return x == a }, nil
}
