package auditpolicy

import (
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The apiserver evaluates the audit policy with the RequestInfo it parsed
// from the request's URL (WithAudit -> GetAuthorizerAttributes), before it
// reads the body. objectRef is written from the same RequestInfo, but the
// apiserver fills in the name and namespace it lacks afterwards from the
// request body (audit.LogRequestObject): every logged create carries a
// name the policy never saw. So the attributes are rebuilt from the logged
// requestURI, the way the apiserver parses it.

// requestInfo is the part of k8s.io/apiserver's RequestInfo (pkg/endpoints/
// request/requestinfo.go, RequestInfoFactory with APIPrefixes {api, apis}
// and GrouplessAPIPrefixes {api}, as every kube-apiserver has) that the
// policy evaluator reads. The verb is not in it: the logged verb is the one
// the apiserver used.
type requestInfo struct {
	// url: the URI is one the apiserver can have received: an absolute
	// path (with a query), without control characters or bad %-escapes
	// (net/http answers 400 to those before any handler runs). The other
	// fields are only set when it is.
	url         bool
	isResource  bool
	path        string // the URL path, unescaped
	apiGroup    string
	apiVersion  string
	namespace   string
	resource    string
	subresource string
	name        string
	// verbInPath: the deprecated /watch/ or /proxy/ prefix gave the verb.
	verbInPath bool
	// bad: the apiserver refuses to build a RequestInfo for this URL
	// (/api/v1/watch with nothing after it) and answers 500 before the
	// audit filter runs, so no audit event has this URI.
	bad bool
}

// maxParts is the number of path segments the parse reads: /apis/GROUP/
// VERSION/watch/namespaces/NS/RESOURCE/NAME/SUBRESOURCE. Segments after
// those never change the result, only whether there are "at least n".
const maxParts = 10

// parseRequestURI parses a logged requestURI (the request's escaped path
// and raw query: url.URL.RequestURI) as net/http parses a request line
// (url.ParseRequestURI) and RequestInfoFactory.NewRequestInfo then parses
// the URL. The path is unescaped; the query is returned as is. It
// allocates only to unescape a path that holds %-escapes.
func parseRequestURI(uri string) (ri requestInfo, rawQuery string) {
	path, rawQuery, _ := strings.Cut(uri, "?")
	ri.path = path
	if uri == "*" { // OPTIONS *: a non-resource request
		ri.url = true
		return ri, ""
	}
	if path == "" || path[0] != '/' || hasCTL(uri) {
		return ri, ""
	}
	if strings.IndexByte(path, '%') >= 0 {
		p, err := url.PathUnescape(path)
		if err != nil {
			return ri, ""
		}
		path = p
	}
	ri.url = true
	ri.path = path

	// splitPath: strings.Split(strings.Trim(path, "/"), "/"), the first
	// maxParts segments of it.
	var buf [maxParts]string
	n := 0
	if rest := strings.Trim(path, "/"); rest != "" {
		for n < maxParts {
			seg, after, more := strings.Cut(rest, "/")
			buf[n] = seg
			n++
			if !more {
				break
			}
			rest = after
		}
	}
	parts := buf[:n]

	if len(parts) < 3 {
		return ri, rawQuery
	}
	prefix := parts[0]
	if prefix != "api" && prefix != "apis" {
		return ri, rawQuery
	}
	parts = parts[1:]
	if prefix != "api" { // not groupless
		if len(parts) < 3 {
			return ri, rawQuery
		}
		ri.apiGroup = parts[0]
		parts = parts[1:]
	}
	ri.isResource = true
	ri.apiVersion = parts[0]
	parts = parts[1:]

	proxy := false
	if parts[0] == "proxy" || parts[0] == "watch" {
		if len(parts) < 2 {
			ri.bad = true
			return ri, rawQuery
		}
		proxy = parts[0] == "proxy"
		ri.verbInPath = true
		parts = parts[1:]
	}

	if parts[0] == "namespaces" {
		if len(parts) > 1 {
			ri.namespace = parts[1]
			// namespaces/NS/status and namespaces/NS/finalize are the
			// namespace's subresources; namespaces/NS/RESOURCE... is a
			// resource in the namespace.
			if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
				parts = parts[2:]
			}
		}
	}

	if len(parts) >= 3 && !proxy {
		ri.subresource = parts[2]
	}
	if len(parts) >= 2 {
		ri.name = parts[1]
	}
	ri.resource = parts[0]
	return ri, rawQuery
}

// hasCTL reports whether s holds an ASCII control character (net/url
// refuses them).
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' || b == 0x7f {
			return true
		}
	}
	return false
}

// nameFromFieldSelector is the name the apiserver gives a list or watch of
// one object (fieldSelector=metadata.name=NAME): it decodes the query into
// ListOptions with the apiserver's own parameter codec and takes an exact
// metadata.name that is a valid path segment; a query that does not decode
// gives no name (the apiserver then logs the error and goes on without).
func nameFromFieldSelector(rawQuery string) string {
	if !mayNameObject(rawQuery) {
		return ""
	}
	q, _ := url.ParseQuery(rawQuery) // as req.URL.Query(): bad pairs are dropped
	var opts metainternalversion.ListOptions
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(q, metav1.SchemeGroupVersion, &opts); err != nil {
		return ""
	}
	if opts.FieldSelector == nil {
		return ""
	}
	name, ok := opts.FieldSelector.RequiresExactMatch("metadata.name")
	if !ok || len(content.IsPathSegmentName(name)) != 0 {
		return ""
	}
	return name
}

// mayNameObject reports whether a raw query may hold a fieldSelector on
// metadata.name: a fieldSelector pair whose value mentions metadata.name
// once unescaped, or a pair with an escaped key (which may unescape to
// fieldSelector). It keeps the parameter codec (some microseconds) off
// the common lists and watches, such as a kubelet's watch of its pods
// (fieldSelector=spec.nodeName%3DNODE).
func mayNameObject(rawQuery string) bool {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.IndexByte(k, '%') >= 0 {
			return true
		}
		if k != "fieldSelector" {
			continue
		}
		if strings.Contains(v, "metadata.name") {
			return true
		}
		if strings.IndexByte(v, '%') >= 0 {
			if u, err := url.QueryUnescape(v); err == nil && strings.Contains(u, "metadata.name") {
				return true
			}
		}
	}
	return false
}
