package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

// TestColumnsFromSchema: the index has one column per indexed schema
// field, in table order, and each column holds what the field's getter
// returns for every event of the bundled sample.
func TestColumnsFromSchema(t *testing.T) {
	var want []string
	for _, f := range data.Fields() {
		if f.Indexed {
			want = append(want, f.Name)
		}
	}
	var got []string
	for c := Col(0); c < numCols; c++ {
		got = append(got, ColField(c))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("columns %v, schema's indexed fields %v", got, want)
	}
	for _, c := range []Col{ColUser, ColVerb, ColResource, ColSubresource, ColNamespace, ColName, ColCode, ColStage, ColSourceIP, ColUserAgent, ColImpUser, ColAPIGroup} {
		if c < 0 || c >= numCols || !ColSpec(c).Indexed {
			t.Errorf("column %d is not an indexed schema field", c)
		}
	}
	path := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	ix := loadIndex(t, path)
	s := ix.Snapshot()
	evs := decodeFile(t, path)
	if len(evs) != s.Len() {
		t.Fatalf("%d events decoded, %d indexed", len(evs), s.Len())
	}
	for i := range evs {
		for c := Col(0); c < numCols; c++ {
			v, _ := ColSpec(c).Get(&evs[i])
			if s.Str(c, i) != v {
				t.Fatalf("row %d column %s = %q, getter %q", i, ColField(c), s.Str(c, i), v)
			}
		}
	}
}

func decodeFile(t *testing.T, path string) []data.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dec data.Decoder
	var evs []data.Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		n := len(evs)
		evs, _ = dec.Decode(evs, sc.Bytes(), data.Origin{})
		for k := n; k < len(evs); k++ {
			evs[k] = evs[k].Clone()
		}
	}
	return evs
}

// TestCompletionFromSchema: tab offers every schema name; an expression
// field completes to the stage that reaches it, which compiles.
func TestCompletionFromSchema(t *testing.T) {
	keys := map[string]string{}
	for _, fc := range completionFields() {
		keys[fc.key] = fc.text
	}
	for _, f := range data.Fields() {
		if _, ok := keys[f.Name]; !ok {
			t.Errorf("completion lacks %s", f.Name)
		}
	}
	a := newTestApp(t, 120, 40)
	send(t, a, "/")
	typeText(t, a, "sourc")
	send(t, a, "tab")
	text := a.bar.Value()
	if text != `json sourceIP="sourceIPs[0]" | sourceIP` {
		t.Fatalf("sourc<tab> gave %q", text)
	}
	typeText(t, a, `="`)
	// Values come from the source-IP column; each completes to a query.
	cands, _ := a.bar.candidates()
	ips := a.c.Snap.Values(ColSourceIP)
	if len(cands) == 0 || len(cands) != len(ips)-1 {
		t.Fatalf("value candidates %v, the column has %d values", cands, len(ips)-1)
	}
	for _, c := range cands {
		q := `json sourceIP="sourceIPs[0]" | ` + c
		if _, err := CompileLogQL(q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	// A word whose candidates share nothing more: tab cycles through
	// them, in name order, and past the last the word is back as typed.
	send(t, a, "esc", "/")
	typeText(t, a, "s")
	cands, _ = a.bar.candidates()
	if len(cands) < 2 {
		t.Fatalf("s: candidates %v", cands)
	}
	for k, c := range append(cands, "s") {
		send(t, a, "tab")
		if v := a.bar.Value(); v != c {
			t.Fatalf("s and %d tabs gave %q, want %q", k+1, v, c)
		}
	}
}

// TestTUIQueriesAreLogQL: every query the TUI writes (pivot and drill-in
// filters, the Stats panels' captions) parses as LogQL and filters only on
// schema fields.
func TestTUIQueriesAreLogQL(t *testing.T) {
	qs := []string{AuditIDQuery([]string{"a-1", `b"2`, "a-1"})}
	for c := Col(0); c < numCols; c++ {
		qs = append(qs, EqualsQuery("v \"x\" \x1b[31m", c))
	}
	qs = append(qs, EqualsQuery("alice", ColUser, ColImpUser))
	for _, q := range qs {
		lq, err := logql.ParseLog(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		for _, name := range filteredNames(q) {
			if _, ok := data.FieldByName(name); !ok {
				t.Errorf("%s filters on %s, which is not a schema field", q, name)
			}
		}
		_ = lq
	}
	if got := AuditIDQuery([]string{"a-1", "b", "a-1"}); got != `{job="audit"} | json | auditID="a-1" or auditID="b"` {
		t.Errorf("AuditIDQuery = %s", got)
	}
	if got := EqualsQuery("10.0.0.1", ColSourceIP); got != `{job="audit"} | json | json sourceIP="sourceIPs[0]" | sourceIP="10.0.0.1"` {
		t.Errorf("IP pivot query = %s", got)
	}
	for _, q := range dashboardQueries {
		if _, err := logql.ParseMetric(q); err != nil {
			t.Errorf("Stats caption %s: %v", q, err)
		}
	}
}

// filteredNames returns the label names of the last stage of a query the
// TUI writes (name="value" or ...).
func filteredNames(q string) []string {
	last := q[strings.LastIndex(q, " | ")+3:]
	var out []string
	for _, term := range strings.Split(last, " or ") {
		out = append(out, term[:strings.IndexByte(term, '=')])
	}
	return out
}

// TestPivotFilters: f on the Timeline filters every pane to the subject's
// events, with LogQL that selects what the timeline lists.
func TestPivotFilters(t *testing.T) {
	a := newTestApp(t, 120, 40)
	send(t, a, ":")
	typeText(t, a, "user carol")
	send(t, a, "enter")
	a.tl.Subject()
	want := len(a.tl.events)
	send(t, a, "f")
	if a.filter.Text != `{job="audit"} | json | user_username="carol" or impersonatedUser_username="carol"` {
		t.Errorf("user subject filter: %s", a.filter.Text)
	}
	if a.focus != paneTail || a.c.Rows.Len() != want || want != 6 {
		t.Fatalf("user filter: %d rows, the timeline listed %d (want 6)", a.c.Rows.Len(), want)
	}
	send(t, a, "2", "p")
	c, ip := a.tl.Subject()
	if c != ColSourceIP || ip == "" {
		t.Fatalf("pivot to IP gave %v %q", c, ip)
	}
	want = len(a.tl.events)
	send(t, a, "f")
	// Any of the event's addresses (forwarded.go's tests: X-Forwarded-For).
	if a.filter.Text != SourceIPQuery(ip) {
		t.Errorf("IP subject filter: %s", a.filter.Text)
	}
	if a.c.Rows.Len() != want || want == 0 {
		t.Fatalf("IP filter: %d rows, the timeline listed %d", a.c.Rows.Len(), want)
	}
	if a.filter.NeedsRaw() || memoNeedsRaw(a.filter) {
		t.Error("the IP pivot filter re-reads events: it should be answered from the source-IP columns")
	}
	// The written text, typed back into the filter bar, gives the same rows.
	f, err := a.compile(a.filter.Text)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.Eval(context.Background(), a.c.Snap, 0, nil)
	if err != nil || len(rows) != want {
		t.Fatalf("typed back: %d rows, %v", len(rows), err)
	}
}

// buildAudittui returns the audittui binary (testutil.Audittui:
// $AUDITTUI_BIN, or built once per test run); TestMain removes it.
func buildAudittui(t *testing.T) string {
	t.Helper()
	bin, err := testutil.Audittui()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveAudittui()
	os.Exit(code)
}

// TestTUIWrittenQueriesMatchCLI: the filters the TUI writes itself (a
// plain search, its negation, Stats drill-ins, narrowed ones) select the
// same events in the TUI and in `audittui query` on the bundled sample.
func TestTUIWrittenQueriesMatchCLI(t *testing.T) {
	file := filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	ix := loadIndex(t, file)
	snap := ix.Snapshot()
	a := New(context.Background(), ix, nil, Options{NoColor: true, Compile: CompileLogQL})
	a.Update(windowSize(120, 40))
	c := countDashboards(snap, &RowSet{All: true, N: snap.Len()})
	topUser := sortedCounts(c.calls)[0].key
	failUser := sortedCounts(c.failed)[0].key
	trend := sortedCounts(c.createDelete)[0].key
	var typed []string
	for _, text := range []string{
		"kube-system",
		"!kube-system",
		userPred(topUser),
		failedPred(failUser),
		trendPred(trend),
		nsPred(clusterScope),
		nsPred("kube-system"),
		DrillQuery(mustFilter(t, a, "kube-system"), userPred(topUser)),
		DrillQuery(mustFilter(t, a, `verb=~"get|list"`), nsPred("kube-system")),
	} {
		f := mustFilter(t, a, text)
		q := f.Text
		if f.Negate {
			t.Fatalf("%s: negated", text)
		}
		full, _ := data.ExpandShorthand(q)
		typed = append(typed, full)
		rows, err := f.Eval(context.Background(), snap, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tui []string
		for _, r := range rows {
			raw, err := snap.Raw(int(r))
			if err != nil {
				t.Fatal(err)
			}
			tui = append(tui, string(raw))
		}
		sort.Strings(tui)
		cli := cliLines(t, buildAudittui(t), full, file)
		if len(tui) == 0 || !slices.Equal(tui, cli) {
			t.Errorf("%s (%s): the TUI selects %d events, audittui query %d", text, full, len(tui), len(cli))
		}
	}
	t.Logf("checked %q", typed)
}

// mustFilter compiles filter-bar text as the app does.
func mustFilter(t *testing.T, a *App, text string) *Filter {
	t.Helper()
	f, err := a.compile(text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return f
}

// fieldProbe is one field of one data set to check: its LogQL name, the
// query text, the jq path and the value.
type fieldProbe struct {
	spec  data.FieldSpec
	name  string // the label filtered on (a family member's full name)
	path  []any  // for jq's getpath
	value string
}

// TestFieldsThreeWays walks the schema and checks each field three ways on
// the bundled sample and on the real data: the TUI's filter over its index
// (as the TUI evaluates it), `audittui query` and jq on the same JSON path
// select the same lines. The values are taken from the data: each field's
// most and least frequent value in each file (for a family, its most
// frequent member).
func TestFieldsThreeWays(t *testing.T) {
	jq := testutil.Tool(t, "jq", "jq")
	files := []string{
		filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log"),
		// EKS roles and impersonation, which the sample does not have.
		filepath.Join(testutil.RepoRoot(), "testdata", "identities", "identities.jsonl"),
	}
	// The real data when present (required when AUDITTUI_REALDATA is set);
	// its absence skips only this subtest, the sample is still checked.
	t.Run("realdata", func(t *testing.T) { files = append(files, testutil.RealAuditFiles(t)...) })
	bin := buildAudittui(t)
	checked := map[string]int{} // schema name -> probes with matches
	for _, file := range files {
		probes := probesFor(t, file)
		ix := loadIndex(t, file)
		snap := ix.Snapshot()
		byJQ := jqLines(t, jq, probes, file)
		for k, p := range probes {
			q := probeQuery(p)
			tui := tuiLines(t, q, snap)
			cli := cliLines(t, bin, q, file)
			want := byJQ[k]
			if len(want) == 0 {
				t.Errorf("%s: %s: jq finds no line, yet the value was taken from the data", filepath.Base(file), q)
				continue
			}
			if !slices.Equal(tui, want) {
				t.Errorf("%s: TUI filter %s: %d lines, jq %d", filepath.Base(file), q, len(tui), len(want))
			}
			if !slices.Equal(cli, want) {
				t.Errorf("%s: audittui query %s: %d lines, jq %d", filepath.Base(file), q, len(cli), len(want))
			}
			checked[p.spec.Name]++
		}
	}
	for _, f := range data.Fields() {
		if checked[f.Name] == 0 && f.Kind != data.FieldDerived {
			if f.Wrapper {
				// A wrapping record's key: the apiserver never writes it, so
				// neither the sample nor the real captures have it.
				t.Logf("%s: no value in the data (a key of a wrapping record)", f.Name)
				continue
			}
			t.Errorf("%s: no value in any data set: not checked", f.Name)
		}
	}
	t.Logf("checked %d fields, %d probes", len(checked), func() (n int) {
		for _, k := range checked {
			n += k
		}
		return
	}())
}

// probeQuery is the query the TUI writes for the probe: EqualsQuery for
// an indexed field (what pivots write), the same shape otherwise.
func probeQuery(p fieldProbe) string {
	if p.spec.Indexed {
		c, _ := colForLabel(p.spec.Name)
		return EqualsQuery(p.value, c)
	}
	stage := ""
	if p.spec.Kind == data.FieldExpr {
		stage = " | " + p.spec.Stage()
	}
	return shorthandSelector + stage + " | " + p.name + "=" + strconv.Quote(p.value)
}

func tuiLines(t *testing.T, q string, snap *Snapshot) []string {
	t.Helper()
	f, err := CompileLogQL(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := f.Eval(context.Background(), snap, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		raw, err := snap.Raw(int(r))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	sort.Strings(out)
	return out
}

func cliLines(t *testing.T, bin, q, file string) []string {
	t.Helper()
	cmd := exec.Command(bin, "query", "-o", "raw", "--limit", "0", q, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("audittui query %s %s: %v\n%s", q, file, err, stderr.Bytes())
	}
	return sortedLines(out)
}

// jqLines runs jq once over file for all probes: for each, the lines
// whose value at the probe's path (getpath) is the probe's value.
func jqLines(t *testing.T, jq string, probes []fieldProbe, file string) [][]string {
	t.Helper()
	type jqProbe struct {
		P []any  `json:"p"`
		V string `json:"v"`
	}
	var ps []jqProbe
	for _, p := range probes {
		ps = append(ps, jqProbe{p.path, p.value})
	}
	arg, _ := json.Marshal(ps)
	prog := `. as $line | (fromjson?) as $e | range(0; $probes | length) as $i | $probes[$i] as $q
		| select(($e | try getpath($q.p) catch null
			| if type == "string" then . elif type == "number" or type == "boolean" then tostring else null end) == $q.v)
		| "\($i)\t\($line)"`
	cmd := exec.Command(jq, "-R", "-r", "--argjson", "probes", string(arg), prog, file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq over %s: %v\n%s", file, err, stderr.Bytes())
	}
	res := make([][]string, len(probes))
	for _, l := range strings.Split(string(out), "\n") {
		i, line, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		k, err := strconv.Atoi(i)
		if err != nil || k >= len(probes) {
			t.Fatalf("jq printed %q", l)
		}
		res[k] = append(res[k], line)
	}
	for k := range res {
		sort.Strings(res[k])
	}
	return res
}

func sortedLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// pathElems turns a schema path (Loki's JSON expression syntax) into
// getpath's array of keys and indexes.
func pathElems(t *testing.T, path string) []any {
	t.Helper()
	var out []any
	rest := path
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
		case strings.HasPrefix(rest, `["`):
			end := strings.Index(rest, `"]`)
			out = append(out, rest[2:end])
			rest = rest[end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			n, err := strconv.Atoi(rest[1:end])
			if err != nil {
				t.Fatalf("path %s: %v", path, err)
			}
			out = append(out, n)
			rest = rest[end+1:]
		default:
			n := strings.IndexAny(rest, ".[")
			if n < 0 {
				n = len(rest)
			}
			out = append(out, rest[:n])
			rest = rest[n:]
		}
	}
	return out
}

// jsonScalar renders a JSON value as Loki's `| json` does, for the values the
// test compares: strings as they are, integers as written, booleans; ok is
// false for anything else (objects, arrays, null, numbers jq would print
// differently).
func jsonScalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		s := v.String()
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
			return s, true
		}
	}
	return "", false
}

func getPath(v any, path []any) (any, bool) {
	for _, el := range path {
		switch el := el.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[el]; !ok {
				return nil, false
			}
		case int:
			a, ok := v.([]any)
			if !ok || el >= len(a) {
				return nil, false
			}
			v = a[el]
		}
	}
	return v, true
}

// lokiFlat is what `| json` calls a key path.
func lokiFlat(keys []string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.Join(keys, "_"))
}

// leaves calls fn for every scalar under v that `| json` produces (objects
// recursed, arrays skipped), with its keys.
func leaves(v any, keys []string, fn func(keys []string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			leaves(x, append(keys[:len(keys):len(keys)], k), fn)
		}
	case []any:
	default:
		if len(keys) > 0 {
			fn(keys, v)
		}
	}
}

// probesFor reads a file with encoding/json (independent of audittui's
// decoder) and picks, per schema field, the values to check.
func probesFor(t *testing.T, file string) []fieldProbe {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) == nil {
			events = append(events, m)
		}
	}
	var probes []fieldProbe
	add := func(spec data.FieldSpec, name string, path []any, counts map[string]int) {
		if len(counts) == 0 {
			return
		}
		vals := make([]string, 0, len(counts))
		for v := range counts {
			vals = append(vals, v)
		}
		sort.Slice(vals, func(i, j int) bool {
			if counts[vals[i]] != counts[vals[j]] {
				return counts[vals[i]] > counts[vals[j]]
			}
			return vals[i] < vals[j]
		})
		probes = append(probes, fieldProbe{spec: spec, name: name, path: path, value: vals[0]})
		if last := vals[len(vals)-1]; last != vals[0] {
			probes = append(probes, fieldProbe{spec: spec, name: name, path: path, value: last})
		}
	}
	for _, f := range data.Fields() {
		if f.Kind == data.FieldDerived {
			continue // no JSON path for jq: TestDryRunThreeWays
		}
		base := pathElems(t, f.Path)
		if f.Kind != data.FieldFamily {
			counts := map[string]int{}
			for _, e := range events {
				if v, ok := getPath(e, base); ok {
					if s, ok := jsonScalar(v); ok {
						counts[s]++
					}
				}
			}
			add(f, f.Name, base, counts)
			continue
		}
		// A family: its most frequent member that only one key path
		// produces and that no other schema row names.
		type member struct {
			paths  map[string][]string
			counts map[string]int
			n      int
		}
		members := map[string]*member{}
		for _, e := range events {
			sub, ok := getPath(e, base)
			if !ok {
				continue
			}
			seen := map[string]string{}
			leaves(sub, nil, func(keys []string, v any) {
				name := f.Name + lokiFlat(keys)
				m := members[name]
				if m == nil {
					m = &member{paths: map[string][]string{}, counts: map[string]int{}}
					members[name] = m
				}
				kp, _ := json.Marshal(keys)
				m.paths[string(kp)] = keys
				if prev, dup := seen[name]; dup && prev != string(kp) {
					m.paths["collision"] = nil
				}
				seen[name] = string(kp)
				m.n++
				if s, ok := jsonScalar(v); ok {
					m.counts[s]++
				}
			})
		}
		best := ""
		for name, m := range members {
			if _, named := data.FieldByName(name); named || len(m.paths) != 1 || len(m.counts) == 0 {
				continue
			}
			if best == "" || m.n > members[best].n || m.n == members[best].n && name < best {
				best = name
			}
		}
		if best == "" {
			continue
		}
		var keys []string
		for _, k := range members[best].paths {
			keys = k
		}
		path := append([]any(nil), base...)
		for _, k := range keys {
			path = append(path, k)
		}
		add(f, best, path, members[best].counts)
	}
	if len(probes) == 0 {
		t.Fatalf("%s: no field has a value", file)
	}
	return probes
}

func ExampleEqualsQuery() {
	fmt.Println(EqualsQuery("10.0.0.1", ColSourceIP))
	fmt.Println(EqualsQuery("alice", ColUser, ColImpUser))
	// Output:
	// {job="audit"} | json | json sourceIP="sourceIPs[0]" | sourceIP="10.0.0.1"
	// {job="audit"} | json | user_username="alice" or impersonatedUser_username="alice"
}
