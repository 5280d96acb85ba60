package testkit

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The SQL drivers are not imported here, so the many test binaries that use
// testkit only for Kafka do not link them. A test using the DB helpers
// imports them itself:
//
//	import (
//		_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
//		_ "modernc.org/sqlite"              // driver "sqlite"
//	)

// needDriver fails the test when the driver is not linked in.
func needDriver(t testing.TB, name, module string) {
	t.Helper()
	if !slices.Contains(sql.Drivers(), name) {
		t.Fatalf("SQL driver %q is not registered: add `import _ %q` to the test", name, module)
	}
}

// Environment variables for the PostgreSQL test database.
const (
	// EnvPostgres holds a PostgreSQL DSN (postgres://user@host:port/db?...).
	EnvPostgres = "KSUITE_TEST_POSTGRES"
	// EnvRequirePostgres makes a missing PostgreSQL a test failure.
	EnvRequirePostgres = "KSUITE_REQUIRE_POSTGRES"
)

// DB is one SQL database a test runs against, empty when the test starts
// and dropped when it ends.
type DB struct {
	// Name is "sqlite" or "postgres"; it names the subtest.
	Name string
	// Driver is the database/sql driver name: "sqlite" or "pgx".
	Driver string
	// DSN opens another pool on the same database.
	DSN string
	// DB is an open pool, closed when the test ends.
	*sql.DB
}

// Postgres reports whether the database is PostgreSQL (else SQLite).
func (d DB) Postgres() bool { return d.Name == "postgres" }

// DBs returns the databases a test must run against: a fresh SQLite file
// and, when KSUITE_TEST_POSTGRES is set, a fresh schema in that PostgreSQL.
func DBs(t testing.TB) []DB {
	t.Helper()
	out := []DB{NewSQLite(t)}
	if pg, ok := NewPostgres(t); ok {
		out = append(out, pg)
	}
	return out
}

// ForEachDB runs fn as a subtest per database of [DBs].
func ForEachDB(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	for _, db := range DBs(t) {
		t.Run(db.Name, func(t *testing.T) { fn(t, db) })
	}
}

// NewSQLite opens a new SQLite database file in the test's temp dir, in WAL
// mode with a busy timeout and immediate write transactions, so concurrent
// writers wait instead of failing with "database is locked".
func NewSQLite(t testing.TB) DB {
	t.Helper()
	needDriver(t, "sqlite", "modernc.org/sqlite")
	path := filepath.Join(t.TempDir(), "test.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return DB{Name: "sqlite", Driver: "sqlite", DSN: dsn, DB: db}
}

// NewPostgres creates a schema unique to the test in the database named by
// KSUITE_TEST_POSTGRES and returns a pool whose search_path is that schema;
// the schema is dropped when the test ends. Without the variable it returns
// false, or fails the test when KSUITE_REQUIRE_POSTGRES=1.
func NewPostgres(t testing.TB) (DB, bool) {
	t.Helper()
	base := requiredEnv(t, EnvPostgres, EnvRequirePostgres, "start PostgreSQL with test/postgres/pg.sh up")
	if base == "" {
		return DB{}, false
	}
	needDriver(t, "pgx", "github.com/jackc/pgx/v5/stdlib")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	schema := "t_" + RandomSuffix() + RandomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL DSN: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn := u.String()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres schema: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return DB{Name: "postgres", Driver: "pgx", DSN: dsn, DB: db}, true
}
