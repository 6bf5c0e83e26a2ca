package ui

import (
	"fmt"
	"strings"
	"time"
)

// command is a parsed `:` command line.
type command struct {
	name  string // user, ip, since, quit, clear, history
	arg   string
	ns    string // history: -n NAMESPACE
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
	case "history", "hist":
		return parseHistory(args)
	}
	if c, ok, err := parseWorkbenchCommand(name, strings.TrimSpace(strings.TrimSpace(line)[len(name):])); ok {
		return c, err // the window and the case (casefile.go)
	}
	return command{}, fmt.Errorf("unknown command :%s (try :user NAME, :ip ADDR, :since 1h, :from TIME, :goto TIME, :note TEXT, :case DIR, :history RESOURCE/NAME, :clear, :q; ? lists all)", name)
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
