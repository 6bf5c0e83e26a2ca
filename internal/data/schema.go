package data

import (
	"strconv"
	"strings"
)

// The event schema: one table names every field audittui knows, under the
// name Loki's `| json` parser gives it (nested keys joined by "_", every
// character outside [A-Za-z0-9_] replaced by "_", arrays skipped), with its
// JSON path in the event, how to read it from a decoded Event, whether the
// TUI keeps it as a dictionary column, how many distinct values it takes
// and the lowest audit level that records it.
//
// Everything that names fields derives from this table: Event.Field (a
// switch checked against it by TestFieldSwitchMatchesSchema, because a
// switch is faster than any table lookup), KnownFields, the literal
// prefilter (PrefilterFor), the TUI's index columns and completion, the
// audit-policy detections' level needs (LevelOf) and the Loki sink's
// high-cardinality warning (HighCardinalityLabel).

// Level is an audit policy level: the lowest level at which the apiserver
// records a field. The values order as the levels do.
type Level uint8

// The audit levels that record fields (None records nothing).
const (
	LevelMetadata Level = iota + 1
	LevelRequest
	LevelRequestResponse
)

// String returns the level as the audit policy spells it.
func (l Level) String() string {
	switch l {
	case LevelMetadata:
		return "Metadata"
	case LevelRequest:
		return "Request"
	case LevelRequestResponse:
		return "RequestResponse"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// Cardinality says how many distinct values a field takes in a cluster:
// a high-cardinality field makes a poor Loki stream label (every value is
// a new stream).
type Cardinality uint8

// Cardinalities.
const (
	LowCardinality Cardinality = iota
	HighCardinality
)

// FieldKind says how LogQL reaches a field.
type FieldKind uint8

// Field kinds.
const (
	// FieldJSON: `| json` produces the field under Name.
	FieldJSON FieldKind = iota
	// FieldExpr: `| json` skips it (an array element); a JSON expression
	// stage reaches it, `| json Name="Path"`, and Name is the label
	// audittui writes in that stage.
	FieldExpr
	// FieldFamily: every field under Path; `| json` names them Name
	// followed by the rest of their path (requestObject_spec_replicas).
	FieldFamily
	// FieldDerived: no JSON path holds it; the decoder derives it from
	// other fields (Path is ""), and Stage, after `| json`, makes the
	// label in LogQL (audittui's and Loki's alike): dryRun.
	FieldDerived
)

// FieldSpec is one row of the schema.
type FieldSpec struct {
	// Name is the label LogQL filters on: exactly what `| json` produces
	// (FieldJSON), the label of the `| json Name="Path"` stage audittui
	// writes (FieldExpr), the label Stage sets (FieldDerived), or the
	// prefix of a family (FieldFamily, ends with "_").
	Name string
	// Path is the field's place in the event in Loki's JSON expression
	// syntax (also valid jq after a leading "."): user.username,
	// sourceIPs[0], annotations["authorization.k8s.io/decision"]. ""
	// for a derived field.
	Path string
	Kind FieldKind
	// Get reads the field from a decoded event (ok is false when it is
	// absent or empty). nil: the decoder does not keep it, and LogQL reads
	// it from the raw line.
	Get func(e *Event) (value string, ok bool)
	// Indexed: the TUI keeps it as a dictionary column (filters on it cost
	// one table lookup per row, no re-read). Requires Get.
	Indexed bool
	// Cardinality: high makes a poor Loki stream label.
	Cardinality Cardinality
	// Level is the lowest audit level that records the field.
	Level Level
	// Wrapper: a key of the record that wraps the event (Fluent Bit's
	// modify filter adds cluster), not of the audit event. Sources often
	// have a stream label of the same name, so a filter on it never gives
	// the prefilter a literal.
	Wrapper bool
}

// Stage returns the LogQL stage that makes the field a label: "json" for
// what `| json` produces, `json sourceIP="sourceIPs[0]"` for an expression
// field, the stages after `| json` that derive a derived field
// (DryRunStage).
func (f *FieldSpec) Stage() string {
	switch f.Kind {
	case FieldExpr:
		return "json " + f.Name + "=" + strconv.Quote(f.Path)
	case FieldDerived:
		return DryRunStage()
	}
	return "json"
}

// schema is the table. Order matters only for display: completion and the
// TUI's columns follow it.
var schema = [...]FieldSpec{
	{Name: "kind", Path: "kind", Level: LevelMetadata},
	{Name: "apiVersion", Path: "apiVersion", Level: LevelMetadata,
		Get: func(e *Event) (string, bool) { return e.APIVersion, e.APIVersion != "" }},
	{Name: "level", Path: "level", Level: LevelMetadata,
		Get: func(e *Event) (string, bool) { return e.Level, e.Level != "" }},
	{Name: "auditID", Path: "auditID", Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.AuditID, e.AuditID != "" }},
	{Name: "stage", Path: "stage", Level: LevelMetadata, Indexed: true,
		Get: func(e *Event) (string, bool) { return e.Stage, e.Stage != "" }},
	{Name: "requestURI", Path: "requestURI", Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.RequestURI, e.RequestURI != "" }},
	// Whether the request was a server-side dry run (dryrun.go): "true",
	// or absent. Derived from requestURI's query (a delete's from its
	// body when one was logged).
	{Name: DryRunLabel, Kind: FieldDerived, Level: LevelMetadata,
		Get: func(e *Event) (string, bool) {
			if e.DryRun {
				return "true", true
			}
			return "", false
		}},
	{Name: "verb", Path: "verb", Level: LevelMetadata, Indexed: true,
		Get: func(e *Event) (string, bool) { return e.Verb, e.Verb != "" }},
	{Name: "user_username", Path: "user.username", Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.User, e.User != "" }},
	{Name: "user_uid", Path: "user.uid", Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UID, e.UID != "" }},
	{Name: "impersonatedUser_username", Path: "impersonatedUser.username", Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.ImpUser, e.ImpUser != "" }},
	// sourceIP is the first address only: X-Forwarded-For's when the
	// client sent that header (any value it likes); the API server lists
	// the address its connection came from last. `| json x="sourceIPs"`
	// (SourceIPsPath) reads them all; the TUI's IP pivot matches any.
	{Name: "sourceIP", Path: "sourceIPs[0]", Kind: FieldExpr, Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) {
			if len(e.SourceIPs) == 0 {
				return "", false
			}
			return e.SourceIPs[0], e.SourceIPs[0] != ""
		}},
	{Name: "userAgent", Path: "userAgent", Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserAgent, e.UserAgent != "" }},
	// The people and credentials behind the identity (identity.go):
	// user.extra values are arrays, which `| json` skips.
	{Name: "userArn", Path: "user.extra.arn[0]", Kind: FieldExpr, Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserARN, e.UserARN != "" }},
	{Name: "userSessionName", Path: "user.extra.sessionName[0]", Kind: FieldExpr, Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserSession, e.UserSession != "" }},
	{Name: "userAccessKeyId", Path: "user.extra.accessKeyId[0]", Kind: FieldExpr, Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserAccessKey, e.UserAccessKey != "" }},
	{Name: "userPodName", Path: `user.extra["` + extraPodName + `"][0]`, Kind: FieldExpr, Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserPod, e.UserPod != "" }},
	{Name: "userNodeName", Path: `user.extra["` + extraNodeName + `"][0]`, Kind: FieldExpr, Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserNode, e.UserNode != "" }},
	{Name: "userCredentialId", Path: `user.extra["` + extraCredentialID + `"][0]`, Kind: FieldExpr, Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.UserCredential, e.UserCredential != "" }},
	{Name: "objectRef_resource", Path: "objectRef.resource", Level: LevelMetadata, Indexed: true,
		Get: func(e *Event) (string, bool) { return e.Resource, e.Resource != "" }},
	{Name: "objectRef_subresource", Path: "objectRef.subresource", Level: LevelMetadata, Indexed: true,
		Get: func(e *Event) (string, bool) { return e.Subresource, e.Subresource != "" }},
	{Name: "objectRef_namespace", Path: "objectRef.namespace", Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.Namespace, e.Namespace != "" }},
	{Name: "objectRef_name", Path: "objectRef.name", Level: LevelMetadata, Indexed: true, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.Name, e.Name != "" }},
	{Name: "objectRef_uid", Path: "objectRef.uid", Level: LevelMetadata, Cardinality: HighCardinality},
	{Name: "objectRef_apiGroup", Path: "objectRef.apiGroup", Level: LevelMetadata, Indexed: true,
		Get: func(e *Event) (string, bool) { return e.APIGroup, e.APIGroup != "" }},
	{Name: "objectRef_apiVersion", Path: "objectRef.apiVersion", Level: LevelMetadata,
		Get: func(e *Event) (string, bool) { return e.ObjAPIVer, e.ObjAPIVer != "" }},
	{Name: "objectRef_resourceVersion", Path: "objectRef.resourceVersion", Level: LevelMetadata, Cardinality: HighCardinality},
	{Name: "responseStatus_code", Path: "responseStatus.code", Level: LevelMetadata, Indexed: true,
		Get: func(e *Event) (string, bool) {
			if e.Code == 0 {
				return "", false
			}
			return codeString(e.Code), true
		}},
	{Name: "responseStatus_status", Path: "responseStatus.status", Level: LevelMetadata,
		Get: func(e *Event) (string, bool) { return e.Status, e.Status != "" }},
	{Name: "responseStatus_reason", Path: "responseStatus.reason", Level: LevelMetadata,
		Get: func(e *Event) (string, bool) { return e.Reason, e.Reason != "" }},
	{Name: "responseStatus_message", Path: "responseStatus.message", Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.Message, e.Message != "" }},
	{Name: "requestObject_", Path: "requestObject", Kind: FieldFamily, Level: LevelRequest, Cardinality: HighCardinality},
	{Name: "responseObject_", Path: "responseObject", Kind: FieldFamily, Level: LevelRequestResponse, Cardinality: HighCardinality},
	{Name: "requestReceivedTimestamp", Path: "requestReceivedTimestamp", Level: LevelMetadata, Cardinality: HighCardinality},
	{Name: "stageTimestamp", Path: "stageTimestamp", Level: LevelMetadata, Cardinality: HighCardinality},
	{Name: "annotations_authorization_k8s_io_decision", Path: `annotations["authorization.k8s.io/decision"]`, Level: LevelMetadata,
		Get: func(e *Event) (string, bool) { return e.Decision, e.Decision != "" }},
	{Name: "annotations_authorization_k8s_io_reason", Path: `annotations["authorization.k8s.io/reason"]`, Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.AuthReason, e.AuthReason != "" }},
	{Name: "annotations_pod_security_kubernetes_io_audit_violations", Path: `annotations["pod-security.kubernetes.io/audit-violations"]`, Level: LevelMetadata, Cardinality: HighCardinality,
		Get: func(e *Event) (string, bool) { return e.PodSecurityViolations, e.PodSecurityViolations != "" }},
	{Name: "annotations_", Path: "annotations", Kind: FieldFamily, Level: LevelMetadata, Cardinality: HighCardinality},
	{Name: "cluster", Path: "cluster", Level: LevelMetadata, Wrapper: true,
		Get: func(e *Event) (string, bool) { return e.Cluster, e.Cluster != "" }},
}

// Fields returns the schema, in table order (a copy: callers may keep it).
func Fields() []FieldSpec { return append([]FieldSpec(nil), schema[:]...) }

var (
	byName = map[string]int{}
	byPath = map[string]int{}
)

func init() {
	for i := range schema {
		f := &schema[i]
		if f.Kind != FieldFamily {
			byName[f.Name] = i
		}
		if f.Kind != FieldDerived {
			byPath[f.Path] = i
		}
		if f.Kind == FieldJSON && f.Get != nil {
			KnownFields = append(KnownFields, f.Name)
		}
	}
}

// FieldByName returns the field LogQL filters under name: a `| json` name
// or the label of an expression field. Families are not returned (see
// LevelOf for names under them).
func FieldByName(name string) (FieldSpec, bool) {
	i, ok := byName[name]
	if !ok {
		return FieldSpec{}, false
	}
	return schema[i], true
}

// FieldByPath returns the field at a JSON expression path, spelled as the
// table spells it (`| json ip="sourceIPs[0]"` finds sourceIP).
func FieldByPath(path string) (FieldSpec, bool) {
	i, ok := byPath[path]
	if !ok || schema[i].Kind == FieldFamily {
		return FieldSpec{}, false
	}
	return schema[i], true
}

// LevelOf returns the lowest audit level that records the field `| json`
// names name: the table's level for a field or a family it belongs to
// (requestObject_spec_replicas needs Request), Metadata for anything
// else.
func LevelOf(name string) Level {
	if i, ok := byName[name]; ok && schema[i].Kind == FieldJSON {
		return schema[i].Level
	}
	for i := range schema {
		if f := &schema[i]; f.Kind == FieldFamily && strings.HasPrefix(name, f.Name) {
			return f.Level
		}
	}
	return LevelMetadata
}

// HighCardinalityLabel reports whether a stream label of this name, as a
// shipper derives it from an event field, takes many values: the field's
// `| json` name (user_username), the record-accessor spelling of its path
// (sourceIPs_0 for $sourceIPs[0]), the array it is an element of
// (sourceIPs), or any name in a high-cardinality family.
func HighCardinalityLabel(label string) bool {
	for i := range schema {
		f := &schema[i]
		if f.Cardinality != HighCardinality {
			continue
		}
		switch f.Kind {
		case FieldFamily:
			if strings.HasPrefix(label, f.Name) || label == strings.TrimSuffix(f.Name, "_") {
				return true
			}
		case FieldExpr:
			if label == f.Name || label == accessorName(f.Path) || label == arrayOf(f.Path) {
				return true
			}
		default:
			if label == f.Name {
				return true
			}
		}
	}
	return false
}

// accessorName is the label a Fluent Bit record accessor ($sourceIPs[0])
// makes of a path: its keys and indexes joined by "_", other characters
// outside [A-Za-z0-9_] replaced by "_".
func accessorName(path string) string {
	p := strings.NewReplacer("[", "_", "]", "", `"`, "").Replace(path)
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, p)
}

// arrayOf returns the array a path indexes into (sourceIPs for
// sourceIPs[0]), or "".
func arrayOf(path string) string {
	if i := strings.IndexByte(path, '['); i > 0 {
		return path[:i]
	}
	return ""
}
