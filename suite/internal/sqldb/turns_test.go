package sqldb

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// Callers get their turns in the order they asked, and one who gives up
// waiting neither holds a turn nor loses the next caller theirs.
func TestTurnsInArrivalOrder(t *testing.T) {
	var tn Turns
	ctx := testkit.Context(t, 30*time.Second)
	if err := tn.Take(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	quit, cancel := context.WithCancel(ctx)
	for i := range n {
		c := ctx
		if i == 5 {
			c = quit // gives up below, before its turn
		}
		wg.Go(func() {
			if err := tn.Take(c); err != nil {
				if i != 5 || !errors.Is(err, context.Canceled) {
					t.Errorf("caller %d: %v", i, err)
				}
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			tn.Release()
		})
		testkit.Eventually(t, 10*time.Second, "caller queued", func() bool { return tn.Queued() == i+1 })
	}
	cancel()
	testkit.Eventually(t, 10*time.Second, "caller 5 gone", func() bool { return tn.Queued() == n-1 })
	tn.Release()
	wg.Wait()
	var want []int
	for i := range n {
		if i != 5 {
			want = append(want, i)
		}
	}
	if !slices.Equal(order, want) {
		t.Fatalf("turns taken in order %v, want %v", order, want)
	}
	if err := tn.Take(ctx); err != nil { // free again
		t.Fatal(err)
	}
}
