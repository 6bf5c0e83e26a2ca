package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/audittui/audittui/internal/data"
)

// PushRequest is a batch of streams for /loki/api/v1/push.
type PushRequest struct {
	Streams []PushStream
}

// PushStream is one stream: its label set and entries (in time order, as
// Loki requires within a stream unless out-of-order ingestion is on).
type PushStream struct {
	Labels  data.Labels
	Entries []PushEntry
}

// PushEntry is one log line.
type PushEntry struct {
	Time int64 // Unix nanoseconds
	Line []byte
	// Metadata is Loki's structured metadata (optional).
	Metadata data.Labels
}

// PushFormat selects the push encoding.
type PushFormat int

const (
	// PushProtobuf is logproto.PushRequest, snappy block-compressed
	// (what Promtail, Alloy and Fluent Bit's loki output send).
	PushProtobuf PushFormat = iota
	// PushJSON is the documented JSON body.
	PushJSON
)

// Push sends req to the push endpoint as protobuf+snappy, in one attempt:
// the caller retries with a Backoff when IsRetryable(err) and dead-letters
// otherwise. Loki answers 204 on success.
func (c *Client) Push(ctx context.Context, req PushRequest) error {
	return c.PushAs(ctx, req, PushProtobuf)
}

// PushAs is Push with an explicit encoding.
func (c *Client) PushAs(ctx context.Context, req PushRequest, f PushFormat) error {
	var body []byte
	var hdr map[string]string
	switch f {
	case PushProtobuf:
		raw, err := EncodePushProtobuf(nil, req)
		if err != nil {
			return err
		}
		body = snappy.Encode(nil, raw)
		hdr = map[string]string{"Content-Type": "application/x-protobuf"}
	case PushJSON:
		b, err := EncodePushJSON(req)
		if err != nil {
			return err
		}
		body = b
		hdr = map[string]string{"Content-Type": "application/json"}
	default:
		return fmt.Errorf("loki: unknown push format %d", f)
	}
	_, err := c.do(ctx, http.MethodPost, c.pushPath, nil, body, hdr)
	return err
}

// FormatLabels renders a label set as Prometheus label-set text,
// {a="b", c="d"}, sorted by name, values escaped as Go/Prometheus strings
// (data.Labels.String).
func FormatLabels(ls data.Labels) string { return ls.String() }

func checkStream(i int, s *PushStream) error {
	if len(s.Labels) == 0 {
		return fmt.Errorf("loki: push stream %d has no labels (Loki requires at least one)", i)
	}
	seen := make(map[string]bool, len(s.Labels))
	for _, l := range s.Labels {
		if !data.ValidLabelName(l.Name) {
			return fmt.Errorf("loki: push stream %d: invalid label name %q", i, l.Name)
		}
		if seen[l.Name] {
			return fmt.Errorf("loki: push stream %d: duplicate label %q", i, l.Name)
		}
		seen[l.Name] = true
	}
	return nil
}

// Protobuf field numbers of Loki's push.proto (package logproto).
const (
	fPushStreams      = 1 // PushRequest.streams: repeated StreamAdapter
	fStreamLabels     = 1 // StreamAdapter.labels: string
	fStreamEntries    = 2 // StreamAdapter.entries: repeated EntryAdapter
	fStreamHash       = 3 // StreamAdapter.hash: uint64 (not sent)
	fEntryTimestamp   = 1 // EntryAdapter.timestamp: google.protobuf.Timestamp
	fEntryLine        = 2 // EntryAdapter.line: string
	fEntryMetadata    = 3 // EntryAdapter.structuredMetadata: repeated LabelPairAdapter
	fLabelPairName    = 1 // LabelPairAdapter.name
	fLabelPairValue   = 2 // LabelPairAdapter.value
	fTimestampSeconds = 1 // google.protobuf.Timestamp.seconds: int64
	fTimestampNanos   = 2 // google.protobuf.Timestamp.nanos: int32
)

var _ = fStreamHash

// EncodePushProtobuf appends the uncompressed logproto.PushRequest
// encoding of req to dst.
func EncodePushProtobuf(dst []byte, req PushRequest) ([]byte, error) {
	for i := range req.Streams {
		s := &req.Streams[i]
		if err := checkStream(i, s); err != nil {
			return nil, err
		}
		lbl := FormatLabels(s.Labels)
		size := protowire.SizeTag(fStreamLabels) + protowire.SizeBytes(len(lbl))
		for j := range s.Entries {
			n := entrySize(&s.Entries[j])
			size += protowire.SizeTag(fStreamEntries) + protowire.SizeBytes(n)
		}
		dst = protowire.AppendTag(dst, fPushStreams, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(size))
		dst = protowire.AppendTag(dst, fStreamLabels, protowire.BytesType)
		dst = protowire.AppendString(dst, lbl)
		for j := range s.Entries {
			e := &s.Entries[j]
			dst = protowire.AppendTag(dst, fStreamEntries, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(entrySize(e)))
			dst = appendEntry(dst, e)
		}
	}
	return dst, nil
}

func splitTime(ns int64) (sec int64, nanos int32) {
	sec = ns / 1e9
	rem := ns % 1e9
	if rem < 0 {
		sec--
		rem += 1e9
	}
	return sec, int32(rem)
}

func timestampSize(ns int64) int {
	sec, nanos := splitTime(ns)
	n := 0
	if sec != 0 {
		n += protowire.SizeTag(fTimestampSeconds) + protowire.SizeVarint(uint64(sec))
	}
	if nanos != 0 {
		n += protowire.SizeTag(fTimestampNanos) + protowire.SizeVarint(uint64(nanos))
	}
	return n
}

func pairSize(l data.Label) int {
	n := 0
	if l.Name != "" {
		n += protowire.SizeTag(fLabelPairName) + protowire.SizeBytes(len(l.Name))
	}
	if l.Value != "" {
		n += protowire.SizeTag(fLabelPairValue) + protowire.SizeBytes(len(l.Value))
	}
	return n
}

func entrySize(e *PushEntry) int {
	ts := timestampSize(e.Time)
	n := protowire.SizeTag(fEntryTimestamp) + protowire.SizeBytes(ts)
	if len(e.Line) > 0 {
		n += protowire.SizeTag(fEntryLine) + protowire.SizeBytes(len(e.Line))
	}
	for _, m := range e.Metadata {
		n += protowire.SizeTag(fEntryMetadata) + protowire.SizeBytes(pairSize(m))
	}
	return n
}

func appendEntry(dst []byte, e *PushEntry) []byte {
	sec, nanos := splitTime(e.Time)
	dst = protowire.AppendTag(dst, fEntryTimestamp, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(timestampSize(e.Time)))
	if sec != 0 {
		dst = protowire.AppendTag(dst, fTimestampSeconds, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(sec))
	}
	if nanos != 0 {
		dst = protowire.AppendTag(dst, fTimestampNanos, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(nanos))
	}
	if len(e.Line) > 0 {
		dst = protowire.AppendTag(dst, fEntryLine, protowire.BytesType)
		dst = protowire.AppendBytes(dst, e.Line)
	}
	for _, m := range e.Metadata {
		dst = protowire.AppendTag(dst, fEntryMetadata, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(pairSize(m)))
		if m.Name != "" {
			dst = protowire.AppendTag(dst, fLabelPairName, protowire.BytesType)
			dst = protowire.AppendString(dst, m.Name)
		}
		if m.Value != "" {
			dst = protowire.AppendTag(dst, fLabelPairValue, protowire.BytesType)
			dst = protowire.AppendString(dst, m.Value)
		}
	}
	return dst
}

// jsonPush mirrors the documented JSON push body:
// {"streams":[{"stream":{"l":"v"},"values":[["<ns>","<line>",{"meta":"v"}]]}]}
type jsonPush struct {
	Streams []jsonPushStream `json:"streams"`
}

type jsonPushStream struct {
	Stream map[string]string `json:"stream"`
	Values [][]any           `json:"values"`
}

// EncodePushJSON encodes req as Loki's JSON push body. Lines must be valid
// UTF-8 (JSON cannot carry other bytes).
func EncodePushJSON(req PushRequest) ([]byte, error) {
	out := jsonPush{Streams: make([]jsonPushStream, 0, len(req.Streams))}
	for i := range req.Streams {
		s := &req.Streams[i]
		if err := checkStream(i, s); err != nil {
			return nil, err
		}
		js := jsonPushStream{Stream: make(map[string]string, len(s.Labels)), Values: make([][]any, 0, len(s.Entries))}
		for _, l := range s.Labels {
			js.Stream[l.Name] = l.Value
		}
		for _, e := range s.Entries {
			v := []any{strconv.FormatInt(e.Time, 10), string(e.Line)}
			if len(e.Metadata) > 0 {
				m := make(map[string]string, len(e.Metadata))
				for _, l := range e.Metadata {
					m[l.Name] = l.Value
				}
				v = append(v, m)
			}
			js.Values = append(js.Values, v)
		}
		out.Streams = append(out.Streams, js)
	}
	return json.Marshal(out)
}

// DecodePushProtobuf parses an uncompressed logproto.PushRequest (used by
// the test server; unknown fields are skipped as protobuf requires).
func DecodePushProtobuf(b []byte) (PushRequest, error) {
	var req PushRequest
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fPushStreams {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("PushRequest.streams: wire type %d, want bytes", typ)
		}
		s, err := decodeStream(v)
		if err != nil {
			return fmt.Errorf("stream %d: %w", len(req.Streams), err)
		}
		req.Streams = append(req.Streams, s)
		return nil
	})
	if err != nil {
		return PushRequest{}, fmt.Errorf("decode push protobuf: %w", err)
	}
	return req, nil
}

func decodeStream(b []byte) (PushStream, error) {
	var s PushStream
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case fStreamLabels:
			if typ != protowire.BytesType {
				return fmt.Errorf("labels: wire type %d", typ)
			}
			ls, err := ParseLabels(string(v))
			if err != nil {
				return fmt.Errorf("labels: %w", err)
			}
			s.Labels = ls
		case fStreamEntries:
			if typ != protowire.BytesType {
				return fmt.Errorf("entries: wire type %d", typ)
			}
			e, err := decodeEntry(v)
			if err != nil {
				return fmt.Errorf("entry %d: %w", len(s.Entries), err)
			}
			s.Entries = append(s.Entries, e)
		}
		return nil
	})
	return s, err
}

func decodeEntry(b []byte) (PushEntry, error) {
	var e PushEntry
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case fEntryTimestamp:
			if typ != protowire.BytesType {
				return fmt.Errorf("timestamp: wire type %d", typ)
			}
			var sec, nanos int64
			err := eachField(v, func(n protowire.Number, t protowire.Type, _ []byte, x uint64) error {
				if t != protowire.VarintType {
					return fmt.Errorf("timestamp field %d: wire type %d", n, t)
				}
				switch n {
				case fTimestampSeconds:
					sec = int64(x)
				case fTimestampNanos:
					nanos = int64(int32(x))
				}
				return nil
			})
			if err != nil {
				return err
			}
			if sec > math.MaxInt64/int64(1e9)-1 || sec < math.MinInt64/int64(1e9)+1 {
				return fmt.Errorf("timestamp %d s out of range", sec)
			}
			e.Time = sec*1e9 + nanos
		case fEntryLine:
			if typ != protowire.BytesType {
				return fmt.Errorf("line: wire type %d", typ)
			}
			e.Line = append([]byte(nil), v...)
		case fEntryMetadata:
			if typ != protowire.BytesType {
				return fmt.Errorf("structuredMetadata: wire type %d", typ)
			}
			var l data.Label
			err := eachField(v, func(n protowire.Number, t protowire.Type, s []byte, _ uint64) error {
				if t != protowire.BytesType {
					return fmt.Errorf("label pair field %d: wire type %d", n, t)
				}
				switch n {
				case fLabelPairName:
					l.Name = string(s)
				case fLabelPairValue:
					l.Value = string(s)
				}
				return nil
			})
			if err != nil {
				return err
			}
			e.Metadata = append(e.Metadata, l)
		}
		return nil
	})
	return e, err
}

// eachField walks the fields of one message. For bytes fields v is the
// payload; for varints x is the value; fixed and group fields are skipped.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
