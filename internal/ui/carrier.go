package ui

import (
	"bytes"
	"cmp"
	"errors"
	"strings"
	"time"

	"github.com/audittui/audittui/internal/data"
)

// What Detail shows of an event read back from its source. The index keeps
// where each event's record is (Snapshot.Raw): the audit event itself, or
// the record that carries it (a CloudWatch Logs event, an AKS diagnostic
// record, a Cloud Logging LogEntry, a Filebeat, Logstash, Vector, Fluent
// Bit, Fluentd or Docker record).
// The record's bytes are what is cited and hashed (source, sha256, the
// case and the report); the summary and the JSON are the audit event the
// decoder finds in them, the same data.Event the filters and panes use,
// and a `carrier` line says what carried it.

// decodeRecord decodes a record read back for an index row into the audit
// event it holds. hash (Snapshot.AuditIDHash) picks the event when the
// record holds several (a wrapped batch); else the first.
func decodeRecord(raw []byte, hash uint64) (data.Event, error) {
	var dec data.Decoder
	evs, rej := dec.Decode(nil, bytes.TrimRight(raw, "\r\n"), data.Origin{})
	if len(evs) == 0 {
		if rej != nil {
			return data.Event{}, errors.New(rej.Reason)
		}
		return data.Event{}, errors.New("the record holds no audit event")
	}
	k := 0
	for i := range evs {
		if hashID(evs[i].AuditID) == hash {
			k = i
			break
		}
	}
	return evs[k].Clone(), nil
}

// carrierText names the shape of the record that carried an event (the
// kind the decoder found, data.Event.Carrier, and where in the record the
// event was) and the record's own facts, read from n, the record parsed
// (carrierJSON of raw, its bytes): its time, log stream, cluster and ids,
// times in loc. Untrusted: sanitise to draw.
func carrierText(kind data.Carrier, raw []byte, n *jnode, loc *time.Location) string {
	var facts []string
	add := func(label, v string) {
		if v != "" {
			facts = append(facts, label+" "+v)
		}
	}
	str := func(path ...string) string {
		x := n
		for _, p := range path {
			x = x.field(p)
		}
		if x == nil || x.kind == 'o' || x.kind == 'a' || x.kind == 'z' {
			return ""
		}
		return x.text
	}
	// A time as text (RFC 3339, or as the tool wrote it when unreadable).
	at := func(path ...string) string {
		s := str(path...)
		if s == "" {
			return ""
		}
		ns, err := data.ParseTime(s)
		if err != nil {
			return s
		}
		return carrierTime(ns, loc)
	}
	// A time in milliseconds (CloudWatch Logs) or seconds (Fluent Bit).
	num := func(unit int64, path ...string) string {
		s := str(path...)
		ns, ok := data.DecimalTime(s, unit)
		if !ok {
			return s
		}
		return carrierTime(ns, loc)
	}
	// NAMESPACE/NAME of the pod under the record's kubernetes key.
	pod := func(ns, name string) string {
		n, space := str("kubernetes", name), str("kubernetes", ns)
		if n != "" && space != "" {
			return space + "/" + n
		}
		return n
	}
	var shape string
	switch kind {
	case data.CarrierLogEntry:
		// Its timestamp is the event's (the time line says so).
		shape = "Cloud Logging LogEntry (GKE): the event below is mapped from its protoPayload"
		add("cluster", str("resource", "labels", "cluster_name"))
		add("insertId", str("insertId"))
	case data.CarrierAKS:
		shape = "AKS diagnostic record, category " + str("category") + " (properties.log)"
		add("time", at("time"))
		add("cluster", data.AKSCluster(str("resourceId")))
		add("pod", str("properties", "pod"))
		add("stream", str("properties", "stream"))
	case data.CarrierCloudWatch:
		shape = "CloudWatch Logs event (message)"
		add("timestamp", num(1e6, "timestamp"))
		add("log stream", str("logStreamName"))
		add("eventId", str("eventId"))
	case data.CarrierSubscription:
		// (Its log group and stream are in the batch around it.)
		shape = "CloudWatch Logs subscription event (message)"
		add("timestamp", num(1e6, "timestamp"))
		add("id", str("id"))
	case data.CarrierInsights:
		shape = "CloudWatch Logs Insights record (@message)"
		add("@timestamp", str("@timestamp"))
		add("log stream", str("@logStream"))
	case data.CarrierJSONPayload:
		shape = "Cloud Logging entry (jsonPayload)"
		add("timestamp", at("timestamp"))
		add("logName", str("logName"))
	case data.CarrierDocker:
		shape = "container log record (log; Docker json-file)"
		add("time", at("time"))
		add("stream", str("stream"))
	case data.CarrierFluentBit:
		shape = "Fluent Bit record (log)"
		add("date", num(1e9, "date"))
		add("cluster", str("cluster"))
		add("pod", pod("namespace_name", "pod_name"))
	case data.CarrierFluentd:
		shape = "Fluentd record (log; kubernetes_metadata)"
		add("stream", str("stream"))
		add("pod", pod("namespace_name", "pod_name"))
		add("container_id", str("docker", "container_id"))
	case data.CarrierVector:
		shape = "shipper record (message; Vector)"
		add("timestamp", at("timestamp"))
		add("host", str("host"))
		add("source_type", str("source_type"))
		add("file", str("file"))
		add("pod", pod("pod_namespace", "pod_name"))
	case data.CarrierFilebeat:
		shape = "Filebeat / Elastic Agent record (message)"
		add("@timestamp", at("@timestamp"))
		add("host", str("host", "name"))
		add("file", str("log", "file", "path"))
		add("offset", str("log", "offset"))
	case data.CarrierLogstash:
		shape = "Logstash event (message)"
		add("@timestamp", at("@timestamp"))
		add("host", cmp.Or(str("host", "name"), str("host")))
		add("file", cmp.Or(str("log", "file", "path"), str("path")))
	case data.CarrierShipper:
		// Nothing in the record names its shipper (Fluentd's in_tail
		// without a parser writes just this).
		shape = "shipper record (message)"
		add("timestamp", at("timestamp"))
		add("host", str("host"))
	case data.CarrierFilebeatJSON:
		shape = "Filebeat record (json: its log input decoding JSON lines)"
		add("@timestamp", at("@timestamp"))
		add("host", str("host", "name"))
		add("file", str("log", "file", "path"))
		add("offset", str("log", "offset"))
	case data.CarrierFluentdFile:
		shape = "Fluentd out_file line (time, tag, record)"
		if ts, tag, _, why, ok := data.OutFileLine(bytes.TrimRight(raw, "\r\n")); ok && why == "" {
			add("time", carrierTime(ts, loc))
			add("tag", tag)
		}
	case data.CarrierShipperLog:
		// Nothing in the record names its shipper: none of Fluent Bit's
		// date, stream, time or kubernetes, no Fluentd docker.
		shape = "shipper record (log)"
		add("host", str("host"))
		add("cluster", str("cluster"))
	default:
		shape = "record"
	}
	if len(facts) == 0 {
		return shape
	}
	return shape + " · " + strings.Join(facts, " · ")
}

// carrierJSON is the JSON of a record that carried an event, raw its
// bytes as read: raw itself, but for a Fluentd out_file line the record
// after its time and tag.
func carrierJSON(kind data.Carrier, raw []byte) []byte {
	if kind == data.CarrierFluentdFile {
		if _, _, rec, why, ok := data.OutFileLine(bytes.TrimRight(raw, "\r\n")); ok && why == "" {
			return rec
		}
	}
	return raw
}

// carrierTime renders a carrier's own time in the display zone (to the
// precision it has).
func carrierTime(ns int64, loc *time.Location) string {
	return fullTime(ns, loc).Format(timeLayout(ns) + " MST")
}

// fullTime is ns in loc.
func fullTime(ns int64, loc *time.Location) time.Time { return time.Unix(0, ns).In(loc) }

// timeLayout is a date and time to the precision ns has: milliseconds,
// microseconds (audit events) or nanoseconds.
func timeLayout(ns int64) string {
	switch {
	case ns%1e6 == 0:
		return "2006-01-02 15:04:05.000"
	case ns%1e3 == 0:
		return "2006-01-02 15:04:05.000000"
	}
	return "2006-01-02 15:04:05.000000000"
}

// eventTime is Detail's `time` line: the event's time (data.Event.Time)
// with its full date and zone in loc, and which timestamp it is. In a
// zone other than UTC the value as the JSON holds it follows, so the two
// can be told to be the same instant.
func eventTime(ev *data.Event, n *jnode, loc *time.Location) string {
	if ev.Time == 0 {
		return "none (no stageTimestamp, requestReceivedTimestamp or timestamp)"
	}
	which := "the carrier's time (the event has none)"
	switch {
	case n.field("stageTimestamp").textOr("") != "":
		which = "stageTimestamp"
		if ev.Carrier == data.CarrierLogEntry {
			which = "the LogEntry's timestamp"
		}
	case n.field("requestReceivedTimestamp").textOr("") != "":
		which = "requestReceivedTimestamp"
	case n.field("timestamp").textOr("") != "":
		which = "timestamp"
	}
	t := fullTime(ev.Time, loc)
	s := t.Format(timeLayout(ev.Time) + " MST")
	if name, off := t.Zone(); off != 0 || name != "UTC" {
		s += t.Format(" -07:00")
		which += " " + t.UTC().Format(time.RFC3339Nano)
	}
	return s + " (" + which + ")"
}
