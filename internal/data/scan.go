package data

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/audittui/audittui/internal/data/jsonscan"
	"github.com/audittui/audittui/internal/data/logql"
)

// scanner is the shared JSON lexer (internal/data/jsonscan) plus the
// decoder's helpers.
type scanner struct {
	jsonscan.Scanner
	// arena, when set, takes the decoded escapes of string values: many
	// strings share one allocation (nil: each has its own).
	arena *[]byte
}

func newScanner(b []byte, i int) scanner {
	return scanner{Scanner: jsonscan.Scanner{B: b, I: i, MaxDepth: MaxDepth}}
}

// str reads a JSON string value (the scanner must be at '"'). Unescaped
// strings are views into the input; escaped ones are decoded copies.
func (s *scanner) str() (string, error) {
	b, i := s.B, s.I
	j := jsonscan.NextStop(b, i+1)
	if j < len(b) && b[j] == '"' {
		// The common case: no escape, in one scan. i+1 <= j < len(b):
		// the content is b[i+1:j], viewed without slicing b.
		s.I = j + 1
		return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i+1)), j-i-1), nil
	}
	return s.escapedStr(j)
}

// escapedStr is str for a string with an escape (or an error) at b[j].
func (s *scanner) escapedStr(j int) (string, error) {
	start, end, esc, err := s.StringFrom(j)
	if err != nil {
		return "", err
	}
	if !esc {
		return b2s(s.B[start:end]), nil
	}
	raw := s.B[start:end]
	if s.arena == nil {
		u, err := unescape(raw)
		if err != nil {
			return "", err
		}
		return b2s(u), nil
	}
	// Decoded text is never longer than its escaped form: it fits in the
	// arena's room, which is never written again once handed out.
	a := *s.arena
	if cap(a)-len(a) < len(raw) {
		a = make([]byte, 0, max(arenaBlock, len(raw)))
	}
	n := len(a)
	u, err := jsonscan.Unescape(raw, a[n:n:cap(a)])
	if err != nil {
		return "", err
	}
	*s.arena = a[:n+len(u)]
	return b2s(u), nil
}

// arenaBlock is the size of a decoder's arena for decoded escapes.
const arenaBlock = 16 << 10

// strOrNull reads a string, or null (returning ""). Other types are errors
// naming field.
func (s *scanner) strOrNull(field string) (string, error) {
	if s.I >= len(s.B) {
		return "", s.EOFErr()
	}
	switch s.B[s.I] {
	case '"':
		return s.str()
	case 'n':
		return "", s.Literal("null")
	}
	return "", s.ErrAt("field " + field + ": expected a string")
}

// strOrSkip reads a string value, or skips a value of another type
// (returning "").
func (s *scanner) strOrSkip() (string, error) {
	if s.I < len(s.B) && s.B[s.I] == '"' {
		return s.str()
	}
	return "", s.SkipValue(1)
}

// key reads the next member's key of the object being read (see
// jsonscan.NextKey), decoding escapes.
func (s *scanner) key(first bool) (string, bool, error) {
	raw, esc, done, err := s.NextKey(first)
	if err != nil || done {
		return "", done, err
	}
	if !esc {
		return b2s(raw), false, nil
	}
	u, err := unescape(raw)
	if err != nil {
		return "", false, err
	}
	return b2s(u), false, nil
}

// keyOrder lists the keys of an object in the order the API server writes
// them (the fields of the audit.k8s.io Go types, in declaration order, as
// encoding/json writes them; absent fields are omitted).
type keyOrder []string

var (
	eventKeys = keyOrder{"kind", "apiVersion", "metadata", "level", "timestamp", "auditID", "stage",
		"requestURI", "verb", "user", "impersonatedUser", "sourceIPs", "userAgent", "objectRef",
		"responseStatus", "requestObject", "responseObject", "requestReceivedTimestamp",
		"stageTimestamp", "annotations"}
	userKeys      = keyOrder{"username", "uid", "groups", "extra"}
	impUserKeys   = keyOrder{"username", "uid", "groups", "extra"}
	objectRefKeys = keyOrder{"resource", "namespace", "name", "uid", "apiGroup", "apiVersion",
		"resourceVersion", "subresource"}
	statusKeys      = keyOrder{"metadata", "status", "message", "reason", "details", "code"}
	annotationsKeys = keyOrder{"authorization.k8s.io/decision", "authorization.k8s.io/reason"}

	eventOrder       = newMemberOrder(eventKeys)
	userOrder        = newMemberOrder(userKeys)
	impUserOrder     = newMemberOrder(impUserKeys)
	objectRefOrder   = newMemberOrder(objectRefKeys)
	statusOrder      = newMemberOrder(statusKeys)
	annotationsOrder = newMemberOrder(annotationsKeys)
)

// memberOrder is a keyOrder with each key as a compact member starts,
// `"key":`, in little-endian words (see orderedKey).
type memberOrder struct {
	keys keyOrder
	pats []memberPat
}

// memberPat is `"key":` (n bytes, at most memberPatLen) as words w, the
// bytes past its end masked out by m.
type memberPat struct {
	w, m [memberPatLen / 8]uint64
	n    int
	key  string
}

const memberPatLen = 32

// orderWindow is how many keys of the order orderedKey tries from the
// next one: absent fields are skipped over (responseStatus is often
// {"metadata":{},"code":200}, code five keys on).
const orderWindow = 6

func newMemberOrder(keys keyOrder) *memberOrder {
	o := &memberOrder{keys: keys, pats: make([]memberPat, len(keys))}
	for k, key := range keys {
		q := `"` + key + `":`
		if len(q) > memberPatLen || strings.ContainsAny(key, "\"\\") || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 }) {
			panic("data: member key " + strconv.Quote(key) + " is too long or needs escaping")
		}
		p := &o.pats[k]
		p.n, p.key = len(q), key
		for j := 0; j < len(q); j++ {
			p.w[j/8] |= uint64(q[j]) << (8 * (j % 8))
			p.m[j/8] |= 0xff << (8 * (j % 8))
		}
	}
	return o
}

// orderedKey is key for an object whose keys usually come in the order
// order gives: it first compares the input with the next few keys of the
// order after the last one read (*next), as plain bytes (each "key":
// directly after the ',' or '{', as compact JSON has it), a word at a
// time, which spares scanning the key as a string. Anything else
// (whitespace, escapes, another key, a member near the end of the input)
// is read as key reads it. The key returned is the same either way.
func (s *scanner) orderedKey(first bool, order *memberOrder, next *int) (string, bool, error) {
	b, i := s.B, s.I
	if !first {
		if i >= len(b) || b[i] != ',' {
			if i < len(b) && b[i] == '}' {
				s.I = i + 1 // the end of the object
				return "", true, nil
			}
			return s.unorderedKey(first, order, next)
		}
		i++
	}
	if order == nil || i < 0 || len(b)-i < memberPatLen {
		return s.unorderedKey(first, order, next)
	}
	w := (*[memberPatLen]byte)(b[i:])
	x0 := binary.LittleEndian.Uint64(w[0:8])
	k0 := *next
	for k := k0; k < k0+orderWindow && k < len(order.pats); k++ {
		p := &order.pats[k]
		if x0&p.m[0] != p.w[0] {
			continue
		}
		if p.n > 8 {
			if binary.LittleEndian.Uint64(w[8:16])&p.m[1] != p.w[1] {
				continue
			}
			if p.n > 16 {
				if binary.LittleEndian.Uint64(w[16:24])&p.m[2] != p.w[2] ||
					p.n > 24 && binary.LittleEndian.Uint64(w[24:32])&p.m[3] != p.w[3] {
					continue
				}
			}
		}
		// The key holds no quote or backslash: it is exactly p.key.
		i += p.n
		if i < len(b) && b[i] > ' ' {
			s.I = i // the common case: no blank before the value
		} else {
			s.I = i
			s.SkipWS()
			if s.I >= len(b) {
				return "", false, s.EOFErr()
			}
		}
		*next = k + 1
		return p.key, false, nil
	}
	return s.unorderedKey(first, order, next)
}

// unorderedKey is orderedKey's way for a member that is not one of the
// next keys in compact JSON: key, and the place of the key in the order.
func (s *scanner) unorderedKey(first bool, order *memberOrder, next *int) (string, bool, error) {
	key, done, err := s.key(first)
	if err == nil && !done && order != nil {
		for k, w := range order.keys {
			if w == key {
				*next = k + 1
				break
			}
		}
	}
	return key, done, err
}

// valueSpan skips the value at the current position and returns its span.
func (s *scanner) valueSpan(depth int) (span, error) {
	start := s.I
	err := s.SkipValue(depth)
	return span{start, s.I}, err
}

// record is one decoded JSON object: the fields of an audit event, plus
// what a record that carries events holds (a Fluent Bit or shipper
// wrapper, a CloudWatch Logs event or subscription message, a Cloud
// Logging LogEntry, an AKS diagnostic record, a batch).
type record struct {
	decEvent

	// batch holds the element spans of an array of records or events
	// (EventList items, AKS records, filter-log-events events, CloudWatch
	// logEvents); batchKey names it.
	batch    []span
	batchKey string

	// wrap is the event a wrapper carries: under log, message, @message
	// (a JSON string: wrapStr, with escapes: wrapEsc; or an object) or
	// jsonPayload (an object). wraps has a bit for each of these keys the
	// record has (wrapKeys): when more than one, wrap is only the first
	// guess and chooseWrapped tries each.
	wrap    span
	wrapKey string
	wrapStr bool
	wrapEsc bool
	wraps   uint8
	// jsonObj is the object under json (Filebeat's log input decoding
	// JSON lines, json.keys_under_root false): one more key that may
	// hold the event, in a record with Filebeat's keys (record.beats).
	// logObj is log when it is an object (Filebeat's log.offset and
	// log.file.path).
	jsonObj span
	logObj  span

	proto      span // protoPayload (Cloud Logging)
	props      span // properties (AKS)
	resource   span // resource (Cloud Logging)
	labels     span // labels (Cloud Logging)
	operation  span // operation (Cloud Logging)
	category   string
	msgType    string // messageType (CloudWatch subscription)
	logStream  string // logStreamName / logStream (CloudWatch)
	resourceID string // resourceId (AKS)
	insertID   string
	logEntry   bool   // keys only a Cloud Logging LogEntry has
	payloadKey string // textPayload / jsonPayload of a LogEntry

	pretty    bool   // the document spans lines
	has       uint16 // carrier keys seen (hasStream, ...: carrier.go)
	carrierNS int64  // the carrier's time: CloudWatch timestamp (ms), Fluent Bit date (s)
	carrierTS string // the carrier's time as text: AKS time, Logs Insights @timestamp

	// bodiesSeen has a bit per body member read (noteBody); bodiesOdd:
	// the body offsets are not exact (Event.BodyAt).
	bodiesSeen uint8
	bodiesOdd  bool
}

// object decodes the object at the scanner into r (the top level of a
// document: an audit event or a record that carries events).
func (d *Decoder) object(s *scanner, r *record) error {
	ev := &r.decEvent
	if err := s.BeginObject(); err != nil {
		return err
	}
	next := 0
	for first := true; ; first = false {
		key, done, err := s.orderedKey(first, eventOrder, &next)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		switch key {
		case "kind":
			ev.kind, err = s.strOrNull(key)
		case "apiVersion":
			ev.APIVersion, err = s.strOrNull(key)
		case "level":
			ev.Level, err = s.strOrNull(key)
			// An application's log line has a level too ("info"): only
			// an audit level says audit event.
			ev.objectLike = ev.objectLike || auditLevel(ev.Level)
		case "auditID":
			ev.AuditID, err = s.strOrNull(key)
			ev.objectLike = true
		case "stage":
			ev.Stage, err = s.strOrNull(key)
			ev.objectLike = true
		case "requestURI":
			ev.RequestURI, err = s.strOrNull(key)
			ev.objectLike = true
		case "verb":
			ev.Verb, err = s.strOrNull(key)
			ev.objectLike = true
		case "userAgent":
			ev.UserAgent, err = s.strOrNull(key)
		case "stageTimestamp":
			ev.stageTS, err = s.strOrNull(key)
			ev.hasStageTS = ev.stageTS != ""
		case "requestReceivedTimestamp":
			ev.receivedTS, err = s.strOrNull(key)
			ev.hasRecv = ev.receivedTS != ""
		case "timestamp":
			// v1beta1's event time and a LogEntry's time are strings; a
			// CloudWatch Logs event's is a number (milliseconds).
			if c := s.B[s.I]; c == '-' || c >= '0' && c <= '9' {
				var num []byte
				if num, err = s.Number(); err == nil {
					r.has |= hasNumTS
					if ms, perr := strconv.ParseInt(string(num), 10, 64); perr == nil {
						r.carrierNS = ms * 1e6
					}
				}
				break
			}
			ev.legacyTS, err = s.strOrNull(key)
			ev.hasLegTS = ev.legacyTS != ""
		case "user":
			err = d.user(s, ev)
		case "impersonatedUser":
			err = d.impersonatedUser(s, ev)
		case "sourceIPs":
			ev.SourceIPs, err = d.strArray(s, key)
		case "objectRef":
			err = objectRef(s, ev)
		case "responseStatus":
			err = responseStatus(s, ev)
		case "annotations":
			err = annotations(s, ev)
		case "requestObject":
			r.noteBody(0, s.I)
			ev.HasRequestObject = !s.IsNull()
			if ev.HasRequestObject {
				err = s.SkipValue(1)
			} else {
				ev.BodyAt[0] = 0
			}
		case "responseObject":
			r.noteBody(1, s.I)
			ev.HasResponseObject = !s.IsNull()
			if ev.HasResponseObject {
				err = s.SkipValue(1)
			} else {
				ev.BodyAt[1] = 0
			}
		case "cluster":
			ev.Cluster, err = s.strOrSkip()
		default:
			// Keys of the records that carry events (rare in audit logs:
			// a separate switch keeps the common path short).
			err = d.carrierKey(s, r, key)
		}
		if err != nil {
			return err
		}
	}
}

// carrierKey reads a top-level member that is not an audit event field.
func (d *Decoder) carrierKey(s *scanner, r *record, key string) error {
	var err error
	switch key {
	case "items", "records", "events", "logEvents":
		if s.B[s.I] != '[' {
			err = s.SkipValue(1)
			break
		}
		r.batch, r.batchKey = []span{}, key
		err = d.elemSpans(s, &r.batch)
	case "log", "message", "@message", "jsonPayload":
		if key == "jsonPayload" {
			r.payloadKey = key
		}
		switch s.B[s.I] {
		case '"':
			if key == "jsonPayload" {
				err = s.SkipValue(1)
				break
			}
			var st, en int
			var esc bool
			st, en, esc, err = s.String()
			r.wraps |= wrapBit(key)
			if err == nil && r.wrapKey == "" {
				r.wrap, r.wrapKey, r.wrapStr, r.wrapEsc = span{st, en}, key, true, esc
			}
		case '{':
			var sp span
			sp, err = s.valueSpan(1)
			r.wraps |= wrapBit(key)
			if key == "log" {
				r.logObj = sp
			}
			if err == nil && (r.wrapKey == "" || r.wrapStr) {
				r.wrap, r.wrapKey, r.wrapStr, r.wrapEsc = sp, key, false, false
			}
		default:
			err = s.SkipValue(1)
		}
	case "protoPayload":
		r.proto, err = s.valueSpan(1)
	case "properties":
		r.props, err = s.valueSpan(1)
	case "resource":
		r.resource, err = s.valueSpan(1)
	case "labels":
		r.labels, err = s.valueSpan(1)
	case "operation":
		r.operation, err = s.valueSpan(1)
	case "category":
		r.category, err = s.strOrSkip()
	case "messageType":
		r.msgType, err = s.strOrSkip()
	case "logStreamName", "logStream":
		r.logStream, err = s.strOrSkip()
	case "resourceId":
		r.resourceID, err = s.strOrSkip()
	case "insertId":
		r.insertID, err = s.strOrSkip()
		r.logEntry = true
	case "logName", "receiveTimestamp", "severity", "trace", "spanId", "sourceLocation", "httpRequest":
		r.logEntry = true
		err = s.SkipValue(1)
	case "textPayload":
		r.payloadKey = key
		err = s.SkipValue(1)
	case "time", "@timestamp":
		if key == "time" {
			r.has |= hasTime
		} else {
			r.has |= hasAtTimestamp
		}
		r.carrierTS, err = s.strOrSkip()
	case "stream":
		r.has |= hasStream
		err = s.SkipValue(1)
	case "eventId":
		r.has |= hasEventID
		err = s.SkipValue(1)
	case "id":
		r.has |= hasID
		err = s.SkipValue(1)
	case "@version":
		r.has |= hasVersion
		err = s.SkipValue(1)
	case "nextToken", "NextToken":
		if s.IsNull() {
			break // (consumed)
		}
		if key == "nextToken" {
			r.has |= hasNextToken
		} else {
			r.has |= hasTokenCLI
		}
		err = s.SkipValue(1)
	case "@metadata", "ecs", "data_stream", "elastic_agent":
		r.has |= hasBeats
		err = s.SkipValue(1)
	case "source_type":
		r.has |= hasSourceType
		err = s.SkipValue(1)
	case "docker":
		r.has |= hasDocker
		err = s.SkipValue(1)
	case "kubernetes":
		r.has |= hasKubernetes
		err = s.SkipValue(1)
	case "agent":
		r.has |= hasAgent
		err = s.SkipValue(1)
	case "json":
		// Filebeat's JSON decoding (an object; the first one when
		// repeated, as chooseWrapped takes it).
		if s.B[s.I] == '{' && r.jsonObj.end == 0 {
			r.jsonObj, err = s.valueSpan(1)
			break
		}
		err = s.SkipValue(1)
	case "date":
		// Fluent Bit's record time: seconds since the epoch.
		if s.B[s.I] == '-' || s.B[s.I] >= '0' && s.B[s.I] <= '9' {
			r.has |= hasDate
			var num []byte
			if num, err = s.Number(); err == nil {
				if ns, ok := DecimalTime(string(num), 1e9); ok {
					r.carrierNS = ns
				} else if f, perr := strconv.ParseFloat(string(num), 64); perr == nil {
					r.carrierNS = int64(f * 1e9) // 1.7e9 and the like
				}
			}
			break
		}
		err = s.SkipValue(1)
	default:
		if bodyLabel(key) {
			r.bodiesOdd = true // named like a body by `| json`: see Event.BodyAt
		}
		err = s.SkipValue(1)
	}
	return err
}

// noteBody records where the value of a body member (k: 0 requestObject,
// 1 responseObject) starts in the document: at (see Event.BodyAt). A
// member seen before makes the offsets inexact.
func (r *record) noteBody(k int, at int) {
	if r.bodiesSeen&(1<<k) != 0 || at > math.MaxInt32 {
		r.bodiesOdd = true
	}
	r.bodiesSeen |= 1 << k
	r.BodyAt[k] = int32(at)
}

// placeBodies makes the body offsets relative to the event's line, which
// starts at doc[start] (Event.BodyAt), once the record is read.
func (r *record) placeBodies(start int) {
	if r.bodiesOdd || r.pretty {
		r.BodyAt = [2]int32{-1, -1}
		return
	}
	for k, at := range r.BodyAt {
		if at > 0 {
			r.BodyAt[k] = at - int32(start)
		}
	}
}

// bodyFamilies are the schema's families of body fields
// (requestObject_, responseObject_).
var bodyFamilies = func() []string {
	var out []string
	for _, f := range schema {
		if f.Kind == FieldFamily && f.Level >= LevelRequest {
			out = append(out, f.Name)
		}
	}
	return out
}()

// bodyLabel reports whether `| json` names a top-level key like a body or
// a field under one (a body family's name, with or without its "_").
func bodyLabel(key string) bool {
	var buf [64]byte
	name := logql.AppendLabelName(buf[:0], unsafe.Slice(unsafe.StringData(key), len(key)))
	for _, f := range bodyFamilies {
		if strings.HasPrefix(string(name), f) || string(name) == f[:len(f)-1] {
			return true
		}
	}
	return false
}

// members iterates the members of the object at the scanner (null is an
// empty object); fn must consume each value.
func members(s *scanner, fn func(key string) error) error {
	return orderedMembers(s, nil, fn)
}

// orderedMembers is members for an object whose keys usually come in
// order (see orderedKey).
func orderedMembers(s *scanner, order *memberOrder, fn func(key string) error) error {
	if s.IsNull() {
		return nil
	}
	if err := s.BeginObject(); err != nil {
		return err
	}
	next := 0
	for first := true; ; first = false {
		key, done, err := s.orderedKey(first, order, &next)
		if err != nil || done {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

func (d *Decoder) user(s *scanner, ev *decEvent) error {
	return orderedMembers(s, userOrder, func(k string) error {
		var err error
		switch k {
		case "username":
			ev.User, err = s.strOrNull("user.username")
		case "uid":
			ev.UID, err = s.strOrNull("user.uid")
		case "groups":
			ev.Groups, err = d.strArray(s, "user.groups")
		case "extra":
			err = userExtra(s, ev)
		default:
			err = s.SkipValue(2)
		}
		return err
	})
}

// userExtra keeps the first value of the user.extra keys that name the
// people and credentials behind an identity (see identity.go); the other
// keys are skipped.
func userExtra(s *scanner, ev *decEvent) error {
	return members(s, func(k string) error {
		var dst *string
		switch k {
		case "arn":
			dst = &ev.UserARN
		case "sessionName":
			dst = &ev.UserSession
		case "accessKeyId":
			dst = &ev.UserAccessKey
		case extraPodName:
			dst = &ev.UserPod
		case extraNodeName:
			dst = &ev.UserNode
		case extraCredentialID:
			dst = &ev.UserCredential
		default:
			return s.SkipValue(3)
		}
		v, err := firstString(s)
		*dst = v
		return err
	})
}

// firstString reads an array and returns its first element when that is a
// string (what Loki's `| json x="user.extra.arn[0]"` extracts); anything
// else gives "".
func firstString(s *scanner) (string, error) {
	if s.I >= len(s.B) || s.B[s.I] != '[' {
		return "", s.SkipValue(3)
	}
	if err := s.BeginArray(); err != nil {
		return "", err
	}
	v := ""
	for first := true; ; first = false {
		done, err := s.NextElem(first)
		if err != nil || done {
			return v, err
		}
		if first && s.B[s.I] == '"' {
			if v, err = s.str(); err != nil {
				return "", err
			}
			continue
		}
		if err := s.SkipValue(4); err != nil {
			return "", err
		}
	}
}

func (d *Decoder) impersonatedUser(s *scanner, ev *decEvent) error {
	return orderedMembers(s, impUserOrder, func(k string) error {
		var err error
		switch k {
		case "username":
			ev.ImpUser, err = s.strOrNull("impersonatedUser.username")
		case "groups":
			ev.ImpGroups, err = d.strArray(s, "impersonatedUser.groups")
		default:
			err = s.SkipValue(2)
		}
		return err
	})
}

func objectRef(s *scanner, ev *decEvent) error {
	return orderedMembers(s, objectRefOrder, func(k string) error {
		var err error
		switch k {
		case "resource":
			ev.Resource, err = s.strOrNull("objectRef.resource")
		case "subresource":
			ev.Subresource, err = s.strOrNull("objectRef.subresource")
		case "namespace":
			ev.Namespace, err = s.strOrNull("objectRef.namespace")
		case "name":
			ev.Name, err = s.strOrNull("objectRef.name")
		case "apiGroup":
			ev.APIGroup, err = s.strOrNull("objectRef.apiGroup")
		case "apiVersion":
			ev.ObjAPIVer, err = s.strOrNull("objectRef.apiVersion")
		default:
			err = s.SkipValue(2)
		}
		return err
	})
}

func responseStatus(s *scanner, ev *decEvent) error {
	return orderedMembers(s, statusOrder, func(k string) error {
		var err error
		switch k {
		case "code":
			if s.IsNull() {
				return nil
			}
			var num []byte
			if num, err = s.Number(); err != nil {
				return err
			}
			code, perr := strconv.Atoi(string(num))
			if perr != nil {
				return s.ErrAt("field responseStatus.code: not an integer")
			}
			ev.Code = code
		case "status":
			ev.Status, err = s.strOrNull("responseStatus.status")
		case "reason":
			ev.Reason, err = s.strOrNull("responseStatus.reason")
		case "message":
			ev.Message, err = s.strOrNull("responseStatus.message")
		default:
			err = s.SkipValue(2)
		}
		return err
	})
}

func annotations(s *scanner, ev *decEvent) error {
	return orderedMembers(s, annotationsOrder, func(k string) error {
		var err error
		switch k {
		case "authorization.k8s.io/decision":
			ev.Decision, err = s.strOrNull("annotations.authorization.k8s.io/decision")
		case "authorization.k8s.io/reason":
			ev.AuthReason, err = s.strOrNull("annotations.authorization.k8s.io/reason")
		case "pod-security.kubernetes.io/audit-violations":
			ev.PodSecurityViolations, err = s.strOrNull("annotations.pod-security.kubernetes.io/audit-violations")
		default:
			err = s.SkipValue(2)
		}
		return err
	})
}

// elemSpans records the spans of the elements of the array at the scanner.
func (d *Decoder) elemSpans(s *scanner, out *[]span) error {
	if err := s.BeginArray(); err != nil {
		return err
	}
	for first := true; ; first = false {
		done, err := s.NextElem(first)
		if err != nil || done {
			return err
		}
		sp, err := s.valueSpan(1)
		if err != nil {
			return err
		}
		*out = append(*out, sp)
	}
}

// strArray reads an array of strings (or null).
func (d *Decoder) strArray(s *scanner, field string) ([]string, error) {
	if s.IsNull() {
		return nil, nil
	}
	if err := s.BeginArray(); err != nil {
		return nil, err
	}
	start := len(d.strs)
	for first := true; ; first = false {
		done, err := s.NextElem(first)
		if err != nil {
			return nil, err
		}
		if done {
			if first {
				return []string{}, nil
			}
			return d.strs[start:len(d.strs):len(d.strs)], nil
		}
		if s.B[s.I] != '"' {
			return nil, s.ErrAt("field " + field + ": expected an array of strings")
		}
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		if len(d.strs) == cap(d.strs) {
			// Start a new arena; slices handed out keep the old one alive.
			n := len(d.strs) - start
			arena := make([]string, n, 256+n)
			copy(arena, d.strs[start:])
			d.strs = arena
			start = 0
		}
		d.strs = append(d.strs, v)
	}
}

// unescape decodes the content of a JSON string with escapes (a new slice:
// decoded strings must not alias the input buffer's escapes).
func unescape(b []byte) ([]byte, error) { return jsonscan.Unescape(b, nil) }

// auditLevel reports whether l is one of the audit levels an event is
// written at.
func auditLevel(l string) bool {
	switch l {
	case "Metadata", "Request", "RequestResponse", "None":
		return true
	}
	return false
}
