package shipfaults

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/audittui/audittui/internal/gen"
)

// Tag identifies one scenario run. Every auditID the run writes is
// <tag>-0000-4000-8000-<12-digit sequence number>: a well-formed UUID (the
// sequence digits are hex digits too) that names the run and the event, so
// whatever a sink returns can be mapped back to the event written, whatever
// ship did to the rest of the line.
type Tag string

// NewTag returns a random tag (8 hex digits).
func NewTag() Tag {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return Tag(hex.EncodeToString(b[:]))
}

const idMid = "-0000-4000-8000-"

// idLen is the length of an auditID (a UUID).
const idLen = 36

// ID returns the auditID of event seq.
func (t Tag) ID(seq int) string { return fmt.Sprintf("%s%s%012d", t, idMid, seq) }

// Seqs returns the sequence numbers of every auditID of this run found in
// text, in order. Text may hold raw lines, JSON lines whose strings contain
// the events escaped (the dead-letter file), or anything else: only the
// run's IDs are matched.
func (t Tag) Seqs(text []byte) []int {
	needle := []byte(string(t) + idMid)
	var out []int
	for {
		i := bytes.Index(text, needle)
		if i < 0 {
			return out
		}
		digits := text[i+len(needle):]
		if len(digits) < 12 {
			return out
		}
		n, err := strconv.Atoi(string(digits[:12]))
		if err == nil {
			out = append(out, n)
		}
		text = digits[12:]
	}
}

// Seq parses one auditID of this run (false when it is not one).
func (t Tag) Seq(id string) (int, bool) {
	s := t.Seqs([]byte(id))
	if len(s) != 1 || len(id) != idLen {
		return 0, false
	}
	return s[0], true
}

// eventSource renders realistic audit events (internal/gen, the shape
// kube-apiserver writes) with the run's numbered auditIDs.
type eventSource struct {
	tag Tag
	g   *gen.Generator
}

func newEventSource(tag Tag, rate int, seed int64) *eventSource {
	return &eventSource{tag: tag, g: gen.New(gen.Config{Seed: seed, Rate: float64(rate), Start: time.Now().UTC()})}
}

var auditIDKey = []byte(`"auditID":"`)

// appendEvent appends event seq (one JSON line with its newline) to dst.
func (s *eventSource) appendEvent(dst []byte, seq int) []byte {
	r := s.g.Next()
	start := len(dst)
	dst = append(dst, r.Line...)
	line := dst[start:]
	i := bytes.Index(line, auditIDKey)
	if i < 0 || len(line) < i+len(auditIDKey)+idLen {
		panic("gen: event without an auditID: " + string(line))
	}
	copy(line[i+len(auditIDKey):], s.tag.ID(seq))
	return dst
}

// hugeEvent renders a valid audit event of about size bytes: a ConfigMap
// create at level Request whose requestObject carries one big data value
// (what a Helm release or a CRD bundle in a ConfigMap looks like).
func hugeEvent(tag Tag, seq, size int, ts time.Time) []byte {
	head := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"%s","stage":"ResponseComplete",`+
		`"requestURI":"/api/v1/namespaces/releases/configmaps?fieldManager=helm","verb":"create",`+
		`"user":{"username":"system:serviceaccount:releases:helm","groups":["system:serviceaccounts","system:authenticated"]},`+
		`"sourceIPs":["10.0.4.17"],"userAgent":"Helm/3.16.2","objectRef":{"resource":"configmaps","namespace":"releases","name":"bundle-%d","apiVersion":"v1"},`+
		`"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"bundle-%d","namespace":"releases"},"data":{"bundle.yaml":"`,
		tag.ID(seq), seq, seq)
	tail := fmt.Sprintf(`"}},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}`+"\n",
		ts.Add(-3*time.Millisecond).UTC().Format("2006-01-02T15:04:05.000000Z"), ts.UTC().Format("2006-01-02T15:04:05.000000Z"))
	n := max(size-len(head)-len(tail), 0)
	b := make([]byte, 0, len(head)+n+len(tail))
	b = append(b, head...)
	// Base64-like text that does not compress to nothing.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	x := uint32(seq)*2654435761 + 1
	for range n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b = append(b, alphabet[x&63])
	}
	return append(b, tail...)
}
