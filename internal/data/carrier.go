package data

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
	// key its outputs add, or with neither Docker's stream and time nor
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
// message, @message, jsonPayload or log ("" for CarrierNone).
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
	case CarrierDocker, CarrierFluentBit, CarrierFluentd:
		return "log"
	}
	return ""
}

// Keys of a carrier record the decoder notes (record.has): what tells
// the shippers apart beyond the key that holds the event.
const (
	hasStream     uint16 = 1 << iota // stream (Docker json-file, CRI)
	hasTime                          // time
	hasEventID                       // eventId (CloudWatch Logs event)
	hasID                            // id (CloudWatch Logs subscription event)
	hasNumTS                         // a numeric timestamp (CloudWatch, milliseconds)
	hasDate                          // date (the time key Fluent Bit's outputs add)
	hasDocker                        // docker (Fluentd's kubernetes_metadata filter)
	hasSourceType                    // source_type (Vector)
	hasBeats                         // @metadata, ecs, data_stream, elastic_agent (Filebeat, Elastic Agent)
	hasVersion                       // @version (Logstash)
	hasNextToken                     // nextToken: filter-log-events output that is one page (the API's, --no-paginate)
	hasTokenCLI                      // NextToken: the same, as the AWS CLI writes it with --max-items
)

// carrier is the kind of record r, which carries its event under
// r.wrapKey.
func (r *record) carrier() Carrier {
	switch r.wrapKey {
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
		}
		return CarrierFluentBit
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
		case r.has&hasBeats != 0:
			return CarrierFilebeat
		case r.has&hasSourceType != 0:
			return CarrierVector
		}
		return CarrierShipper
	}
	return CarrierNone
}
