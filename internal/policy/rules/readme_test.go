package rules

import (
	"flag"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data/logql"
)

var updateReadme = flag.Bool("update", false, "rewrite README.md's rule table from the built-in pack")

var (
	fieldFilterRE = regexp.MustCompile(`\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|==|>=|<=|=|>|<)`)
	labelFormatRE = regexp.MustCompile(`label_format\s+([A-Za-z_][A-Za-z0-9_]*)\s*=`)
	lineFilterRE  = regexp.MustCompile(`(\|=|\|~)\s*"((?:[^"\\]|\\.)*)"`)
)

// fieldsUsed lists the fields a rule's expression filters on, and whether
// it also reads the raw line (line filters over request bodies). The
// parse-error guard (__error__="") reads no field of the event, and a
// label the expression sets itself (label_format) is not one either: the
// template reading the line is (line regexp). The dry-run placeholders
// are said as such ("not dry runs", "dry runs only").
func fieldsUsed(expr string) string {
	f := fieldsOf(expr)
	for ph, say := range map[string]string{"${" + notDryRun + "}": "not dry runs", "${" + onlyDryRun + "}": "dry runs only"} {
		if strings.Contains(expr, ph) {
			f += ", " + say
		}
	}
	return f
}

func fieldsOf(expr string) string {
	seen := map[string]bool{}
	var fields []string
	for _, m := range labelFormatRE.FindAllStringSubmatch(expr, -1) {
		seen[m[1]] = true
	}
	for _, m := range fieldFilterRE.FindAllStringSubmatch(expr, -1) {
		if !seen[m[1]] && m[1] != logql.ErrorLabel {
			seen[m[1]] = true
			fields = append(fields, "`"+m[1]+"`")
		}
	}
	sort.Strings(fields)
	for _, m := range lineFilterRE.FindAllStringSubmatch(expr, -1) {
		if m[1] == "|~" {
			fields = append(fields, "line regexp")
			return strings.Join(fields, ", ")
		}
	}
	if strings.Contains(expr, "__line__") {
		fields = append(fields, "line regexp")
	}
	return strings.Join(fields, ", ")
}

var (
	byRE  = regexp.MustCompile(`by \(([^)]*)\)`)
	cmpRE = regexp.MustCompile(`\)\s*(>=|>|==|<=|<)\s*([0-9.]+)\s*$`)
)

// firesWhen describes an expression's condition: "count > 10 in 5m per
// user_username".
func firesWhen(r *Rule) string {
	expr := strings.TrimSpace(r.Expr)
	what := "count"
	if strings.Contains(expr, "rate(") {
		what = "rate"
	}
	if strings.HasPrefix(expr, "count by") {
		what = "distinct inner series"
	}
	cond := what
	if m := cmpRE.FindStringSubmatch(expr); m != nil {
		cond += " " + m[1] + " " + m[2]
	}
	cond += " in " + FormatDuration(r.query.Range())
	if m := byRE.FindAllStringSubmatch(expr, -1); len(m) > 0 {
		cond += " per " + m[0][1]
	}
	if r.For > 0 {
		cond += ", for " + FormatDuration(r.For)
	}
	return cond
}

func readmeTable(set *Set) string {
	var b strings.Builder
	b.WriteString("| rule | severity | MITRE | audit level | what it detects | fires when | fields used |\n|---|---|---|---|---|---|---|\n")
	for _, r := range set.Rules() {
		b.WriteString("| " + r.Alert + " | " + r.Severity() + " | " + r.Labels["mitre_technique"] + " | " + r.AuditLevel() + " | " +
			r.Annotations["summary"] + " | " + firesWhen(r) + " | " + fieldsUsed(r.Source) + " |\n")
	}
	return b.String()
}

// listsTable documents the default lists: kind, what they are for, the
// rules that use them and their items.
func listsTable(set *Set) string {
	ls := DefaultLists()
	var b strings.Builder
	b.WriteString("| list | kind | used by | what it is | default items |\n|---|---|---|---|---|\n")
	for _, n := range ls.Names() {
		l := ls.Get(n)
		var users []string
		for _, r := range set.Rules() {
			if strings.Contains(r.Source, "${list:"+n+"}") || strings.Contains(r.Source, "${unless:"+n+"}") {
				users = append(users, r.Alert)
			}
		}
		var items []string
		for _, it := range l.Items {
			items = append(items, "`"+strings.ReplaceAll(it, "|", "\\|")+"`")
		}
		for _, m := range l.Exceptions {
			var kv []string
			for _, k := range sortedKeys(m) {
				kv = append(kv, k+"="+strings.ReplaceAll(m[k], "|", "\\|"))
			}
			items = append(items, "`{"+strings.Join(kv, ", ")+"}`")
		}
		if len(items) == 0 {
			items = []string{"(empty)"}
		}
		b.WriteString("| `" + n + "` | " + l.Kind + " | " + strings.Join(users, ", ") + " | " + l.Description + " | " + strings.Join(items, " ") + " |\n")
	}
	return b.String()
}

// scenarioTable lists testdata/scenarios.yaml.
func scenarioTable(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| scenario | kind | technique or behaviour | raises |\n|---|---|---|---|\n")
	for _, sc := range loadScenarios(t) {
		raises := "no warning or critical alert"
		if len(sc.Reference) > 0 {
			raises += " except the reference five's " + strings.Join(sc.Reference, ", ")
		}
		if len(sc.Fires) > 0 {
			raises = strings.Join(sc.Fires, ", ")
		}
		if len(sc.Silent) > 0 {
			raises += "; not " + strings.Join(sc.Silent, ", ") + ", at any severity"
		}
		b.WriteString("| `" + sc.File + "` | " + sc.Kind + " | " + sc.Cite + " | " + raises + " |\n")
	}
	return b.String()
}

type readmeSection struct{ start, end, want string }

func TestReadmeTable(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	sections := []readmeSection{
		{"<!-- rule table: generated by go test -run TestReadmeTable -update -->\n", "<!-- end of rule table -->\n", readmeTable(set)},
		{"<!-- lists table: generated by go test -run TestReadmeTable -update -->\n", "<!-- end of lists table -->\n", listsTable(set)},
		{"<!-- scenario table: generated by go test -run TestReadmeTable -update -->\n", "<!-- end of scenario table -->\n", scenarioTable(t)},
	}
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	changed := false
	for _, s := range sections {
		i, j := strings.Index(doc, s.start), strings.Index(doc, s.end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the markers %q", s.start)
		}
		if doc[i+len(s.start):j] == s.want {
			continue
		}
		if !*updateReadme {
			t.Errorf("README.md's table after %q is out of date; run go test ./internal/policy/rules -run TestReadmeTable -update", strings.TrimSpace(s.start))
			continue
		}
		doc = doc[:i+len(s.start)] + s.want + doc[j:]
		changed = true
	}
	if changed {
		if err := os.WriteFile("README.md", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
