package testkit

import (
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

func TestForEachDB(t *testing.T) {
	ForEachDB(t, func(t *testing.T, db DB) {
		ctx := Context(t, 30*time.Second)
		if _, err := db.ExecContext(ctx, "CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
			t.Fatalf("create: %v", err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO probe (id, v) VALUES (1, 'x')"); err != nil {
			t.Fatalf("insert: %v", err)
		}
		var v string
		if err := db.QueryRowContext(ctx, "SELECT v FROM probe WHERE id = 1").Scan(&v); err != nil || v != "x" {
			t.Fatalf("select: %q, %v", v, err)
		}
		// A second DB of the same kind must be empty: tests never share tables.
		var other DB
		if db.Postgres() {
			other, _ = NewPostgres(t)
		} else {
			other = NewSQLite(t)
		}
		if _, err := other.ExecContext(ctx, "SELECT v FROM probe"); err == nil {
			t.Fatalf("%s: a fresh database sees another test's table", db.Name)
		}
	})
}
