package report

import (
	"strings"
	"testing"
	"time"

	"github.com/audittui/audittui/internal/casefile"
	s3src "github.com/audittui/audittui/internal/data/source/s3"
)

// TestReportCountsBytesAsWords: what the report says of a file or an
// object that changed counts bytes as words do, at 1 and at 2: "grew by 1
// byte", "(1 byte, sha256 ...)", "1 byte now, 2 recorded".
func TestReportCountsBytesAsWords(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, grown := range []int64{1, 2} {
		for _, followed := range []bool{true, false} {
			size := int64(10)
			recs := []casefile.Record{{Time: at, Kind: casefile.KindFingerprint, File: &casefile.SourceFile{Path: "a.log", Size: size, SHA256: "aa"}}}
			got, _ := compare(recs, "bb", size+grown, map[int64]string{size: "aa"}, &fileState{}, followed, func() string { return "" })
			want := map[int64]string{1: "grew by 1 byte since the case", 2: "grew by 2 bytes since the case"}[grown]
			if !strings.Contains(got, want) {
				t.Errorf("grown by %d, followed %v: %q, want %q", grown, followed, got, want)
			}
		}
	}
	for n, want := range map[int64]string{1: "(1 byte, sha256 aa)", 2: "(2 bytes, sha256 aa)"} {
		r := casefile.Record{Time: at, File: &casefile.SourceFile{Path: "a.log", Size: n, SHA256: "aa"}}
		if got := recordedWhen(r); !strings.HasSuffix(got, want) {
			t.Errorf("recordedWhen, %d: %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{1: "1 byte now, 2 bytes recorded", 2: "2 bytes now, 1 byte recorded"} {
		r := casefile.Record{Time: at, Object: &casefile.SourceObject{URL: "s3://b/k", ETag: "e", Size: 3 - n}}
		got, _ := judgeObject(r, s3src.Object{Key: "k", ETag: "f", Size: n}, "", 0)
		if !strings.Contains(got, want) {
			t.Errorf("judgeObject, %d bytes: %q, want %q", n, got, want)
		}
		if w := map[int64]string{1: "ETag e, 2 bytes", 2: "ETag e, 1 byte"}[n]; !strings.Contains(objectRecordedWhen(r), w) {
			t.Errorf("objectRecordedWhen, %d bytes: %q, want %q", 3-n, objectRecordedWhen(r), w)
		}
	}
}
