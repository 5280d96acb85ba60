package event

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Dialect is the SQL database the [Outbox] and [Inbox] tables live in. The
// package uses only database/sql: open the *sql.DB with the driver you
// like (modernc.org/sqlite or mattn/go-sqlite3 for SQLite; pgx's stdlib or
// lib/pq for PostgreSQL).
type Dialect int

const (
	// SQLite: one writer at a time, so one relay per database. Open it with
	// a busy timeout and WAL journal, e.g. with modernc.org/sqlite
	// "file:app.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate",
	// and db.SetMaxOpenConns(1): writers then queue in turn, while SQLite's
	// own busy wait (sleeps of up to 100ms) starves the relay under load.
	SQLite Dialect = iota + 1
	// Postgres: PostgreSQL 12 or later; any number of relays.
	Postgres
)

// String is the dialect's name: "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) validate() error {
	if d != SQLite && d != Postgres {
		return fmt.Errorf("event: unknown SQL dialect %v: use event.SQLite or event.Postgres", d)
	}
	return nil
}

// arg is the n-th (from 1) bind parameter.
func (d Dialect) arg(n int) string {
	if d == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// ago is an SQL expression for the time the n-th bind parameter, a number
// of seconds, before now, comparable with the tables' timestamps.
func (d Dialect) ago(n int) string {
	if d == Postgres {
		return "now() - make_interval(secs => " + d.arg(n) + ")"
	}
	// CURRENT_TIMESTAMP's text form, which the columns hold.
	return "datetime('now', '-' || " + d.arg(n) + " || ' seconds')"
}

// inSubquery is an SQL condition that col is among the values of the
// subquery sub. PostgreSQL gets the ANY(ARRAY(...)) form, which it runs as
// lookups of those values rather than a join with the whole table.
func (d Dialect) inSubquery(col, sub string) string {
	if d == Postgres {
		return col + " = ANY(ARRAY(" + sub + "))"
	}
	return col + " IN (" + sub + ")"
}

// args is n bind parameters from the first, comma-separated.
func (d Dialect) args(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.arg(from + i))
	}
	return b.String()
}

// validateStore checks what the outbox and the inbox (what) both need: a
// database, a known dialect and a table name safe to splice into SQL; field
// names the table's config field. An empty table stands for the default.
func validateStore(what, field string, db *sql.DB, d Dialect, table string) error {
	if db == nil {
		return fmt.Errorf("event: %s needs a DB", what)
	}
	if err := d.validate(); err != nil {
		return err
	}
	if table == "" {
		return nil
	}
	return checkTable(field, table)
}

// migrate runs the DDL statements of what's table, in order.
func migrate(ctx context.Context, db *sql.DB, what, table string, stmts []string) error {
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("event: create %s table %s: %w", what, table, err)
		}
	}
	return nil
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// checkTable rejects table names that are not plain (optionally
// schema-qualified) identifiers, since they are spliced into SQL text.
func checkTable(field, name string) error {
	if !identifier.MatchString(name) {
		return fmt.Errorf("event: %s %q is not a plain SQL identifier: use letters, digits and _, optionally after a schema (app.events)", field, name)
	}
	return nil
}

// bareName is the table name without its schema, for naming indexes.
func bareName(table string) string {
	if _, after, ok := strings.Cut(table, "."); ok {
		return after
	}
	return table
}
