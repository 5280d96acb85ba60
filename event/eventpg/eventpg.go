// Package eventpg wakes an [event.Relay] on PostgreSQL the moment another
// process commits outbox rows, with LISTEN/NOTIFY on pgx's stdlib driver.
// It is a package of its own so that the event package does not link pgx:
// producer-only and SQLite services do not pay for it.
//
//	relay, err := event.NewRelay(event.RelayConfig{
//		Outbox:   outbox, // Dialect: event.Postgres, DB opened with driver "pgx"
//		Producer: producer,
//		WakeUp:   eventpg.WakeUp(outbox, logger),
//	})
//
// The outbox's table has a statement trigger (see [event.Outbox.Schema])
// that notifies the channel named after the table (pg_notify, empty
// payload) when rows are inserted; PostgreSQL
// delivers it when the inserting transaction commits. The wake-up holds one
// connection of the outbox's pool that LISTENs on that channel, so rows
// committed by another replica or a SQL script are published within
// milliseconds rather than at the relay's next poll.
package eventpg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ksuite/ksuite/event"
)

// WakeUp returns a [event.RelayConfig.WakeUp] that listens for the
// notifications of o's trigger and wakes the relay on each. It holds one
// connection of o's pool, reconnecting with backoff (up to 5s) when it
// breaks; the relay keeps polling meanwhile. It needs pgx's stdlib driver
// (driver name "pgx"), which exposes the connection's notifications: with
// another driver, or an outbox not on PostgreSQL, it logs that the relay
// polls only and returns. log receives its messages; nil means
// [slog.Default].
func WakeUp(o *event.Outbox, log *slog.Logger) func(ctx context.Context, wake func()) {
	if log == nil {
		log = slog.Default()
	}
	cfg := o.Config()
	return func(ctx context.Context, wake func()) {
		if cfg.Dialect != event.Postgres {
			log.Warn("eventpg: the outbox is not on PostgreSQL; the relay polls only", "table", cfg.Table)
			return
		}
		const first, most = 100 * time.Millisecond, 5 * time.Second
		backoff := first
		for ctx.Err() == nil {
			listened, err := listen(ctx, cfg.DB, o.Channel(), wake)
			if errors.Is(err, errNoNotifications) {
				log.Info("eventpg: the relay polls only: the PostgreSQL driver is not pgx's stdlib", "table", cfg.Table)
				return
			}
			if ctx.Err() != nil {
				return
			}
			if listened {
				backoff = first // it worked for a while: a new failure starts afresh
			}
			log.Warn("eventpg: outbox listen failed; the relay polls meanwhile", "table", cfg.Table, "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			backoff = min(2*backoff, most)
		}
	}
}

var errNoNotifications = errors.New("driver connection has no notifications")

// listen takes a connection of db for itself, LISTENs on channel and calls
// wake for each notification until the connection fails or ctx ends.
// listened reports whether LISTEN took effect. The connection is closed
// afterwards, never handed back to the pool in the listening state.
func listen(ctx context.Context, db *sql.DB, channel string, wake func()) (listened bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	_ = conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			err = errNoNotifications
			return nil // an untouched connection goes back to the pool
		}
		listened, err = wait(ctx, pc.Conn(), channel, wake)
		return driver.ErrBadConn // database/sql closes it instead of reusing it
	})
	return listened, err
}

func wait(ctx context.Context, c *pgx.Conn, channel string, wake func()) (bool, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := c.Exec(lctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
	cancel()
	if err != nil {
		return false, err
	}
	wake() // rows may have committed before LISTEN took effect
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return true, err
		}
		wake()
	}
}
