package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestStatsSeriesPanelsShowEverySeries: the create/delete trends and the
// namespace heatmap are range queries without topk, and the rare series
// are the ones an investigation looks for: over the sample, a
// ClusterRoleBinding created and one deleted (one event each) were behind
// "… 4 more", which no key opened, while the screen had room to spare.
// Every series is drawn (the pane scrolls), and each can be drilled into.
func TestStatsSeriesPanelsShowEverySeries(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{200, 50}, {80, 24}} {
		a := newTestAppFile(t, "../../testdata/sample/audit.log", sz.w, sz.h)
		send(t, a, "4")
		_ = screen(a)
		text := ansi.Strip(strings.Join(a.stats.lines, "\n"))
		for _, want := range []string{"create clusterrolebindi", "delete clusterrolebindi", "create selfsubjectrules"} {
			if !strings.Contains(text, want) {
				t.Errorf("%dx%d: the series %q is not in the Stats pane:\n%s", sz.w, sz.h, want, text)
			}
		}
		if strings.Contains(text, " more") {
			t.Errorf("%dx%d: series left out behind \"… N more\":\n%s", sz.w, sz.h, text)
		}
		// The last series can be reached and drilled into.
		send(t, a, "G")
		var found bool
		for _, it := range a.stats.items {
			if strings.Contains(it.pred, `objectRef_resource="clusterrolebindings"`) && strings.Contains(it.pred, `verb="delete"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("%dx%d: no drill-in for delete clusterrolebindings: %v", sz.w, sz.h, a.stats.items)
		}
	}
}
