package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/testutil"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// lean is the subset of an audit event the sample checks look at.
type lean struct {
	Level      string `json:"level"`
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ImpersonatedUser *struct {
		Username string `json:"username"`
	} `json:"impersonatedUser"`
	SourceIPs []string `json:"sourceIPs"`
	UserAgent string   `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage   `json:"requestObject"`
	ResponseObject json.RawMessage   `json:"responseObject"`
	StageTimestamp time.Time         `json:"stageTimestamp"`
	Annotations    map[string]string `json:"annotations"`
}

func (e *lean) res() string {
	if e.ObjectRef == nil {
		return ""
	}
	return e.ObjectRef.Resource
}
func (e *lean) sub() string {
	if e.ObjectRef == nil {
		return ""
	}
	return e.ObjectRef.Subresource
}
func (e *lean) ns() string {
	if e.ObjectRef == nil {
		return ""
	}
	return e.ObjectRef.Namespace
}
func (e *lean) name() string {
	if e.ObjectRef == nil {
		return ""
	}
	return e.ObjectRef.Name
}
func (e *lean) code() int {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// readLean decodes every line of path; strict also decodes each line into
// k8s.io/apiserver's audit.Event with unknown fields rejected.
func readLean(t *testing.T, path string, strict bool) []lean {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var evs []lean
	scanLines(t, data, func(n int, line []byte) {
		var e lean
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if strict {
			if _, err := decodeStrict(line); err != nil {
				t.Fatalf("%s:%d: strict decode: %v", path, n, err)
			}
		}
		evs = append(evs, e)
	})
	return evs
}

// seedRules are the five alert rules of testdata/seed/loki-audit-rules.yaml,
// written out as predicates on one event (the LogQL engine has its own
// tests; these say which events each rule counts).
var seedRules = map[string]func(e *lean) bool{
	"UnauthorizedAPIAccess": func(e *lean) bool { return e.code() >= 401 && e.code() < 500 },
	"SecretAccessed": func(e *lean) bool {
		return e.res() == "secrets" && regexp.MustCompile(`^(get|list)$`).MatchString(e.Verb)
	},
	"RBACModification": func(e *lean) bool {
		return regexp.MustCompile(`^(roles|rolebindings|clusterroles|clusterrolebindings)$`).MatchString(e.res()) &&
			regexp.MustCompile(`^(create|update|patch|delete)$`).MatchString(e.Verb)
	},
	"PodExecDetected": func(e *lean) bool { return e.res() == "pods" && e.sub() == "exec" },
	"ServiceAccountTokenCreated": func(e *lean) bool {
		return e.res() == "serviceaccounts" && e.sub() == "token" && e.Verb == "create"
	},
}

func TestSeedRuleNamesMatchSeed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testutil.SeedDir(t), "loki-audit-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?m)^\s*- alert: (\S+)`).FindAllSubmatch(data, -1)
	if len(names) != len(seedRules) {
		t.Fatalf("seed has %d alerts, the test knows %d", len(names), len(seedRules))
	}
	for _, m := range names {
		if seedRules[string(m[1])] == nil {
			t.Errorf("seed alert %s has no predicate here", m[1])
		}
	}
}

func samplePath(parts ...string) string {
	return filepath.Join(append([]string{testutil.RepoRoot(), "testdata", "sample"}, parts...)...)
}

func TestSampleUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSample(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range files {
		want, _ := os.ReadFile(filepath.Join(dir, rel))
		got, err := os.ReadFile(samplePath(rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/sample/%s is stale or missing; regenerate with: go generate ./internal/gen", rel)
		}
	}
	entries, _ := filepath.Glob(samplePath("*", "*"))
	top, _ := filepath.Glob(samplePath("*.log"))
	if len(entries)+len(top) != len(files) {
		t.Errorf("testdata/sample has %d log files, the generator writes %d", len(entries)+len(top), len(files))
	}
}

func TestSampleContainsEveryKind(t *testing.T) {
	evs := readLean(t, samplePath("audit.log"), true)
	if n := len(evs); n < 3000 || n > 5000 {
		t.Errorf("sample has %d events, want 3000..5000", n)
	}
	if fi, err := os.Stat(samplePath("audit.log")); err != nil || fi.Size() > 5<<20 {
		t.Errorf("sample too big or missing: %v", err)
	}
	kinds := []struct {
		name string
		min  int
		pred func(e *lean) bool
	}{
		{"401 (failed authentication, empty user)", 10, func(e *lean) bool { return e.code() == 401 && e.User.Username == "" }},
		{"403", 20, func(e *lean) bool { return e.code() == 403 }},
		{"404", 3, func(e *lean) bool { return e.code() == 404 }},
		{"409 AlreadyExists/Conflict", 3, func(e *lean) bool { return e.code() == 409 }},
		{"422", 1, func(e *lean) bool { return e.code() == 422 }},
		{"429", 1, func(e *lean) bool { return e.code() == 429 }},
		{"500", 1, func(e *lean) bool { return e.code() == 500 }},
		{"101 (exec/attach/port-forward)", 3, func(e *lean) bool { return e.code() == 101 }},
		{"201", 10, func(e *lean) bool { return e.code() == 201 }},
		{"secret get", 5, func(e *lean) bool { return e.res() == "secrets" && e.Verb == "get" }},
		{"secret list", 5, func(e *lean) bool { return e.res() == "secrets" && e.Verb == "list" }},
		{"secret in namespace production", 2, func(e *lean) bool { return e.res() == "secrets" && e.ns() == "production" }},
		{"secret body (RequestResponse)", 5, func(e *lean) bool { return e.res() == "secrets" && len(e.ResponseObject) > 0 }},
		{"RBAC create", 2, func(e *lean) bool { return seedRules["RBACModification"](e) && e.Verb == "create" }},
		{"RBAC update", 1, func(e *lean) bool { return seedRules["RBACModification"](e) && e.Verb == "update" }},
		{"RBAC delete", 2, func(e *lean) bool { return seedRules["RBACModification"](e) && e.Verb == "delete" }},
		{"clusterrolebindings write", 2, func(e *lean) bool { return seedRules["RBACModification"](e) && e.res() == "clusterrolebindings" }},
		{"pods/exec", 3, seedRules["PodExecDetected"]},
		{"pods/attach", 1, func(e *lean) bool { return e.res() == "pods" && e.sub() == "attach" }},
		{"pods/portforward", 1, func(e *lean) bool { return e.res() == "pods" && e.sub() == "portforward" }},
		{"serviceaccounts/token create", 10, seedRules["ServiceAccountTokenCreated"]},
		{"pod delete", 3, func(e *lean) bool { return e.res() == "pods" && e.Verb == "delete" }},
		{"watch ResponseStarted", 10, func(e *lean) bool { return e.Verb == "watch" && e.Stage == "ResponseStarted" }},
		{"watch ResponseComplete", 10, func(e *lean) bool { return e.Verb == "watch" && e.Stage == "ResponseComplete" }},
		{"RequestReceived stage", 5, func(e *lean) bool { return e.Stage == "RequestReceived" }},
		{"impersonation", 1, func(e *lean) bool { return e.ImpersonatedUser != nil }},
		{"system:anonymous", 5, func(e *lean) bool { return e.User.Username == "system:anonymous" }},
		{"suspicious-user", 5, func(e *lean) bool { return e.User.Username == "suspicious-user" }},
		{"kubelet (system:node:)", 50, func(e *lean) bool { return strings.HasPrefix(e.User.Username, "system:node:") }},
		{"controller service account", 50, func(e *lean) bool { return strings.HasPrefix(e.User.Username, "system:serviceaccount:kube-system:") }},
		{"kube-controller-manager / kube-scheduler", 10, func(e *lean) bool {
			return e.User.Username == "system:kube-controller-manager" || e.User.Username == "system:kube-scheduler"
		}},
		{"kubectl", 50, func(e *lean) bool { return strings.HasPrefix(e.UserAgent, "kubectl/v1.31.0 ") }},
		{"lease update", 50, func(e *lean) bool { return e.res() == "leases" && e.Verb == "update" }},
		{"Request level with requestObject", 5, func(e *lean) bool { return e.Level == "Request" && len(e.RequestObject) > 0 }},
		{"non-resource request", 5, func(e *lean) bool { return e.ObjectRef == nil }},
		{"forbid decision", 20, func(e *lean) bool { return e.Annotations["authorization.k8s.io/decision"] == "forbid" }},
		{"terminal escapes in userAgent", 2, func(e *lean) bool { return e.UserAgent == EscapeUserAgent }},
		{"terminal escapes and U+202E in object name", 2, func(e *lean) bool { return e.name() == EscapeObjectName }},
	}
	for _, k := range kinds {
		n := 0
		for i := range evs {
			if k.pred(&evs[i]) {
				n++
			}
		}
		t.Logf("%-45s %5d", k.name, n)
		if n < k.min {
			t.Errorf("sample has %d %s events, want at least %d", n, k.name, k.min)
		}
	}
	ips := map[string]bool{}
	for _, e := range evs {
		ips[e.SourceIPs[0]] = true
	}
	if len(ips) < 15 {
		t.Errorf("sample has %d distinct source IPs, want at least 15", len(ips))
	}
	for rule, pred := range seedRules {
		n := 0
		for i := range evs {
			if pred(&evs[i]) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("seed rule %s matches nothing in the sample", rule)
		}
	}
}

// storyEvents returns the events of a story: its actors, within 15
// minutes of its offset, excluding actors' background traffic by source IP
// where the story has its own.
func storyEvents(evs []lean, s Story) []*lean {
	from := DefaultStart.Add(s.Offset)
	var out []*lean
	for i := range evs {
		e := &evs[i]
		if e.StageTimestamp.Before(from) || !e.StageTimestamp.Before(from.Add(15*time.Minute)) {
			continue
		}
		for _, a := range s.Actors {
			if e.User.Username == a && (a != "" || e.SourceIPs[0] == probeIP) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func TestSampleStories(t *testing.T) {
	for _, file := range []string{samplePath("audit.log")} {
		evs := readLean(t, file, false)
		checkStories(t, evs)
	}
	// The per-node split holds the same stories, spread over the nodes.
	var all []lean
	files, _ := filepath.Glob(samplePath("nodes", "*.log"))
	if len(files) != SampleNodes {
		t.Fatalf("testdata/sample/nodes has %d files, want %d", len(files), SampleNodes)
	}
	for _, f := range files {
		evs := readLean(t, f, true)
		if len(evs) < 100 {
			t.Errorf("%s: only %d events", f, len(evs))
		}
		all = append(all, evs...)
	}
	checkStories(t, all)
}

func checkStories(t *testing.T, evs []lean) {
	t.Helper()
	find := func(evs []*lean, pred func(e *lean) bool) int {
		n := 0
		for _, e := range evs {
			if pred(e) {
				n++
			}
		}
		return n
	}
	for _, s := range Stories() {
		se := storyEvents(evs, s)
		if len(se) < 5 {
			t.Errorf("story %d (%s): %d events", s.ID, s.Name, len(se))
			continue
		}
		for _, alert := range s.Alerts {
			if find(se, seedRules[alert]) == 0 {
				t.Errorf("story %d (%s): seed alert %s matches none of its events", s.ID, s.Name, alert)
			}
		}
		var must []struct {
			what string
			pred func(e *lean) bool
		}
		add := func(what string, pred func(e *lean) bool) {
			must = append(must, struct {
				what string
				pred func(e *lean) bool
			}{what, pred})
		}
		switch s.ID {
		case StoryStolenToken:
			add("selfsubjectrulesreviews", func(e *lean) bool { return e.res() == "selfsubjectrulesreviews" && e.code() == 201 })
			add("10 403s", func(e *lean) bool { return e.code() == 403 })
			add("secret list in kube-system", func(e *lean) bool {
				return e.res() == "secrets" && e.Verb == "list" && e.ns() == "kube-system" && e.code() == 200 && len(e.ResponseObject) > 0
			})
			if n := find(se, func(e *lean) bool { return e.code() == 403 }); n < 10 {
				t.Errorf("stolen token: %d 403s, want >= 10", n)
			}
		case StoryPrivEsc:
			add("ClusterRoleBinding to cluster-admin", func(e *lean) bool {
				return e.res() == "clusterrolebindings" && e.Verb == "create" && bytes.Contains(e.RequestObject, []byte(`"name":"cluster-admin"`))
			})
			add("privileged hostPID pod create", func(e *lean) bool {
				return e.res() == "pods" && e.Verb == "create" && strings.Contains(e.Annotations["pod-security.kubernetes.io/audit-violations"], "hostPID=true")
			})
			add("exec into the pod", func(e *lean) bool { return e.sub() == "exec" && e.name() == debugPod && e.code() == 101 })
			add("binding deleted", func(e *lean) bool { return e.res() == "clusterrolebindings" && e.Verb == "delete" })
		case StoryNightRoleBindingDelete:
			add("RoleBinding delete at 3 a.m.", func(e *lean) bool {
				return e.res() == "rolebindings" && e.Verb == "delete" && e.name() == "payments-deployers" && e.StageTimestamp.Hour() == 3
			})
			add("Argo CD 403 afterwards", func(e *lean) bool { return e.code() == 403 && e.ns() == "payments" })
		case StoryTokenMinting:
			if n := find(se, func(e *lean) bool {
				return seedRules["ServiceAccountTokenCreated"](e) && e.name() == "default" && e.User.Username == "suspicious-user"
			}); n != 8 {
				t.Errorf("token minting: %d default token creates, want 8", n)
			}
			add("minted token used", func(e *lean) bool { return e.User.Username == "system:serviceaccount:payments:default" })
		case StoryAnonymousProbe:
			add("anonymous 403", func(e *lean) bool { return e.User.Username == "system:anonymous" && e.code() == 403 })
			add("401 with no user", func(e *lean) bool { return e.User.Username == "" && e.code() == 401 })
			add("escape sequences", func(e *lean) bool { return e.UserAgent == EscapeUserAgent && e.name() == EscapeObjectName })
		}
		for _, m := range must {
			if find(se, m.pred) == 0 {
				t.Errorf("story %d (%s): no %s event", s.ID, s.Name, m.what)
			}
		}
	}
}

func TestSampleWebhook(t *testing.T) {
	data, err := os.ReadFile(samplePath("webhook", "eventlist.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	items := 0
	scanLines(t, data, func(n int, line []byte) {
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var list auditv1.EventList
		if err := dec.Decode(&list); err != nil {
			t.Fatalf("webhook/eventlist.jsonl:%d: %v", n, err)
		}
		if list.Kind != "EventList" || len(list.Items) == 0 || len(list.Items) > SampleWebhookBatch {
			t.Fatalf("webhook/eventlist.jsonl:%d: kind %q with %d items", n, list.Kind, len(list.Items))
		}
		for _, ev := range list.Items {
			if ev.AuditID == "" || ev.StageTimestamp.IsZero() || ev.Kind != "" {
				t.Fatalf("webhook/eventlist.jsonl:%d: item %+v", n, ev)
			}
		}
		items += len(list.Items)
	})
	if items != SampleWebhookEvents {
		t.Errorf("%d items, want %d", items, SampleWebhookEvents)
	}
}
