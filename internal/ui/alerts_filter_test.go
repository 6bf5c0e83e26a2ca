package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestAlertsPaneListsGroupsUnderTheFilter: with a filter, the Alerts pane
// lists only the groups whose counted events match it and says so
// ("N of M groups have events under the filter"); A lists them all again
// (review I 4). The rules are not re-evaluated: the counts are the same.
func TestAlertsPaneListsGroupsUnderTheFilter(t *testing.T) {
	for _, sz := range sizes {
		a, _ := newAlertsApp(t, sz.w, sz.h)
		all := screen(a)
		if !strings.Contains(all, "kube…es-admin") && !strings.Contains(all, "kubernetes-admin") {
			t.Fatalf("fixture: no kubernetes-admin group:\n%s", all)
		}
		setFilter(t, a, `user_username="carol@corp.example"`)
		send(t, a, "3")
		s := screen(a)
		m := regexp.MustCompile(`(\d+) of (\d+) groups have events under the filter`).FindStringSubmatch(s)
		if m == nil || m[1] == "0" || m[1] == m[2] {
			t.Fatalf("%dx%d: the pane does not say it lists the groups under the filter:\n%s", sz.w, sz.h, s)
		}
		if strings.Contains(s, "kube…es-admin") || strings.Contains(s, "kubernetes-admin ·") || !strings.Contains(s, "caro") {
			t.Errorf("%dx%d: groups of others listed, or carol's not:\n%s", sz.w, sz.h, s)
		}
		golden(t, "alerts_filtered_"+sizeName(sz.w, sz.h)+".txt", s)
		send(t, a, "A")
		if s := screen(a); strings.Contains(s, "under the filter (A") || !strings.Contains(s, "kube") {
			t.Errorf("%dx%d: A does not list every group:\n%s", sz.w, sz.h, s)
		}
	}
}

func sizeName(w, h int) string { return fmt.Sprintf("%dx%d", w, h) }
