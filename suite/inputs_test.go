package suite_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/member"
)

// A malformed join, and a record that is no event at all, land in
// suiteroom-join.DLT with the reason, and the joins after them apply.
func TestMalformedJoinIsDeadLettered(t *testing.T) {
	forEachEnv(t, func(t *testing.T, e env) {
		a := startApp(t, e)
		ada, grace, linus := a.signUp(t, "ada"), a.signUp(t, "grace"), a.signUp(t, "linus")
		a.waitKnown(t, ada, grace, linus)
		room := a.newRoom(t, "Compilers", ada.MemberID, 5)
		key := []byte(strconv.FormatInt(room.SuiteRoomID, 10)) // one partition, in order

		bad, err := event.New(events.TopicJoin, string(key), map[string]any{
			"suiteRoomId": "abc", "authorizerDto": map[string]any{"memberId": grace.MemberID}})
		if err != nil {
			t.Fatal(err)
		}
		bad.Source = events.PaymentService
		e.kit.Publish(t, events.TopicJoin, bad)
		e.kit.PublishRaw(t, events.TopicJoin, key, []byte("payment ok for grace"))
		a.publish(t, events.TopicJoin, room.SuiteRoomID, join(room.SuiteRoomID, grace.MemberID, "grace", false))

		a.eventually(t, "the join after the bad ones applied", func() bool {
			return a.participantStatus(t, room.SuiteRoomID, grace.MemberID) == "READY"
		})
		waitDeadLetter(t, a, events.TopicJoin, bad, `suiteRoomId: "abc", want a positive integer`)
		_, reason := e.kit.WaitForDeadLetter(t, events.TopicJoin, 30*time.Second, func(r *kgo.Record) bool {
			return string(r.Value) == "payment ok for grace"
		})
		if !strings.Contains(reason, "not a CloudEvent") {
			t.Fatalf("dead letter of a non-event: reason %q", reason)
		}
		if n := a.count(t, "SELECT count(*) FROM suiteroom_participants WHERE suite_room_id = $1", room.SuiteRoomID); n != 2 {
			t.Fatalf("%d participants, want the host and grace", n)
		}
	})
}

// kcat publishes joins in the team's legacy envelope, ids and flags as
// strings, two with the same uuid (the team's ids collided): both apply.
func TestLegacyJoinFromKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (apt-get install kcat)")
	}
	forEachEnv(t, func(t *testing.T, e env) {
		a := startApp(t, e)
		ada, grace, barbara := a.signUp(t, "ada"), a.signUp(t, "grace"), a.signUp(t, "barbara")
		a.waitKnown(t, ada, grace, barbara)
		room := a.newRoom(t, "Operating systems", ada.MemberID, 5)
		var lines []string
		for _, m := range []member.Member{grace, barbara} {
			lines = append(lines, fmt.Sprintf(`{"uuid":"SuiteRoomJoinProducer/1714557600000","data":{"suiteRoomId":"%d","isHost":"false",`+
				`"authorizerDto":{"memberId":"%d","email":"%s","name":"%s","nickName":"%s","accountStatus":"ACTIVE","role":"USER"}}}`,
				room.SuiteRoomID, m.MemberID, m.Email, m.Name, m.NickName))
		}
		cmd := exec.CommandContext(testkit.Context(t, 30*time.Second), kcat, "-P", "-b", strings.Join(e.kit.Brokers(), ","),
			"-t", e.kit.Topic(events.TopicJoin), "-k", strconv.FormatInt(room.SuiteRoomID, 10))
		cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v\n%s", err, out)
		}
		a.eventually(t, "both legacy joins applied", func() bool {
			return a.participantStatus(t, room.SuiteRoomID, grace.MemberID) == "READY" &&
				a.participantStatus(t, room.SuiteRoomID, barbara.MemberID) == "READY"
		})
		var nick string
		if err := e.db.QueryRowContext(testkit.Context(t, 10*time.Second),
			"SELECT nick_name FROM suiteroom_participants WHERE member_id = $1", barbara.MemberID).Scan(&nick); err != nil || nick != "barbara" {
			t.Fatalf("nick %q, %v", nick, err)
		}
	})
}

// Joins racing for the last places — spread over every partition, applied
// by two instances of the service in one group, beside join requests
// through the API — never take more places than the room has.
func TestConcurrentJoinsNeverExceedCapacity(t *testing.T) {
	forEachEnv(t, func(t *testing.T, e env) {
		a := startApp(t, e)
		startApp(t, e, func(c *suite.Config) { c.Services = []string{suite.SuiteRoom} })
		host := a.signUp(t, "host")
		const limit, joiners = 5, 24
		ms := make([]member.Member, joiners)
		for i := range ms {
			ms[i] = a.signUp(t, fmt.Sprintf("m%02d", i))
		}
		a.waitKnown(t, append(ms, host)...)
		room := a.newRoom(t, "Distributed systems", host.MemberID, limit)
		path := "/api/suiterooms/" + strconv.FormatInt(room.SuiteRoomID, 10) + "/participants"

		var wg sync.WaitGroup
		for i, m := range ms {
			ev, err := event.New(events.TopicJoin, strconv.FormatInt(m.MemberID, 10), join(room.SuiteRoomID, m.MemberID, m.NickName, false))
			if err != nil {
				t.Fatal(err)
			}
			ev.Source = events.PaymentService
			wg.Go(func() {
				if i%3 == 0 {
					a.call(t, "POST", path, map[string]any{"memberId": m.MemberID}) // 202 or 409, both fine
				}
				e.kit.Publish(t, events.TopicJoin, ev) // keyed by member: every partition
			})
		}
		wg.Wait()
		a.consumed(t, e.kit.Prefix())
		if n := a.count(t, "SELECT count(*) FROM suiteroom_participants WHERE suite_room_id = $1", room.SuiteRoomID); n != limit {
			t.Fatalf("%d participants in a room of %d places", n, limit)
		}
		// Dead letters are at least once (a rebalance between the two
		// instances may write one twice): count events, not records.
		full := make(map[string]bool)
		for _, r := range readAll(t, a, event.DeadLetterTopic(events.TopicJoin)) {
			ev, err := event.Decode(r)
			for _, h := range r.Headers {
				if err == nil && h.Key == event.HeaderDLTError && strings.Contains(string(h.Value), "is full: 5 of 5 places taken") {
					full[ev.ID] = true
				}
			}
		}
		if len(full) != joiners-(limit-1) {
			t.Fatalf("%d joins dead-lettered as full, want %d", len(full), joiners-(limit-1))
		}
	})
}

// The API's input checks, and its problem details.
func TestAPIValidation(t *testing.T) {
	forEachEnv(t, func(t *testing.T, e env) {
		a := startApp(t, e)
		ada := a.signUp(t, "ada")
		a.waitKnown(t, ada)
		room := a.newRoom(t, "Networks", ada.MemberID, 2)
		rp := "/api/suiterooms/" + strconv.FormatInt(room.SuiteRoomID, 10)
		withRoom := func(k string, v any) map[string]any {
			b := roomBody("Room "+k, ada.MemberID, 3)
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		tests := []struct {
			name, method, path string
			body               any
			status             int
			detail             string
		}{
			{"member: no email", "POST", "/api/members", map[string]any{"name": "A", "nickName": "a"}, 400, "email is required"},
			{"member: bad email", "POST", "/api/members", member.SignUp{Email: "not-an-email", Name: "A", NickName: "a"}, 400, `email "not-an-email" is not an address`},
			{"member: display name", "POST", "/api/members", member.SignUp{Email: "Ada <ada@x.org>", Name: "A", NickName: "a"}, 400, "is not an address"},
			{"member: blank name", "POST", "/api/members", member.SignUp{Email: "b@x.org", Name: " ", NickName: "b"}, 400, "name is required"},
			{"member: long nick", "POST", "/api/members", member.SignUp{Email: "b@x.org", Name: "B", NickName: strings.Repeat("n", 51)}, 400, "nickName is longer than 50"},
			{"member: misspelt field", "POST", "/api/members", map[string]any{"email": "b@x.org", "name": "B", "nick": "b"}, 400, `unknown field "nick"`},
			{"member: case-insensitive duplicate", "POST", "/api/members", member.SignUp{Email: "ADA@example.com", Name: "A", NickName: "a"}, 409, "already exists"},
			{"member: bad id", "GET", "/api/members/abc", nil, 400, "memberId \"abc\" in the path is not a positive integer"},
			{"room: no title", "POST", "/api/suiterooms", withRoom("title", ""), 400, "title is required"},
			{"room: no host", "POST", "/api/suiterooms", withRoom("hostMemberId", nil), 400, "hostMemberId must be a positive integer"},
			{"room: limit 0", "POST", "/api/suiterooms", withRoom("recruitmentLimit", 0), 400, "recruitmentLimit must be between 1 and 1000"},
			{"room: free", "POST", "/api/suiterooms", withRoom("depositAmount", 0), 400, "depositAmount must be between 1"},
			{"room: past deadline", "POST", "/api/suiterooms", withRoom("studyDeadline", "2001-01-01"), 400, "is not in the future"},
			{"room: bad deadline", "POST", "/api/suiterooms", withRoom("studyDeadline", "soon"), 400, "studyDeadline"},
			{"room: rate 101", "POST", "/api/suiterooms", withRoom("minAttendanceRate", 101), 400, "minAttendanceRate is a percentage"},
			{"room: string limit", "POST", "/api/suiterooms", withRoom("recruitmentLimit", "3"), 400, "field recruitmentLimit"},
			{"room: unknown", "GET", "/api/suiterooms/999999", nil, 404, "suite room 999999 does not exist"},
			{"rooms: bad status", "GET", "/api/suiterooms?status=CLOSED", nil, 400, `status "CLOSED" is not one of OPEN, START, END`},
			{"rooms: bad limit", "GET", "/api/suiterooms?limit=0", nil, 400, "limit"},
			{"join: no member", "POST", rp + "/participants", map[string]any{}, 400, "memberId must be a positive integer"},
			{"join: unknown member", "POST", rp + "/participants", map[string]any{"memberId": 777777}, 422, "member 777777 is not known"},
			{"join: unknown room", "POST", "/api/suiterooms/999999/participants", map[string]any{"memberId": ada.MemberID}, 404, "does not exist"},
			{"start: host not READY", "POST", rp + "/start", nil, 409, fmt.Sprintf("these are not: %d (PLAIN)", ada.MemberID)},
			{"wrong method", "PUT", rp, nil, 405, "PUT " + rp + " is not supported; use GET"},
			{"no route", "GET", "/api/nothing", nil, 404, "no such resource"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { a.problem(t, tt.status, tt.detail, tt.method, tt.path, tt.body) })
		}
		if n := a.count(t, "SELECT count(*) FROM member_members"); n != 1 {
			t.Fatalf("%d members after invalid sign-ups, want 1", n)
		}
		if n := a.count(t, "SELECT count(*) FROM suiteroom_rooms"); n != 1 {
			t.Fatalf("%d rooms after invalid ones, want 1", n)
		}
	})
}

// /healthz answers for every service, and /metrics shows the consumers'
// and the API's measurements.
func TestHealthAndMetrics(t *testing.T) {
	forEachEnv(t, func(t *testing.T, e env) {
		a := startApp(t, e)
		ada := a.signUp(t, "ada")
		a.waitKnown(t, ada)
		var h suite.Health
		a.must(t, http.StatusOK, "GET", "/healthz", nil, &h)
		if h.Status != "ok" || h.Services["member"] != "ok" || h.Services["suiteroom"] != "ok" {
			t.Fatalf("healthz %+v", h)
		}
		wants := []string{
			`ksuite_event_records_handled_total{group="` + e.kit.Prefix() + `suiteroom-service.signup-event",topic="` + e.kit.Topic("signup-event") + `"} 1`,
			`ksuite_suite_http_request_duration_seconds_count{code="201",method="POST",route="POST /api/members"} 1`,
			`ksuite_event_outbox_backlog{table="member_outbox"}`,
			"go_goroutines",
		}
		// The member is known once its row commits; the router counts the
		// record handled only after the handler returns, a moment later.
		var missing []string
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("/metrics lacks %q", missing)
			}
		})
		a.eventually(t, "/metrics shows the sign-up handled", func() bool {
			status, body := a.call(t, "GET", "/metrics", nil)
			missing = missing[:0]
			for _, want := range wants {
				if !strings.Contains(string(body), want) {
					missing = append(missing, want)
				}
			}
			return status == http.StatusOK && len(missing) == 0
		})
	})
}
