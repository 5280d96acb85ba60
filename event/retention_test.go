package event

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// age sets the timestamp column col of the rows matching where to the given
// age, through the dialect's own time arithmetic.
func age(t *testing.T, db testkit.DB, table, col, where string, d time.Duration) {
	t.Helper()
	q := "UPDATE " + table + " SET " + col + " = " + dialectOf(db).ago(1) + " WHERE " + where
	if _, err := db.ExecContext(testkit.Context(t, 30*time.Second), q, d.Seconds()); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db testkit.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(testkit.Context(t, 30*time.Second), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Prune deletes only rows sent before the cutoff, across several batches;
// unsent rows stay however old they are.
func TestOutboxPrune(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		o := newOutbox(t, db)
		ctx := testkit.Context(t, time.Minute)
		evs := makeEvents(t, 2600, 10)
		if err := o.WithTx(ctx, func(tx *sql.Tx) error { return o.Add(ctx, tx, "members", evs...) }); err != nil {
			t.Fatal(err)
		}
		// seq 1-2500: sent 2 hours ago; 2501-2550: sent just now; the rest
		// unsent but created 3 hours ago.
		age(t, db, o.cfg.Table, "sent_at", "seq <= 2500", 2*time.Hour)
		age(t, db, o.cfg.Table, "sent_at", "seq > 2500 AND seq <= 2550", 0)
		age(t, db, o.cfg.Table, "created_at", "seq > 2550", 3*time.Hour)
		n, err := o.Prune(ctx, time.Hour)
		if err != nil || n != 2500 {
			t.Fatalf("Prune = %d, %v; want 2500 rows", n, err)
		}
		left := count(t, db, "SELECT count(*) FROM "+o.cfg.Table)
		backlog, err := o.Backlog(ctx)
		if left != 100 || err != nil || backlog != 50 {
			t.Fatalf("after Prune: %d rows, backlog %d (%v); want 100 rows, 50 unsent", left, backlog, err)
		}
		if n, err := o.Prune(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("second Prune = %d, %v; want nothing", n, err)
		}
		for _, keep := range []time.Duration{0, -time.Hour} {
			if n, err := o.Prune(ctx, keep); err == nil || !strings.Contains(err.Error(), "keep must be a positive duration") {
				t.Fatalf("Prune(%v) = %d, %v; want an error naming keep", keep, n, err)
			}
		}
		if left := count(t, db, "SELECT count(*) FROM "+o.cfg.Table); left != 100 {
			t.Fatalf("%d rows after a refused Prune, want 100", left)
		}
	})
}

// The inbox forgets keys handled before the cutoff and keeps the others.
func TestInboxPrune(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		_, in := newEffects(t, db)
		ctx := testkit.Context(t, time.Minute)
		d := dialectOf(db)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1500 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+in.cfg.Table+" (consumer_group, source, id) VALUES ("+
				d.args(1, 3)+")", "g", "s", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// Keys "0" and "1000"-"1499" were handled two days ago.
		age(t, db, in.cfg.Table, "handled_at", "id = '0' OR length(id) = 4", 48*time.Hour)
		n, err := in.Prune(ctx, 24*time.Hour)
		if err != nil || n != 501 {
			t.Fatalf("Prune = %d, %v; want 501 keys", n, err)
		}
		if left := count(t, db, "SELECT count(*) FROM "+in.cfg.Table); left != 999 {
			t.Fatalf("%d keys left, want 999", left)
		}
		if n, err := in.Prune(ctx, -time.Hour); err == nil || count(t, db, "SELECT count(*) FROM "+in.cfg.Table) != 999 {
			t.Fatalf("Prune(-1h) = %d, %v; want an error and every key kept", n, err)
		}
	})
}

// A row Kafka rejects for good (here too large for a produce request) is
// parked with its error; its key's later rows and other keys go on, and the
// relay does not stall or back off behind it.
func TestOutboxParksRejectedRow(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			o := newOutbox(t, db)
			topic := c.CreateTopic(t, 3, 3)
			var seen counter
			logs := defaultLogs(t) // the relay has no Logger of its own
			runRelay(t, o, testOpts(t, c), func(cfg *RelayConfig) { cfg.Observer = backlogSpy{&seen} })
			ctx := testkit.Context(t, time.Minute)
			huge := mustEvent(t, "member-updated", "member-0", map[string]string{"blob": strings.Repeat("x", 2<<20)})
			err := o.WithTx(ctx, func(tx *sql.Tx) error {
				return o.Add(ctx, tx, topic,
					mustEvent(t, "member-updated", "member-0", seqData{0}), huge,
					mustEvent(t, "member-updated", "member-0", seqData{1}),
					mustEvent(t, "member-updated", "member-1", seqData{0}))
			})
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string][]int) // seqs per key, in arrival order
			for _, r := range readAll(t, c, topic, 3) {
				ev, err := Decode(r)
				if err != nil {
					t.Fatal(err)
				}
				d, err := DataAs[seqData](ev)
				if err != nil {
					t.Fatal(err)
				}
				got[ev.Subject] = append(got[ev.Subject], d.Seq)
			}
			if !slices.Equal(got["member-0"], []int{0, 1}) || !slices.Equal(got["member-1"], []int{0}) || len(got) != 2 {
				t.Fatalf("relayed %v, want member-0 [0 1] and member-1 [0]", got)
			}
			waitBacklog(t, o, 0)
			var lastErr string
			q := "SELECT last_error FROM " + o.cfg.Table + " WHERE failed_at IS NOT NULL AND sent_at IS NULL"
			if err := db.QueryRowContext(ctx, q).Scan(&lastErr); err != nil {
				t.Fatalf("parked row: %v", err)
			}
			if !strings.Contains(lastErr, "MESSAGE_TOO_LARGE") {
				t.Fatalf("parked row's error %q does not say MESSAGE_TOO_LARGE", lastErr)
			}
			// The SQLite relay marks outside a transaction, so the row can
			// show before the observer hears of it.
			testkit.Eventually(t, 10*time.Second, "observer told of the parked row", func() bool { return seen.count("parked") == 1 })
			if logs.count("event: outbox row rejected by Kafka and parked; its key moves on") != 1 {
				t.Errorf("parked row not logged through slog.Default: %v", logs.order())
			}
		})
	})
}
