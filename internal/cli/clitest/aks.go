package clitest

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/audittui/audittui/internal/testutil"
)

// AKSExport is the real audit logs (testutil.RealAuditFiles) as an AKS
// diagnostic setting with both kube-audit and kube-audit-admin exports
// them: every event in a kube-audit record, and the events but get and
// list again in kube-audit-admin records with the same properties.log.
type AKSExport struct {
	Plain []byte // the real logs, concatenated (the audit.log)
	Kube  []byte // the kube-audit records, one a line
	Admin []byte // the kube-audit-admin records
	Twice int    // events in both categories
}

// RealAKSExport builds the AKSExport of the real audit logs (it skips
// when they are absent, as testutil does).
func RealAKSExport(t *testing.T) AKSExport {
	t.Helper()
	var x AKSExport
	var all, kube, admin bytes.Buffer
	for _, f := range testutil.RealAuditFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(all.Bytes(), []byte{'\n'}), []byte{'\n'}) {
		kube.Write(aksRecord(t, l, "kube-audit"))
		var ev struct{ Verb string }
		json.Unmarshal(l, &ev)
		if ev.Verb != "get" && ev.Verb != "list" {
			admin.Write(aksRecord(t, l, "kube-audit-admin"))
			x.Twice++
		}
	}
	x.Plain, x.Kube, x.Admin = all.Bytes(), kube.Bytes(), admin.Bytes()
	return x
}

// aksRecord wraps one audit line as an AKS diagnostic record of category.
// The record's time is when the event was written; an event without a
// time of its own (hand-made fixtures) gets none, so that it stays undated
// as in the audit.log.
func aksRecord(t *testing.T, line []byte, category string) []byte {
	t.Helper()
	rec := map[string]any{
		"category": category, "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
		"properties": map[string]any{"log": string(line), "stream": "stdout", "pod": "kube-apiserver-7c9d8b6f5-q2w3e"},
		"resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-REAL",
	}
	var ev struct{ StageTimestamp, RequestReceivedTimestamp, Timestamp string }
	json.Unmarshal(line, &ev)
	for _, ts := range []string{ev.StageTimestamp, ev.RequestReceivedTimestamp, ev.Timestamp} {
		if ts != "" {
			rec["time"] = ts
			break
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
