package event

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for testkit.DB
	_ "modernc.org/sqlite"             // driver "sqlite" for testkit.DB

	"github.com/ksuite/ksuite/internal/testkit"
)

// effects is a table of applied effects without a unique key, so a
// duplicated effect shows up as a second row.
type effects struct {
	db *sql.DB
	d  Dialect
}

func newEffects(t testing.TB, db testkit.DB) (*effects, *Inbox) {
	t.Helper()
	ctx := testkit.Context(t, 30*time.Second)
	if _, err := db.ExecContext(ctx, "CREATE TABLE effects (event_id TEXT NOT NULL, subject TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	in, err := NewInbox(InboxConfig{DB: db.DB, Dialect: dialectOf(db)})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &effects{db: db.DB, d: dialectOf(db)}, in
}

// apply is the transactional handler: one effect row per event.
func (e *effects) apply(ctx context.Context, tx *sql.Tx, msg *Message) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO effects (event_id, subject) VALUES ("+e.d.args(1, 2)+")",
		msg.Event.ID, msg.Event.Subject)
	return err
}

// counts returns the number of effect rows and of distinct events.
func (e *effects) counts(t testing.TB) (rows, distinct int) {
	t.Helper()
	ctx := testkit.Context(t, 10*time.Second)
	if err := e.db.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT event_id) FROM effects").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

// exactlyOnce waits until n distinct effects exist and checks none repeats.
func (e *effects) exactlyOnce(t testing.TB, n int) {
	t.Helper()
	testkit.Eventually(t, 90*time.Second, fmt.Sprintf("%d effects applied", n), func() bool {
		_, distinct := e.counts(t)
		return distinct == n
	})
	if rows, distinct := e.counts(t); rows != distinct {
		t.Fatalf("%d effect rows for %d events: an effect was applied twice", rows, distinct)
	}
}

func makeEvents(t testing.TB, n, keys int) []*Event {
	evs := make([]*Event, n)
	for i := range evs {
		evs[i] = mustEvent(t, "member-updated", fmt.Sprintf("member-%d", i%keys), seqData{i})
	}
	return evs
}

// A process killed after its handler's transaction committed but before the
// offset was committed gets the event again on restart, and the inbox keeps
// the effect single. The kill cuts the first router's connections the
// moment the victim's transaction commits, so its mark can never be
// committed; the restart reuses its InstanceID and takes over at once.
func TestInboxCrashAfterCommit(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			fx, inbox := newEffects(t, db)
			topic := topicWithDLT(t, c, 2)
			group := testkit.TopicName(t)
			evs := makeEvents(t, 40, 5)
			produceEvents(t, c, topic, evs...)
			victim := evs[17].ID
			var deliveries atomic.Int32
			countVictim := func(next HandlerFunc) HandlerFunc {
				return func(ctx context.Context, msg *Message) error {
					if msg.Event.ID == victim {
						deliveries.Add(1)
					}
					return next(ctx, msg)
				}
			}

			var kill killSwitch
			crashed := make(chan struct{})
			first := newTestRouter(t, c, func(cfg *RouterConfig) {
				cfg.ClientOpts = append(cfg.ClientOpts, kill.opts()...)
				cfg.InstanceID = "member-projection-0"
				cfg.ShutdownTimeout = time.Second
			})
			first.Handle(group, topic, inbox.Handler(fx.apply), WithMiddleware(countVictim, func(next HandlerFunc) HandlerFunc {
				return func(ctx context.Context, msg *Message) error {
					err := next(ctx, msg)
					if err == nil && msg.Event.ID == victim {
						kill.kill() // committed in the database, not yet marked in Kafka
						close(crashed)
					}
					return err
				}
			}))
			stopFirst := start(t, first)
			select {
			case <-crashed:
			case <-time.After(90 * time.Second):
				t.Fatal("the first consumer did not reach the crash point")
			}
			go stopFirst() // a dead process does nothing more; its Run ends in the background
			if deliveries.Load() != 1 {
				t.Fatalf("victim delivered %d times before the crash, want 1", deliveries.Load())
			}

			second := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.InstanceID = "member-projection-0" })
			second.Handle(group, topic, inbox.Handler(fx.apply), WithMiddleware(countVictim))
			start(t, second)
			// The first router went on with the rest of its poll after the
			// kill (only its commits fail), so every effect may already be in
			// place: wait for the redelivery itself, then check it was
			// absorbed.
			testkit.Eventually(t, 60*time.Second, "victim redelivered after the crash", func() bool {
				return deliveries.Load() >= 2
			})
			fx.exactlyOnce(t, len(evs))
			if deliveries.Load() != 2 {
				t.Errorf("victim delivered %d times, want 2 (redelivered after the crash)", deliveries.Load())
			}
		})
	})
}

// A second consumer joining the group mid-stream takes partitions over
// (cooperative rebalance) without losing an event or repeating an effect.
func TestInboxRebalance(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			fx, inbox := newEffects(t, db)
			topic := topicWithDLT(t, c, 4)
			group := testkit.TopicName(t)
			evs := makeEvents(t, 300, 20)
			var handledByA, handledByB atomic.Int32
			tally := func(n *atomic.Int32) Middleware {
				return func(next HandlerFunc) HandlerFunc {
					return func(ctx context.Context, msg *Message) error {
						err := next(ctx, msg)
						if err == nil {
							n.Add(1)
						}
						return err
					}
				}
			}
			a := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.MaxPollRecords = 20 })
			a.Handle(group, topic, inbox.Handler(fx.apply), WithMiddleware(tally(&handledByA)))
			start(t, a)
			produceEvents(t, c, topic, evs[:100]...)
			testkit.Eventually(t, 60*time.Second, "first consumer handling", func() bool { return handledByA.Load() >= 20 })

			b := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.MaxPollRecords = 20 })
			b.Handle(group, topic, inbox.Handler(fx.apply), WithMiddleware(tally(&handledByB)))
			start(t, b)
			produceEvents(t, c, topic, evs[100:200]...) // while the group rebalances
			c.WaitGroupBalanced(t, group, 2, 60*time.Second)
			produceEvents(t, c, topic, evs[200:]...)
			fx.exactlyOnce(t, len(evs))
			if handledByB.Load() == 0 {
				t.Error("the second consumer handled nothing after joining")
			}
		})
	})
}

// Stopping the router while a batch transaction is in flight loses nothing:
// the batch commits, its offsets are committed, the rest is handled after a
// restart, and every effect is applied once.
func TestInboxShutdownMidBatch(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			fx, inbox := newEffects(t, db)
			topic := topicWithDLT(t, c, 2)
			group := testkit.TopicName(t)
			evs := makeEvents(t, 400, 10)
			produceEvents(t, c, topic, evs...)

			inBatch, release := make(chan struct{}), make(chan struct{})
			var calls atomic.Int32
			batch := inbox.BatchHandler(fx.apply)
			r := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.MaxBatch = 50 })
			r.HandleBatch(group, topic, func(ctx context.Context, msgs []*Message) error {
				if calls.Add(1) == 1 {
					close(inBatch)
					<-release
				}
				return batch(ctx, msgs)
			})
			stop := start(t, r)
			select {
			case <-inBatch:
			case <-time.After(60 * time.Second):
				t.Fatal("no batch started")
			}
			stopped := make(chan struct{})
			go func() { stop(); close(stopped) }()
			close(release) // the shutdown is under way while the batch is running
			<-stopped
			rows, _ := fx.counts(t)
			if rows == 0 || rows >= len(evs) {
				t.Fatalf("%d effects after the shutdown, want the interrupted batch and not everything", rows)
			}

			again := newTestRouter(t, c)
			again.HandleBatch(group, topic, inbox.BatchHandler(fx.apply))
			start(t, again)
			fx.exactlyOnce(t, len(evs))
		})
	})
}

// TypedTx gives inbox handlers the event's data as a struct, per record and
// batched; data that does not fit is dead-lettered at once and the events
// around it are applied.
func TestInboxTypedTx(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			fx, inbox := newEffects(t, db)
			for _, batched := range []bool{false, true} {
				t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
					topic := topicWithDLT(t, c, 1)
					h := TypedTx(func(ctx context.Context, tx *sql.Tx, msg *Message, d seqData) error {
						_, err := tx.ExecContext(ctx, "INSERT INTO effects (event_id, subject) VALUES ("+fx.d.args(1, 2)+")",
							msg.Event.ID, fmt.Sprintf("%s/%d", topic, d.Seq))
						return err
					})
					r := newTestRouter(t, c)
					if batched {
						r.HandleBatch(testkit.TopicName(t), topic, inbox.BatchHandler(h))
					} else {
						r.Handle(testkit.TopicName(t), topic, inbox.Handler(h))
					}
					produceEvents(t, c, topic, mustEvent(t, "x", "k", seqData{1}),
						mustEvent(t, "x", "k", "not an object"), mustEvent(t, "x", "k", seqData{2}))
					start(t, r)
					dlt := readAll(t, c, DeadLetterTopic(topic), 1)
					if header(dlt[0], HeaderDLTOriginalOffset) != "1" || header(dlt[0], HeaderDLTAttempts) != "1" ||
						!strings.Contains(header(dlt[0], HeaderDLTError), "data") {
						t.Errorf("dead letter %s, want offset 1, 1 attempt, a data error", headerString(dlt[0]))
					}
					// Rows for this topic: the two good events, each once (a
					// batch the bad event rolled back left nothing behind).
					testkit.Eventually(t, 30*time.Second, "both good events applied once", func() bool {
						var n, distinct int
						err := db.QueryRowContext(testkit.Context(t, 5*time.Second),
							"SELECT count(*), count(DISTINCT subject) FROM effects WHERE subject IN ("+fx.d.args(1, 2)+")",
							topic+"/1", topic+"/2").Scan(&n, &distinct)
						return err == nil && n == 2 && distinct == 2
					})
				})
			}
		})
	})
}
