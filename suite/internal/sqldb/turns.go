package sqldb

import (
	"context"
	"slices"
	"sync"
)

// Turns lets callers hold something one at a time, in the order they
// asked. The services queue their API's SQLite writes with it: the
// database has one connection, and database/sql hands a freed connection to
// a random waiter, so under a queue a request could be passed over again
// and again (a p99 of tens of milliseconds at a median under one), and the
// outbox relay waited among all of them. The zero value is ready.
type Turns struct {
	mu      sync.Mutex
	busy    bool
	waiting []chan struct{} // in arrival order
}

// Take waits for the caller's turn, or for ctx to end (then the caller
// holds nothing). A successful Take must be followed by Release.
func (t *Turns) Take(ctx context.Context) error {
	t.mu.Lock()
	if !t.busy {
		t.busy = true
		t.mu.Unlock()
		return nil
	}
	mine := make(chan struct{})
	t.waiting = append(t.waiting, mine)
	t.mu.Unlock()
	select {
	case <-mine:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		defer t.mu.Unlock()
		if i := slices.Index(t.waiting, mine); i >= 0 {
			t.waiting = slices.Delete(t.waiting, i, i+1)
		} else {
			t.next() // the turn came meanwhile: pass it on
		}
		return ctx.Err()
	}
}

// Release ends the caller's turn and starts the next one's.
func (t *Turns) Release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next()
}

func (t *Turns) next() {
	if len(t.waiting) == 0 {
		t.busy = false
		return
	}
	close(t.waiting[0])
	t.waiting = t.waiting[1:]
}

// Queued is how many callers wait.
func (t *Turns) Queued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.waiting)
}
