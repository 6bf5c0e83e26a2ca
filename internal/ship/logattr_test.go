package ship

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Durations in ship's JSON log read as "5s", not 5000000000 (review J10).
func TestLogDurationsAsText(t *testing.T) {
	var b bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: LogAttr}))
	lg.Info("x", "rotate_wait", 5*time.Second, "wait", 498290757*time.Nanosecond, "n", 3)
	out := b.String()
	for _, want := range []string{`"rotate_wait":"5s"`, `"wait":"498ms"`, `"n":3`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
}
