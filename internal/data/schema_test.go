package data

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

// schemaSets are the audit files the schema tests run over: the
// project's own (the bundled sample, the identities fixture, the plain
// JSON-lines shape, the rule pack's fixtures and scenarios), always; and
// the real audit files of ../shared/realdata (skipped when absent).
var schemaSets = []struct {
	name  string
	files func(t *testing.T) []string
}{
	{"fixtures", func(t *testing.T) []string {
		root := testutil.RepoRoot()
		files := []string{
			filepath.Join(root, "testdata", "sample", "audit.log"),
			// Identities the sample does not have (EKS roles, impersonation).
			filepath.Join(root, "testdata", "identities", "identities.jsonl"),
			filepath.Join(root, "testdata", "shapes", "plain.jsonl"),
			// Server-side dry runs (the derived dryRun field).
			filepath.Join(root, "testdata", "dryrun", "dryrun.log"),
		}
		for _, dir := range []string{"fixtures", "scenarios"} {
			more, _ := filepath.Glob(filepath.Join(root, "internal", "policy", "rules", "testdata", dir, "*.jsonl"))
			if len(more) == 0 {
				t.Fatalf("no rule %s", dir)
			}
			files = append(files, more...)
		}
		return files
	}},
	{"realdata", func(t *testing.T) []string { return testutil.RealAuditFiles(t) }},
}

// forEachSchemaSet runs check as a subtest per set, with the lines of
// each file of the set.
func forEachSchemaSet(t *testing.T, check func(t *testing.T, files map[string][][]byte)) {
	for _, set := range schemaSets {
		t.Run(set.name, func(t *testing.T) { check(t, schemaLines(t, set.files(t))) })
	}
}

// fixtureSet reports whether t runs on the project's fixtures, which are
// written to give every field of the schema a value (real data need not).
func fixtureSet(t *testing.T) bool { return strings.HasSuffix(t.Name(), "/fixtures") }

// schemaLines returns the lines of files, by file.
func schemaLines(t *testing.T, files []string) map[string][][]byte {
	t.Helper()
	out := map[string][][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			out[f] = append(out[f], append([]byte(nil), sc.Bytes()...))
		}
		if len(out[f]) == 0 {
			t.Fatalf("%s: no lines", f)
		}
	}
	return out
}

// lokiName is what Loki's `| json` calls the field at a path of keys:
// the keys joined by "_", characters outside [A-Za-z0-9_] replaced by "_".
func lokiName(keys []string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.Join(keys, "_"))
}

// pathKeys splits a table path into its keys; index is true when it
// indexes an array.
func pathKeys(t *testing.T, path string) (keys []string, index bool) {
	t.Helper()
	if _, err := logql.CompileJSONPath(path); err != nil {
		t.Fatalf("path %q does not compile as a Loki JSON expression: %v", path, err)
	}
	rest := path
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
		case strings.HasPrefix(rest, `["`):
			end := strings.Index(rest, `"]`)
			keys = append(keys, rest[2:end])
			rest = rest[end+2:]
		case rest[0] == '[':
			index = true
			rest = rest[strings.IndexByte(rest, ']')+1:]
		default:
			n := strings.IndexAny(rest, ".[")
			if n < 0 {
				n = len(rest)
			}
			keys = append(keys, rest[:n])
			rest = rest[n:]
		}
	}
	return keys, index
}

// TestSchemaNames: every name is exactly what Loki's `| json` produces
// from the path (a family: the prefix of what it produces); expression
// fields are the ones `| json` skips (array elements); names and paths are
// unique; indexed fields have a getter.
func TestSchemaNames(t *testing.T) {
	names, paths := map[string]bool{}, map[string]bool{}
	for _, f := range Fields() {
		if names[f.Name] || paths[f.Path] {
			t.Errorf("%s (%s): duplicate name or path", f.Name, f.Path)
		}
		names[f.Name], paths[f.Path] = true, true
		if f.Kind == FieldDerived {
			// No path: the stage after `| json` makes the label.
			if f.Path != "" || f.Get == nil {
				t.Errorf("%s: a derived field has no path (%q) and a getter", f.Name, f.Path)
			}
			q, err := logql.ParseLog(`{job="audit"} | json | ` + f.Stage() + ` | ` + f.Name + `="x"`)
			if err != nil {
				t.Errorf("%s: stage %q: %v", f.Name, f.Stage(), err)
			} else if u := q.UnboundLabels(); slices.Contains(u, f.Name) {
				t.Errorf("%s: stage %q does not set the label", f.Name, f.Stage())
			}
			continue
		}
		keys, index := pathKeys(t, f.Path)
		switch f.Kind {
		case FieldJSON:
			if index || lokiName(keys) != f.Name {
				t.Errorf("%s: `| json` names path %s %q", f.Name, f.Path, lokiName(keys))
			}
		case FieldFamily:
			if index || lokiName(keys)+"_" != f.Name {
				t.Errorf("family %s: `| json` prefixes path %s with %q", f.Name, f.Path, lokiName(keys)+"_")
			}
		case FieldExpr:
			if !index {
				t.Errorf("%s: path %s is no array element: `| json` produces it, so it should be a FieldJSON", f.Name, f.Path)
			}
			if want := "json " + f.Name + "=" + strconv.Quote(f.Path); f.Stage() != want {
				t.Errorf("%s: Stage() = %q, want %q", f.Name, f.Stage(), want)
			}
		}
		if f.Indexed && f.Get == nil {
			t.Errorf("%s: indexed without a getter", f.Name)
		}
		if f.Level < LevelMetadata || f.Level > LevelRequestResponse {
			t.Errorf("%s: level %v", f.Name, f.Level)
		}
	}
}

// TestFieldSwitchMatchesSchema proves that Event.Field (a switch, for
// speed) and the table agree: on every event of the sample and the real
// data, every FieldJSON entry with a getter is known to Field with the
// getter's answer, and no other name is (table entries without getters,
// expression labels, family members, and every other name `| json`
// produces from the data).
func TestFieldSwitchMatchesSchema(t *testing.T) { forEachSchemaSet(t, fieldSwitchMatchesSchema) }

func fieldSwitchMatchesSchema(t *testing.T, files map[string][][]byte) {
	var dec Decoder
	var evs []Event
	checked := 0
	want := map[string]bool{}
	for _, f := range Fields() {
		if f.Kind == FieldJSON && f.Get != nil {
			want[f.Name] = true
		}
	}
	if !slices.Equal(KnownFields, func() []string {
		var out []string
		for _, f := range Fields() {
			if want[f.Name] {
				out = append(out, f.Name)
			}
		}
		return out
	}()) {
		t.Errorf("KnownFields = %v: not the table's decoded `| json` fields", KnownFields)
	}
	for file, lines := range files {
		for n, line := range lines {
			evs, _ = dec.Decode(evs[:0], line, Origin{Line: int64(n + 1)})
			for k := range evs {
				e := &evs[k]
				for _, f := range Fields() {
					v, ok, known := e.Field(f.Name)
					if !want[f.Name] {
						if known {
							t.Fatalf("%s:%d: Field(%q) is known, but the table gives it no getter (kind %d)", file, n+1, f.Name, f.Kind)
						}
						continue
					}
					gv, gok := f.Get(e)
					if !known || v != gv || ok != gok {
						t.Fatalf("%s:%d: Field(%q) = %q,%v,%v; table getter %q,%v", file, n+1, f.Name, v, ok, known, gv, gok)
					}
					checked++
				}
				_ = logql.FlattenJSON(e.Raw, func(name, _ string) {
					if _, _, known := e.Field(name); known != want[name] {
						t.Fatalf("%s:%d: Field(%q) known=%v, table says %v", file, n+1, name, known, want[name])
					}
				})
			}
		}
	}
	for _, name := range []string{"", "kind", "sourceIPs_0", "sourceIP", "requestObject_kind", "user", "Verb", "verb "} {
		if _, _, known := (&Event{}).Field(name); known {
			t.Errorf("Field(%q) is known", name)
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

// TestSchemaGettersMatchPaths: on every event of the data, what a getter
// returns is what Loki extracts: `| json` under Name (FieldJSON) and
// `| json x="Path"` (every field with a getter).
func TestSchemaGettersMatchPaths(t *testing.T) { forEachSchemaSet(t, schemaGettersMatchPaths) }

func schemaGettersMatchPaths(t *testing.T, files map[string][][]byte) {
	var dec Decoder
	var evs []Event
	nonEmpty := map[string]int{}
	for file, lines := range files {
		for n, line := range lines {
			evs, _ = dec.Decode(evs[:0], line, Origin{Line: int64(n + 1)})
			for k := range evs {
				e := &evs[k]
				// The whole sourceIPs array, built from the decoded
				// addresses: the built-in rules' "from inside" test.
				if v, _ := SourceIPsJSON(e); v != "" {
					nonEmpty[SourceIPsPath]++
					if pv, _ := logql.ExtractJSONPath(e.Raw, SourceIPsPath); pv != v {
						t.Errorf("%s:%d: SourceIPsJSON %q, `| json x=\"sourceIPs\"` %q", file, n+1, v, pv)
					}
				}
				for _, f := range Fields() {
					if f.Get == nil {
						continue
					}
					v, _ := f.Get(e)
					if v != "" {
						nonEmpty[f.Name]++
					}
					if f.Kind == FieldDerived {
						// What the stage makes of the line, as Loki reads it.
						if lv := derivedLabel(t, f, e.Raw); lv != v {
							t.Errorf("%s:%d: %s: getter %q, `| json | %s` %q", file, n+1, f.Name, v, f.Stage(), lv)
						}
						continue
					}
					if pv, _ := logql.ExtractJSONPath(e.Raw, f.Path); pv != v {
						t.Errorf("%s:%d: %s: getter %q, `| json x=%q` %q", file, n+1, f.Name, v, f.Path, pv)
					}
					if f.Kind == FieldJSON {
						if jv, _ := logql.LookupJSONField(e.Raw, f.Name); jv != v {
							t.Errorf("%s:%d: %s: getter %q, `| json` %q", file, n+1, f.Name, v, jv)
						}
					}
				}
			}
		}
	}
	if fixtureSet(t) && nonEmpty[SourceIPsPath] == 0 {
		t.Errorf("sourceIPs: no event of the data has addresses: the comparison proves nothing")
	}
	for _, f := range Fields() {
		if fixtureSet(t) && f.Get != nil && nonEmpty[f.Name] == 0 && !f.Wrapper {
			t.Errorf("%s: no event of the data has a value: the comparison proves nothing", f.Name)
		}
	}
}

// derivedQueries are derivedLabel's queries, parsed once per field (it
// runs for every event; LogQuery.Matches and Labels are safe for
// concurrent use and keep no state between calls).
var derivedQueries = map[string]*logql.LogQuery{}

// derivedLabel is the value of derived field f's label after `| json |
// f.Stage()` on line ("" when absent).
func derivedLabel(t *testing.T, f FieldSpec, line []byte) string {
	t.Helper()
	q, ok := derivedQueries[f.Name]
	if !ok {
		var err error
		q, err = logql.ParseLog(`{job="audit"} | json | ` + f.Stage())
		if err != nil {
			t.Fatal(err)
		}
		derivedQueries[f.Name] = q
	}
	ls, ok := q.Labels(&logql.JSONEntry{Line: line, Labels: [][2]string{{"job", "audit"}}})
	if !ok {
		t.Fatalf("%s: the stage dropped the line %s", f.Name, line)
	}
	v, _ := ls.Get(f.Name)
	return v
}

func TestLevelOf(t *testing.T) {
	for name, want := range map[string]Level{
		"verb":                       LevelMetadata,
		"user_username":              LevelMetadata,
		"requestObject_spec_hostPID": LevelRequest,
		"responseObject_data_token":  LevelRequestResponse,
		"annotations_pod_security_kubernetes_io_enforce_policy": LevelMetadata,
		"not_a_field": LevelMetadata,
	} {
		if got := LevelOf(name); got != want {
			t.Errorf("LevelOf(%q) = %v, want %v", name, got, want)
		}
	}
	if LevelRequest.String() != "Request" || !(LevelMetadata < LevelRequest && LevelRequest < LevelRequestResponse) {
		t.Error("levels do not order as the audit levels")
	}
}

func TestHighCardinalityLabel(t *testing.T) {
	for label, want := range map[string]bool{
		"user_username": true, "objectRef_name": true, "objectRef_namespace": true, "auditID": true,
		"requestURI": true, "userAgent": true, "user_uid": true, "impersonatedUser_username": true,
		"sourceIP": true, "sourceIPs_0": true, "sourceIPs": true, "requestObject_metadata_name": true,
		"verb": false, "objectRef_resource": false, "responseStatus_code": false, "stage": false,
		"cluster": false, "level": false, "objectRef_apiGroup": false,
	} {
		if got := HighCardinalityLabel(label); got != want {
			t.Errorf("HighCardinalityLabel(%q) = %v, want %v", label, got, want)
		}
	}
}

func TestFieldByPath(t *testing.T) {
	f, ok := FieldByPath("sourceIPs[0]")
	if !ok || f.Name != "sourceIP" || !f.Indexed || f.Kind != FieldExpr {
		t.Errorf("FieldByPath(sourceIPs[0]) = %+v, %v", f, ok)
	}
	if f, ok := FieldByPath("user.username"); !ok || f.Name != "user_username" {
		t.Errorf("FieldByPath(user.username) = %+v, %v", f, ok)
	}
	if _, ok := FieldByPath("requestObject"); ok {
		t.Error("a family has no single value")
	}
	if _, ok := FieldByName("requestObject_"); ok {
		t.Error("FieldByName returned a family")
	}
}

// TestPrefilterNeverSkipsAMatch: for every schema field, the query
// `| json | name="v"` (v: the field's most frequent value in each file)
// keeps every line it matches through its prefilter, also for a record
// that carries the event as an escaped string.
func TestPrefilterNeverSkipsAMatch(t *testing.T) { forEachSchemaSet(t, prefilterNeverSkipsAMatch) }

func prefilterNeverSkipsAMatch(t *testing.T, files map[string][][]byte) {
	var dec Decoder
	var evs []Event
	info := &SourceInfo{Name: "x", Labels: Labels{{Name: "job", Value: "audit"}}}
	files["wrapped"] = [][]byte{[]byte(`{"log":"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"a1\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api\",\"verb\":\"get\",\"user\":{\"username\":\"alice\"},\"sourceIPs\":[\"10.0.0.1\"],\"stageTimestamp\":\"2026-11-20T02:00:00Z\"}","cluster":"c1"}`)}
	withLiteral := 0
	for file, lines := range files {
		counts := map[string]map[string]int{}
		for _, line := range lines {
			_ = logql.FlattenJSON(line, func(name, v string) {
				if isEventField(name) && v != "" {
					if counts[name] == nil {
						counts[name] = map[string]int{}
					}
					counts[name][v]++
				}
			})
			evs, _ = dec.Decode(evs[:0], line, Origin{})
			for k := range evs {
				for _, name := range KnownFields {
					if v, ok, _ := evs[k].Field(name); ok {
						if counts[name] == nil {
							counts[name] = map[string]int{}
						}
						counts[name][v]++
					}
				}
			}
		}
		// Each line's events, decoded once for all the queries below (a
		// copy: the decoder reuses its memory).
		decoded := make([][]Event, len(lines))
		for n, line := range lines {
			evs, _ = dec.Decode(evs[:0], line, Origin{Source: info})
			for k := range evs {
				decoded[n] = append(decoded[n], evs[k].Clone())
			}
		}
		for name, vs := range counts {
			best, bn := "", 0
			for v, n := range vs {
				if n > bn || n == bn && v < best {
					best, bn = v, n
				}
			}
			q, err := logql.ParseLog(`{job="audit"} | json | ` + name + `=` + strconv.Quote(best))
			if err != nil {
				t.Fatal(err)
			}
			pf := PrefilterFor(q)
			if pf != nil {
				withLiteral++
			}
			for n, line := range lines {
				// The prefilter first: it is the cheap test, and most
				// lines it keeps need no match.
				if !pf.Skip(line) {
					continue
				}
				for k := range decoded[n] {
					if q.Matches(&decoded[n][k]) {
						t.Errorf("%s:%d: %s matches, but its prefilter %q skips the line", file, n+1, q, pf.All)
					}
				}
			}
		}
	}
	if withLiteral == 0 {
		t.Fatal("no query had a prefilter literal: the test proves nothing")
	}
}

// schemaTable renders the schema as the README's table.
func schemaTable() string {
	var b strings.Builder
	for _, f := range Fields() {
		name := "`" + f.Name + "`"
		switch f.Kind {
		case FieldExpr:
			name = "`" + f.Name + "` (expression stage `" + f.Stage() + "`)"
		case FieldFamily:
			name = "`" + f.Name + "…`"
		case FieldDerived:
			name = "`" + f.Name + "` (derived: see [Dry runs](#dry-runs))"
		}
		if f.Wrapper {
			name += " (wrapping record)"
		}
		idx := ""
		if f.Indexed {
			idx = "yes"
		}
		card := "low"
		if f.Cardinality == HighCardinality {
			card = "high"
		}
		path := "`" + f.Path + "`"
		if f.Kind == FieldDerived {
			path = "`requestURI`'s query; a delete's `requestObject.dryRun`"
		}
		b.WriteString("| " + name + " | " + path + " | " + idx + " | " + card + " | " + f.Level.String() + " |\n")
	}
	return b.String()
}

// TestREADMESchemaTable keeps the README's field table equal to the schema
// (go test -run TestREADMESchemaTable -update-readme ./internal/data
// rewrites it).
func TestREADMESchemaTable(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(), "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const head = "| name | JSON path | indexed | cardinality | level |\n|---|---|---|---|---|\n"
	const end = "<!-- end schema table -->"
	s := string(b)
	i := strings.Index(s, head)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no schema table (%q ... %q)", path, head, end)
	}
	got, want := s[i+len(head):j], schemaTable()
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(s[:i+len(head)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README's schema table differs from data.Fields() (run with -update-readme):\n%s", want)
}

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's schema table")

// A record that holds the literal only escaped (a Fluent Bit record with
// the event as a string) is never skipped: it is not a plain event, so it
// is decoded and the query sees the event's fields.
func TestPrefilterLiteralForms(t *testing.T) {
	p := &Prefilter{All: [][]byte{[]byte(`"secrets"`)}}
	if wrapped := []byte(`{"log":"{\"kind\":\"Event\",\"objectRef\":{\"resource\":\"secrets\"},\"stageTimestamp\":\"2026-01-01T00:00:00Z\"}"}`); p.Skip(wrapped) {
		t.Errorf("Skip(%s) = true", wrapped)
	}
	for line, want := range map[string]bool{
		`{"objectRef":{"resource":"secrets"}}`:                 true,
		`{"log":"{\"objectRef\":{\"resource\":\"secrets\"}}"}`: false,
		`{"requestURI":"/api/v1/namespaces/a/secrets/b"}`:      false,
		`{"resource":"secretsx"}`:                              false,
		`{"resource":"xsecrets"}`:                              false,
		`{"a":"secrets`:                                        false,
		`secrets"`:                                             false,
		`"secrets"`:                                            true,
	} {
		if got := p.Match([]byte(line)); got != want {
			t.Errorf("Match(%s) = %v, want %v", line, got, want)
		}
	}
	lf := &Prefilter{All: [][]byte{[]byte(`kube-system`)}}
	if !lf.Match([]byte(`{"ns":"kube-system"}`)) || lf.Match([]byte(`{"ns":"default"}`)) {
		t.Error("a plain literal is a substring match")
	}
}
