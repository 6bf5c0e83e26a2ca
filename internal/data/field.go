package data

import (
	"strconv"

	"github.com/audittui/audittui/internal/data/logql"
)

// Field returns the value Loki's `| json` parser extracts from this event
// under the flattened name (nested keys joined with "_", characters outside
// [A-Za-z0-9_] replaced by "_", arrays skipped), for the fields the decoder
// keeps. known is false for names outside that set: callers fall back to
// flattening Raw (see the logql package).
func (e *Event) Field(name string) (value string, ok, known bool) {
	switch name {
	case "kind":
		return "", false, false
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
		return strconv.Itoa(e.Code), true, true
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
	case "cluster":
		return e.Cluster, e.Cluster != "", true
	}
	return "", false, false
}

// KnownFields lists the flattened names Field answers without re-parsing.
var KnownFields = []string{
	"apiVersion", "level", "auditID", "stage", "requestURI", "verb", "userAgent",
	"user_username", "user_uid", "impersonatedUser_username",
	"objectRef_resource", "objectRef_subresource", "objectRef_namespace", "objectRef_name",
	"objectRef_apiGroup", "objectRef_apiVersion",
	"responseStatus_code", "responseStatus_status", "responseStatus_reason", "responseStatus_message",
	"annotations_authorization_k8s_io_decision", "annotations_authorization_k8s_io_reason",
}

var knownFieldSet = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range KnownFields {
		m[f] = true
	}
	return m
}()

// PrefilterFor returns the prefilter of a log query (nil when the query
// has no literal every matching line must contain). Literals are only taken
// from filters on the audit fields the decoder knows, so a stream label of
// any source (job, filename, cluster, bucket, ...) can never be mistaken for
// a JSON field.
func PrefilterFor(q *logql.LogQuery) *Prefilter {
	lits := q.RequiredLiteralsFor(func(name string) bool { return !knownFieldSet[name] })
	if len(lits) == 0 {
		return nil
	}
	return &Prefilter{All: lits}
}
