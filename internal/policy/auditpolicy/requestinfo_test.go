package auditpolicy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// requestURIs are URLs the apiserver parses in every way RequestInfo
// distinguishes.
var requestURIs = []string{
	"/", "/healthz", "/healthz/etcd", "/metrics", "/version", "/openapi/v2", "/api", "/apis", "/api/v1", "/apis/apps",
	"/apis/apps/v1", "/api/v1/pods", "/api/v1/nodes/n1", "/api/v1/nodes/n1/proxy/metrics/cadvisor",
	"/api/v1/namespaces", "/api/v1/namespaces/foo", "/api/v1/namespaces/foo/status", "/api/v1/namespaces/foo/finalize",
	"/api/v1/namespaces/foo/pods", "/api/v1/namespaces/foo/pods/web-0", "/api/v1/namespaces/foo/pods/web-0/exec?command=sh",
	"/api/v1/namespaces/foo/pods/web-0/log/extra/parts/ignored", "/api/v1/namespaces/foo/pods/web-0/proxy/a/b",
	"/api/v1/namespaces/foo/serviceaccounts/builder/token", "/api/v1/namespaces/status", "/api/v1/namespaces/status/status",
	"/apis/apps/v1/namespaces/foo/deployments/api/scale", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
	"/apis/authentication.k8s.io/v1/tokenreviews", "/api/v1/watch/pods", "/api/v1/watch/namespaces/foo/pods",
	"/api/v1/watch/namespaces/foo/pods/web-0", "/api/v1/watch", "/apis/apps/v1/watch", "/api/v1/proxy/nodes/n1/stats",
	"/api/v1/proxy", "/api/v1/proxy/namespaces/foo/pods/web-0/a/b/c", "/apis/apps/v1/watch/namespaces/foo/deployments",
	"//api//v1//pods//", "/api/v1/namespaces//pods", "/api/v1/namespaces/foo/", "/apis//v1/x", "/oapi/v1/projects",
	"/api/v1/namespaces/a%2Fb/pods/c%20d", "/api/v1/namespaces/foo/configmaps/caf%C3%A9", "/api/v1/nodes/n%2F1/proxy",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3Dmy-config&limit=500",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3D%3Dmy-config&watch=true&timeoutSeconds=300",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%21%3Dmy-config",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3Dmy-config%2Cmetadata.namespace%3Dfoo",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3Da%2Fb",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3D..",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3Dmy-config&timeoutSeconds=abc",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3Dmy-config&labelSelector=%3D%3D%3D",
	"/api/v1/namespaces/foo/configmaps?field%53elector=metadata.name%3Dmy-config",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name%3Done&fieldSelector=metadata.name%3Dtwo",
	"/api/v1/namespaces/foo/configmaps?fieldSelector=metadata.name=my-config",
	"/api/v1/watch/namespaces/foo/configmaps?fieldSelector=metadata.name%3Dmy-config",
	"/api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
}

// TestParseRequestURIMatchesApiserver: for every URL above and every
// requestURI of the fixtures and real logs, sent with each method, the
// parse gives what k8s.io/apiserver's RequestInfoFactory gives for the
// request (the name of a GET on a collection included: list and watch of
// one object by fieldSelector).
func TestParseRequestURIMatchesApiserver(t *testing.T) {
	uris := append([]string(nil), requestURIs...)
	for _, l := range fixtureLines(t) {
		uris = append(uris, lineURI(t, l))
	}
	t.Run("realdata", func(t *testing.T) { // skipped without them; the rest still runs
		for _, l := range realLines(t) {
			uris = append(uris, lineURI(t, l))
		}
	})
	n := 0
	for _, uri := range uris {
		if uri == "" {
			continue
		}
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut} {
			compareRequestInfo(t, method, uri)
			n++
		}
	}
	t.Logf("%d requests", n)
}

func lineURI(t *testing.T, l realLine) string {
	t.Helper()
	var ev struct {
		RequestURI string `json:"requestURI"`
	}
	if err := json.Unmarshal(l.raw, &ev); err != nil {
		t.Fatalf("%s: %v", l.where, err)
	}
	return ev.RequestURI
}

// compareRequestInfo compares the parse of the logged form of a request
// for uri with the apiserver's RequestInfo of that request.
func compareRequestInfo(t *testing.T, method, uri string) {
	t.Helper()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		ri, _ := parseRequestURI(uri)
		if ri.url {
			t.Errorf("%s: net/http refuses it (%v), parsed as a URL", uri, err)
		}
		return
	}
	if u.Path == "" || u.Opaque != "" {
		return // an absolute-form request line without a path ("a:", "a:b"): its requestURI is "/" or the opaque part
	}
	logged := u.RequestURI() // what the apiserver writes in requestURI
	got, rawQuery := parseRequestURI(logged)
	want, werr := apiserverFactory.NewRequestInfo(&http.Request{Method: method, URL: u})
	if !got.url {
		t.Errorf("%s (logged %s): not parsed", uri, logged)
		return
	}
	if werr != nil {
		if !got.bad {
			t.Errorf("%s %s: the apiserver refuses it (%v), the parse does not", method, uri, werr)
		}
		return
	}
	if got.bad {
		t.Errorf("%s %s: refused, the apiserver parses it", method, uri)
		return
	}
	name := got.name
	if name == "" && got.isResource && !got.verbInPath && (method == http.MethodGet || method == http.MethodHead) {
		name = nameFromFieldSelector(rawQuery)
	}
	type info struct {
		IsResource                                                 bool
		Path, APIGroup, APIVersion, Namespace, Resource, Sub, Name string
	}
	g := info{got.isResource, got.path, got.apiGroup, got.apiVersion, got.namespace, got.resource, got.subresource, name}
	w := info{want.IsResourceRequest, want.Path, want.APIGroup, want.APIVersion, want.Namespace, want.Resource, want.Subresource, want.Name}
	if g != w {
		t.Errorf("%s %s (logged %s):\n got %+v\nwant %+v", method, uri, logged, g, w)
	}
	// A POST's verb is watch or proxy only when the path says so (a GET
	// becomes a watch with ?watch=true).
	post, _ := apiserverFactory.NewRequestInfo(&http.Request{Method: http.MethodPost, URL: u})
	if inPath := post.Verb == "watch" || post.Verb == "proxy"; got.verbInPath != inPath {
		t.Errorf("%s: verb in path %v, the apiserver's verb for a POST is %s", uri, got.verbInPath, post.Verb)
	}
}

// FuzzParseRequestURI: any request line net/http accepts parses as the
// apiserver parses it.
func FuzzParseRequestURI(f *testing.F) {
	for _, u := range requestURIs {
		f.Add(u, uint8(0))
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch, http.MethodHead}
	f.Fuzz(func(t *testing.T, uri string, m uint8) {
		if len(uri) > 512 {
			return
		}
		compareRequestInfo(t, methods[int(m)%len(methods)], uri)
	})
}
