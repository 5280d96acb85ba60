package suite_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/member"
	"github.com/ksuite/ksuite/suite/suiteroom"
)

// The whole saga through the API and the events, the test playing the
// payment, contract, hall-of-fame and settlement services, with the
// database checked after every step; then every event delivered again,
// and every topic replayed from offset 0 into fresh consumer groups,
// leave the state as it was.
func TestSaga(t *testing.T) {
	forEachEnv(t, func(t *testing.T, e env) {
		a := startApp(t, e)
		kit := e.kit

		// Sign-up: the member service stores the member and publishes it.
		ada, grace, barbara, linus := a.signUp(t, "ada"), a.signUp(t, "grace"), a.signUp(t, "barbara"), a.signUp(t, "linus")
		if a.count(t, "SELECT count(*) FROM member_members") != 4 {
			t.Fatal("member_members does not hold the 4 members")
		}
		var got member.Member
		a.must(t, http.StatusOK, "GET", "/api/members/"+strconv.FormatInt(grace.MemberID, 10), nil, &got)
		if got != grace {
			t.Fatalf("GET member %+v, want %+v", got, grace)
		}
		ev := kit.WaitForEvent(t, events.TopicSignup, 30*time.Second, func(ev *event.Event) bool { return ev.Subject == strconv.FormatInt(ada.MemberID, 10) })
		signup, err := events.Decode[events.Signup](&event.Message{Event: ev}, events.TopicSignup)
		if err != nil || ev.Source != events.MemberService || signup.Email != "ada@example.com" || signup.NickName != "ada" ||
			!signup.SignedUpAt.Equal(ada.SignedUpAt) {
			t.Fatalf("signup-event %+v %v", signup, err)
		}
		a.problem(t, http.StatusConflict, "ada@example.com already exists", "POST", "/api/members",
			member.SignUp{Email: "ada@example.com", Name: "Other", NickName: "other"})
		a.problem(t, http.StatusNotFound, "member 99999 does not exist", "GET", "/api/members/99999", nil)
		a.waitKnown(t, ada, grace, barbara, linus)

		// A room: OPEN, its host PLAIN, and the host's deposit asked for.
		room := a.newRoom(t, "Algorithms, 8 weeks", ada.MemberID, 3)
		id := room.SuiteRoomID
		path := "/api/suiterooms/" + strconv.FormatInt(id, 10)
		if room.Status != suiteroom.RoomOpen || len(room.Participants) != 1 ||
			room.Participants[0] != (suiteroom.Participant{MemberID: ada.MemberID, NickName: "ada", IsHost: true, Status: "PLAIN"}) {
			t.Fatalf("new room %+v", room)
		}
		if a.roomStatus(t, id) != "OPEN" || a.participantStatus(t, id, ada.MemberID) != "PLAIN" {
			t.Fatal("the room is not stored OPEN with its host PLAIN")
		}
		deposit := waitDeposit(t, a, events.TopicDepositPayment, id, ada.MemberID)
		if !deposit.IsHost || deposit.DepositAmount != 10000 || deposit.AuthorizerDto.NickName != "ada" || deposit.AuthorizerDto.Email != "ada@example.com" {
			t.Fatalf("host deposit-payment %+v", deposit)
		}
		a.problem(t, http.StatusConflict, "already exists", "POST", "/api/suiterooms", roomBody("Algorithms, 8 weeks", grace.MemberID, 3))
		a.problem(t, http.StatusUnprocessableEntity, "member 424242 is not known", "POST", "/api/suiterooms", roomBody("Other", 424242, 3))

		// The payment service confirms the host's deposit.
		a.publish(t, events.TopicJoin, id, join(id, ada.MemberID, "ada", true))
		a.eventually(t, "host READY", func() bool { return a.participantStatus(t, id, ada.MemberID) == "READY" })

		// Grace and Barbara ask to join; payment confirms; they are in.
		for _, m := range []member.Member{grace, barbara} {
			var acc suiteroom.JoinAccepted
			a.must(t, http.StatusAccepted, "POST", path+"/participants", map[string]any{"memberId": m.MemberID}, &acc)
			if acc != (suiteroom.JoinAccepted{SuiteRoomID: id, MemberID: m.MemberID, DepositAmount: 10000}) {
				t.Fatalf("join accepted %+v", acc)
			}
			// Asking again while the payment is pending changes nothing.
			a.must(t, http.StatusAccepted, "POST", path+"/participants", map[string]any{"memberId": m.MemberID}, nil)
			if a.count(t, "SELECT count(*) FROM suiteroom_join_requests WHERE suite_room_id = $1 AND member_id = $2", id, m.MemberID) != 1 {
				t.Fatal("the join request is not recorded")
			}
			if a.participantStatus(t, id, m.MemberID) != "" {
				t.Fatal("a member is a participant before the payment")
			}
			d := waitDeposit(t, a, events.TopicDepositPayment, id, m.MemberID)
			if d.IsHost || d.AuthorizerDto.NickName != m.NickName {
				t.Fatalf("deposit-payment %+v", d)
			}
			a.publish(t, events.TopicJoin, id, join(id, m.MemberID, m.NickName, false))
			a.eventually(t, m.NickName+" READY", func() bool { return a.participantStatus(t, id, m.MemberID) == "READY" })
			if a.count(t, "SELECT count(*) FROM suiteroom_join_requests WHERE suite_room_id = $1", id) != 0 {
				t.Fatal("the join request outlived the join")
			}
		}
		deposits := 0
		for _, r := range readAll(t, a, events.TopicDepositPayment) {
			if ev, err := event.Decode(r); err == nil && strings.Contains(string(ev.Data), `"memberId":`+strconv.FormatInt(grace.MemberID, 10)+`,`) {
				deposits++
			}
		}
		if deposits != 1 {
			t.Fatalf("%d deposit-payment events for grace's one join request (asked twice), want 1", deposits)
		}
		// Full: the API refuses, and a join the payment service confirms
		// anyway is dead-lettered with the reason.
		a.problem(t, http.StatusConflict, "is full: 3 of 3", "POST", path+"/participants", map[string]any{"memberId": linus.MemberID})
		a.problem(t, http.StatusConflict, "already a participant", "POST", path+"/participants", map[string]any{"memberId": grace.MemberID})
		over := a.publish(t, events.TopicJoin, id, join(id, linus.MemberID, "linus", false))
		waitDeadLetter(t, a, events.TopicJoin, over, "suite room "+strconv.FormatInt(id, 10)+" is full: 3 of 3 places taken")
		if a.participantStatus(t, id, linus.MemberID) != "" {
			t.Fatal("a join past the capacity was applied")
		}

		// Barbara leaves: removed, refund asked; the refund fails: restored.
		a.must(t, http.StatusNoContent, "DELETE", path+"/participants/"+strconv.FormatInt(barbara.MemberID, 10), nil, nil)
		if a.participantStatus(t, id, barbara.MemberID) != "" {
			t.Fatal("barbara is still a participant after leaving")
		}
		refund := waitDeposit(t, a, events.TopicCancelJoin, id, barbara.MemberID)
		if refund.DepositAmount != 10000 || refund.IsHost {
			t.Fatalf("suiteroom-canceljoin %+v", refund)
		}
		a.problem(t, http.StatusConflict, "cannot leave", "DELETE", path+"/participants/"+strconv.FormatInt(ada.MemberID, 10), nil)
		a.problem(t, http.StatusNotFound, "is not a participant", "DELETE", path+"/participants/"+strconv.FormatInt(linus.MemberID, 10), nil)
		a.publish(t, events.TopicCancelJoinError, id, join(id, barbara.MemberID, "barbara", false))
		a.eventually(t, "barbara restored", func() bool { return a.participantStatus(t, id, barbara.MemberID) == "READY" })

		// Start: everyone START, the contract asked for; it fails: reverted.
		var started suiteroom.Room
		a.must(t, http.StatusOK, "POST", path+"/start", nil, &started)
		if started.Status != "START" || a.roomStatus(t, id) != "START" ||
			a.count(t, "SELECT count(*) FROM suiteroom_participants WHERE suite_room_id = $1 AND status = 'START'", id) != 3 {
			t.Fatalf("after start: %+v", started)
		}
		contract := waitContract(t, a, id)
		if contract.Title != room.Title || len(contract.ParticipantIDs) != 3 || contract.ParticipantIDs[0] != events.ID(ada.MemberID) ||
			contract.GroupCapacity != 3 || contract.GroupDepositPerPerson != 10000 || contract.HostMemberID != events.ID(ada.MemberID) {
			t.Fatalf("suiteroom-contract-creation %+v", contract)
		}
		a.problem(t, http.StatusConflict, "only an OPEN room can start", "POST", path+"/start", nil)
		a.problem(t, http.StatusConflict, "is START", "POST", path+"/participants", map[string]any{"memberId": linus.MemberID})
		a.publish(t, events.TopicStartError, id, events.RoomRef{SuiteRoomID: events.ID(id)})
		a.eventually(t, "start reverted", func() bool {
			return a.roomStatus(t, id) == "OPEN" &&
				a.count(t, "SELECT count(*) FROM suiteroom_participants WHERE suite_room_id = $1 AND status = 'READY'", id) == 3
		})

		// Start again; the hall of fame honours it; settlement terminates it.
		a.must(t, http.StatusOK, "POST", path+"/start", nil, nil)
		a.publish(t, events.TopicHallOfFame, id, events.HallOfFameSelection{SuiteRoomID: events.ID(id), HonorPoint: 150})
		a.eventually(t, "honour points set", func() bool {
			var r suiteroom.Room
			a.must(t, http.StatusOK, "GET", path, nil, &r)
			return r.HonorPoint == 150 && r.Status == "START"
		})
		var open []suiteroom.Room
		a.must(t, http.StatusOK, "GET", "/api/suiterooms?status=START", nil, &open)
		if len(open) != 1 || open[0].SuiteRoomID != id || len(open[0].Participants) != 3 {
			t.Fatalf("GET ?status=START: %+v", open)
		}
		a.must(t, http.StatusOK, "GET", "/api/suiterooms?status=OPEN", nil, &open)
		if len(open) != 0 {
			t.Fatalf("GET ?status=OPEN lists %+v", open)
		}
		a.publish(t, events.TopicTerminateComplete, id, events.RoomRef{SuiteRoomID: events.ID(id)})
		a.eventually(t, "room terminated", func() bool { return a.roomStatus(t, id) == "" })
		if a.count(t, "SELECT count(*) FROM suiteroom_participants WHERE suite_room_id = $1", id) != 0 {
			t.Fatal("the terminated room's participants remain")
		}
		a.problem(t, http.StatusNotFound, "was terminated", "GET", path, nil)
		late := a.publish(t, events.TopicJoin, id, join(id, linus.MemberID, "linus", false))
		waitDeadLetter(t, a, events.TopicJoin, late, "was terminated")

		// A second room, left started after a failed start: a state that
		// any event applied twice would change (a second start-error would
		// reopen it, a second join would bring back the member who left).
		db := a.newRoom(t, "Databases", grace.MemberID, 4)
		dbPath := "/api/suiterooms/" + strconv.FormatInt(db.SuiteRoomID, 10)
		a.publish(t, events.TopicJoin, db.SuiteRoomID, join(db.SuiteRoomID, grace.MemberID, "grace", true))
		a.must(t, http.StatusAccepted, "POST", dbPath+"/participants", map[string]any{"memberId": linus.MemberID}, nil)
		a.publish(t, events.TopicJoin, db.SuiteRoomID, join(db.SuiteRoomID, linus.MemberID, "linus", false))
		a.eventually(t, "grace and linus READY", func() bool {
			return a.participantStatus(t, db.SuiteRoomID, grace.MemberID) == "READY" && a.participantStatus(t, db.SuiteRoomID, linus.MemberID) == "READY"
		})
		a.must(t, http.StatusNoContent, "DELETE", dbPath+"/participants/"+strconv.FormatInt(linus.MemberID, 10), nil, nil)
		a.must(t, http.StatusOK, "POST", dbPath+"/start", nil, nil)
		a.publish(t, events.TopicStartError, db.SuiteRoomID, events.RoomRef{SuiteRoomID: events.ID(db.SuiteRoomID)})
		a.eventually(t, "second room reverted", func() bool { return a.roomStatus(t, db.SuiteRoomID) == "OPEN" })
		a.must(t, http.StatusOK, "POST", dbPath+"/start", nil, nil)

		// Redelivery: every event consumed so far, published again.
		a.consumed(t, e.kit.Prefix())
		before := a.snapshot(t)
		again := 0
		for _, topic := range events.Consumes(events.SuiteRoomService) {
			for _, r := range readAll(t, a, topic) {
				a.e.kit.PublishRaw(t, topic, r.Key, r.Value, r.Headers...)
				again++
			}
		}
		if again < 10 {
			t.Fatalf("only %d events to redeliver", again)
		}
		a.consumed(t, e.kit.Prefix())
		if after := a.snapshot(t); after != before {
			t.Fatalf("state changed after redelivery:\n%s\nwant\n%s", after, before)
		}

		// Replay from offset 0 into fresh groups: a second deployment of the
		// suite-room service on the same database.
		a.Close()
		replay := startApp(t, e, func(c *suite.Config) { c.GroupPrefix = e.kit.Prefix() + "replay."; c.Services = []string{"suiteroom"} })
		replay.consumed(t, e.kit.Prefix()+"replay.")
		if after := replay.snapshot(t); after != before {
			t.Fatalf("state changed after a replay into fresh groups:\n%s\nwant\n%s", after, before)
		}
	})
}

// waitDeposit waits for the deposit-payment (or suiteroom-canceljoin) of
// member in room and returns its data.
func waitDeposit(t *testing.T, a *app, topic string, room, member int64) events.DepositPayment {
	t.Helper()
	var d events.DepositPayment
	a.e.kit.WaitForEvent(t, topic, 30*time.Second, func(ev *event.Event) bool {
		v, err := events.Decode[events.DepositPayment](&event.Message{Event: ev}, topic)
		if err == nil && int64(v.SuiteRoomID) == room && int64(v.AuthorizerDto.MemberID) == member &&
			ev.Source == events.SuiteRoomService && ev.Subject == strconv.FormatInt(room, 10) {
			d = v
			return true
		}
		return false
	})
	return d
}

func waitContract(t *testing.T, a *app, room int64) events.ContractCreation {
	t.Helper()
	var c events.ContractCreation
	a.e.kit.WaitForEvent(t, events.TopicContractCreation, 30*time.Second, func(ev *event.Event) bool {
		v, err := events.Decode[events.ContractCreation](&event.Message{Event: ev}, events.TopicContractCreation)
		c = v
		return err == nil && int64(v.SuiteRoomID) == room
	})
	return c
}

// waitDeadLetter waits for ev in topic's dead letters and checks the reason.
func waitDeadLetter(t *testing.T, a *app, topic string, ev *event.Event, reason string) {
	t.Helper()
	_, got := a.e.kit.WaitForDeadLetter(t, topic, 30*time.Second, func(r *kgo.Record) bool {
		d, err := event.Decode(r)
		return err == nil && d.ID == ev.ID
	})
	if !strings.Contains(got, reason) {
		t.Fatalf("dead letter of %s: reason %q, want it to contain %q", ev.ID, got, reason)
	}
}

// readAll reads every record of a declared topic.
func readAll(t *testing.T, a *app, topic string) []*kgo.Record {
	t.Helper()
	cl := a.e.kit.Client(t, kgo.ConsumeTopics(a.e.kit.Topic(topic)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	adm := kadm.NewClient(a.e.kit.Client(t))
	ctx := testkit.Context(t, 30*time.Second)
	ends, err := adm.ListEndOffsets(ctx, a.e.kit.Topic(topic))
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, ps := range ends {
		for _, o := range ps {
			total += o.Offset
		}
	}
	var out []*kgo.Record
	for int64(len(out)) < total {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}
