package suiteroom

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/internal/httpapi"
	"github.com/ksuite/ksuite/suite/internal/sqldb"
)

// What the service says about members of its directory in the events it
// publishes (authorizerDto).
const (
	accountActive = "ACTIVE"
	roleUser      = "USER"
)

const roomColumns = "suite_room_id, title, content, subject, host_member_id, recruitment_limit, deposit_amount, " +
	"study_deadline, min_attendance_rate, min_mission_complete_rate, status, honor_point, created_at"

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanRoom(sc interface{ Scan(...any) error }) (Room, error) {
	var r Room
	err := sc.Scan(&r.SuiteRoomID, &r.Title, &r.Content, &r.Subject, &r.HostMemberID, &r.RecruitmentLimit,
		&r.DepositAmount, &r.StudyDeadline, &r.MinAttendanceRate, &r.MinMissionCompleteRate, &r.Status,
		&r.HonorPoint, &r.CreatedAt)
	r.StudyDeadline, r.CreatedAt = r.StudyDeadline.UTC(), r.CreatedAt.UTC()
	r.Participants = []Participant{}
	return r, err
}

// now is the time the service stores: UTC, to the millisecond, as JSON and
// both databases keep it.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// forUpdate locks the rows a query reads on PostgreSQL; on SQLite the
// write transaction (BEGIN IMMEDIATE) already holds the whole database.
func (s *Service) forUpdate() string {
	if s.db.Postgres() {
		return " FOR UPDATE"
	}
	return ""
}

// lockRoom reads room id inside tx and holds its row until tx ends, so no
// other request or consumer changes the room or its participants meanwhile.
func (s *Service) lockRoom(ctx context.Context, tx *sql.Tx, id int64) (Room, error) {
	r, err := scanRoom(tx.QueryRowContext(ctx, "SELECT "+roomColumns+" FROM suiteroom_rooms WHERE suite_room_id = $1"+s.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, s.roomNotFound(ctx, tx, id)
	}
	return r, err
}

// roomNotFound is the 404 of a missing room, saying whether it was
// terminated.
func (s *Service) roomNotFound(ctx context.Context, q queryer, id int64) error {
	if gone, err := s.terminated(ctx, q, id); err != nil {
		return err
	} else if gone {
		return httpapi.NotFound("suite room %d was terminated", id)
	}
	return httpapi.NotFound("suite room %d does not exist", id)
}

func (s *Service) terminated(ctx context.Context, q queryer, id int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM suiteroom_terminated WHERE suite_room_id = $1", id).Scan(&n)
	return n > 0, err
}

// participants reads the participants of rooms, host first, then in the
// order they joined.
func (s *Service) participants(ctx context.Context, q queryer, rooms ...int64) (map[int64][]Participant, error) {
	out := make(map[int64][]Participant, len(rooms))
	if len(rooms) == 0 {
		return out, nil
	}
	in, args := s.inList("p.suite_room_id", 1, rooms)
	rows, err := q.QueryContext(ctx, `SELECT p.suite_room_id, p.member_id,
		COALESCE(NULLIF(p.nick_name, ''), m.nick_name, ''), p.is_host, p.status
		FROM suiteroom_participants p LEFT JOIN suiteroom_members m ON m.member_id = p.member_id
		WHERE `+in+` ORDER BY p.suite_room_id, p.is_host DESC, p.joined_at, p.member_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var room int64
		var p Participant
		if err := rows.Scan(&room, &p.MemberID, &p.NickName, &p.IsHost, &p.Status); err != nil {
			return nil, err
		}
		out[room] = append(out[room], p)
	}
	return out, rows.Err()
}

// inList is the condition "col is one of ids" with its arguments, whose
// first bind parameter is $from: one array on PostgreSQL, a list on SQLite.
func (s *Service) inList(col string, from int, ids []int64) (string, []any) {
	if s.db.Postgres() {
		return fmt.Sprintf("%s = ANY($%d)", col, from), []any{ids}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return col + " IN (" + s.db.Params(from, len(ids)) + ")", args
}

// authorizer is member id as the suite-room events carry it, from the
// directory; unknown members are a 422: they may not have arrived yet.
func (s *Service) authorizer(ctx context.Context, q queryer, id int64) (events.Authorizer, error) {
	a := events.Authorizer{MemberID: events.ID(id), AccountStatus: accountActive, Role: roleUser}
	err := q.QueryRowContext(ctx, "SELECT email, name, nick_name FROM suiteroom_members WHERE member_id = $1", id).
		Scan(&a.Email, &a.Name, &a.NickName)
	if errors.Is(err, sql.ErrNoRows) {
		return a, httpapi.Unprocessable("member %d is not known to the suite-room service (yet): "+
			"members become known when their signup-event arrives", id)
	}
	return a, err
}

// createRoom stores a room with its host as a PLAIN participant and asks
// for the host's deposit.
func (s *Service) createRoom(ctx context.Context, in NewRoom) (Room, error) {
	var room Room
	err := s.db.OutboxTx(ctx, s.outbox, func(tx *sql.Tx) error {
		host, err := s.authorizer(ctx, tx, in.HostMemberID)
		if err != nil {
			return err
		}
		at := now()
		room, err = scanRoom(tx.QueryRowContext(ctx, `INSERT INTO suiteroom_rooms (title, content, subject, host_member_id,
			recruitment_limit, deposit_amount, study_deadline, min_attendance_rate, min_mission_complete_rate, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+roomColumns,
			in.Title, in.Content, in.Subject, in.HostMemberID, in.RecruitmentLimit, in.DepositAmount,
			in.StudyDeadline.UTC().Truncate(time.Millisecond), in.MinAttendanceRate, in.MinMissionCompleteRate, RoomOpen, at))
		if sqldb.IsUniqueViolation(err) {
			return httpapi.Conflict("a suite room titled %q already exists", in.Title)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO suiteroom_participants (suite_room_id, member_id, nick_name, is_host, status, joined_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, room.SuiteRoomID, in.HostMemberID, host.NickName, true, ParticipantPlain, at); err != nil {
			return err
		}
		room.Participants = []Participant{{MemberID: in.HostMemberID, NickName: host.NickName, IsHost: true, Status: ParticipantPlain}}
		return s.publish(ctx, tx, events.TopicDepositPayment, room.SuiteRoomID, events.DepositPayment{
			SuiteRoomID: events.ID(room.SuiteRoomID), AuthorizerDto: host, DepositAmount: events.Int(room.DepositAmount), IsHost: true,
		})
	})
	return room, err
}

// publish adds an event about room to the outbox in tx.
func (s *Service) publish(ctx context.Context, tx *sql.Tx, topic string, room int64, data any) error {
	ev, err := event.New(topic, events.ID(room).String(), data)
	if err != nil {
		return err
	}
	return s.outbox.Add(ctx, tx, s.topic(topic), ev)
}

// room reads one room and its participants.
func (s *Service) room(ctx context.Context, id int64) (Room, error) {
	r, err := scanRoom(s.db.QueryRowContext(ctx, "SELECT "+roomColumns+" FROM suiteroom_rooms WHERE suite_room_id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, s.roomNotFound(ctx, s.db, id)
	}
	if err != nil {
		return r, err
	}
	ps, err := s.participants(ctx, s.db, id)
	if len(ps[id]) > 0 {
		r.Participants = ps[id]
	}
	return r, err
}

// rooms lists up to limit rooms after the id after, optionally of one
// status, in id order.
func (s *Service) rooms(ctx context.Context, status string, after int64, limit int) ([]Room, error) {
	q := "SELECT " + roomColumns + " FROM suiteroom_rooms WHERE suite_room_id > $1"
	args := []any{after}
	if status != "" {
		q += " AND status = $2"
		args = append(args, status)
	}
	q += fmt.Sprintf(" ORDER BY suite_room_id LIMIT %d", limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := []Room{}
	var ids []int64
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
		ids = append(ids, r.SuiteRoomID)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	ps, err := s.participants(ctx, s.db, ids...)
	for i := range out {
		if p := ps[out[i].SuiteRoomID]; len(p) > 0 {
			out[i].Participants = p
		}
	}
	return out, err
}

// requestJoin records that member asks to join room and asks for the
// deposit. Asking again while the payment is pending publishes nothing
// new: one deposit per request.
func (s *Service) requestJoin(ctx context.Context, id, member int64) (JoinAccepted, error) {
	acc := JoinAccepted{SuiteRoomID: id, MemberID: member}
	err := s.db.OutboxTx(ctx, s.outbox, func(tx *sql.Tx) error {
		room, err := s.lockRoom(ctx, tx, id)
		if err != nil {
			return err
		}
		acc.DepositAmount = room.DepositAmount
		who, err := s.authorizer(ctx, tx, member)
		if err != nil {
			return err
		}
		if room.Status != RoomOpen {
			return httpapi.Conflict("suite room %d is %s: only an OPEN room takes participants", id, room.Status)
		}
		ps, err := s.participants(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, p := range ps[id] {
			if p.MemberID == member {
				return httpapi.Conflict("member %d is already a participant of suite room %d", member, id)
			}
		}
		if len(ps[id]) >= room.RecruitmentLimit {
			return httpapi.Conflict("suite room %d is full: %d of %d places taken", id, len(ps[id]), room.RecruitmentLimit)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO suiteroom_join_requests (suite_room_id, member_id, requested_at)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, member, now())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already asked: the deposit-payment is on its way
		}
		return s.publish(ctx, tx, events.TopicDepositPayment, id, events.DepositPayment{
			SuiteRoomID: events.ID(id), AuthorizerDto: who, DepositAmount: events.Int(room.DepositAmount),
		})
	})
	return acc, err
}

// leave removes a participant from an OPEN room and asks for the refund.
func (s *Service) leave(ctx context.Context, id, member int64) error {
	return s.db.OutboxTx(ctx, s.outbox, func(tx *sql.Tx) error {
		room, err := s.lockRoom(ctx, tx, id)
		if err != nil {
			return err
		}
		var isHost bool
		var nick string
		err = tx.QueryRowContext(ctx, "SELECT is_host, nick_name FROM suiteroom_participants WHERE suite_room_id = $1 AND member_id = $2",
			id, member).Scan(&isHost, &nick)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return httpapi.NotFound("member %d is not a participant of suite room %d", member, id)
		case err != nil:
			return err
		case isHost:
			return httpapi.Conflict("member %d hosts suite room %d and cannot leave it", member, id)
		case room.Status != RoomOpen:
			return httpapi.Conflict("suite room %d is %s: participants can leave only while it is OPEN", id, room.Status)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM suiteroom_participants WHERE suite_room_id = $1 AND member_id = $2", id, member); err != nil {
			return err
		}
		who, err := s.authorizer(ctx, tx, member)
		var unknown *httpapi.Error
		if errors.As(err, &unknown) {
			// Joined through an event before its signup-event arrived: say
			// what the room knows.
			who, err = events.Authorizer{MemberID: events.ID(member), NickName: nick, AccountStatus: accountActive, Role: roleUser}, nil
		}
		if err != nil {
			return err
		}
		return s.publish(ctx, tx, events.TopicCancelJoin, id, events.DepositPayment{
			SuiteRoomID: events.ID(id), AuthorizerDto: who, DepositAmount: events.Int(room.DepositAmount),
		})
	})
}

// start starts a room whose participants are all READY and asks for its
// study contract.
func (s *Service) start(ctx context.Context, id int64) (Room, error) {
	var room Room
	err := s.db.OutboxTx(ctx, s.outbox, func(tx *sql.Tx) error {
		var err error
		if room, err = s.lockRoom(ctx, tx, id); err != nil {
			return err
		}
		if room.Status != RoomOpen {
			return httpapi.Conflict("suite room %d is %s: only an OPEN room can start", id, room.Status)
		}
		ps, err := s.participants(ctx, tx, id)
		if err != nil {
			return err
		}
		var waiting []string
		ids := make([]events.ID, 0, len(ps[id]))
		for _, p := range ps[id] {
			if p.Status != ParticipantReady {
				waiting = append(waiting, fmt.Sprintf("%d (%s)", p.MemberID, p.Status))
			}
			ids = append(ids, events.ID(p.MemberID))
		}
		if len(waiting) > 0 {
			return httpapi.Conflict("suite room %d cannot start: every participant must be READY, and these are not: %s",
				id, strings.Join(waiting, ", "))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE suiteroom_rooms SET status = $1 WHERE suite_room_id = $2", RoomStart, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE suiteroom_participants SET status = $1 WHERE suite_room_id = $2", ParticipantStart, id); err != nil {
			return err
		}
		if err := s.dropJoinRequests(ctx, tx, id); err != nil {
			return err
		}
		room.Status = RoomStart
		room.Participants = ps[id]
		for i := range room.Participants {
			room.Participants[i].Status = ParticipantStart
		}
		return s.publish(ctx, tx, events.TopicContractCreation, id, events.ContractCreation{
			SuiteRoomID: events.ID(id), Title: room.Title, ParticipantIDs: ids,
			GroupCapacity: events.Int(room.RecruitmentLimit), GroupDepositPerPerson: events.Int(room.DepositAmount),
			HostMemberID: events.ID(room.HostMemberID), StudyDeadline: events.Time{Time: room.StudyDeadline},
			MinAttendanceRate: events.Int(room.MinAttendanceRate), MinMissionCompleteRate: events.Int(room.MinMissionCompleteRate),
		})
	})
	return room, err
}
