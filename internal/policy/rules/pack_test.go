package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

// scenario is one entry of testdata/scenarios.yaml.
type scenario struct {
	File  string   `yaml:"file"`
	Kind  string   `yaml:"kind"`
	Cite  string   `yaml:"cite"`
	Fires []string `yaml:"fires"`
	// Reference (benign only) is exactly the reference group's warning and
	// critical rules the scenario raises: they are the user's pipeline as
	// is, and flag every RBAC change and token request, refused ones too.
	Reference []string `yaml:"reference"`
	// Silent names rules that must raise nothing, at any severity: the
	// refused twin of a rule about something done.
	Silent []string `yaml:"silent"`
	What   string   `yaml:"what"`
}

func loadScenarios(t *testing.T) []scenario {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scenarios.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []scenario `yaml:"scenarios"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("scenarios.yaml: %v", err)
	}
	return doc.Scenarios
}

// referenceGroup is the reference pipeline's group, kept identical to the
// rules Loki runs: it flags every RBAC change and token request, benign or
// not, refused or not, so benign scenarios are judged on the rest of the
// pack, and what the reference group raises is listed (Reference).
const referenceGroup = "kubernetes-audit"

// TestScenarios runs the whole built-in pack over each technique and each
// benign behaviour of testdata/scenarios.yaml: an attack raises every rule
// it lists, each at warning or critical; a benign behaviour raises no
// warning or critical alert outside the reference group, and exactly the
// reference group's warning or critical rules it lists; no scenario raises
// a rule it lists as silent.
func TestScenarios(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Rule{}
	for _, r := range set.Rules() {
		byName[r.Alert] = r
	}
	scs := loadScenarios(t)
	attacks, benign := 0, 0
	files := map[string]bool{}
	for _, sc := range scs {
		files[sc.File] = true
		t.Run(strings.TrimSuffix(sc.File, ".jsonl"), func(t *testing.T) {
			if sc.Cite == "" || sc.What == "" {
				t.Errorf("%s: cite and what are required", sc.File)
			}
			path := filepath.Join("testdata", "scenarios", sc.File)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			evs := decodeLines(t, path, b, nil)
			if len(evs) == 0 {
				t.Fatalf("%s has no events", path)
			}
			res := replayEvents(t, set, evs)
			got := map[string]bool{}
			ref := map[string]bool{}
			var loud []string
			for _, a := range res.Alerts {
				got[a.Name] = true
				if SeverityRank(a.Severity) < SeverityRank("warning") {
					continue
				}
				if a.Rule.Group.Name == referenceGroup {
					ref[a.Name] = true
				} else {
					loud = append(loud, a.Name+" "+LabelsString(a.Labels))
				}
			}
			for _, name := range sc.Silent {
				if byName[name] == nil {
					t.Errorf("%s: silent names %s, which the pack does not have", sc.File, name)
				}
				if slices.Contains(sc.Fires, name) {
					t.Errorf("%s: %s is both in fires and silent", sc.File, name)
				}
				if got[name] {
					t.Errorf("%s (%s): %s fired; it must stay silent", sc.File, sc.What, name)
				}
			}
			switch sc.Kind {
			case "attack":
				attacks++
				if len(sc.Reference) > 0 {
					t.Errorf("attack %s lists reference rules (only benign scenarios do)", sc.File)
				}
				if len(sc.Fires) == 0 {
					t.Fatalf("attack %s names no rule", sc.File)
				}
				for _, name := range sc.Fires {
					r := byName[name]
					if r == nil {
						t.Errorf("%s: no rule %s in the pack", sc.File, name)
						continue
					}
					if SeverityRank(r.Severity()) < SeverityRank("warning") {
						t.Errorf("%s: %s is %s; a technique must raise a warning or critical rule", sc.File, name, r.Severity())
					}
					if !got[name] {
						t.Errorf("%s (%s): %s did not fire; fired: %v", sc.File, sc.Cite, name, sortedSet(got))
					}
				}
			case "benign":
				benign++
				if len(sc.Fires) > 0 {
					t.Errorf("benign %s lists rules to fire", sc.File)
				}
				for _, l := range loud {
					t.Errorf("benign %s (%s) raised %s", sc.File, sc.What, l)
				}
				for _, name := range sc.Reference {
					if r := byName[name]; r == nil || r.Group.Name != referenceGroup {
						t.Errorf("%s: reference names %s, which is not a rule of %s", sc.File, name, referenceGroup)
					}
				}
				if want := sortedSet(toSet(sc.Reference)); !slices.Equal(sortedSet(ref), want) {
					t.Errorf("benign %s: the reference group raised %v at warning or critical; reference lists %v", sc.File, sortedSet(ref), want)
				}
			default:
				t.Errorf("%s: kind %q (want attack or benign)", sc.File, sc.Kind)
			}
		})
	}
	all, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "*.jsonl"))
	for _, f := range all {
		if !files[filepath.Base(f)] {
			t.Errorf("%s is not in scenarios.yaml", f)
		}
	}
	if attacks < 30 || benign < 10 {
		t.Errorf("%d attack and %d benign scenarios; the manifest lost some", attacks, benign)
	}
}

func toSet(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestBuiltinLevels checks the one table of audit levels against each
// rule's expression: a rule that reads requestObject_* fields or filters
// the raw line with a regexp over the body needs Request; the rest need
// Metadata. PrivilegedIdentityImpersonated's regexp reads impersonatedUser,
// which Metadata carries.
func TestBuiltinLevels(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	metadataRegexps := map[string]bool{"PrivilegedIdentityImpersonated": true}
	seen := map[string]bool{}
	for _, r := range set.Rules() {
		seen[r.Alert] = true
		got := r.AuditLevel()
		want := LevelMetadata
		// The dry-run filter reads a delete's body when the level logged
		// one, and works without it: it needs no level.
		expr := strings.ReplaceAll(strings.ReplaceAll(r.Expr, data.DryRunFilter(true), ""), data.DryRunFilter(false), "")
		if strings.Contains(expr, "requestObject_") || strings.Contains(expr, "|~") && !metadataRegexps[r.Alert] {
			want = LevelRequest
		}
		if strings.Contains(expr, "responseObject_") {
			want = LevelRequestResponse
		}
		if got != want {
			t.Errorf("%s: levels.go says %q, its expression needs %q", r.Alert, got, want)
		}
	}
	for name := range builtinLevels {
		if !seen[name] {
			t.Errorf("levels.go names %s, which the pack does not have", name)
		}
	}
	// Rules from other files have no declared level.
	other, err := Parse("mine.yaml", []byte("groups:\n- name: g\n  rules:\n  - alert: PrivilegedPodCreated\n    expr: count_over_time({job=\"audit\"}[5m]) > 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := other.Rules()[0].AuditLevel(); l != "" {
		t.Errorf("a user rule named like a built-in one got level %q", l)
	}
}

// TestCIDRRegex compares the expression made from a CIDR with
// netip.Prefix.Contains over random and boundary addresses.
func TestCIDRRegex(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	cidrs := []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "100.64.0.0/10",
		"10.40.0.0/14", "203.0.113.0/24", "198.51.100.7", "0.0.0.0/0", "10.1.2.128/25", "10.1.2.3/31",
		"fc00::/7", "fe80::/10", "2001:db8::/32", "::1", "2600:1f18::/32"}
	for _, c := range cidrs {
		re, err := CIDRRegex(c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		m := regexp.MustCompile("^(?:" + re + ")$")
		var pfx netip.Prefix
		if strings.Contains(c, "/") {
			pfx = netip.MustParsePrefix(c)
		} else {
			a := netip.MustParseAddr(c)
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		pfx = pfx.Masked()
		var addrs []netip.Addr
		for i := 0; i < 3000; i++ {
			if pfx.Addr().Is4() {
				var b [4]byte
				for j := range b {
					b[j] = byte(rng.IntN(256))
				}
				// Half of them inside the prefix.
				if i%2 == 0 {
					base := pfx.Addr().As4()
					for bit := 0; bit < pfx.Bits(); bit++ {
						mask := byte(0x80 >> (bit % 8))
						b[bit/8] = b[bit/8]&^mask | base[bit/8]&mask
					}
				}
				addrs = append(addrs, netip.AddrFrom4(b))
			} else {
				var b [16]byte
				for j := range b {
					b[j] = byte(rng.IntN(256))
				}
				if i%3 == 0 {
					for j := 4; j < 16; j++ {
						b[j] = 0 // compressible zeros
					}
				}
				if i%2 == 0 {
					base := pfx.Addr().As16()
					for bit := 0; bit < pfx.Bits(); bit++ {
						mask := byte(0x80 >> (bit % 8))
						b[bit/8] = b[bit/8]&^mask | base[bit/8]&mask
					}
				}
				addrs = append(addrs, netip.AddrFrom16(b))
			}
		}
		addrs = append(addrs, pfx.Addr(), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("11.0.0.0"),
			netip.MustParseAddr("172.15.255.255"), netip.MustParseAddr("172.32.0.0"), netip.MustParseAddr("::1"), netip.MustParseAddr("::2"))
		for _, a := range addrs {
			if a.Is4() != pfx.Addr().Is4() {
				continue
			}
			s := a.String()
			if got, want := m.MatchString(s), pfx.Contains(a); got != want {
				t.Errorf("%s (%s): %s matched=%v, contained=%v", c, re, s, got, want)
			}
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "fe80::1%eth0", "2001:0:1::/48", "::/8", "not-an-ip", "2001:db8::/20"} {
		if _, err := CIDRRegex(bad); err == nil {
			t.Errorf("CIDRRegex(%q): want an error", bad)
		}
	}
}

// TestListsOverride: a rule file with lists: changes the built-in pack's
// expressions when it is given after it (as --rules does), and so what
// fires; errors name the file and line.
func TestListsOverride(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "scenarios", "stolen-token-outside.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, "stolen-token-outside.jsonl", b, nil)
	fired := func(s *Set, name string) bool {
		for _, a := range replayEvents(t, s, evs).Alerts {
			if a.Name == name {
				return true
			}
		}
		return false
	}
	if !fired(set, "ClusterIdentityUsedFromOutside") {
		t.Fatal("the stolen token does not fire with the default lists")
	}
	site, err := Parse("site.yaml", []byte(`lists:
  cluster_cidrs:
    append: [203.0.113.0/24]
  known_kubectl_serviceaccounts:
    items:
      - {user_username: "system:serviceaccount:production:web-frontend"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Groups) != 0 {
		t.Fatalf("a lists-only file has groups: %v", site.Groups)
	}
	set.Override(site)
	if len(set.Warnings) != 0 {
		t.Fatalf("warnings: %q", set.Warnings)
	}
	if fired(set, "ClusterIdentityUsedFromOutside") || fired(set, "ServiceAccountHumanClient") {
		t.Error("the site's lists did not change the built-in rules")
	}
	if got := set.Lists().Get("cluster_cidrs").Items; !slices.Contains(got, "203.0.113.0/24") || !slices.Contains(got, "10.0.0.0/8") {
		t.Errorf("append lost items: %v", got)
	}
	// Export with the same lists gives the same expressions.
	y, err := BuiltinYAMLWith(set.Lists())
	if err != nil {
		t.Fatal(err)
	}
	exported, err := Parse("export.yaml", y)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range exported.Rules() {
		if r.Expr != set.Rules()[i].Expr {
			t.Errorf("%s: export and load disagree", r.Alert)
		}
	}

	for _, c := range []struct{ in, want string }{
		{"lists:\n  cluster_cidrs:\n    items: [10.0.0.0/33]\n", "bad.yaml:3"},
		{"lists:\n  nope:\n    items: [a]\n", "bad.yaml:2: list nope: no such list"},
		{"lists:\n  human_user_agents:\n    kind: cidrs\n    items: [10.0.0.0/8]\n", "bad.yaml:2: list human_user_agents is of kind regexes"},
		{"lists:\n  known_wildcard_roles:\n    append: [{user_username: \"a(\"}]\n", "bad.yaml:3"},
		{"lists:\n  known_wildcard_roles:\n    append: [plain]\n", "bad.yaml:3: list known_wildcard_roles: an exception is a mapping"},
		{"lists:\n  mine:\n    kind: strings\n    items: [x]\ngroups:\n- name: g\n  rules:\n  - alert: A\n    expr: count_over_time({job=\"audit\"} |~ \"${list:missing}\" [5m]) > 0\n", "bad.yaml:9: rule A: expr: unknown list \"missing\""},
	} {
		_, err := Parse("bad.yaml", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
	// A user file may define and use its own list.
	own, err := Parse("own.yaml", []byte("lists:\n  vip_users:\n    kind: strings\n    items: [ceo@corp.example, cfo@corp.example]\ngroups:\n- name: vip\n  rules:\n  - alert: VIPActivity\n    expr: sum by (user_username) (count_over_time({job=\"audit\"} | json | user_username =~ \"${list:vip_users}\" [5m])) > 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := own.Rules()[0].Expr; !strings.Contains(e, `ceo@corp\\.example|cfo@corp\\.example`) {
		t.Errorf("own list not expanded: %s", e)
	}
}

// TestExportIsPlainLogQL: what `alerts export` writes has no placeholder
// left, loads to the same expressions as the embedded pack, and uses only
// the LogQL that Loki's ruler accepts (no audittui-only syntax).
func TestExportIsPlainLogQL(t *testing.T) {
	y, err := BuiltinYAML()
	if err != nil {
		t.Fatal(err)
	}
	if HasPlaceholders(string(y)) || strings.Contains(string(y), "${") {
		t.Fatal("the export still has list placeholders")
	}
	if !HasPlaceholders(string(BuiltinSource())) {
		t.Fatal("builtin.yaml uses no lists: the test is vacuous")
	}
	exp, err := Parse("export.yaml", y)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Rules()) != len(set.Rules()) {
		t.Fatalf("%d rules exported, %d loaded", len(exp.Rules()), len(set.Rules()))
	}
	for i, r := range exp.Rules() {
		if r.Expr != set.Rules()[i].Expr || r.Source != r.Expr {
			t.Errorf("%s: exported expression differs from the loaded one", r.Alert)
		}
		// Loki's LogQL has no "${" and no empty alternations of ours; the
		// in-repo parser accepts only Loki's grammar (logql's doc lists
		// what it rejects), so a parse is the check here.
		if _, err := logql.ParseMetric(r.Expr); err != nil {
			t.Errorf("%s: %v", r.Alert, err)
		}
	}
	// The export is a Loki ruler file: only groups at the top.
	var top map[string]any
	if err := yaml.Unmarshal(y, &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 1 || top["groups"] == nil {
		t.Errorf("export top-level keys: %v", top)
	}
}

// TestDefaultListsDocumented: every list has a kind and a description, is
// used by the pack, and the README documents it.
func TestDefaultListsDocumented(t *testing.T) {
	ls := DefaultLists()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	src := string(BuiltinSource())
	for _, n := range ls.Names() {
		l := ls.Get(n)
		if l.Description == "" {
			t.Errorf("list %s has no description", n)
		}
		if !strings.Contains(src, "${list:"+n+"}") && !strings.Contains(src, "${unless:"+n+"}") {
			t.Errorf("list %s is not used by builtin.yaml", n)
		}
		if !strings.Contains(string(readme), "`"+n+"`") {
			t.Errorf("README does not document list %s", n)
		}
	}
}

// falcoRules are the 48 rule names of Falco's k8saudit plugin ruleset
// (falcosecurity/plugins, plugins/k8saudit/rules/k8s_audit_rules.yaml).
var falcoRules = []string{
	"Disallowed K8s User", "Create Disallowed Pod", "Create Privileged Pod", "Create Sensitive Mount Pod",
	"Create HostNetwork Pod", "Create HostPid Pod", "Create HostIPC Pod", "Create NodePort Service",
	"Create/Modify Configmap With Private Credentials", "Anonymous Request Allowed", "Attach/Exec Pod", "port-forward",
	"EphemeralContainers Created", "Create Disallowed Namespace", "Pod Created in Kube Namespace",
	"Service Account Created in Kube Namespace", "System ClusterRole Modified/Deleted", "Attach to cluster-admin Role",
	"ClusterRole With Wildcard Created", "ClusterRole With Write Privileges Created", "ClusterRole With Pod Exec Created",
	"K8s Deployment Created", "K8s Deployment Deleted", "K8s Service Created", "K8s Service Deleted",
	"K8s ConfigMap Created", "K8s ConfigMap Deleted", "K8s Namespace Created", "K8s Namespace Deleted",
	"K8s Serviceaccount Created", "K8s Serviceaccount Deleted", "K8s Role Created", "K8s Role Deleted",
	"K8s ClusterRole Created", "K8s ClusterRole Deleted", "K8s RoleBinding Created", "K8s RoleBinding Deleted",
	"K8s ClusterRoleBinding Created", "K8s ClusterRoleBinding Deleted", "K8s Secret Created", "K8s Secret Deleted",
	"K8s Secret Get Successfully", "K8s Secret Get Unsuccessfully Tried", "All K8s Audit Events",
	"Full K8s Administrative Access", "Ingress Object without TLS Certificate Created",
	"Untrusted Node Successfully Joined the Cluster", "Untrusted Node Unsuccessfully Tried to Join the Cluster",
}

// TestFalcoMapping: the README maps every Falco k8saudit rule to one of
// ours or says why none applies, and names only rules the pack has.
func TestFalcoMapping(t *testing.T) {
	if len(falcoRules) != 48 {
		t.Fatalf("%d Falco rules listed", len(falcoRules))
	}
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "<!-- falco mapping -->")
	j := strings.Index(doc, "<!-- end of falco mapping -->")
	if i < 0 || j < i {
		t.Fatal("README.md lacks the Falco mapping markers")
	}
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, r := range set.Rules() {
		ours[r.Alert] = true
	}
	rows := map[string]string{}
	for _, line := range strings.Split(doc[i:j], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "Falco rule") || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		rows[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	mapped := 0
	for _, f := range falcoRules {
		ourCell, ok := rows[f]
		if !ok {
			t.Errorf("Falco rule %q has no row", f)
			continue
		}
		if ourCell == "" {
			t.Errorf("Falco rule %q: empty mapping", f)
		}
		names := regexp.MustCompile("`([A-Za-z0-9]+)`").FindAllStringSubmatch(ourCell, -1)
		for _, n := range names {
			if !ours[n[1]] {
				t.Errorf("Falco rule %q maps to %s, which the pack does not have", f, n[1])
			}
		}
		if len(names) > 0 {
			mapped++
		}
	}
	if len(rows) != len(falcoRules) {
		t.Errorf("%d rows for %d Falco rules", len(rows), len(falcoRules))
	}
	t.Logf("%d of %d Falco k8saudit rules have an equivalent", mapped, len(falcoRules))
}

// TestRealBenignStaysSilent: the real OpenShift event (a kubelet lease
// update) raises nothing, and no rule of the identity group (which judges
// behaviour instead of names) fires on the real captures, whose requests
// all come from the cluster's own addresses.
func TestRealBenignStaysSilent(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testutil.RealData(t), "audit")
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) == 0 {
		t.Fatalf("no real audit files in %s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res := replayEvents(t, set, decodeLines(t, f, b, nil))
		for _, a := range res.Alerts {
			if filepath.Base(f) == "openshift-aws-single-event.jsonl" || a.Rule.Group.Name == "audittui-identity" {
				t.Errorf("%s: %s fired (%s)", filepath.Base(f), a.Name, LabelsString(a.Labels))
			}
		}
	}
}

// TestExportDropsLinesThatAreNotJSON: Loki refuses a rule's whole
// evaluation ("pipeline error") when one line reaching its range
// aggregation carries __error__: `| json` sets JSONParserErr on a line it
// cannot parse, such as one an apiserver that crashed mid-write cut short
// or joined to the next, whose fields before the damage still parse and
// pass the rule's filters (logql keeps an errored line through every
// filter but one on __error__). Shippers forward such lines as they are
// (ship counts them in lines_unparsed_total). Every rule of the export runs here on
// logql's evaluator, as Loki's ruler runs it, over its fixture's events
// and, for each event, the crash-joined line and the line cut short: no
// pipeline error, and the result of the events alone.
func TestExportDropsLinesThatAreNotJSON(t *testing.T) {
	y, err := BuiltinYAML()
	if err != nil {
		t.Fatal(err)
	}
	exp, err := Parse("export.yaml", y)
	if err != nil {
		t.Fatal(err)
	}
	job := [][2]string{{"job", "audit"}}
	for _, r := range exp.Rules() {
		path := filepath.Join("testdata", "fixtures", r.Alert+".fire.jsonl")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		evs := decodeLines(t, path, b, nil)
		var good, all []logql.Entry
		for i := range evs {
			line := evs[i].EntryLine()
			joined := append(append([]byte(nil), line[:len(line)/2]...), line...)
			cut := line[:len(line)-len(line)/8]
			good = append(good, &logql.JSONEntry{Time: evs[i].Time, Line: line, Labels: job})
			all = append(all, &logql.JSONEntry{Time: evs[i].Time, Line: line, Labels: job},
				&logql.JSONEntry{Time: evs[i].Time, Line: joined, Labels: job},
				&logql.JSONEntry{Time: evs[i].Time, Line: cut, Labels: job})
		}
		step := r.Group.Interval
		start := time.Unix(0, evs[0].Time).Truncate(step)
		end := time.Unix(0, evs[len(evs)-1].Time).Add(r.Query().Range() + step)
		eval := func(es []logql.Entry) (logql.Matrix, error) {
			ev, err := r.Query().NewRangeEvaluator(start.UnixNano(), end.UnixNano(), step)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				ev.Add(e)
			}
			return ev.Result(), ev.Err()
		}
		want, err := eval(good)
		if err != nil || len(want) == 0 {
			t.Fatalf("%s on its fixture: %d series, %v", r.Alert, len(want), err)
		}
		got, err := eval(all)
		if err != nil {
			t.Errorf("%s: Loki's ruler would fail the rule: %v", r.Alert, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: lines that are not JSON changed the result:\n%v\nwant\n%v", r.Alert, got, want)
		}
	}
}

// editLines rewrites each JSON line of b with edit (an event as a map),
// keeping numbers as written.
func editLines(t *testing.T, b []byte, edit func(i int, ev map[string]any)) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			t.Fatal(err)
		}
		edit(i, ev)
		nb, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(nb)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// TestFromInsideNeedsEveryAddress: the API server lists in sourceIPs the
// addresses of X-Forwarded-For, then X-Real-Ip's, then the address its
// connection came from, last; all but the last are whatever the client
// sent. A request is from inside the cluster only when every address is in
// cluster_cidrs, so a stolen credential sent with X-Forwarded-For naming
// an address of the cluster is still from outside (review H finding 1),
// for ClusterIdentityUsedFromOutside (on the real OpenShift kubelet's
// lease update) and for the burst rules' "controller-like" exemption (a
// service account, from inside, with its own client: prometheus-operator
// reading twelve secrets in 90 seconds).
func TestFromInsideNeedsEveryAddress(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rule := func(name string) *Set {
		for _, r := range set.Rules() {
			if r.Alert == name {
				return singleRuleSet(r)
			}
		}
		t.Fatalf("no rule %s", name)
		return nil
	}
	outside, burst := rule("ClusterIdentityUsedFromOutside"), rule("SecretReadBurst")
	kubelet, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "openshift-aws-single-event.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reads, err := os.ReadFile(filepath.Join("testdata", "scenarios", "stolen-token-forwarded-for.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ips     []string
		outside bool
	}{
		{[]string{"10.0.6.159"}, false}, // as recorded
		{[]string{"203.0.113.9"}, true},
		{[]string{"10.0.6.159", "203.0.113.9"}, true},             // X-Forwarded-For: the node's own address
		{[]string{"10.1.2.3", "172.16.4.4", "203.0.113.9"}, true}, // a chain of them
		{[]string{"203.0.113.9", "10.0.6.159"}, true},             // a proxy of the cluster names an outside client
		{[]string{"10.1.2.3", "10.0.6.159"}, false},               // ... an inside one
		{[]string{"fd00::12", "2001:db8::7"}, true},
		{[]string{"fd00::12", "::1"}, false},
	} {
		setIPs := func(_ int, ev map[string]any) { ev["sourceIPs"] = c.ips }
		want, _ := json.Marshal(c.ips)
		res := replayEvents(t, outside, decodeLines(t, "kubelet", editLines(t, kubelet, setIPs), nil))
		if got := len(res.Alerts) > 0; got != c.outside {
			t.Errorf("ClusterIdentityUsedFromOutside on the kubelet's lease update from %s: fired %v, want %v", want, got, c.outside)
		}
		for _, a := range res.Alerts {
			if a.Labels["src_ips"] != string(want) {
				t.Errorf("src_ips %q, want %s", a.Labels["src_ips"], want)
			}
		}
		res = replayEvents(t, burst, decodeLines(t, "reads", editLines(t, reads, setIPs), nil))
		if got := len(res.Alerts) > 0; got != c.outside {
			t.Errorf("SecretReadBurst on prometheus-operator's reads from %s: fired %v, want %v (exempt only from inside)", want, got, c.outside)
		}
	}
}

// TestClusterAddressesOfEKS: an EKS cluster reached through its public
// endpoint (the default: private endpoint access off) sends its nodes'
// and pods' requests from the NAT gateways' or nodes' public addresses,
// as Panther's EKS fixture has a kubelet at 54.212.83.236: with the
// default cluster_cidrs every node and controller is "from outside", and
// the critical alert says what to add (review H finding 12). Appended, the
// NAT address is the cluster's, while the node's credential used from any
// other address still fires. EKS custom networking gives pods addresses
// of 100.64.0.0/10 (RFC 6598), which the defaults hold.
func TestClusterAddressesOfEKS(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "panther-analysis-kubernetes-rules-tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(b, []byte("\n"))
	// Panther's fixtures have no time: the kubelet's token request (line
	// 48) and CoreDNS's endpointslices read (line 47), dated.
	at := func(line []byte, ips []string) []data.Event {
		return decodeLines(t, "panther", editLines(t, line, func(_ int, ev map[string]any) {
			ev["stageTimestamp"] = "2024-05-02T10:00:00.000000Z"
			ev["auditID"] = "panther-" + strings.Join(ips, "-")
			ev["sourceIPs"] = ips
		}), nil)
	}
	kubelet, coredns := lines[47], lines[46]
	if !bytes.Contains(kubelet, []byte(`"54.212.83.236"`)) || !bytes.Contains(coredns, []byte("system:serviceaccount:kube-system:coredns")) {
		t.Fatal("the Panther fixture moved")
	}
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var rule *Rule
	for _, r := range set.Rules() {
		if r.Alert == "ClusterIdentityUsedFromOutside" {
			rule = r
		}
	}
	fired := func(s *Set, evs []data.Event) []*Alert {
		var out []*Alert
		for _, a := range replayEvents(t, s, evs).Alerts {
			if a.Name == rule.Alert {
				out = append(out, a)
			}
		}
		return out
	}
	nat := at(kubelet, []string{"54.212.83.236"})
	as := fired(singleRuleSet(rule), nat)
	if len(as) != 1 || !strings.Contains(as[0].Annotations["description"], "NAT gateway") {
		t.Fatalf("the kubelet from its NAT address with the default lists: %d alerts, want one that says to add the NAT gateway's address", len(as))
	}
	if as := fired(singleRuleSet(rule), at(coredns, []string{"100.64.12.7"})); len(as) != 0 {
		t.Errorf("CoreDNS from a pod address of EKS custom networking (100.64.0.0/10) is from outside: %s", LabelsString(as[0].Labels))
	}
	site, err := Parse("site.yaml", []byte("lists:\n  cluster_cidrs:\n    append: [54.212.83.236/32]\n"))
	if err != nil {
		t.Fatal(err)
	}
	set.Override(site)
	for _, r := range set.Rules() {
		if r.Alert == rule.Alert {
			rule = r
		}
	}
	if as := fired(singleRuleSet(rule), nat); len(as) != 0 {
		t.Errorf("the NAT address appended to cluster_cidrs still fires: %s", LabelsString(as[0].Labels))
	}
	if as := fired(singleRuleSet(rule), at(kubelet, []string{"54.212.83.236", "198.51.100.23"})); len(as) != 1 {
		t.Errorf("the node's credential from 198.51.100.23 (X-Forwarded-For: the NAT address) with the NAT appended: %d alerts, want 1", len(as))
	}
}

// TestTrustedImageNeedsEveryImage: a pod or template is left out of the
// host-access rules as a node agent's only when every image it names is in
// known_host_level_images (containers, initContainers and
// ephemeralContainers alike). A trusted image added beside the real one,
// as a sidecar or init container, or written into an annotation or label
// named "image", switched every host-level rule off (review H finding 2),
// here on Falco's real privileged nginx pod and on node-exporter's
// DaemonSet (hostNetwork, hostPID, host paths).
func TestTrustedImageNeedsEveryImage(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rule := func(name string) *Set {
		for _, r := range set.Rules() {
			if r.Alert == name {
				return singleRuleSet(r)
			}
		}
		t.Fatalf("no rule %s", name)
		return nil
	}
	falco, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", falcoFile))
	if err != nil {
		t.Fatal(err)
	}
	privileged := bytes.Split(falco, []byte("\n"))[22] // line 23: nginx, privileged
	exporter, err := os.ReadFile(filepath.Join("testdata", "scenarios", "benign-daemonset-node-exporter.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var daemonset []byte
	for _, l := range bytes.Split(exporter, []byte("\n")) {
		if bytes.Contains(l, []byte(`"resource":"daemonsets"`)) {
			daemonset = l
		}
	}
	const kubeProxy, cilium = "registry.k8s.io/kube-proxy:v1.31.0", "quay.io/cilium/cilium:v1.16.3"
	container := func(name, image string) map[string]any {
		return map[string]any{"name": name, "image": image, "securityContext": map[string]any{"privileged": true}}
	}
	spec := func(obj map[string]any, path ...string) map[string]any {
		for _, k := range path {
			obj = obj[k].(map[string]any)
		}
		return obj
	}
	for _, c := range []struct {
		name  string
		rule  string
		line  []byte
		path  []string                       // to the pod spec in requestObject
		edit  func(obj, spec map[string]any) // the object (requestObject, and responseObject when logged)
		fires bool
	}{
		{"as recorded", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {}, true},
		{"a trusted init container beside it", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {
			spec["initContainers"] = []any{map[string]any{"name": "x", "image": kubeProxy}}
		}, true},
		{"a trusted sidecar", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {
			spec["containers"] = append(spec["containers"].([]any), map[string]any{"name": "x", "image": kubeProxy})
		}, true},
		{"an annotation named image", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {
			obj["metadata"].(map[string]any)["annotations"] = map[string]any{"image": kubeProxy}
		}, true},
		{"a label named image", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {
			obj["metadata"].(map[string]any)["labels"] = map[string]any{"image": cilium}
		}, true},
		{"every image trusted", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {
			spec["containers"] = []any{container("cilium-agent", cilium)}
			spec["initContainers"] = []any{map[string]any{"name": "mount-cgroup", "image": cilium}, map[string]any{"name": "install-cni-binaries", "image": cilium}}
		}, false},
		{"trusted containers, an init container that is not", "PrivilegedPodCreated", privileged, []string{"spec"}, func(obj, spec map[string]any) {
			spec["containers"] = []any{container("cilium-agent", cilium)}
			spec["initContainers"] = []any{map[string]any{"name": "setup", "image": "docker.io/library/busybox:1.36"}}
		}, true},
		{"node-exporter's DaemonSet as written", "HostNamespaceWorkloadTemplate", daemonset, []string{"spec", "template", "spec"}, func(obj, spec map[string]any) {}, false},
		{"node-exporter's DaemonSet with an init container of another image", "HostNamespaceWorkloadTemplate", daemonset, []string{"spec", "template", "spec"}, func(obj, spec map[string]any) {
			spec["initContainers"] = []any{map[string]any{"name": "setup", "image": "docker.io/library/alpine:3.20"}}
		}, true},
		{"node-exporter's DaemonSet with an annotation naming an image", "SensitiveHostPathWorkloadTemplate", daemonset, []string{"spec", "template", "spec"}, func(obj, spec map[string]any) {
			spec["containers"].([]any)[0].(map[string]any)["image"] = "docker.io/attacker/exporter:1"
			obj["metadata"].(map[string]any)["annotations"] = map[string]any{"image": "quay.io/prometheus/node-exporter:v1.8.2"}
		}, true},
	} {
		line := editLines(t, c.line, func(_ int, ev map[string]any) {
			for _, k := range []string{"requestObject", "responseObject"} {
				if obj, ok := ev[k].(map[string]any); ok {
					c.edit(obj, spec(obj, c.path...))
				}
			}
		})
		res := replayEvents(t, rule(c.rule), decodeLines(t, c.name, line, nil))
		if got := len(res.Alerts) > 0; got != c.fires {
			t.Errorf("%s, %s: fired %v, want %v", c.rule, c.name, got, c.fires)
		}
	}
}

// TestPathsRegex compares the expression of a paths list with path.Clean
// and prefix comparisons over generated spellings: repeated slashes, "."
// segments, trailing slashes, \/ escapes, parents and children of the
// items and their near misses (/etcd, /var/log, /usr/share).
func TestPathsRegex(t *testing.T) {
	items := DefaultLists().Get("sensitive_host_paths").Items
	if len(items) < 10 {
		t.Fatalf("sensitive_host_paths: %v", items)
	}
	sensitive := func(p string) bool {
		p = strings.ReplaceAll(p, `\/`, "/")
		if !strings.HasPrefix(p, "/") {
			return false
		}
		c := path.Clean(p)
		for _, it := range items {
			if c == "/" || c == it || strings.HasPrefix(c, it+"/") || strings.HasPrefix(it, c+"/") {
				return true
			}
		}
		return false
	}
	re := regexp.MustCompile(`^"` + PathsRegex(items) + `"$`)
	words := []string{"etc", "var", "lib", "kubelet", "run", "usr", "bin", "local", "log", "containerd", "containerd.sock",
		"home", "etcd", "proc", "sys", "share", "kubernetes", "pki", "docker", ".", "", "root", "boot", "dev", "x"}
	seps := []string{"/", "/", "/", "//", "/./", `\/`}
	rng := rand.New(rand.NewPCG(4, 4))
	var paths []string
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(5); n >= 0; n-- {
			b.WriteString(seps[rng.IntN(len(seps))])
			b.WriteString(words[rng.IntN(len(words))])
		}
		if rng.IntN(4) == 0 {
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		paths = append(paths, b.String())
	}
	// The review's spellings (finding 4) and their near misses.
	paths = append(paths, "/", "//", "/.", "/etc", "/etc/", "//etc", "/./etc", "/etc/.", "/etc/kubernetes/pki", "/var", "/var/",
		"/var/lib", "/var//lib/kubelet", "/var/lib/kubelet/pki", "/run/containerd/containerd.sock", "/usr", "/usr/local",
		"/var/log", "/var/lib/longhorn", "/etcd", "/etc.d", "/usr/share", "/opt", "/mnt/data", "etc", "relative/var", "/home/user/.ssh")
	hits := 0
	for _, p := range paths {
		got, want := re.MatchString(`"`+p+`"`), sensitive(p)
		if got != want {
			t.Errorf("%q: matched %v, sensitive %v", p, got, want)
		}
		if got {
			hits++
		}
	}
	if hits == 0 || hits == len(paths) {
		t.Fatalf("%d of %d paths matched: the comparison proves nothing", hits, len(paths))
	}
	for _, bad := range []string{"etc", "/var/../etc", `/a"b`, "/var/lib/kubelet(/pki)?"} {
		if _, err := Parse("site.yaml", []byte("lists:\n  sensitive_host_paths:\n    append: ['"+bad+"']\n")); err == nil {
			t.Errorf("path %q accepted", bad)
		}
	}
}

// TestSensitiveHostPathSpellings: the real Falco pod that mounts /etc
// (line 25), with the hostPath written as the kubelet would still mount
// it, or as a parent of a sensitive path (review H finding 4).
func TestSensitiveHostPathSpellings(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var rule *Rule
	for _, r := range set.Rules() {
		if r.Alert == "SensitiveHostPathMounted" {
			rule = r
		}
	}
	falco, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", falcoFile))
	if err != nil {
		t.Fatal(err)
	}
	pod := bytes.Split(falco, []byte("\n"))[24]
	if !bytes.Contains(pod, []byte(`"hostPath":{"path":"/etc"`)) {
		t.Fatal("Falco's line 25 is not the /etc mount")
	}
	for p, want := range map[string]bool{
		"/etc": true, "/etc/kubernetes": true, "/var": true, "/var/lib": true, "//etc": true, "/etc/": true, "/usr": true,
		"/./etc": true, "/var//lib/kubelet": true, "/run/containerd/containerd.sock": true, "/": true, `\/etc`: true,
		"/var/log": false, "/opt/app-data": false, "/etcd-backup": false,
	} {
		line := editLines(t, pod, func(_ int, ev map[string]any) {
			for _, k := range []string{"requestObject", "responseObject"} {
				if obj, ok := ev[k].(map[string]any); ok {
					obj["spec"].(map[string]any)["volumes"].([]any)[0].(map[string]any)["hostPath"].(map[string]any)["path"] = p
				}
			}
		})
		if p == `\/etc` { // as a patch body might hold it
			line = bytes.ReplaceAll(line, []byte(`"\\/etc"`), []byte(`"\/etc"`))
		}
		res := replayEvents(t, singleRuleSet(rule), decodeLines(t, p, line, nil))
		if got := len(res.Alerts) > 0; got != want {
			t.Errorf("hostPath %q: fired %v, want %v", p, got, want)
		}
	}
}

// TestExecTokenPathAnyEncoding: the API server percent-decodes an exec
// request's command whatever the case of the hex digits; kubectl writes /
// as %2F, a hand-made client %2f or / (review H finding 5). Panther's real EKS exec of
// `cat /var/run/secrets/kubernetes.io/serviceaccount/token`, the URI
// re-encoded.
func TestExecTokenPathAnyEncoding(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var rule *Rule
	for _, r := range set.Rules() {
		if r.Alert == "ExecReadsServiceAccountToken" {
			rule = r
		}
	}
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "panther-analysis-kubernetes-rules-tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	exec := bytes.Split(b, []byte("\n"))[44]
	const recorded = "/api/v1/namespaces/production/pods/webapp-pod/exec?command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken&stdout=true"
	if !bytes.Contains(exec, []byte(recorded)) {
		t.Fatal("Panther's line 45 is not the token exec")
	}
	const pod = "/api/v1/namespaces/production/pods/webapp-pod/exec?"
	for uri, want := range map[string]bool{
		recorded:                  true,
		strings.ToLower(recorded): true,
		pod + "command=cat&command=/var/run/secrets/kubernetes.io/serviceaccount/token&stdout=true":                         true,
		pod + "command=sh&command=-c&command=cat+%2Frun%2Fsecrets%2Feks.amazonaws.com%2Fserviceaccount%2Ftoken&stdout=true": true,
		pod + "command=cat&command=%2Fetc%2Fhostname&stdout=true":                                                           false,
		pod + "command=ls&command=%2fvar%2frun%2fsecrets%2fkubernetes.io&stdout=true":                                       false,
	} {
		line := editLines(t, exec, func(_ int, ev map[string]any) {
			ev["requestURI"] = uri
			ev["stageTimestamp"] = "2024-05-02T10:00:00.000000Z"
			ev["auditID"] = uri
		})
		res := replayEvents(t, singleRuleSet(rule), decodeLines(t, "exec", line, nil))
		if got := len(res.Alerts) > 0; got != want {
			t.Errorf("%s: fired %v, want %v", uri, got, want)
		}
	}
	if re := URIStringRegex("a/ b:c"); !regexp.MustCompile("^" + re + "$").MatchString("a%2f+b%3Ac") {
		t.Errorf("URIStringRegex(%q) = %s", "a/ b:c", re)
	}
	// A site file written when token_paths held regular expressions is
	// refused, not read as a literal that never matches.
	if _, err := Parse("site.yaml", []byte("lists:\n  token_paths:\n    append: ['vault(/|%2F)token']\n")); err == nil || !strings.Contains(err.Error(), "site.yaml:3") {
		t.Errorf("a regular expression in token_paths: %v", err)
	}
}

// TestDiscoveryWithQuery: kubectl asks for discovery as /api?timeout=32s
// and /apis/<group>/<version>?timeout=32s; APIDiscoveryBurst matches the
// path, whatever query follows (review H finding 6): audit2rbac's real
// discovery sweep (23 documents), with kubectl's query added, fires, and
// still does not with 11 of them.
func TestDiscoveryWithQuery(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var rule *Rule
	for _, r := range set.Rules() {
		if r.Alert == "APIDiscoveryBurst" {
			rule = r
		}
	}
	b, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", a2rFile))
	if err != nil {
		t.Fatal(err)
	}
	timeout := func(_ int, ev map[string]any) { ev["requestURI"] = ev["requestURI"].(string) + "?timeout=32s" }
	for lines, want := range map[string]bool{"10-32": true, "10-20": false} {
		evs := decodeLines(t, a2rFile, editLines(t, b, timeout), lineSet(t, lines))
		if len(evs) == 0 || !strings.HasSuffix(evs[0].RequestURI, "?timeout=32s") {
			t.Fatalf("lines %s: %d events", lines, len(evs))
		}
		if got := len(replayEvents(t, singleRuleSet(rule), evs).Alerts) > 0; got != want {
			t.Errorf("lines %s with ?timeout=32s: fired %v, want %v", lines, got, want)
		}
	}
}
