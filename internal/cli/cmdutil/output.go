package cmdutil

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/logql"
	"github.com/audittui/audittui/internal/termsafe"
)

// EventFormats returns the -o values of commands that print events.
func EventFormats() []string { return []string{"raw", "jsonl", "table", "csv"} }

// StringEnumFlag registers a string flag that accepts only options: any
// other value is a flag error (exit status 2) naming the choices.
func StringEnumFlag(fs *pflag.FlagSet, p *string, name, shorthand, def string, options []string, usage string) {
	*p = def
	fs.VarP(&enumValue{p: p, options: options}, name, shorthand, usage)
}

type enumValue struct {
	p       *string
	options []string
}

func (e *enumValue) Set(v string) error {
	if !slices.Contains(e.options, v) {
		return fmt.Errorf("want %s", orList(e.options))
	}
	*e.p = v
	return nil
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return "string" }

// orList renders a, b or c.
func orList(opts []string) string {
	if len(opts) < 2 {
		return strings.Join(opts, "")
	}
	return strings.Join(opts[:len(opts)-1], ", ") + " or " + opts[len(opts)-1]
}

// FormatTime renders an event time (Unix nanoseconds) for output: RFC 3339
// in UTC with microseconds, "-" when unknown.
func FormatTime(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// EventWriter prints events in one of EventFormats(): raw (each event's
// original bytes, a line each), jsonl (logcli's {timestamp, labels, line}),
// table (aligned columns, untrusted text sanitised) or csv (the last
// column, citation, cites the event as the TUI and report do:
// data.Origin.Cite, FILE:LINE, FILE:LINE:COL, or a Loki stream and time).
type EventWriter struct {
	out *bufio.Writer
	// Query, when set, gives jsonl the line as the query's line_format
	// left it (as logcli prints it).
	Query  *logql.LogQuery
	format string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	rows   int
	buf    bytes.Buffer // raw: a multi-line event compacted
}

// NewEventWriter writes events to out in format (one of EventFormats()),
// starting with the header of table and csv.
func NewEventWriter(out *bufio.Writer, format string) *EventWriter {
	w := &EventWriter{out: out, format: format}
	switch format {
	case "table":
		w.tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w.tw, "TIME\tUSER\tVERB\tRESOURCE\tNAMESPACE/NAME\tCODE\tSOURCE IP\tAUDIT ID")
	case "csv":
		w.cw = csv.NewWriter(out)
		w.cw.Write([]string{"time", "auditID", "stage", "user", "impersonatedUser", "verb", "resource", "subresource", "namespace", "name", "code", "sourceIP", "userAgent", "source", "line", "citation"})
	}
	return w
}

func jsonlLabels(ls data.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// Write prints one event.
func (w *EventWriter) Write(e *data.Event) error {
	switch w.format {
	case "raw":
		if w.Query != nil && w.Query.FormatsLine() {
			// The query formats its lines (line_format): print them as
			// it left them, as logcli does.
			if l, _, ok := w.Query.Process(e); ok {
				w.out.Write(l)
				return w.out.WriteByte('\n')
			}
		}
		raw := e.Raw
		if bytes.IndexByte(raw, '\n') >= 0 {
			// An event that spans lines in its file (pretty-printed JSON,
			// an array's element): one line all the same, with only the
			// whitespace between JSON tokens removed.
			w.buf.Reset()
			if json.Compact(&w.buf, raw) == nil {
				raw = w.buf.Bytes()
			}
		}
		w.out.Write(raw)
		return w.out.WriteByte('\n')
	case "jsonl":
		// logcli's jsonl shape: timestamp, labels, line (the line as the
		// query's line_format left it). An event without a time has no
		// timestamp key.
		line := e.EntryLine()
		if w.Query != nil {
			if l, _, ok := w.Query.Process(e); ok {
				line = l
			}
		}
		rec := struct {
			Timestamp string            `json:"timestamp,omitempty"`
			Labels    map[string]string `json:"labels"`
			Line      string            `json:"line"`
		}{Line: string(line)}
		if e.Time != 0 {
			rec.Timestamp = FormatTime(e.Time)
		}
		if e.Origin.Source != nil {
			rec.Labels = jsonlLabels(e.Origin.Source.Labels)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		w.out.Write(b)
		return w.out.WriteByte('\n')
	case "table":
		res := e.Resource
		if e.Subresource != "" {
			res += "/" + e.Subresource
		}
		nsName := e.Name
		if e.Namespace != "" {
			nsName = e.Namespace + "/" + e.Name
		}
		code := ""
		if e.Code != 0 {
			code = strconv.Itoa(e.Code)
		}
		user := e.User
		if e.ImpUser != "" {
			user += " (as " + e.ImpUser + ")"
		}
		// The first address (the sourceIP field, as csv prints it), and
		// "via" the others when the API server recorded more (a proxy's
		// X-Forwarded-For: the first is the client's claim, the last
		// the address the connection came from).
		ip := data.SourceIPsText(e.SourceIPs)
		if res == "" {
			res = e.RequestURI
		}
		fmt.Fprintf(w.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", FormatTime(e.Time), termsafe.String(user), termsafe.String(e.Verb),
			termsafe.String(res), termsafe.String(nsName), code, termsafe.String(ip), termsafe.String(e.AuditID))
		w.rows++
		if w.rows%1000 == 0 {
			return w.tw.Flush()
		}
		return nil
	case "csv":
		ip := ""
		if len(e.SourceIPs) > 0 {
			ip = e.SourceIPs[0]
		}
		code := ""
		if e.Code != 0 {
			code = strconv.Itoa(e.Code)
		}
		return w.cw.Write([]string{FormatTime(e.Time), e.AuditID, e.Stage, e.User, e.ImpUser, e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name, code, ip, e.UserAgent, e.Origin.Source.Name, strconv.FormatInt(e.Origin.Line, 10), e.Origin.Cite()})
	}
	return nil
}

// Flush writes out what the table and csv writers hold.
func (w *EventWriter) Flush() error {
	if w.tw != nil {
		return w.tw.Flush()
	}
	if w.cw != nil {
		w.cw.Flush()
		return w.cw.Error()
	}
	return nil
}

// FormatValue renders a sample value: integers in full, others to six
// significant digits.
func FormatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func labelMap(ls logql.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// sortedLabelNames returns the union of label names of a result, sorted.
func sortedLabelNames(sets []logql.Labels) []string {
	seen := map[string]bool{}
	for _, ls := range sets {
		for _, l := range ls {
			seen[l.Name] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// WriteMetric prints a metric query's result, a vector (instant query) or
// a matrix (range query), in one of EventFormats() (raw prints a table).
func WriteMetric(out *bufio.Writer, format string, vec logql.Vector, mat logql.Matrix) error {
	var sets []logql.Labels
	for _, s := range vec {
		sets = append(sets, s.Labels)
	}
	for _, s := range mat {
		sets = append(sets, s.Labels)
	}
	names := sortedLabelNames(sets)
	// Highest values first, as a dashboard's table shows them.
	sort.SliceStable(vec, func(i, j int) bool { return vec[i].V > vec[j].V })
	switch format {
	case "jsonl":
		enc := json.NewEncoder(out)
		for _, s := range vec {
			if err := enc.Encode(map[string]any{"metric": labelMap(s.Labels), "value": []any{float64(s.T) / 1e9, FormatValue(s.V)}}); err != nil {
				return err
			}
		}
		for _, s := range mat {
			vals := make([][]any, 0, len(s.Points))
			for _, p := range s.Points {
				vals = append(vals, []any{float64(p.T) / 1e9, FormatValue(p.V)})
			}
			if err := enc.Encode(map[string]any{"metric": labelMap(s.Labels), "values": vals}); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(out)
		cw.Write(append(append([]string{}, names...), "time", "value"))
		row := func(ls logql.Labels, t int64, v float64) {
			r := make([]string, 0, len(names)+2)
			for _, n := range names {
				val, _ := ls.Get(n)
				r = append(r, val)
			}
			cw.Write(append(r, FormatTime(t), FormatValue(v)))
		}
		for _, s := range vec {
			row(s.Labels, s.T, s.V)
		}
		for _, s := range mat {
			for _, p := range s.Points {
				row(s.Labels, p.T, p.V)
			}
		}
		cw.Flush()
		return cw.Error()
	default: // table (raw means table for metric queries)
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		hdr := ""
		if mat != nil {
			hdr = "TIME\t"
		}
		for _, n := range names {
			hdr += termsafe.String(n) + "\t"
		}
		fmt.Fprintln(tw, hdr+"VALUE")
		line := func(ls logql.Labels, t int64, v float64, withTime bool) {
			s := ""
			if withTime {
				s = FormatTime(t) + "\t"
			}
			for _, n := range names {
				val, _ := ls.Get(n)
				if val == "" {
					val = "-"
				}
				s += termsafe.String(val) + "\t"
			}
			fmt.Fprintln(tw, s+FormatValue(v))
		}
		for _, s := range vec {
			line(s.Labels, s.T, s.V, false)
		}
		for _, s := range mat {
			for _, p := range s.Points {
				line(s.Labels, p.T, p.V, true)
			}
		}
		if len(vec) == 0 && len(mat) == 0 {
			fmt.Fprintln(tw, "(no data)")
		}
		return tw.Flush()
	}
}
