package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// batchMsg is a message as the router builds it, without Kafka.
func batchMsg(t testing.TB, group string, offset int64, ev *Event) *Message {
	t.Helper()
	return &Message{Event: ev, Group: group, Attempt: 1,
		Record: &kgo.Record{Topic: "members", Partition: 0, Offset: offset}}
}

// ids lists the events' ids, in order.
func ids(msgs []*Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Event.ID
	}
	return out
}

func TestTxBatchHandlerPassesOnlyNewEventsInOrder(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		fx, inbox := newEffects(t, db)
		var got [][]string
		h := inbox.TxBatchHandler(func(ctx context.Context, tx *sql.Tx, msgs []*Message) error {
			got = append(got, ids(msgs))
			for _, m := range msgs {
				if err := fx.apply(ctx, tx, m); err != nil {
					return err
				}
			}
			return nil
		})
		evs := makeEvents(t, 6, 3)
		legacy := &Event{ID: "MemberInfoProducer/1", Source: LegacySource, Type: "members", Data: []byte(`{}`)}
		// evs[1] twice in one batch (a producer retry read in one poll).
		first := []*Message{
			batchMsg(t, "g", 0, evs[0]), batchMsg(t, "g", 1, evs[1]), batchMsg(t, "g", 2, evs[1]),
			batchMsg(t, "g", 3, evs[2]), batchMsg(t, "g", 4, legacy),
		}
		if err := h(ctx, first); err != nil {
			t.Fatal(err)
		}
		// A redelivery overlapping the first batch, then new events; the
		// legacy event at a new offset is a new event (legacy ids repeat).
		second := []*Message{
			batchMsg(t, "g", 3, evs[2]), batchMsg(t, "g", 4, legacy), batchMsg(t, "g", 5, evs[3]),
			batchMsg(t, "g", 6, legacy), batchMsg(t, "g", 7, evs[4]),
		}
		if err := h(ctx, second); err != nil {
			t.Fatal(err)
		}
		if err := h(ctx, second[:2]); err != nil { // all seen: h is not called
			t.Fatal(err)
		}
		want := [][]string{
			{evs[0].ID, evs[1].ID, evs[2].ID, legacy.ID},
			{evs[3].ID, legacy.ID, evs[4].ID},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("handler saw %v, want %v", got, want)
		}
		if rows, _ := fx.counts(t); rows != 7 {
			t.Fatalf("%d effects, want 7", rows)
		}
	})
}

// A batch larger than one insert statement holds is claimed in chunks.
func TestTxBatchHandlerLargeBatch(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		_, inbox := newEffects(t, db)
		n := claimChunk*2 + 7
		msgs := make([]*Message, n)
		for i := range msgs {
			msgs[i] = batchMsg(t, "g", int64(i), &Event{ID: strconv.Itoa(i), Source: "test", Type: "x"})
		}
		var seen int
		h := inbox.TxBatchHandler(func(_ context.Context, _ *sql.Tx, msgs []*Message) error {
			seen += len(msgs)
			return nil
		})
		if err := h(ctx, msgs[:claimChunk+3]); err != nil {
			t.Fatal(err)
		}
		if err := h(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		if seen != n {
			t.Fatalf("handler saw %d events, want %d", seen, n)
		}
	})
}

// A failing handler rolls the claims back with its effects: the events are
// still new afterwards.
func TestTxBatchHandlerRollsBackClaims(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		fx, inbox := newEffects(t, db)
		evs := makeEvents(t, 3, 3)
		msgs := []*Message{batchMsg(t, "g", 0, evs[0]), batchMsg(t, "g", 1, evs[1]), batchMsg(t, "g", 2, evs[2])}
		boom := errors.New("boom")
		fail := inbox.TxBatchHandler(func(ctx context.Context, tx *sql.Tx, msgs []*Message) error {
			for _, m := range msgs {
				if err := fx.apply(ctx, tx, m); err != nil {
					return err
				}
			}
			return boom
		})
		if err := fail(ctx, msgs); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the handler's", err)
		}
		var seen []string
		ok := inbox.TxBatchHandler(func(_ context.Context, _ *sql.Tx, msgs []*Message) error {
			seen = ids(msgs)
			return nil
		})
		if err := ok(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		if rows, _ := fx.counts(t); rows != 0 || len(seen) != 3 {
			t.Fatalf("after a failed batch: %d effects kept, %d events new; want 0 and 3", rows, len(seen))
		}
	})
}

// With Consumer set, the inbox key survives a change of consumer group (a
// replay into a fresh group); without it, the group is the key.
func TestInboxConsumerKeepsKeyAcrossGroups(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		fx, _ := newEffects(t, db)
		named, err := NewInbox(InboxConfig{DB: db.DB, Dialect: dialectOf(db), Consumer: "projection"})
		if err != nil {
			t.Fatal(err)
		}
		byGroup, err := NewInbox(InboxConfig{DB: db.DB, Dialect: dialectOf(db)})
		if err != nil {
			t.Fatal(err)
		}
		ev := makeEvents(t, 1, 1)[0]
		apply := func(in *Inbox, group string, batch bool) int {
			before, _ := fx.counts(t)
			msg := batchMsg(t, group, 0, ev)
			if batch {
				err = in.TxBatchHandler(func(ctx context.Context, tx *sql.Tx, msgs []*Message) error {
					return fx.apply(ctx, tx, msgs[0])
				})(ctx, []*Message{msg})
			} else {
				err = in.Handler(fx.apply)(ctx, msg)
			}
			if err != nil {
				t.Fatal(err)
			}
			after, _ := fx.counts(t)
			return after - before
		}
		steps := []struct {
			name  string
			in    *Inbox
			group string
			batch bool
			want  int
		}{
			{"named, first group", named, "projection-v1", false, 1},
			{"named, fresh group, Handler", named, "projection-v2", false, 0},
			{"named, fresh group, TxBatchHandler", named, "projection-v3", true, 0},
			{"by group, first group", byGroup, "projection-v1", true, 1},
			{"by group, same group", byGroup, "projection-v1", false, 0},
			{"by group, fresh group", byGroup, "projection-v2", false, 1},
		}
		for _, s := range steps {
			if got := apply(s.in, s.group, s.batch); got != s.want {
				t.Errorf("%s: %d effects, want %d", s.name, got, s.want)
			}
		}
	})
}

// Through the router: duplicates produced into the topic apply once, and
// an event the handler rejects for good is dead-lettered alone while the
// rest of its batch applies.
func TestTxBatchHandlerRouter(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		db := testkit.NewSQLite(t)
		fx, inbox := newEffects(t, db)
		topic := topicWithDLT(t, c, 2)
		evs := makeEvents(t, 60, 6)
		poison := evs[31]
		produceEvents(t, c, topic, append(slices.Clone(evs), evs[:20]...)...)

		r := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.MaxBatch = 25 })
		r.HandleBatch(testkit.TopicName(t), topic, inbox.TxBatchHandler(func(ctx context.Context, tx *sql.Tx, msgs []*Message) error {
			for _, m := range msgs {
				if m.Event.ID == poison.ID {
					return Permanent(fmt.Errorf("event %s: rejected", m.Event.ID))
				}
				if err := fx.apply(ctx, tx, m); err != nil {
					return err
				}
			}
			return nil
		}))
		start(t, r)
		fx.exactlyOnce(t, len(evs)-1)
		dl := readAll(t, c, DeadLetterTopic(topic), 1)
		if ev, err := Decode(dl[0]); err != nil || ev.ID != poison.ID || header(dl[0], HeaderDLTError) != "event "+poison.ID+": rejected" {
			t.Fatalf("dead letter %v %v %s, want the poison event with its reason", ev, err, headerString(dl[0]))
		}
	})
}
