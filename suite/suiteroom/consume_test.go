package suiteroom

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/internal/sqldb"
)

// These tests drive the consumers' handlers directly, without Kafka: the
// router's part is covered end to end in package suite.

// newTestService is a service on the test database whose Kafka is never
// reached (nothing here relays or consumes).
func newTestService(t *testing.T, tdb testkit.DB) *Service {
	t.Helper()
	ctx := testkit.Context(t, 30*time.Second)
	db, err := sqldb.Open(ctx, tdb.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(ctx, Config{DB: db.DB, Dialect: db.Dialect, ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var offsets atomic.Int64

// msg is a consumed event of topic, as the router hands it over.
func msg(t *testing.T, topic string, data any) *event.Message {
	t.Helper()
	ev, err := event.New(topic, "k", data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Source = "test"
	return &event.Message{Event: ev, Group: "g", Record: &kgo.Record{Topic: topic, Offset: offsets.Add(1)}}
}

// apply runs topic's handler on msgs in one batch.
func apply(t *testing.T, s *Service, topic string, msgs ...*event.Message) error {
	t.Helper()
	return s.handler(topic)(testkit.Context(t, 30*time.Second), msgs)
}

func mustApply(t *testing.T, s *Service, topic string, msgs ...*event.Message) {
	t.Helper()
	if err := apply(t, s, topic, msgs...); err != nil {
		t.Fatalf("%s: %v", topic, err)
	}
}

// seed adds members 1..n to the directory and returns a room hosted by
// member 1 with limit places.
func seed(t *testing.T, s *Service, n, limit int) int64 {
	t.Helper()
	var signups []*event.Message
	for i := 1; i <= n; i++ {
		signups = append(signups, msg(t, events.TopicSignup, events.Signup{MemberID: events.ID(i),
			Email: fmt.Sprintf("m%d@example.com", i), Name: fmt.Sprintf("M %d", i), NickName: fmt.Sprintf("m%d", i)}))
	}
	mustApply(t, s, events.TopicSignup, signups...)
	room, err := s.createRoom(testkit.Context(t, 30*time.Second), NewRoom{Title: "Room " + testkit.RandomSuffix(), Subject: "s",
		HostMemberID: 1, RecruitmentLimit: limit, DepositAmount: 100, StudyDeadline: events.Time{Time: time.Now().AddDate(0, 1, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return room.SuiteRoomID
}

func joinOf(room, member int64, host bool) events.Join {
	return events.Join{SuiteRoomID: events.ID(room), IsHost: events.Bool(host), AuthorizerDto: events.Authorizer{MemberID: events.ID(member), NickName: "n" + strconv.FormatInt(member, 10)}}
}

// members is room's participants as "member:status" in member order.
func members(t *testing.T, s *Service, room int64) string {
	t.Helper()
	rows, err := s.db.QueryContext(testkit.Context(t, 10*time.Second),
		"SELECT member_id, status FROM suiteroom_participants WHERE suite_room_id = $1 ORDER BY member_id", room)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m int64
		var st string
		if err := rows.Scan(&m, &st); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d:%s", m, st))
	}
	return strings.Join(out, " ")
}

func TestJoinDecisions(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		s := newTestService(t, db)
		tests := []struct {
			name  string
			limit int
			// before are applied first, one batch each; then batch as one.
			before  []events.Join
			batch   []events.Join
			topic   string
			want    string // participants after
			wantErr string
		}{
			{name: "host paid", limit: 3, batch: []events.Join{joinOf(0, 1, true)}, want: "1:READY"},
			{name: "members join in one batch", limit: 3, batch: []events.Join{joinOf(0, 2, false), joinOf(0, 3, false)}, want: "1:PLAIN 2:READY 3:READY"},
			{name: "a second join of a member changes nothing", limit: 3, before: []events.Join{joinOf(0, 2, false)},
				batch: []events.Join{joinOf(0, 2, false)}, want: "1:PLAIN 2:READY"},
			{name: "a host paying twice stays READY", limit: 3, before: []events.Join{joinOf(0, 1, true)}, batch: []events.Join{joinOf(0, 1, true)}, want: "1:READY"},
			{name: "full", limit: 2, before: []events.Join{joinOf(0, 2, false)}, batch: []events.Join{joinOf(0, 3, false)},
				want: "1:PLAIN 2:READY", wantErr: "is full: 2 of 2 places taken"},
			{name: "full within the batch rolls the batch back", limit: 2, batch: []events.Join{joinOf(0, 2, false), joinOf(0, 3, false)},
				want: "1:PLAIN", wantErr: "is full: 2 of 2 places taken"},
			{name: "not the host", limit: 3, batch: []events.Join{joinOf(0, 2, true)}, want: "1:PLAIN", wantErr: "member 2 is not the host"},
			{name: "unknown room", limit: 3, batch: []events.Join{joinOf(999999, 2, false)}, want: "1:PLAIN", wantErr: "suite room 999999 does not exist"},
			{name: "refund failed: restored", limit: 3, topic: events.TopicCancelJoinError, batch: []events.Join{joinOf(0, 2, false)}, want: "1:PLAIN 2:READY"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				room := seed(t, s, 4, tt.limit)
				topic := tt.topic
				if topic == "" {
					topic = events.TopicJoin
				}
				fix := func(j events.Join) events.Join {
					if j.SuiteRoomID == 0 {
						j.SuiteRoomID = events.ID(room)
					}
					return j
				}
				for _, j := range tt.before {
					mustApply(t, s, topic, msg(t, topic, fix(j)))
				}
				var batch []*event.Message
				for _, j := range tt.batch {
					batch = append(batch, msg(t, topic, fix(j)))
				}
				err := apply(t, s, topic, batch...)
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !event.IsPermanent(err)) {
					t.Fatalf("err = %v, want %q (permanent)", err, tt.wantErr)
				}
				if got := members(t, s, room); got != tt.want {
					t.Fatalf("participants %q, want %q", got, tt.want)
				}
			})
		}
	})
}

func TestRoomEvents(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		s := newTestService(t, db)
		ctx := testkit.Context(t, 30*time.Second)
		room := seed(t, s, 3, 3)
		ref := events.RoomRef{SuiteRoomID: events.ID(room)}
		status := func() string {
			r, err := s.room(ctx, room)
			if err != nil {
				return err.Error()
			}
			return r.Status + " " + members(t, s, room)
		}
		mustApply(t, s, events.TopicJoin, msg(t, events.TopicJoin, joinOf(room, 1, true)), msg(t, events.TopicJoin, joinOf(room, 2, false)))
		if _, err := s.start(ctx, room); err != nil {
			t.Fatal(err)
		}
		if got := status(); got != "START 1:START 2:START" {
			t.Fatalf("after start: %s", got)
		}
		// Two start-errors in one batch: the second finds it reverted.
		mustApply(t, s, events.TopicStartError, msg(t, events.TopicStartError, ref), msg(t, events.TopicStartError, ref))
		if got := status(); got != "OPEN 1:READY 2:READY" {
			t.Fatalf("after start-error: %s", got)
		}
		mustApply(t, s, events.TopicHallOfFame, msg(t, events.TopicHallOfFame, events.HallOfFameSelection{SuiteRoomID: events.ID(room), HonorPoint: 42}))
		if r, _ := s.room(ctx, room); r.HonorPoint != 42 {
			t.Fatalf("honour points %d", r.HonorPoint)
		}
		mustApply(t, s, events.TopicTerminateComplete, msg(t, events.TopicTerminateComplete, ref), msg(t, events.TopicTerminateComplete, ref))
		if got := status(); got != fmt.Sprintf("suite room %d was terminated", room) {
			t.Fatalf("after terminate: %q", got)
		}
		rejects := []struct {
			topic string
			data  any
			want  string
		}{
			{events.TopicStartError, ref, "was terminated"},
			{events.TopicStartError, events.RoomRef{SuiteRoomID: 999999}, "suite room 999999 does not exist"},
			{events.TopicTerminateComplete, events.RoomRef{SuiteRoomID: 999999}, "suite room 999999 does not exist"},
			{events.TopicHallOfFame, events.HallOfFameSelection{SuiteRoomID: events.ID(room), HonorPoint: 1}, "was terminated"},
			{events.TopicJoin, joinOf(room, 3, false), "was terminated"},
			{events.TopicHallOfFame, map[string]any{"suiteRoomId": room}, "missing required field: honorPoint"},
			{events.TopicSignup, map[string]any{"memberId": "x"}, `memberId: "x", want a positive integer`},
		}
		for _, r := range rejects {
			err := apply(t, s, r.topic, msg(t, r.topic, r.data))
			if err == nil || !strings.Contains(err.Error(), r.want) || !event.IsPermanent(err) {
				t.Errorf("%s %v: err = %v, want permanent %q", r.topic, r.data, err, r.want)
			}
		}
		// A start-error for a room still OPEN changes nothing.
		open := seed(t, s, 3, 3)
		mustApply(t, s, events.TopicStartError, msg(t, events.TopicStartError, events.RoomRef{SuiteRoomID: events.ID(open)}))
		if r, _ := s.room(ctx, open); r.Status != RoomOpen {
			t.Fatalf("status %s", r.Status)
		}
	})
}

// Joins racing from many transactions — several service instances (pools),
// many at once each, over several rooms — never fill more places than a
// room has.
func TestConcurrentJoinsRespectCapacity(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		const limit, instances, rooms, joiners = 5, 4, 8, 30
		services := make([]*Service, instances)
		handlers := make([]event.BatchHandlerFunc, instances)
		for i := range services {
			services[i] = newTestService(t, db)
			handlers[i] = services[i].handler(events.TopicJoin)
		}
		ids := make([]int64, rooms)
		for r := range ids {
			ids[r] = seed(t, services[0], joiners+1, limit)
		}
		ctx := testkit.Context(t, 2*time.Minute)
		var (
			wg         sync.WaitGroup
			applied    atomic.Int32
			start      = make(chan struct{})
			unexpected = make(chan error, rooms*joiners)
		)
		for i := range rooms * joiners {
			room, m := ids[i%rooms], int64(2+i/rooms)
			wg.Go(func() {
				<-start
				err := handlers[i%instances](ctx, []*event.Message{msg(t, events.TopicJoin, joinOf(room, m, false))})
				switch {
				case err == nil:
					applied.Add(1)
				case strings.Contains(err.Error(), "is full"), sqldb.IsSerialization(err):
					// Refused, or a deadlock the router would retry.
				default:
					unexpected <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(unexpected)
		for err := range unexpected {
			t.Errorf("join: %v", err)
		}
		for _, room := range ids {
			var n int
			if err := services[0].db.QueryRowContext(ctx, "SELECT count(*) FROM suiteroom_participants WHERE suite_room_id = $1", room).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != limit {
				t.Errorf("room %d: %d participants, want %d", room, n, limit)
			}
		}
		if want := rooms * (limit - 1); int(applied.Load()) != want {
			t.Errorf("%d joins applied, want %d", applied.Load(), want)
		}
	})
}

// A join request the room could not answer (it filled up, or started)
// does not block the member's next request once the room takes
// participants again: that request publishes a new deposit-payment.
func TestUnansweredJoinRequestDoesNotBlockTheNextOne(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		s := newTestService(t, db)
		ctx := testkit.Context(t, 30*time.Second)
		deposits := func() int {
			var n int
			if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+OutboxTable+" WHERE topic = $1", events.TopicDepositPayment).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		request := func(room, member int64) {
			t.Helper()
			if _, err := s.requestJoin(ctx, room, member); err != nil {
				t.Fatalf("member %d asks to join room %d: %v", member, room, err)
			}
		}
		asksAgain := func(room, member int64) {
			t.Helper()
			before := deposits()
			request(room, member)
			if got := deposits(); got != before+1 {
				t.Fatalf("member %d asks again to join room %d: %d deposit-payment(s) published, want 1", member, room, got-before)
			}
		}

		// Full: members 2 and 3 ask for the one place; 2 pays first.
		full := seed(t, s, 3, 2)
		request(full, 2)
		request(full, 3)
		mustApply(t, s, events.TopicJoin, msg(t, events.TopicJoin, joinOf(full, 2, false)))
		if err := apply(t, s, events.TopicJoin, msg(t, events.TopicJoin, joinOf(full, 3, false))); err == nil || !strings.Contains(err.Error(), "is full") {
			t.Fatalf("join of a full room: %v", err)
		}
		if err := s.leave(ctx, full, 2); err != nil {
			t.Fatal(err)
		}
		asksAgain(full, 3)

		// Started: member 2's payment arrives after the start, which a
		// contract failure then reverts.
		started := seed(t, s, 3, 3)
		mustApply(t, s, events.TopicJoin, msg(t, events.TopicJoin, joinOf(started, 1, true)))
		request(started, 2)
		if _, err := s.start(ctx, started); err != nil {
			t.Fatal(err)
		}
		if err := apply(t, s, events.TopicJoin, msg(t, events.TopicJoin, joinOf(started, 2, false))); err == nil || !strings.Contains(err.Error(), "is START") {
			t.Fatalf("join of a started room: %v", err)
		}
		mustApply(t, s, events.TopicStartError, msg(t, events.TopicStartError, events.RoomRef{SuiteRoomID: events.ID(started)}))
		asksAgain(started, 2)
	})
}
