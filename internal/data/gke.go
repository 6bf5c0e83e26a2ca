package data

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file maps a Cloud Logging LogEntry whose protoPayload is a
// google.cloud.audit.AuditLog written by GKE's API server (serviceName
// k8s.io) onto an audit.k8s.io/v1 Event. Cloud Logging keeps most of the
// event under other names; the rest is inferred as stated:
//
//	audit Event                 LogEntry
//	auditID                     operation.id (GKE sets it to the audit ID), else insertId
//	verb                        last segment of protoPayload.methodName (io.k8s.core.v1.pods.exec.create)
//	objectRef.resource/sub...   methodName after the API version (pods, exec)
//	objectRef.apiGroup/version  protoPayload.resourceName (core/v1/namespaces/NS/pods/NAME/exec; core is "")
//	objectRef.namespace/name    resourceName
//	requestURI                  rebuilt from resourceName (/api/v1/namespaces/NS/pods/NAME/exec); no query
//	user.username               protoPayload.authenticationInfo.principalEmail
//	sourceIPs                   protoPayload.requestMetadata.callerIp
//	userAgent                   protoPayload.requestMetadata.callerSuppliedUserAgent
//	responseStatus.code         the Kubernetes Status in protoPayload.response when there is one;
//	                            else protoPayload.status.code (a gRPC code) as HTTP: 0 is 200
//	                            (201 for create, 101 for exec/attach/portforward), 3 400, 5 404,
//	                            6 409, 7 403, 8 429, 16 401, ...
//	annotations                 LogEntry labels (authorization.k8s.io/decision, ...); without a
//	                            decision label, authorizationInfo[].granted: all granted is
//	                            allow, a denial (or PERMISSION_DENIED) is forbid
//	requestObject/responseObject protoPayload.request/response
//	level                       RequestResponse with a response body, Request with a request body, else Metadata
//	stage                       ResponseComplete
//	stageTimestamp              timestamp (Cloud Logging keeps one time; requestReceivedTimestamp is left out)
//	cluster                     resource.labels.cluster_name

// auditLog holds the parts of a protoPayload the mapping reads.
type auditLog struct {
	typ, service, method, resourceName  string
	principal, callerIP, userAgent      string
	statusCode                          int
	hasStatusCode                       bool
	statusMsg                           string
	granted, denied, ungranted          int // authorizationInfo entries
	request, response                   span
	respKind                            string
	respCode                            int
	decisionLabel, reasonLabel, cluster string
	opID                                string
	labels                              [][2]string // LogEntry labels
}

const auditLogType = "type.googleapis.com/google.cloud.audit.AuditLog"

// logEntry decodes a Cloud Logging LogEntry with a protoPayload.
func (d *Decoder) logEntry(dst []Event, rejs *[]Reject, doc []byte, start, end int, r *record, o Origin, depth int) []Event {
	raw := doc[start:end]
	var a auditLog
	if err := a.parse(doc, r); err != nil {
		*rejs = append(*rejs, *d.malformed(doc, o, err))
		return dst
	}
	switch {
	case a.typ != "" && a.typ != auditLogType:
		*rejs = append(*rejs, *newReject(o, raw, fmt.Sprintf("Cloud Logging entry whose protoPayload is a %s, not an audit log", clip(a.typ, 80))))
		return dst
	case a.service != "k8s.io":
		*rejs = append(*rejs, *newReject(o, raw, fmt.Sprintf("Cloud Audit Logs entry of service %q (method %q): not a Kubernetes API audit event (GKE's API server logs under serviceName k8s.io)", clip(a.service, 80), clip(a.method, 80))))
		return dst
	case a.method == "":
		*rejs = append(*rejs, *newReject(o, raw, "GKE audit LogEntry without protoPayload.methodName"))
		return dst
	}
	line := a.eventJSON(doc, r)
	var sub []Reject
	n0 := len(dst)
	dst = d.decodeValue(dst, &sub, line, o, depth+1)
	for _, rj := range sub {
		*rejs = append(*rejs, *newReject(o, raw, "GKE LogEntry: "+rj.Reason))
	}
	for i := n0; i < len(dst); i++ {
		e := &dst[i]
		e.Raw = raw
		e.Origin = o
		e.Carrier = CarrierLogEntry
		e.Principal = a.principal
		if a.cluster != "" {
			e.Cluster = a.cluster
		}
	}
	return dst
}

func (a *auditLog) parse(doc []byte, r *record) error {
	s := newScanner(doc[:r.proto.end], r.proto.start)
	err := members(&s, func(k string) error {
		var err error
		switch k {
		case "@type":
			a.typ, err = s.strOrSkip()
		case "serviceName":
			a.service, err = s.strOrSkip()
		case "methodName":
			a.method, err = s.strOrSkip()
		case "resourceName":
			a.resourceName, err = s.strOrSkip()
		case "authenticationInfo":
			err = members(&s, func(k string) error {
				if k == "principalEmail" {
					var err error
					a.principal, err = s.strOrSkip()
					return err
				}
				return s.SkipValue(3)
			})
		case "requestMetadata":
			err = members(&s, func(k string) error {
				var err error
				switch k {
				case "callerIp", "callerIP":
					a.callerIP, err = s.strOrSkip()
				case "callerSuppliedUserAgent":
					a.userAgent, err = s.strOrSkip()
				default:
					err = s.SkipValue(3)
				}
				return err
			})
		case "status":
			err = members(&s, func(k string) error {
				switch k {
				case "code":
					if c := s.B[s.I]; c == '-' || c >= '0' && c <= '9' {
						num, err := s.Number()
						if err != nil {
							return err
						}
						if n, perr := strconv.Atoi(string(num)); perr == nil {
							a.statusCode, a.hasStatusCode = n, true
						}
						return nil
					}
				case "message":
					var err error
					a.statusMsg, err = s.strOrSkip()
					return err
				}
				return s.SkipValue(3)
			})
		case "authorizationInfo":
			if s.IsNull() {
				return nil
			}
			if err := s.BeginArray(); err != nil {
				return err
			}
			for first := true; ; first = false {
				done, err := s.NextElem(first)
				if err != nil || done {
					return err
				}
				granted := 0 // absent: false in proto3 JSON
				if err := members(&s, func(k string) error {
					if k == "granted" {
						switch {
						case s.B[s.I] == 't':
							granted = 1
						case s.B[s.I] == 'f':
							granted = -1
						}
					}
					return s.SkipValue(4)
				}); err != nil {
					return err
				}
				switch granted {
				case 1:
					a.granted++
				case -1:
					a.denied++
				default:
					a.ungranted++
				}
			}
		case "request":
			if !s.IsNull() {
				a.request, err = s.valueSpan(2)
			}
		case "response":
			if s.IsNull() {
				return nil
			}
			if s.B[s.I] != '{' {
				a.response, err = s.valueSpan(2)
				return err
			}
			st := s.I
			err = members(&s, func(k string) error {
				var err error
				switch k {
				case "kind":
					a.respKind, err = s.strOrSkip()
				case "@type":
					var t string
					if t, err = s.strOrSkip(); strings.HasSuffix(t, ".Status") && a.respKind == "" {
						a.respKind = "Status"
					}
				case "code":
					if c := s.B[s.I]; c >= '0' && c <= '9' {
						var num []byte
						if num, err = s.Number(); err == nil {
							a.respCode, _ = strconv.Atoi(string(num))
						}
						return err
					}
					err = s.SkipValue(3)
				default:
					err = s.SkipValue(3)
				}
				return err
			})
			a.response = span{st, s.I}
		default:
			err = s.SkipValue(2)
		}
		return err
	})
	if err != nil {
		return err
	}
	if r.labels.end > 0 {
		s := newScanner(doc[:r.labels.end], r.labels.start)
		if err := members(&s, func(k string) error {
			if s.B[s.I] != '"' {
				return s.SkipValue(2)
			}
			v, err := s.str()
			if err != nil {
				return err
			}
			switch k {
			case "authorization.k8s.io/decision":
				a.decisionLabel = v
			case "authorization.k8s.io/reason":
				a.reasonLabel = v
			}
			a.labels = append(a.labels, [2]string{k, v})
			return nil
		}); err != nil {
			return err
		}
	}
	if r.resource.end > 0 {
		s := newScanner(doc[:r.resource.end], r.resource.start)
		if err := members(&s, func(k string) error {
			if k != "labels" {
				return s.SkipValue(2)
			}
			return members(&s, func(k string) error {
				if k == "cluster_name" {
					var err error
					a.cluster, err = s.strOrSkip()
					return err
				}
				return s.SkipValue(3)
			})
		}); err != nil {
			return err
		}
	}
	if r.operation.end > 0 {
		s := newScanner(doc[:r.operation.end], r.operation.start)
		if err := members(&s, func(k string) error {
			if k == "id" {
				var err error
				a.opID, err = s.strOrSkip()
				return err
			}
			return s.SkipValue(2)
		}); err != nil {
			return err
		}
	}
	return nil
}

// grpcHTTP maps google.rpc.Code to the HTTP status the API server answered
// with (the mapping of google.rpc.Code's documentation).
var grpcHTTP = map[int]int{
	1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
	9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

// k8sPath splits resourceName: api group ("" for core), version, the path
// after them.
func k8sPath(resourceName string) (group, version, rest string, ok bool) {
	parts := strings.SplitN(resourceName, "/", 3)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" || !isAPIVersion(parts[1]) {
		return "", "", "", false
	}
	group = parts[0]
	if group == "core" {
		group = ""
	}
	return group, parts[1], parts[2], true
}

// isAPIVersion reports whether s looks like v1, v1beta1, v2alpha3.
func isAPIVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] < '0' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// eventJSON builds the audit.k8s.io/v1 Event of the LogEntry.
func (a *auditLog) eventJSON(doc []byte, r *record) []byte {
	// verb, resource, subresource from methodName: io.k8s.<group>.<version>.<resource>[.<sub>].<verb>
	m := strings.Split(a.method, ".")
	verb := m[len(m)-1]
	var resource, sub string
	for i := 2; i < len(m)-1; i++ {
		if isAPIVersion(m[i]) {
			if i+1 < len(m)-1 {
				resource = m[i+1]
			}
			if i+2 < len(m)-1 {
				sub = strings.Join(m[i+2:len(m)-1], "/")
			}
			break
		}
	}
	// group, version, namespace, name from resourceName.
	group, version, rest, isRes := k8sPath(a.resourceName)
	var ns, name string
	uri := "/" + a.resourceName
	if isRes {
		p := strings.Split(rest, "/")
		if len(p) >= 2 && p[0] == "namespaces" && !(len(p) == 3 && (p[2] == "status" || p[2] == "finalize")) && len(p) != 2 {
			ns, p = p[1], p[2:]
		}
		if len(p) >= 1 && resource == "" {
			resource = p[0]
		}
		if len(p) >= 2 {
			name = p[1]
		}
		if len(p) >= 3 && sub == "" {
			sub = strings.Join(p[2:], "/")
		}
		if group == "" {
			uri = "/api/" + version + "/" + rest
		} else {
			uri = "/apis/" + group + "/" + version + "/" + rest
		}
	}
	level := "Metadata"
	switch {
	case a.response.end > 0:
		level = "RequestResponse"
	case a.request.end > 0:
		level = "Request"
	}
	code := a.httpCode(verb, sub)
	decision := a.decisionLabel
	if decision == "" {
		switch {
		case a.denied > 0 || (a.ungranted > 0 && a.statusCode == 7):
			decision = "forbid"
		case a.granted > 0 && a.ungranted == 0:
			decision = "allow"
		}
	}
	auditID := a.opID
	if auditID == "" {
		auditID = r.insertID
	}

	b := make([]byte, 0, 512+(a.request.end-a.request.start)+(a.response.end-a.response.start))
	b = append(b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":`...)
	b = appendJSONString(b, level)
	field := func(k, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = appendJSONString(b, v)
		}
	}
	field("auditID", auditID)
	b = append(b, `,"stage":"ResponseComplete"`...)
	field("requestURI", uri)
	field("verb", verb)
	b = append(b, `,"user":{`...)
	if a.principal != "" {
		b = append(b, `"username":`...)
		b = appendJSONString(b, a.principal)
	}
	b = append(b, '}')
	if a.callerIP != "" {
		b = append(b, `,"sourceIPs":[`...)
		b = appendJSONString(b, a.callerIP)
		b = append(b, ']')
	}
	field("userAgent", a.userAgent)
	if resource != "" {
		b = append(b, `,"objectRef":{"resource":`...)
		b = appendJSONString(b, resource)
		for _, kv := range [...][2]string{{"namespace", ns}, {"name", name}, {"apiGroup", group}, {"apiVersion", version}, {"subresource", sub}} {
			field(kv[0], kv[1])
		}
		b = append(b, '}')
	}
	b = append(b, `,"responseStatus":{"metadata":{}`...)
	if code != 0 {
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(code), 10)
	}
	if code >= 400 {
		b = append(b, `,"status":"Failure"`...)
	}
	field("message", a.statusMsg)
	b = append(b, '}')
	if a.request.end > 0 {
		b = append(b, `,"requestObject":`...)
		b = append(b, doc[a.request.start:a.request.end]...)
	}
	if a.response.end > 0 {
		b = append(b, `,"responseObject":`...)
		b = append(b, doc[a.response.start:a.response.end]...)
	}
	if r.legacyTS != "" {
		field("stageTimestamp", r.legacyTS)
	}
	// Annotations: the LogEntry labels as they are, plus the decision when
	// it was inferred.
	b = append(b, `,"annotations":{`...)
	n := 0
	for _, kv := range a.labels {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, kv[0])
		b = append(b, ':')
		b = appendJSONString(b, kv[1])
		n++
	}
	if a.decisionLabel == "" && decision != "" {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"authorization.k8s.io/decision":`...)
		b = appendJSONString(b, decision)
	}
	b = append(b, '}', '}')
	return b
}

// httpCode is the HTTP status of the request (see the table above).
func (a *auditLog) httpCode(verb, sub string) int {
	if a.respKind == "Status" && a.respCode != 0 {
		return a.respCode
	}
	if a.hasStatusCode && a.statusCode != 0 {
		if c, ok := grpcHTTP[a.statusCode]; ok {
			return c
		}
		return 500
	}
	switch {
	case sub == "exec" || sub == "attach" || sub == "portforward":
		return 101
	case verb == "create":
		return 201
	}
	return 200
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
