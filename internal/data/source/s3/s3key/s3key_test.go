package s3key

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) ParseOptions {
	return ParseOptions{LookupEnv: func(n string) (string, bool) { v, ok := m[n]; return v, ok }}
}

func mustParse(t *testing.T, format string) *Format {
	t.Helper()
	f, err := Parse(format, env(map[string]string{"CLUSTER_NAME": "prod-eu"}))
	if err != nil {
		t.Fatalf("Parse(%q): %v", format, err)
	}
	return f
}

var t0 = time.Date(2026, 3, 7, 14, 5, 9, 123456789, time.UTC)

func TestRenderSeedFormat(t *testing.T) {
	f := mustParse(t, DefaultFormat)
	key := f.Render(t0, Vars{UUID: "ab12cd34"})
	if want := "audit-logs/prod-eu/2026/03/07/14/05/09-ab12cd34.json"; key != want {
		t.Fatalf("Render = %q, want %q", key, want)
	}
	// A fresh $UUID: 8 characters of [a-z0-9], different each time.
	k1, k2 := f.Render(t0, Vars{}), f.Render(t0, Vars{})
	re := regexp.MustCompile(`^audit-logs/prod-eu/2026/03/07/14/05/09-[a-z0-9]{8}\.json$`)
	if !re.MatchString(k1) || !re.MatchString(k2) {
		t.Fatalf("random keys %q %q do not match %s", k1, k2, re)
	}
	if k1 == k2 {
		t.Fatalf("two renders gave the same $UUID %q", k1)
	}
}

func TestRenderVariables(t *testing.T) {
	tests := []struct {
		format string
		vars   Vars
		want   string
	}{
		{"/$TAG[2]/$TAG[0]/%Y/%m/%d/%H/%M/%S/$UUID.gz", Vars{Tag: "my_app_name-logs.prod", TagDelimiters: ".-", UUID: "bgdHN1NM"},
			"prod/my_app_name/2026/03/07/14/05/09/bgdHN1NM.gz"},
		{"/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S", Vars{Tag: "audit.k8s"}, "fluent-bit-logs/audit.k8s/2026/03/07/14/05/09"},
		{"/logs/$INDEX-%s", Vars{Index: 42}, "logs/42-1772892309"},
		{"/x/%F/%T", Vars{}, "x/2026-03-07/14:05:09"},
		{"/x/%j/%y/%C/%b/%B/%a/%A/%e/%I%p/%Z%z/%%", Vars{}, "x/066/26/20/Mar/March/Sat/Saturday/ 7/02PM/GMT+0000/%"},
		{"/x/%c", Vars{}, "x/Sat Mar  7 14:05:09 2026"},
		{"/$TAG[1]/$TAG[5]", Vars{Tag: "audit.k8s"}, "k8s/audit.k8s[5]"},
		{"no/leading/slash/%Y", Vars{}, "no/leading/slash/2026"},
		{"/$UUID/$UUID", Vars{UUID: "same1234"}, "same1234/same1234"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			if got := mustParse(t, tt.format).Render(t0, tt.vars); got != tt.want {
				t.Fatalf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]string{
		"/a/${NOPE}/%Y": "environment variable NOPE is not set",
		"/a/${CLUSTER":  "unterminated ${",
		"/a/%Q":         "unsupported strftime directive %Q",
		"/a/%":          "lone %",
		"":              "empty",
		"/a/${}":        "empty ${}",
	}
	for format, want := range tests {
		t.Run(format, func(t *testing.T) {
			_, err := Parse(format, env(nil))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Parse(%q) error = %v, want it to mention %q", format, err, want)
			}
		})
	}
}

func TestEnvValueIsLiteral(t *testing.T) {
	f, err := Parse("/a/${X}/%Y", env(map[string]string{"X": "50%d"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Render(t0, Vars{}); got != "a/50%d/2026" {
		t.Fatalf("Render = %q", got)
	}
}

func TestUnit(t *testing.T) {
	tests := map[string]Unit{
		DefaultFormat:           Second,
		"/a/%Y/%m/%d/%H/$UUID":  Hour,
		"/a/%Y/%m/%d/$UUID":     Day,
		"/a/%Y/%j/%H/$UUID":     Hour,
		"/a/%Y/%m/$UUID":        Month,
		"/a/%Y/$UUID":           Year,
		"/a/%H/%M/$UUID":        Unknown, // no date
		"/a/$UUID":              Unknown,
		"/a/%s-$UUID":           Second,
		"/a/%Y/%m/%H/$UUID":     Month, // an hour of an unknown day
		"/a/%Y%m%d/%I%p/$UUID":  Hour,
		"/a/%F/%T-$INDEX.jsonl": Second,
	}
	for format, want := range tests {
		if got := mustParse(t, format).Unit(); got != want {
			t.Errorf("Unit(%q) = %v, want %v", format, got, want)
		}
	}
}

func TestTimeOfRoundTrip(t *testing.T) {
	formats := []string{
		DefaultFormat,
		"/$TAG[2]/$TAG[0]/%Y/%m/%d/%H/%M/%S/$UUID.gz",
		"/logs/$TAG/%Y%m%d-%H%M%S-$INDEX.json",
		"/logs/%s-$UUID",
		"/logs/%F/%T/$UUID",
		"/logs/%Y/%j/%H/%M/%S-$UUID",
		"/logs/%c/$UUID",
		"/logs/%y/%b/%e/%I%p/%M/%S",
		"/logs/%Y/%B/%d/%H/%M/%S",
	}
	times := []time.Time{t0, time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC)}
	for _, format := range formats {
		f := mustParse(t, format)
		for _, tm := range times {
			key := f.Render(tm, Vars{Tag: "my_app_name-logs.prod", TagDelimiters: ".-", Index: 7})
			got, unit, ok := f.TimeOf(key)
			if !ok {
				t.Errorf("%s: TimeOf(%q) not ok", format, key)
				continue
			}
			if want := unit.Truncate(tm); !got.Equal(want) {
				t.Errorf("%s: TimeOf(%q) = %v, want %v", format, key, got, want)
			}
			// A leading slash, as in Fluent Bit's request path, is accepted.
			if got2, _, ok := f.TimeOf("/" + key); !ok || !got2.Equal(got) {
				t.Errorf("%s: TimeOf(/%s) = %v %v", format, key, got2, ok)
			}
		}
	}
}

func TestTimeOfRejects(t *testing.T) {
	f := mustParse(t, DefaultFormat)
	bad := []string{
		"audit-logs/other/2026/03/07/14/05/09-ab12cd34.json", // another cluster
		"audit-logs/prod-eu/2026/13/07/14/05/09-x.json",      // month 13
		"audit-logs/prod-eu/2026/02/30/14/05/09-x.json",      // 30 February
		"audit-logs/prod-eu/2026/03/07/24/05/09-x.json",      // hour 24
		"audit-logs/prod-eu/2026/03/07/14/05/",               // cut short
		"audit-logs/prod-eu/README",
		"",
	}
	for _, k := range bad {
		if tm, _, ok := f.TimeOf(k); ok {
			t.Errorf("TimeOf(%q) = %v, want not ok", k, tm)
		}
	}
	// Fluent Bit's PutObject fallback appends "-object<random>" when the
	// format has no $UUID: text after the last directive is not checked.
	g := mustParse(t, "/a/%Y/%m/%d/%H_%M_%S.gz")
	tm, unit, ok := g.TimeOf("a/2022/12/25/00_00_00.gz-objectapwgylqg")
	if !ok || unit != Second || !tm.Equal(time.Date(2022, 12, 25, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("TimeOf with suffix = %v %v %v", tm, unit, ok)
	}
	// No date in the format: nothing to say.
	if _, _, ok := mustParse(t, "/a/%H/$UUID").TimeOf("a/14/xxxxxxxx"); ok {
		t.Fatal("TimeOf with no date in the format should not be ok")
	}
}

func TestPlan(t *testing.T) {
	f := mustParse(t, DefaultFormat)
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"3 hours -> hour prefixes", day(7, 10, 30), day(7, 13, 30), []string{
			"audit-logs/prod-eu/2026/03/07/10/",
			"audit-logs/prod-eu/2026/03/07/11/",
			"audit-logs/prod-eu/2026/03/07/12/",
			"audit-logs/prod-eu/2026/03/07/13/",
		}},
		{"exact hour boundaries", day(7, 10, 0), day(7, 12, 0), []string{
			"audit-logs/prod-eu/2026/03/07/10/",
			"audit-logs/prod-eu/2026/03/07/11/",
		}},
		{"20 minutes -> hour prefixes", day(7, 10, 50), day(7, 11, 10), []string{
			"audit-logs/prod-eu/2026/03/07/10/",
			"audit-logs/prod-eu/2026/03/07/11/",
		}},
		{"a week -> day prefixes", day(1, 0, 0), day(8, 0, 0), []string{
			"audit-logs/prod-eu/2026/03/01/", "audit-logs/prod-eu/2026/03/02/", "audit-logs/prod-eu/2026/03/03/",
			"audit-logs/prod-eu/2026/03/04/", "audit-logs/prod-eu/2026/03/05/", "audit-logs/prod-eu/2026/03/06/",
			"audit-logs/prod-eu/2026/03/07/",
		}},
		{"a quarter -> month prefixes", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), []string{
			"audit-logs/prod-eu/2026/01/", "audit-logs/prod-eu/2026/02/", "audit-logs/prod-eu/2026/03/", "audit-logs/prod-eu/2026/04/",
		}},
		{"open window -> literal prefix", time.Time{}, day(7, 0, 0), []string{"audit-logs/prod-eu/"}},
		{"empty window -> nothing", day(7, 0, 0), day(7, 0, 0), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.Plan(tt.from, tt.to)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Plan = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPlanWithMinutes(t *testing.T) {
	f := mustParse(t, DefaultFormat)
	from := time.Date(2026, 3, 7, 10, 50, 0, 0, time.UTC)
	got := f.PlanWith(from, from.Add(20*time.Minute), PlanOptions{FinestUnit: Minute})
	if len(got) != 20 || got[0] != "audit-logs/prod-eu/2026/03/07/10/50/" || got[19] != "audit-logs/prod-eu/2026/03/07/11/09/" {
		t.Fatalf("PlanWith = %d prefixes %q", len(got), got)
	}
	got = f.PlanWith(from, from.Add(20*time.Minute), PlanOptions{FinestUnit: Minute, MaxPrefixes: 5})
	if len(got) != 2 {
		t.Fatalf("PlanWith max 5 = %q", got)
	}
}

func TestPlanStopsAtVariables(t *testing.T) {
	// $TAG before the time fields: the listing cannot be narrowed past it.
	f := mustParse(t, "/logs/$TAG/%Y/%m/%d/%H/$UUID")
	got := f.Plan(t0.Add(-time.Hour), t0)
	if !reflect.DeepEqual(got, []string{"logs/"}) {
		t.Fatalf("Plan = %q", got)
	}
	// Day-first layouts still plan correctly (one prefix per day).
	g := mustParse(t, "/logs/%d-%m-%Y/%H/$UUID")
	got = g.Plan(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC))
	want := []string{"logs/01-03-2026/", "logs/02-03-2026/", "logs/03-03-2026/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Plan = %q, want %q", got, want)
	}
}

// Every key rendered inside the window starts with one of the planned
// prefixes, and keys outside it are recognised by TimeOf.
func TestPlanCoversWindow(t *testing.T) {
	f := mustParse(t, DefaultFormat)
	windows := []time.Duration{10 * time.Minute, 3 * time.Hour, 30 * time.Hour, 9 * 24 * time.Hour, 120 * 24 * time.Hour}
	for _, w := range windows {
		from := t0.Add(-w / 3)
		to := from.Add(w)
		plan := f.Plan(from, to)
		if len(plan) == 0 || len(plan) > DefaultMaxPrefixes {
			t.Fatalf("window %v: %d prefixes", w, len(plan))
		}
		step := w / 97
		for tm := from; tm.Before(to); tm = tm.Add(step) {
			key := f.Render(tm, Vars{})
			found := false
			for _, p := range plan {
				if strings.HasPrefix(key, p) {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("window %v: key %q (time %v) not under any of %q", w, key, tm, plan)
			}
		}
	}
}

func FuzzTimeOf(f *testing.F) {
	f.Add(DefaultFormat, "audit-logs/prod-eu/2026/03/07/14/05/09-ab12cd34.json")
	f.Add("/a/%c/$TAG[1]", "a/Sat Mar  7 14:05:09 2026/x")
	f.Add("/a/%s/$INDEX", "a/1772892309/3")
	f.Fuzz(func(t *testing.T, format, key string) {
		fm, err := Parse(format, env(map[string]string{"CLUSTER_NAME": "c"}))
		if err != nil {
			return
		}
		if len(key) > 256 {
			return
		}
		tm, unit, ok := fm.TimeOf(key)
		if ok && (tm.IsZero() && unit == Unknown) {
			t.Fatalf("ok with no time for %q %q", format, key)
		}
		_ = fm.Plan(t0, t0.Add(time.Hour))
	})
}

func TestUnsetAsWildcardAndAnchor(t *testing.T) {
	f, err := Parse(DefaultFormat, ParseOptions{LookupEnv: func(string) (string, bool) { return "", false }, UnsetAsWildcard: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Unset(); !reflect.DeepEqual(got, []string{"CLUSTER_NAME"}) {
		t.Fatalf("Unset = %q", got)
	}
	key := "audit-logs/prod-eu/2026/03/07/14/05/09-ab12cd34.json"
	if tm, _, ok := f.TimeOf(key); !ok || !tm.Equal(t0.Truncate(time.Second)) {
		t.Fatalf("TimeOf through the wildcard = %v %v", tm, ok)
	}
	from := time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)
	if got := f.Plan(from, from.Add(2*time.Hour)); !reflect.DeepEqual(got, []string{"audit-logs/"}) {
		t.Fatalf("Plan with a wildcard = %q", got)
	}
	a, ok := f.Anchor("audit-logs/prod-eu/")
	if !ok {
		t.Fatal("Anchor not ok")
	}
	want := []string{"audit-logs/prod-eu/2026/03/07/10/", "audit-logs/prod-eu/2026/03/07/11/"}
	if got := a.Plan(from, from.Add(2*time.Hour)); !reflect.DeepEqual(got, want) {
		t.Fatalf("anchored Plan = %q, want %q", got, want)
	}
	if _, _, ok := a.TimeOf("audit-logs/other/2026/03/07/14/05/09-x.json"); ok {
		t.Fatal("anchored format matched another cluster")
	}
	// A prefix deeper than the variable, into the time fields.
	b, ok := f.Anchor("audit-logs/prod-eu/2026/03")
	if !ok || b.LiteralPrefix() != "audit-logs/prod-eu/" {
		t.Fatalf("Anchor deep = %v %q", ok, b.LiteralPrefix())
	}
	// A prefix ending inside the variable leaves it open.
	c, ok := f.Anchor("audit-logs/pro")
	if !ok || c.LiteralPrefix() != "audit-logs/" {
		t.Fatalf("Anchor partial = %v %q", ok, c.LiteralPrefix())
	}
	if _, ok := f.Anchor("elsewhere/"); ok {
		t.Fatal("Anchor of a contradicting prefix should fail")
	}
}

func TestOpenVariableAndTagAnchor(t *testing.T) {
	f, err := Parse(DefaultFormat, ParseOptions{LookupEnv: func(string) (string, bool) { return "", false }, UnsetAsWildcard: true})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := f.OpenVariable(); !ok || p != "audit-logs/" {
		t.Fatalf("OpenVariable = %q %v", p, ok)
	}
	if _, ok := mustParse(t, DefaultFormat).OpenVariable(); ok {
		t.Fatal("a format with CLUSTER_NAME set has no open variable")
	}
	if _, ok := mustParse(t, "/a/%Y/$TAG/x").OpenVariable(); ok {
		t.Fatal("a variable after the time fields is not open")
	}
	// Fluent Bit's default format: $TAG before the time fields.
	g := mustParse(t, "/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S")
	if p, ok := g.OpenVariable(); !ok || p != "fluent-bit-logs/" {
		t.Fatalf("OpenVariable of the Fluent Bit default = %q %v", p, ok)
	}
	a, ok := g.Anchor("fluent-bit-logs/audit.k8s/")
	if !ok {
		t.Fatal("Anchor on $TAG failed")
	}
	from := time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)
	want := []string{"fluent-bit-logs/audit.k8s/2026/03/07/10/"}
	if got := a.Plan(from, from.Add(time.Hour)); !reflect.DeepEqual(got, want) {
		t.Fatalf("Plan = %q, want %q", got, want)
	}
	if _, ok := a.OpenVariable(); ok {
		t.Fatal("an anchored format has no open variable")
	}
}
