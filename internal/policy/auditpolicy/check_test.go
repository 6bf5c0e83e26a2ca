package auditpolicy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

func decodeLine(t *testing.T, line string) data.Event {
	t.Helper()
	return decodeEvent(t, realLine{where: "test", raw: []byte(line)})
}

const (
	reqBody  = `"requestObject":{"kind":"Secret","data":{"password":"aHVudGVyMg=="}},`
	respBody = `"responseObject":{"kind":"Secret","metadata":{"name":"db"}},`
)

func secretEvent(level, verb, stage, bodies string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"` + level + `","auditID":"id-` + verb + `","stage":"` + stage +
		`","requestURI":"/api/v1/namespaces/prod/secrets/db","verb":"` + verb + `","user":{"username":"alice","groups":["dev"]},` +
		`"objectRef":{"resource":"secrets","namespace":"prod","name":"db","apiVersion":"v1"},` + bodies +
		`"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-20T08:00:00.000000Z","stageTimestamp":"2026-11-20T08:00:00.100000Z"}`
}

func TestCheckBytesAndLevels(t *testing.T) {
	pol, err := Parse("p.yaml", []byte(head+`omitStages: [RequestReceived]
rules:
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
  verbs: [get]
- level: Request
  resources: [{group: "", resources: [secrets]}]
  verbs: [update]
- level: None
  resources: [{group: "", resources: [secrets]}]
  verbs: [delete]
- level: RequestResponse
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, line string
		level      string
		rule       int
		after      string // the line as the policy would log it ("" = not logged)
		cannotUp   bool
		omitted    bool
	}{
		{"RequestResponse kept at Metadata loses both bodies",
			secretEvent("RequestResponse", "get", "ResponseComplete", reqBody+respBody), "Metadata", 0,
			secretEvent("RequestResponse", "get", "ResponseComplete", ""), false, false},
		{"RequestResponse kept at Request loses the response",
			secretEvent("RequestResponse", "update", "ResponseComplete", reqBody+respBody), "Request", 1,
			secretEvent("RequestResponse", "update", "ResponseComplete", reqBody), false, false},
		{"None drops the event",
			secretEvent("Metadata", "delete", "ResponseComplete", ""), "None", 2, "", false, false},
		{"Metadata asked for RequestResponse cannot upgrade",
			secretEvent("Metadata", "list", "ResponseComplete", ""), "RequestResponse", 3,
			secretEvent("Metadata", "list", "ResponseComplete", ""), true, false},
		{"omitted stage",
			secretEvent("Metadata", "list", "RequestReceived", ""), "RequestResponse", 3, "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chk := NewChecker(pol, CheckOptions{})
			e := decodeLine(t, c.line)
			r := chk.Add(&e)
			if r.Level != c.level || r.Rule != c.rule || r.CannotUpgrade != c.cannotUp || r.StageOmitted != c.omitted {
				t.Fatalf("result %+v", r)
			}
			if r.Bytes != int64(len(c.line)+1) {
				t.Fatalf("bytes %d, want %d", r.Bytes, len(c.line)+1)
			}
			want := int64(0)
			if c.after != "" {
				want = int64(len(c.after) + 1)
			}
			if r.BytesAfter != want {
				t.Fatalf("bytesAfter %d, want %d", r.BytesAfter, want)
			}
			rep := chk.Report()
			if rep.Rules[c.rule].Events != 1 || rep.Rules[c.rule].BytesAfter != want || rep.BytesAfter != want {
				t.Fatalf("report %+v", rep)
			}
		})
	}
}

func TestCheckAgainstAndLostAlerts(t *testing.T) {
	newPol, err := Parse("new.yaml", []byte(head+`omitStages: [RequestReceived]
rules:
- level: None
  resources: [{group: "", resources: [secrets]}]
  verbs: [get]
- level: Metadata
`))
	if err != nil {
		t.Fatal(err)
	}
	oldPol := mustLoad(t, seedPolicy(t))
	chk := NewChecker(newPol, CheckOptions{Against: oldPol, Detections: seedDetectionsForTest(t)})
	lines := []string{
		secretEvent("Metadata", "get", "ResponseComplete", ""),
		secretEvent("Metadata", "get", "ResponseComplete", ""),
		secretEvent("Metadata", "list", "ResponseComplete", ""),
	}
	var lost []string
	for _, l := range lines {
		e := decodeLine(t, l)
		r := chk.Add(&e)
		lost = append(lost, strings.Join(r.LostAlerts, ","))
		if r.OldRule == nil || *r.OldRule != 0 || r.OldLevel != "Metadata" {
			t.Fatalf("old decision %+v", r)
		}
	}
	if strings.Join(lost, "|") != "SecretAccessed|SecretAccessed|" {
		t.Fatalf("lost alerts per event: %q", lost)
	}
	rep := chk.Report()
	var secret DetectionStats
	for _, d := range rep.Detections {
		if d.Name == "SecretAccessed" {
			secret = d
		}
	}
	if secret.Matched != 3 || secret.Lost != 2 {
		t.Fatalf("SecretAccessed stats %+v", secret)
	}
	if len(rep.Changes) != 1 || rep.Changes[0] != (Change{OldRule: 0, OldLevel: "Metadata", NewRule: 0, NewLevel: "None", Events: 2}) {
		t.Fatalf("changes %+v", rep.Changes)
	}
	if rep.SpanSeconds != 0 || rep.BytesPerDayAfter != 0 {
		t.Fatalf("span of identical times: %+v", rep)
	}
}

// Over every policy and event: sizes never grow, dropped events weigh
// nothing, and "cannot upgrade" is exactly "policy level above captured".
func TestCheckInvariants(t *testing.T) {
	forEachDataSet(t, func(t *testing.T, ds dataSet) { checkInvariants(t, ds.policies(t), ds.lines(t)) })
}

func checkInvariants(t *testing.T, policies []string, lines []realLine) {
	for _, f := range policies {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := mustLoad(t, f)
			chk := NewChecker(p, CheckOptions{Detections: seedDetectionsForTest(t)})
			for _, l := range lines {
				e := decodeEvent(t, l)
				r := chk.Add(&e)
				if r.BytesAfter > r.Bytes || r.BytesAfter < 0 {
					t.Fatalf("%s: bytes %d -> %d", l.where, r.Bytes, r.BytesAfter)
				}
				if (r.Level == LevelNone || r.StageOmitted) != (r.BytesAfter == 0) {
					t.Fatalf("%s: level %s omitted %v but %d bytes after", l.where, r.Level, r.StageOmitted, r.BytesAfter)
				}
				if r.CannotUpgrade != (!r.StageOmitted && LevelRank(r.Level) > LevelRank(r.Captured)) {
					t.Fatalf("%s: cannot-upgrade %v for %s -> %s", l.where, r.CannotUpgrade, r.Captured, r.Level)
				}
				if r.Captured == LevelRequestResponse && r.Level == LevelMetadata && (e.HasRequestObject || e.HasResponseObject) && r.BytesAfter >= r.Bytes {
					t.Fatalf("%s: bodies not removed", l.where)
				}
			}
			rep := chk.Report()
			var sum int64
			for _, rs := range rep.Rules {
				sum += rs.Events
			}
			if sum != int64(len(lines)) || rep.Events != int64(len(lines)) {
				t.Fatalf("rules account for %d of %d events", sum, len(lines))
			}
			if rep.SpanSeconds <= 0 || rep.BytesPerDayNow <= 0 {
				t.Fatalf("no span over the events: %+v", rep)
			}
		})
	}
}
