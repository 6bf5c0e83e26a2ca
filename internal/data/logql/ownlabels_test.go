package logql

import (
	"testing"
	"time"
	"unsafe"
)

// bufferEntry serves its fields as strings that point into one shared
// buffer, as data.Event's decoded fields point into the reader's buffer.
type bufferEntry struct {
	JSONEntry
	buf []byte
	off int
}

func (e *bufferEntry) JSONField(name string) (string, bool) {
	v, ok := e.JSONEntry.JSONField(name)
	if !ok || v == "" {
		return v, ok
	}
	n := copy(e.buf[e.off:], v)
	s := unsafe.String(&e.buf[e.off], n)
	e.off += n
	return s, true
}

func (e *bufferEntry) RangeJSONFields(fn func(name, value string)) {
	e.JSONEntry.RangeJSONFields(func(name, value string) {
		v, _ := e.JSONField(name)
		fn(name, v)
	})
}

// TestSeriesLabelsDoNotAliasTheEntry: an evaluator keeps its series for
// its whole life, so their labels must be its own copies; a label value
// that points into the entry's buffer would keep that buffer (a reader's
// chunk of many lines) alive, and would change when it is reused.
func TestSeriesLabelsDoNotAliasTheEntry(t *testing.T) {
	for _, q := range []string{
		`sum by (user_username) (count_over_time({job="audit"} | json [5m]))`,
		`count_over_time({job="audit"} | json | keep user_username [5m])`,
		`count by (user_username) (count_over_time({job="audit"} | json | keep user_username, verb [5m]))`,
		`max by (user_username) (count_over_time({job="audit"} | json | keep user_username, verb [5m]))`,
	} {
		mq, err := ParseMetric(q)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := mq.NewRangeEvaluator(at(60), at(120), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		e := &bufferEntry{JSONEntry: JSONEntry{Time: at(30), Line: []byte(lineA), Labels: [][2]string{{"job", "audit"}}}, buf: make([]byte, 4096)}
		ev.Add(e)
		for i := range e.buf {
			e.buf[i] = 'X' // the reader reuses its buffer
		}
		m := ev.Result()
		if len(m) != 1 {
			t.Fatalf("%s: %d series", q, len(m))
		}
		if v, _ := m[0].Labels.Get("user_username"); v != "alice" {
			t.Errorf("%s: user_username = %q after the entry's buffer was reused, want alice", q, v)
		}
	}
}
