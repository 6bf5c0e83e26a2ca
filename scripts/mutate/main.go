// Command mutate is the project's mutation test (make mutate): it applies
// a small set of named mutations to the critical paths, one at a time,
// runs the tests that guard each, and reports which were caught (some
// test failed) and which survived (every test passed: a hole in the net).
//
//	go run ./scripts/mutate            # every mutation
//	go run ./scripts/mutate -list      # the mutations and their guards
//	go run ./scripts/mutate -run logql # the mutations whose name matches
//	go run ./scripts/mutate -check     # only check that every mutation applies
//
// Each mutation is one exact source edit (mutations.go): its anchor text
// must occur exactly once in its file, or the run stops with an error
// naming the mutation, so a mutation cannot silently stop applying after
// the code moves (TestEveryMutationApplies checks the same in make test,
// so a stale anchor fails CI). The source tree is never written: the mutated file goes
// to a temporary directory and reaches the compiler through go's -overlay
// (set in GOFLAGS, so a test that builds the binary with go build builds
// the mutant too). Interrupting the run leaves nothing behind but that
// directory, which is removed on the way out.
//
// Before the mutations, every guard runs once on the unmutated tree (the
// test cache may answer): a guard that fails there would "catch" anything.
// The exit status is 0 when every mutation was caught, 1 when one survived
// or a guard failed on the unmutated tree, 2 for a mutation that does not
// apply or does not build.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		only     = flag.String("run", "", "run only the mutations whose name matches this regular expression")
		list     = flag.Bool("list", false, "list the mutations and their guards, then exit")
		timeout  = flag.Duration("timeout", 10*time.Minute, "go test -timeout for one guard")
		baseline = flag.Bool("baseline", true, "run every guard on the unmutated tree first")
		verbose  = flag.Bool("v", false, "print the output of failing guards")
		check    = flag.Bool("check", false, "only check that every mutation applies (its anchor occurs once), then exit")
	)
	flag.Parse()
	if _, err := os.Stat("go.mod"); err != nil {
		fmt.Fprintln(os.Stderr, "mutate: run it from the repository root (make mutate)")
		return 2
	}
	selected := mutations
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mutate: -run: %v\n", err)
			return 2
		}
		selected = nil
		for _, m := range mutations {
			if re.MatchString(m.Name) {
				selected = append(selected, m)
			}
		}
		if len(selected) == 0 {
			fmt.Fprintf(os.Stderr, "mutate: no mutation matches %q\n", *only)
			return 2
		}
	}
	if *list {
		for _, m := range selected {
			files := m.File
			for _, e := range m.Alt {
				files += " or " + e.File
			}
			fmt.Printf("%-40s %s\n    %s\n", m.Name, files, m.What)
			for _, g := range m.Guards {
				fmt.Printf("    guard: %s\n", g)
			}
		}
		return 0
	}

	// Every anchor first: a stale mutation fails the run before any test.
	var bad []string
	for _, m := range selected {
		if _, _, err := m.apply(); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(os.Stderr, "mutate:", b)
		}
		fmt.Fprintf(os.Stderr, "mutate: %d of %d mutations do not apply\n", len(bad), len(selected))
		return 2
	}
	if *check {
		fmt.Printf("mutate: all %d mutations apply\n", len(selected))
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "audittui-mutate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		return 2
	}
	defer os.RemoveAll(tmp)

	t0 := time.Now()
	status := 0
	if *baseline {
		seen := map[string]bool{}
		var guards []Guard
		for _, m := range selected {
			for _, g := range m.Guards {
				if !seen[g.String()] {
					seen[g.String()] = true
					guards = append(guards, g)
				}
			}
		}
		fmt.Printf("baseline: %d guards on the unmutated tree\n", len(guards))
		for _, g := range guards {
			r := runGuard(ctx, g, "", *timeout, false)
			if ctx.Err() != nil {
				fmt.Println("interrupted")
				return 1
			}
			if r.err != nil || r.failed {
				fmt.Printf("  FAILING   %s: %s\n", g, r.summary())
				if *verbose {
					fmt.Print(indent(r.output))
				}
				status = 1
			}
		}
		if status != 0 {
			fmt.Println("a guard fails on the unmutated tree: fix it before trusting the mutations")
			return status
		}
		fmt.Printf("baseline: all pass (%s)\n", time.Since(t0).Round(time.Second))
	}

	var caught, survived, broken int
	var rows []string
	for i, m := range selected {
		if ctx.Err() != nil {
			fmt.Println("interrupted")
			return 1
		}
		t1 := time.Now()
		overlay, err := m.writeOverlay(filepath.Join(tmp, fmt.Sprint(i)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutate:", err)
			return 2
		}
		verdict := "CAUGHT"
		var details []string
		for _, g := range m.Guards {
			r := runGuard(ctx, g, overlay, *timeout, true)
			if ctx.Err() != nil {
				fmt.Println("interrupted")
				return 1
			}
			switch {
			case r.buildFailed:
				verdict = "BROKEN"
				details = append(details, g.String()+": the mutant does not build")
			case r.err != nil:
				verdict = "BROKEN"
				details = append(details, g.String()+": "+r.err.Error())
			case !r.failed:
				if verdict == "CAUGHT" {
					verdict = "SURVIVED"
				}
				details = append(details, g.String()+": every test passed")
			default:
				details = append(details, g.String()+": "+r.summary())
			}
			if *verbose && (r.failed || r.buildFailed) {
				details = append(details, indent(r.output))
			}
		}
		switch verdict {
		case "CAUGHT":
			caught++
		case "SURVIVED":
			survived++
		default:
			broken++
		}
		row := fmt.Sprintf("%-8s %-40s %5s  %s", verdict, m.Name, time.Since(t1).Round(time.Second), strings.Join(details, "; "))
		rows = append(rows, row)
		fmt.Println(row)
	}
	fmt.Printf("\nmutations: %d, caught %d, survived %d, broken %d (%s, %s)\n",
		len(selected), caught, survived, broken, time.Since(t0).Round(time.Second), time.Now().UTC().Format("2006-01-02"))
	switch {
	case broken > 0:
		return 2
	case survived > 0:
		return 1
	}
	return 0
}

// apply returns the file the mutation edits and its content with the
// mutation made: of its edits (File/Old/New, then Alt), exactly one must
// apply.
func (m *Mutation) apply() (string, []byte, error) {
	edits := append([]Edit{{File: m.File, Old: m.Old, New: m.New}}, m.Alt...)
	var (
		file    string
		content []byte
		applied int
		why     []string
	)
	for _, e := range edits {
		b, err := e.apply()
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		file, content = e.File, b
		applied++
	}
	switch {
	case applied == 1:
		return file, content, nil
	case applied > 1:
		return "", nil, fmt.Errorf("%s: %d of its edits apply (drop the stale one)", m.Name, applied)
	case len(edits) == 1:
		return "", nil, fmt.Errorf("%s: %s", m.Name, why[0])
	}
	return "", nil, fmt.Errorf("%s: none of its %d edits applies:\n%s", m.Name, len(edits), strings.Join(why, "\n"))
}

// apply returns e.File's content with the edit made.
func (e Edit) apply() ([]byte, error) {
	b, err := os.ReadFile(e.File)
	if err != nil {
		return nil, err
	}
	switch n := bytes.Count(b, []byte(e.Old)); n {
	case 1:
	case 0:
		return nil, fmt.Errorf("anchor not found in %s (the code moved: re-anchor the mutation in scripts/mutate/mutations.go):\n%s", e.File, e.Old)
	default:
		return nil, fmt.Errorf("anchor found %d times in %s (make it unique):\n%s", n, e.File, e.Old)
	}
	if e.Old == e.New {
		return nil, fmt.Errorf("the edit of %s changes nothing", e.File)
	}
	return bytes.Replace(b, []byte(e.Old), []byte(e.New), 1), nil
}

// writeOverlay writes the mutant into dir and an overlay file mapping the
// source file to it; it returns the overlay file's path.
func (m *Mutation) writeOverlay(dir string) (string, error) {
	file, content, err := m.apply()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	mutant := filepath.Join(dir, filepath.Base(file))
	if err := os.WriteFile(mutant, content, 0o644); err != nil {
		return "", err
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": {abs: mutant}})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, ov, 0o644)
}

// guardResult is the outcome of one go test run.
type guardResult struct {
	failed      bool     // some test failed (or the package failed: a panic, a timeout)
	failedTests []string // the failing tests, innermost first
	buildFailed bool
	output      string
	err         error // go test could not run
}

func (r *guardResult) summary() string {
	if len(r.failedTests) == 0 {
		if r.failed {
			return "the package failed outside any test"
		}
		return "ok"
	}
	names := r.failedTests
	more := ""
	if len(names) > 4 {
		more = fmt.Sprintf(" and %d more", len(names)-4)
		names = names[:4]
	}
	return strings.Join(names, ", ") + more
}

// runGuard runs go test for one guard, with overlay (when not "") in
// GOFLAGS so that go commands the tests start see it too.
func runGuard(ctx context.Context, g Guard, overlay string, timeout time.Duration, fresh bool) guardResult {
	args := []string{"test", "-json", "-timeout", timeout.String()}
	if fresh {
		args = append(args, "-count=1")
	}
	if g.Run != "" {
		args = append(args, "-run", g.Run)
	}
	args = append(args, g.Pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	// Without AUDITTUI_BIN: a binary built before (make test's) is not
	// the mutant, and tests that run it would pass on the original code.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AUDITTUI_BIN=") })
	if overlay != "" {
		flags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -overlay=" + overlay)
		cmd.Env = append(cmd.Env, "GOFLAGS="+flags)
	}
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return guardResult{err: err}
	}
	if err := cmd.Start(); err != nil {
		return guardResult{err: err}
	}
	r := parseTestJSON(out)
	werr := cmd.Wait()
	r.output += stderr.String()
	if strings.Contains(stderr.String(), "build failed") || strings.Contains(stderr.String(), "setup failed") {
		r.buildFailed = true
	}
	var exit *exec.ExitError
	if werr != nil && !errors.As(werr, &exit) && ctx.Err() == nil {
		r.err = werr
	}
	if werr != nil && errors.As(werr, &exit) && !r.failed && !r.buildFailed {
		// go test failed without a test or package failure event.
		r.err = fmt.Errorf("go test: %v: %s", werr, firstLine(stderr.String()))
	}
	return r
}

// testEvent is one line of go test -json (test2json), build events included.
type testEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	FailedBuild string
}

func parseTestJSON(r io.Reader) guardResult {
	var res guardResult
	var out strings.Builder
	failed := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e testEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			out.WriteString(sc.Text() + "\n")
			continue
		}
		switch e.Action {
		case "output", "build-output":
			out.WriteString(e.Output)
		case "build-fail":
			res.buildFailed = true
		case "fail":
			if e.FailedBuild != "" {
				res.buildFailed = true
			}
			res.failed = true
			if e.Test != "" {
				failed[e.Test] = true
			}
		}
	}
	// Innermost failures: a test whose subtest failed is left out.
	for name := range failed {
		inner := false
		for other := range failed {
			if strings.HasPrefix(other, name+"/") {
				inner = true
				break
			}
		}
		if !inner {
			res.failedTests = append(res.failedTests, name)
		}
	}
	sort.Strings(res.failedTests)
	if res.buildFailed {
		res.failed = false
	}
	res.output = out.String()
	return res
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("        " + l + "\n")
	}
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
