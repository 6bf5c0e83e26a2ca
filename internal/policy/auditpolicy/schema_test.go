package auditpolicy

import (
	"slices"
	"testing"
)

// TestLevelsFromSchema: the level a detection needs for a field is the
// schema's, and the metadata keys a line filter may name are the schema's
// Metadata-level top-level keys (the same set as the list they replace).
func TestLevelsFromSchema(t *testing.T) {
	for name, want := range map[string]string{
		"verb": LevelMetadata, "user_username": LevelMetadata, "annotations_authorization_k8s_io_decision": LevelMetadata,
		"requestObject_spec_containers": LevelRequest, "responseObject_data_token": LevelRequestResponse,
		"unknown_field": LevelMetadata,
	} {
		if got := levelForField(name); got != want {
			t.Errorf("levelForField(%q) = %s, want %s", name, got, want)
		}
	}
	want := []string{"auditID", "stage", "requestURI", "verb", "user", "impersonatedUser",
		"sourceIPs", "userAgent", "objectRef", "responseStatus", "annotations", "requestReceivedTimestamp",
		"stageTimestamp"}
	got := slices.Clone(metadataKeys)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("metadataKeys = %v, want %v", got, want)
	}
	d := DetectionFromFilters("x", []LabelFilter{{Name: "requestObject_spec_hostPID", Op: "=", Value: "true"}}, nil)
	if d.NeedsLevel != LevelRequest {
		t.Errorf("a filter on requestObject_* needs %s, want Request", d.NeedsLevel)
	}
}
