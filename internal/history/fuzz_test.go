package history

import (
	"bytes"
	"os"
	"testing"

	"github.com/audittui/audittui/internal/data"
)

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"cm/x", "deployments.v1.apps/web", "rolebindings.rbac.authorization.k8s.io/a", "x.y/z", "/", "a./b", "pods.v1beta/x"} {
		f.Add(s, "ns")
	}
	f.Fuzz(func(t *testing.T, spec, ns string) {
		r, err := ParseRef(spec, ns)
		if err != nil {
			return
		}
		if r.Resource == "" || r.Name == "" {
			t.Fatalf("ParseRef(%q) = %+v without resource or name", spec, r)
		}
		_ = r.Query(false)
	})
}

// FuzzBuild: any lines about an object build a history without panic, and
// Secret values given in data never show.
func FuzzBuild(f *testing.F) {
	if b, err := os.ReadFile(fixture); err == nil {
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"patch","objectRef":{"resource":"secrets","namespace":"payments","name":"db-password"},"responseStatus":{"code":200},"requestObject":"x","stageTimestamp":"2026-11-20T02:00:00Z"}`))
	f.Add([]byte(`{"kind":"Event","auditID":"2","stage":"ResponseComplete","verb":"patch","objectRef":{"resource":"secrets","namespace":"payments","name":"db-password"},"responseStatus":{"code":200},"requestObject":[{"op":"move","from":"/data","path":"/data/x"}],"stageTimestamp":"2026-11-20T02:00:00Z"}`))
	f.Add([]byte(`{"kind":"Event","auditID":"3","stage":"ResponseComplete","verb":"deletecollection","requestURI":"/api/v1/namespaces/payments/secrets?labelSelector=app%3Dx&fieldSelector=metadata.name%21%3Ddb-password&limit=2","objectRef":{"resource":"secrets","namespace":"payments"},"responseStatus":{"code":200},"responseObject":{"kind":"SecretList","items":[{"metadata":{"name":"db-password"},"data":{"password":"aHVudGVy"}}]},"stageTimestamp":"2026-11-20T09:40:00Z"}`))
	base := readFixture(f, fixture)
	f.Fuzz(func(t *testing.T, line []byte) {
		var dec data.Decoder
		evs, _ := dec.Decode(nil, line, data.Origin{})
		for _, spec := range []string{"secret/db-password", "cm/payments-config", "deploy/web"} {
			ref, _ := ParseRef(spec, "payments")
			b := NewBuilder(ref, Options{Reads: true, Status: true})
			for k := range base {
				b.Add(&base[k])
			}
			for k := range evs {
				b.Add(&evs[k])
			}
			_ = b.Build()
		}
	})
}
