package rules

import (
	"hash/maphash"
	"slices"
	"sort"
	"time"
)

// dedupWidth is the time span of one bucket of the duplicate filter.
const dedupWidth = int64(time.Minute)

// dupKey identifies one contribution: a line's bytes (two independent
// 64-bit hashes) together with the rule and series it feeds.
type dupKey [2]uint64

// dedupStore remembers the contributions counted so far, per minute of
// event time, so that an identical line (an at-least-once shipper sends
// a line again after a crash; Loki stores such exact duplicates once)
// counts once. Only lines that feed some rule are remembered, and a
// minute is forgotten once no evaluation step still to run can see it.
// It also tracks roughly how much memory the evaluation state of each
// minute holds (the retention budget).
type dedupStore struct {
	seed1, seed2 maphash.Seed
	buckets      map[int64]*dedupBucket
	keys         []int64 // bucket numbers, sorted
	retained     int64   // sum of the buckets' bytes
	buf          []byte  // data.DupLineBuf's
}

type dedupBucket struct {
	// sets holds the contributions by the horizon (look-back) of the
	// rules they fed: a rule's entries are forgotten once its own windows
	// have passed the minute, not the longest rule's (a 5-minute rule's
	// entries do not wait for a 24-hour rule's).
	sets  map[int64]map[dupKey]struct{}
	bytes int64 // estimated memory of the evaluation state of this minute
	// ids holds, by the hash of an auditID, stage and time, the line hash
	// of the first event seen with them; variants the other lines seen
	// with them (see other). Made when Replay counts them.
	ids      map[uint64]uint64
	variants map[uint64]struct{}
}

func newDedupStore() dedupStore {
	return dedupStore{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), buckets: map[int64]*dedupBucket{}}
}

// lineHash hashes a line's bytes.
func (d *dedupStore) lineHash(raw []byte) dupKey {
	return dupKey{maphash.Bytes(d.seed1, raw), maphash.Bytes(d.seed2, raw)}
}

// contribution combines a line's hash with the rule and series it feeds.
func (d *dedupStore) contribution(line dupKey, rule int, series string) dupKey {
	var h maphash.Hash
	h.SetSeed(d.seed1)
	h.WriteString(series)
	x := h.Sum64() + uint64(rule)*0x9e3779b97f4a7c15
	return dupKey{line[0] ^ x, line[1] ^ (x*0xbf58476d1ce4e5b9 + 1)}
}

// otherBytes is the estimated memory of one entry of a bucket's ids.
const otherBytes = 32

// other records that an event of time t with auditID id and stage, whose
// line hashes to line, fed a rule; true when it has the auditID, stage
// and time of an event recorded before but another line, not seen with
// them before (each group of lines sharing them counts all but its
// first, in any order). added is the memory it took.
func (d *dedupStore) other(t int64, id, stage string, line uint64) (other bool, added int64) {
	var h maphash.Hash
	h.SetSeed(d.seed2)
	h.WriteString(id)
	h.WriteByte(0)
	h.WriteString(stage)
	k := h.Sum64() ^ uint64(t)*0x9e3779b97f4a7c15
	b := d.bucket(t)
	if b.ids == nil {
		b.ids = map[uint64]uint64{}
	}
	first, ok := b.ids[k]
	switch {
	case !ok:
		b.ids[k] = line
		return false, otherBytes
	case first == line:
		return false, 0
	}
	v := line ^ k*0xff51afd7ed558ccd
	if _, seen := b.variants[v]; seen {
		return false, 0
	}
	if b.variants == nil {
		b.variants = map[uint64]struct{}{}
	}
	b.variants[v] = struct{}{}
	return true, otherBytes
}

func (d *dedupStore) bucket(t int64) *dedupBucket {
	n := floorDiv(t, dedupWidth)
	b := d.buckets[n]
	if b == nil {
		b = &dedupBucket{}
		d.buckets[n] = b
		i := sort.Search(len(d.keys), func(i int) bool { return d.keys[i] >= n })
		d.keys = slices.Insert(d.keys, i, n)
	}
	return b
}

// add records contribution k of an event at time t to a rule whose steps
// look back horizon; false when it was recorded before (a duplicate).
func (d *dedupStore) add(t, horizon int64, k dupKey) bool {
	b := d.bucket(t)
	set := b.sets[horizon]
	if set == nil {
		if b.sets == nil {
			b.sets = map[int64]map[dupKey]struct{}{}
		}
		set = map[dupKey]struct{}{}
		b.sets[horizon] = set
	}
	if _, dup := set[k]; dup {
		return false
	}
	set[k] = struct{}{}
	return true
}

// forgetSets drops, in every minute, the contributions of the rules whose
// steps after p can no longer see that minute (it ends at or before p
// less their horizon). A duplicate of a forgotten line could not count
// anyway: no step still to run sees its time.
func (d *dedupStore) forgetSets(p int64) {
	for _, n := range d.keys {
		end := (n+1)*dedupWidth - 1
		b := d.buckets[n]
		for h := range b.sets {
			if end <= p-h {
				delete(b.sets, h)
			}
		}
	}
}

// charge adds n bytes of evaluation state to the minute of t.
func (d *dedupStore) charge(t, n int64) {
	d.bucket(t).bytes += n
	d.retained += n
}

// forget drops the minutes that end at or before t.
func (d *dedupStore) forget(t int64) {
	i := 0
	for ; i < len(d.keys); i++ {
		n := d.keys[i]
		if (n+1)*dedupWidth-1 > t {
			break
		}
		d.retained -= d.buckets[n].bytes
		delete(d.buckets, n)
	}
	d.keys = d.keys[i:]
}

// shedPoint returns the time up to which the oldest minutes must be
// forgotten for the retained state to fall to target.
func (d *dedupStore) shedPoint(target int64) int64 {
	left := d.retained
	p := int64(minTime)
	for _, n := range d.keys {
		if left <= target {
			break
		}
		left -= d.buckets[n].bytes
		p = (n+1)*dedupWidth - 1
	}
	return p
}
