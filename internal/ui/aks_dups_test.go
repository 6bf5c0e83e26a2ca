package ui

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// TestAKSBothCategoriesIndexedOnce: an AKS export with both kube-audit and
// kube-audit-admin holds every write twice, in records that differ only by
// category (review G finding 5). The index holds the events of the
// audit.log once, in any order of the records; a record read twice (the
// PT1H.json given twice) is still a copy, and R names the categories.
func TestAKSBothCategoriesIndexedOnce(t *testing.T) {
	var lines []string
	for _, f := range testutil.RealAuditFiles(t) {
		lines = append(lines, fixtureLines(t, f)...)
	}
	record := func(line, category string) string {
		rec := map[string]any{
			"category": category, "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
			"properties": map[string]any{"log": line, "stream": "stdout", "pod": "kube-apiserver-7c9d8b6f5-q2w3e"},
			"resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-REAL",
			"time":       "2026-11-20T02:00:00.0000000Z",
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var kube, admin []string
	for _, l := range lines {
		kube = append(kube, record(l, "kube-audit"))
		var ev struct{ Verb string }
		json.Unmarshal([]byte(l), &ev)
		if ev.Verb != "get" && ev.Verb != "list" {
			admin = append(admin, record(l, "kube-audit-admin"))
		}
	}
	alone := readIndex(t, writeLines(t, "kube-audit.json", kube))
	want := alone.Snapshot()
	shuffled := append(slices.Clone(kube), admin...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, recs := range map[string][]string{
		"kube-audit first":       append(slices.Clone(kube), admin...),
		"kube-audit-admin first": append(slices.Clone(admin), kube...),
		"shuffled":               shuffled,
	} {
		ix := readIndex(t, writeLines(t, "PT1H.json", recs))
		s := ix.Snapshot()
		if s.Len() != want.Len() || s.Duplicates != want.Duplicates+int64(len(admin)) || s.Rejected != want.Rejected {
			t.Errorf("%s: %d rows, %d duplicates, %d rejected; want %d, %d and %d", name, s.Len(), s.Duplicates, s.Rejected, want.Len(), want.Duplicates+int64(len(admin)), want.Rejected)
		}
		if samples, _ := ix.Duplicates(); len(samples) == 0 || !strings.Contains(samples[0], "(the same event under AKS categories kube-audit") {
			t.Errorf("%s: R names %q", name, samples[:min(1, len(samples))])
		}
	}
	// The export read twice: every record of the second reading repeats
	// one of the first, byte for byte.
	both := append(slices.Clone(kube), admin...)
	ix := readIndex(t, writeLines(t, "PT1H.json", append(slices.Clone(both), both...)))
	if s := ix.Snapshot(); s.Len() != want.Len() || s.Duplicates != want.Duplicates+int64(len(admin)+len(both)) {
		t.Errorf("read twice: %d rows, %d duplicates; want %d and %d", s.Len(), s.Duplicates, want.Len(), want.Duplicates+int64(len(admin)+len(both)))
	}
}
