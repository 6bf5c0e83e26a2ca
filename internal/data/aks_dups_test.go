package data

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
)

// aksRecordOf wraps an audit line as AKS writes it to a storage account's
// PT1H.json: one record per line, the event as the string properties.log.
func aksRecordOf(t *testing.T, line []byte, category string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"category":      category,
		"operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
		"properties":    map[string]any{"log": string(line), "stream": "stdout", "pod": "kube-apiserver-7c9d8b6f5-q2w3e", "containerID": "0f1e2d3c4b5a6978"},
		"resourceId":    "/SUBSCRIPTIONS/00000000-1111-2222-3333-444444444444/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-REAL",
		"time":          "2026-11-20T02:00:00.0000000Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDupsAKSCategories: a diagnostic setting with both kube-audit and
// kube-audit-admin sends every write twice, in records that differ only
// by category (Microsoft documents kube-audit-admin as kube-audit without
// get and list). The pair is one event: the real audit logs wrapped so
// count as the logs alone, in any order, and the copies are counted apart
// (AKSCategories), not as other serialisations (review G finding 5: 48,692
// "other bytes", a count of 144,936 for 96,244 events). A second copy of
// a record of one category (a PT1H.json read twice) is an ordinary
// duplicate.
func TestDupsAKSCategories(t *testing.T) {
	lines := realLines(t)
	var plain, kube, admin []byte
	var adminPlain []byte
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var ev struct{ Verb string }
		json.Unmarshal(l, &ev) // a line that is not an object has no verb: admin
		plain = append(append(plain, l...), '\n')
		kube = append(append(kube, aksRecordOf(t, l, "kube-audit")...), '\n')
		if ev.Verb != "get" && ev.Verb != "list" {
			admin = append(append(admin, aksRecordOf(t, l, "kube-audit-admin")...), '\n')
			adminPlain = append(append(adminPlain, l...), '\n')
		}
	}
	plainEvs, _ := readBytes(t, plain, 0)
	kubeEvs, kubeRejs := readBytes(t, kube, 0)
	adminEvs, _ := readBytes(t, admin, 0)
	adminPlainEvs, _ := readBytes(t, adminPlain, 0)
	if len(kubeEvs) != len(plainEvs) || len(adminEvs) == 0 || len(adminEvs) == len(kubeEvs) {
		t.Fatalf("wrapping: %d kube-audit events (%d rejects), %d kube-audit-admin, %d plain", len(kubeEvs), len(kubeRejs), len(adminEvs), len(plainEvs))
	}
	count := func(evs []Event) (kept int, d *Dups) {
		d = NewDups(0)
		for i := range evs {
			if !d.Seen(&evs[i]) {
				kept++
			}
		}
		return kept, d
	}
	wantKept, alone := count(plainEvs)
	// The admin events with an auditID that are not copies among
	// themselves: each is one pair.
	pairs := 0
	ad := NewDups(0)
	for i := range adminPlainEvs {
		if e := &adminPlainEvs[i]; e.AuditID != "" && !ad.Seen(e) {
			pairs++
		}
	}
	shuffled := append(slices.Clone(kubeEvs), adminEvs...)
	rand.New(rand.NewPCG(5, 11)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, evs := range map[string][]Event{
		"kube-audit first":       append(slices.Clone(kubeEvs), adminEvs...),
		"kube-audit-admin first": append(slices.Clone(adminEvs), kubeEvs...),
		"shuffled":               shuffled,
		"admin read twice":       append(append(slices.Clone(kubeEvs), adminEvs...), adminEvs...),
	} {
		kept, d := count(evs)
		if kept != wantKept || d.Others() != alone.Others() || d.AKSCategories() != int64(pairs) {
			t.Errorf("%s: %d events kept, %d others, %d AKS category copies; want %d, %d and %d (the logs alone)",
				name, kept, d.Others(), d.AKSCategories(), wantKept, alone.Others(), pairs)
		}
	}
	t.Logf("%d events, %d of them also under kube-audit-admin (%d pairs with an auditID)", len(plainEvs), len(adminEvs), pairs)
}

// TestAKSCategory reads a record's category, wherever the key is, and
// nothing from what is not a record.
func TestAKSCategory(t *testing.T) {
	for raw, want := range map[string]string{
		`{"category":"kube-audit-admin","properties":{"log":"{}"}}`:                            "kube-audit-admin",
		`{"properties":{"log":"{\"category\":\"kube-audit\"}"},"category":"kube-audit-admin"}`: "kube-audit-admin",
		`{"time":"x","category":"kube-audit"}`:                                                 "kube-audit",
		`{"kind":"Event"}`:                                                                     "",
		`not json`:                                                                             "",
	} {
		if got := AKSCategory([]byte(raw)); got != want {
			t.Errorf("%s: %q, want %q", raw, got, want)
		}
	}
}
