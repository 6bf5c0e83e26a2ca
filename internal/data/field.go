package data

import (
	"strconv"
	"strings"

	"github.com/audittui/audittui/internal/data/logql"
)

// Field returns the value Loki's `| json` parser extracts from this event
// under the flattened name (nested keys joined with "_", characters outside
// [A-Za-z0-9_] replaced by "_", arrays skipped), for the fields the decoder
// keeps. known is false for names outside that set: callers fall back to
// flattening Raw (see the logql package).
//
// The names and getters are those of the schema (schema.go); this switch
// exists because it is several times faster than any table lookup, and
// TestFieldSwitchMatchesSchema proves the two agree: every FieldJSON entry
// with a getter is a case returning what the getter returns, and no other
// name is known.
func (e *Event) Field(name string) (value string, ok, known bool) {
	switch name {
	case "apiVersion":
		return e.APIVersion, e.APIVersion != "", true
	case "level":
		return e.Level, e.Level != "", true
	case "auditID":
		return e.AuditID, e.AuditID != "", true
	case "stage":
		return e.Stage, e.Stage != "", true
	case "requestURI":
		return e.RequestURI, e.RequestURI != "", true
	case "verb":
		return e.Verb, e.Verb != "", true
	case "userAgent":
		return e.UserAgent, e.UserAgent != "", true
	case "user_username":
		return e.User, e.User != "", true
	case "user_uid":
		return e.UID, e.UID != "", true
	case "impersonatedUser_username":
		return e.ImpUser, e.ImpUser != "", true
	case "objectRef_resource":
		return e.Resource, e.Resource != "", true
	case "objectRef_subresource":
		return e.Subresource, e.Subresource != "", true
	case "objectRef_namespace":
		return e.Namespace, e.Namespace != "", true
	case "objectRef_name":
		return e.Name, e.Name != "", true
	case "objectRef_apiGroup":
		return e.APIGroup, e.APIGroup != "", true
	case "objectRef_apiVersion":
		return e.ObjAPIVer, e.ObjAPIVer != "", true
	case "responseStatus_code":
		if e.Code == 0 {
			return "", false, true
		}
		return codeString(e.Code), true, true
	case "responseStatus_status":
		return e.Status, e.Status != "", true
	case "responseStatus_reason":
		return e.Reason, e.Reason != "", true
	case "responseStatus_message":
		return e.Message, e.Message != "", true
	case "annotations_authorization_k8s_io_decision":
		return e.Decision, e.Decision != "", true
	case "annotations_authorization_k8s_io_reason":
		return e.AuthReason, e.AuthReason != "", true
	case "annotations_pod_security_kubernetes_io_audit_violations":
		return e.PodSecurityViolations, e.PodSecurityViolations != "", true
	case "cluster":
		return e.Cluster, e.Cluster != "", true
	}
	return "", false, false
}

// KnownFields lists the flattened names Field answers without re-parsing
// (the schema's `| json` fields that have a getter), in table order.
var KnownFields []string

// PrefilterFor returns the prefilter of a log query (nil when the query
// has no literal every matching line must contain). Literals are only taken
// from filters on the schema's audit fields (and the families under them,
// such as requestObject_*), so a stream label of any source (job, filename,
// cluster, bucket, ...) can never be mistaken for a JSON field.
func PrefilterFor(q *logql.LogQuery) *Prefilter {
	lits := q.RequiredLiteralsFor(func(name string) bool { return !isEventField(name) })
	if len(lits) == 0 {
		return nil
	}
	return &Prefilter{All: lits}
}

// isEventField reports whether name is what `| json` makes of a key of the
// audit event itself (not of a wrapping record).
func isEventField(name string) bool {
	if i, ok := byName[name]; ok {
		return schema[i].Kind == FieldJSON && !schema[i].Wrapper
	}
	for i := range schema {
		if f := &schema[i]; f.Kind == FieldFamily && !f.Wrapper && strings.HasPrefix(name, f.Name) {
			return true
		}
	}
	return false
}

// codeText holds the texts of the status codes 0 to 999, so that the
// responseStatus_code label costs no allocation per event.
var codeText = func() (t [1000]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// codeString is strconv.Itoa(c), without allocating for an HTTP status.
func codeString(c int) string {
	if c >= 0 && c < len(codeText) {
		return codeText[c]
	}
	return strconv.Itoa(c)
}
