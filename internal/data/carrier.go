package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Carrier is the kind of record an event came in (Event.Carrier), as the
// decoder classified it when it found the event: the shape it decoded,
// not a guess from the record's keys. CarrierNone when Raw is the event
// itself (a line, a pretty-printed object, an EventList or array item, a
// Logs Insights CSV's @message). When records nest (a CloudWatch Logs
// event whose message is a Fluent Bit record), it is the outer record's
// kind: the one Raw holds.
type Carrier uint8

// The kinds of carrier (Decode lists the shapes).
const (
	CarrierNone Carrier = iota
	// CarrierLogEntry: a Cloud Logging LogEntry whose protoPayload the
	// decoder mapped onto an audit event (GKE).
	CarrierLogEntry
	// CarrierAKS: an AKS diagnostic record, the event in properties.log.
	CarrierAKS
	// CarrierCloudWatch: a CloudWatch Logs event as filter-log-events and
	// exports write it (message, with logStreamName or eventId).
	CarrierCloudWatch
	// CarrierSubscription: a CloudWatch Logs subscription event (an item
	// of logEvents, as Firehose delivers them: id, timestamp in
	// milliseconds, message).
	CarrierSubscription
	// CarrierInsights: a CloudWatch Logs Insights record (@message).
	CarrierInsights
	// CarrierJSONPayload: a Cloud Logging entry with the event as its
	// jsonPayload.
	CarrierJSONPayload
	// CarrierDocker: a container log record (log, stream and time: Docker's
	// json-file, the CRI parsers of shippers).
	CarrierDocker
	// CarrierFluentBit: a Fluent Bit record (log; with date, the time
	// key its outputs add, or with one of the stream and time of its
	// docker and cri parsers, or with the kubernetes of its kubernetes
	// filter, and neither Docker's stream and time together nor
	// Fluentd's docker).
	CarrierFluentBit
	// CarrierShipper: a record with the event under message and nothing
	// that names its shipper (Fluentd's in_tail without a parser, ...).
	CarrierShipper
	// CarrierVector: a Vector record (message, with source_type: its file
	// and kubernetes_logs sources).
	CarrierVector
	// CarrierFilebeat: a Filebeat or Elastic Agent record (message, with
	// what the Beats add: @metadata, ecs, data_stream or elastic_agent;
	// log is then the file it was read from, not the event).
	CarrierFilebeat
	// CarrierLogstash: a Logstash event (message, with @version).
	CarrierLogstash
	// CarrierFluentd: a Fluentd record of a container log that its
	// kubernetes_metadata filter enriched (log, with docker).
	CarrierFluentd
	// CarrierShipperLog: a record with the event under log and nothing
	// that names its shipper (none of date, stream, time, docker,
	// kubernetes).
	CarrierShipperLog
	// CarrierFilebeatJSON: a Filebeat record of its log input with JSON
	// decoding (json.keys_under_root false, the default): the event is
	// the object under json.
	CarrierFilebeatJSON
	// CarrierFluentdFile: a line of Fluentd's out_file in its default
	// format (time, tag and record, tab-separated); the record is the
	// event or carries it (Fluentd's in_tail without a parser: message).
	CarrierFluentdFile
)

var carrierNames = [...]string{
	CarrierNone:         "none",
	CarrierLogEntry:     "gke-logentry",
	CarrierAKS:          "aks",
	CarrierCloudWatch:   "cloudwatch",
	CarrierSubscription: "cloudwatch-subscription",
	CarrierInsights:     "logs-insights",
	CarrierJSONPayload:  "jsonpayload",
	CarrierDocker:       "docker",
	CarrierFluentBit:    "fluentbit",
	CarrierShipper:      "shipper",
	CarrierVector:       "vector",
	CarrierFilebeat:     "filebeat",
	CarrierLogstash:     "logstash",
	CarrierFluentd:      "fluentd",
	CarrierShipperLog:   "shipper-log",
	CarrierFilebeatJSON: "filebeat-json",
	CarrierFluentdFile:  "fluentd-out_file",
}

// Carriers lists every kind of carrier record (CarrierNone left out).
func Carriers() []Carrier {
	out := make([]Carrier, 0, len(carrierNames)-1)
	for k := CarrierNone + 1; int(k) < len(carrierNames); k++ {
		out = append(out, k)
	}
	return out
}

// String is a short name of the kind (for messages and tests).
func (c Carrier) String() string {
	if int(c) < len(carrierNames) {
		return carrierNames[c]
	}
	return "unknown"
}

// Key is where in the record the event is: protoPayload, properties.log,
// message, @message, jsonPayload, log or json; record for a Fluentd
// out_file line (the JSON after its time and tag); "" for CarrierNone.
func (c Carrier) Key() string {
	switch c {
	case CarrierLogEntry:
		return "protoPayload"
	case CarrierAKS:
		return "properties.log"
	case CarrierCloudWatch, CarrierSubscription, CarrierShipper, CarrierVector, CarrierFilebeat, CarrierLogstash:
		return "message"
	case CarrierInsights:
		return "@message"
	case CarrierJSONPayload:
		return "jsonPayload"
	case CarrierDocker, CarrierFluentBit, CarrierFluentd, CarrierShipperLog:
		return "log"
	case CarrierFilebeatJSON:
		return "json"
	case CarrierFluentdFile:
		return "record"
	}
	return ""
}

// Keys of a carrier record the decoder notes (record.has): what tells
// the shippers apart beyond the key that holds the event.
const (
	hasStream      uint16 = 1 << iota // stream (Docker json-file, CRI)
	hasTime                           // time
	hasEventID                        // eventId (CloudWatch Logs event)
	hasID                             // id (CloudWatch Logs subscription event)
	hasNumTS                          // a numeric timestamp (CloudWatch, milliseconds)
	hasDate                           // date (the time key Fluent Bit's outputs add)
	hasDocker                         // docker (Fluentd's kubernetes_metadata filter)
	hasSourceType                     // source_type (Vector)
	hasBeats                          // @metadata, ecs, data_stream, elastic_agent (Filebeat, Elastic Agent)
	hasVersion                        // @version (Logstash)
	hasKubernetes                     // kubernetes (Fluent Bit's kubernetes filter)
	hasAtTimestamp                    // @timestamp (Beats, Logstash, Logs Insights)
	hasAgent                          // agent (Filebeat, Elastic Agent: agent.type)
	hasNextToken                      // nextToken: filter-log-events output that is one page (the API's, --no-paginate)
	hasTokenCLI                       // NextToken: the same, as the AWS CLI writes it with --max-items
)

// beats reports whether r, a record read from doc, has what Filebeat and
// Elastic Agent add to a line they read: @metadata, ecs, data_stream,
// elastic_agent or agent, or an @timestamp with the log object of
// log.offset or log.file.path.
func (r *record) beats(doc []byte) bool {
	if r.has&(hasBeats|hasAgent) != 0 {
		return true
	}
	if r.has&hasAtTimestamp == 0 || r.logObj.end == 0 {
		return false
	}
	found := false
	s := newScanner(doc[:r.logObj.end], r.logObj.start)
	err := members(&s, func(k string) error {
		switch {
		case k == "offset":
			found = true
		case k == "file" && s.I < len(s.B) && s.B[s.I] == '{':
			return members(&s, func(k string) error {
				found = found || k == "path"
				return s.SkipValue(3)
			})
		}
		return s.SkipValue(2)
	})
	return err == nil && found
}

// carrier is the kind of record r, read from doc, which carries its
// event under r.wrapKey.
func (r *record) carrier(doc []byte) Carrier {
	switch r.wrapKey {
	case "json":
		return CarrierFilebeatJSON
	case "properties.log":
		return CarrierAKS
	case "@message":
		return CarrierInsights
	case "jsonPayload":
		return CarrierJSONPayload
	case "log":
		switch {
		case r.has&hasDate != 0:
			// Fluent Bit's date: also when it read a container log
			// (stream and time, from its docker or cri parser).
			return CarrierFluentBit
		case r.has&hasDocker != 0:
			return CarrierFluentd
		case r.has&(hasStream|hasTime) == hasStream|hasTime:
			return CarrierDocker
		case r.has&(hasStream|hasTime|hasKubernetes) != 0:
			return CarrierFluentBit
		}
		return CarrierShipperLog
	case "message":
		switch {
		case r.logStream != "" || r.has&hasEventID != 0:
			return CarrierCloudWatch
		case r.has&(hasID|hasNumTS) == hasID|hasNumTS:
			return CarrierSubscription
		case r.has&hasVersion != 0:
			// Before the Beats: Logstash writes what it received from
			// Filebeat or Elastic Agent with their keys.
			return CarrierLogstash
		case r.beats(doc):
			return CarrierFilebeat
		case r.has&hasSourceType != 0:
			return CarrierVector
		}
		return CarrierShipper
	}
	return CarrierNone
}

// eventsDiff says how a and b, events that are not the same (sameEvents),
// differ, for a reject: their numbers, else the first field that differs
// in the first event that differs, with the two values (`stage
// "RequestReceived" vs "ResponseComplete"`), short and escaped.
func eventsDiff(a, b []Event) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d events vs %d", len(a), len(b))
	}
	for i := range a {
		va, oka := decodeAny(a[i].EntryLine())
		vb, okb := decodeAny(b[i].EntryLine())
		if !oka || !okb {
			continue
		}
		if d := jsonDiff("", va, vb, eventDiffOrder); d != "" {
			if len(a) > 1 {
				d = fmt.Sprintf("event %d: %s", i+1, d)
			}
			return d
		}
	}
	return "the same fields, other bytes"
}

// eventDiffOrder is the order eventsDiff compares an event's fields in:
// what tells requests and stages apart first, then as the API server
// writes them; other keys after, sorted.
var eventDiffOrder = append(keyOrder{"auditID", "stage"}, eventKeys...)

// decodeAny decodes a JSON value (numbers as written).
func decodeAny(b []byte) (any, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return v, dec.Decode(&v) == nil
}

// jsonDiff names the first place where a and b (decoded JSON values at
// path) differ and the two values there, "" when they are equal. The
// keys of an object are compared in order, then the others sorted.
func jsonDiff(path string, a, b any, order keyOrder) string {
	ma, oka := a.(map[string]any)
	mb, okb := b.(map[string]any)
	if oka && okb {
		var keys []string
		seen := map[string]bool{}
		for _, k := range order {
			if _, in := ma[k]; in && !seen[k] {
				keys, seen[k] = append(keys, k), true
			} else if _, in := mb[k]; in && !seen[k] {
				keys, seen[k] = append(keys, k), true
			}
		}
		var rest []string
		for _, m := range []map[string]any{ma, mb} {
			for k := range m {
				if !seen[k] {
					rest, seen[k] = append(rest, k), true
				}
			}
		}
		slices.Sort(rest)
		for _, k := range append(keys, rest...) {
			p := diffPath(path, k)
			va, ina := ma[k]
			vb, inb := mb[k]
			switch {
			case !ina:
				return p + " absent vs " + diffValue(vb)
			case !inb:
				return p + " " + diffValue(va) + " vs absent"
			}
			if d := jsonDiff(p, va, vb, nil); d != "" {
				return d
			}
		}
		return ""
	}
	la, oka := a.([]any)
	lb, okb := b.([]any)
	if oka && okb {
		if len(la) != len(lb) {
			return fmt.Sprintf("%s %d items vs %d", path, len(la), len(lb))
		}
		for i := range la {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i], nil); d != "" {
				return d
			}
		}
		return ""
	}
	if reflect.DeepEqual(a, b) {
		return ""
	}
	return path + " " + diffValue(a) + " vs " + diffValue(b)
}

// diffPath is path.key, the key quoted unless it is a plain name.
func diffPath(path, key string) string {
	plain := key != ""
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-./@", c)) {
			plain = false
			break
		}
	}
	if !plain {
		key = strconv.Quote(clipRunes(key, 40))
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// diffValue is a short, escaped rendering of a decoded JSON value.
func diffValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(clipRunes(v, 40))
	case json.Number:
		return clipRunes(string(v), 24) // digits, sign, point and exponent only
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "?"
}

// clipRunes is s cut to n runes, "…" marking a cut.
func clipRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// OutFileLine splits a line of Fluentd's out_file in its default format
// (its out_file formatter: the time, RFC 3339, a tab, the tag, a tab, the
// record as JSON, as in 2026-11-20T02:00:08+00:00<TAB>kube.audit<TAB>{...})
// into its time, tag and record. ok is false when line is not laid out so
// (the record must start right after the second tab, with '{'); why says
// what is wrong when it is, but its time is not RFC 3339 or its tag is
// not a word of letters, digits and ._-+@:/~ (the tags Fluentd's inputs
// give, in_tail's path included; why is "" when all is well).
func OutFileLine(line []byte) (ts int64, tag string, record []byte, why string, ok bool) {
	t1 := bytes.IndexByte(line[:min(len(line), 64)], '\t')
	if t1 <= 0 || bytes.ContainsAny(line[:t1], "{\"") {
		return 0, "", nil, "", false
	}
	t2 := bytes.IndexByte(line[t1+1:], '\t')
	if t2 < 0 || t1+1+t2+1 >= len(line) || line[t1+1+t2+1] != '{' {
		return 0, "", nil, "", false
	}
	t2 += t1 + 1
	tagb, record := line[t1+1:t2], line[t2+1:]
	tm, err := time.Parse(time.RFC3339Nano, string(line[:t1]))
	if err != nil {
		return 0, "", record, fmt.Sprintf("its time %s is not RFC 3339 (out_file's default; with a time_format or time_type, write JSON lines instead: <format> @type json)",
			strconv.Quote(clipRunes(string(line[:t1]), 40))), true
	}
	for _, c := range tagb {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-+@:/~", c) >= 0) {
			return 0, "", record, "its tag " + strconv.Quote(clipRunes(string(tagb), 40)) + " is not a Fluentd tag (a word of letters, digits and ._-+@:/~)", true
		}
	}
	if len(tagb) == 0 {
		return 0, "", record, "its tag is empty", true
	}
	return tm.UnixNano(), string(tagb), record, "", true
}
