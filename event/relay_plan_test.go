package event

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestRelayReadCostsTheBacklogNotTheSentRows: the sent rows an outbox keeps
// (KeepSent, a week by default) must not make a relay's reads slower. With
// 200,000 sent rows and 300 queued, the PostgreSQL read a session starts
// with, planned generically as pgx's cached statements are, may only
// visit queued rows.
func TestRelayReadCostsTheBacklogNotTheSentRows(t *testing.T) {
	pg, ok := testkit.NewPostgres(t)
	if !ok {
		t.Skip("needs PostgreSQL (" + testkit.EnvPostgres + ")")
	}
	ctx := testkit.Context(t, time.Minute)
	table := "outbox_plan_" + testkit.RandomSuffix()
	o, err := NewOutbox(OutboxConfig{DB: pg.DB, Dialect: Postgres, Table: table, Source: "member-service"})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pg.ExecContext(testkit.Context(t, 10*time.Second), "DROP TABLE "+table) })
	fill := func(sentAt, n string) string {
		return "INSERT INTO " + table + " (topic, record_key, value, shard, sent_at) SELECT 't', convert_to((g % 500)::text, 'UTF8'), '\\x00', g % 16, " +
			sentAt + " FROM generate_series(1, " + n + ") g"
	}
	for _, stmt := range []string{
		fill("now()", "200000"),
		fill("NULL", "300"),
		"ANALYZE " + table,
	} {
		if _, err := pg.ExecContext(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	r := &Relay{o: o}
	conn, err := pg.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range []string{
		"SET plan_cache_mode = force_generic_plan",
		"PREPARE relay_read(int[], bigint, bigint[], bigint, int) AS " + r.postgresLoad(),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(stmt, err)
		}
	}
	defer conn.ExecContext(ctx, "DEALLOCATE relay_read; RESET plan_cache_mode") //nolint:errcheck // the connection is closed next
	// A session's first read: all shards, no cursor, no floor yet.
	var plan []byte
	if err := conn.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE relay_read('{0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}', 0, '{}', 0, 500)").Scan(&plan); err != nil {
		t.Fatal(err)
	}
	var root []struct{ Plan planNode }
	if err := json.Unmarshal(plan, &root); err != nil || len(root) != 1 {
		t.Fatalf("EXPLAIN: %v\n%s", err, plan)
	}
	if visited := root[0].Plan.visited(); visited > 10000 {
		t.Errorf("the read visited %.0f rows for 300 queued among 200,000 sent; plan:\n%s", visited, plan)
	}
}

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON).
type planNode struct {
	NodeType      string     `json:"Node Type"`
	ActualRows    float64    `json:"Actual Rows"`
	ActualLoops   float64    `json:"Actual Loops"`
	RemovedFilter float64    `json:"Rows Removed by Filter"`
	Plans         []planNode `json:"Plans"`
}

// visited counts the rows the plan's scans read: those they returned and
// those their filters threw away, over all loops.
func (n planNode) visited() float64 {
	v := 0.0
	if len(n.Plans) == 0 {
		v = (n.ActualRows + n.RemovedFilter) * max(n.ActualLoops, 1)
	}
	for _, c := range n.Plans {
		v += c.visited()
	}
	return v
}
