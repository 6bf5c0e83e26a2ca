package cmdutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
)

// What the TUI and `audittui serve` (the TUI over SSH) share.

// IsLiveFile reports whether arg is one plain (uncompressed) regular file:
// a file the TUI follows by default when it is the only source.
func IsLiveFile(arg string) bool {
	fi, err := os.Stat(arg)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		if strings.HasSuffix(arg, ext) {
			return false
		}
	}
	return true
}

// PolicyLevel returns the detail pane's --policy lookup: it decodes a raw
// event and asks the policy for its level.
func PolicyLevel(p *auditpolicy.Policy) func([]byte) (string, error) {
	return func(raw []byte) (string, error) {
		var dec data.Decoder
		evs, rej := dec.Decode(nil, bytes.TrimRight(raw, "\r\n"), data.Origin{})
		if rej != nil {
			return "", errors.New(rej.Reason)
		}
		if len(evs) == 0 {
			return "", errors.New("no event")
		}
		lv, rule := p.LevelFor(&evs[0])
		if rule >= 0 {
			return fmt.Sprintf("%s (rule %d)", lv, rule), nil // 0-based, as policy lint/check print it
		}
		return lv, nil
	}
}
