package cmdutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/audittui/audittui/internal/data"
	"github.com/audittui/audittui/internal/data/source/file"
	"github.com/audittui/audittui/internal/plural"
	"github.com/audittui/audittui/internal/policy/auditpolicy"
	"github.com/audittui/audittui/internal/report"
)

// What the TUI and `audittui serve` (the TUI over SSH) share.

// IsLiveFile reports whether arg is one plain (uncompressed) regular file:
// a file the TUI follows by default when it is the only source.
func IsLiveFile(arg string) bool {
	fi, err := os.Stat(arg)
	return err == nil && fi.Mode().IsRegular() && !compressedName(arg)
}

// Follow is how the TUI reads its SOURCEs when --follow was not given.
type Follow struct {
	// On: the sources are followed.
	On bool
	// Status, when not following, says so in the status bar ("not
	// following (--follow)") for sources that hold a plain file that
	// could be followed; "" otherwise.
	Status string
	// Notice, when one file is followed and rotated files are beside it,
	// says they are not read and how to read them too.
	Notice string
}

// DefaultFollow decides --follow when it was not given, as users of
// tail -F, lnav or Fluent Bit's tail (Path /var/log/kubernetes/audit/*.log)
// expect: on when the only SOURCE is one plain file, or a directory or glob
// whose files are one rotated set (audit.log with its backups: the
// apiserver's audit-<time>.log[.gz], logrotate's audit.log.N[.gz]) ending
// in a plain live file, read whole and followed. Otherwise off, and the
// status bar says "not following (--follow)" when a SOURCE holds a plain
// file that could be followed. A single followed file with rotated files
// beside it gets a notice that names them: the directory reads them too.
func DefaultFollow(args []string) Follow { return DefaultFollowTree(args, false) }

// DefaultFollowTree is DefaultFollow for SOURCEs read with -r (recursive):
// a directory's sets are those of its whole tree.
func DefaultFollowTree(args []string, recursive bool) Follow {
	if len(args) == 1 && IsLiveFile(args[0]) {
		f := Follow{On: true}
		if n := rotatedBeside(args[0]); n > 0 {
			dir := filepath.Dir(args[0]) + string(filepath.Separator)
			how := "audittui " + report.ShellQuote(dir) + " reads them too, and follows it"
			if !DefaultFollow([]string{dir}).On {
				how = "audittui --follow " + report.ShellQuote(dir) + " reads them too"
			}
			f.Notice = fmt.Sprintf("following %s; %s beside it %s not read (%s)", filepath.Base(args[0]), plural.Count(n, "rotated file", "rotated files"), plural.Word(n, "is", "are"), how)
		}
		return f
	}
	followable := false
	for _, a := range args {
		if a == "-" || strings.Contains(a, "://") || IsLiveFile(a) {
			followable = followable || IsLiveFile(a)
			continue
		}
		src, err := file.New(a, file.Options{Recursive: recursive})
		if err != nil {
			continue
		}
		sets := src.Files()
		for _, set := range sets {
			live := set[len(set)-1]
			if !compressedName(live) {
				followable = true
				if len(args) == 1 && len(sets) == 1 && file.IsLive(live) {
					return Follow{On: true}
				}
			}
		}
	}
	if followable {
		return Follow{Status: "not following (--follow)"}
	}
	return Follow{}
}

// rotatedBeside counts the backups of the file at p that its directory
// holds (its rotated set, as reading the directory groups it).
func rotatedBeside(p string) int {
	paths, err := file.ExpandPath(filepath.Dir(p))
	if err != nil {
		return 0
	}
	for _, set := range file.GroupRotated(paths) {
		if filepath.Clean(set[len(set)-1]) == filepath.Clean(p) {
			return len(set) - 1
		}
	}
	return 0
}

func compressedName(p string) bool {
	for _, ext := range []string{".gz", ".zst", ".zstd"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
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
