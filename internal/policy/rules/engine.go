package rules

import (
	"fmt"
	"time"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// sample is one series of a rule's expression at one step.
type sample struct {
	key    string // canonical label-set key (logql.Labels.String)
	labels map[string]string
	value  float64
}

// ruleEngine evaluates one rule's metric query step by step on the
// group's grid of evaluation times, on top of logql's range evaluator.
//
// logql.Evaluator computes a fixed run of steps from the entries added to
// it. The engine keeps two consecutive chunks of steps open: an entry at
// time ts counts in the steps [ts, ts+range), which the chunk length
// (>= range) keeps within the current and the next chunk. When a step
// beyond the current chunk is asked for, the current chunk is complete:
// the next one takes its place and a fresh chunk opens after it.
type ruleEngine struct {
	q        *logql.MetricQuery
	interval int64
	k        int // steps per chunk
	cur, nxt *chunk
}

type chunk struct {
	start, end int64 // first and last step time
	ev         *logql.Evaluator
	dirty      bool
	// results of the last evaluation, by step time.
	res map[int64][]sample
}

// chunkSteps picks the chunk length: at least the query's look-back
// (range + offset) plus one step, and at least min steps.
func chunkSteps(q *logql.MetricQuery, interval int64, minSteps int) int {
	back := int64(q.Range() + q.Offset())
	k := int((back+interval-1)/interval) + 2
	return max(k, minSteps)
}

func newRuleEngine(q *logql.MetricQuery, interval int64, minSteps int) (*ruleEngine, error) {
	k := chunkSteps(q, interval, minSteps)
	if k > logql.MaxPoints {
		k = chunkSteps(q, interval, 0)
	}
	if k > logql.MaxPoints {
		return nil, fmt.Errorf("range %s is more than %d evaluation intervals of %s",
			FormatDuration(q.Range()+q.Offset()), logql.MaxPoints-2, FormatDuration(time.Duration(interval)))
	}
	return &ruleEngine{q: q, interval: interval, k: k}, nil
}

func (e *ruleEngine) newChunk(start int64) *chunk {
	end := start + int64(e.k-1)*e.interval
	// newRuleEngine checked that k steps are allowed; the only other
	// error is a non-positive step, which groups never have.
	ev, _ := e.q.NewRangeEvaluator(start, end, time.Duration(e.interval))
	return &chunk{start: start, end: end, ev: ev}
}

// open starts the chunks at the group's first step time.
func (e *ruleEngine) open(first int64) {
	e.cur = e.newChunk(first)
	e.nxt = e.newChunk(e.cur.end + e.interval)
}

// contributes runs the rule's pipeline on ev: ok when the event counts
// toward the expression, with the key of the output series it feeds.
func (e *ruleEngine) contributes(ev *data.Event) (string, bool) {
	ls, ok := e.q.Contributes(ev)
	if !ok {
		return "", false
	}
	return ls.String(), true
}

// add feeds an event that contributes (see contributes) to the open chunks.
func (e *ruleEngine) add(ev *data.Event) {
	e.cur.ev.Add(ev)
	e.cur.dirty = true
	if from, _ := e.nxt.ev.Window(); ev.Time > from {
		e.nxt.ev.Add(ev)
		e.nxt.dirty = true
	}
}

// eval returns the expression's samples at step time s. Steps must be
// asked for in increasing order; asking for a step past the current chunk
// closes it.
func (e *ruleEngine) eval(s int64) []sample {
	for s > e.cur.end {
		e.cur = e.nxt
		e.nxt = e.newChunk(e.cur.end + e.interval)
	}
	c := e.cur
	if c.dirty || c.res == nil {
		c.res = map[int64][]sample{}
		for _, series := range c.ev.Result() {
			key := series.Labels.String()
			var lm map[string]string
			for _, p := range series.Points {
				if lm == nil {
					lm = make(map[string]string, len(series.Labels))
					for _, l := range series.Labels {
						lm[l.Name] = l.Value
					}
				}
				c.res[p.T] = append(c.res[p.T], sample{key: key, labels: lm, value: p.V})
			}
		}
		c.dirty = false
	}
	return c.res[s]
}
