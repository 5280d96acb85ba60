package event

import (
	"crypto/rand"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/testkit"
)

// A row the topic rejects is parked and listed with its error; requeueing
// names rows that are not parked and changes nothing then; once the
// topic's limit is raised, a requeue publishes it.
func TestOutboxParkedRequeue(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			o := newOutbox(t, db)
			small := "4096"
			topic := c.CreateTopic(t, 1, 3, map[string]*string{"max.message.bytes": &small})
			runRelay(t, o, testOpts(t, c))
			ctx := testkit.Context(t, time.Minute)
			// Random, so compression cannot bring it under the limit.
			blob := make([]byte, 16<<10)
			_, _ = rand.Read(blob)
			big := mustEvent(t, "member-updated", "member-0", map[string][]byte{"blob": blob})
			err := o.WithTx(ctx, func(tx *sql.Tx) error {
				return o.Add(ctx, tx, topic, mustEvent(t, "member-updated", "member-0", seqData{0}), big,
					mustEvent(t, "member-updated", "member-0", seqData{1}))
			})
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, c, topic, 2)
			var parked []ParkedRow
			testkit.Eventually(t, 30*time.Second, "the big row parked", func() bool {
				parked, err = o.Parked(ctx, 0)
				return err == nil && len(parked) == 1
			})
			p := parked[0]
			if p.Record.Topic != topic || string(p.Record.Key) != "member-0" || !strings.Contains(p.Error, "MESSAGE_TOO_LARGE") ||
				p.CreatedAt.IsZero() || p.FailedAt.Before(p.CreatedAt.Add(-time.Second)) || time.Since(p.FailedAt) > time.Hour {
				t.Fatalf("parked row %+v", p)
			}
			if ev, err := Decode(p.Record); err != nil || ev.ID != big.ID {
				t.Fatalf("parked row's record decodes to %v, %v; want event %s", ev, err, big.ID)
			}

			err = o.Requeue(ctx, p.Seq, p.Seq+1000)
			if err == nil || !strings.Contains(err.Error(), "rows "+itoa(p.Seq+1000)+" are not parked") {
				t.Fatalf("Requeue(parked, unknown) = %v, want the unknown seq named", err)
			}
			if still, err := o.Parked(ctx, 0); err != nil || len(still) != 1 {
				t.Fatalf("after a refused Requeue: %d parked (%v), want the row still parked", len(still), err)
			}
			if err := o.Requeue(ctx); err == nil {
				t.Fatal("Requeue() with no seqs succeeded")
			}

			raised := "1048588"
			if _, err := c.Admin(t).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: &raised}}, topic); err != nil {
				t.Fatal(err)
			}
			if err := o.Requeue(ctx, p.Seq); err != nil {
				t.Fatal(err)
			}
			// A broker may not apply the raised limit at once and park the
			// row again: requeue it until it goes out.
			testkit.Eventually(t, 30*time.Second, "the requeued row published", func() bool {
				if again, err := o.Parked(ctx, 0); err == nil && len(again) == 1 {
					_ = o.Requeue(ctx, p.Seq)
				}
				ends, err := c.Admin(t).ListEndOffsets(ctx, topic)
				o, _ := ends.Lookup(topic, 0)
				return err == nil && o.Offset == 3
			})
			recs := readAll(t, c, topic, 3)
			if ev, err := Decode(recs[2]); err != nil || ev.ID != big.ID {
				t.Fatalf("third record %v (%v), want the requeued event", ev, err)
			}
			waitBacklog(t, o, 0)
			if left, err := o.Parked(ctx, 0); err != nil || len(left) != 0 {
				t.Fatalf("%d parked rows (%v) after the requeued one went out", len(left), err)
			}
			if all, err := o.RequeueAll(ctx); err != nil || len(all) != 0 {
				t.Fatalf("RequeueAll with nothing parked = %v, %v", all, err)
			}
		})
	})
}

// A missing table is named as such, not as a driver's syntax error.
func TestOutboxParkedNoTable(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		o, err := NewOutbox(OutboxConfig{DB: db.DB, Dialect: dialectOf(db), Table: "not_there"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testkit.Context(t, 30*time.Second)
		_, err = o.Parked(ctx, 0)
		if err == nil || !strings.Contains(err.Error(), "there is no outbox table not_there") {
			t.Errorf("Parked = %v, want the missing table named", err)
		}
		if _, err := o.RequeueAll(ctx); err == nil || !strings.Contains(err.Error(), "there is no outbox table not_there") {
			t.Errorf("RequeueAll = %v, want the missing table named", err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
