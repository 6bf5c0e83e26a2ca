package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// command is a parsed `:` command line.
type command struct {
	name  string // a commandSpec name
	arg   string
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
	// parse checks the arguments (nil: none allowed).
	parse func(name string, args []string) (command, error)
}

// commands is the command table, in help order.
var commands = []commandSpec{
	{name: "user", aliases: []string{"u"}, usage: ":user NAME", desc: "timeline of a user (full name, e.g. system:serviceaccount:NS:NAME)",
		parse: func(name string, args []string) (command, error) {
			if len(args) != 1 {
				return command{}, fmt.Errorf(":user needs exactly one user name")
			}
			return command{name: "user", arg: args[0]}, nil
		}},
	{name: "ip", usage: ":ip ADDR", desc: "timeline of a source IP",
		parse: func(name string, args []string) (command, error) {
			if len(args) != 1 {
				return command{}, fmt.Errorf(":ip needs exactly one address")
			}
			return command{name: "ip", arg: args[0]}, nil
		}},
	{name: "since", usage: ":since 1h", desc: "only events in the last 1h (15m, 2d, 1w) before the newest",
		parse: func(name string, args []string) (command, error) {
			if len(args) != 1 {
				return command{}, fmt.Errorf(":since needs a duration such as 15m, 1h, 2d")
			}
			d, err := parseDuration(args[0])
			if err != nil {
				return command{}, err
			}
			return command{name: "since", since: d}, nil
		}},
	{name: "clear", aliases: []string{"all", "nofilter"}, usage: ":clear", desc: "drop the filter (and :since)"},
	{name: "undo", usage: ":undo", desc: "undo the last filter change (as u)"},
	{name: "help", aliases: []string{"h"}, usage: ":help", desc: "this help (as ?)"},
	{name: "quit", aliases: []string{"q", "q!", "qa", "wq"}, usage: ":q", desc: "quit"},
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

// commandHint lists the commands for an error message.
func commandHint() string {
	var us []string
	for _, c := range commands {
		us = append(us, c.usage)
	}
	return "try " + strings.Join(us, ", ")
}

// parseCommand parses what follows ':'. It is pure, for table tests.
func parseCommand(line string) (command, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return command{}, fmt.Errorf("empty command (%s)", commandHint())
	}
	name, args := fields[0], fields[1:]
	spec, ok := lookupCommand(name)
	if !ok {
		return command{}, fmt.Errorf("unknown command :%s (%s)", name, commandHint())
	}
	if spec.parse != nil {
		return spec.parse(name, args)
	}
	if len(args) != 0 {
		return command{}, fmt.Errorf(":%s takes no argument", name)
	}
	return command{name: spec.name}, nil
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
