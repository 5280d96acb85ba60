package event_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/third_party/kfake"
)

type Signup struct {
	Name string `json:"name"`
}

// fakeKafka starts an in-process cluster for the examples; in a service the
// seed brokers come from its configuration.
func fakeKafka(topics ...string) (*kfake.Cluster, []kgo.Opt) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		panic(err)
	}
	return c, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...), kgo.FetchMaxWait(100 * time.Millisecond)}
}

func ExampleEvent_MarshalJSON() {
	ev, _ := event.New("signup-event", "member-42", Signup{Name: "Ada"})
	ev.Source = "member-service"
	ev.ID = "0190b5a2-7c8e-7d4e-9b1a-3f2c1d0e9f8a"         // New made a UUIDv7
	ev.Time = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) // New took the clock
	b, _ := ev.MarshalJSON()
	fmt.Println(string(b))
	// Output:
	// {"specversion":"1.0","id":"0190b5a2-7c8e-7d4e-9b1a-3f2c1d0e9f8a","source":"member-service","type":"signup-event","time":"2024-05-01T10:00:00Z","subject":"member-42","datacontenttype":"application/json","data":{"name":"Ada"}}
}

func ExampleDecode_legacy() {
	// What the Spring services wrote with KafkaTemplate.
	r := &kgo.Record{
		Topic: "member-info",
		Value: []byte(`{"uuid":"MemberInfoProducer/1714557600000","data":{"name":"Ada"}}`),
	}
	ev, err := event.Decode(r)
	if err != nil {
		panic(err)
	}
	data, _ := event.DataAs[Signup](ev)
	fmt.Println(ev.ID, ev.Source, ev.Type, data.Name)
	// Output: MemberInfoProducer/1714557600000 legacy member-info Ada
}

func ExampleDecode_invalid() {
	_, err := event.Decode(&kgo.Record{Value: []byte(`{"specversion":"1.0","id":"1","source":"s"}`)})
	var de *event.DecodeError
	fmt.Println(errors.As(err, &de), de.Field, errors.Is(err, event.ErrInvalid))
	// Output: true type true
}

func ExampleRouter() {
	cluster, opts := fakeKafka("members", "members.DLT")
	defer cluster.Close()

	p, _ := event.NewProducer(event.ProducerConfig{ClientOpts: opts, Source: "member-service"})
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"Ada", "Grace", "Barbara"} {
		ev, _ := event.New("signup-event", "member-"+name, Signup{Name: name})
		if err := p.Publish(ctx, "members", ev); err != nil {
			panic(err)
		}
	}

	router, _ := event.NewRouter(event.RouterConfig{ClientOpts: opts})
	runCtx, stop := context.WithCancel(ctx)
	handled := 0
	router.Handle("welcome-mailer", "members", event.Typed(func(ctx context.Context, msg *event.Message, s Signup) error {
		fmt.Println("welcome", s.Name)
		if handled++; handled == 3 {
			stop() // a service stops on SIGTERM instead
		}
		return nil
	}), event.OfType("signup-event"))
	if err := router.Run(runCtx); err != nil {
		panic(err)
	}
	// Output:
	// welcome Ada
	// welcome Grace
	// welcome Barbara
}

func ExampleInbox() {
	cluster, opts := fakeKafka("members", "members.DLT")
	defer cluster.Close()
	dir, _ := os.MkdirTemp("", "inbox")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE TABLE members (name TEXT)"); err != nil {
		panic(err)
	}
	inbox, _ := event.NewInbox(event.InboxConfig{DB: db, Dialect: event.SQLite})
	if err := inbox.Migrate(ctx); err != nil {
		panic(err)
	}

	// The same event delivered twice, as after a crash before the offset commit.
	p, _ := event.NewProducer(event.ProducerConfig{ClientOpts: opts, Source: "member-service"})
	defer p.Close()
	ev, _ := event.New("signup-event", "member-1", Signup{Name: "Ada"})
	last, _ := event.New("signup-event", "member-2", Signup{Name: "Grace"})
	if err := p.Publish(ctx, "members", ev, ev, last); err != nil {
		panic(err)
	}

	router, _ := event.NewRouter(event.RouterConfig{ClientOpts: opts})
	runCtx, stop := context.WithCancel(ctx)
	router.Handle("member-projection", "members", inbox.Handler(func(ctx context.Context, tx *sql.Tx, msg *event.Message) error {
		s, err := event.DataAs[Signup](msg.Event)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO members (name) VALUES (?)", s.Name)
		return err
	}))
	router.Use(func(next event.HandlerFunc) event.HandlerFunc {
		return func(ctx context.Context, msg *event.Message) error {
			err := next(ctx, msg)
			if msg.Event.Subject == "member-2" {
				stop()
			}
			return err
		}
	})
	if err := router.Run(runCtx); err != nil {
		panic(err)
	}
	var n int
	_ = db.QueryRowContext(ctx, "SELECT count(*) FROM members WHERE name = 'Ada'").Scan(&n)
	fmt.Println("Ada inserted", n, "time(s)")
	// Output: Ada inserted 1 time(s)
}

func ExampleOutbox() {
	cluster, opts := fakeKafka("members")
	defer cluster.Close()
	dir, _ := os.MkdirTemp("", "outbox")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	outbox, _ := event.NewOutbox(event.OutboxConfig{DB: db, Dialect: event.SQLite, Source: "member-service"})
	if err := outbox.Migrate(ctx); err != nil {
		panic(err)
	}
	p, _ := event.NewProducer(event.ProducerConfig{ClientOpts: opts})
	defer p.Close()
	relay, _ := event.NewRelay(event.RelayConfig{Outbox: outbox, Producer: p})
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	go relay.Run(relayCtx)

	// The business change and its event commit together, or not at all.
	err := outbox.WithTx(ctx, func(tx *sql.Tx) error {
		// tx.ExecContext(ctx, "UPDATE members SET ...") would go here.
		ev, _ := event.New("signup-event", "member-42", Signup{Name: "Ada"})
		return outbox.Add(ctx, tx, "members", ev)
	})
	if err != nil {
		panic(err)
	}

	cl, _ := kgo.NewClient(append(opts, kgo.ConsumeTopics("members"))...)
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) == 0 && ctx.Err() == nil {
		recs = cl.PollRecords(ctx, 1).Records()
	}
	rec := recs[0]
	ev, _ := event.Decode(rec)
	fmt.Println(string(rec.Key), ev.Type, ev.Source)
	// Output: member-42 signup-event member-service
}
