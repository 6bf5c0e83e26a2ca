package ui

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// TestAlertsTimesCarryTheDate: a group's latest event time in the Alerts
// pane carries the date when the events read span days (and the year when
// they span years), as the Tail's times do; at 80 columns it was the time
// of day alone ("1 ev 14:26" over events from 2017 to 2023: which day?).
func TestAlertsTimesCarryTheDate(t *testing.T) {
	f := loadAlertFixture(t)
	lines := fixtureLines(t, "testdata/events.jsonl")
	mk := func(ts string) string {
		return strings.ReplaceAll(strings.ReplaceAll(lines[0], "2026-11-20T09:00:00.000000Z", ts), "2026-11-20T09:00:00.012000Z", ts)
	}
	spans := []struct {
		name  string
		times []string
		want  map[int]string // width: the layout of the group's time
	}{
		{"one day", []string{"2026-11-20T01:00:00.000000Z", "2026-11-20T05:00:00.000000Z"}, map[int]string{80: "15:04", 120: "01-02 15:04"}},
		{"days", []string{"2026-11-19T01:00:00.000000Z", "2026-11-20T05:00:00.000000Z"}, map[int]string{80: "01-02 15:04", 120: "01-02 15:04"}},
		{"years", []string{"2025-11-19T01:00:00.000000Z", "2026-11-20T05:00:00.000000Z"}, map[int]string{80: "2006-01-02", 120: "2006-01-02 15:04"}},
	}
	for _, sp := range spans {
		var ls []string
		for _, ts := range sp.times {
			ls = append(ls, mk(ts))
		}
		ix := loadIndex(t, writeLines(t, "span.jsonl", ls))
		for _, w := range []int{80, 120} {
			st := AlertState{Local: f.alerts, Rules: f.rules, Events: int64(len(f.evs))}
			a := New(context.Background(), ix, nil, Options{Title: "span", NoColor: true, Compile: CompileLogQL, Alerts: staticAlerts{st}})
			a.alerts.now = func() time.Time { return time.Date(2026, 11, 20, 4, 0, 0, 0, time.UTC) }
			a.Update(tea.WindowSizeMsg{Width: w, Height: 40})
			a.alerts.SetState(st)
			send(t, a, "3")
			s := screen(a)
			checkScreen(t, s, w, 40)
			re := regexp.MustCompile(` (ev|events?|failed|✗) ` + layoutRE.Replace(sp.want[w]) + `$`)
			groups := 0
			for _, l := range strings.Split(s, "\n") {
				if !strings.HasPrefix(l, "  ● ") && !strings.HasPrefix(l, "  ○ ") {
					continue
				}
				groups++
				if !re.MatchString(strings.TrimRight(l, " ")) {
					t.Errorf("%s, %d columns: the group's time is not as %q: %q", sp.name, w, sp.want[w], l)
				}
			}
			if groups == 0 {
				t.Fatalf("%s, %d columns: no group shown", sp.name, w)
			}
		}
	}
}

// layoutRE turns a Go time layout into a pattern of its digits.
var layoutRE = strings.NewReplacer("2006", `\d{4}`, "01", `\d\d`, "02", `\d\d`, "15", `\d\d`, "04", `\d\d`)
