package serve

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Key is an authorized key as the access log names it.
type Key struct {
	// Fingerprint is the SHA256 fingerprint, as ssh-keygen -l prints it.
	Fingerprint string
	// Comment is the comment of its authorized_keys line.
	Comment string
	// Line is its line in the file.
	Line int
}

// optionsAllowed are the authorized_keys options audittui serve honours:
// the restrictions it imposes on every key anyway (it forwards nothing and
// runs no command or rc file). Any other option (command=, from=,
// no-pty, expiry-time=, cert-authority, ...) is one it cannot honour, so
// the key is not used.
var optionsAllowed = map[string]bool{
	"restrict": true, "no-port-forwarding": true, "no-agent-forwarding": true,
	"no-x11-forwarding": true, "no-user-rc": true,
}

// AuthorizedKeys is an OpenSSH authorized_keys file, read again whenever
// it changes (checked at each authentication: size, modification time,
// inode, so a Kubernetes Secret update, which swaps a symlink, counts).
type AuthorizedKeys struct {
	path string
	log  *slog.Logger

	mu    sync.Mutex
	stamp fileStamp
	keys  map[string]Key // by the key's wire encoding
	err   error          // the last read failed: every key is refused
}

type fileStamp struct {
	size       int64
	mtime      time.Time
	ino, ctime int64
}

func stampOf(fi os.FileInfo) fileStamp {
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = int64(st.Ino)
		s.ctime = st.Ctim.Nano()
	}
	return s
}

// LoadAuthorizedKeys reads path strictly: a line that does not parse, or
// has an option serve cannot honour, is an error naming the line, and a
// file with no key is an error. Later reloads are lenient as sshd is: such
// a line is skipped with a warning in log, and a file that is gone or
// unreadable refuses every key until it is back.
func LoadAuthorizedKeys(path string, log *slog.Logger) (*AuthorizedKeys, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	keys, errs := parseAuthorizedKeys(path, b)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("authorized keys %s: no key in the file", path)
	}
	return &AuthorizedKeys{path: path, log: log, stamp: stampOf(fi), keys: keys}, nil
}

// Len is the number of keys in use.
func (a *AuthorizedKeys) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.keys)
}

// Lookup reports whether pk is authorized now (reading the file again if
// it changed).
func (a *AuthorizedKeys) Lookup(pk gossh.PublicKey) (Key, bool) {
	if pk == nil {
		return Key{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reloadLocked()
	if a.err != nil {
		return Key{}, false
	}
	k, ok := a.keys[string(pk.Marshal())]
	return k, ok
}

// Removed reports whether pk is missing from the file, read again if it
// changed: for the sessions already open. A file that is gone or
// unreadable removes no one (new logins are refused until it is back).
func (a *AuthorizedKeys) Removed(pk gossh.PublicKey) bool {
	if pk == nil {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reloadLocked()
	if a.err != nil {
		return false
	}
	_, ok := a.keys[string(pk.Marshal())]
	return !ok
}

func (a *AuthorizedKeys) reloadLocked() {
	fi, err := os.Stat(a.path)
	if err != nil {
		if a.err == nil {
			a.log.Error("authorized keys unreadable: refusing every key until it is back", "file", a.path, "err", err)
		}
		a.err, a.stamp = err, fileStamp{}
		return
	}
	st := stampOf(fi)
	if st == a.stamp && a.err == nil {
		return
	}
	b, err := os.ReadFile(a.path)
	if err != nil {
		if a.err == nil {
			a.log.Error("authorized keys unreadable: refusing every key until it is back", "file", a.path, "err", err)
		}
		a.err, a.stamp = err, fileStamp{}
		return
	}
	keys, errs := parseAuthorizedKeys(a.path, b)
	for _, e := range errs {
		a.log.Warn("authorized keys: line skipped", "err", e)
	}
	a.keys, a.stamp, a.err = keys, st, nil
	a.log.Info("authorized keys reloaded", "file", a.path, "keys", len(keys), "skipped", len(errs))
}

// parseAuthorizedKeys parses an authorized_keys file: the keys it
// authorizes, and an error per line it cannot use.
func parseAuthorizedKeys(name string, b []byte) (map[string]Key, []error) {
	keys := map[string]Key{}
	var errs []error
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pk, comment, opts, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %v", name, n+1, err))
			continue
		}
		if _, ok := pk.(*gossh.Certificate); ok {
			errs = append(errs, fmt.Errorf("%s:%d: a certificate, not a key; list the key itself", name, n+1))
			continue
		}
		var bad []string
		for _, o := range opts {
			kw, _, _ := strings.Cut(o, "=")
			if !optionsAllowed[strings.ToLower(kw)] {
				bad = append(bad, kw)
			}
		}
		if len(bad) > 0 {
			errs = append(errs, fmt.Errorf("%s:%d: option %s is not supported by audittui serve (it allows only %s); the key is not used",
				name, n+1, strings.Join(bad, ", "), "restrict, no-port-forwarding, no-agent-forwarding, no-X11-forwarding, no-user-rc"))
			continue
		}
		wire := string(pk.Marshal())
		if _, dup := keys[wire]; dup {
			continue // the first line wins, as in sshd
		}
		keys[wire] = Key{Fingerprint: gossh.FingerprintSHA256(pk), Comment: comment, Line: n + 1}
	}
	return keys, errs
}
