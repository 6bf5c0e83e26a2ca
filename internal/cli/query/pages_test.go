package query

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPagedExportSaidOnce: a filter-log-events page (it has a nextToken)
// is read, and stderr names it once, for a log query and for a metric
// query (which reads its input twice), the exit status unchanged (review
// G finding 11).
func TestPagedExportSaidOnce(t *testing.T) {
	doc, err := os.ReadFile("../../../testdata/shapes/eks-filter-log-events.json")
	if err != nil {
		t.Fatal(err)
	}
	d := bytes.TrimSpace(doc)
	page := append(bytes.Clone(d[:len(d)-1]), "    ,\"nextToken\": \"Bxkq6kVGFtq2y_MoigeqscPOdhXVbhiVtLoAmXb5jCrI\"\n}\n"...)
	p := filepath.Join(t.TempDir(), "fle-next.json")
	if err := os.WriteFile(p, page, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-o", "raw", `{job="audit"} | json`},
		{`sum(count_over_time({job="audit"} | json [1h]))`},
	} {
		code, out, errOut := queryCLI(t, append(args, p)...)
		if code != 0 || out == "" || strings.Count(errOut, "audittui: warning: "+p+":1: this `aws logs filter-log-events` output has nextToken: it is one page of a longer answer") != 1 {
			t.Errorf("%v: exit %d, stderr %s", args, code, errOut)
		}
	}
}
