package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/termsafe"
)

// resolveUser finds the user :user NAME means among names (the users of
// the events): the exact name; else the one name that starts with NAME,
// else the one that contains it (case-insensitive: :user mallory is
// mallory@corp.example); else NAME itself, with a note naming the
// candidates or the closest names (review I 6).
func resolveUser(names []string, arg string) (string, string) {
	for _, n := range names {
		if n == arg {
			return arg, ""
		}
	}
	low := strings.ToLower(arg)
	var prefix, part []string
	for _, n := range names {
		l := strings.ToLower(n)
		switch {
		case n == "":
		case strings.HasPrefix(l, low):
			prefix = append(prefix, n)
		case strings.Contains(l, low):
			part = append(part, n)
		}
	}
	for _, c := range [][]string{prefix, part} {
		if len(c) == 1 {
			return c[0], "user " + termsafe.String(c[0]) + " (the one name with " + termsafe.String(arg) + ")"
		}
	}
	c := append(prefix, part...)
	if len(c) > 1 {
		sort.Strings(c)
		more := ""
		if len(c) > 5 {
			more = fmt.Sprintf(" and %d more", len(c)-5)
			c = c[:5]
		}
		return arg, fmt.Sprintf("%s is in several names: %s%s", termsafe.String(arg), termsafe.String(strings.Join(c, ", ")), more)
	}
	best, bd := "", 1<<30
	for _, n := range names {
		if n == "" {
			continue
		}
		if d := data.EditDistance(low, strings.ToLower(n)); d < bd {
			best, bd = n, d
		}
	}
	if best != "" && bd <= max(2, len(arg)/3) {
		return arg, "no user " + termsafe.String(arg) + ": did you mean " + termsafe.String(best) + "?"
	}
	return arg, "no user " + termsafe.String(arg) + " among the events"
}
