package rules

import (
	"bytes"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// mergeRetention is how long (in event time, behind the seal point) a
// rule that counts requests remembers a request it counted: a later stage
// of it (an exec session's ResponseComplete after its ResponseStarted)
// arriving within this span is not counted again.
const mergeRetention = int64(24 * time.Hour)

// pendingReq is the earliest stage seen so far of a request that a rule
// counting requests has not counted yet.
type pendingReq struct {
	ev   data.Event // a copy the evaluator owns
	key  string
	c    cite
	rank int
}

// stageRank orders the stages of one request.
func stageRank(stage string) int {
	switch stage {
	case "RequestReceived":
		return 0
	case "ResponseStarted":
		return 1
	case "ResponseComplete":
		return 2
	case "Panic":
		return 3
	}
	return 4
}

// before orders two stages of one request: time, then stage, then bytes,
// so the choice never depends on which came first.
func (p *pendingReq) before(q *pendingReq) bool {
	if p.c.t != q.c.t {
		return p.c.t < q.c.t
	}
	if p.rank != q.rank {
		return p.rank < q.rank
	}
	return bytes.Compare(p.ev.Raw, q.ev.Raw) < 0
}

// mergeAdd offers a contributing event to a rule that counts requests:
// each auditID counts once, at its earliest stage that passes the rule.
// The stage to count is held until the seal point passes it (until then
// an earlier stage may still arrive). It returns the bytes it retained.
func (rs *ruleState) mergeAdd(ev *data.Event, key string, c cite, sealed int64) int64 {
	if c.id == "" {
		rs.feed(ev, key, c, sealed, nil)
		return contribBytes
	}
	if rs.counted == nil {
		rs.counted, rs.pend = map[string]int64{}, map[string]*pendingReq{}
	}
	if _, done := rs.counted[c.id]; done {
		return 0
	}
	p := &pendingReq{key: key, c: c, rank: stageRank(ev.Stage)}
	p.ev.Raw = ev.Raw // compared before cloning
	old := rs.pend[c.id]
	if old != nil && !p.before(old) {
		// A later stage: the request is counted at the earlier one, and
		// failed if any stage says so (RequestReceived has no status).
		old.c.failed = old.c.failed || c.failed
		return 0
	}
	if old != nil {
		p.c.failed = p.c.failed || old.c.failed
	}
	p.ev = ev.Clone()
	id := p.ev.AuditID // the copy's own string
	p.c.id = id
	if c.t <= sealed {
		// Late: steps up to its time ran already; count it now in what
		// is still open.
		delete(rs.pend, id)
		rs.counted[id] = c.t
		rs.feed(&p.ev, key, c, sealed, nil)
		return contribBytes
	}
	rs.pend[id] = p
	if c.t < rs.pendMin {
		rs.pendMin = c.t
	}
	return int64(len(ev.Raw)) + pendingBytes
}

// release counts the held requests whose earliest stage is at or before
// p (about to be sealed).
func (rs *ruleState) release(p, sealed int64) {
	if rs.pendMin > p {
		return
	}
	rs.pendMin = maxTime
	for id, r := range rs.pend {
		if r.c.t > p {
			rs.pendMin = min(rs.pendMin, r.c.t)
			continue
		}
		delete(rs.pend, id)
		rs.counted[id] = r.c.t
		rs.feed(&r.ev, r.key, r.c, sealed, nil)
	}
}

// forgetCounted drops the requests counted at or before t.
func (rs *ruleState) forgetCounted(t int64) {
	for id, ct := range rs.counted {
		if ct <= t {
			delete(rs.counted, id)
		}
	}
}
