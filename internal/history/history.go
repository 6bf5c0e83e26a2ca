// Package history rebuilds the history of one Kubernetes object from
// audit events: every request that touched it, in time order, one row per
// request (the stages of an auditID merged when they agree, in any input
// order, each identical line once), and between consecutive known
// versions a unified diff of the object.
//
// Versions come from the bodies the audit policy level recorded: the
// response object (RequestResponse), else the request object (an update's
// or create's body at Request level), else a patch applied to the
// previous known version (the patch type is told from the body: see
// guessPatchType). Diffs leave out bookkeeping (metadata.managedFields,
// resourceVersion, generation, creationTimestamp, uid) and status unless
// asked. Where the level recorded no body, the row says so ("Metadata
// level: no body recorded") and the next known version is diffed against
// the last one, saying how many changes it spans. A Secret's values never
// appear: each data and stringData value (also in kubectl's
// last-applied-configuration annotation and in patches) is replaced by a
// short hash salted with the object and key, so a diff shows which keys
// changed.
//
// A deletecollection of the object's collection (it names no object) is a
// row that says what it did to the object, as far as its event tells: see
// collection.go. One whose event shows it did not touch the object is no
// row: History.LeftOut holds it and History.Notes says so.
//
// The events are those Ref.Query selects; `audittui history` reads them
// with that query's literal prefilter, and the TUI's history pane filters
// its index with the same query.
package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/plural"
)

// Options tune what a history shows.
type Options struct {
	// Status keeps .status in versions and diffs.
	Status bool
	// Reads includes get, list and watch requests of the object (connect
	// requests, exec attach portforward proxy, are listed whatever their
	// verb: see connect).
	Reads bool
	// Context is the number of context lines in diffs (0: 3).
	Context int
	// Job is the job label of the sources' audit events (--label
	// job=...; "" is "audit"): the query selects it (Ref.QueryFor).
	Job string
}

// Outcome is how a request ended.
type Outcome string

// Outcomes.
const (
	OK      Outcome = "ok"
	Denied  Outcome = "denied"  // the authorizer said no
	Failed  Outcome = "failed"  // rejected after authorization (admission, validation, conflict, ...)
	Unknown Outcome = "unknown" // no response stage recorded
)

// Row is one request that touched the object.
type Row struct {
	AuditID     string
	Time        int64 // the last stage's time (Unix ns), 0 when undated
	Received    int64 // requestReceivedTimestamp (Unix ns), 0 when absent
	Verb        string
	Subresource string
	Identity    data.Identity
	// SourceIP is the first of SourceIPs (the sourceIP field,
	// sourceIPs[0]); SourceIPs are every address the API server recorded,
	// X-Forwarded-For's and X-Real-Ip's (the client's to set) before the
	// address its connection came from, last.
	SourceIP   string
	SourceIPs  []string
	UserAgent  string
	RequestURI string
	Code       int
	Outcome    Outcome
	// Reason is why a request was denied or failed (the authorizer's
	// reason, the status message).
	Reason string
	Level  string
	// AuditIDShared is the number of other requests in the input that
	// carry the same auditID (the client may choose it): they are rows of
	// their own, and a note names them.
	AuditIDShared int
	// Stages are the stages recorded, in order; Where cites each stage's
	// line (file:line).
	Stages []string
	Where  []string
	// Change says what happened to the object: created, updated,
	// patched, status updated, deleted, scaled to 3, exec ..., denied.
	// A dry run's says what it would have done, then "(dry run: not
	// persisted)".
	Change string
	// DryRun: the request was a server-side dry run (data.Event.DryRun):
	// the API server stored nothing, so the row changes neither the
	// object's versions nor whether it exists.
	DryRun bool
	// DryRunUnproven: a delete whose URI asks for a dry run at a level
	// that cannot show whether the API server read it (see
	// data.DryRunUnproven): counted as the delete, and a note says why.
	DryRunUnproven bool
	// Notes explain the row: where its version came from, what could not
	// be recorded.
	Notes []string
	// Patch is the patch body as sent (secrets hashed), PatchType its type.
	Patch     string
	PatchType string
	// Diff is the unified diff from the previous known version to the
	// version after this request ("" when none is known or nothing
	// changed).
	Diff string
	// Object is the object after this request when known (bookkeeping
	// removed, secrets hashed); nil otherwise.
	Object any
}

// Denied reports whether the authorizer refused the request.
func (r *Row) Denied() bool { return r.Outcome == Denied }

// History is the history of one object.
type History struct {
	Ref  Ref
	Kind string
	Rows []Row
	// Query is the LogQL that selects the events (Ref.Query).
	Query string
	// LeftOut are the requests the query selects that are no rows: the
	// deletecollection requests of the object's collection whose events
	// show they did not touch it (a fieldSelector that excludes it, a
	// response listing the deleted objects without it). Change says why.
	LeftOut []Row
	// Notes are about the history as a whole (how many requests were
	// left out, and where).
	Notes []string
}

// Builder collects the events of one object, in any order.
type Builder struct {
	ref    Ref
	opts   Options
	groups map[string]*group
	seen   map[[32]byte]*stage
}

// group is the stages of one request.
type group struct {
	id     string
	stages []*stage
}

type stage struct {
	ev   data.Event // owned copy (without Raw when the event has no body)
	line []byte     // the audit event JSON (EntryLine), owned; nil without a body
	rank int
	sum  [32]byte
	// origins are where the line was read (more than one for a
	// duplicate), in the order of Origin.Where.
	origins []data.Origin
}

func (st *stage) addOrigin(o data.Origin) {
	for _, x := range st.origins {
		if x.Source == o.Source && x.Line == o.Line && x.Offset == o.Offset {
			return
		}
		if x.Where() == o.Where() {
			return
		}
	}
	st.origins = append(st.origins, o)
	sort.Slice(st.origins, func(i, j int) bool {
		a, b := st.origins[i], st.origins[j]
		an, bn := sourceName(a), sourceName(b)
		if an != bn {
			return an < bn
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col // records on one line (a Firehose object's)
	})
}

func sourceName(o data.Origin) string {
	if o.Source == nil {
		return ""
	}
	return o.Source.Name
}

// NewBuilder returns a builder for the history of ref.
func NewBuilder(ref Ref, opts Options) *Builder {
	return &Builder{ref: ref, opts: opts, groups: map[string]*group{}, seen: map[[32]byte]*stage{}}
}

// Ref returns the object the builder collects.
func (b *Builder) Ref() Ref { return b.ref }

// Add takes one event; events about other objects are ignored, and a line
// seen before (at-least-once delivery, overlapping files) counts once. It
// reports whether the event was kept.
func (b *Builder) Add(e *data.Event) bool {
	if !b.ref.Matches(e, b.opts.Reads) {
		return false
	}
	line := e.EntryLine()
	sum := sha256.Sum256(line)
	if st, ok := b.seen[sum]; ok {
		// The same line again (at-least-once delivery, overlapping
		// files): one stage, cited at each place it was read.
		st.addOrigin(e.Origin)
		return false
	}
	// The event's strings alias the reader's buffer: keep only copies,
	// and the line only when it carries a body (what merge reads from it).
	light := *e
	if !e.HasRequestObject && !e.HasResponseObject {
		light.Raw, light.Line = nil, nil
	}
	c := light.Clone()
	id := c.AuditID
	if id == "" {
		id = "sha256:" + fmt.Sprintf("%x", sum[:8])
	}
	g := b.groups[id]
	if g == nil {
		g = &group{id: id}
		b.groups[id] = g
	}
	st := &stage{ev: c, line: c.EntryLine(), rank: stageRank(e.Stage), sum: sum, origins: []data.Origin{e.Origin}}
	g.stages = append(g.stages, st)
	b.seen[sum] = st
	return true
}

// Query is the LogQL log query that selects the events the builder keeps
// (Ref.Query with the builder's Reads).
func (b *Builder) Query() string { return b.ref.QueryFor(b.opts.Job, b.opts.Reads) }

// Len is the number of requests collected.
func (b *Builder) Len() int { return len(b.groups) }

func stageRank(s string) int {
	switch s {
	case "RequestReceived":
		return 1
	case "ResponseStarted":
		return 2
	case "ResponseComplete":
		return 3
	case "Panic":
		return 4
	}
	return 0
}

// request is a merged group, before versions are computed.
type request struct {
	row       Row
	reqBody   any
	respBody  any
	reqErr    error
	respErr   error
	hasReq    bool
	hasResp   bool
	latestSum [32]byte
	// coll is what a deletecollection's event says about the object, or
	// a list or watch of the collection's (collRead) whether it could
	// have returned it (nil for other requests).
	coll *collectionRead
	// collRead: a list or watch of the collection (isCollectionRead),
	// of namespace ns ("" cluster-wide).
	collRead bool
	ns       string
	// ends says whether the request ended the object's existence: a
	// deletecollection that deleted it, or may have (stepRow sets it;
	// track reads it).
	ends ending
}

// ending is what a deletecollection did to the object's existence.
type ending int

const (
	endsNot ending = iota
	endsYes
	endsMaybe
)

// requests splits the stages of an auditID into requests and merges each.
//
// The auditID is not a proof that lines belong to one request: the
// apiserver takes it from the client's Audit-ID header when there is one
// (k8s.io/apiserver pkg/endpoints/filters/audit_init.go), so two clients,
// or an attacker on purpose, can send the same one. Stages are merged only
// when they agree on everything one request's stages share (requestKey)
// and no stage is recorded twice; the others are separate requests, each
// noting the reuse. The result does not depend on the order the stages
// arrived in: they are sorted by stage, then bytes, and each joins the
// first request it fits.
func (g *group) requests() []*request {
	sort.Slice(g.stages, func(i, j int) bool {
		a, b := g.stages[i], g.stages[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return bytes.Compare(a.sum[:], b.sum[:]) < 0
	})
	// The stages come in slot order, so the first request of a key
	// without the slot of a stage is the one after those that took a
	// stage of that slot already: linear in the stages, whatever an
	// attacker repeats.
	type bucket struct {
		parts  []int
		placed [4]int // stages of each slot placed so far
	}
	buckets := map[requestKey]*bucket{}
	var parts [][]*stage
	for _, st := range g.stages {
		k := keyOf(&st.ev)
		b := buckets[k]
		if b == nil {
			b = &bucket{}
			buckets[k] = b
		}
		s := slot(st)
		if n := b.placed[s]; n < len(b.parts) {
			parts[b.parts[n]] = append(parts[b.parts[n]], st)
		} else {
			parts = append(parts, []*stage{st})
			b.parts = append(b.parts, len(parts)-1)
		}
		b.placed[s]++
	}
	reqs := make([]*request, len(parts))
	for k, p := range parts {
		reqs[k] = merge(g.id, p)
	}
	if len(parts) > 1 {
		for k, p := range parts {
			var others []string
			for j, q := range parts {
				if j == k {
					continue
				}
				if len(others) == maxReuseCited {
					others = append(others, fmt.Sprintf("%d more", len(parts)-1-maxReuseCited))
					break
				}
				how := strings.Join(differs(&p[0].ev, &q[0].ev), ", ")
				if how == "" {
					how = "the same request fields, a stage recorded twice"
				}
				others = append(others, q[0].origins[0].Where()+" ("+how+")")
			}
			r := &reqs[k].row
			r.AuditIDShared = len(parts) - 1
			r.Notes = append(r.Notes, fmt.Sprintf("auditID reused by a different request: %s; kept apart, as the client chooses the Audit-ID header",
				strings.Join(others, "; ")))
		}
	}
	return reqs
}

// maxReuseCited bounds the requests a reused auditID's note names.
const maxReuseCited = 3

// requestKey is what every stage of one request records alike: the verb,
// user, impersonated user, request URI, object reference and
// requestReceivedTimestamp (set once when the request came in).
type requestKey struct {
	verb, user, impUser, uri                       string
	group, version, resource, namespace, name, sub string
	received                                       int64
}

func keyOf(e *data.Event) requestKey {
	return requestKey{e.Verb, e.User, e.ImpUser, e.RequestURI, e.APIGroup, e.ObjAPIVer, e.Resource, e.Namespace, e.Name, e.Subresource, e.Received}
}

// sameRequest reports whether two stages can be lines of one request.
func sameRequest(a, b *data.Event) bool { return keyOf(a) == keyOf(b) }

// differs says how stage b's request differs from stage a's (nothing
// when they agree: see requestKey).
func differs(a, b *data.Event) []string {
	var d []string
	if a.User != b.User || a.ImpUser != b.ImpUser {
		d = append(d, "user "+strconv.Quote(data.IdentityOf(b).String()))
	}
	if a.Verb != b.Verb {
		d = append(d, "verb "+strconv.Quote(b.Verb))
	}
	if a.RequestURI != b.RequestURI {
		d = append(d, "another request URI")
	}
	if a.APIGroup != b.APIGroup || a.ObjAPIVer != b.ObjAPIVer || a.Resource != b.Resource ||
		a.Namespace != b.Namespace || a.Name != b.Name || a.Subresource != b.Subresource {
		d = append(d, "another objectRef")
	}
	switch {
	case a.Received == b.Received:
	case b.Received == 0:
		d = append(d, "no received time")
	default:
		d = append(d, "received at "+formatTime(b.Received))
	}
	return d
}

// slot is the place of a stage in a request (a request has one line in
// each): Panic ends it as ResponseComplete does.
func slot(st *stage) int {
	if st.rank == 4 {
		return 3
	}
	return st.rank
}

// merge merges the stages of one request, sorted by stage then bytes.
func merge(id string, stages []*stage) *request {
	r := &request{}
	row := &r.row
	decision := ""
	row.AuditID = id
	if strings.HasPrefix(id, "sha256:") {
		row.AuditID = ""
	}
	for i := range stages {
		st := stages[i]
		e := &st.ev
		if e.Stage != "" && (len(row.Stages) == 0 || row.Stages[len(row.Stages)-1] != e.Stage) {
			row.Stages = append(row.Stages, e.Stage)
		}
		for _, o := range st.origins {
			row.Where = append(row.Where, o.Where())
		}
		row.Time = max(row.Time, e.Time)
		if e.Received != 0 && (row.Received == 0 || e.Received < row.Received) {
			row.Received = e.Received
		}
		// Later (more complete) stages override what earlier ones said.
		setIf(&row.Verb, e.Verb)
		setIf(&r.ns, e.Namespace)
		r.collRead = r.collRead || isCollectionRead(e)
		setIf(&row.Subresource, e.Subresource)
		setIf(&row.RequestURI, e.RequestURI)
		setIf(&row.UserAgent, e.UserAgent)
		setIf(&row.Level, e.Level)
		if e.User != "" {
			row.Identity = data.IdentityOf(e)
		}
		if len(e.SourceIPs) > 0 {
			row.SourceIP, row.SourceIPs = e.SourceIPs[0], e.SourceIPs
		}
		if e.Code != 0 {
			row.Code = e.Code
		}
		if e.DryRun {
			row.DryRun = true
		} else if data.DryRunUnproven(e) && !row.DryRunUnproven {
			row.DryRunUnproven = true
			row.Notes = append(row.Notes, dryRunUnprovenNote)
		}
		setIf(&decision, e.Decision)
		if e.Decision == "forbid" {
			row.Outcome = Denied
			setIf(&row.Reason, e.AuthReason)
		}
		if e.Message != "" && (row.Outcome != Denied || row.Reason == "") {
			row.Reason = e.Message
		}
		if e.HasRequestObject {
			if v, ok := logql.ExtractJSONPath(st.line, "requestObject"); ok && v != "" {
				r.reqBody, r.reqErr = decodeJSON([]byte(v))
				r.hasReq = true
			}
		}
		if e.HasResponseObject {
			if v, ok := logql.ExtractJSONPath(st.line, "responseObject"); ok && v != "" {
				r.respBody, r.respErr = decodeJSON([]byte(v))
				r.hasResp = true
			}
		}
		r.latestSum = st.sum
	}
	switch {
	case row.Outcome == Denied:
	case row.Code == 403 && decision == "":
		// No decision annotation (old logs): a 403 is the authorizer's.
		row.Outcome = Denied
	case row.Code == 0:
		row.Outcome = Unknown
	case row.Code >= 400:
		row.Outcome = Failed
	default:
		row.Outcome = OK
	}
	return r
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// Build computes the rows and diffs.
func (b *Builder) Build() *History {
	h := &History{Ref: b.ref, Kind: b.ref.Kind, Query: b.ref.QueryFor(b.opts.Job, b.opts.Reads)}
	reqs := make([]*request, 0, len(b.groups))
	for _, g := range b.groups {
		reqs = append(reqs, g.requests()...)
	}
	sort.Slice(reqs, func(i, j int) bool {
		a, c := &reqs[i].row, &reqs[j].row
		if a.Time != c.Time {
			return a.Time < c.Time
		}
		if a.Received != c.Received {
			return a.Received < c.Received
		}
		if a.AuditID != c.AuditID {
			return a.AuditID < c.AuditID
		}
		return bytes.Compare(reqs[i].latestSum[:], reqs[j].latestSum[:]) < 0
	})
	if h.Kind == "" {
		h.Kind = learnKind(reqs, b.ref)
	}
	w := &walker{h: h, opts: b.opts}
	reads := 0 // the lists and watches left out
	if h.Kind == "Secret" || b.ref.Resource == "secrets" && b.ref.Group == "" {
		w.secret = &secretHasher{object: b.ref.Display()}
	}
	w.builtIn = builtInKind(b.ref.Group, h.Kind)
	for _, r := range reqs {
		if r.row.Verb == deleteCollection && r.row.Subresource == "" {
			r.coll = b.ref.readCollection(r)
			if r.coll.eff == effNot {
				r.row.Change = "did not touch it (" + r.coll.why + ")"
				h.LeftOut = append(h.LeftOut, r.row)
				continue
			}
		}
		if r.collRead {
			r.coll = b.ref.readCollection(r)
			if r.coll.eff == effNot {
				r.row.Change = "did not return it (" + r.coll.why + ")"
				h.LeftOut = append(h.LeftOut, r.row)
				reads++
				continue
			}
		}
		w.step(r)
		h.Rows = append(h.Rows, r.row)
	}
	if n := len(h.LeftOut) - reads; n > 0 {
		h.Notes = append(h.Notes, leftOutNote(h.LeftOut, deleteCollection))
	}
	if reads > 0 {
		h.Notes = append(h.Notes, leftOutNote(h.LeftOut, "list or watch"))
	}
	return h
}

// maxLeftOutCited bounds the requests the left-out note names (each is
// in History.LeftOut).
const maxLeftOutCited = 3

// leftOutNote says how many requests of the collection the history
// leaves out, of kind (deleteCollection, or "list or watch"), and cites
// them.
func leftOutNote(all []Row, kind string) string {
	var rows []*Row
	for k := range all {
		if (all[k].Verb == deleteCollection) == (kind == deleteCollection) {
			rows = append(rows, &all[k])
		}
	}
	did := "did not touch"
	if kind != deleteCollection {
		did = "did not return"
	}
	var cites []string
	for k, r := range rows {
		if k == maxLeftOutCited {
			cites = append(cites, fmt.Sprintf("%d more", len(rows)-maxLeftOutCited))
			break
		}
		where := "-"
		if len(r.Where) > 0 {
			where = r.Where[0]
		}
		cites = append(cites, where+" "+strings.TrimPrefix(r.Change, did+" it "))
	}
	return fmt.Sprintf("%d %s %s of the collection left out, %s %s the object: %s",
		len(rows), kind, plural.Word(len(rows), "request", "requests"), plural.Word(len(rows), "its event shows it", "their events show they"), did, strings.Join(cites, "; "))
}

// learnKind takes the object's kind from the first body that names it.
func learnKind(reqs []*request, ref Ref) string {
	for _, r := range reqs {
		for _, body := range []any{r.respBody, r.reqBody} {
			if str(body, "metadata", "name") == ref.Name && str(body, "kind") != "" && str(body, "kind") != "Status" {
				return str(body, "kind")
			}
		}
	}
	return ""
}

// walker carries the version state through the rows.
type walker struct {
	h       *History
	opts    Options
	secret  *secretHasher
	builtIn bool

	cur      any // the last known version (raw), nil when none
	curTime  int64
	known    bool // cur is the object as it is now
	gone     bool // deleted
	unknowns int  // changes since cur that recorded no version
	// present: the last request that changed the object succeeded and no
	// delete was recorded since (presentAt, presentWhat, presentWhere
	// say which), so a successful create now means a delete is missing
	// from the log.
	present      bool
	presentAt    int64
	presentWhat  string
	presentWhere string
	// terminating: a delete, a deletecollection that deleted it, or an
	// eviction since the last create. The object may still exist for a
	// while (finalizers, a pod's grace period, a Namespace being emptied)
	// and then go away with the update that removes the last finalizer,
	// no other delete: until the next create, no request makes it
	// present again. endAt, endWhat and endWhere say which request.
	terminating bool
	endAt       int64
	endWhat     string
	endWhere    string
	// doubt cites the last request that may have deleted the object
	// (a deletecollection that cannot be told, or that failed or has no
	// outcome) when no request since showed it exists ("" otherwise).
	doubt string
	// rows is the number of rows stepped so far.
	rows int
}

// isObject reports whether a body is the object itself (not a Status, a
// Scale, an Eviction, a patch).
func (w *walker) isObject(body any) bool {
	m, ok := body.(map[string]any)
	if !ok {
		return false
	}
	k := str(m, "kind")
	if k == "" || k == "Status" {
		return false
	}
	return w.h.Kind == "" || k == w.h.Kind
}

func (w *walker) step(r *request) {
	if r.row.DryRun {
		w.dryRun(r)
	} else {
		w.stepRow(r)
		w.track(r)
	}
	w.rows++
}

// dryRunUnprovenNote explains a delete whose query asks for a dry run at a
// level that cannot show whether the API server read it
// (data.DryRunUnproven).
const dryRunUnprovenNote = "the request URI asks for a dry run (dryRun), but a delete reads its options from its body when the client sent one (kubectl always does), and the Metadata level does not record the body: counted as a delete"

// dryRun handles a server-side dry run: the row says what the request
// would have done (its change, its diff from the current version) and
// that nothing was stored; the walker's state (versions, whether the
// object exists) is as before it.
func (w *walker) dryRun(r *request) {
	saved := *w
	w.stepRow(r)
	*w = saved
	row := &r.row
	row.Object = nil
	row.Change += " (dry run: not persisted)"
	row.Notes = append(row.Notes, "server-side dry run (kubectl --dry-run=server, kubectl diff, a GitOps diff): the API server ran admission and validation and answered, but stored nothing; the object's versions go on from the row before")
	if row.Diff != "" && row.Outcome == OK {
		row.Notes = append(row.Notes, "the diff is what the request would have changed")
	}
}

// track follows whether the log says the object exists after a row (see
// walker.present).
func (w *walker) track(r *request) {
	row := &r.row
	switch {
	case row.Verb == deleteCollection && r.coll != nil:
		switch r.ends {
		case endsYes:
			w.end(row)
		case endsMaybe:
			// Whether it exists is not known: a create after this is
			// no sign of a missing delete.
			w.present = false
			w.doubt = "the deletecollection at " + formatTime(row.Time)
			if len(row.Where) > 0 {
				w.doubt += ", " + row.Where[0] + ","
			}
		}
	case row.Outcome == Denied || row.Outcome == Failed || !isAction(row.Verb, row.Subresource):
	case row.Verb == "delete" && row.Subresource == "" || row.Subresource == "eviction":
		// Deleted, or (a delete whose outcome was not recorded, an
		// object with finalizers, a pod's grace period, a Namespace
		// being emptied) on its way out without another delete.
		w.end(row)
	case row.Outcome == Unknown:
	case row.Verb == "create" && row.Subresource == "":
		w.terminating = false
		w.presentAs(row)
	case !w.terminating:
		w.presentAs(row)
	}
}

// end records that a row ended the object's existence (or started its
// deletion).
func (w *walker) end(row *Row) {
	w.present, w.terminating, w.doubt = false, true, ""
	w.endAt, w.endWhat, w.endWhere = row.Time, strings.TrimSpace(row.Verb+" "+row.Subresource), ""
	if len(row.Where) > 0 {
		w.endWhere = row.Where[0]
	}
}

func (w *walker) presentAs(row *Row) {
	w.doubt = ""
	w.present, w.presentAt, w.presentWhat = true, row.Time, strings.TrimSpace(row.Verb+" "+row.Subresource)
	w.presentWhere = ""
	if len(row.Where) > 0 {
		w.presentWhere = row.Where[0]
	}
}

// createdAgain handles a successful create of an object the log says
// exists (walker.present), and reports whether the diff is to be made
// from the version before it.
func (w *walker) createdAgain(r *request, v any) bool {
	row := &r.row
	if row.Time == 0 || w.presentAt == 0 {
		// Undated requests are placed by auditID, not by time: that no
		// delete falls between them is not known.
		row.Notes = append(row.Notes, fmt.Sprintf("the log also records the object present (the %s at %s) with no delete between them in the order shown, but undated requests have no known order",
			w.presentWhat, w.presentWhere))
		return false
	}
	// The delete that let this create succeed is missing: a rotated-away
	// file, a lost shipment, a policy that drops it.
	row.Change = "created again"
	row.Notes = append(row.Notes, fmt.Sprintf("created again: no delete recorded since the %s at %s, %s (gap in the log?)",
		w.presentWhat, formatTime(w.presentAt), w.presentWhere))
	if v == nil || w.cur == nil {
		return false
	}
	row.Notes = append(row.Notes, "the diff is from the version before it ("+formatTime(w.curTime)+")")
	return true
}

func (w *walker) stepRow(r *request) {
	row := &r.row
	for _, err := range []error{r.reqErr, r.respErr} {
		if err != nil {
			row.Notes = append(row.Notes, "body is not valid JSON: "+err.Error())
		}
	}
	if r.coll != nil && r.collRead {
		row.Notes = append(row.Notes, "a "+row.Verb+" of "+w.h.Ref.readTarget(r.coll, r.ns), r.coll.why)
	} else if r.coll != nil {
		row.Notes = append(row.Notes, "a deletecollection of "+w.h.Ref.target(r.coll))
	}
	switch row.Outcome {
	case Denied:
		row.Change = "denied"
		w.attempt(r)
		return
	case Failed:
		row.Change = "failed (" + strconv.Itoa(row.Code) + ")"
		w.attempt(r)
		if r.coll != nil && !r.collRead && !w.terminating {
			// The apiserver deletes the listed objects one by one and
			// fails at the first error, after deleting others.
			row.Notes = append(row.Notes, "a deletecollection that fails part-way may already have deleted some of the objects: whether this one is among them is not known")
			r.ends = endsMaybe
		}
		return
	case Unknown:
		row.Change = row.Verb + " (outcome not recorded)"
		if isConnect(row.Subresource) {
			row.Change = connectChange(row, w.h.Ref.Name) + " (outcome not recorded)"
		}
		row.Notes = append(row.Notes, "no ResponseComplete stage: whether it changed the object is not known")
		if isMutating(row.Verb) && (row.Subresource == "" || row.Subresource == "status" || row.Subresource == "scale") {
			w.lost()
		}
		if r.coll != nil && !r.collRead && !w.terminating {
			r.ends = endsMaybe
		}
		return
	}
	if r.collRead {
		row.Change = row.Verb + " of the collection"
		switch {
		case r.coll.listed:
			row.Change += " (returned it)"
		case r.coll.eff == effMay:
			row.Change += " (may not have returned it)"
		}
		return
	}
	switch row.Subresource {
	case "", "status", "ephemeralcontainers", "resize":
	case "scale":
		w.scale(r)
		return
	default:
		w.otherSub(r)
		return
	}
	switch row.Verb {
	case "create":
		row.Change = "created"
		v := w.objectFrom(r)
		w.setVersion(r, v, !(w.present && w.createdAgain(r, v)))
	case "update":
		row.Change = "updated"
		if row.Subresource != "" {
			row.Change = row.Subresource + " updated"
		}
		w.setVersion(r, w.updated(r), false)
	case "patch":
		row.Change = "patched"
		if row.Subresource != "" {
			row.Change = row.Subresource + " patched"
		}
		w.setVersion(r, w.patched(r), false)
	case "delete":
		w.deleted(r)
	case deleteCollection:
		w.deletedCollection(r)
	default:
		row.Change = strings.TrimSpace(row.Verb + " " + row.Subresource)
		if row.Change == "" {
			row.Change = "request"
		}
	}
}

// objectFrom is the version a create or update recorded: the response
// object, else the request object.
func (w *walker) objectFrom(r *request) any {
	if w.isObject(r.respBody) {
		return r.respBody
	}
	if w.isObject(r.reqBody) {
		r.row.Notes = append(r.row.Notes, "version from the request body (Request level: the API server's defaults are not shown)")
		return r.reqBody
	}
	return nil
}

// updated is the version after an update. An update of the status
// subresource changes only status, and an update of the object leaves
// status alone, so a request body is merged with the last known version
// accordingly.
func (w *walker) updated(r *request) any {
	if w.isObject(r.respBody) {
		return r.respBody
	}
	if !w.isObject(r.reqBody) {
		return nil
	}
	if r.row.Subresource == "status" {
		if w.cur == nil || !w.known {
			r.row.Notes = append(r.row.Notes, "status update from the request body, but the version before it is not known")
			return nil
		}
		v := deepCopy(w.cur)
		st, _ := get(r.reqBody, "status")
		set(v, deepCopy(st), "status")
		r.row.Notes = append(r.row.Notes, "version: the previous one with the status of the request body")
		return v
	}
	r.row.Notes = append(r.row.Notes, "version from the request body (Request level: the API server's defaults are not shown)")
	v := deepCopy(r.reqBody)
	if w.cur != nil && w.known {
		if st, ok := get(w.cur, "status"); ok {
			set(v, deepCopy(st), "status")
		}
	}
	return v
}

// patched is the version after a patch: the response object, else the
// patch applied to the last known version.
func (w *walker) patched(r *request) any {
	row := &r.row
	if r.hasReq {
		w.showPatch(r)
	}
	if w.isObject(r.respBody) {
		if r.hasReq {
			row.Notes = append(row.Notes, "version: the resulting object from the response")
		}
		return r.respBody
	}
	if !r.hasReq {
		return nil
	}
	switch r.reqBody.(type) {
	case map[string]any, []any:
	default:
		row.Notes = append(row.Notes, "the patch is neither a JSON object nor an array: not applied")
		return nil
	}
	if w.cur == nil || !w.known {
		row.Notes = append(row.Notes, "the version before this patch is not known: the patch is shown, not the result")
		return nil
	}
	res, note, err := applyPatch(w.cur, r.reqBody, row.PatchType)
	if err != nil {
		row.Notes = append(row.Notes, "the patch does not apply to the last known version: "+err.Error())
		return nil
	}
	row.Notes = append(row.Notes, "version: the patch applied to the previous version")
	if note != "" {
		row.Notes = append(row.Notes, note)
	}
	return res
}

// showPatch renders the request's patch and tells its type.
func (w *walker) showPatch(r *request) {
	row := &r.row
	row.PatchType = guessPatchType(r.reqBody, row.RequestURI, w.builtIn)
	body := r.reqBody
	if w.secret != nil {
		if ops, ok := body.([]any); ok {
			body = w.secret.redactJSONPatch(ops)
		} else {
			body = w.secret.redact(body)
		}
	}
	row.Patch = render(body)
	switch row.PatchType {
	case PatchJSON:
		row.Notes = append(row.Notes, "JSON patch (RFC 6902)")
	case PatchMerge:
		row.Notes = append(row.Notes, "taken as a JSON merge patch (the audit log does not record the patch type; custom resources take no strategic merge patch)")
	case PatchStrategic:
		if hasDirective(r.reqBody) {
			row.Notes = append(row.Notes, "strategic merge patch (it holds $ directives)")
		} else {
			row.Notes = append(row.Notes, "taken as a strategic merge patch (the audit log does not record the patch type; kubectl sends built-in kinds this type, and for most changes it gives what a merge patch gives)")
		}
	case PatchApply:
		row.Notes = append(row.Notes, "server-side apply: approximated as a strategic merge of the applied configuration; fields this manager stopped applying may also have been removed")
	}
}

// deleted handles a delete: the object is gone, or, when the response is
// the object with a deletionTimestamp and finalizers, being deleted.
func (w *walker) deleted(r *request) {
	row := &r.row
	if w.isObject(r.respBody) && str(r.respBody, "metadata", "deletionTimestamp") != "" {
		if fin, ok := get(r.respBody, "metadata", "finalizers"); ok {
			if fs, ok := fin.([]any); ok && len(fs) > 0 {
				row.Change = "deletion started (finalizers pending)"
				w.setVersion(r, r.respBody, false)
				return
			}
		}
	}
	row.Change = "deleted"
	w.removed(row)
}

// removed ends the versions at a row that deleted the object: the last
// known version is shown removed.
func (w *walker) removed(row *Row) {
	if w.cur != nil && w.known {
		row.Diff = w.diff(w.cur, nil, row.Time)
		row.Notes = append(row.Notes, "the last version is shown removed")
	} else if w.cur != nil {
		row.Notes = append(row.Notes, "deleted; the version before the deletion is not known (changes were recorded without a body)")
	} else {
		row.Notes = append(row.Notes, "deleted; no version of the object was recorded before")
	}
	w.cur, w.known, w.gone, w.unknowns, w.curTime = nil, false, true, 0, row.Time
}

// deletedCollection handles a successful deletecollection of the
// object's collection (one whose event shows it did not touch the object
// is left out before: see Build): deleted when the response lists it or
// nothing in the request could have left it out, unless the log says it
// was deleted before and not created since; may have deleted it when a
// selector or a limit could have left it out.
func (w *walker) deletedCollection(r *request) {
	row, c := &r.row, r.coll
	if c.label != nil && w.cur != nil && w.known {
		match := "match"
		if !c.label.Matches(labelsOf(w.cur)) {
			match = "do not match"
		}
		row.Notes = append(row.Notes, fmt.Sprintf("the labels of its last known version (%s) %s the labelSelector", formatTime(w.curTime), match))
	}
	switch {
	case w.terminating && !c.listed:
		row.Change = "nothing to delete " + c.changeScope("already deleted")
		row.Notes = append(row.Notes, c.why, fmt.Sprintf("the log records its %s at %s, %s, and no create since: nothing of it was left to delete, unless a create is missing from the log",
			w.endWhat, formatTime(w.endAt), w.endWhere))
	case c.eff == effDeleted:
		row.Change = "deleted " + c.changeScope("")
		row.Notes = append(row.Notes, c.why)
		switch {
		case w.terminating:
			row.Notes = append(row.Notes, fmt.Sprintf("the log records its %s at %s, %s, and no create since: it was still being deleted (finalizers), or a create is missing from the log",
				w.endWhat, formatTime(w.endAt), w.endWhere))
		case w.rows == 0 && !c.listed:
			row.Notes = append(row.Notes, "no earlier request of it is in the input: it was deleted if it existed then")
		case w.doubt != "" && !c.listed:
			row.Notes = append(row.Notes, "unless "+w.doubt+" deleted it already")
		}
		w.removed(row)
		r.ends = endsYes
	default:
		extra := "no response body recorded"
		if r.hasResp {
			extra = "its response is not the list of the objects deleted"
		}
		row.Change = "may have deleted it " + c.changeScope(extra)
		row.Notes = append(row.Notes, c.why)
		// Only its existence is in doubt: a later request that succeeds
		// on it shows it survived as the last known version.
		r.ends = endsMaybe
	}
}

// scale handles the scale subresource: its body is a Scale; the object's
// spec.replicas takes its value.
func (w *walker) scale(r *request) {
	row := &r.row
	var replicas any
	for _, body := range []any{r.respBody, r.reqBody} {
		if v, ok := get(body, "spec", "replicas"); ok {
			replicas = v
			break
		}
	}
	if replicas == nil {
		row.Change = "scaled"
		row.Notes = append(row.Notes, noBody(row.Level))
		w.lost()
		return
	}
	row.Change = fmt.Sprintf("scaled to %v", replicas)
	if w.cur == nil || !w.known {
		w.lost()
		return
	}
	v := deepCopy(w.cur)
	set(v, replicas, "spec", "replicas")
	row.Notes = append(row.Notes, "version: the previous one with spec.replicas from the Scale")
	w.setVersion(r, v, false)
}

// otherSub handles subresources whose bodies are not the object (exec,
// attach, portforward, proxy, log, token, eviction, binding, ...). Their
// bodies are not shown: some hold credentials (a TokenRequest's response
// is a token).
func (w *walker) otherSub(r *request) {
	row := &r.row
	sub := row.Subresource
	if isConnect(sub) {
		row.Change = connectChange(row, w.h.Ref.Name)
		return
	}
	switch sub {
	case "eviction":
		row.Change = "evicted (graceful deletion started)"
		w.lost()
	case "binding":
		node := str(r.reqBody, "target", "name")
		row.Change = "bound to node " + node
		if node == "" {
			row.Change = "bound to a node"
		}
		if w.cur != nil && w.known && node != "" {
			v := deepCopy(w.cur)
			set(v, node, "spec", "nodeName")
			w.setVersion(r, v, false)
			return
		}
		w.lost()
	case "token":
		row.Change = "token requested"
	default:
		row.Change = row.Verb + " " + sub
	}
}

// connectChange says what a connect request did, from its request URI
// (the same whatever the verb: create with SPDY, get with WebSocket):
// exec and the command run, attach, port-forward and the ports, proxy and
// the HTTP method and path. name is the object's name.
func connectChange(row *Row, name string) string {
	switch row.Subresource {
	case "exec", "attach":
		if cmd := execCommand(row.RequestURI); cmd != "" {
			return row.Subresource + ": " + cmd
		}
		return row.Subresource
	case "portforward":
		if u, err := url.Parse(row.RequestURI); err == nil && len(u.Query()["ports"]) > 0 {
			return "port-forward: " + strings.Join(u.Query()["ports"], ", ")
		}
		return "port-forward"
	case "proxy":
		c := "proxy " + proxyMethod(row.Verb)
		if p := proxyPath(row.RequestURI, name); p != "" {
			c += " " + p
		}
		return c
	}
	return strings.TrimSpace(row.Verb + " " + row.Subresource)
}

// proxyMethod is the HTTP method of a proxied request, from the verb the
// apiserver logged for it (k8s.io/apiserver's RequestInfoFactory maps
// methods to verbs: GET get, POST create, PUT update, PATCH patch, DELETE
// delete).
func proxyMethod(verb string) string {
	switch verb {
	case "get":
		return "GET"
	case "create":
		return "POST"
	case "update":
		return "PUT"
	case "patch":
		return "PATCH"
	case "delete":
		return "DELETE"
	}
	return strings.ToUpper(verb)
}

// proxyPath is the path a proxied request asked for: what follows the
// object's .../NAME/proxy in the request URI ("/" when nothing does), with
// its query. The name segment may carry a scheme and port
// (pods/NAME:8080/proxy, services/https:NAME:443/proxy); the name itself
// may be "proxy".
func proxyPath(uri, name string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	seg := strings.Split(u.Path, "/")
	for k := 1; k < len(seg); k++ {
		if seg[k] != "proxy" || seg[k-1] != name && !slices.Contains(strings.Split(seg[k-1], ":"), name) {
			continue
		}
		p := "/" + strings.Join(seg[k+1:], "/")
		if u.RawQuery != "" {
			p += "?" + u.RawQuery
		}
		return p
	}
	return ""
}

// execCommand decodes the command of an exec from the request URI.
func execCommand(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return strings.Join(u.Query()["command"], " ")
}

// attempt shows what a refused request tried: the patch, or the diff to
// the object it sent.
func (w *walker) attempt(r *request) {
	row := &r.row
	if row.Reason != "" {
		row.Notes = append(row.Notes, row.Reason)
	}
	if row.Verb == "patch" && r.hasReq {
		w.showPatch(r)
		return
	}
	if (row.Verb == "create" || row.Verb == "update") && w.isObject(r.reqBody) {
		base := any(nil)
		if w.known && w.cur != nil {
			base = w.cur
		}
		row.Diff = w.diff(base, r.reqBody, row.Time)
		row.Notes = append(row.Notes, "the diff is what the request tried; the object did not change")
	}
}

// lost records a change whose result is not known.
func (w *walker) lost() {
	if w.known {
		w.known = false
	}
	w.unknowns++
}

func noBody(level string) string {
	if level == "" || level == "Metadata" {
		return "Metadata level: no body recorded"
	}
	return level + " level: no object body recorded for this request"
}

// setVersion records the version after a row (nil: not known). create
// resets the chain.
func (w *walker) setVersion(r *request, v any, create bool) {
	row := &r.row
	if w.secret != nil {
		v = foldStringData(v)
	}
	if v == nil {
		if !r.hasReq && !r.hasResp {
			row.Notes = append(row.Notes, noBody(row.Level))
		}
		w.lost()
		if create {
			w.gone = false
		}
		return
	}
	var base any
	switch {
	case create || w.gone:
		base = nil
	case w.cur != nil:
		base = w.cur
		if w.unknowns > 0 {
			row.Notes = append(row.Notes, fmt.Sprintf("%s since the previous known version (%s) recorded no body: this diff spans %s",
				plural.Count(w.unknowns, "change", "changes"), formatTime(w.curTime), plural.Word(w.unknowns, "it", "them")))
		}
	default:
		row.Notes = append(row.Notes, "first version recorded: no earlier version to compare with")
	}
	if base != nil || create || w.gone {
		row.Diff = w.diff(base, v, row.Time)
		if row.Diff == "" && base != nil {
			if w.opts.Status {
				row.Notes = append(row.Notes, "no change outside bookkeeping")
			} else {
				row.Notes = append(row.Notes, "no change outside bookkeeping and status (--status shows status)")
			}
		}
	}
	row.Object = w.shown(v)
	w.cur, w.curTime, w.known, w.gone, w.unknowns = v, row.Time, true, false, 0
}

// shown is a version as it is shown: bookkeeping (and status) removed,
// secrets hashed.
func (w *walker) shown(v any) any {
	if v == nil {
		return nil
	}
	c := clean(v, w.opts.Status)
	if w.secret != nil {
		c = w.secret.redact(c)
	}
	return c
}

// diff is the unified diff between two versions (nil: none).
func (w *walker) diff(a, b any, at int64) string {
	ctx := w.opts.Context
	if ctx <= 0 {
		ctx = 3
	}
	ta, tb := render(w.shown(a)), render(w.shown(b))
	if ta == tb {
		return ""
	}
	la, lb := w.h.Ref.String()+" "+formatTime(w.curTime), w.h.Ref.String()+" "+formatTime(at)
	if a == nil {
		la = "/dev/null"
	}
	if b == nil {
		lb = "/dev/null"
	}
	d, err := udiff.ToUnified(la, lb, ta, udiff.Lines(ta, tb), ctx)
	if err != nil {
		return ""
	}
	return d
}

// formatTime is RFC 3339 with milliseconds in UTC ("-" for 0).
func formatTime(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z")
}

// foldStringData does to a Secret what the apiserver does on every write:
// each stringData value is written, base64-encoded, under the same key of
// data (over what data held), and stringData is never stored. A version
// built from a request body (a create, or a patch applied to the version
// before) then reads as the object the apiserver kept: a patch of
// stringData.password is a change of data.password.
func foldStringData(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	sd, ok := m["stringData"].(map[string]any)
	if !ok {
		return v
	}
	c := deepCopy(m).(map[string]any)
	data, _ := c["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, x := range sd {
		if s, ok := x.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	c["data"] = data
	delete(c, "stringData")
	return c
}
