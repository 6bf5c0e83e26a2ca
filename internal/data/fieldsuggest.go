package data

import "strings"

// Field names as a user types them: the TUI's filter bar and `audittui
// query` tell a misspelt field (which silently matches nothing) from a
// real one with these, and name the one meant.

// KnownField reports whether `| json` makes name of some audit event
// field the schema knows: a field, or a name under a family.
func KnownField(name string) bool {
	if _, ok := FieldByName(name); ok {
		return true
	}
	for _, fs := range Fields() {
		if fs.Kind == FieldFamily && strings.HasPrefix(name, fs.Name) && len(name) > len(fs.Name) {
			return true
		}
	}
	return false
}

// FieldTypo returns the schema name that name misspells: a name that is no
// field and is close to one (ClosestField), or a name under a family that
// is close to a field the schema names under that family
// (annotations_authorization_k8s_io_decisio is any annotation to `| json`,
// but the one meant is annotations_authorization_k8s_io_decision). A
// field, a name far from every field, and any other name under a family
// are no typo.
func FieldTypo(name string) (string, bool) {
	if _, ok := FieldByName(name); ok {
		return "", false
	}
	family := ""
	for _, fs := range Fields() {
		if fs.Kind == FieldFamily && strings.HasPrefix(name, fs.Name) && len(name) > len(fs.Name) {
			family = fs.Name
			break
		}
	}
	if family == "" {
		return ClosestField(name)
	}
	best, bestD := "", 1<<30
	most := max(1, min(3, len(name)/4)) // as ClosestField
	for _, fs := range Fields() {
		if fs.Kind == FieldFamily || !strings.HasPrefix(fs.Name, family) {
			continue
		}
		if strings.EqualFold(fs.Name, name) {
			return fs.Name, true
		}
		if d := EditDistance(name, fs.Name); d <= most && d < bestD {
			best, bestD = fs.Name, d
		}
	}
	return best, best != ""
}

// ClosestField returns the schema name nearest to name, when it is close
// enough to be a typo: the same letters in another case, or at most one
// edit per four characters (at most three). A name that starts with a
// misspelt family prefix (requestObjct_spec) gets the family's spelling.
func ClosestField(name string) (string, bool) {
	best, bestD := "", 1<<30
	limit := max(1, min(3, len(name)/4))
	for _, fs := range Fields() {
		cand, target := fs.Name, name
		if fs.Kind == FieldFamily {
			// Compare the family prefix with the same number of leading
			// characters (give or take the typo), keep the rest.
			k := strings.IndexByte(name, '_')
			if k < 0 {
				continue
			}
			target, cand = name[:k+1], fs.Name
			if d := EditDistance(strings.ToLower(target), strings.ToLower(cand)); d <= limit && d < bestD {
				best, bestD = cand+name[k+1:], d
			}
			continue
		}
		if strings.EqualFold(cand, target) {
			return cand, true
		}
		if d := EditDistance(target, cand); d <= limit && d < bestD {
			best, bestD = cand, d
		}
	}
	return best, best != ""
}

// EditDistance is the optimal string alignment distance (insertions,
// deletions, substitutions and transpositions of adjacent characters
// cost 1) between a and b.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// ArrayFieldHint says what to write instead of a label filter on name
// when name is what `| json` would call an array of an audit event:
// user_groups (user.groups), impersonatedUser_groups, and user_extra_... or
// impersonatedUser_extra_... (user.extra's values are arrays). `| json`
// flattens objects and skips arrays, in Loki as here, so no event has such
// a label and the filter compares an empty value; a JSON expression
// extracts the array as its JSON text (["system:masters","system:authenticated"]),
// which a regular expression can search for one element.
func ArrayFieldHint(name string) (string, bool) {
	path, elem := "", `<value>`
	switch {
	case name == "user_groups":
		path, elem = "user.groups", "system:masters"
	case name == "impersonatedUser_groups":
		path, elem = "impersonatedUser.groups", "system:masters"
	case strings.HasPrefix(name, "user_extra_") && len(name) > len("user_extra_"):
		path = `user.extra["<key>"]`
	case strings.HasPrefix(name, "impersonatedUser_extra_") && len(name) > len("impersonatedUser_extra_"):
		path = `impersonatedUser.extra["<key>"]`
	default:
		return "", false
	}
	return name + " is an array (" + path + "), which | json skips: no event has it, the filter compares an empty value; " +
		"extract the array as JSON text with | json " + name + "=" + quoteLogQL(path) +
		" and match one element with " + name + `=~".*\"` + elem + `\".*"`, true
}

// quoteLogQL quotes s as a LogQL double-quoted string.
func quoteLogQL(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// DerivedFieldHint says, for a derived field (dryRun) that a query reads
// without the stage that makes it, that no event has it and what to add:
// `| json` never produces it, so the filter would compare an empty value.
func DerivedFieldHint(name string) (string, bool) {
	f, ok := FieldByName(name)
	if !ok || f.Kind != FieldDerived {
		return "", false
	}
	return name + " is derived from the event, not a key of it: no event has it unless the query makes it first, with | " + f.Stage() + " before the filter", true
}
