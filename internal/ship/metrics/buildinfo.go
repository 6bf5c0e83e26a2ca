package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/audittui/audittui/internal/buildinfo"
)

// registerBuildInfo adds the constant gauge
//
//	audittui_ship_build_info{version,revision,commit_time,dirty,goversion,platform} 1
//
// (the *_build_info convention), so dashboards and alerts can tell which
// build each node runs: count by (version) (audittui_ship_build_info).
func registerBuildInfo(r prometheus.Registerer, in buildinfo.Info) {
	names, values := in.Labels()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
		Help: "Always 1; the labels tell the build of audittui running (as audittui version prints it)."}, names)
	g.WithLabelValues(values...).Set(1)
	r.MustRegister(g)
}
