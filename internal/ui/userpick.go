package ui

import (
	"fmt"
	"sort"
	"strings"

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
		if d := levenshtein(low, strings.ToLower(n)); d < bd {
			best, bd = n, d
		}
	}
	if best != "" && bd <= max(2, len(arg)/3) {
		return arg, "no user " + termsafe.String(arg) + ": did you mean " + termsafe.String(best) + "?"
	}
	return arg, "no user " + termsafe.String(arg) + " among the events"
}

// levenshtein is the edit distance between a and b (in bytes).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
