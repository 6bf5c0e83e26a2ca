package auditpolicy

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/rules"
	"github.com/audittui/audittui/internal/testutil"
)

// BenchmarkCheck replays the events of $AUDITTUI_BENCH_LOG (default: the
// bundled sample) through the seed policy with the built-in pack.
func BenchmarkCheck(b *testing.B) {
	path := os.Getenv("AUDITTUI_BENCH_LOG")
	if path == "" {
		path = filepath.Join(testutil.RepoRoot(), "testdata", "sample", "audit.log")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var evs []data.Event
	var dec data.Decoder
	var size int64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	src := &data.SourceInfo{Name: path, Labels: data.Labels{{Name: "job", Value: "audit"}}}
	for sc.Scan() {
		out, rej := dec.Decode(nil, sc.Bytes(), data.Origin{Source: src})
		if rej != nil {
			continue
		}
		for i := range out {
			evs = append(evs, out[i].Clone())
		}
		size += int64(len(sc.Bytes())) + 1
	}
	pol, err := LoadFile(filepath.Join(testutil.SeedDir(b), "audit-policy.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	dets := DetectionsFromRules(set)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		chk := NewChecker(pol, CheckOptions{Detections: dets})
		for j := range evs {
			chk.Add(&evs[j])
		}
	}
	b.ReportMetric(float64(len(evs)), "events/op")
}
