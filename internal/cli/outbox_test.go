package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for testkit.DB
	_ "modernc.org/sqlite"             // driver "sqlite" for testkit.DB

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
)

// dbArg is what a user passes as --db for db: the SQLite file's path, or
// the PostgreSQL URL.
func dbArg(db testkit.DB) string {
	if db.Postgres() {
		return db.DSN
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(db.DSN, "file:"), "?")
	return path
}

// parkedOutbox makes an outbox of three events in db and parks the second
// with the error the relay would record.
func parkedOutbox(t *testing.T, db testkit.DB) {
	t.Helper()
	d := event.SQLite
	if db.Postgres() {
		d = event.Postgres
	}
	o, err := event.NewOutbox(event.OutboxConfig{DB: db.DB, Dialect: d, Source: "member-service"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testkit.Context(t, 30*time.Second)
	if err := o.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	err = o.WithTx(ctx, func(tx *sql.Tx) error {
		for _, subject := range []string{"member-1", "member-2", "member-3"} {
			ev, err := event.New("member-updated", subject, nil)
			if err != nil {
				return err
			}
			if err := o.Add(ctx, tx, "members", ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := "UPDATE ksuite_outbox SET failed_at = CURRENT_TIMESTAMP, last_error = 'MESSAGE_TOO_LARGE: the request included a message larger than the max' WHERE seq = 2"
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatal(err)
	}
}

func TestOutboxListRequeue(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		parkedOutbox(t, db)
		arg := dbArg(db)

		r := mustRun(t, "", "outbox", "list", "--db", arg)
		lines := strings.Split(strings.TrimSpace(r.out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "SEQ") || !strings.Contains(lines[1], "members") ||
			!strings.Contains(lines[1], "member-2") || !strings.Contains(lines[1], "member-updated") ||
			!strings.Contains(lines[1], "MESSAGE_TOO_LARGE") || !strings.HasPrefix(lines[1], "2 ") {
			t.Fatalf("outbox list:\n%s", r.out)
		}

		r = mustRun(t, "", "outbox", "list", "--db", arg, "--output", "json")
		var listed struct {
			Table  string `json:"table"`
			Parked []struct {
				Seq       int64     `json:"seq"`
				Topic     string    `json:"topic"`
				Key       string    `json:"key"`
				Type      string    `json:"type"`
				ID        string    `json:"id"`
				Bytes     int       `json:"bytes"`
				CreatedAt time.Time `json:"createdAt"`
				FailedAt  time.Time `json:"failedAt"`
				Error     string    `json:"error"`
			} `json:"parked"`
		}
		if err := json.Unmarshal([]byte(r.out), &listed); err != nil {
			t.Fatalf("list --output json: %v\n%s", err, r.out)
		}
		if listed.Table != "ksuite_outbox" || len(listed.Parked) != 1 {
			t.Fatalf("list --output json: %+v", listed)
		}
		if p := listed.Parked[0]; p.Seq != 2 || p.Topic != "members" || p.Key != "member-2" || p.Type != "member-updated" ||
			p.ID == "" || p.Bytes == 0 || p.CreatedAt.IsZero() || p.FailedAt.IsZero() || !strings.HasPrefix(p.Error, "MESSAGE_TOO_LARGE") {
			t.Fatalf("parked row %+v", p)
		}

		// All or nothing: seq 3 is queued, not parked.
		r = runKsuite(t, "outbox", "requeue", "--db", arg, "2", "3")
		if r.code != 1 || !strings.Contains(r.errOut, "rows 3 are not parked") || !strings.Contains(r.errOut, "nothing requeued") {
			t.Fatalf("requeue 2 3: exit %d, stderr %q", r.code, r.errOut)
		}
		if r := mustRun(t, "", "outbox", "list", "--db", arg); !strings.Contains(r.out, "member-2") {
			t.Fatalf("row 2 not parked any more after a refused requeue:\n%s", r.out)
		}

		r = mustRun(t, "", "outbox", "requeue", "--db", arg, "2")
		if r.out != "requeued 1 row(s) of ksuite_outbox: 2\n" {
			t.Fatalf("requeue 2: %q", r.out)
		}
		if r := mustRun(t, "", "outbox", "list", "--db", arg); r.out != "no parked rows in ksuite_outbox\n" {
			t.Fatalf("list after requeue: %q", r.out)
		}
		var backlog int
		if err := db.QueryRowContext(testkit.Context(t, 10*time.Second), "SELECT count(*) FROM ksuite_outbox WHERE sent_at IS NULL AND failed_at IS NULL").Scan(&backlog); err != nil || backlog != 3 {
			t.Fatalf("%d rows queued after the requeue (%v), want 3", backlog, err)
		}
		if r := mustRun(t, "", "outbox", "requeue", "--db", arg, "--all", "-o", "json"); strings.Join(strings.Fields(r.out), "") != `{"table":"ksuite_outbox","requeued":[]}` {
			t.Fatalf("requeue --all with nothing parked: %q", r.out)
		}
	})
}

func TestOutboxCommandErrors(t *testing.T) {
	sqlite := testkit.NewSQLite(t)
	if _, err := sqlite.ExecContext(context.Background(), "CREATE TABLE other (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"outbox", "list"}, "--db is required"},
		{[]string{"outbox", "list", "--db", "/nonexistent/app.db"}, "no SQLite database file there"},
		{[]string{"outbox", "list", "--db", dbArg(sqlite)}, "there is no outbox table ksuite_outbox"},
		{[]string{"outbox", "list", "--db", dbArg(sqlite), "--table", "x; DROP TABLE other"}, "is not a plain SQL identifier"},
		{[]string{"outbox", "list", "--db", dbArg(sqlite), "-o", "yaml"}, `--output "yaml": use text or json`},
		{[]string{"outbox", "requeue", "--db", dbArg(sqlite)}, "name the rows to requeue by seq, or pass --all"},
		{[]string{"outbox", "requeue", "--db", dbArg(sqlite), "--all", "3"}, "--all requeues every parked row: give it without seq numbers (got 3)"},
		{[]string{"outbox", "requeue", "--db", dbArg(sqlite), "abc"}, `"abc" is not a row seq`},
		{[]string{"outbox", "list", "--db", "postgres://svc:s3cret@127.0.0.1:1/db?connect_timeout=2"}, "postgres://svc:xxxxx@127.0.0.1:1/db"},
		{[]string{"outbox", "list", "--db", "postgres://svc@127.0.0.1:1/db?connect_timeout=2&password=s3cret"}, "password=xxxxx"},
		{[]string{"outbox", "list", "--db", "host=127.0.0.1 user=svc password=s3cret"}, "no SQLite database file there"},
	} {
		r := runKsuite(t, tc.args...)
		if r.code != 1 || !strings.Contains(r.errOut, tc.want) || strings.Contains(r.errOut, "s3cret") {
			t.Errorf("ksuite %s: exit %d, stderr %q; want exit 1 and %q (and no password)", strings.Join(tc.args, " "), r.code, r.errOut, tc.want)
		}
	}
	r := mustRun(t, "", "outbox", "requeue", "--help")
	if !strings.Contains(r.out, "ksuite outbox requeue --db ./member-service.db 12 15") {
		t.Errorf("requeue --help has no example:\n%s", r.out)
	}
}

// A database that accepts the connection but never answers fails the
// command within --timeout instead of hanging it.
func TestOutboxCommandTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	done := make(chan runResult, 1)
	go func() {
		done <- runKsuite(t, "outbox", "list", "--db", "postgres://svc@"+ln.Addr().String()+"/db?sslmode=disable", "--timeout", "300ms")
	}()
	select {
	case r := <-done:
		if r.code != 1 || !strings.Contains(r.errOut, "--db postgres://svc@") {
			t.Fatalf("exit %d, stderr %q; want exit 1 naming --db", r.code, r.errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("outbox list still waiting for a silent database 20s after a --timeout of 300ms")
	}
}
