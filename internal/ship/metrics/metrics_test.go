package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEndpoints(t *testing.T) {
	m := New()
	m.LinesRead.Add(3)
	m.SinkSentLines.WithLabelValues("loki").Add(2)
	m.Saved(time.Now())
	m.Acked(time.Now().Add(-time.Minute).UnixNano())
	m.SinkAcked("loki", time.Unix(1700000000, 0))
	lag := int64(0)
	m.SetLag(func() int64 { return lag })
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	get := func(p string) (int, string) {
		r, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("readyz before ready = %d", code)
	}
	m.SetReady(true)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz = %d", code)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz = %d", code)
	}
	// Lag in seconds is 0 when nothing is behind, else the age of the last
	// event every sink acknowledged.
	_, body := get("/metrics")
	for _, want := range []string{"audittui_ship_lines_read_total 3", `audittui_ship_sink_sent_lines_total{sink="loki"} 2`,
		"audittui_ship_checkpoint_age_seconds", "audittui_ship_lag_seconds 0", "audittui_ship_lag_bytes 0", "audittui_ship_backpressure 0",
		`audittui_ship_last_ack_timestamp_seconds{sink="loki"} 1.7e+09`, "audittui_ship_unrecoverable_bytes_total 0", "audittui_ship_gap_files_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	lag = 1234
	_, body = get("/metrics")
	for _, want := range []string{"audittui_ship_lag_seconds 6", "audittui_ship_lag_bytes 1234"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// An event stamped 2h ahead: the lag is 0, never negative (review J9).
	m.Acked(time.Now().Add(2 * time.Hour).UnixNano())
	_, body = get("/metrics")
	if !strings.Contains(body, "audittui_ship_lag_seconds 0\n") {
		t.Errorf("lag_seconds for an event stamped in the future is not 0")
	}
	// /readyz says why it is not ready.
	m.SetReadyCheck(func() error { return errors.New("loki: no acknowledgement for 3m") })
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "loki: no acknowledgement for 3m") {
		t.Errorf("readyz = %d %q", code, body)
	}
	m.SetReadyCheck(func() error { return nil })
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz = %d", code)
	}
}

func TestBlockedNests(t *testing.T) {
	m := New()
	m.Blocked(true)
	m.Blocked(true)
	m.Blocked(false)
	if Value(m.Backpressure) != 1 {
		t.Fatal("backpressure cleared while another wait is in progress")
	}
	m.Blocked(false)
	m.Blocked(false) // unbalanced end is ignored
	if Value(m.Backpressure) != 0 || Value(m.BackpressureS) <= 0 {
		t.Fatalf("gauge %v seconds %v", Value(m.Backpressure), Value(m.BackpressureS))
	}
}
