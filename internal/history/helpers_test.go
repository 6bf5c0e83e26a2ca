package history

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/testutil"
)

// readFixture decodes a fixture, one event per line.
func readFixture(t testing.TB, path string) []data.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info := &data.SourceInfo{Name: path, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var dec data.Decoder
	var out []data.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := int64(1); sc.Scan(); n++ {
		evs, rej := dec.Decode(nil, sc.Bytes(), data.Origin{Source: info, Line: n})
		if rej != nil {
			t.Fatalf("%s", rej.Error())
		}
		for k := range evs {
			out = append(out, evs[k].Clone())
		}
	}
	return out
}

func build(t testing.TB, evs []data.Event, spec, ns string, opts Options) *History {
	t.Helper()
	ref, err := ParseRef(spec, ns)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(ref, opts)
	for k := range evs {
		b.Add(&evs[k])
	}
	return b.Build()
}

// auditLine is a synthetic audit event (audit.k8s.io/v1) for the tests
// that need a few events of their own.
type auditLine struct {
	ID, Stage, Verb, User, URI string
	Resource, Namespace, Name  string
	Sub, Group                 string
	Code                       int
	Received, At               string // times of day on 2026-11-20 (15:04:05.000)
	Level                      string // RequestResponse when ""
	Req, Resp                  any
}

// JSON is the event as the apiserver writes it.
func (l auditLine) JSON() string {
	ref := map[string]any{"resource": l.Resource, "apiVersion": "v1"}
	if l.Name != "" {
		ref["name"] = l.Name // a request to a collection names none
	}
	if l.Namespace != "" {
		ref["namespace"] = l.Namespace
	}
	if l.Sub != "" {
		ref["subresource"] = l.Sub
	}
	if l.Group != "" {
		ref["apiGroup"] = l.Group
	}
	stage, level := l.Stage, l.Level
	if stage == "" {
		stage = "ResponseComplete"
	}
	if level == "" {
		level = "RequestResponse"
	}
	received := l.Received
	if received == "" {
		received = l.At
	}
	ev := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": l.ID, "stage": stage,
		"requestURI": l.URI, "verb": l.Verb, "user": map[string]any{"username": l.User},
		"sourceIPs": []string{"10.0.0.1"}, "objectRef": ref,
		"requestReceivedTimestamp": "2026-11-20T" + received + "Z", "stageTimestamp": "2026-11-20T" + l.At + "Z",
	}
	if l.Code != 0 {
		ev["responseStatus"] = map[string]any{"code": l.Code}
	}
	if l.Req != nil {
		ev["requestObject"] = l.Req
	}
	if l.Resp != nil {
		ev["responseObject"] = l.Resp
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// decodeLines decodes lines as the lines 1, 2, ... of a source named name.
func decodeLines(t testing.TB, name string, lines ...string) []data.Event {
	t.Helper()
	info := &data.SourceInfo{Name: name, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	var dec data.Decoder
	var out []data.Event
	for n, l := range lines {
		evs, rej := dec.Decode(nil, []byte(l), data.Origin{Source: info, Line: int64(n + 1)})
		if rej != nil {
			t.Fatalf("%s", rej.Error())
		}
		for k := range evs {
			out = append(out, evs[k].Clone())
		}
	}
	return out
}

// realFalco is the falco project's audit traces (a minikube cluster of
// 2018, one event per line, out of time order), or a skip.
func realFalco(t testing.TB) []data.Event {
	t.Helper()
	return readFixture(t, filepath.Join(testutil.RealData(t), "audit", "falco-legacy-k8s-audit-traces.jsonl"))
}
