package ui

import (
	"fmt"
	"strings"
	"time"
)

// command is a parsed `:` command line.
type command struct {
	name  string // user, ip, since, quit, clear, silence, silences, unsilence
	arg   string
	since time.Duration
}

// parseCommand parses what follows ':'. It is pure, for table tests.
func parseCommand(line string) (command, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return command{}, fmt.Errorf("empty command (try :user NAME, :ip ADDR, :since 1h, :q)")
	}
	name, args := fields[0], fields[1:]
	switch name {
	case "q", "q!", "quit", "qa", "wq":
		if len(args) != 0 {
			return command{}, fmt.Errorf(":%s takes no argument", name)
		}
		return command{name: "quit"}, nil
	case "user", "u":
		if len(args) != 1 {
			return command{}, fmt.Errorf(":user needs exactly one user name")
		}
		return command{name: "user", arg: args[0]}, nil
	case "ip":
		if len(args) != 1 {
			return command{}, fmt.Errorf(":ip needs exactly one address")
		}
		return command{name: "ip", arg: args[0]}, nil
	case "since":
		if len(args) != 1 {
			return command{}, fmt.Errorf(":since needs a duration such as 15m, 1h, 2d")
		}
		d, err := parseDuration(args[0])
		if err != nil {
			return command{}, err
		}
		return command{name: "since", since: d}, nil
	case "all", "clear", "nofilter":
		return command{name: "clear"}, nil
	// tui-alerts: silences.
	case "silence":
		return command{name: "silence", arg: strings.Join(args, " ")}, nil
	case "silences":
		return command{name: "silences"}, nil
	case "unsilence":
		return command{name: "unsilence"}, nil
	}
	return command{}, fmt.Errorf("unknown command :%s (try :user NAME, :ip ADDR, :since 1h, :clear, :q)", name)
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
