package auditpolicy

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
)

// allDetections is the built-in pack and the seed's rules.
func allDetections(t *testing.T) []Detection {
	t.Helper()
	set, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return append(DetectionsFromRules(set), seedDetectionsForTest(t)...)
}

// A request the query model rules out is one no event the query selects
// comes from: for every fixture and real event a rule selects, the model
// admits the request the apiserver evaluated the policy with (Attributes,
// the probe lint would have asked).
func TestQueryModelAdmitsWhatQueryMatches(t *testing.T) {
	dets := allDetections(t)
	forEachDataSet(t, func(t *testing.T, ds dataSet) {
		checked := 0
		for _, l := range ds.lines(t) {
			e := decodeEvent(t, l)
			attrs := requestAttributes(&e)
			for i := range dets {
				d := &dets[i]
				if !d.Matches(&e) {
					continue
				}
				checked++
				if !d.admitsProbe(attrs) {
					t.Errorf("%s: %s selects the event, but its query model rules out the request %s by %s",
						l.where, d.Name, describeProbe(attrs, true), attrs.User.GetName())
				}
			}
		}
		if checked == 0 {
			t.Fatal("no event matched any rule: the check is vacuous")
		}
		t.Logf("%d (event, rule) matches checked", checked)
	})
}

// blindKey is an alert rule and the policy rule (-1: none) that loses its
// events.
type blindKey struct {
	alert string
	rule  int
}

// TestLintAgreesWithCheck: lint and check say the same about the same
// policy. Every alert rule that check shows losing an event under policy
// rule R (replaying the fixtures, the rule pack's fire and benign events
// and the real logs) is reported by lint as blinded by R; and no alert lint
// says can never fire is seen by check firing on an event the policy logs
// as it needs.
func TestLintAgreesWithCheck(t *testing.T) {
	dets := allDetections(t)
	forEachDataSet(t, func(t *testing.T, ds dataSet) {
		lines := fixtureLines(t)
		if ds.policies(t)[0] != seedPolicy(t) {
			lines = append(lines, ds.lines(t)...)
		}
		events := make([]eventOf, len(lines))
		for i, l := range lines {
			events[i] = eventOf{where: l.where, e: decodeEvent(t, l)}
		}
		lost := 0
		for _, f := range ds.policies(t) {
			t.Run(filepath.Base(f), func(t *testing.T) {
				lost += lintAgreesWithCheck(t, mustLoad(t, f), dets, events)
			})
		}
		if lost == 0 {
			t.Fatal("check lost no event under any policy: the comparison is vacuous")
		}
	})
}

type eventOf struct {
	where string
	e     data.Event
}

func lintAgreesWithCheck(t *testing.T, p *Policy, dets []Detection, events []eventOf) int {
	lintSays := map[blindKey]bool{}
	neverFires := map[string]string{}
	for _, f := range findingsWith(Lint(p, LintOptions{Detections: dets}), CodeBlindsDetection) {
		name, _, _ := strings.Cut(strings.TrimPrefix(f.Message, "alert "), " ")
		lintSays[blindKey{name, f.Rule}] = true
		if strings.Contains(f.Message, " can never fire ") {
			neverFires[name] = f.Message
		}
	}
	byName := map[string]*Detection{}
	for i := range dets {
		byName[dets[i].Name] = &dets[i]
	}
	chk := NewChecker(p, CheckOptions{Detections: dets})
	checkSays := map[blindKey]string{}
	for i := range events {
		ev := &events[i]
		r := chk.Add(&ev.e)
		for _, a := range r.LostAlerts {
			k := blindKey{a, r.Rule}
			if checkSays[k] == "" {
				checkSays[k] = ev.where
			}
		}
		if ev.e.Time == 0 || r.StageOmitted && finalStage(ev.e.Stage) {
			continue
		}
		if len(ev.e.Groups) == 0 {
			// The apiserver puts every request's user in
			// system:authenticated or system:unauthenticated; lint's
			// "any user" has one of them. An event without groups (a
			// hand-written fixture) is not a request lint reasons about.
			continue
		}
		for name, msg := range neverFires {
			d := byName[name]
			if LevelRank(r.Level) >= LevelRank(d.NeedsLevel) && d.Matches(&ev.e) {
				t.Errorf("%s: lint says %q, but the policy logs this event of it at %s (rule %d)", ev.where, msg, r.Level, r.Rule)
				delete(neverFires, name)
			}
		}
	}
	var missing []string
	for k, where := range checkSays {
		if !lintSays[k] {
			missing = append(missing, fmt.Sprintf("%s loses %s (%s) but lint does not say so", ruleName(k.rule), k.alert, where))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
	t.Logf("check: %d (alert, rule) losses; lint: %d blinds-detection findings, %d alerts that can never fire",
		len(checkSays), len(lintSays), len(neverFires))
	return len(checkSays)
}

// requestAttributes are the attributes check evaluates an event with.
func requestAttributes(e *data.Event) authorizer.AttributesRecord {
	return Attributes(e).(authorizer.AttributesRecord)
}

// blindsOf returns the blinds-detection findings about alert name.
func blindsOf(fs []Finding, name string) []Finding {
	var out []Finding
	for _, f := range findingsWith(fs, CodeBlindsDetection) {
		if strings.HasPrefix(f.Message, "alert "+name+" ") {
			out = append(out, f)
		}
	}
	return out
}

// Review H finding 7: a rule that drops requests an alert can never select
// does not blind it. testdata/drops-events.yaml drops events and health
// checks and logs Kyverno and Gatekeeper writes at RequestResponse.
func TestLintBlindsOnlyWhatTheAlertSelects(t *testing.T) {
	fs := Lint(mustLoad(t, filepath.Join("testdata", "drops-events.yaml")), LintOptions{Detections: allDetections(t)})
	for _, name := range []string{"PolicyEngineRuleWeakened", "KyvernoPolicyRemoved", "GatekeeperPolicyRemoved"} {
		if got := blindsOf(fs, name); len(got) > 0 {
			t.Errorf("%s is blinded by requests it can never select:\n%s", name, dump(got))
		}
	}
	for _, name := range []string{"APIDiscoveryBurst", "AnonymousRequestAllowed"} {
		for _, f := range blindsOf(fs, name) {
			if f.Rule == 1 {
				t.Errorf("%s is blinded by /healthz, /version, /livez, /readyz, which its requestURI filter excludes: %s", name, f.Message)
			}
		}
	}
	// What the policy does blind is still said.
	want := []struct {
		name string
		rule int
		sev  string
		msg  string
	}{
		{"EventsDeleted", 0, SevError, "can never fire (it needs its events at Metadata or above): rule 0 logs delete events; deletecollection events at None"},
		{"UnauthorizedAPIAccess", 0, SevInfo, "rule 0 logs create events;"},
		{"PrivilegedPodCreated", 3, SevError, "rule 3 logs create pods at Metadata"},
	}
	for _, w := range want {
		ok := false
		for _, f := range blindsOf(fs, w.name) {
			ok = ok || f.Rule == w.rule && f.Severity == w.sev && strings.Contains(f.Message, w.msg)
		}
		if !ok {
			t.Errorf("want %s %s at rule %d containing %q; got:\n%s", w.sev, w.name, w.rule, w.msg, dump(blindsOf(fs, w.name)))
		}
	}
}

// On the GCE policy, rules that drop requests of users or groups an alert's
// user filter excludes, or of resources of other API groups, do not blind
// it (review H finding 7: 122 findings, most of them of this kind).
func TestLintBlindsGCEPolicy(t *testing.T) {
	var gce string
	for _, f := range testutil.RealPolicyFiles(t) {
		if filepath.Base(f) == "gce-configure-helper.yaml" {
			gce = f
		}
	}
	if gce == "" {
		t.Fatal("gce-configure-helper.yaml is not among the real policies")
	}
	fs := Lint(mustLoad(t, gce), LintOptions{Detections: allDetections(t)})
	for _, name := range []string{"ClusterIdentityUsedFromOutside", "ServiceAccountHumanClient"} {
		for _, f := range blindsOf(fs, name) {
			for _, u := range []string{"for user kubelet", "for user system:apiserver", "for user system:kube-proxy"} {
				if strings.Contains(f.Message, u) {
					t.Errorf("%s: blinded %s, whom its user_username filter excludes: %s", name, u, f.Message)
				}
			}
		}
	}
	for _, name := range []string{"KyvernoPolicyRemoved", "GatekeeperPolicyRemoved"} {
		if got := blindsOf(fs, name); len(got) > 0 {
			t.Errorf("%s is blinded by rules about other API groups:\n%s", name, dump(got))
		}
	}
	// The policy logs secrets and configmaps at Metadata and drops events:
	// those alerts never fire, and lint says so.
	for _, name := range []string{"CredentialsInConfigMap", "ServiceAccountTokenSecretCreated", "EventsDeleted"} {
		ok := false
		for _, f := range blindsOf(fs, name) {
			ok = ok || f.Severity == SevError && strings.Contains(f.Message, "can never fire")
		}
		if !ok {
			t.Errorf("%s: want an error saying it can never fire; got:\n%s", name, dump(blindsOf(fs, name)))
		}
	}
}

// An alert that can never fire is said so on the rules that blind it for
// every user, not on one that drops only some user's requests (review H
// finding 7, wrong attribution): adding a rule before the anonymous one
// would not make PodExecDetected fire.
func TestLintNeverFiresOnTheRuleThatBlindsEveryone(t *testing.T) {
	p, err := Parse("p.yaml", []byte(head+`omitStages: [RequestReceived]
rules:
- level: None
  users: [system:anonymous]
- level: Metadata
  resources: [{group: "", resources: [pods/exec]}]
  omitStages: [ResponseStarted, ResponseComplete]
- level: Metadata
`))
	if err != nil {
		t.Fatal(err)
	}
	fs := blindsOf(Lint(p, LintOptions{Detections: seedDetectionsForTest(t)}), "PodExecDetected")
	bySev := map[int]string{}
	for _, f := range fs {
		bySev[f.Rule] = f.Severity
	}
	if bySev[1] != SevError || bySev[0] != SevWarning || len(fs) != 2 {
		t.Fatalf("want an error on rule 1 (omits the stages for everyone) and a warning on rule 0 (anonymous only); got:\n%s", dump(fs))
	}
	for _, f := range fs {
		if f.Rule == 0 && strings.Contains(f.Message, "can never fire") {
			t.Errorf("rule 0 is blamed for never firing: %s", f.Message)
		}
	}
}
