package testkit

import (
	"testing"

	"github.com/ksuite/ksuite/third_party/kfake"
)

// ForEachClusterDB runs fn as a subtest per pairing of a cluster with a
// database: kfake with SQLite ("kfake+sqlite") and the real Kafka with
// PostgreSQL ("kafka+postgres"). Every cluster and every database is
// covered once, without the cost of every combination, for tests of
// services that need both. A missing real server is replaced by the other
// kind (the real Kafka with SQLite, or kfake with PostgreSQL); with
// neither, the second subtest is skipped, or fails under KSUITE_REQUIRE_*.
func ForEachClusterDB(t *testing.T, fn func(t *testing.T, c Cluster, db DB), opts ...kfake.Opt) {
	t.Helper()
	t.Run("kfake+sqlite", func(t *testing.T) { fn(t, NewFake(t, opts...), NewSQLite(t)) })
	t.Run("kafka+postgres", func(t *testing.T) {
		c, hasKafka := RealKafka(t)
		db, hasPG := NewPostgres(t)
		switch {
		case !hasKafka && !hasPG:
			t.Skipf("neither %s nor %s is set", EnvKafka, EnvPostgres)
		case !hasKafka:
			c = NewFake(t, opts...)
		case !hasPG:
			db = NewSQLite(t)
		}
		fn(t, c, db)
	})
}
