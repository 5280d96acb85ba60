package eventpg_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/event/eventpg"
	"github.com/ksuite/ksuite/internal/testkit"
)

// A relay is woken by rows committed in another process: its own poll is
// an hour and nobody calls its Outbox's Notify, so only the outbox
// trigger's NOTIFY, heard by the wake-up, can make it publish. Start-up
// wakes it at most twice (its first cycle, and once LISTEN is in place), so
// three events in turn need the trigger.
func TestRelayWokenByCommitElsewhere(t *testing.T) {
	db, ok := testkit.NewPostgres(t)
	if !ok {
		t.Skip("needs PostgreSQL (" + testkit.EnvPostgres + ")")
	}
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		table := "outbox_" + testkit.RandomSuffix()
		o := newOutbox(t, db, table)
		opts, err := c.Config().ClientOpts()
		if err != nil {
			t.Fatal(err)
		}
		p, err := event.NewProducer(event.ProducerConfig{ClientOpts: opts})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		rl, err := event.NewRelay(event.RelayConfig{Outbox: o, Producer: p, PollInterval: time.Hour,
			WakeUp: eventpg.WakeUp(o, nil)})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testkit.Context(t, 2*time.Minute)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- rl.Run(rctx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()

		elsewhere := newOutbox(t, db, table) // another process's Outbox on the same table
		topic := c.CreateTopic(t, 1, 3)
		cl := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		for i := range 3 {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			ev, _ := event.New("member-updated", "member-1", map[string]int{"seq": i})
			ev.Source = "test"
			if err := elsewhere.Add(ctx, tx, topic, ev); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil { // and no Notify
				t.Fatal(err)
			}
			pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			fs := cl.PollFetches(pctx)
			cancel()
			if fs.NumRecords() != 1 {
				t.Fatalf("event %d: %d records relayed within 20s although the relay polls hourly: NOTIFY did not wake it",
					i, fs.NumRecords())
			}
		}
	})
}

// On an outbox that is not on PostgreSQL the wake-up says so and returns
// at once, leaving the relay to its polls.
func TestWakeUpNotPostgres(t *testing.T) {
	db := testkit.NewSQLite(t)
	o, err := event.NewOutbox(event.OutboxConfig{DB: db.DB, Dialect: event.SQLite})
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	log := slog.New(handlerFunc(func(r slog.Record) { warned = warned || r.Level == slog.LevelWarn }))
	returned := make(chan struct{})
	go func() {
		eventpg.WakeUp(o, log)(testkit.Context(t, time.Minute), func() { t.Error("woke a relay without notifications") })
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(30 * time.Second):
		t.Fatal("WakeUp on SQLite did not return")
	}
	if !warned {
		t.Error("WakeUp on SQLite returned without a warning")
	}
}

func newOutbox(t *testing.T, db testkit.DB, table string) *event.Outbox {
	t.Helper()
	o, err := event.NewOutbox(event.OutboxConfig{DB: db.DB, Dialect: event.Postgres, Table: table})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Migrate(testkit.Context(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	return o
}

// handlerFunc is a slog handler calling a function per record.
type handlerFunc func(slog.Record)

func (handlerFunc) Enabled(context.Context, slog.Level) bool        { return true }
func (h handlerFunc) Handle(_ context.Context, r slog.Record) error { h(r); return nil }
func (h handlerFunc) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h handlerFunc) WithGroup(string) slog.Handler                 { return h }
