package event

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// Publish and PublishAsync write structured CloudEvents keyed by subject
// with the context's traceparent, which the router hands back to handlers.
func TestProducer(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 3)
		logs := defaultLogs(t) // before NewProducer, which takes the default
		p, err := NewProducer(ProducerConfig{ClientOpts: testOpts(t, c), Source: "member-service"})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		ctx := ContextWithTraceparent(testkit.Context(t, 30*time.Second), tp)

		first, _ := New("signup-event", "m-1", signup{Name: "a"})
		if err := p.Publish(ctx, topic, first); err != nil {
			t.Fatal(err)
		}
		var acked, failed atomic.Int32
		const async = 200
		for i := range async {
			ev, _ := New("signup-event", "m-2", seqData{i}) // Source comes from the config
			p.PublishAsync(ctx, topic, ev, func(err error) {
				if err != nil {
					failed.Add(1)
				} else {
					acked.Add(1)
				}
			})
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if acked.Load() != async || failed.Load() != 0 {
			t.Fatalf("async: %d acked, %d failed, want %d acked", acked.Load(), failed.Load(), async)
		}

		invalid := &Event{ID: "x", Source: "s"} // no type
		if err := p.Publish(ctx, topic, invalid); !errors.Is(err, ErrInvalid) {
			t.Errorf("Publish(invalid) = %v, want ErrInvalid", err)
		}
		var asyncErr error
		p.PublishAsync(ctx, topic, invalid, func(err error) { asyncErr = err })
		if !errors.Is(asyncErr, ErrInvalid) {
			t.Errorf("PublishAsync(invalid) reported %v synchronously, want ErrInvalid", asyncErr)
		}
		// With no callback, a failure goes to the producer's logger, by
		// default slog.Default: here one the broker rejects as too large.
		huge, _ := New("signup-event", "m-3", map[string]string{"blob": strings.Repeat("x", 2<<20)})
		p.PublishAsync(ctx, topic, huge, nil)
		testkit.Eventually(t, 30*time.Second, "failed async publish logged", func() bool {
			return logs.count("event: publish failed") == 1
		})

		recs := readAll(t, c, topic, 1+async)
		last := -1
		for _, r := range recs {
			ev, err := Decode(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Key) != ev.Subject || ev.Source != "member-service" ||
				header(r, HeaderContentType) != ContentTypeCloudEvents || header(r, HeaderTraceparent) != tp {
				t.Fatalf("record %s: key %q, source %q, headers %s", ev.ID, r.Key, ev.Source, headerString(r))
			}
			if ev.Subject == "m-2" {
				d, _ := DataAs[seqData](ev)
				if d.Seq != last+1 {
					t.Fatalf("async events of one subject out of order: %d after %d", d.Seq, last)
				}
				last = d.Seq
			}
		}

		var seenTrace atomic.Value
		r := newTestRouter(t, c)
		r.Handle(testkit.TopicName(t), topic, func(ctx context.Context, msg *Message) error {
			if got, ok := TraceparentFromContext(ctx); ok {
				seenTrace.Store(got)
			}
			return nil
		}, OfType("signup-event"))
		start(t, r)
		testkit.Eventually(t, 60*time.Second, "handler saw the traceparent", func() bool { return seenTrace.Load() == tp })
	})
}

// An event with no source, and no source in the config, fails on the
// produce path with an error naming the config field to set, not as a
// decoding failure; nothing is written.
func TestPublishWithoutSource(t *testing.T) {
	p, err := NewProducer(ProducerConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testkit.Context(t, 10*time.Second)
	check := func(what string, err error, field string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "has no source: set "+field) ||
			strings.Contains(err.Error(), "decode") || !errors.Is(err, ErrInvalid) || !IsDecodeError(err) {
			t.Errorf("%s = %v, want a *DecodeError wrapping ErrInvalid naming %s, not saying decode", what, err, field)
		}
	}
	ev, _ := New("signup-event", "m-1", nil)
	check("Publish", p.Publish(ctx, "members", ev), "ProducerConfig.Source")
	var asyncErr error
	p.PublishAsync(ctx, "members", ev, func(err error) { asyncErr = err })
	check("PublishAsync", asyncErr, "ProducerConfig.Source")

	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		o, err := NewOutbox(OutboxConfig{DB: db.DB, Dialect: dialectOf(db)})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("Outbox.Add", o.WithTx(ctx, func(tx *sql.Tx) error { return o.Add(ctx, tx, "members", ev) }), "OutboxConfig.Source")
		if n, err := o.Backlog(ctx); err != nil || n != 0 {
			t.Errorf("backlog %d (%v) after a refused Add, want 0", n, err)
		}
	})
}

// Any other invalid event fails on the produce path as the missing source
// does: the error names the event, the topic and what is wrong with it,
// not a "decode" failure, and still is a *DecodeError wrapping ErrInvalid.
func TestPublishInvalidEvent(t *testing.T) {
	p, err := NewProducer(ProducerConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, Source: "member-service"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testkit.Context(t, 10*time.Second)
	cases := []struct {
		name string
		edit func(*Event)
		want string
	}{
		{"source", func(e *Event) { e.Source = "member service" }, `source "member service" is not a URI-reference`},
		{"data", func(e *Event) { e.Data = []byte("{") }, "data is not valid JSON"},
		{"dataschema", func(e *Event) { e.DataSchema = "signup.json" }, `dataschema "signup.json" is not an absolute URI`},
		{"extension", func(e *Event) { e.Extensions = map[string]string{"Trace-Id": "x"} }, `extension name "Trace-Id"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, _ := New("signup-event", "m-1", nil)
			tc.edit(ev)
			check := func(what string, err error) {
				t.Helper()
				prefix := `event: cannot publish "signup-event" event ` + ev.ID + " to members: "
				if strings.HasSuffix(what, "Record") {
					prefix = `event: cannot encode "signup-event" event ` + ev.ID + " for members: "
				}
				var de *DecodeError
				if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) ||
					strings.Contains(err.Error(), "decode") || !errors.Is(err, ErrInvalid) || !errors.As(err, &de) {
					t.Errorf("%s = %v, want a *DecodeError wrapping ErrInvalid, starting %q and naming %q", what, err, prefix, tc.want)
				}
			}
			check("Publish", p.Publish(ctx, "members", ev))
			var asyncErr error
			p.PublishAsync(ctx, "members", ev, func(err error) { asyncErr = err })
			check("PublishAsync", asyncErr)
			o, err := NewOutbox(OutboxConfig{DB: &sql.DB{}, Dialect: SQLite, Source: "member-service"})
			if err != nil {
				t.Fatal(err)
			}
			check("Outbox.Add", o.Add(ctx, nil, "members", ev))
			// Encoding it directly: no producer's default source to fall back on.
			if ev.Source == "" {
				ev.Source = "member-service"
			}
			_, err = ev.Record("members")
			check("Record", err)
			_, err = ev.BinaryRecord("members")
			check("BinaryRecord", err)
		})
	}
}
