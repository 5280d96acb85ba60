package suiteroom

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/suite/events"
)

// newRouter registers one batch handler per consumed topic, each in its own
// group and inbox transaction.
func (s *Service) newRouter() (*event.Router, error) {
	r, err := event.NewRouter(event.RouterConfig{
		ClientOpts:     s.cfg.ClientOpts,
		MaxBatch:       s.cfg.MaxBatch,
		MaxPollRecords: 4 * s.cfg.MaxBatch,
		Observer:       s.cfg.Observer,
		Logger:         s.log,
	})
	if err != nil {
		return nil, err
	}
	for _, topic := range events.Consumes(events.SuiteRoomService) {
		group := s.cfg.GroupPrefix + events.Group(events.SuiteRoomService, topic)
		r.HandleBatch(group, s.topic(topic), s.handler(topic))
	}
	return r, nil
}

// handler applies a batch of topic's events exactly once.
func (s *Service) handler(topic string) event.BatchHandlerFunc {
	apply := map[string]event.TxBatchHandlerFunc{
		events.TopicSignup:            s.applySignups,
		events.TopicJoin:              s.applyJoins(events.TopicJoin),
		events.TopicCancelJoinError:   s.applyJoins(events.TopicCancelJoinError),
		events.TopicStartError:        s.applyStartErrors,
		events.TopicTerminateComplete: s.applyTerminations,
		events.TopicHallOfFame:        s.applyHonours,
	}[topic]
	return s.inboxes[topic].TxBatchHandler(apply)
}

// reject is the permanent error of an event that cannot apply: the router
// dead-letters it with this text as the reason.
func reject(msg *event.Message, format string, args ...any) error {
	return event.Permanent(fmt.Errorf("%s event %s: %s", msg.Event.Type, msg.Event.ID, fmt.Sprintf(format, args...)))
}

// applySignups keeps the member directory: a member's latest signup-event
// wins.
func (s *Service) applySignups(ctx context.Context, tx *sql.Tx, msgs []*event.Message) error {
	for _, msg := range msgs {
		m, err := events.Decode[events.Signup](msg, events.TopicSignup)
		if err != nil {
			return err
		}
		var at any
		if !m.SignedUpAt.IsZero() {
			at = m.SignedUpAt.UTC()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO suiteroom_members (member_id, email, name, nick_name, signed_up_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (member_id) DO UPDATE SET email = excluded.email, name = excluded.name,
			nick_name = excluded.nick_name, signed_up_at = excluded.signed_up_at`,
			int64(m.MemberID), m.Email, m.Name, m.NickName, at); err != nil {
			return err
		}
	}
	return nil
}

// roomState is what the join consumer needs of a locked room: its
// participants are counted, and known by name only for the members the
// batch is about.
type roomState struct {
	status    string
	limit     int
	host      int64
	count     int              // participants
	members   map[int64]string // participant → status, for the batch's members and the host
	requested map[int64]bool   // the batch's members with a join request waiting
}

// newParticipant is a row the join consumer inserts.
type newParticipant struct {
	room, member int64
	nick         string
}

// applyJoins applies suiteroom-join (payment confirmed) or
// suiteroom-canceljoin-error (refund failed: restore), which are the same
// change: the host becomes READY, anyone else is added as READY. The batch
// is applied set-wise: one statement locks every room it touches, one
// counts their participants and reads those the batch is about, the
// decisions are made here, in event order, and one statement inserts
// every new participant. A participant already there is left as it is
// (the change is already made); an unknown, full, started or terminated
// room rejects the event.
func (s *Service) applyJoins(topic string) event.TxBatchHandlerFunc {
	return func(ctx context.Context, tx *sql.Tx, msgs []*event.Message) error {
		joins := make([]events.Join, len(msgs))
		for i, msg := range msgs {
			j, err := events.Decode[events.Join](msg, topic)
			if err != nil {
				return err
			}
			joins[i] = j
		}
		rooms, err := s.lockRooms(ctx, tx, joins)
		if err != nil {
			return err
		}
		var (
			added     []newParticipant
			requested []newParticipant // added members whose request is now answered
			ready     [][2]int64       // hosts whose deposit is paid
			filled    []int64          // rooms this batch filled
		)
		for i, j := range joins {
			msg, id, member := msgs[i], int64(j.SuiteRoomID), int64(j.AuthorizerDto.MemberID)
			room := rooms[id]
			if room == nil {
				return s.rejectMissing(ctx, tx, msg, id)
			}
			status, in := room.members[member]
			switch {
			case bool(j.IsHost) && (member != room.host || !in):
				return reject(msg, "member %d is not the host of suite room %d (the host is %d)", member, id, room.host)
			case bool(j.IsHost) && status == ParticipantPlain:
				room.members[member] = ParticipantReady
				ready = append(ready, [2]int64{id, member})
			case in:
				// Already there: paid before, or restored before.
			case room.status != RoomOpen:
				return reject(msg, "suite room %d is %s: only an OPEN room takes participants", id, room.status)
			case room.count >= room.limit:
				return reject(msg, "suite room %d is full: %d of %d places taken", id, room.count, room.limit)
			default:
				room.members[member] = ParticipantReady
				room.count++
				added = append(added, newParticipant{id, member, j.AuthorizerDto.NickName})
				if room.requested[member] {
					requested = append(requested, newParticipant{room: id, member: member})
				}
				if room.count == room.limit {
					filled = append(filled, id)
				}
			}
		}
		if err := s.insertParticipants(ctx, tx, added); err != nil {
			return err
		}
		for _, h := range ready {
			if _, err := tx.ExecContext(ctx, "UPDATE suiteroom_participants SET status = $1 WHERE suite_room_id = $2 AND member_id = $3",
				ParticipantReady, h[0], h[1]); err != nil {
				return err
			}
		}
		if err := s.deleteJoinRequests(ctx, tx, requested); err != nil {
			return err
		}
		return s.dropJoinRequests(ctx, tx, filled...)
	}
}

// dropJoinRequests forgets every request waiting on rooms that can no
// longer take them (full, or started): their suiteroom-join will be
// dead-lettered, and a request left behind would make the member's next
// request, once the room takes participants again, publish no
// deposit-payment.
func (s *Service) dropJoinRequests(ctx context.Context, tx *sql.Tx, rooms ...int64) error {
	if len(rooms) == 0 {
		return nil
	}
	in, args := s.inList("suite_room_id", 1, rooms)
	_, err := tx.ExecContext(ctx, "DELETE FROM suiteroom_join_requests WHERE "+in, args...)
	return err
}

// lockRooms reads and locks the rooms of joins (in id order, so concurrent
// batches never deadlock), then counts their participants and reads the
// status of the joining members and of the hosts, and which joining
// members have a request waiting. That second read is a
// statement of its own on purpose: under READ COMMITTED a statement reads
// the rows as of its start, so a statement that also took the locks would
// see the participants as they were before the locks were granted, and
// overfill a room (TestConcurrentJoinsRespectCapacity catches that).
func (s *Service) lockRooms(ctx context.Context, tx *sql.Tx, joins []events.Join) (map[int64]*roomState, error) {
	set := make(map[int64]bool)
	for _, j := range joins {
		set[int64(j.SuiteRoomID)] = true
	}
	in, args := s.inList("suite_room_id", 1, slices.Sorted(maps.Keys(set)))
	rows, err := tx.QueryContext(ctx, "SELECT suite_room_id, status, recruitment_limit, host_member_id FROM suiteroom_rooms WHERE "+
		in+" ORDER BY suite_room_id"+s.forUpdate(), args...)
	if err != nil {
		return nil, err
	}
	rooms := make(map[int64]*roomState, len(set))
	for rows.Next() {
		var id int64
		r := &roomState{members: make(map[int64]string), requested: make(map[int64]bool)}
		if err := rows.Scan(&id, &r.status, &r.limit, &r.host); err != nil {
			rows.Close()
			return nil, err
		}
		rooms[id] = r
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(rooms) == 0 {
		return rooms, err
	}
	// The (room, member) pairs to look up: every joining member, and every
	// host, of the rooms that exist.
	var pairs []newParticipant
	seen := make(map[[2]int64]bool)
	add := func(room, member int64) {
		if k := [2]int64{room, member}; rooms[room] != nil && !seen[k] {
			seen[k] = true
			pairs = append(pairs, newParticipant{room: room, member: member})
		}
	}
	for id, r := range rooms {
		add(id, r.host)
	}
	for _, j := range joins {
		add(int64(j.SuiteRoomID), int64(j.AuthorizerDto.MemberID))
	}
	// One statement, three answers: a count row per room (count > 0),
	// participant rows (count 0) and request rows (count -1).
	in, args = s.inList("suite_room_id", 1, slices.Collect(maps.Keys(rooms)))
	q := "SELECT suite_room_id, 0, '', count(*) FROM suiteroom_participants WHERE " + in + " GROUP BY suite_room_id"
	if s.db.Postgres() {
		rs, ms, _ := columns(pairs)
		n := len(args)
		args = append(args, rs, ms)
		for _, t := range []struct{ table, status, count string }{
			{"suiteroom_participants", "p.status", "0"}, {"suiteroom_join_requests", "''", "-1"},
		} {
			q += fmt.Sprintf(` UNION ALL SELECT p.suite_room_id, p.member_id, %s, %s FROM %s p
				JOIN unnest($%d::bigint[], $%d::bigint[]) AS k(room, member) ON p.suite_room_id = k.room AND p.member_id = k.member`,
				t.status, t.count, t.table, n+1, n+2)
		}
	} else {
		values := strings.TrimSuffix(strings.Repeat("(?,?),", len(pairs)), ",")
		q += " UNION ALL SELECT suite_room_id, member_id, status, 0 FROM suiteroom_participants WHERE (suite_room_id, member_id) IN (VALUES " + values + ")" +
			" UNION ALL SELECT suite_room_id, member_id, '', -1 FROM suiteroom_join_requests WHERE (suite_room_id, member_id) IN (VALUES " + values + ")"
		for range 2 {
			for _, p := range pairs {
				args = append(args, p.room, p.member)
			}
		}
	}
	rows, err = tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, member, count int64
			status            string
		)
		if err := rows.Scan(&id, &member, &status, &count); err != nil {
			return nil, err
		}
		switch {
		case count > 0:
			rooms[id].count = int(count)
		case count == 0:
			rooms[id].members[member] = status
		default:
			rooms[id].requested[member] = true
		}
	}
	return rooms, rows.Err()
}

// rejectMissing rejects an event about a room that is not there.
func (s *Service) rejectMissing(ctx context.Context, tx *sql.Tx, msg *event.Message, id int64) error {
	gone, err := s.terminated(ctx, tx, id)
	switch {
	case err != nil:
		return err
	case gone:
		return reject(msg, "suite room %d was terminated", id)
	}
	return reject(msg, "suite room %d does not exist", id)
}

// sqliteChunk bounds the rows of one SQLite statement (5 parameters a row):
// plain ? placeholders, as SQLite looks up every $N by name.
const sqliteChunk = 500

// insertParticipants adds READY participants with one statement:
// PostgreSQL takes one array per column (a constant statement, whatever
// the count), SQLite a multi-row VALUES list.
func (s *Service) insertParticipants(ctx context.Context, tx *sql.Tx, ps []newParticipant) error {
	if len(ps) == 0 {
		return nil
	}
	const insert = "INSERT INTO suiteroom_participants (suite_room_id, member_id, nick_name, is_host, status, joined_at) "
	at := now()
	if s.db.Postgres() {
		rooms, members, nicks := columns(ps)
		_, err := tx.ExecContext(ctx, insert+"SELECT room, member, nick, false, $4, $5 FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS p(room, member, nick)",
			rooms, members, nicks, ParticipantReady, at)
		return err
	}
	for len(ps) > 0 {
		chunk := ps[:min(len(ps), sqliteChunk)]
		ps = ps[len(chunk):]
		var q strings.Builder
		q.WriteString(insert + "VALUES ")
		args := make([]any, 0, 5*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,0,?,?)")
			args = append(args, p.room, p.member, p.nick, ParticipantReady, at)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// columns splits participants into column arrays.
func columns(ps []newParticipant) (rooms, members []int64, nicks []string) {
	rooms, members, nicks = make([]int64, len(ps)), make([]int64, len(ps)), make([]string, len(ps))
	for i, p := range ps {
		rooms[i], members[i], nicks[i] = p.room, p.member, p.nick
	}
	return rooms, members, nicks
}

// deleteJoinRequests forgets the answered requests.
func (s *Service) deleteJoinRequests(ctx context.Context, tx *sql.Tx, ps []newParticipant) error {
	if len(ps) == 0 {
		return nil
	}
	if s.db.Postgres() {
		rooms, members, _ := columns(ps)
		_, err := tx.ExecContext(ctx, `DELETE FROM suiteroom_join_requests r USING unnest($1::bigint[], $2::bigint[]) AS d(room, member)
			WHERE r.suite_room_id = d.room AND r.member_id = d.member`, rooms, members)
		return err
	}
	for len(ps) > 0 {
		chunk := ps[:min(len(ps), sqliteChunk)]
		ps = ps[len(chunk):]
		var q strings.Builder
		q.WriteString("DELETE FROM suiteroom_join_requests WHERE (suite_room_id, member_id) IN (VALUES ")
		args := make([]any, 0, 2*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?)")
			args = append(args, p.room, p.member)
		}
		q.WriteByte(')')
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// applyStartErrors reverts starts the contract service could not complete:
// the room goes back to OPEN and its participants to READY. The team's
// Java code meant to do this but never did (a stream().map() with no
// terminal operation).
func (s *Service) applyStartErrors(ctx context.Context, tx *sql.Tx, msgs []*event.Message) error {
	for _, msg := range msgs {
		ref, err := events.Decode[events.RoomRef](msg, events.TopicStartError)
		if err != nil {
			return err
		}
		id := int64(ref.SuiteRoomID)
		room, err := s.lockRoomState(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case room == "":
			return s.rejectMissing(ctx, tx, msg, id)
		case room == RoomOpen:
			continue // already reverted
		case room != RoomStart:
			return reject(msg, "suite room %d is %s: only a started room can be reverted", id, room)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE suiteroom_rooms SET status = $1 WHERE suite_room_id = $2", RoomOpen, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE suiteroom_participants SET status = $1 WHERE suite_room_id = $2 AND status = $3",
			ParticipantReady, id, ParticipantStart); err != nil {
			return err
		}
	}
	return nil
}

// lockRoomState locks a room and returns its status, "" when it is not
// there.
func (s *Service) lockRoomState(ctx context.Context, tx *sql.Tx, id int64) (string, error) {
	var status string
	err := tx.QueryRowContext(ctx, "SELECT status FROM suiteroom_rooms WHERE suite_room_id = $1"+s.forUpdate(), id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return status, err
}

// applyTerminations deletes settled rooms with their participants and
// requests, and remembers their ids.
func (s *Service) applyTerminations(ctx context.Context, tx *sql.Tx, msgs []*event.Message) error {
	for _, msg := range msgs {
		ref, err := events.Decode[events.RoomRef](msg, events.TopicTerminateComplete)
		if err != nil {
			return err
		}
		id := int64(ref.SuiteRoomID)
		status, err := s.lockRoomState(ctx, tx, id)
		if err != nil {
			return err
		}
		if status == "" {
			if gone, err := s.terminated(ctx, tx, id); err != nil || gone {
				return err // terminated before: nothing left to do
			}
			return reject(msg, "suite room %d does not exist", id)
		}
		for _, q := range []string{
			"DELETE FROM suiteroom_participants WHERE suite_room_id = $1",
			"DELETE FROM suiteroom_join_requests WHERE suite_room_id = $1",
			"DELETE FROM suiteroom_rooms WHERE suite_room_id = $1",
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO suiteroom_terminated (suite_room_id, terminated_at) VALUES ($1, $2)", id, now()); err != nil {
			return err
		}
	}
	return nil
}

// applyHonours sets rooms' honour points.
func (s *Service) applyHonours(ctx context.Context, tx *sql.Tx, msgs []*event.Message) error {
	for _, msg := range msgs {
		h, err := events.Decode[events.HallOfFameSelection](msg, events.TopicHallOfFame)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE suiteroom_rooms SET honor_point = $1 WHERE suite_room_id = $2", int64(h.HonorPoint), int64(h.SuiteRoomID))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return s.rejectMissing(ctx, tx, msg, int64(h.SuiteRoomID))
		}
	}
	return nil
}
