package auditpolicy

// seedDetectionsForTest lists the label filters of the seed's five Loki
// ruler rules (../shared/seed/loki-audit-rules.yaml).
func seedDetectionsForTest() []Detection {
	return []Detection{
		DetectionFromFilters("UnauthorizedAPIAccess", []LabelFilter{{"responseStatus_code", ">=", "401"}, {"responseStatus_code", "<", "500"}}, false),
		DetectionFromFilters("SecretAccessed", []LabelFilter{{"objectRef_resource", "=", "secrets"}, {"verb", "=~", "get|list"}}, false),
		DetectionFromFilters("RBACModification", []LabelFilter{{"objectRef_resource", "=~", "roles|rolebindings|clusterroles|clusterrolebindings"}, {"verb", "=~", "create|update|patch|delete"}}, false),
		DetectionFromFilters("PodExecDetected", []LabelFilter{{"objectRef_resource", "=", "pods"}, {"objectRef_subresource", "=", "exec"}}, false),
		DetectionFromFilters("ServiceAccountTokenCreated", []LabelFilter{{"objectRef_resource", "=", "serviceaccounts"}, {"objectRef_subresource", "=", "token"}, {"verb", "=", "create"}}, false),
	}
}
