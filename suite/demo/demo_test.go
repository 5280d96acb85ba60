package demo_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/ksuitetest"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/suite/demo"
	"github.com/ksuite/ksuite/suite/events"
)

// The driver runs the whole saga against the services: every step of it
// happens, nothing fails, and the rooms never hold more than they may.
func TestDemoDrivesTheSaga(t *testing.T) {
	testkit.ForEachClusterDB(t, func(t *testing.T, c testkit.Cluster, db testkit.DB) {
		var kit *ksuitetest.Kafka
		if c.Real {
			kit = ksuitetest.Attach(t, c.Brokers, ksuitetest.TopicsFile("../../topics.yaml"))
		} else {
			kit = ksuitetest.Start(t, ksuitetest.TopicsFile("../../topics.yaml"))
		}
		log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		srv, err := suite.Start(testkit.Context(t, time.Minute), suite.Config{ClientOpts: kit.ClientOpts(), DB: db.DSN,
			Listen: "127.0.0.1:0", TopicPrefix: kit.Prefix(), Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)

		d, err := demo.New(demo.Config{
			ClientOpts: kit.ClientOpts(), API: srv.URL(), TopicPrefix: kit.Prefix(),
			Rate: 150, RoomLifetime: 200 * time.Millisecond,
			RefundFailureRate: 0.5, ContractFailureRate: 0.5, Logger: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		missing := func(s demo.Stats) string {
			for name, n := range map[string]int64{
				"signups": s.Signups, "rooms": s.Rooms, "join requests": s.JoinRequests, "payments": s.Payments,
				"leaves": s.Leaves, "refunds": s.Refunds, "refund failures": s.RefundFailures, "starts": s.Starts,
				"contracts": s.Contracts, "contract failures": s.ContractFailures, "honours": s.Honours, "terminations": s.Terminations,
			} {
				if n < 2 {
					return name
				}
			}
			return ""
		}
		ksuitetest.Eventually(t, 90*time.Second, "every step of the saga, twice", func() bool { return missing(d.Stats()) == "" })
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		stats := d.Stats()
		t.Logf("%+v", stats)
		if stats.Errors != 0 {
			t.Errorf("%d API calls failed", stats.Errors)
		}
		for _, topic := range events.Consumes(events.SuiteRoomService) {
			kit.WaitConsumed(t, kit.Prefix()+events.Group(events.SuiteRoomService, topic), time.Minute, topic)
		}
		ctx = testkit.Context(t, 10*time.Second)
		var over, terminated int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM suiteroom_rooms r WHERE r.recruitment_limit <
			(SELECT count(*) FROM suiteroom_participants p WHERE p.suite_room_id = r.suite_room_id)`).Scan(&over); err != nil || over != 0 {
			t.Errorf("%d rooms over capacity (%v)", over, err)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM suiteroom_terminated").Scan(&terminated); err != nil || terminated != stats.Terminations {
			t.Errorf("%d rooms terminated in the database, %d terminations published (%v)", terminated, stats.Terminations, err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	if _, err := demo.New(demo.Config{}); err == nil {
		t.Fatal("a config without Kafka passed")
	}
	d, err := demo.New(demo.Config{ClientOpts: ksuitetest.Start(t).ClientOpts(), API: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "cannot reach the Suite API at http://127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}
