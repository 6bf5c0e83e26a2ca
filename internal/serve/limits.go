package serve

import (
	"fmt"
	"sync"
)

// limits counts the sessions running the TUI: in all, and per key.
type limits struct {
	max, perKey int // 0: no limit

	mu     sync.Mutex
	total  int
	byKey  map[string]int
	closed bool
}

func newLimits(max, perKey int) *limits {
	return &limits{max: max, perKey: perKey, byKey: map[string]int{}}
}

// acquire takes a place for a session of key fp, or says why there is
// none (in words for the refused client).
func (l *limits) acquire(fp string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return nil, fmt.Errorf("the server is shutting down")
	case l.max > 0 && l.total >= l.max:
		return nil, fmt.Errorf("the server is full: %d sessions are open, the most it allows (--max-sessions); try again later", l.total)
	case l.perKey > 0 && l.byKey[fp] >= l.perKey:
		return nil, fmt.Errorf("your key already has %d sessions open, the most one key may have (--max-sessions-per-key); close one and try again", l.byKey[fp])
	}
	l.total++
	l.byKey[fp]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.total--
			if l.byKey[fp]--; l.byKey[fp] == 0 {
				delete(l.byKey, fp)
			}
			l.mu.Unlock()
		})
	}, nil
}

// close refuses every later acquire.
func (l *limits) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// open is the number of sessions holding a place.
func (l *limits) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
