package rules

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/testutil"
)

const (
	falcoFile = "falco-legacy-k8s-audit-traces.jsonl"
	a2rFile   = "audit2rbac-demo-v1.jsonl"
)

// realRef names lines of a file under ../shared/realdata/audit.
type realRef struct {
	file  string
	lines string // "3", "10-32"
}

// realFire and realBenign map rules to real events that fire them and
// real near-misses that must not (TestRulesOnRealEvents). Every rule also
// has testdata/fixtures/<Alert>.fire.jsonl and <Alert>.benign.jsonl,
// written for this pack (TestEveryRuleFiresOnItsFixtureAndNotOnItsTwin),
// so a clone without ../shared tests every rule.
var realFire = map[string][]realRef{
	"UnauthorizedAPIAccess":             {{a2rFile, "1-9"}},
	"SecretAccessed":                    {{a2rFile, "37"}},
	"RBACModification":                  {{falcoFile, "2"}},
	"PodExecDetected":                   {{falcoFile, "48"}},
	"ImpersonationUsed":                 {{a2rFile, "1"}},
	"APIDiscoveryBurst":                 {{a2rFile, "10-32"}},
	"ForbiddenBurst":                    {{a2rFile, "1-9"}},
	"AnonymousRequestAllowed":           {{falcoFile, "1"}},
	"PodAttachDetected":                 {{falcoFile, "3"}},
	"PrivilegedPodCreated":              {{falcoFile, "21"}, {falcoFile, "23"}},
	"HostNetworkPodCreated":             {{falcoFile, "20"}},
	"SensitiveHostPathMounted":          {{falcoFile, "25"}, {falcoFile, "26"}},
	"NodePortServiceCreated":            {{falcoFile, "29"}},
	"WildcardRoleCreated":               {{falcoFile, "5"}, {falcoFile, "6"}},
	"SystemClusterRoleModified":         {{falcoFile, "39"}, {falcoFile, "50"}},
	"BootstrapTokenCreated":             {{falcoFile, "19"}},
	"ClusterAdminBindingCreated":        {{falcoFile, "2"}},
	"ServiceAccountCreatedInKubeSystem": {{falcoFile, "38"}},
}

var realBenign = map[string][]realRef{
	"UnauthorizedAPIAccess":             {{a2rFile, "3"}},
	"SecretAccessed":                    {{a2rFile, "36"}},
	"RBACModification":                  {{falcoFile, "10"}},
	"PodExecDetected":                   {{falcoFile, "3"}},
	"ImpersonationUsed":                 {{falcoFile, "2"}},
	"APIDiscoveryBurst":                 {{a2rFile, "10-20"}},
	"ForbiddenBurst":                    {{a2rFile, "1-4"}},
	"PrivilegedIdentityImpersonated":    {{a2rFile, "1-9"}},
	"PodAttachDetected":                 {{falcoFile, "48"}},
	"ExecIntoKubeSystem":                {{falcoFile, "48"}},
	"PrivilegedPodCreated":              {{falcoFile, "22"}},
	"HostNetworkPodCreated":             {{falcoFile, "22"}},
	"SensitiveHostPathMounted":          {{falcoFile, "22"}},
	"PodCreatedInKubeSystem":            {{falcoFile, "32"}},
	"NodePortServiceCreated":            {{falcoFile, "30"}},
	"ClusterAdminBindingCreated":        {{falcoFile, "9"}},
	"WildcardRoleCreated":               {{falcoFile, "7"}, {falcoFile, "8"}},
	"RoleGrantsEscalationVerbs":         {{falcoFile, "7"}},
	"RoleGrantsTokenCreation":           {{falcoFile, "4"}},
	"SystemClusterRoleModified":         {{falcoFile, "40"}},
	"ServiceAccountTokenSecretCreated":  {{falcoFile, "35"}},
	"BootstrapTokenCreated":             {{falcoFile, "33"}},
	"CredentialsInConfigMap":            {{falcoFile, "10"}, {falcoFile, "11"}, {falcoFile, "12"}, {falcoFile, "16"}},
	"ServiceAccountCreatedInKubeSystem": {{falcoFile, "36"}},
}

// fixtureSet is one batch of events to evaluate a rule over.
type fixtureSet struct {
	name   string
	events []data.Event
}

// decodeLines decodes the lines want selects (nil: every line), sorted by
// time.
func decodeLines(t testing.TB, name string, content []byte, want func(line int) bool) []data.Event {
	t.Helper()
	out := decodeSelected(t, name, content, want)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out
}

// decodeSelected decodes the lines want selects (nil: every line), in
// file order.
func decodeSelected(t testing.TB, name string, content []byte, want func(line int) bool) []data.Event {
	t.Helper()
	info := &data.SourceInfo{Name: name, Labels: data.Labels{{Name: "job", Value: "audit"}, {Name: "filename", Value: name}}}
	var dec data.Decoder
	var out []data.Event
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if want != nil && !want(line) {
			continue
		}
		buf := append([]byte(nil), sc.Bytes()...)
		evs, rej := dec.Decode(nil, buf, data.Origin{Source: info, Line: int64(line)})
		if rej != nil {
			t.Fatalf("%s", rej.Error())
		}
		for i := range evs {
			out = append(out, evs[i].Clone())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func lineSet(t testing.TB, spec string) func(int) bool {
	t.Helper()
	lo, hi, ok := strings.Cut(spec, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		t.Fatalf("bad line spec %q", spec)
	}
	b := a
	if ok {
		if b, err = strconv.Atoi(hi); err != nil {
			t.Fatalf("bad line spec %q", spec)
		}
	}
	return func(n int) bool { return n >= a && n <= b }
}

// ownFixtures returns testdata/fixtures/<alert>.<kind>.jsonl (none when
// the file is missing).
func ownFixtures(t *testing.T, alert, kind string) []fixtureSet {
	t.Helper()
	own := filepath.Join("testdata", "fixtures", alert+"."+kind+".jsonl")
	b, err := os.ReadFile(own)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return []fixtureSet{{name: own, events: decodeLines(t, own, b, nil)}}
}

// realFixtures returns the real events refs name.
func realFixtures(t *testing.T, refs []realRef) []fixtureSet {
	t.Helper()
	var out []fixtureSet
	dir := filepath.Join(testutil.RealData(t), "audit")
	for _, ref := range refs {
		b, err := os.ReadFile(filepath.Join(dir, ref.file))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixtureSet{name: ref.file + ":" + ref.lines, events: decodeLines(t, ref.file, b, lineSet(t, ref.lines))})
	}
	return out
}

// checkFiresAndTwins replays each fixture set with only rule r: every
// firing set raises r with the rule's labels and the set's own auditIDs,
// no benign set raises anything.
func checkFiresAndTwins(t *testing.T, r *Rule, fires, benign []fixtureSet) {
	t.Helper()
	one := singleRuleSet(r)
	for _, fx := range fires {
		res := replayEvents(t, one, fx.events)
		if len(res.Alerts) == 0 {
			t.Errorf("%s did not fire on %s (%d events)", r.Alert, fx.name, len(fx.events))
			continue
		}
		ids := map[string]bool{}
		for _, e := range fx.events {
			ids[e.AuditID] = true
		}
		for _, a := range res.Alerts {
			if a.Events == 0 || len(a.AuditIDs) == 0 {
				t.Errorf("%s on %s: alert without contributing events: %+v", r.Alert, fx.name, a)
			}
			for _, id := range a.AuditIDs {
				if !ids[id] {
					t.Errorf("%s on %s: sample auditID %s is not from the fixture", r.Alert, fx.name, id)
				}
			}
			if a.Labels["severity"] != r.Severity() || a.Labels["mitre_technique"] == "" {
				t.Errorf("%s: labels %v lack the rule's labels", r.Alert, a.Labels)
			}
			if strings.Contains(a.Annotations["description"], "<no value>") || strings.Contains(a.Annotations["description"], "<error") {
				t.Errorf("%s: description %q", r.Alert, a.Annotations["description"])
			}
		}
	}
	for _, fx := range benign {
		res := replayEvents(t, one, fx.events)
		for _, a := range res.Alerts {
			t.Errorf("%s fired on benign %s: %s", r.Alert, fx.name, LabelsString(a.Labels))
		}
	}
}

// singleRuleSet returns a set holding only rule r (sharing its group's
// interval).
func singleRuleSet(r *Rule) *Set {
	g := *r.Group
	g.Rules = []*Rule{r}
	return &Set{Groups: []*Group{&g}}
}

// sliceStream serves events in batches of n.
type sliceStream struct {
	evs []data.Event
	n   int
}

func (s *sliceStream) Next(ctx context.Context) (*data.Batch, error) {
	if len(s.evs) == 0 {
		return nil, io.EOF
	}
	k := min(s.n, len(s.evs))
	b := &data.Batch{Events: s.evs[:k]}
	s.evs = s.evs[k:]
	return b, nil
}

func (s *sliceStream) Close() error { return nil }

func replayEvents(t testing.TB, set *Set, evs []data.Event) *Result {
	t.Helper()
	res, err := Replay(context.Background(), &sliceStream{evs: evs, n: 7}, set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// liveAlerts pushes evs one by one into a live evaluator of set and
// returns its alerts at the end.
func liveAlerts(t *testing.T, set *Set, evs []data.Event) []*Alert {
	t.Helper()
	ev, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		ev.Push(&evs[i])
	}
	return ev.Finish()
}

func TestEveryRuleFiresOnItsFixtureAndNotOnItsTwin(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, r := range set.Rules() {
		for _, kind := range []string{"fire", "benign"} {
			used[filepath.Join("testdata", "fixtures", r.Alert+"."+kind+".jsonl")] = true
		}
		t.Run(r.Alert, func(t *testing.T) {
			fires := ownFixtures(t, r.Alert, "fire")
			benign := ownFixtures(t, r.Alert, "benign")
			if len(fires) == 0 || len(benign) == 0 {
				t.Fatalf("%s needs testdata/fixtures/%[1]s.fire.jsonl and %[1]s.benign.jsonl (have %d and %d)", r.Alert, len(fires), len(benign))
			}
			checkFiresAndTwins(t, r, fires, benign)
		})
	}
	// Every fixture file belongs to a rule of the pack.
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.jsonl"))
	for _, f := range files {
		if !used[f] {
			t.Errorf("fixture %s is not used by any rule", f)
		}
	}
}

// TestRulesOnRealEvents: the rules that real data has events for fire on
// them, and stay silent on the real near-misses.
func TestRulesOnRealEvents(t *testing.T) {
	testutil.RealData(t)
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Rule{}
	for _, r := range set.Rules() {
		byName[r.Alert] = r
	}
	for _, m := range []map[string][]realRef{realFire, realBenign} {
		for name := range m {
			if byName[name] == nil {
				t.Errorf("real fixtures name %s, which the pack does not have", name)
			}
		}
	}
	for _, r := range set.Rules() {
		if realFire[r.Alert] == nil && realBenign[r.Alert] == nil {
			continue
		}
		t.Run(r.Alert, func(t *testing.T) {
			checkFiresAndTwins(t, r, realFixtures(t, realFire[r.Alert]), realFixtures(t, realBenign[r.Alert]))
		})
	}
}

// TestForAndResolution checks pending -> firing -> resolved with `for`,
// and that a replay keeps stepping after the last event.
func TestForAndResolution(t *testing.T) {
	set, err := LoadFile(filepath.Join("testdata", "rules", "with-record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Three deletes by bob in the same minute, then nothing: the count in
	// the 5m window stays 3 for 5 minutes; with `for: 1m` the alert fires
	// at the second step that sees it, and resolves once the window
	// empties.
	base := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC)
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/pods/p%d","verb":"delete","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"a","name":"p%d","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":%q}`,
			i, i, i, base.Add(time.Duration(i)*10*time.Second).Format(time.RFC3339Nano)))
	}
	// One delete by carol: below the threshold.
	lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"c-1","stage":"ResponseComplete","requestURI":"/x","verb":"delete","user":{"username":"carol"},"responseStatus":{"code":200},"stageTimestamp":%q}`, base.Format(time.RFC3339Nano)))
	evs := decodeLines(t, "for.jsonl", []byte(strings.Join(lines, "\n")), nil)
	var changes []string
	res, err := Replay(context.Background(), &sliceStream{evs: evs, n: 2}, set, Options{OnChange: func(a *Alert) {
		changes = append(changes, a.State.String()+"@"+a.LastActive.Format("15:04:05"))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 1 {
		t.Fatalf("got %d alerts, want 1: %+v", len(res.Alerts), res.Alerts)
	}
	a := res.Alerts[0]
	at := func(s string) time.Time {
		tt, _ := time.Parse(time.RFC3339, "2026-03-01T"+s+"Z")
		return tt
	}
	// Steps every 30s: 10:00:30 sees all three deletes (activeAt),
	// 10:01:30 is 1m later (firing); the window (t-5m, t] holds the last
	// delete (10:00:30) until 10:05:30, so 10:05:00 is the last active
	// step where the count is > 2 ... the first delete (10:00:10) leaves
	// at 10:05:10, so the last step with three is 10:05:00.
	if !a.ActiveAt.Equal(at("10:00:30")) || !a.FiredAt.Equal(at("10:01:30")) || !a.LastActive.Equal(at("10:05:00")) || !a.ResolvedAt.Equal(at("10:05:30")) {
		t.Errorf("times: active %v fired %v last %v resolved %v", a.ActiveAt, a.FiredAt, a.LastActive, a.ResolvedAt)
	}
	if a.Value != 3 || a.Events != 3 || strings.Join(a.AuditIDs, ",") != "id-0,id-1,id-2" {
		t.Errorf("value %v events %d ids %v", a.Value, a.Events, a.AuditIDs)
	}
	if a.Annotations["summary"] != "bob deleted 3 objects" || a.Labels["team"] != "bob-team" || a.Severity != "critical" {
		t.Errorf("rendered: %v %v", a.Annotations, a.Labels)
	}
	if strings.Join(changes, " ") != "firing@10:01:30 resolved@10:05:00" {
		t.Errorf("changes = %v", changes)
	}
}

// TestAnnotationsFollowTheValue: a firing instance's annotations are
// rendered with its latest value, also when the value changes after the
// alert fired (rendering is skipped only while the value stays the same).
func TestAnnotationsFollowTheValue(t *testing.T) {
	set, err := LoadFile(filepath.Join("testdata", "rules", "with-record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC)
	// Three deletes by bob in the first minute (the alert fires at
	// 10:01:30 with 3), two more at 10:02:10 and 10:02:20: from 10:02:30
	// the window holds 5, until the first three leave it.
	offsets := []time.Duration{0, 10 * time.Second, 20 * time.Second, 2 * time.Minute, 2*time.Minute + 10*time.Second}
	var lines []string
	for i, off := range offsets {
		lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/pods/p%d","verb":"delete","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"a","name":"p%d","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":%q}`,
			i, i, i, base.Add(off).Format(time.RFC3339Nano)))
	}
	evs := decodeLines(t, "value.jsonl", []byte(strings.Join(lines, "\n")), nil)
	var fired []string
	res, err := Replay(context.Background(), &sliceStream{evs: evs, n: 1}, set, Options{OnChange: func(a *Alert) {
		fired = append(fired, a.State.String()+": "+a.Annotations["summary"]+" / "+a.Annotations["shout"])
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 1 {
		t.Fatalf("got %d alerts, want 1: %+v", len(res.Alerts), res.Alerts)
	}
	a := res.Alerts[0]
	if a.Value != 5 || a.MaxValue != 5 {
		t.Fatalf("value %v max %v, want 5", a.Value, a.MaxValue)
	}
	if a.Annotations["summary"] != "bob deleted 5 objects" || a.Annotations["shout"] != "BOB (5)" {
		t.Errorf("annotations rendered with a stale value: %v", a.Annotations)
	}
	if want := "firing: bob deleted 3 objects / BOB (3)|resolved: bob deleted 5 objects / BOB (5)"; strings.Join(fired, "|") != want {
		t.Errorf("changes:\n got %s\nwant %s", strings.Join(fired, "|"), want)
	}
}

// TestDrillDownSelectsTheAlertsEvents runs each alert's drill-down query
// over the fixture it fired on: it must select exactly the events counted.
func TestDrillDownSelectsTheAlertsEvents(t *testing.T) {
	set, err := LoadFile(filepath.Join("testdata", "rules", "with-record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC)
	var lines []string
	for i, user := range []string{"bob", "bob", "bob", "eve", "eve", "eve", "eve", "bob"} {
		lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/x","verb":"delete","user":{"username":%q},"objectRef":{"resource":"pods","namespace":"a","name":"p","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":%q}`,
			i, user, base.Add(time.Duration(i)*7*time.Second).Format(time.RFC3339Nano)))
	}
	evs := decodeLines(t, "dd.jsonl", []byte(strings.Join(lines, "\n")), nil)
	res := replayEvents(t, set, evs)
	if len(res.Alerts) != 2 {
		t.Fatalf("got %d alerts, want bob and eve", len(res.Alerts))
	}
	for _, a := range res.Alerts {
		q, from, to := a.DrillDown()
		lq, err := logql.ParseLog(q)
		if err != nil {
			t.Fatalf("drill-down query %q: %v", q, err)
		}
		var ids []string
		for i := range evs {
			if evs[i].Time >= from.UnixNano() && evs[i].Time < to.UnixNano() && lq.Matches(&evs[i]) {
				ids = append(ids, evs[i].AuditID)
			}
		}
		if len(ids) != a.Events || strings.Join(ids, ",") != strings.Join(a.AuditIDs, ",") {
			t.Errorf("%s: drill-down %q selects %v, the alert counted %d: %v", a.Labels["user_username"], q, ids, a.Events, a.AuditIDs)
		}
	}
}

func TestGroupLimit(t *testing.T) {
	set, err := Parse("limit.yaml", []byte(`groups:
  - name: g
    limit: 1
    rules:
      - alert: Deletes
        expr: sum by (user_username) (count_over_time({job="audit"} | json | verb="delete" [5m])) > 0
`))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC)
	mk := func(i int, user string, at time.Time) string {
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/x","verb":"delete","user":{"username":%q},"responseStatus":{"code":200},"stageTimestamp":%q}`, i, user, at.Format(time.RFC3339Nano))
	}
	// One user: within the limit. Two users at once: over it, no alerts.
	one := decodeLines(t, "one", []byte(mk(1, "bob", base)), nil)
	if res := replayEvents(t, set, one); len(res.Alerts) != 1 {
		t.Fatalf("one series: %d alerts", len(res.Alerts))
	}
	two := decodeLines(t, "two", []byte(mk(1, "bob", base)+"\n"+mk(2, "eve", base)), nil)
	if res := replayEvents(t, set, two); len(res.Alerts) != 0 {
		t.Fatalf("over the limit: %d alerts", len(res.Alerts))
	}
}

// TestLateEventsAreCounted: replay takes any order; an evaluator that
// has to evaluate as it goes (live, or over its memory budget) reports the
// events that came after the steps covering them had run.
func TestLateEventsAreCounted(t *testing.T) {
	set, err := LoadFile(filepath.Join("testdata", "rules", "with-record.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", "MassDeletion.fire.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, "late", b, nil) // sorted by time
	sorted := replayEvents(t, set, evs)
	if sorted.Late != 0 || len(sorted.Alerts) == 0 {
		t.Fatalf("sorted input: %d late, %d alerts", sorted.Late, len(sorted.Alerts))
	}
	// Replay: the first event moved to the end changes nothing.
	moved := slices.Concat(evs[1:], evs[:1])
	if res := replayEvents(t, set, moved); res.Late != 0 || alertsDigest(res.Alerts) != alertsDigest(sorted.Alerts) {
		t.Fatalf("replay of reordered input: %d late\n%s", res.Late, diffLines(alertsDigest(sorted.Alerts), alertsDigest(res.Alerts)))
	}
	// Live: the steps a day after the rest ran when a day-late event
	// came; the events after it are late (and reported).
	evs[1].Time += int64(24 * time.Hour)
	ev, err := NewEvaluator(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		ev.Push(&evs[i])
	}
	if ev.Late() != int64(len(evs)-2) {
		t.Fatalf("live: late = %d of %d", ev.Late(), len(evs))
	}
	// Replay over its memory budget behaves the same, a minute behind.
	if res := replayWith(t, set, evs, Options{MaxRetained: 1}); res.Late != int64(len(evs)-2) {
		t.Fatalf("replay over budget: late = %d of %d", res.Late, len(evs))
	}
}

// TestDrillDownOfAGroupWithoutItsLabel (review M 11): the instance of
// unauthenticated requests under `by (user_username)` has no user label
// (Prometheus drops an empty one); its drill-down had no user filter and
// selected every user's events. It filters user_username="" now, and
// selects exactly the events counted.
func TestDrillDownOfAGroupWithoutItsLabel(t *testing.T) {
	set, err := Parse("anon.yaml", []byte(`groups:
  - name: g
    rules:
      - alert: Deletes
        expr: sum by (user_username) (count_over_time({job="audit"} | json | verb="delete" [5m])) > 0
`))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC)
	var lines []string
	for i, user := range []string{"bob", "", "", "bob", ""} {
		lines = append(lines, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/x","verb":"delete","user":{"username":%q},"objectRef":{"resource":"pods","namespace":"a","name":"p","apiVersion":"v1"},"responseStatus":{"code":200},"stageTimestamp":%q}`,
			i, user, base.Add(time.Duration(i)*7*time.Second).Format(time.RFC3339Nano)))
	}
	evs := decodeLines(t, "anon.jsonl", []byte(strings.Join(lines, "\n")), nil)
	res := replayEvents(t, set, evs)
	if len(res.Alerts) != 2 {
		t.Fatalf("got %d alerts, want bob and the unauthenticated", len(res.Alerts))
	}
	anon := 0
	for _, a := range res.Alerts {
		q, from, to := a.DrillDown()
		if _, has := a.Labels["user_username"]; !has {
			anon++
			if !strings.HasSuffix(q, ` | user_username=""`) {
				t.Errorf("drill-down of the unauthenticated: %q", q)
			}
		}
		lq, err := logql.ParseLog(q)
		if err != nil {
			t.Fatalf("drill-down query %q: %v", q, err)
		}
		var ids []string
		for i := range evs {
			if evs[i].Time >= from.UnixNano() && evs[i].Time < to.UnixNano() && lq.Matches(&evs[i]) {
				ids = append(ids, evs[i].AuditID)
			}
		}
		if len(ids) != a.Events || strings.Join(ids, ",") != strings.Join(a.AuditIDs, ",") {
			t.Errorf("%q: drill-down %q selects %v, the alert counted %d: %v", a.Labels["user_username"], q, ids, a.Events, a.AuditIDs)
		}
	}
	if anon != 1 {
		t.Errorf("%d alerts without a user label", anon)
	}
}
