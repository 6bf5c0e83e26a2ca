package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunWritesStdout(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"-events", "250", "-seed", "9", "-stories", "-start", "2026-11-20T08:00:00Z", "-rate", "50/s"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 250 {
		t.Fatalf("%d lines, want 250", len(lines))
	}
	if !strings.Contains(lines[0], `"requestReceivedTimestamp":"2026-11-20T08:00:00.`) {
		t.Errorf("first event does not start at -start: %s", lines[0])
	}
	if !strings.Contains(errb.String(), "250 events") {
		t.Errorf("summary missing: %q", errb.String())
	}
	var again bytes.Buffer
	if err := run(context.Background(), []string{"-q", "-events", "250", "-seed", "9", "-stories", "-start", "2026-11-20T08:00:00Z", "-rate", "50/s"}, &again, &errb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Error("same flags, different output")
	}
}

func TestRunEventList(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-q", "-events", "1000", "-format", "eventlist", "-batch", "300"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(docs) != 4 {
		t.Fatalf("%d documents for 1000 events in batches of 300, want 4", len(docs))
	}
	for _, d := range docs {
		if !strings.HasPrefix(d, `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[{"level":`) {
			t.Fatalf("not an EventList: %.120s", d)
		}
	}
	if n := strings.Count(out.String(), `"auditID":`); n != 1000 {
		t.Errorf("%d events in the lists, want 1000", n)
	}
}

func TestRunNodesGzipAndRotate(t *testing.T) {
	dir := t.TempDir()
	var errb bytes.Buffer
	if err := run(context.Background(), []string{"-q", "-o", filepath.Join(dir, "audit.log"), "-size", "300KB", "-nodes", "3", "-gzip"}, &bytes.Buffer{}, &errb); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"audit-cp1.log", "audit-cp2.log", "audit-cp3.log"} {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			t.Errorf("%s: missing or not gzip (%v)", n, err)
		}
	}
	rot := filepath.Join(dir, "rot")
	if err := os.Mkdir(rot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-q", "-o", filepath.Join(rot, "audit.log"), "-events", "2000", "-rotate", "500KB", "-compress"}, &bytes.Buffer{}, &errb); err != nil {
		t.Fatal(err)
	}
	gz, _ := filepath.Glob(filepath.Join(rot, "audit-*.log.gz"))
	plain, _ := filepath.Glob(filepath.Join(rot, "audit-*.log"))
	if len(gz) == 0 || len(plain) != 1 {
		t.Errorf("rotated set: %d .gz and %d plain backups, want some and 1", len(gz), len(plain))
	}
	if _, err := os.Stat(filepath.Join(rot, "audit.log")); err != nil {
		t.Error(err)
	}
}

func TestRunUsageErrors(t *testing.T) {
	cases := [][]string{
		{},                                    // no limit
		{"-events", "10", "-rate", "fast"},    // bad rate
		{"-size", "lots"},                     // bad size
		{"-events", "10", "-start", "08:00"},  // bad start
		{"-events", "10", "-nodes", "3"},      // several nodes to stdout
		{"-events", "10", "-gzip"},            // gzip to stdout
		{"-events", "10", "-nodes", "0"},      // no nodes
		{"-events", "10", "-rotate", "1MB"},   // rotate to stdout
		{"-events", "10", "extra-argument"},   // stray argument
		{"-events", "10", "-no-such-flag"},    // unknown flag
		{"-events", "10", "-duration", "-1h"}, // negative duration
		{"-events", "10", "-disorder", "-1s"}, // negative disorder
		{"-events", "10", "-format", "yaml"},  // unknown format
		{"-events", "10", "-rate", "1e6/s"},   // above MaxRate
		{"-events", "10", "-batch", "0"},      // empty batches
	}
	for _, args := range cases {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
	// An I/O error is not a usage error.
	err := run(context.Background(), []string{"-events", "10", "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "a.log")}, &bytes.Buffer{}, &bytes.Buffer{})
	var u usageError
	if err == nil || errors.As(err, &u) {
		t.Errorf("unwritable output: err = %v, want an I/O error", err)
	}
}
