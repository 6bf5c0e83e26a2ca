package ship

import (
	"log/slog"
	"time"
)

// LogAttr is the slog ReplaceAttr of ship's JSON log: a duration is
// written as Go writes it ("5s", "498ms"), not as the integer of
// nanoseconds slog's JSON handler writes, for whoever reads kubectl logs.
func LogAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().Round(time.Millisecond).String())
	}
	return a
}
