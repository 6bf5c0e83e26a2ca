package data

import (
	"strconv"
	"strings"
)

// The TUI's filter bar and `audittui query` take LogQL queries exactly as
// Grafana does. As a shorthand (what the filter line shows of a query
// typed in the TUI), text that does not start with a stream selector gets
// one:
//
//	user_username="alice"        -> {job="audit"} | json | user_username="alice"
//	| verb="delete"              -> {job="audit"} | json | verb="delete"
//	|= "secrets"                 -> {job="audit"} | json |= "secrets"

//
// With `--label job=kube-audit` (the sources' audit events carry another
// job), the shorthand selects that job: {job="kube-audit"} | json | ...

// ShorthandSelector is what the shorthand puts in front of the text.
const ShorthandSelector = `{job="audit"} | json`

// ShorthandSelectorFor is ShorthandSelector for sources whose audit
// events carry job ("" or DefaultJob: ShorthandSelector).
func ShorthandSelectorFor(job string) string {
	if job == "" || job == DefaultJob {
		return ShorthandSelector
	}
	return "{job=" + strconv.Quote(job) + "} | json"
}

// ExpandShorthand returns the full query and how many characters were
// added in front of what the user typed (to move an error's column back
// into the text typed). Text that starts with a stream selector is
// returned as it is.
func ExpandShorthand(text string) (string, int) { return ExpandShorthandWith(ShorthandSelector, text) }

// ExpandShorthandWith is ExpandShorthand with another selector in front
// (ShorthandSelectorFor).
func ExpandShorthandWith(selector, text string) (string, int) {
	t := strings.TrimLeft(text, " ")
	lead := len(text) - len(t)
	switch {
	case strings.HasPrefix(t, "{"):
		return text, 0
	case strings.HasPrefix(t, "|"), strings.HasPrefix(t, "!="), strings.HasPrefix(t, "!~"):
		p := selector + " "
		return p + t, len(p) - lead
	}
	p := selector + " | "
	return p + t, len(p) - lead
}
