package event

import (
	"context"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen wakes the relay when another process commits outbox rows: the
// outbox's trigger notifies its channel at commit, and this holds one
// connection that listens on it, reconnecting with backoff until ctx ends.
// It needs pgx's stdlib driver, the one that exposes the connection's
// notifications; with another driver the relay relies on PollInterval.
func (r *Relay) listen(ctx context.Context) {
	backoff := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second}
	for failures := 1; ctx.Err() == nil; failures++ {
		err := r.listenOnce(ctx)
		if errors.Is(err, errNoNotifications) {
			r.cfg.Logger.Info("event: outbox relay polls only: the PostgreSQL driver is not pgx's stdlib",
				"table", r.o.cfg.Table, "poll", r.cfg.PollInterval)
			return
		}
		if ctx.Err() != nil {
			return
		}
		r.cfg.Logger.Warn("event: outbox relay listen", "table", r.o.cfg.Table, "err", err)
		wait(ctx, nil, backoff.backoff(failures))
	}
}

var errNoNotifications = errors.New("driver connection has no notifications")

// listenOnce listens on one connection until it fails or ctx ends. The
// connection is never handed back to the pool: it is closed afterwards.
func (r *Relay) listenOnce(ctx context.Context) error {
	conn, err := r.o.cfg.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var listenErr error
	_ = conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			listenErr = errNoNotifications
			return nil // an untouched connection goes back to the pool
		}
		listenErr = r.waitNotifications(ctx, pc.Conn())
		return driver.ErrBadConn // database/sql closes it instead of reusing it
	})
	return listenErr
}

func (r *Relay) waitNotifications(ctx context.Context, c *pgx.Conn) error {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := c.Exec(lctx, `LISTEN "`+r.o.channel()+`"`)
	cancel()
	if err != nil {
		return err
	}
	// Rows may have committed before LISTEN took effect.
	r.o.Notify()
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		r.o.Notify()
	}
}
