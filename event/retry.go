package event

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how a failing handler is retried before its record is
// dead-lettered. The zero value means the defaults.
type RetryPolicy struct {
	// MaxAttempts is the number of handler calls per record, the first
	// included. Default 5; 1 disables retries.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt; each later wait
	// doubles. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps one wait. Default 5s. Keep MaxAttempts × MaxBackoff
	// well below the group's rebalance timeout: a partition waits while its
	// record is retried (a rebalance cancels the wait, but the record is then
	// redelivered).
	MaxBackoff time.Duration
}

func (p *RetryPolicy) setDefaults() {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = 100 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 5 * time.Second
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
}

// backoff is the wait after the given failed attempt (from 1): exponential,
// capped, with ±20% jitter so partitions retrying together spread out.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}

// wait sleeps for d; it returns false early when stop closes or ctx ends.
func wait(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}
