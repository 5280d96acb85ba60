package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

func newOutbox(t testing.TB, db testkit.DB) *Outbox {
	t.Helper()
	o, err := NewOutbox(OutboxConfig{DB: db.DB, Dialect: dialectOf(db), Source: "member-service"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Migrate(testkit.Context(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	return o
}

// runRelay runs a relay publishing with opts until the test ends or the
// returned stop is called.
func runRelay(t testing.TB, o *Outbox, opts []kgo.Opt, tune ...func(*RelayConfig)) (stop func()) {
	t.Helper()
	p, err := NewProducer(ProducerConfig{ClientOpts: opts})
	if err != nil {
		t.Fatal(err)
	}
	cfg := RelayConfig{Outbox: o, Producer: p, PublishTimeout: 2 * time.Second, PollInterval: 50 * time.Millisecond}
	for _, f := range tune {
		f(&cfg)
	}
	rl, err := NewRelay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rl.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("relay did not stop within 30s")
			}
			p.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

// addEvents adds seq numbers from..to-1 for each key, one transaction per
// seq round, and notifies the relay.
func addEvents(ctx context.Context, t testing.TB, o *Outbox, topic string, keys, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		err := o.WithTx(ctx, func(tx *sql.Tx) error {
			for k := range keys {
				if err := o.Add(ctx, tx, topic, mustEvent(t, "member-updated", fmt.Sprintf("member-%d", k), seqData{s})); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkKeyOrder decodes records and checks every key carries seq 0..perKey-1
// in order (a redelivered duplicate of an event already seen is ignored).
func checkKeyOrder(t testing.TB, recs []*kgo.Record, keys, perKey int) {
	t.Helper()
	seen := make(map[string]bool)
	got := make(map[string][]int)
	for _, r := range recs {
		ev, err := Decode(r)
		if err != nil {
			t.Fatalf("relayed record does not decode: %v", err)
		}
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		d, err := DataAs[seqData](ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != ev.Subject {
			t.Fatalf("record key %q is not the subject %q", r.Key, ev.Subject)
		}
		got[ev.Subject] = append(got[ev.Subject], d.Seq)
	}
	want := make([]int, perKey)
	for i := range want {
		want[i] = i
	}
	if len(got) != keys {
		t.Fatalf("%d keys relayed, want %d", len(got), keys)
	}
	for k, seqs := range got {
		if !slices.Equal(seqs, want) {
			t.Fatalf("key %s relayed as %v, want %v", k, seqs, want)
		}
	}
}

func waitBacklog(t testing.TB, o *Outbox, want int64) {
	t.Helper()
	testkit.Eventually(t, 60*time.Second, fmt.Sprintf("outbox backlog %d", want), func() bool {
		n, err := o.Backlog(testkit.Context(t, 5*time.Second))
		return err == nil && n == want
	})
}

// Events added in a committed transaction are relayed in order per key and
// marked sent; events of a rolled-back transaction never leave.
func TestOutboxRelay(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			o := newOutbox(t, db)
			topic := c.CreateTopic(t, 3, 3)
			runRelay(t, o, testOpts(t, c))

			const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
			ctx := ContextWithTraceparent(testkit.Context(t, 30*time.Second), tp)
			rolledBack := errors.New("business rule failed")
			err := o.WithTx(ctx, func(tx *sql.Tx) error {
				if err := o.Add(ctx, tx, topic, mustEvent(t, "member-updated", "member-0", seqData{99})); err != nil {
					return err
				}
				return rolledBack
			})
			if !errors.Is(err, rolledBack) {
				t.Fatalf("WithTx = %v", err)
			}
			addEvents(ctx, t, o, topic, 5, 0, 20)
			recs := readAll(t, c, topic, 5*20)
			checkKeyOrder(t, recs, 5, 20)
			waitBacklog(t, o, 0)
			for _, r := range recs {
				if header(r, HeaderTraceparent) != tp {
					t.Fatalf("traceparent header %q, want %q", header(r, HeaderTraceparent), tp)
				}
			}
		})
	})
}

// freePort reserves a loopback port number for a cluster started later.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Kafka goes down while events are being added: the rows wait in the
// outbox, and when the cluster is back (same address) every event goes out,
// in order per key.
func TestOutboxKafkaDownThenBack(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		o := newOutbox(t, db)
		const topic, keys = "members", 4
		port, dir := freePort(t), t.TempDir()
		startFake := func() *kfake.Cluster {
			fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(3, topic))
			if err != nil {
				t.Fatalf("kfake on port %d: %v", port, err)
			}
			t.Cleanup(fake.Close)
			return fake
		}
		fake := startFake()
		c := testkit.Cluster{Name: "kfake", Brokers: fake.ListenAddrs(), Fake: fake}
		var failures counter
		runRelay(t, o, append(testOpts(t, c), kgo.RetryTimeout(time.Second)), func(cfg *RelayConfig) {
			cfg.PublishTimeout = 500 * time.Millisecond
			cfg.Observer = backlogSpy{&failures}
		})
		ctx := testkit.Context(t, 60*time.Second)
		addEvents(ctx, t, o, topic, keys, 0, 10)
		waitBacklog(t, o, 0)

		fake.Close()
		addEvents(ctx, t, o, topic, keys, 10, 30)
		testkit.Eventually(t, 30*time.Second, "relay saw Kafka down", func() bool { return failures.count("backlog") > 1 })
		if n, err := o.Backlog(ctx); err != nil || n == 0 {
			t.Fatalf("backlog %d (%v) while Kafka is down, want the new rows waiting", n, err)
		}

		startFake()
		waitBacklog(t, o, 0)
		checkKeyOrder(t, readTopic(t, c, topic), keys, 30)
		var parked int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+o.cfg.Table+" WHERE failed_at IS NOT NULL").Scan(&parked); err != nil || parked != 0 {
			t.Fatalf("%d rows parked (%v): Kafka being down is worth retrying, not parking", parked, err)
		}
	})
}

// backlogSpy counts backlog reports, which the relay makes after each
// failed cycle, and parked rows. It implements only the two outbox
// observer interfaces, as an outside observer of the relay would.
type backlogSpy struct{ c *counter }

func (s backlogSpy) OutboxBacklog(string, int64) { s.c.add("backlog") }
func (s backlogSpy) OutboxParked(string, string) { s.c.add("parked") }

// On the real cluster: a relay whose producer cannot reach Kafka leaves the
// rows waiting; a relay that can, publishes them all in order.
func TestOutboxUnreachableThenReachable(t *testing.T) {
	real, ok := testkit.RealKafka(t)
	if !ok {
		t.Skip("needs the real cluster (" + testkit.EnvKafka + ")")
	}
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		o := newOutbox(t, db)
		topic := real.CreateTopic(t, 3, 3)
		const keys = 4
		var failures counter
		dead := []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1"), kgo.DialTimeout(200 * time.Millisecond), kgo.RetryTimeout(time.Second)}
		stopDead := runRelay(t, o, dead, func(cfg *RelayConfig) {
			cfg.PublishTimeout = 500 * time.Millisecond
			cfg.Observer = backlogSpy{&failures}
		})
		ctx := testkit.Context(t, 60*time.Second)
		addEvents(ctx, t, o, topic, keys, 0, 15)
		testkit.Eventually(t, 30*time.Second, "relay failed to publish", func() bool { return failures.count("backlog") > 1 })
		stopDead()
		if n, err := o.Backlog(ctx); err != nil || n != keys*15 {
			t.Fatalf("backlog %d (%v) with Kafka unreachable, want %d", n, err, keys*15)
		}
		runRelay(t, o, testOpts(t, real))
		waitBacklog(t, o, 0)
		checkKeyOrder(t, readTopic(t, real, topic), keys, 15)
	})
}

// Several relays on one PostgreSQL outbox share the work by shard and still
// keep every key in order.
func TestOutboxConcurrentRelaysPostgres(t *testing.T) {
	pg, ok := testkit.NewPostgres(t)
	if !ok {
		t.Skip("needs PostgreSQL (" + testkit.EnvPostgres + ")")
	}
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		o := newOutbox(t, pg)
		topic := c.CreateTopic(t, 3, 3)
		const keys, perKey = 24, 25
		for range 3 {
			runRelay(t, o, testOpts(t, c), func(cfg *RelayConfig) { cfg.MaxShards = 6; cfg.BatchSize = 20 })
		}
		ctx := testkit.Context(t, 60*time.Second)
		var wg sync.WaitGroup
		for w := range 4 { // concurrent writers, each owning some keys
			wg.Go(func() {
				for s := range perKey {
					err := o.WithTx(ctx, func(tx *sql.Tx) error {
						for k := w; k < keys; k += 4 {
							if err := o.Add(ctx, tx, topic, mustEvent(t, "member-updated", fmt.Sprintf("member-%d", k), seqData{s})); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		waitBacklog(t, o, 0)
		checkKeyOrder(t, readTopic(t, c, topic), keys, perKey)
	})
}

// ackSignal is a client hook that signals each acknowledged record.
type ackSignal chan struct{}

func (a ackSignal) OnProduceRecordUnbuffered(_ *kgo.Record, err error) {
	if err == nil {
		a <- struct{}{}
	}
}

// A relay session serves a trickle of rows, each committed after the
// previous one was acknowledged, and marks them together at its end: a
// session ending whenever it caught up cost each row a session and a mark
// of its own (see session.linger). The rows are acknowledged while the
// session goes on and stay queued (unmarked) until it ends.
func TestRelaySessionServesTrickle(t *testing.T) {
	testkit.ForEachClusterDB(t, func(t *testing.T, c testkit.Cluster, db testkit.DB) {
		o := newOutbox(t, db)
		topic := c.CreateTopic(t, 3, 3)
		acked := make(ackSignal, 16)
		p, err := NewProducer(ProducerConfig{ClientOpts: append(testOpts(t, c), kgo.WithHooks(acked))})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		const linger = 5 * time.Second
		r, err := NewRelay(RelayConfig{Outbox: o, Producer: p, PollInterval: linger, PublishTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		r.sessionFor = time.Minute // a loaded real cluster may take a second per ack
		ctx := testkit.Context(t, 2*time.Minute)
		type outcome struct {
			caughtUp bool
			err      error
		}
		done := make(chan outcome, 1)
		go func() {
			caughtUp, err := r.cycle(ctx)
			done <- outcome{caughtUp, err}
		}()
		const rows = 4
		for i := range rows {
			addEvents(ctx, t, o, topic, 1, i, i+1)
			select {
			case <-acked:
			case res := <-done:
				t.Fatalf("the session ended (%+v) before row %d was published", res, i)
			case <-time.After(time.Minute):
				t.Fatalf("row %d not published within a minute", i)
			}
		}
		if n, err := o.Backlog(ctx); err != nil || n != rows {
			t.Fatalf("backlog %d (%v) while the session goes on, want its %d rows queued until it marks them", n, err, rows)
		}
		select {
		case res := <-done:
			if !res.caughtUp || res.err != nil {
				t.Fatalf("session ended caughtUp=%v err=%v", res.caughtUp, res.err)
			}
		case <-time.After(linger + time.Minute):
			t.Fatal("the session did not end after lingering")
		}
		if n, err := o.Backlog(ctx); err != nil || n != 0 {
			t.Fatalf("backlog %d (%v) after the session, want 0", n, err)
		}
		checkKeyOrder(t, readAll(t, c, topic, rows), 1, rows)
	})
}

// On PostgreSQL a row can commit after the relay read a row with a higher
// seq. A session that lingers for the next wake must not leave such a row,
// below its first read, until it ends: it ends at once, and the next
// session publishes the row. (SQLite has one writer at a time: its rows
// commit in seq order.)
func TestRelayLateRowBelowSessionPostgres(t *testing.T) {
	pg, ok := testkit.NewPostgres(t)
	if !ok {
		t.Skip("needs PostgreSQL (" + testkit.EnvPostgres + ")")
	}
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		// A table of its own: another subtest's queued rows would move the
		// session's first read below the late row.
		o, err := NewOutbox(OutboxConfig{DB: pg.DB, Dialect: Postgres, Table: "outbox_" + testkit.RandomSuffix(), Source: "member-service"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testkit.Context(t, 2*time.Minute)
		if err := o.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		topic := c.CreateTopic(t, 3, 3)
		p, err := NewProducer(ProducerConfig{ClientOpts: testOpts(t, c)})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		// Neither the poll nor the session's end may be what publishes it.
		r, err := NewRelay(RelayConfig{Outbox: o, Producer: p, PollInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		r.sessionFor = time.Hour
		late, err := pg.BeginTx(ctx, nil) // takes the lower seq, commits last
		if err != nil {
			t.Fatal(err)
		}
		defer late.Rollback() //nolint:errcheck // a no-op after Commit
		if err := o.Add(ctx, late, topic, mustEvent(t, "member-updated", "member-late", seqData{0})); err != nil {
			t.Fatal(err)
		}
		addEvents(ctx, t, o, topic, 1, 0, 1)

		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _ = r.Run(rctx); close(done) }()
		defer func() { cancel(); <-done }()
		readAll(t, c, topic, 1) // the session read member-0 and lingers
		if err := late.Commit(); err != nil {
			t.Fatal(err)
		}
		o.Notify()
		subjects := make(map[string]bool)
		for _, rec := range readAll(t, c, topic, 2) {
			subjects[string(rec.Key)] = true
		}
		if !subjects["member-late"] {
			t.Fatalf("relayed %v: the late row is missing", subjects)
		}
	})
}
