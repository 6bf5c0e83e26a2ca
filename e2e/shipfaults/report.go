package shipfaults

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// SinkCount is what one sink holds compared with what was written.
type SinkCount struct {
	Sink string `json:"sink"`
	// Written: events the writer wrote.
	Written int `json:"written"`
	// Unique: distinct written events the sink holds.
	Unique int `json:"unique_delivered"`
	// Missing: written events the sink does not hold and that nothing
	// accounts for (the target is 0).
	Missing int `json:"missing"`
	// Excused: events not delivered that could not be (deleted before ship
	// could read them, written between a copy and its truncate); shown,
	// not counted as missing.
	Excused int `json:"excused"`
	// Rejected: events the sink refused on purpose and ship accounted for
	// (dead-letter file, overflow file for over-long lines).
	Rejected int `json:"rejected_accounted"`
	// Duplicates: deliveries beyond the first, over every event.
	Duplicates int `json:"duplicates"`
	// DupBudget: the duplicates the targets allow (one batch per crash).
	DupBudget int `json:"duplicate_budget"`
	// OutOfOrder: events first delivered after a later event had been
	// (measured where arrival order is known: the stand-in).
	OutOfOrder int `json:"out_of_order"`
	// Foreign: entries that are no event of this run.
	Foreign int `json:"foreign"`
	// MissingFirst: a few missing sequence numbers, for the log.
	MissingFirst []int `json:"missing_first,omitempty"`
	// MissingSegs: missing events per file generation (rotation) index.
	MissingSegs map[int]int `json:"missing_by_file,omitempty"`
}

// Tally counts one sink. got holds one sequence number per stored entry
// (-1 for entries that are no event of the run); excused and rejected say
// which events may legitimately be absent.
func Tally(sink string, written []Event, got []int, excused func(Event) bool, rejected map[int]bool) SinkCount {
	c := SinkCount{Sink: sink, Written: len(written)}
	n := make(map[int]int, len(got))
	for _, s := range got {
		if s < 0 {
			c.Foreign++
			continue
		}
		n[s]++
	}
	wrote := make(map[int]bool, len(written))
	for _, e := range written {
		wrote[e.Seq] = true
		k := n[e.Seq]
		switch {
		case k > 0:
			c.Unique++
			c.Duplicates += k - 1
		case rejected[e.Seq]:
			c.Rejected++
		case excused != nil && excused(e):
			c.Excused++
		default:
			c.Missing++
			if len(c.MissingFirst) < 10 {
				c.MissingFirst = append(c.MissingFirst, e.Seq)
			}
			if c.MissingSegs == nil {
				c.MissingSegs = map[int]int{}
			}
			c.MissingSegs[e.Seg]++
		}
	}
	for s, k := range n {
		if !wrote[s] {
			c.Foreign += k
		}
	}
	return c
}

// OutOfOrder counts events whose first delivery came in a later push than
// an event written after them: pushes carry consecutive lines grouped by
// stream, so the order that counts is push by push.
func OutOfOrder(recv []Received) int {
	first := map[int]int{} // seq -> push of first delivery
	for _, r := range recv {
		if r.Seq < 0 {
			continue
		}
		if _, ok := first[r.Seq]; !ok {
			first[r.Seq] = r.Push
		}
	}
	type sp struct{ seq, push int }
	all := make([]sp, 0, len(first))
	for s, p := range first {
		all = append(all, sp{s, p})
	}
	// Walk in push order; within a push, entries are unordered.
	sort.Slice(all, func(i, j int) bool {
		if all[i].push != all[j].push {
			return all[i].push < all[j].push
		}
		return all[i].seq < all[j].seq
	})
	ooo, maxBefore, curPush, maxCur := 0, -1, -1, -1
	for _, x := range all {
		if x.push != curPush {
			maxBefore = max(maxBefore, maxCur)
			curPush, maxCur = x.push, -1
		}
		if x.seq < maxBefore {
			ooo++
		}
		maxCur = max(maxCur, x.seq)
	}
	return ooo
}

// Report is the outcome of one scenario.
type Report struct {
	Scenario string        `json:"scenario"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	// Events written, rotations performed, ship processes started and
	// killed with SIGKILL.
	Written   int `json:"written"`
	Rotations int `json:"rotations"`
	Runs      int `json:"ship_runs"`
	Crashes   int `json:"crashes"`
	// PeakRSS is the highest VmHWM of any ship process, in bytes;
	// PeakAnon the peak of its anonymous memory (VmHWM without the
	// binary's file-backed pages).
	PeakRSS  int64       `json:"peak_rss_bytes"`
	PeakAnon int64       `json:"peak_anon_bytes"`
	Sinks    []SinkCount `json:"sinks"`
	// Values are further measurements (metrics, stand-in counters).
	Values map[string]float64 `json:"values,omitempty"`
	Notes  []string           `json:"notes,omitempty"`
	// Failures are the targets this run missed.
	Failures []string `json:"failures,omitempty"`
}

// Set records a measurement.
func (r *Report) Set(k string, v float64) {
	if r.Values == nil {
		r.Values = map[string]float64{}
	}
	r.Values[k] = v
}

// Notef adds a note.
func (r *Report) Notef(format string, a ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, a...)) }

// Table renders the per-sink table and the notes.
func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s: %d events written, %d rotations, %d ship runs, %d kill -9, peak RSS %.1f MiB (anonymous %.1f MiB), %s\n",
		r.Scenario, r.Written, r.Rotations, r.Runs, r.Crashes, float64(r.PeakRSS)/(1<<20), float64(r.PeakAnon)/(1<<20),
		r.Duration.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(r.Sinks) > 0 {
		fmt.Fprintln(tw, "sink\twritten\tunique delivered\tmissing\texcused\trejected (accounted)\tduplicates\tdup budget\tout of order\tforeign\t")
		for _, s := range r.Sinks {
			ooo := "-"
			if s.OutOfOrder >= 0 {
				ooo = fmt.Sprint(s.OutOfOrder)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t\n", s.Sink, s.Written, s.Unique, s.Missing, s.Excused, s.Rejected,
				s.Duplicates, s.DupBudget, ooo, s.Foreign)
		}
	}
	tw.Flush()
	for _, s := range r.Sinks {
		if s.Missing > 0 {
			fmt.Fprintf(&b, "  %s missing, first: %v; by file generation: %v\n", s.Sink, s.MissingFirst, s.MissingSegs)
		}
	}
	if len(r.Values) > 0 {
		keys := make([]string, 0, len(r.Values))
		for k := range r.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s = %g\n", k, r.Values[k])
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  FAIL: %s\n", f)
	}
	return b.String()
}

var summaryMu sync.Mutex

// Save appends the report to DIR/summary.txt (the tables) and
// DIR/summary.jsonl (one JSON object per scenario).
func (r *Report) Save(dir string) error {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	j, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := appendFile(filepath.Join(dir, "summary.jsonl"), append(j, '\n')); err != nil {
		return err
	}
	return appendFile(filepath.Join(dir, "summary.txt"), []byte(r.Table()+"\n"))
}

func appendFile(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
