package eventprom_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/event/eventprom"
	"github.com/ksuite/ksuite/internal/testkit"
)

func TestRouterMetrics(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		reg := prometheus.NewRegistry()
		m, err := eventprom.New(reg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eventprom.New(reg); err == nil {
			t.Fatal("registering twice on one registry must fail")
		}
		topic := c.CreateTopic(t, 1, 3)
		if _, err := c.Admin(t).CreateTopic(testkit.Context(t, 30*time.Second), 1, 3, nil, event.DeadLetterTopic(topic)); err != nil {
			t.Fatal(err)
		}
		group := testkit.TopicName(t)
		opts, _ := c.Config().ClientOpts()
		r, err := event.NewRouter(event.RouterConfig{
			ClientOpts: append(opts, kgo.FetchMaxWait(250*time.Millisecond)),
			Retry:      event.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond},
			Observer:   m,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.Handle(group, topic, func(_ context.Context, msg *event.Message) error {
			if msg.Event.Type == "fails" {
				return errors.New("always")
			}
			return nil
		})
		p, err := event.NewProducer(event.ProducerConfig{ClientOpts: opts, Source: "test"})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var evs []*event.Event
		for _, typ := range []string{"ok", "ok", "fails", "ok"} {
			ev, _ := event.New(typ, "k", nil)
			evs = append(evs, ev)
		}
		ctx := testkit.Context(t, 60*time.Second)
		if err := p.Publish(ctx, topic, evs...); err != nil {
			t.Fatal(err)
		}
		if err := p.Client().ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("poison")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		testkit.Eventually(t, 60*time.Second, "both failures dead-lettered", func() bool {
			return gathered(t, reg, "ksuite_event_dead_lettered_total") == 2
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]float64{
			"ksuite_event_records_handled_total":  3,
			"ksuite_event_handler_failures_total": 3,
			"ksuite_event_retries_total":          2,
			"ksuite_event_dead_lettered_total":    2,
		} {
			if got := gathered(t, reg, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		// Polled records include those fetched again after a retry pause.
		if got := gathered(t, reg, "ksuite_event_records_consumed_total"); got < 5 {
			t.Errorf("records consumed = %v, want at least 5", got)
		}
		if n, _ := testutil.GatherAndCount(reg, "ksuite_event_handler_duration_seconds"); n != 1 {
			t.Errorf("latency histogram series = %d, want 1", n)
		}
		// A missing series would also sum to 0: the partition must be there.
		if n, _ := testutil.GatherAndCount(reg, "ksuite_event_consumer_lag"); n != 1 {
			t.Errorf("lag series = %d, want 1 (the topic's one partition)", n)
		}
		if got := gathered(t, reg, "ksuite_event_consumer_lag"); got != 0 {
			t.Errorf("lag after consuming everything = %v, want 0", got)
		}
		if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
			t.Errorf("metric lint: %v %v", problems, err)
		}
	})
}

func TestOutboxBacklogMetric(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		reg := prometheus.NewRegistry()
		m, err := eventprom.New(reg, eventprom.Namespace("svc"))
		if err != nil {
			t.Fatal(err)
		}
		o := newOutbox(t, db)
		ctx := testkit.Context(t, 30*time.Second)
		err = o.WithTx(ctx, func(tx *sql.Tx) error {
			for range 3 {
				ev, _ := event.New("x", "k", nil)
				if err := o.Add(ctx, tx, "t", ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Kafka is unreachable, so the rows stay and the relay reports them.
		runRelay(t, o, []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, m)
		testkit.Eventually(t, 20*time.Second, "backlog reported", func() bool { return gathered(t, reg, "svc_outbox_backlog") == 3 })
	})
}

// A row Kafka rejects for good (too large) is counted when the relay parks
// it, and only then.
func TestOutboxParkedMetric(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			reg := prometheus.NewRegistry()
			m, err := eventprom.New(reg)
			if err != nil {
				t.Fatal(err)
			}
			o := newOutbox(t, db)
			topic := c.CreateTopic(t, 1, 3)
			opts, _ := c.Config().ClientOpts()
			runRelay(t, o, opts, m)
			ctx := testkit.Context(t, 60*time.Second)
			huge, _ := event.New("x", "k", map[string]string{"blob": strings.Repeat("x", 2<<20)})
			fine, _ := event.New("x", "k", nil)
			if err := o.WithTx(ctx, func(tx *sql.Tx) error { return o.Add(ctx, tx, topic, huge, fine) }); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, 30*time.Second, "parked row counted", func() bool {
				return gathered(t, reg, "ksuite_event_outbox_parked_total") == 1
			})
			testkit.Eventually(t, 30*time.Second, "the row after it relayed", func() bool {
				n, err := o.Backlog(ctx)
				return err == nil && n == 0
			})
			if got := gathered(t, reg, "ksuite_event_outbox_parked_total"); got != 1 {
				t.Errorf("outbox_parked_total = %v, want 1 (only the oversized row)", got)
			}
		})
	})
}

// The same event delivered twice is handled twice and counted once as a
// duplicate, per record, batched and in set-based batches.
func TestInboxDuplicateMetric(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			for _, handler := range []string{"Handler", "BatchHandler", "TxBatchHandler"} {
				t.Run(handler, func(t *testing.T) {
					reg := prometheus.NewRegistry()
					m, err := eventprom.New(reg)
					if err != nil {
						t.Fatal(err)
					}
					inbox, err := event.NewInbox(event.InboxConfig{DB: db.DB, Dialect: dialectOf(db), Table: "inbox_" + testkit.RandomSuffix()})
					if err != nil {
						t.Fatal(err)
					}
					ctx := testkit.Context(t, 60*time.Second)
					if err := inbox.Migrate(ctx); err != nil {
						t.Fatal(err)
					}
					topic := c.CreateTopic(t, 1, 3)
					opts, _ := c.Config().ClientOpts()
					r, err := event.NewRouter(event.RouterConfig{ClientOpts: append(opts, kgo.FetchMaxWait(250*time.Millisecond)), Observer: m})
					if err != nil {
						t.Fatal(err)
					}
					var applied atomic.Int32
					apply := func(context.Context, *sql.Tx, *event.Message) error { applied.Add(1); return nil }
					switch handler {
					case "Handler":
						r.Handle("g", topic, inbox.Handler(apply))
					case "BatchHandler":
						r.HandleBatch("g", topic, inbox.BatchHandler(apply))
					case "TxBatchHandler":
						r.HandleBatch("g", topic, inbox.TxBatchHandler(func(ctx context.Context, tx *sql.Tx, msgs []*event.Message) error {
							for _, msg := range msgs {
								if err := apply(ctx, tx, msg); err != nil {
									return err
								}
							}
							return nil
						}))
					}
					p, err := event.NewProducer(event.ProducerConfig{ClientOpts: opts, Source: "test"})
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close()
					ev, _ := event.New("x", "k", nil)
					other, _ := event.New("x", "k", nil)
					if err := p.Publish(ctx, topic, ev, ev, other); err != nil {
						t.Fatal(err)
					}
					rctx, cancel := context.WithCancel(ctx)
					done := make(chan error, 1)
					go func() { done <- r.Run(rctx) }()
					testkit.Eventually(t, 60*time.Second, "three records handled", func() bool {
						return gathered(t, reg, "ksuite_event_records_handled_total") == 3
					})
					cancel()
					if err := <-done; err != nil {
						t.Fatal(err)
					}
					if got := gathered(t, reg, "ksuite_event_duplicates_total"); got != 1 || applied.Load() != 2 {
						t.Errorf("duplicates_total = %v and %d effects applied, want 1 and 2", got, applied.Load())
					}
				})
			}
		})
	})
}

func newOutbox(t *testing.T, db testkit.DB) *event.Outbox {
	t.Helper()
	o, err := event.NewOutbox(event.OutboxConfig{DB: db.DB, Dialect: dialectOf(db), Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Migrate(testkit.Context(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	return o
}

// runRelay runs a relay for o publishing with opts and observed by m until
// the test ends.
func runRelay(t *testing.T, o *event.Outbox, opts []kgo.Opt, m *eventprom.Metrics) {
	t.Helper()
	p, err := event.NewProducer(event.ProducerConfig{ClientOpts: opts})
	if err != nil {
		t.Fatal(err)
	}
	rl, err := event.NewRelay(event.RelayConfig{Outbox: o, Producer: p, PublishTimeout: 500 * time.Millisecond,
		PollInterval: 50 * time.Millisecond, Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		p.Close()
	})
}

func dialectOf(db testkit.DB) event.Dialect {
	if db.Postgres() {
		return event.Postgres
	}
	return event.SQLite
}

// gathered sums every series of a metric in reg.
func gathered(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

// New on a registry that already has the metrics fails naming the way out
// (another registry, or a Namespace), and registers nothing: a retry with a
// Namespace then works on the same registry.
func TestNewTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := eventprom.New(reg); err != nil {
		t.Fatal(err)
	}
	_, err := eventprom.New(reg)
	if err == nil || !strings.Contains(err.Error(), "ksuite_event") || !strings.Contains(err.Error(), "eventprom.Namespace") {
		t.Errorf("second New = %v, want an error naming the namespace and eventprom.Namespace", err)
	}
	if _, err := eventprom.New(reg, eventprom.Namespace("second")); err != nil {
		t.Errorf("New with another namespace = %v", err)
	}

	// A registry holding one metric of the set: New fails and leaves none
	// of its own registered.
	rec := &countingRegisterer{Registerer: prometheus.NewRegistry()}
	mine := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ksuite_event_outbox_backlog", Help: "the user's own"})
	rec.MustRegister(mine)
	if _, err := eventprom.New(rec); err == nil {
		t.Fatal("New registered over the user's metric")
	}
	if rec.n != 1 {
		t.Errorf("%d collectors registered after a failed New, want the user's one", rec.n)
	}
}

// countingRegisterer counts the collectors registered on it.
type countingRegisterer struct {
	prometheus.Registerer
	n int
}

func (r *countingRegisterer) Register(c prometheus.Collector) error {
	err := r.Registerer.Register(c)
	if err == nil {
		r.n++
	}
	return err
}

func (r *countingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func (r *countingRegisterer) Unregister(c prometheus.Collector) bool {
	ok := r.Registerer.Unregister(c)
	if ok {
		r.n--
	}
	return ok
}
