package gen

import (
	"strconv"
	"strings"
)

// Helpers that fill g.req the way the apiserver's request-info and error
// paths would.

// res sets verb, objectRef and the request path for a resource request.
// group "" means the core API (/api/v1).
func (g *Generator) res(verb, group, version, resource, ns, name, sub string) {
	r := &g.req
	r.Verb = verb
	r.HasObj = true
	r.Obj = objectRef{Resource: resource, Namespace: ns, Name: name, APIGroup: group, APIVersion: version, Subresource: sub}
	var b strings.Builder
	b.Grow(96)
	if group == "" {
		b.WriteString("/api/")
	} else {
		b.WriteString("/apis/")
		b.WriteString(group)
		b.WriteByte('/')
	}
	b.WriteString(version)
	if ns != "" {
		b.WriteString("/namespaces/")
		b.WriteString(ns)
	}
	b.WriteByte('/')
	b.WriteString(resource)
	if name != "" {
		b.WriteByte('/')
		b.WriteString(escapePath(name))
	}
	if sub != "" {
		b.WriteByte('/')
		b.WriteString(sub)
	}
	r.RequestURI = b.String()
}

// query appends a query string to the request URI.
func (g *Generator) query(q string) { g.req.RequestURI += "?" + q }

// nonResource sets a non-resource request (no objectRef).
func (g *Generator) nonResource(verb, path string) {
	g.req.Verb = verb
	g.req.HasObj = false
	g.req.RequestURI = path
}

// escapePath percent-encodes a path segment as net/url's EscapedPath does
// for the bytes that matter here (controls, spaces, non-ASCII, '%', '?', '#').
func escapePath(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c >= 0x7f || c == '%' || c == '?' || c == '#' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c >= 0x7f || c == '%' || c == '?' || c == '#' {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&0xF])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (g *Generator) who(u *identity, ip, ua string) {
	g.req.User, g.req.SourceIP, g.req.UserAgent = u, ip, ua
}

func (g *Generator) rv() string {
	return strconv.Itoa(4_810_000 + int((g.req.Received-g.start)/20_000_000) + g.rng.IntN(5000))
}

// qualified returns "resource" or "resource.group" (schema.GroupResource).
func qualified(o *objectRef) string {
	if o.APIGroup == "" {
		return o.Resource
	}
	return o.Resource + "." + o.APIGroup
}

func details(o *objectRef, kind string) string {
	var b []byte
	b = append(b, '{')
	if o.Name != "" {
		b = appendKey(b, "name")
		b = appendString(b, o.Name)
	}
	if o.APIGroup != "" {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendKey(b, "group")
		b = appendString(b, o.APIGroup)
	}
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = appendKey(b, "kind")
	b = appendString(b, kind)
	return string(append(b, '}'))
}

// forbid makes the request a 403 from the authorizer.
func (g *Generator) forbid() {
	r := &g.req
	o := &r.Obj
	user := ""
	if r.User != nil {
		user = r.User.Username
	}
	if r.Imp != nil {
		user = r.Imp.Username
	}
	var msg string
	if !r.HasObj {
		path := r.RequestURI
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		msg = "forbidden: User " + strconv.Quote(user) + " cannot " + r.Verb + " path " + strconv.Quote(path)
		r.Status = status{Code: 403, Status: "Failure", Message: msg, Reason: "Forbidden", Details: "{}"}
	} else {
		res := o.Resource
		if o.Subresource != "" {
			res += "/" + o.Subresource
		}
		m := "User " + strconv.Quote(user) + " cannot " + r.Verb + " resource " + strconv.Quote(res) + " in API group " + strconv.Quote(o.APIGroup)
		if o.Namespace != "" {
			m += " in the namespace " + strconv.Quote(o.Namespace)
		} else {
			m += " at the cluster scope"
		}
		m = htmlSanitizer.Replace(m)
		if o.Name == "" {
			msg = qualified(o) + " is forbidden: " + m
		} else {
			msg = qualified(o) + " " + strconv.Quote(o.Name) + " is forbidden: " + m
		}
		r.Status = status{Code: 403, Status: "Failure", Message: msg, Reason: "Forbidden", Details: details(o, o.Resource)}
	}
	r.Decision = "forbid"
	r.AuthReason = ""
	r.RequestObject, r.ResponseObject = nil, nil
}

var htmlSanitizer = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;")

func (g *Generator) notFound() {
	o := &g.req.Obj
	g.req.Status = status{Code: 404, Status: "Failure", Message: qualified(o) + " " + strconv.Quote(o.Name) + " not found", Reason: "NotFound", Details: details(o, o.Resource)}
	g.req.ResponseObject = nil
}

func (g *Generator) alreadyExists() {
	o := &g.req.Obj
	g.req.Status = status{Code: 409, Status: "Failure", Message: qualified(o) + " " + strconv.Quote(o.Name) + " already exists", Reason: "AlreadyExists", Details: details(o, o.Resource)}
	g.req.ResponseObject = nil
}

func (g *Generator) conflict() {
	o := &g.req.Obj
	g.req.Status = status{Code: 409, Status: "Failure",
		Message: "Operation cannot be fulfilled on " + qualified(o) + " " + strconv.Quote(o.Name) + ": the object has been modified; please apply your changes to the latest version and try again",
		Reason:  "Conflict", Details: details(o, o.Resource)}
	g.req.ResponseObject = nil
}

// invalid makes a 422 with one field cause; kind is the object kind
// (e.g. "Deployment") and kindGroup its "Kind.group" form for the message.
func (g *Generator) invalid(kind, kindGroup, field, causeReason, causeMsg string) {
	o := &g.req.Obj
	var d []byte
	d = append(d, `{"name":`...)
	d = appendString(d, o.Name)
	if o.APIGroup != "" {
		d = append(d, `,"group":`...)
		d = appendString(d, o.APIGroup)
	}
	d = append(d, `,"kind":`...)
	d = appendString(d, kind)
	d = append(d, `,"causes":[{"reason":`...)
	d = appendString(d, causeReason)
	d = append(d, `,"message":`...)
	d = appendString(d, causeMsg)
	d = append(d, `,"field":`...)
	d = appendString(d, field)
	d = append(d, `}]}`...)
	g.req.Status = status{Code: 422, Status: "Failure",
		Message: kindGroup + " " + strconv.Quote(o.Name) + " is invalid: " + field + ": " + causeMsg,
		Reason:  "Invalid", Details: string(d)}
	g.req.ResponseObject = nil
}

func (g *Generator) tooMany() {
	g.req.Status = status{Code: 429, Status: "Failure", Message: "Too many requests, please try again later.", Reason: "TooManyRequests", Details: `{"retryAfterSeconds":1}`}
	g.req.ResponseObject = nil
}

func (g *Generator) internalError(msg string) {
	var d []byte
	d = append(d, `{"causes":[{"message":`...)
	d = appendString(d, msg)
	d = append(d, `}]}`...)
	g.req.Status = status{Code: 500, Status: "Failure", Message: "Internal error occurred: " + msg, Reason: "InternalError", Details: string(d)}
	g.req.ResponseObject = nil
}

// unauthorized makes a failed-authentication request: no user, a single
// ResponseStarted event, no authorization annotations.
func (g *Generator) unauthorized(methods string) {
	r := &g.req
	r.User = nil
	r.Imp = nil
	msg := "Authentication failed, no credentials provided"
	if methods != "" {
		msg = "Authentication failed, attempted: " + methods
	}
	r.Status = status{Code: 401, Message: msg}
	r.Decision, r.AuthReason = "", ""
	r.RequestObject, r.ResponseObject = nil, nil
}

func rbacReason(kind, binding, role, subjKind, subj string) string {
	return "RBAC: allowed by " + kind + " " + strconv.Quote(binding) + " of " + roleKind(kind) + " " + strconv.Quote(role) + " to " + subjKind + " " + strconv.Quote(subj)
}

func roleKind(bindingKind string) string {
	if bindingKind == "RoleBinding" {
		return "Role"
	}
	return "ClusterRole"
}

// saSubject returns the "name/namespace" form RBAC reasons use.
func saSubject(u *identity) string {
	rest := strings.TrimPrefix(u.Username, "system:serviceaccount:")
	ns, name, _ := strings.Cut(rest, ":")
	return name + "/" + ns
}

func (g *Generator) created() { g.req.Status.Code = 201 }
