package data

import "testing"

// TestFieldTypo: a name that misspells a field is a typo of it, under a
// family too (annotations_authorization_k8s_io_decisio is an annotation to
// `| json`, but the one meant is the decision); fields, names far from
// every field and other names under a family (an annotation the schema
// does not name, a request body's field) are not.
func TestFieldTypo(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"objectRef_resorce", "objectRef_resource"},
		{"objectref_namespace", "objectRef_namespace"},
		{"requestObjct_spec_replicas", "requestObject_spec_replicas"},
		{"annotations_authorization_k8s_io_decisio", "annotations_authorization_k8s_io_decision"},
		{"annotations_authorization_k8s_io_decisions", "annotations_authorization_k8s_io_decision"},
		{"Annotations_Authorization_k8s_io_Reason", "annotations_authorization_k8s_io_reason"},
		{"annotations_pod_security_kubernetes_io_audit_violation", "annotations_pod_security_kubernetes_io_audit_violations"},
		{"objectRef_resource", ""},
		{"annotations_authorization_k8s_io_decision", ""},
		{"annotations_mutation_webhook_admission_k8s_io_round_0_index_0", ""},
		{"annotations_pod_security_kubernetes_io_enforce_policy", ""},
		{"requestObject_spec_replicas", ""},
		{"responseObject_metadata_name", ""},
		{"priv", ""},
	} {
		got, ok := FieldTypo(tc.name)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("FieldTypo(%s) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}
