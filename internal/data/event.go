// Package data holds audittui's data path: the Event model, the decoder,
// the parallel reader and time merge, the Source / Stream / ReadOptions
// contracts, and the glue that feeds decoded events to the LogQL engine,
// panes, alerts and sinks:
//
//	source (file | s3 | loki)  ->  decode  ->  Event  ->  LogQL  ->  pane | alert | sink
//
// The sources are sibling packages under data/source (source/file,
// source/s3, source/loki); package source resolves SOURCE arguments into
// them. data imports none of them.
package data

import (
	"hash/maphash"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"
)

// Event is one Kubernetes audit event, decoded once.
//
// Raw holds the original bytes of the record exactly as read: the event
// itself, or the record that carries it (a Fluent Bit or shipper record, a
// CloudWatch Logs event, an AKS diagnostic record, a Cloud Logging
// LogEntry), or an item of a batch (EventList items, AKS records[],
// filter-log-events events[], CloudWatch logEvents[]). -o raw and export
// write Raw. (For a Logs Insights CSV export, Raw is the @message field.)
//
// Line is the audit event as LogQL reads it (line filters, `| json`):
// Raw itself for a plain event; the event inside a record (decoded from a
// JSON string when it was one); for a Cloud Logging entry, the
// audit.k8s.io/v1 Event the decoder builds from it. Use EntryLine, which
// falls back to Raw when Line is nil.
//
// The string fields are the values used for filtering, indexing and
// display.
//
// Ownership: the decoder may make Raw, Line and the string fields alias the
// buffer it read from. Consumers that keep an Event beyond the batch that
// delivered it must call Clone.
type Event struct {
	Raw  []byte
	Line []byte

	// Time is the event's time in Unix nanoseconds: stageTimestamp, else
	// requestReceivedTimestamp, else v1beta1's timestamp. 0 when none is set.
	Time int64
	// Received is requestReceivedTimestamp in Unix nanoseconds (0 if absent).
	Received int64

	APIVersion string // audit.k8s.io/v1, audit.k8s.io/v1beta1, or "" (legacy)
	Level      string // None, Metadata, Request, RequestResponse ("" if absent)
	AuditID    string
	Stage      string // RequestReceived, ResponseStarted, ResponseComplete, Panic
	RequestURI string
	Verb       string

	User      string
	UID       string
	Groups    []string
	ImpUser   string // impersonatedUser.username
	ImpGroups []string
	SourceIPs []string
	UserAgent string

	// The people and credentials behind the identity: the first value of
	// user.extra keys (identity.go). EKS (aws-iam-authenticator, access
	// entries): arn, sessionName, accessKeyId. Bound service-account
	// tokens: authentication.kubernetes.io/pod-name, node-name,
	// credential-id.
	UserARN, UserSession, UserAccessKey string
	UserPod, UserNode, UserCredential   string
	// Principal is a GKE Cloud Logging entry's
	// protoPayload.authenticationInfo.principalEmail (which is also the
	// user.username of the event built from it); "" for other shapes.
	Principal string

	Resource    string // objectRef.resource
	Subresource string
	Namespace   string
	Name        string
	APIGroup    string
	ObjAPIVer   string // objectRef.apiVersion

	Code    int    // responseStatus.code, 0 when absent
	Status  string // responseStatus.status
	Reason  string // responseStatus.reason
	Message string // responseStatus.message

	Decision   string // annotations["authorization.k8s.io/decision"]
	AuthReason string // annotations["authorization.k8s.io/reason"]
	// PodSecurityViolations is what Pod Security Admission found against
	// the namespace's audit level (annotations["pod-security.kubernetes.io/
	// audit-violations"]), as the apiserver writes it.
	PodSecurityViolations string

	// Cluster is the "cluster" key of a wrapping record (Fluent Bit's modify
	// filter adds it), when present.
	Cluster string

	// HasRequestObject / HasResponseObject tell whether bodies were logged.
	HasRequestObject  bool
	HasResponseObject bool
	// Carrier is the kind of record Raw is when it is not the event
	// itself (a CloudWatch Logs event, an AKS record, a LogEntry, a
	// shipper's record): the shape the decoder found. One byte, in the
	// padding before Origin: the Event does not grow.
	Carrier Carrier
	// DryRun: the API server ran the request as a server-side dry run
	// (?dryRun=All, or a delete body's dryRun): nothing was stored. Set
	// by the decoder (dryrun.go); in the padding too.
	DryRun bool
	// Repeat: a reader that filters exact duplicates over its whole input
	// (the TUI's index, see rules.Options.Deduplicated) found this line
	// (DupLine) equal to an earlier event's: a copy, to count once. The
	// decoder leaves it false; in the padding too.
	Repeat bool
	// NoStageTime: the event has no stageTimestamp, so Time is another
	// timestamp (requestReceivedTimestamp, v1beta1's timestamp, the
	// carrier's) and the latency is unknown. Set by the decoder; in the
	// padding too.
	NoStageTime bool
	// BodyAt says where the values of requestObject ([0]) and
	// responseObject ([1]) start in EntryLine, as byte offsets (0: the
	// event has no such member, or it is null), for readers that look
	// into the bodies only (the TUI collects the names `| json` yields
	// under them for completion) instead of walking the whole line. Both
	// are -1 when the decoder cannot say exactly: a member repeated, a
	// top-level key that `| json` names like a body or a field under one
	// (" requestObject", "requestObject.x"), a pretty-printed document
	// (EntryLine is then compacted), a line past 2 GiB: walk the whole
	// line. An Event built otherwise has 0s: walk it whole when it has a
	// body (HasRequestObject, HasResponseObject) but no offset for it.
	BodyAt [2]int32
	// IDHash is HashAuditID(AuditID), computed by the decoder while the
	// line is in the processor's caches (the TUI's index keys its rows
	// by it, on another core, long after); 0 when the event has no
	// auditID or was not made by the decoder: AuditIDHash computes it
	// then.
	IDHash uint64

	// Origin locates the event in its source, for error messages, for
	// reading the original bytes back (Offset/Len into the decompressed
	// stream of Origin.Source) and for the stream labels LogQL selects on.
	Origin Origin
}

// Origin says where an event (or a rejected line) came from.
// idSeed seeds HashAuditID: the hashes live in this process only, so any
// seed will do.
var idSeed = maphash.MakeSeed()

// HashAuditID hashes an auditID (0 for none) with the runtime's string
// hash, several times faster than a byte-at-a-time hash on 36-byte ids.
// The hashes are this process's only (the TUI's index, its alert and
// case-file look-ups): never store them.
func HashAuditID(s string) uint64 {
	if s == "" {
		return 0
	}
	h := maphash.String(idSeed, s)
	if h == 0 {
		h = 1
	}
	return h
}

// AuditIDHash returns HashAuditID(e.AuditID): IDHash when the decoder
// set it.
func (e *Event) AuditIDHash() uint64 {
	if e.IDHash != 0 {
		return e.IDHash
	}
	return HashAuditID(e.AuditID)
}

type Origin struct {
	Source *SourceInfo
	Line   int64 // 1-based line number in the (decompressed) stream
	Offset int64 // byte offset of Raw in the (decompressed) stream
	// Col is the 1-based byte column in line Line where Raw starts when
	// that is not the first byte of the line (an element of an array or
	// of a batch, an object of a run concatenated on one line as Firehose
	// writes them, an indented record); 0 when Raw starts its line.
	Col int64
	// StreamTime is the entry's own timestamp (Unix ns) in a store that
	// addresses entries by stream and time rather than by line (Loki);
	// 0 for files and objects. Cite uses it when set.
	StreamTime int64
}

// SourceInfo describes one input stream (a file, an S3 object, a Loki stream).
type SourceInfo struct {
	// Name is what error messages print: a path, "-" for stdin, s3://b/k, ...
	Name string
	// Labels are the stream labels LogQL stream selectors match against:
	// job="audit", filename, cluster (when known), plus any source labels.
	Labels Labels
	// Seekable is true when Origin.Offset can be used to read Raw back from
	// Name (plain, uncompressed local files).
	Seekable bool
	// Moved, when not nil, says where a followed file's bytes are now: a
	// rotation renamed, compressed or copied it after its events were
	// read (the file source updates it while it follows the file). Its
	// events are cited there (CiteName).
	Moved *Moved
}

// Moved is where a followed file is now. The source that follows the
// file updates it on its own goroutine; readers see the latest.
type Moved struct{ p atomic.Pointer[movedTo] }

type movedTo struct {
	name string
	gone bool
}

// Set says the file's bytes are now in the file at name (as stored or,
// for a .gz, decompressed: lines are the same).
func (m *Moved) Set(name string) { m.p.Store(&movedTo{name: name}) }

// SetGone says the file is no longer where it was last found, and no
// file beside it holds its bytes (deleted, cut, or moved elsewhere): its
// events keep the last name they had.
func (m *Moved) SetGone() {
	last, _ := m.Now()
	m.p.Store(&movedTo{name: last, gone: true})
}

// Now says where the file is now: name when it moved ("" when it did
// not), gone when it is nowhere to be found any more (name is then where
// it was last).
func (m *Moved) Now() (name string, gone bool) {
	if m == nil {
		return "", false
	}
	t := m.p.Load()
	if t == nil {
		return "", false
	}
	return t.name, t.gone
}

// CiteName is the name the source's events are cited by: where its bytes
// are now (Moved), else Name.
func (s *SourceInfo) CiteName() string {
	if s == nil {
		return "?"
	}
	if now, _ := s.Moved.Now(); now != "" {
		return now
	}
	return s.Name
}

// Labels is a small sorted-by-insertion set of label pairs.
type Labels []Label

// Label is one name="value" pair.
type Label struct{ Name, Value string }

// Get returns the value of label name.
func (ls Labels) Get(name string) (string, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// Timestamp returns Time as a time.Time (UTC).
func (e *Event) Timestamp() time.Time {
	if e.Time == 0 {
		return time.Time{}
	}
	return time.Unix(0, e.Time).UTC()
}

// Latency is stageTimestamp - requestReceivedTimestamp, or -1 if unknown
// (either is absent).
func (e *Event) Latency() time.Duration {
	if e.Received == 0 || e.Time == 0 || e.NoStageTime {
		return -1
	}
	return time.Duration(e.Time - e.Received)
}

// Where returns "file:line" for messages.
func (e *Event) Where() string {
	return e.Origin.Where()
}

// Where returns "name:line", or "name:line:col" when Col is past the
// line's first byte; name is where the source is now (CiteName).
func (o Origin) Where() string { return o.where(o.Source.CiteName()) }

// ReadWhere is Where with the name the source had when it was read (the
// same unless it moved since: SourceInfo.Moved).
func (o Origin) ReadWhere() string {
	name := "?"
	if o.Source != nil {
		name = o.Source.Name
	}
	return o.where(name)
}

func (o Origin) where(name string) string {
	w := name + ":" + strconv.FormatInt(o.Line, 10)
	if o.Col > 1 {
		w += ":" + strconv.FormatInt(o.Col, 10)
	}
	return w
}

// Cite returns how the event is cited as evidence: "NAME:LINE" for a
// file or an object (NAME is the path or s3://bucket/key, LINE the 1-based
// line in the decompressed stream, so the same for a file and its .gz),
// "NAME:LINE:COL" when the record does not start its line (COL the 1-based
// byte column where its bytes start in that line: the events of a Firehose
// object or of an array on one line),
// and for an entry of a timestamped store (Loki) its stream labels and
// nanosecond timestamp, `{job="audit", filename="..."} @1763629320123456789`,
// which is what a query for that one entry names. The text is untrusted
// (paths and labels come from the input): sanitise it to draw.
func (o Origin) Cite() string {
	if o.StreamTime != 0 {
		var ls Labels
		if o.Source != nil {
			ls = o.Source.Labels
		}
		return ls.String() + " @" + strconv.FormatInt(o.StreamTime, 10)
	}
	return o.Where()
}

// String renders the labels as a LogQL stream selector with the names
// sorted, as Loki prints a stream: {a="x", b="y"}.
func (ls Labels) String() string {
	sorted := append(Labels(nil), ls...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, l := range sorted {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, l.Name...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, l.Value)
	}
	return string(append(b, '}'))
}

// Clone returns a deep copy that owns all its memory.
func (e *Event) Clone() Event {
	c := *e
	// Every string field may alias the decoder's input buffer: copy each.
	c.Raw = append([]byte(nil), e.Raw...)
	c.Line = cloneLine(e.Line, e.Raw, c.Raw)
	c.APIVersion = cloneStr(e.APIVersion)
	c.Level = cloneStr(e.Level)
	c.AuditID = cloneStr(e.AuditID)
	c.Stage = cloneStr(e.Stage)
	c.RequestURI = cloneStr(e.RequestURI)
	c.Verb = cloneStr(e.Verb)
	c.User = cloneStr(e.User)
	c.UID = cloneStr(e.UID)
	c.Groups = cloneStrs(e.Groups)
	c.ImpUser = cloneStr(e.ImpUser)
	c.ImpGroups = cloneStrs(e.ImpGroups)
	c.SourceIPs = cloneStrsIn(e.SourceIPs, e.Raw, c.Raw)
	c.UserAgent = cloneStr(e.UserAgent)
	c.UserARN = cloneStr(e.UserARN)
	c.UserSession = cloneStr(e.UserSession)
	c.UserAccessKey = cloneStr(e.UserAccessKey)
	c.UserPod = cloneStr(e.UserPod)
	c.UserNode = cloneStr(e.UserNode)
	c.UserCredential = cloneStr(e.UserCredential)
	c.Principal = cloneStr(e.Principal)
	c.Resource = cloneStr(e.Resource)
	c.Subresource = cloneStr(e.Subresource)
	c.Namespace = cloneStr(e.Namespace)
	c.Name = cloneStr(e.Name)
	c.APIGroup = cloneStr(e.APIGroup)
	c.ObjAPIVer = cloneStr(e.ObjAPIVer)
	c.Status = cloneStr(e.Status)
	c.Reason = cloneStr(e.Reason)
	c.Message = cloneStr(e.Message)
	c.Decision = cloneStr(e.Decision)
	c.AuthReason = cloneStr(e.AuthReason)
	c.PodSecurityViolations = cloneStr(e.PodSecurityViolations)
	c.Cluster = cloneStr(e.Cluster)
	return c
}

// cloneLine copies line, or re-slices the cloned raw when line lies within
// raw (the common case: a plain event's Line is its Raw).
func cloneLine(line, raw, craw []byte) []byte {
	if line == nil {
		return nil
	}
	if len(line) <= len(raw) && len(raw) > 0 && len(line) > 0 {
		lp, rp := uintptr(unsafe.Pointer(unsafe.SliceData(line))), uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
		if lp >= rp && lp+uintptr(len(line)) <= rp+uintptr(len(raw)) {
			off := int(lp - rp)
			return craw[off : off+len(line) : off+len(line)]
		}
	}
	return append([]byte(nil), line...)
}

func cloneStr(s string) string {
	if s == "" {
		return ""
	}
	return string([]byte(s))
}

// cloneStrsIn copies ss as cloneStrs does, but a string that is a view
// of raw becomes the same view of craw (raw's copy): SourceIPsJSON reads
// the addresses' array straight from the line when they are views of it.
func cloneStrsIn(ss []string, raw, craw []byte) []string {
	if ss == nil {
		return nil
	}
	rp := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	out := make([]string, len(ss))
	for i, s := range ss {
		sp := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		if s != "" && len(raw) > 0 && sp >= rp && sp+uintptr(len(s)) <= rp+uintptr(len(raw)) {
			off := int(sp - rp)
			out[i] = b2s(craw[off : off+len(s)])
			continue
		}
		out[i] = cloneStr(s)
	}
	return out
}

func cloneStrs(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = cloneStr(s)
	}
	return out
}

// Reject is a line or document that could not be turned into an Event.
// Nothing is dropped silently: every reject is counted and reported.
type Reject struct {
	Origin Origin
	Reason string
	// Sample is at most the first 200 bytes of the offending input (raw,
	// untrusted: sanitise before display).
	Sample []byte
	// Lines is how many input lines the reject stands for when it is a
	// run of lines skipped or lost whole (a reader resynchronising after
	// a syntax error, a tail that could not be read), from Origin.Line;
	// 0 for one line or one document (see LineCount).
	Lines int64
}

// LineCount is the number of input lines the reject stands for: Lines,
// at least 1.
func (r Reject) LineCount() int64 { return max(1, r.Lines) }

// RejectedLines is the number of input lines rs stand for (the sum of
// their LineCounts).
func RejectedLines(rs []Reject) int64 {
	var n int64
	for i := range rs {
		n += rs[i].LineCount()
	}
	return n
}

// Error formats the reject as "file:line: reason".
func (r Reject) Error() string { return r.Origin.Where() + ": " + r.Reason }
