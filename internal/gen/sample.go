package gen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

//go:generate go run ../../cmd/auditgen -sample ../../testdata/sample

// The bundled sample (testdata/sample) is generated from these settings;
// TestSampleUpToDate regenerates it and compares bytes.
const (
	SampleSeed     = 20261120
	SampleDuration = 2 * time.Hour
	// SampleRate keeps audit.log at about 4000 events (under 5 MB).
	SampleRate = 0.55
	// SampleNodes and SampleNodesRate make the small per-node split.
	SampleNodes     = 3
	SampleNodesRate = 0.1
	// SampleRotatedEvents and SampleRotateBytes make the rotated set.
	SampleRotatedEvents = 600
	SampleRotateBytes   = 128 << 10
	// SampleWebhookEvents and SampleWebhookBatch make the webhook sample.
	SampleWebhookEvents = 250
	SampleWebhookBatch  = 100
)

// SampleConfig returns the configuration of testdata/sample/audit.log.
func SampleConfig() Config {
	return Config{Seed: SampleSeed, Start: DefaultStart, Rate: SampleRate, Nodes: 1, Stories: true, RequestReceived: 0.01}
}

// SampleNodesConfig returns the configuration of testdata/sample/nodes/.
func SampleNodesConfig() Config {
	return Config{Seed: SampleSeed + 1, Start: DefaultStart, Rate: SampleNodesRate, Nodes: SampleNodes, Stories: true, RequestReceived: 0.01}
}

// SampleRotatedConfig returns the configuration of testdata/sample/rotated/.
func SampleRotatedConfig() Config {
	return Config{Seed: SampleSeed + 2, Start: DefaultStart, Rate: 200, Nodes: 1, RequestReceived: 0.01}
}

// SampleWebhookConfig returns the configuration of testdata/sample/webhook/.
func SampleWebhookConfig() Config {
	return Config{Seed: SampleSeed + 3, Start: DefaultStart, Rate: 200, Nodes: 1, RequestReceived: 0.01}
}

// WriteSample (re)writes the bundled sample under dir:
//
//	dir/audit.log                  ~4000 events, 2 hours, every story
//	dir/nodes/audit-cp{1,2,3}.log  the same period and stories split over 3 apiservers
//	dir/rotated/                   an apiserver rotated set: audit.log, timestamped and .gz backups
//	dir/webhook/eventlist.jsonl    webhook-backend EventList documents (3 batches)
func WriteSample(ctx context.Context, dir string) error {
	until := Limit{Until: DefaultStart.Add(SampleDuration)}
	if _, err := New(SampleConfig()).WriteFiles(ctx, filepath.Join(dir, "audit.log"), FileOptions{}, until); err != nil {
		return err
	}
	nodes := filepath.Join(dir, "nodes")
	if err := os.MkdirAll(nodes, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", nodes, err)
	}
	if _, err := New(SampleNodesConfig()).WriteFiles(ctx, filepath.Join(nodes, "audit.log"), FileOptions{}, until); err != nil {
		return err
	}
	rot := filepath.Join(dir, "rotated")
	if err := os.RemoveAll(rot); err != nil {
		return fmt.Errorf("remove %s: %w", rot, err)
	}
	if err := os.MkdirAll(rot, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", rot, err)
	}
	if _, _, err := New(SampleRotatedConfig()).WriteRotated(ctx, RotatedSet{Dir: rot, MaxBytes: SampleRotateBytes, Compress: true}, Limit{Events: SampleRotatedEvents}); err != nil {
		return err
	}
	hook := filepath.Join(dir, "webhook")
	if err := os.MkdirAll(hook, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", hook, err)
	}
	_, err := New(SampleWebhookConfig()).WriteFiles(ctx, filepath.Join(hook, "eventlist.jsonl"), FileOptions{EventList: true, Batch: SampleWebhookBatch}, Limit{Events: SampleWebhookEvents})
	return err
}
