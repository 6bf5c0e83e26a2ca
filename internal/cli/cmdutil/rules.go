package cmdutil

import (
	"fmt"
	"io"

	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/termsafe"
)

// LoadRules loads the alert rules of alerts, policy and the TUI: the
// built-in pack (unless noBuiltin) and then each rule file, a file's group
// replacing a group of the same name loaded before. Warnings go to warn.
// A bad rule file is a usage error; so is an empty rule set.
func LoadRules(files []string, noBuiltin bool, warn io.Writer) (*rules.Set, error) {
	return LoadRulesFor(files, noBuiltin, "", warn)
}

// LoadRulesFor is LoadRules for sources whose audit events carry job
// (--label job=...): the built-in rules select it (rules.BuiltinFor).
func LoadRulesFor(files []string, noBuiltin bool, job string, warn io.Writer) (*rules.Set, error) {
	set := &rules.Set{}
	if !noBuiltin {
		b, err := rules.BuiltinFor(job)
		if err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err)
		}
		set.Merge(b)
	}
	for _, f := range files {
		s, err := rules.LoadFile(f)
		if err != nil {
			return nil, UsageError(err)
		}
		for _, name := range set.Override(s) {
			fmt.Fprintf(warn, "audittui: %s: group %q replaces the group of that name loaded before\n", termsafe.String(f), termsafe.String(name))
		}
	}
	for _, w := range set.Warnings {
		fmt.Fprintln(warn, "audittui: warning:", termsafe.String(w))
	}
	if len(set.Rules()) == 0 {
		return nil, UsageErrorf("no rules to evaluate (--no-builtin without --rules)")
	}
	return set, nil
}
