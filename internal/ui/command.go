package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// command is a parsed `:` command line.
type command struct {
	name  string // a commandSpec name
	arg   string
	ns    string // history: -n NAMESPACE
	since time.Duration
}

// commandSpec is one `:` command: its name and aliases, how the help
// shows it, and how its arguments parse. The one table (commands) drives
// parsing, the help overlay and the error for an unknown command.
type commandSpec struct {
	name    string
	aliases []string
	usage   string // as the help shows it
	desc    string
	// parse checks the arguments: args are the words after the name, rest
	// the rest of the line as typed (trimmed). nil: none allowed.
	parse func(name string, args []string, rest string) (command, error)
}

// commands is the command table, in help order. The window commands run
// in window.go, the case commands in casefile.go, :history in history.go,
// the silences in silences.go.
var commands = []commandSpec{
	{name: "user", aliases: []string{"u"}, usage: ":user NAME", desc: "timeline of a user (the full name, or a unique start or part of it: :user mallory)",
		parse: func(name string, args []string, _ string) (command, error) {
			if len(args) != 1 {
				return command{}, fmt.Errorf(":user needs exactly one user name")
			}
			return command{name: "user", arg: args[0]}, nil
		}},
	{name: "ip", usage: ":ip ADDR", desc: "timeline of a source IP",
		parse: func(name string, args []string, _ string) (command, error) {
			if len(args) != 1 {
				return command{}, fmt.Errorf(":ip needs exactly one address")
			}
			return command{name: "ip", arg: args[0]}, nil
		}},
	{name: "history", aliases: []string{"hist"}, usage: ":history RES/NAME", desc: "every change of an object, with diffs (as h on an event); -n NS before it names the namespace",
		parse: func(_ string, args []string, _ string) (command, error) { return parseHistory(args) }},
	{name: "since", usage: ":since 1h", desc: "window: the last 1h (15m, 2d, 1w) before the newest event",
		parse: func(name string, args []string, _ string) (command, error) {
			if len(args) != 1 {
				return command{}, fmt.Errorf(":since needs a duration such as 15m, 1h, 2d")
			}
			d, err := parseDuration(args[0])
			if err != nil {
				return command{}, err
			}
			return command{name: "since", since: d}, nil
		}},
	{name: "from", usage: ":from TIME", desc: "window start (inclusive): 2026-11-20T08:00:00Z, 2026-11-20 08:00, 08:00; :from - opens it",
		parse: restArg("from", "")},
	{name: "to", usage: ":to TIME", desc: "window end (exclusive); :to - opens it", parse: restArg("to", "")},
	{name: "window", usage: ":window FROM TO", desc: "both ends of the window (- leaves one open); :window all drops the window",
		parse: restArg("window", "FROM TO (or all)")},
	{name: "goto", usage: ":goto TIME", desc: "select the first matching event at or after TIME",
		parse: restArg("goto", "a time such as 2026-11-20T08:15:00Z or 08:15")},
	{name: "clear", aliases: []string{"all", "nofilter"}, usage: ":clear", desc: "drop the query (the window stays; :window all drops it)"},
	{name: "undo", usage: ":undo", desc: "undo the last filter change (as u)"},
	{name: "case", usage: ":case DIR", desc: "keep bookmarks, notes, tags and filters in DIR (reopened: restored); :case alone names it",
		parse: restArg("case", "")},
	{name: "note", usage: ":note TEXT", desc: "note on the selected event (on the case when none is)",
		parse: restArg("note", "the note's text")},
	{name: "comment", usage: ":comment TEXT", desc: "as :note", parse: restArg("comment", "the comment's text")},
	{name: "casenote", usage: ":casenote TEXT", desc: "note on the case", parse: restArg("casenote", "the note's text")},
	{name: "tag", usage: ":tag NAME...", desc: "tag the selected event", parse: restArg("tag", "one or more tag names")},
	{name: "untag", usage: ":untag NAME...", desc: "remove tags from the selected event", parse: restArg("untag", "one or more tag names")},
	{name: "save", usage: ":save NAME", desc: "save the filter and window under NAME", parse: restArg("save", "a name for the filter")},
	{name: "load", usage: ":load NAME", desc: "apply a saved filter and its window",
		parse: restArg("load", "the name of a saved filter (:filters lists them)")},
	{name: "filters", usage: ":filters", desc: "list the saved filters"},
	{name: "marks", aliases: []string{"bookmarks"}, usage: ":marks", desc: "list the bookmarks (as ')"},
	{name: "export", usage: ":export DIR", desc: "write the matching events with a SHA-256 manifest",
		parse: restArg("export", "the directory to export to")},
	{name: "silence", usage: ":silence NOTE", desc: "silence the selected alert group (Alerts; the note is optional; the case keeps it)",
		parse: restArg("silence", "")},
	{name: "silences", usage: ":silences", desc: "list the silenced alert groups (enter unsilences)"},
	{name: "unsilence", usage: ":unsilence", desc: "unsilence the selected alert group (or the one selected in :silences)"},
	{name: "mouse", usage: ":mouse off", desc: "mouse capture off (the terminal selects text to copy); :mouse on; :mouse alone toggles (as F2)",
		parse: func(_ string, args []string, _ string) (command, error) {
			if len(args) > 1 || len(args) == 1 && args[0] != "on" && args[0] != "off" {
				return command{}, fmt.Errorf(":mouse takes on or off (none: toggle)")
			}
			return command{name: "mouse", arg: strings.Join(args, "")}, nil
		}},
	{name: "help", aliases: []string{"h"}, usage: ":help", desc: "this help (as ?)"},
	{name: "quit", aliases: []string{"q", "q!", "qa", "wq"}, usage: ":q", desc: "quit"},
}

// restArg parses a command whose argument is the rest of the line as
// typed (a note keeps its spacing): want says what is required, "" for
// an optional argument.
func restArg(name, want string) func(string, []string, string) (command, error) {
	return func(_ string, _ []string, rest string) (command, error) {
		if want != "" && rest == "" {
			return command{}, fmt.Errorf(":%s needs %s", name, want)
		}
		return command{name: name, arg: rest}, nil
	}
}

// lookupCommand finds a command by name or alias.
func lookupCommand(name string) (*commandSpec, bool) {
	for k := range commands {
		c := &commands[k]
		if c.name == name || slices.Contains(c.aliases, name) {
			return c, true
		}
	}
	return nil, false
}

// commandHint suggests commands for an error message: the one meant when
// name is close to one, else the common ones.
func commandHint(name string) string {
	best, bestD := "", 3
	for _, c := range commands {
		for _, n := range append([]string{c.name}, c.aliases...) {
			if d := data.EditDistance(name, n); d < bestD && len(n) > 1 {
				best, bestD = c.usage, d
			}
		}
	}
	if best != "" && name != "" {
		return "did you mean " + best + "? ? lists every command"
	}
	return "try :user NAME, :history RESOURCE/NAME, :from TIME, :note TEXT, :q; ? lists every command"
}

// parseCommand parses what follows ':'. It is pure, for table tests.
func parseCommand(line string) (command, error) {
	line = strings.TrimSpace(line)
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return command{}, fmt.Errorf("empty command (%s)", commandHint(""))
	}
	name, args := fields[0], fields[1:]
	rest := strings.TrimSpace(line[len(name):])
	spec, ok := lookupCommand(name)
	if !ok {
		return command{}, fmt.Errorf("unknown command :%s (%s)", name, commandHint(name))
	}
	if spec.parse != nil {
		return spec.parse(name, args, rest)
	}
	if len(args) != 0 {
		return command{}, fmt.Errorf(":%s takes no argument", name)
	}
	return command{name: spec.name}, nil
}

// parseHistory parses `:history [-n NAMESPACE] RESOURCE/NAME` (the
// namespace also as -nNS, --namespace NS or --namespace=NS, as kubectl).
func parseHistory(args []string) (command, error) {
	c := command{name: "history"}
	for k := 0; k < len(args); k++ {
		a := args[k]
		switch {
		case a == "-n" || a == "--namespace":
			if k+1 >= len(args) {
				return command{}, fmt.Errorf("%s needs a namespace", a)
			}
			k++
			c.ns = args[k]
		case strings.HasPrefix(a, "--namespace="):
			c.ns = strings.TrimPrefix(a, "--namespace=")
		case strings.HasPrefix(a, "-n") && len(a) > 2:
			c.ns = a[2:]
		case c.arg == "":
			c.arg = a
		default:
			return command{}, fmt.Errorf(":history takes one object: RESOURCE/NAME")
		}
	}
	if c.arg == "" {
		return command{}, fmt.Errorf(":history needs an object: [-n NAMESPACE] RESOURCE/NAME, e.g. :history -n payments rolebinding/payments-deployers")
	}
	return c, nil
}

// parseDuration accepts Go durations plus d (days) and w (weeks), as LogQL.
func parseDuration(s string) (time.Duration, error) {
	mult := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		mult = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		mult = 7 * 24 * time.Hour
	}
	if mult != 0 {
		var n int
		if _, err := fmt.Sscanf(s[:len(s)-1], "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != s[:len(s)-1] {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * mult, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad duration %q (use 15m, 1h, 2d)", s)
	}
	return d, nil
}
