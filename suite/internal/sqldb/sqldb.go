// Package sqldb opens the Suite services' databases — SQLite by default,
// PostgreSQL for a postgres:// URL — and runs their embedded migrations.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/event/eventpg"
)

// DefaultPath is the SQLite database the services use when no --db is given.
const DefaultPath = ".ksuite/suite.db"

// sqlitePragmas make writers wait for each other instead of failing with
// "database is locked", and keep WAL's fast commits.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// DB is an open database and its dialect.
type DB struct {
	*sql.DB
	// Dialect is event.SQLite or event.Postgres.
	Dialect event.Dialect
	// Name describes the database for logs, without a password.
	Name string

	turns Turns
}

// OutboxTx runs fn in a transaction of o (see [event.Outbox.WithTx]) for
// an API request. On SQLite requests take the one connection in arrival
// order (see [Turns]) rather than as database/sql's random hand-off lets
// them; PostgreSQL's pool serves them in parallel.
func (db *DB) OutboxTx(ctx context.Context, o *event.Outbox, fn func(*sql.Tx) error) error {
	if !db.Postgres() {
		if err := db.turns.Take(ctx); err != nil {
			return err
		}
		defer db.turns.Release()
	}
	return o.WithTx(ctx, fn)
}

// Postgres reports whether the database is PostgreSQL.
func (db *DB) Postgres() bool { return db.Dialect == event.Postgres }

// RelayWakeUp is the [event.RelayConfig.WakeUp] for o's relay: on
// PostgreSQL, LISTEN/NOTIFY (so rows another replica commits are published
// at once); nil on SQLite, whose only writers are in this process, which
// wakes the relay itself.
func (db *DB) RelayWakeUp(o *event.Outbox, log *slog.Logger) func(ctx context.Context, wake func()) {
	if !db.Postgres() {
		return nil
	}
	return eventpg.WakeUp(o, log)
}

// Open opens dsn and checks that it answers: a postgres:// or postgresql://
// URL is PostgreSQL (driver pgx); anything else is SQLite, a file path
// (its directory is created) or a file: URI.
//
// SQLite gets one connection: SQLite has one writer at a time, and on one
// connection writers queue in Go instead of sleeping in SQLite's busy
// handler (see docs/events.md). Transactions must therefore never open a
// second statement outside themselves.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		dsn = DefaultPath
	}
	var db *DB
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("--db %s: %w", Redact(dsn), err)
		}
		pool.SetMaxOpenConns(16)
		pool.SetMaxIdleConns(16)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db = &DB{DB: pool, Dialect: event.Postgres, Name: Redact(dsn)}
	} else {
		uri, path, err := sqliteURI(dsn)
		if err != nil {
			return nil, err
		}
		pool, err := sql.Open("sqlite", uri)
		if err != nil {
			return nil, fmt.Errorf("--db %s: %w", dsn, err)
		}
		pool.SetMaxOpenConns(1)
		db = &DB{DB: pool, Dialect: event.SQLite, Name: path}
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("--db %s: cannot open the database: %w", db.Name, err)
	}
	return db, nil
}

// sqliteURI turns a path or file: URI into the URI modernc.org/sqlite
// opens, with the services' pragmas unless the URI sets its own, and
// creates the file's directory.
func sqliteURI(dsn string) (uri, path string, err error) {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" {
		return "", "", fmt.Errorf("--db %q names no SQLite file: give a path such as %s or a postgres:// URL", dsn, DefaultPath)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", "", fmt.Errorf("--db %s: %w", path, err)
		}
	}
	if query == "" {
		query = sqlitePragmas
	}
	return "file:" + path + "?" + query, path, nil
}

// Redact hides the password of a database URL.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsSerialization reports whether err is a transaction conflict that a
// retry resolves: PostgreSQL's serialization failure or deadlock.
func IsSerialization(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// Params is n bind parameters from the from-th: "$3,$4,$5" on PostgreSQL,
// "?,?,?" on SQLite. Both dialects read $N, and the services' statements
// use it; but SQLite takes $N for a name and looks each one up in a list,
// so a statement of thousands of them spends its time in those lookups:
// multi-row statements use Params, whose SQLite form must then be written
// in order.
func (db *DB) Params(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if db.Postgres() {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(from + i))
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// Migrate applies the migrations of fsys not yet recorded in table, in
// name order, each in its own transaction with its record. The files are
// <dialect>/NNNN_what.sql ("sqlite/0001_init.sql"). Concurrent starts of
// the same service are safe: on PostgreSQL an advisory lock serialises
// them, on SQLite the write transaction does.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS, table string) error {
	dir := db.Dialect.String()
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("no migrations for %s: want files named %s/NNNN_what.sql", dir, dir)
	}
	slices.Sort(names)
	create := "CREATE TABLE IF NOT EXISTS " + table + " (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
	if err := db.locked(ctx, table, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, create)
		return err
	}); err != nil {
		return fmt.Errorf("migrations table %s: %w", table, err)
	}
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		ddl, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if err := db.migrate(ctx, table, version, string(ddl)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrate(ctx context.Context, table, version, ddl string) error {
	return db.locked(ctx, table, func(tx *sql.Tx) error {
		var done int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE version = $1", version).Scan(&done); err != nil {
			return err
		}
		if done > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (version) VALUES ($1)", version)
		return err
	})
}

// locked runs fn in a transaction that holds the migration lock of table:
// PostgreSQL's DDL is not safe against a concurrent copy of itself (two
// CREATE TABLE IF NOT EXISTS can both try), so starts take turns.
func (db *DB) locked(ctx context.Context, table string, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if db.Postgres() {
		h := fnv.New64a()
		h.Write([]byte(table))
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
