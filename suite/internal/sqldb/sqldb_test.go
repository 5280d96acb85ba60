package sqldb

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
)

func migrations() fstest.MapFS {
	return fstest.MapFS{
		"sqlite/0001_init.sql":     {Data: []byte("CREATE TABLE things (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);\nCREATE INDEX things_name ON things (name);")},
		"sqlite/0002_more.sql":     {Data: []byte("ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0;")},
		"postgres/0001_init.sql":   {Data: []byte("CREATE TABLE things (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);\nCREATE INDEX things_name ON things (name);")},
		"postgres/0002_more.sql":   {Data: []byte("ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0;")},
		"postgres/README":          {Data: []byte("not a migration")},
		"other/0001_ignored.sql":   {Data: []byte("THIS IS NOT SQL")},
		"sqlite/0003_comments.sql": {Data: []byte("-- nothing but a comment\nSELECT 1;")},
	}
}

func TestMigrateOnceAndConcurrently(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, tdb testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		db, err := Open(ctx, tdb.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		wantDialect := event.SQLite
		if tdb.Postgres() {
			wantDialect = event.Postgres
		}
		if db.Dialect != wantDialect {
			t.Fatalf("dialect %v, want %v", db.Dialect, wantDialect)
		}
		// Two services starting at once, then a restart.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = db.Migrate(ctx, migrations(), "things_migrations") })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, migrations(), "things_migrations"); err != nil {
			t.Fatalf("second run: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM things_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		want := 2
		if !tdb.Postgres() {
			want = 3
		}
		if n != want {
			t.Fatalf("%d migrations recorded, want %d", n, want)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO things (name, size) VALUES ($1, $2)", "a", 1); err != nil {
			t.Fatal(err)
		}
		_, err = db.ExecContext(ctx, "INSERT INTO things (name) VALUES ($1)", "a")
		if !IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v, want a unique violation", err)
		}
		if IsUniqueViolation(errors.New("UNIQUE constraint failed")) {
			t.Fatal("a plain error is not a unique violation")
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, tdb testkit.DB) {
		ctx := testkit.Context(t, 30*time.Second)
		db, err := Open(ctx, tdb.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		bad := migrations()
		bad[db.Dialect.String()+"/0002_more.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE things ADD COLUMN size INTEGER;\nALTER TABLE nope ADD COLUMN x INTEGER;")}
		err = db.Migrate(ctx, bad, "m")
		if err == nil || !strings.Contains(err.Error(), "0002_more.sql") {
			t.Fatalf("err = %v, want the failing migration named", err)
		}
		// The good migration stays; the bad one left nothing behind and
		// applies once fixed.
		if err := db.Migrate(ctx, migrations(), "m"); err != nil {
			t.Fatalf("after fixing: %v", err)
		}
	})
}

func TestOpenSQLitePath(t *testing.T) {
	ctx := testkit.Context(t, 30*time.Second)
	path := filepath.Join(t.TempDir(), "nested", "dir", "suite.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q, %v; want wal", mode, err)
	}
	if db.Name != path || db.Postgres() || db.Stats().MaxOpenConnections != 1 {
		t.Fatalf("db %s postgres=%v max conns %d", db.Name, db.Postgres(), db.Stats().MaxOpenConnections)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := testkit.Context(t, 30*time.Second)
	_, err := Open(ctx, "postgres://nobody:secret@127.0.0.1:1/x?connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "--db postgres://nobody:xxxxx@127.0.0.1:1/x") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v, want the redacted URL named", err)
	}
	if _, err := Open(ctx, "file:?mode=memory"); err == nil || !strings.Contains(err.Error(), "names no SQLite file") {
		t.Fatalf("err = %v", err)
	}
}

func TestParams(t *testing.T) {
	pg, lite := &DB{Dialect: event.Postgres}, &DB{Dialect: event.SQLite}
	if got := pg.Params(3, 3); got != "$3,$4,$5" {
		t.Fatal(got)
	}
	if got := lite.Params(3, 3); got != "?,?,?" {
		t.Fatal(got)
	}
	if got := pg.Params(1, 0); got != "" {
		t.Fatal(got)
	}
}

func TestMigrateWithoutFiles(t *testing.T) {
	db, err := Open(testkit.Context(t, 10*time.Second), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Migrate(testkit.Context(t, 10*time.Second), fstest.MapFS{"postgres/0001.sql": {}}, "m")
	if err == nil || !strings.Contains(err.Error(), "no migrations for sqlite") {
		t.Fatalf("err = %v", err)
	}
}
