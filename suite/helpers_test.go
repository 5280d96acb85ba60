package suite_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/ksuitetest"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/member"
	"github.com/ksuite/ksuite/suite/suiteroom"
)

const repoTopics = "../topics.yaml"

// env is one cluster and one database the services run on.
type env struct {
	kit *ksuitetest.Kafka
	db  testkit.DB
}

// forEachEnv runs fn on kfake with SQLite and on the real Kafka with
// PostgreSQL, the topics of the repository's topics.yaml applied: on its
// own embedded cluster (ksuitetest.Start, what `ksuite up` runs), or on the
// shared real one under a prefix unique to the test (ksuitetest.Attach).
func forEachEnv(t *testing.T, fn func(t *testing.T, e env)) {
	t.Helper()
	testkit.ForEachClusterDB(t, func(t *testing.T, c testkit.Cluster, db testkit.DB) {
		if c.Real {
			fn(t, env{kit: ksuitetest.Attach(t, c.Brokers, ksuitetest.TopicsFile(repoTopics)), db: db})
			return
		}
		fn(t, env{kit: ksuitetest.Start(t, ksuitetest.TopicsFile(repoTopics)), db: db})
	})
}

// app is the services running for a test.
type app struct {
	*suite.Server
	e env
}

// startApp starts the services on e; tune adjusts the config.
func startApp(t *testing.T, e env, tune ...func(*suite.Config)) *app {
	t.Helper()
	cfg := suite.Config{
		ClientOpts:  e.kit.ClientOpts(),
		DB:          e.db.DSN,
		Listen:      "127.0.0.1:0",
		TopicPrefix: e.kit.Prefix(),
		MaxBatch:    50,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, f := range tune {
		f(&cfg)
	}
	s, err := suite.Start(testkit.Context(t, time.Minute), cfg)
	if err != nil {
		t.Fatalf("start the services: %v", err)
	}
	t.Cleanup(s.Close)
	return &app{Server: s, e: e}
}

// call sends a JSON request and returns the status and body.
func (a *app) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(testkit.Context(t, 30*time.Second), method, a.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s %s: %d with content type %q, want application/problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

// must sends a request that must answer want, and decodes the body into out.
func (a *app) must(t *testing.T, want int, method, path string, body, out any) {
	t.Helper()
	code, b := a.call(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// problem sends a request that must fail with status and a detail that
// contains detail.
func (a *app) problem(t *testing.T, status int, detail, method, path string, body any) {
	t.Helper()
	code, b := a.call(t, method, path, body)
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(b, &p); err != nil || code != status || p.Status != status || !strings.Contains(p.Detail, detail) {
		t.Fatalf("%s %s: %d %s, want %d with detail containing %q", method, path, code, b, status, detail)
	}
}

// signUp creates a member through the API.
func (a *app) signUp(t *testing.T, nick string) member.Member {
	t.Helper()
	var m member.Member
	a.must(t, http.StatusCreated, "POST", "/api/members",
		member.SignUp{Email: nick + "@example.com", Name: strings.ToUpper(nick[:1]) + nick[1:], NickName: nick}, &m)
	return m
}

// waitKnown waits until the suite-room service knows the members.
func (a *app) waitKnown(t *testing.T, ms ...member.Member) {
	t.Helper()
	for _, m := range ms {
		a.eventually(t, fmt.Sprintf("member %d in the suite-room directory", m.MemberID), func() bool {
			return a.count(t, "SELECT count(*) FROM suiteroom_members WHERE member_id = $1", m.MemberID) == 1
		})
	}
}

// newRoom creates a room hosted by host with limit places.
func (a *app) newRoom(t *testing.T, title string, host int64, limit int) suiteroom.Room {
	t.Helper()
	var r suiteroom.Room
	a.must(t, http.StatusCreated, "POST", "/api/suiterooms", roomBody(title, host, limit), &r)
	return r
}

func roomBody(title string, host int64, limit int) map[string]any {
	return map[string]any{
		"title": title, "content": "Weekly problems", "subject": "algorithms", "hostMemberId": host,
		"recruitmentLimit": limit, "depositAmount": 10000, "studyDeadline": time.Now().AddDate(0, 2, 0).Format(time.RFC3339),
		"minAttendanceRate": 80, "minMissionCompleteRate": 70,
	}
}

// eventually waits up to 30s for an effect.
func (a *app) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ksuitetest.Eventually(t, 30*time.Second, what, cond)
}

// count runs a count query on the test's own pool.
func (a *app) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.e.db.QueryRowContext(testkit.Context(t, 10*time.Second), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// participantStatus is member's status in room, "" when not a participant.
func (a *app) participantStatus(t *testing.T, room, member int64) string {
	t.Helper()
	var s string
	err := a.e.db.QueryRowContext(testkit.Context(t, 10*time.Second),
		"SELECT status FROM suiteroom_participants WHERE suite_room_id = $1 AND member_id = $2", room, member).Scan(&s)
	if err != nil {
		return ""
	}
	return s
}

// roomStatus is room's status, "" when it does not exist.
func (a *app) roomStatus(t *testing.T, room int64) string {
	t.Helper()
	var s string
	err := a.e.db.QueryRowContext(testkit.Context(t, 10*time.Second),
		"SELECT status FROM suiteroom_rooms WHERE suite_room_id = $1", room).Scan(&s)
	if err != nil {
		return ""
	}
	return s
}

// snapshot is the suite-room service's business state as text: every row
// of its tables but the inbox and outbox, in key order.
func (a *app) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT member_id, email, name, nick_name FROM suiteroom_members ORDER BY member_id",
		"SELECT suite_room_id, title, status, honor_point, recruitment_limit FROM suiteroom_rooms ORDER BY suite_room_id",
		"SELECT suite_room_id, member_id, nick_name, is_host, status FROM suiteroom_participants ORDER BY suite_room_id, member_id",
		"SELECT suite_room_id, member_id FROM suiteroom_join_requests ORDER BY suite_room_id, member_id",
		"SELECT suite_room_id FROM suiteroom_terminated ORDER BY suite_room_id",
		"SELECT member_id, email FROM member_members ORDER BY member_id",
	} {
		rows, err := a.e.db.QueryContext(testkit.Context(t, 10*time.Second), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// join is the data of suiteroom-join / suiteroom-canceljoin-error.
func join(room, member int64, nick string, host bool) events.Join {
	return events.Join{SuiteRoomID: events.ID(room), IsHost: events.Bool(host),
		AuthorizerDto: events.Authorizer{MemberID: events.ID(member), NickName: nick, AccountStatus: "ACTIVE", Role: "USER"}}
}

// publish publishes one event of topic about room, as its producer would.
func (a *app) publish(t *testing.T, topic string, room int64, data any) *event.Event {
	t.Helper()
	ev, err := event.New(topic, events.ID(room).String(), data)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := events.Lookup(topic)
	ev.Source = spec.Producer
	a.e.kit.Publish(t, topic, ev)
	return ev
}

// consumed waits until the suite-room service's groups have handled
// everything published to their topics so far.
func (a *app) consumed(t *testing.T, groupPrefix string) {
	t.Helper()
	for _, topic := range events.Consumes(events.SuiteRoomService) {
		a.e.kit.WaitConsumed(t, groupPrefix+events.Group(events.SuiteRoomService, topic), time.Minute, topic)
	}
}
