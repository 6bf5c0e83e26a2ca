package tui

import (
	"log/slog"
	"strings"

	"github.com/audittui/audittui/internal/cli/cmdutil"
	"github.com/audittui/audittui/internal/policy/rules"
)

// loadRules loads the built-in pack, selecting job (--label job=...),
// plus --rules files (a file's group replaces a built-in group of the
// same name, as with audittui alerts). Warnings go to the log file, never
// to the screen.
func loadRules(files []string, noBuiltin bool, job string, log *slog.Logger) (*rules.Set, error) {
	if noBuiltin && len(files) == 0 {
		return nil, nil
	}
	return cmdutil.LoadRulesFor(files, noBuiltin, job, slogWriter{log})
}

// slogWriter turns written lines into log warnings (nil logger: discard).
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	if w.log != nil {
		w.log.Warn(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}
