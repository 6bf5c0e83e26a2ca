// Package gen generates realistic Kubernetes audit events (audit.k8s.io/v1),
// byte for byte in the shape kube-apiserver's log backend writes them, for
// testdata, demos and benchmarks.
//
// The generator is a small discrete-event simulation: API requests arrive
// at a configurable mean rate (a Poisson process), each request yields one
// to three audit events (RequestReceived, ResponseStarted, ResponseComplete)
// and events are released in stageTimestamp order, so every output file is
// sorted by stageTimestamp, as the apiserver writes it. Attack stories
// (see Stories) are injected at fixed offsets from the start time.
//
// Output is deterministic for a given Config.
package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// DefaultStart is the start time used when Config.Start is zero: it puts
// the "3 a.m. RoleBinding delete" story at 03:02 UTC.
var DefaultStart = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

// Config controls a Generator.
type Config struct {
	// Seed makes the output deterministic.
	Seed int64
	// Start is the requestReceivedTimestamp of the first request
	// (DefaultStart when zero).
	Start time.Time
	// Rate is the mean number of audit events per second over all nodes
	// (200 when zero).
	Rate float64
	// Nodes is the number of control-plane nodes (apiserver instances) the
	// traffic is spread over; Record.Node says which one logged an event
	// (1 when zero).
	Nodes int
	// Stories injects the attack stories (see Stories) at their offsets.
	Stories bool
	// RequestReceived is the fraction (0..1) of requests that also log a
	// RequestReceived stage (the seed policy omits that stage; a node with
	// a different policy does not).
	RequestReceived float64
	// Disorder, when positive, delays each event's place in the output by
	// a random 0..Disorder after its stageTimestamp, as concurrent request
	// goroutines do in a real apiserver: files are then sorted by
	// stageTimestamp only to within Disorder. Zero keeps them sorted.
	Disorder time.Duration
}

// Record is one generated audit event.
type Record struct {
	// Node is the index (0-based) of the control-plane node that logged it.
	Node int
	// Time is the event's stageTimestamp in Unix nanoseconds.
	Time int64
	// Line is the event's JSON line, ending in '\n'. It is valid until the
	// next call to Next.
	Line []byte
}

// Generator produces audit events in stageTimestamp order.
type Generator struct {
	cfg   Config
	rng   *rand.Rand
	w     *world
	start int64
	// meanGap is the mean gap between request arrivals in nanoseconds.
	meanGap float64

	nextArrival int64
	pending     pendingHeap
	free        []*pending
	last        *pending
	seq         uint64

	openWatches int

	steps   []storyStep
	stepIdx int

	req     request
	scratch [2][]byte // request/response object buffers
	count   int64
}

// MaxRate is the highest event rate (events/s) a Generator produces; higher
// rates are clamped to it.
const MaxRate = 100_000

// maxOpenWatches bounds the watches in flight (each holds its pending
// ResponseComplete event). At 200 events/s about 6500 are open; at higher
// rates new watches give way to other requests, as a real cluster's watch
// count follows its number of clients, not its request rate.
const maxOpenWatches = 10_000

// eventsPerRequest is the measured mean number of audit events per request
// of the background mix (watches, exec and RequestReceived add stages).
const eventsPerRequest = 1.09

// New returns a Generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Rate <= 0 || math.IsNaN(cfg.Rate) {
		cfg.Rate = 200
	}
	// At least one event a week keeps arrival gaps far from int64 overflow;
	// at most MaxRate keeps the in-flight requests (and memory) bounded.
	cfg.Rate = math.Min(math.Max(cfg.Rate, 1.0/(7*24*3600)), MaxRate)
	if cfg.Nodes <= 0 {
		cfg.Nodes = 1
	}
	if cfg.Disorder < 0 {
		cfg.Disorder = 0
	}
	cfg.RequestReceived = math.Max(0, math.Min(1, cfg.RequestReceived))
	seed := uint64(cfg.Seed)
	g := &Generator{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start:   cfg.Start.UnixNano(),
		meanGap: 1e9 * eventsPerRequest / cfg.Rate,
	}
	g.w = newWorld(rand.New(rand.NewPCG(seed^0x5bd1e995, 42)), cfg.Nodes)
	g.nextArrival = g.start
	if cfg.Stories {
		g.steps = buildStories(g.start)
	}
	return g
}

// Config returns the effective configuration (defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// Count returns how many events Next has returned.
func (g *Generator) Count() int64 { return g.count }

// Next returns the next audit event in stageTimestamp order.
func (g *Generator) Next() Record {
	if g.last != nil {
		g.free = append(g.free, g.last)
		g.last = nil
	}
	for {
		next := g.nextArrival
		story := g.stepIdx < len(g.steps) && g.steps[g.stepIdx].at <= next
		if story {
			next = g.steps[g.stepIdx].at
		}
		if len(g.pending) > 0 && g.pending[0].key <= next {
			p := g.pending.pop()
			if p.watchEnd {
				g.openWatches--
			}
			g.last = p
			g.count++
			return Record{Node: p.node, Time: p.t, Line: p.buf}
		}
		if story {
			st := g.steps[g.stepIdx]
			g.stepIdx++
			g.beginRequest(st.at)
			st.fill(g)
			g.finishRequest(st.node % g.cfg.Nodes)
			continue
		}
		at := g.nextArrival
		g.nextArrival += int64(g.rng.ExpFloat64()*g.meanGap) + 1
		g.beginRequest(at)
		if g.background() {
			g.finishRequest(g.rng.IntN(g.cfg.Nodes))
		}
	}
}

// beginRequest resets the scratch request for an arrival at time at.
func (g *Generator) beginRequest(at int64) {
	g.req = request{
		Received:  at - at%1000, // audit timestamps have microsecond precision
		AuditIDHi: g.rng.Uint64(),
		AuditIDLo: g.rng.Uint64(),
		Decision:  "allow",
		Node:      -1,
	}
	g.scratch[0] = g.scratch[0][:0]
	g.scratch[1] = g.scratch[1][:0]
	g.req.Status.Code = 200
}

// finishRequest applies the audit policy and schedules the request's
// events on node.
func (g *Generator) finishRequest(node int) {
	r := &g.req
	if r.Level == "" {
		r.Level = policyLevel(r)
	}
	if r.Level == "None" {
		return
	}
	if r.Node >= 0 {
		node = r.Node % g.cfg.Nodes
	}
	lat := r.Latency
	if lat == 0 {
		lat = g.latency(r)
	}
	if g.cfg.RequestReceived > 0 && r.User != nil && g.rng.Float64() < g.cfg.RequestReceived {
		g.emit(r, node, StageRequestReceived, r.Received)
	}
	switch {
	case r.User == nil && r.Status.Code == 401:
		// Failed authentication logs a single ResponseStarted event.
		g.emit(r, node, StageResponseStarted, r.Received+lat)
	case r.Verb == "watch" || r.Status.Code == 101:
		started := r.Received + 300_000 + int64(g.rng.IntN(20_000_000))
		g.emit(r, node, StageResponseStarted, started)
		end := g.emit(r, node, StageResponseComplete, started+lat)
		if r.Verb == "watch" {
			end.watchEnd = true
			g.openWatches++
		}
	default:
		g.emit(r, node, StageResponseComplete, r.Received+lat)
	}
}

// latency returns how long after arrival the request completes.
func (g *Generator) latency(r *request) int64 {
	ms := float64(time.Millisecond)
	switch {
	case r.Verb == "watch":
		// Watches end at their timeout, 5 to 10 minutes.
		return int64(300+g.rng.IntN(300)) * int64(time.Second)
	case r.Status.Code == 101:
		// exec/attach/port-forward sessions: seconds to minutes.
		return int64(2+g.rng.ExpFloat64()*40) * int64(time.Second)
	case r.Verb == "list":
		return int64((3 + g.rng.ExpFloat64()*25) * ms)
	case r.Status.Code == 500:
		return int64((10_000 + g.rng.Float64()*50) * ms) // webhook timeout
	default:
		return int64((0.4 + g.rng.ExpFloat64()*4) * ms)
	}
}

func (g *Generator) emit(r *request, node int, stage string, t int64) *pending {
	var p *pending
	if n := len(g.free); n > 0 {
		p = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		p = &pending{buf: make([]byte, 0, 2048)}
	}
	t -= t % 1000
	p.t, p.key, p.node, p.seq = t, t, node, g.seq
	if g.cfg.Disorder > 0 {
		p.key += g.rng.Int64N(int64(g.cfg.Disorder) + 1)
	}
	g.seq++
	p.buf = appendEvent(p.buf[:0], r, stage, t)
	p.watchEnd = false
	g.pending.push(p)
	return p
}

type pending struct {
	t    int64 // stageTimestamp
	key  int64 // output order: t, plus the Disorder delay
	seq  uint64
	node int
	buf  []byte
	// watchEnd marks a watch's ResponseComplete (an open watch until then).
	watchEnd bool
}

// pendingHeap is a min-heap on (key, seq).
type pendingHeap []*pending

func (h pendingHeap) less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].seq < h[j].seq
}

func (h *pendingHeap) push(p *pending) {
	*h = append(*h, p)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *pendingHeap) pop() *pending {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// policyLevel returns the audit level the seed policy
// (../shared/seed/audit-policy.yaml) intends for r. The seed's first rule
// (Metadata, no selectors) matches every request under the apiserver's
// first-match semantics, which would make all the later rules dead; the
// generator models the evident intent, with that catch-all moved last.
func policyLevel(r *request) string {
	o := &r.Obj
	core := r.HasObj && o.APIGroup == ""
	mutating := r.Verb == "create" || r.Verb == "update" || r.Verb == "patch" || r.Verb == "delete"
	read := r.Verb == "get" || r.Verb == "list" || r.Verb == "watch"
	switch {
	case core && read && (o.Resource == "events" && o.Subresource == "" ||
		o.Subresource == "status" && (o.Resource == "nodes" || o.Resource == "pods")):
		return "None"
	case mutating && core && o.Subresource == "" &&
		(o.Resource == "secrets" || o.Resource == "configmaps" || o.Resource == "serviceaccounts"):
		return LevelRequest
	case mutating && r.HasObj && o.APIGroup == "rbac.authorization.k8s.io" && o.Subresource == "" &&
		(o.Resource == "roles" || o.Resource == "rolebindings" || o.Resource == "clusterroles" || o.Resource == "clusterrolebindings"):
		return LevelRequest
	case r.HasObj && (o.APIGroup == "authentication.k8s.io" || o.APIGroup == "authorization.k8s.io"):
		return LevelMetadata
	case core && o.Resource == "pods" && (o.Subresource == "exec" || o.Subresource == "attach" || o.Subresource == "portforward"):
		return LevelMetadata
	case core && o.Resource == "secrets" && o.Subresource == "" && (r.Verb == "get" || r.Verb == "list"):
		return LevelRequestResponse
	case r.User != nil && hasGroup(r.User, "system:masters"):
		return LevelRequest
	case r.User != nil && r.User.Username == "system:anonymous":
		return LevelRequest
	}
	return LevelMetadata
}

func hasGroup(u *identity, g string) bool {
	for _, x := range u.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// ParseRate parses "200/s", "12000/m", "50/h" or a bare number (per second).
func ParseRate(s string) (float64, error) {
	num, unit := s, "s"
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		num, unit = s[:i], s[i+1:]
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("rate %q: want a positive number of events per s, m or h (e.g. 200/s)", s)
	}
	switch unit {
	case "s":
	case "m", "min":
		v /= 60
	case "h":
		v /= 3600
	default:
		return 0, fmt.Errorf("rate %q: unknown unit %q (want s, m or h)", s, unit)
	}
	return v, nil
}

// ParseSize parses a byte size: "1GB", "500MB", "64KiB", "4096".
// KB/MB/GB are decimal (1000-based), KiB/MiB/GiB binary.
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}}
	num, mult := s, int64(1)
	for _, u := range units {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			num, mult = s[:len(s)-len(u.suffix)], u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || v*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q: want a positive size such as 1GB, 500MB or 64KiB", s)
	}
	return int64(v * float64(mult)), nil
}
