package auditpolicy

import (
	"encoding/json"
	"sort"

	"github.com/audittui/audittui/internal/data"
)

// Checker replays events through a policy (and optionally an older one)
// and accumulates what the policy would keep. It is not safe for
// concurrent use.
type Checker struct {
	p, old *Policy
	dets   []Detection

	events, cannotUpgrade, stageOmitted int64
	bytesNow, bytesAfter, bytesOld      int64
	minTime, maxTime                    int64
	undated                             int64       // events without a time the detections left out
	undatedAt                           string      // the first of them
	rules                               []RuleStats // last entry: no rule matched
	detStats                            []DetectionStats
	changes                             map[changeKey]*Change
}

// CheckOptions configure a Checker.
type CheckOptions struct {
	// Against is the policy to compare with (--against OLD), or nil.
	Against *Policy
	// Detections are the alert rules whose events must stay visible.
	Detections []Detection
}

// EventResult is the verdict for one event.
type EventResult struct {
	AuditID string `json:"auditID"`
	// Level is what the policy logs the request at; Rule is the 0-based
	// index of the deciding rule, -1 when none matches.
	Level string `json:"level"`
	Rule  int    `json:"rule"`
	// Captured is the level the event was logged at (inferred from its
	// bodies when the event has no level field).
	Captured string `json:"captured"`
	Stage    string `json:"stage,omitempty"`
	// Bytes is the event's size now (line plus newline); BytesAfter its
	// size under the policy (0 when not logged).
	Bytes      int64 `json:"bytes"`
	BytesAfter int64 `json:"bytesAfter"`
	// StageOmitted: the policy omits this event's stage, so it would not
	// be logged.
	StageOmitted bool `json:"stageOmitted,omitempty"`
	// CannotUpgrade: the policy asks for more than was captured; the
	// missing bodies cannot be recovered from this log.
	CannotUpgrade bool `json:"cannotUpgrade,omitempty"`
	// OldLevel/OldRule: the decision of the --against policy.
	OldLevel string `json:"oldLevel,omitempty"`
	OldRule  *int   `json:"oldRule,omitempty"`
	// LostAlerts names the alert rules that see this event now but would
	// not under the policy (omitting RequestReceived or ResponseStarted
	// events loses nothing: the request is still logged when it completes).
	LostAlerts []string `json:"lostAlerts,omitempty"`
}

// RuleStats are the totals for one rule.
type RuleStats struct {
	Rule          int    `json:"rule"` // -1: no rule matched
	Line          int    `json:"line,omitempty"`
	Level         string `json:"level"`
	Events        int64  `json:"events"`
	BytesNow      int64  `json:"bytesNow"`
	BytesAfter    int64  `json:"bytesAfter"`
	CannotUpgrade int64  `json:"cannotUpgrade,omitempty"`
	StageOmitted  int64  `json:"stageOmitted,omitempty"`
}

// DetectionStats say how many of an alert rule's events the policy keeps.
type DetectionStats struct {
	Name string `json:"alert"`
	// Matched events are those the alert rule selects; Lost are the ones it
	// sees in the current log but would not under the policy (not logged,
	// or logged below NeedsLevel).
	Matched    int64  `json:"matched"`
	Lost       int64  `json:"lost"`
	NeedsLevel string `json:"needsLevel"`
}

// Change counts events whose level differs between --against OLD and the
// policy, per (old rule, new rule).
type Change struct {
	OldRule  int    `json:"oldRule"`
	OldLevel string `json:"oldLevel"`
	NewRule  int    `json:"newRule"`
	NewLevel string `json:"newLevel"`
	Events   int64  `json:"events"`
}

type changeKey struct {
	oldRule, newRule   int
	oldLevel, newLevel string
}

// Report is the summary of a check.
type Report struct {
	Policy     string `json:"policy"`
	Against    string `json:"against,omitempty"`
	Events     int64  `json:"events"`
	BytesNow   int64  `json:"bytesNow"`
	BytesAfter int64  `json:"bytesAfter"`
	// BytesAgainst is the size under the --against policy.
	BytesAgainst int64 `json:"bytesAgainst,omitempty"`
	// SpanSeconds is the time between the first and last event; the
	// per-day estimates scale the byte counts by it (0 when unknown).
	SpanSeconds        float64          `json:"spanSeconds"`
	BytesPerDayNow     float64          `json:"bytesPerDayNow,omitempty"`
	BytesPerDayAfter   float64          `json:"bytesPerDayAfter,omitempty"`
	BytesPerDayAgainst float64          `json:"bytesPerDayAgainst,omitempty"`
	CannotUpgrade      int64            `json:"cannotUpgrade"`
	StageOmitted       int64            `json:"stageOmitted"`
	Rules              []RuleStats      `json:"rules"`
	Detections         []DetectionStats `json:"alerts,omitempty"`
	// AlertsUndated counts the events without a timestamp, which the
	// alert rules never evaluate (no step can place them): they are in
	// the totals and the rules' (policy's) counts, but not in the alert
	// rules' matched and lost. AlertsUndatedAt cites the first.
	AlertsUndated   int64    `json:"alertsUndated,omitempty"`
	AlertsUndatedAt string   `json:"alertsUndatedAt,omitempty"`
	Changes         []Change `json:"changes,omitempty"`
}

// NewChecker prepares a replay of events through p.
func NewChecker(p *Policy, opts CheckOptions) *Checker {
	c := &Checker{p: p, old: opts.Against, dets: opts.Detections, changes: map[changeKey]*Change{}}
	c.rules = make([]RuleStats, len(p.API.Rules)+1)
	for i := range p.API.Rules {
		c.rules[i] = RuleStats{Rule: i, Line: p.RuleLine(i), Level: string(p.API.Rules[i].Level)}
	}
	c.rules[len(p.API.Rules)] = RuleStats{Rule: -1, Level: LevelNone}
	for _, d := range opts.Detections {
		c.detStats = append(c.detStats, DetectionStats{Name: d.Name, NeedsLevel: d.NeedsLevel})
	}
	return c
}

// CapturedLevel is the level an event was logged at: its level field, or,
// for events without one, the deepest body it carries.
func CapturedLevel(e *data.Event) string {
	if LevelRank(e.Level) >= 0 {
		return e.Level
	}
	switch {
	case e.HasResponseObject:
		return LevelRequestResponse
	case e.HasRequestObject:
		return LevelRequest
	}
	return LevelMetadata
}

// Add replays one event and returns its verdict.
func (c *Checker) Add(e *data.Event) EventResult {
	d := c.p.Evaluate(e)
	captured := CapturedLevel(e)
	r := EventResult{AuditID: e.AuditID, Level: d.Level, Rule: d.Rule, Captured: captured, Stage: e.Stage,
		Bytes: loggedSize(e)}
	r.StageOmitted = e.Stage != "" && d.Omits(e.Stage)
	r.CannotUpgrade = !r.StageOmitted && LevelRank(d.Level) > LevelRank(captured)
	r.BytesAfter = sizeUnder(e, captured, d, r.Bytes)

	c.events++
	c.bytesNow += r.Bytes
	c.bytesAfter += r.BytesAfter
	if e.Time != 0 {
		if c.minTime == 0 || e.Time < c.minTime {
			c.minTime = e.Time
		}
		if e.Time > c.maxTime {
			c.maxTime = e.Time
		}
	}
	rs := &c.rules[len(c.rules)-1]
	if d.Rule >= 0 {
		rs = &c.rules[d.Rule]
	}
	rs.Events++
	rs.BytesNow += r.Bytes
	rs.BytesAfter += r.BytesAfter
	if r.CannotUpgrade {
		rs.CannotUpgrade++
		c.cannotUpgrade++
	}
	if r.StageOmitted {
		rs.StageOmitted++
		c.stageOmitted++
	}

	dets := c.dets
	if e.Time == 0 && len(dets) > 0 {
		// The alert rules never see an event without a time (they
		// evaluate in steps of event time): it is no match, and no loss.
		if c.undated == 0 {
			c.undatedAt = e.Origin.Cite()
		}
		c.undated++
		dets = nil
	}
	for i := range dets {
		det := &dets[i]
		// A rule with sides selects the event when one of them does, and
		// loses it when one that selects it no longer sees it.
		sides := det.Sides
		if len(sides) == 0 {
			sides = dets[i : i+1]
		}
		matched, lost := false, false
		for k := range sides {
			s := &sides[k]
			if !s.Matches(e) {
				continue
			}
			matched = true
			// An omitted RequestReceived or ResponseStarted event is not a
			// loss: the request is still logged at ResponseComplete.
			visibleNow := LevelRank(captured) >= LevelRank(s.NeedsLevel)
			visibleAfter := LevelRank(d.Level) >= LevelRank(s.NeedsLevel) && !(r.StageOmitted && finalStage(e.Stage))
			lost = lost || visibleNow && !visibleAfter
		}
		if !matched {
			continue
		}
		c.detStats[i].Matched++
		if lost {
			c.detStats[i].Lost++
			r.LostAlerts = append(r.LostAlerts, det.Name)
		}
	}

	if c.old != nil {
		od := c.old.Evaluate(e)
		oldRule := od.Rule
		r.OldLevel, r.OldRule = od.Level, &oldRule
		oldOmitted := e.Stage != "" && od.Omits(e.Stage)
		c.bytesOld += sizeUnder(e, captured, od, r.Bytes)
		oldEff, newEff := od.Level, d.Level
		if oldOmitted {
			oldEff = LevelNone
		}
		if r.StageOmitted {
			newEff = LevelNone
		}
		if oldEff != newEff {
			k := changeKey{oldRule: od.Rule, newRule: d.Rule, oldLevel: oldEff, newLevel: newEff}
			ch := c.changes[k]
			if ch == nil {
				ch = &Change{OldRule: od.Rule, OldLevel: oldEff, NewRule: d.Rule, NewLevel: newEff}
				c.changes[k] = ch
			}
			ch.Events++
		}
	}
	return r
}

// loggedSize is the size of e's line as the apiserver writes it, newline
// included: a pretty-printed copy (`jq .`) counts as its compact line,
// so the sizes and estimates do not depend on the indentation.
func loggedSize(e *data.Event) int64 {
	if data.SpansLines(e) {
		return int64(len(data.CompactLine(e.Raw))) + 1
	}
	return int64(len(e.Raw)) + 1
}

// sizeUnder estimates an event's size when logged under decision d: 0 when
// not logged, without the bodies the level drops, unchanged when the level
// is the same or higher (bodies that were not captured cannot be added).
func sizeUnder(e *data.Event, captured string, d Decision, now int64) int64 {
	if d.Level == LevelNone || (e.Stage != "" && d.Omits(e.Stage)) {
		return 0
	}
	if LevelRank(d.Level) >= LevelRank(captured) {
		return now
	}
	if !e.HasRequestObject && !e.HasResponseObject {
		return now
	}
	req, resp := bodySizes(e.EntryLine())
	after := now - resp
	if d.Level == LevelMetadata {
		after -= req
	}
	return after
}

// bodySizes returns how many bytes removing requestObject and
// responseObject (key, value and separator) saves. A Fluent Bit record
// whose event is a JSON string under "log" is measured inside the string.
func bodySizes(raw []byte) (req, resp int64) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return 0, 0
	}
	if _, ok := top["requestObject"]; !ok {
		if _, ok := top["responseObject"]; !ok {
			if lg, ok := top["log"]; ok {
				var inner string
				if json.Unmarshal(lg, &inner) == nil {
					if err := json.Unmarshal([]byte(inner), &top); err != nil {
						return 0, 0
					}
				}
			}
		}
	}
	size := func(k string) int64 {
		v, ok := top[k]
		if !ok {
			return 0
		}
		return int64(len(k) + 3 + len(v) + 1) // "k":v,
	}
	return size("requestObject"), size("responseObject")
}

// Report summarises the events added so far.
func (c *Checker) Report() *Report {
	r := &Report{Policy: c.p.File, Events: c.events, BytesNow: c.bytesNow, BytesAfter: c.bytesAfter,
		CannotUpgrade: c.cannotUpgrade, StageOmitted: c.stageOmitted, AlertsUndated: c.undated, AlertsUndatedAt: c.undatedAt}
	if c.old != nil {
		r.Against = c.old.File
		r.BytesAgainst = c.bytesOld
	}
	if c.maxTime > c.minTime {
		r.SpanSeconds = float64(c.maxTime-c.minTime) / 1e9
		perDay := 86400 / r.SpanSeconds
		r.BytesPerDayNow = float64(c.bytesNow) * perDay
		r.BytesPerDayAfter = float64(c.bytesAfter) * perDay
		if c.old != nil {
			r.BytesPerDayAgainst = float64(c.bytesOld) * perDay
		}
	}
	r.Rules = append(r.Rules, c.rules...)
	r.Detections = append(r.Detections, c.detStats...)
	for _, ch := range c.changes {
		r.Changes = append(r.Changes, *ch)
	}
	sort.Slice(r.Changes, func(i, j int) bool {
		a, b := r.Changes[i], r.Changes[j]
		if a.Events != b.Events {
			return a.Events > b.Events
		}
		if a.OldRule != b.OldRule {
			return a.OldRule < b.OldRule
		}
		return a.NewRule < b.NewRule
	})
	return r
}

// finalStage reports whether an event is the last one of its request
// (ResponseComplete or Panic; an event without stage counts as final).
func finalStage(stage string) bool {
	return stage != "RequestReceived" && stage != "ResponseStarted"
}
