package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/audittui/audittui/internal/buildinfo"
)

// /metrics carries audittui_ship_build_info with the running build's labels.
func TestBuildInfoGauge(t *testing.T) {
	m := New()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	r, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	in := buildinfo.Get()
	want := `audittui_ship_build_info{commit_time="` + in.TimeString() + `",dirty="` + in.DirtyString() +
		`",goversion="` + in.GoVersion + `",platform="` + in.Platform + `",revision="` + in.Commit + `",version="` + in.Version + `"} 1`
	if !strings.Contains(string(body), want+"\n") {
		t.Errorf("/metrics lacks\n%s", want)
	}

	// The labels of a stamped build, parsed back as a scraper would.
	f := true
	stamped := buildinfo.Info{Version: "v0.1.0", Commit: "0123456789abcdef0123456789abcdef01234567", Dirty: &f,
		GoVersion: "go1.26.8", Platform: "linux/arm64"}
	reg := prometheus.NewRegistry()
	registerBuildInfo(reg, stamped)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&sb, mf); err != nil {
			t.Fatal(err)
		}
	}
	got := sb.String()
	for _, want := range []string{`version="v0.1.0"`, `revision="0123456789abcdef0123456789abcdef01234567"`, `dirty="true"`,
		`commit_time="unknown"`, `goversion="go1.26.8"`, `platform="linux/arm64"`, "} 1\n", "# TYPE audittui_ship_build_info gauge"} {
		if !strings.Contains(got, want) {
			t.Errorf("build_info lacks %s:\n%s", want, got)
		}
	}
}
