package rules

import (
	"sync"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
)

// preparer works out which rules each event of a batch may feed, as a
// dispatch over its queries answers, on the goroutines that decode the
// batch (data.ReadOptions.Prepare), for the evaluation that reads the
// batch next (Parallel.Prepare, Replayer.Prepare): there the events are
// still in the core's caches (on the 1 GB benchmark file the dispatch
// cost half what it did on the goroutine that evaluates), and the work
// leaves that goroutine.
type preparer struct {
	queries []*logql.LogQuery
	// clones are copies of the dispatch, each with caches of its own,
	// kept with the values they cached for the next batches.
	mu     sync.Mutex
	clones []*dispatch
}

// prepared is what a preparer attaches to a batch: the candidates of each
// of its events (words each) and whether they are proven
// (dispatch.proven).
type prepared struct {
	by     *preparer
	cand   []uint64
	proven []bool
	// first is the batch's first event when last prepared: the answers
	// are used only for the same events.
	first *data.Event
}

// meta appends to dst each event's time, Repeat and proven, for
// Evaluator.pushBatch (evs are the events pr was prepared for).
func (pr *prepared) meta(evs []data.Event, dst []evMeta) []evMeta {
	for i := range evs {
		dst = append(dst, evMeta{t: evs[i].Time, repeat: evs[i].Repeat, proven: pr.proven[i]})
	}
	return dst
}

// prepare works out the candidates of the events of b it has not
// prepared yet and attaches them to b. It may be called from several
// goroutines at once, for different batches.
func (pp *preparer) prepare(b *data.Batch) {
	if len(b.Events) == 0 || pp.queries == nil {
		return
	}
	pr, _ := b.Prepared.(*prepared)
	if pr == nil || pr.by != pp || pr.first != &b.Events[0] || len(pr.proven) > len(b.Events) {
		pr = &prepared{by: pp}
		b.Prepared = pr
	}
	d := pp.clone()
	defer pp.putClone(d)
	for i := len(pr.proven); i < len(b.Events); i++ {
		pr.cand = append(pr.cand, d.candidates(&b.Events[i])...)
		pr.proven = append(pr.proven, d.proven)
	}
	pr.first = &b.Events[0]
}

// preparedFor returns what pp attached to b, nil when it did not (or
// b's events changed since).
func (pp *preparer) preparedFor(b *data.Batch) *prepared {
	pr, ok := b.Prepared.(*prepared)
	if !ok || pr.by != pp || len(b.Events) == 0 || len(pr.proven) != len(b.Events) || pr.first != &b.Events[0] {
		return nil
	}
	return pr
}

func (pp *preparer) clone() *dispatch {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if n := len(pp.clones); n > 0 {
		d := pp.clones[n-1]
		pp.clones = pp.clones[:n-1]
		return d
	}
	return newDispatch(pp.queries)
}

func (pp *preparer) putClone(d *dispatch) {
	pp.mu.Lock()
	pp.clones = append(pp.clones, d)
	pp.mu.Unlock()
}
