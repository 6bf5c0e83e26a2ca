package auditpolicy

import (
	"strings"

	audit "k8s.io/apiserver/pkg/apis/audit"
)

// This file reasons about the request sets that rules select, for lint
// (shadowing). It mirrors the matching rules of k8s.io/apiserver's
// ruleMatches (checker.go), including its quirks:
//   - a rule with namespaces or resources matches only resource requests;
//     one with nonResourceURLs only non-resource requests; one with neither
//     matches both;
//   - a GroupResources entry with no resources matches every resource of
//     its group and ignores resourceNames;
//   - "*" matches any resource or subresource, "x/*" matches x and every
//     subresource of x, "*/s" matches subresource s of any resource;
//   - a non-resource URL "p*" matches every path starting with p.
// Levels never come from here: evaluation uses the apiserver's evaluator.
// TestCoverAgreesWithEvaluator checks these predicates against it.

type ruleKind int

const (
	kindAny ruleKind = iota
	kindResource
	kindNonResource
)

func kindOf(r *audit.PolicyRule) ruleKind {
	switch {
	case len(r.Namespaces) > 0 || len(r.Resources) > 0:
		return kindResource
	case len(r.NonResourceURLs) > 0:
		return kindNonResource
	}
	return kindAny
}

// isCatchAll reports whether a rule has no selectors at all.
func isCatchAll(r *audit.PolicyRule) bool {
	return len(r.Users) == 0 && len(r.UserGroups) == 0 && len(r.Verbs) == 0 &&
		len(r.Namespaces) == 0 && len(r.Resources) == 0 && len(r.NonResourceURLs) == 0
}

// setCovers: an empty list means "any". a covers b when every value b
// accepts, a accepts.
func setCovers(a, b []string) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, v := range b {
		if !has(a, v) {
			return false
		}
	}
	return true
}

// setOverlaps: some value is accepted by both.
func setOverlaps(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, v := range b {
		if has(a, v) {
			return true
		}
	}
	return false
}

func has(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// covers reports whether every request that b matches is also matched by
// a (a user matching b's userGroups has one of them; covering needs each of
// b's groups in a's).
func covers(a, b *audit.PolicyRule) bool {
	if !setCovers(a.Users, b.Users) || !setCovers(a.UserGroups, b.UserGroups) || !setCovers(a.Verbs, b.Verbs) {
		return false
	}
	ka, kb := kindOf(a), kindOf(b)
	switch ka {
	case kindAny:
		return true
	case kindResource:
		if kb != kindResource {
			return false
		}
		return setCovers(a.Namespaces, b.Namespaces) && resourcesCover(a.Resources, b.Resources)
	default:
		if kb != kindNonResource {
			return false
		}
		for _, u := range b.NonResourceURLs {
			ok := false
			for _, p := range a.NonResourceURLs {
				if urlCovers(p, u) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
}

// overlaps reports whether some request matches both a and b.
func overlaps(a, b *audit.PolicyRule) bool {
	if !setOverlaps(a.Users, b.Users) || !setOverlaps(a.Verbs, b.Verbs) {
		return false
	}
	ka, kb := kindOf(a), kindOf(b)
	if ka == kindAny || kb == kindAny {
		return true
	}
	if ka != kb {
		return false
	}
	if ka == kindResource {
		return setOverlaps(a.Namespaces, b.Namespaces) && resourcesOverlap(a.Resources, b.Resources)
	}
	for _, p := range a.NonResourceURLs {
		for _, q := range b.NonResourceURLs {
			if urlCovers(p, q) || urlCovers(q, p) {
				return true
			}
		}
	}
	return false
}

// entryResources returns an entry's resource patterns and names, with the
// apiserver's rule that an entry without resources matches all of them
// whatever its resourceNames say.
func entryResources(g audit.GroupResources) (res, names []string) {
	if len(g.Resources) == 0 {
		return []string{"*"}, nil
	}
	return g.Resources, g.ResourceNames
}

func resourcesCover(a, b []audit.GroupResources) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, gb := range b {
		rb, nb := entryResources(gb)
		for _, r := range rb {
			ok := false
			for _, ga := range a {
				if ga.Group != "*" && ga.Group != gb.Group {
					continue
				}
				ra, na := entryResources(ga)
				if !setCovers(na, nb) {
					continue
				}
				for _, p := range ra {
					if resCovers(p, r) {
						ok = true
						break
					}
				}
				if ok {
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func resourcesOverlap(a, b []audit.GroupResources) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, ga := range a {
		for _, gb := range b {
			if ga.Group != "*" && gb.Group != "*" && ga.Group != gb.Group {
				continue
			}
			ra, na := entryResources(ga)
			rb, nb := entryResources(gb)
			if !setOverlaps(na, nb) {
				continue
			}
			for _, p := range ra {
				for _, q := range rb {
					if resOverlap(p, q) {
						return true
					}
				}
			}
		}
	}
	return false
}

// resPattern is a parsed resource entry of a rule.
type resPattern struct {
	any      bool   // "*"
	resource string // "" with a subresource means "*/sub"
	sub      string // "*" means any subresource (and none: "x/*" matches x)
	concrete bool   // "x" or "x/s"
}

func parseRes(s string) resPattern {
	if s == "*" {
		return resPattern{any: true}
	}
	res, sub, _ := strings.Cut(s, "/")
	switch {
	case res == "*" && sub != "":
		return resPattern{sub: sub}
	case sub == "*":
		return resPattern{resource: res, sub: "*"}
	}
	return resPattern{resource: res, sub: sub, concrete: true}
}

// matchesConcrete reports whether pattern p matches a request on resource
// res with subresource sub (as ruleMatchesResource does).
func (p resPattern) matchesConcrete(res, sub string) bool {
	switch {
	case p.any:
		return true
	case p.concrete:
		return p.resource == res && p.sub == sub
	case p.resource == "":
		return sub != "" && sub == p.sub
	default: // x/*
		return p.resource == res
	}
}

// resCovers reports whether pattern p matches every request pattern q
// matches.
func resCovers(p, q string) bool {
	pp, qq := parseRes(p), parseRes(q)
	switch {
	case pp.any:
		return true
	case qq.concrete:
		return pp.matchesConcrete(qq.resource, qq.sub)
	case qq.any:
		return false
	case qq.resource == "": // */s
		return pp.resource == "" && pp.sub == qq.sub
	default: // x/*
		return !pp.concrete && pp.resource == qq.resource
	}
}

func resOverlap(p, q string) bool {
	pp, qq := parseRes(p), parseRes(q)
	switch {
	case pp.any || qq.any:
		return true
	case pp.concrete:
		return qq.matchesConcrete(pp.resource, pp.sub)
	case qq.concrete:
		return pp.matchesConcrete(qq.resource, qq.sub)
	case pp.resource == "" && qq.resource == "":
		return pp.sub == qq.sub
	case pp.resource == "" || qq.resource == "":
		return true // x/* and */s share x/s
	default:
		return pp.resource == qq.resource
	}
}

// urlCovers reports whether non-resource URL pattern p matches every path
// that pattern q matches.
func urlCovers(p, q string) bool {
	if p == "*" || p == q {
		return true
	}
	if strings.HasSuffix(p, "*") {
		return strings.HasPrefix(q, strings.TrimRight(p, "*"))
	}
	return false
}

// atoms splits a rule into sub-rules, one per listed verb and resource (or
// URL), so lint can say which parts of a rule earlier rules take. A
// dimension the rule does not list stays "any".
func atoms(r *audit.PolicyRule) []audit.PolicyRule {
	verbs := [][]string{nil}
	if len(r.Verbs) > 0 {
		verbs = verbs[:0]
		for _, v := range r.Verbs {
			verbs = append(verbs, []string{v})
		}
	}
	type sel struct {
		res  []audit.GroupResources
		urls []string
	}
	sels := []sel{{res: r.Resources, urls: r.NonResourceURLs}}
	switch {
	case len(r.Resources) > 0:
		sels = sels[:0]
		for _, g := range r.Resources {
			if len(g.Resources) == 0 {
				sels = append(sels, sel{res: []audit.GroupResources{g}})
				continue
			}
			for _, res := range g.Resources {
				sels = append(sels, sel{res: []audit.GroupResources{{Group: g.Group, Resources: []string{res}, ResourceNames: g.ResourceNames}}})
			}
		}
	case len(r.NonResourceURLs) > 0:
		sels = sels[:0]
		for _, u := range r.NonResourceURLs {
			sels = append(sels, sel{urls: []string{u}})
		}
	}
	var out []audit.PolicyRule
	for _, v := range verbs {
		for _, s := range sels {
			a := *r
			a.Verbs = v
			a.Resources = s.res
			a.NonResourceURLs = s.urls
			out = append(out, a)
		}
	}
	return out
}

// describeAtom names the verb and resource/URL of an atom for messages.
func describeAtom(a *audit.PolicyRule) string {
	var parts []string
	if len(a.Verbs) > 0 {
		parts = append(parts, strings.Join(a.Verbs, ","))
	}
	for _, g := range a.Resources {
		group := g.Group
		if group == "" {
			group = "core"
		}
		if len(g.Resources) == 0 {
			parts = append(parts, "all of group "+group)
			continue
		}
		s := strings.Join(g.Resources, ",")
		if g.Group != "" {
			s += "." + g.Group
		}
		if len(g.ResourceNames) > 0 {
			s += " named " + strings.Join(g.ResourceNames, ",")
		}
		parts = append(parts, s)
	}
	parts = append(parts, a.NonResourceURLs...)
	if len(parts) == 0 {
		return "all requests"
	}
	return strings.Join(parts, " ")
}
