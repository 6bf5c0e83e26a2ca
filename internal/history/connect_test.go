package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// connectPod is the pod of the falco traces' exec (line 48) and attach
// (line 3), both logged as create (kubectl's SPDY, before 1.30).
const connectPod = "nginx-deployment-7998647bdf-phvq7"

// ConnectLines are the falco traces' exec and attach of connectPod as
// recorded, each also as kubectl 1.30 and later logs it (the same bytes
// with verb get and another auditID: WebSocket upgrades are GETs), a
// port-forward and a proxied GET made from the exec's bytes the same way,
// and two reads of the pod (a get of the pod, a get of its log), which a
// history lists only with reads. The command tests
// (internal/cli/history) write them to a file.
func ConnectLines(t testing.TB) []string {
	t.Helper()
	content, err := os.ReadFile(filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(string(content), "\n")
	exec, attach := all[47], all[2]
	if !strings.Contains(exec, `"subresource":"exec"`) || !strings.Contains(attach, `"subresource":"attach"`) || !strings.Contains(exec, connectPod) {
		t.Fatalf("falco traces: lines 48 and 3 are not the exec and attach of %s", connectPod)
	}
	const execQuery = "/exec?command=bash&container=nginx1&container=nginx1&stdin=true&stdout=true&tty=true"
	variant := func(line, id, verb, sub, uri, at string) string {
		r := strings.NewReplacer(
			`"auditID":"ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6"`, `"auditID":"`+id+`"`,
			`"auditID":"14933b4e-7b09-4964-af09-b7987367e1ba"`, `"auditID":"`+id+`"`,
			`"verb":"create"`, `"verb":"`+verb+`"`,
			`"subresource":"exec"`, `"subresource":"`+sub+`"`,
			execQuery, uri,
			`"stageTimestamp":"2018-10-26T13:38:34.902914Z"`, `"stageTimestamp":"2018-10-26T`+at+`Z"`,
			`"stageTimestamp":"2018-10-26T13:42:46.808261Z"`, `"stageTimestamp":"2018-10-26T`+at+`Z"`,
		)
		out := r.Replace(line)
		if out == line {
			t.Fatalf("variant %s %s: nothing replaced", verb, sub)
		}
		return out
	}
	getPod := variant(exec, "read-pod", "get", "exec", "", "14:00:00.000000")
	getPod = strings.Replace(getPod, `,"subresource":"exec"`, "", 1)
	getPod = strings.Replace(getPod, `"code":101`, `"code":200`, 1)
	getLog := variant(exec, "read-log", "get", "log", "/log?container=nginx1", "14:01:00.000000")
	getLog = strings.Replace(getLog, `"code":101`, `"code":200`, 1)
	return []string{
		exec,
		variant(exec, "ws-exec", "get", "exec", "/exec?command=sh&command=-c&command=id&container=nginx1&stdout=true", "13:39:00.000000"),
		attach,
		variant(attach, "ws-attach", "get", "attach", "/attach?container=nginx1&stdout=true", "13:43:00.000000"),
		variant(exec, "ws-portforward", "get", "portforward", "/portforward?ports=8080&ports=9090", "13:44:00.000000"),
		variant(exec, "ws-proxy", "get", "proxy", ":8080/proxy/metrics?x=1", "13:45:00.000000"),
		getPod,
		getLog,
	}
}

// TestConnectRequestsListed: exec, attach, port-forward and proxy are
// actions on the pod whatever their verb: kubectl 1.30 and later logs
// exec and attach as get (WebSocket), older ones as create (the real
// falco lines). A history lists both without reads, says what each did
// (the command, the ports, the method and path), and its query selects
// the same events; reads add only the get of the pod and of its log.
func TestConnectRequestsListed(t *testing.T) {
	evs := decodeLines(t, "connect.jsonl", ConnectLines(t)...)
	h := build(t, evs, "pod/"+connectPod, "default", Options{})
	wantLines(t, h, []string{
		"13:38:34 create/exec 101 ok | minikube-user | exec: bash",
		"13:39:00 get/exec 101 ok | minikube-user | exec: sh -c id",
		"13:42:46 create/attach 101 ok | minikube-user | attach",
		"13:43:00 get/attach 101 ok | minikube-user | attach",
		"13:44:00 get/portforward 101 ok | minikube-user | port-forward: 8080, 9090",
		"13:45:00 get/proxy 101 ok | minikube-user | proxy GET /metrics?x=1",
	})
	hr := build(t, evs, "pod/"+connectPod, "default", Options{Reads: true})
	if len(hr.Rows) != 8 || hr.Rows[6].Verb != "get" || hr.Rows[6].Subresource != "" || hr.Rows[7].Subresource != "log" {
		t.Errorf("reads: %v", lines(hr))
	}
	ref, _ := ParseRef("pod/"+connectPod, "default")
	for _, reads := range []bool{false, true} {
		q := mustParse(t, ref.Query(reads))
		for k := range evs {
			if got, want := q.Matches(&evs[k]), ref.Matches(&evs[k], reads); got != want {
				t.Errorf("reads %v: event %s: query %v, Matches %v", reads, evs[k].Where(), got, want)
			}
		}
	}
}

// TestConnectOutcomeUnknown: a WebSocket exec with only its
// RequestReceived stage still says which command it was.
func TestConnectOutcomeUnknown(t *testing.T) {
	l := auditLine{ID: "e1", Stage: "RequestReceived", Verb: "get", User: "bob", Resource: "pods", Namespace: "kube-system", Name: "dbg", Sub: "exec",
		URI: "/api/v1/namespaces/kube-system/pods/dbg/exec?command=nsenter&command=-t&command=1&stdin=true", At: "02:32:11.000"}
	h := build(t, decodeLines(t, "u.jsonl", l.JSON()), "pod/dbg", "kube-system", Options{})
	wantLines(t, h, []string{"02:32:11 get/exec 0 unknown | bob | exec: nsenter -t 1 (outcome not recorded)"})
}

func TestProxyPath(t *testing.T) {
	for _, tt := range []struct{ uri, name, want string }{
		{"/api/v1/namespaces/ns/pods/web:8080/proxy/metrics?x=1", "web", "/metrics?x=1"},
		{"/api/v1/namespaces/ns/pods/proxy/proxy", "proxy", "/"},
		{"/api/v1/namespaces/ns/pods/proxy-1/proxy/a/proxy/b", "proxy-1", "/a/proxy/b"},
		{"/api/v1/namespaces/ns/services/https:api:443/proxy/healthz", "api", "/healthz"},
		{"/api/v1/nodes/ip-10-0-1-40/proxy/exec/kube-system/p/c?command=id", "ip-10-0-1-40", "/exec/kube-system/p/c?command=id"},
		{"/api/v1/namespaces/ns/pods/web/exec", "web", ""},
	} {
		if got := proxyPath(tt.uri, tt.name); got != tt.want {
			t.Errorf("proxyPath(%q, %q) = %q, want %q", tt.uri, tt.name, got, tt.want)
		}
	}
}

// TestProxyNamesTargetWithPort: the apiserver logs a proxy request's name
// as the path segment, NAME, NAME:PORT or SCHEME:NAME:PORT
// (services/grafana:3000/proxy): each is a request to the object NAME,
// listed in its history with its path, and `h` on one (RefOf) and
// `history svc/grafana:3000` open that object (review F: only the bare
// name was listed; h opened a history of services/grafana:3000).
func TestProxyNamesTargetWithPort(t *testing.T) {
	line := func(i int, verb, uri, res, name, sub string) string {
		s := ""
		if sub != "" {
			s = `,"subresource":"` + sub + `"`
		}
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000000-0000-0000-0000-00000000000` + string(rune('0'+i)) + `","stage":"ResponseComplete","requestURI":"` + uri + `","verb":"` + verb + `","user":{"username":"u"},"objectRef":{"resource":"` + res + `","namespace":"monitoring","name":"` + name + `","apiVersion":"v1"` + s + `},"responseStatus":{"code":200},"stageTimestamp":"2026-05-01T15:53:0` + string(rune('0'+i)) + `.1Z"}`
	}
	evs := decodeLines(t, "proxy.jsonl",
		line(1, "create", "/api/v1/namespaces/monitoring/services", "services", "grafana", ""),
		line(2, "get", "/api/v1/namespaces/monitoring/services/grafana:3000/proxy/", "services", "grafana:3000", "proxy"),
		line(3, "get", "/api/v1/namespaces/monitoring/services/https:grafana:443/proxy/api/health", "services", "https:grafana:443", "proxy"),
		line(4, "get", "/api/v1/namespaces/monitoring/services/grafana/proxy/metrics", "services", "grafana", "proxy"),
		line(5, "get", "/api/v1/namespaces/monitoring/services/grafana-2:3000/proxy/", "services", "grafana-2:3000", "proxy"),
		line(6, "get", "/api/v1/namespaces/monitoring/services/x:grafana/proxy/", "services", "x:grafana", "proxy"),
	)
	for _, spec := range []string{"svc/grafana", "svc/grafana:3000", "services/https:grafana:443"} {
		h := build(t, evs, spec, "monitoring", Options{})
		got := lines(h)
		want := []string{"/", "/api/health", "/metrics"}
		if len(h.Rows) != 4 {
			t.Fatalf("%s: %d rows, want the create and three proxy requests: %v", spec, len(h.Rows), got)
		}
		for k, p := range want {
			if !strings.HasSuffix(got[k+1], "proxy GET "+p) {
				t.Errorf("%s: row %d %q, want proxy GET %s", spec, k+1, got[k+1], p)
			}
		}
	}
	for k := 1; k < 4; k++ {
		if r, ok := RefOf(&evs[k]); !ok || r.Name != "grafana" {
			t.Errorf("RefOf %s: %+v", evs[k].Name, r)
		}
	}
	ref, _ := ParseRef("svc/grafana", "monitoring")
	for _, reads := range []bool{false, true} {
		q := mustParse(t, ref.Query(reads))
		for k := range evs {
			if got, want := q.Matches(&evs[k]), ref.Matches(&evs[k], reads); got != want {
				t.Errorf("reads %v: event %s (%s): query %v, Matches %v", reads, evs[k].Where(), evs[k].Name, got, want)
			}
		}
	}
}
