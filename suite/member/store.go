package member

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/internal/httpapi"
	"github.com/ksuite/ksuite/suite/internal/sqldb"
)

// Field limits, generous for people and tight enough for a database.
const (
	maxEmail    = 254
	maxName     = 100
	maxNickName = 50
)

// validate checks a sign-up; the error names the field and the rule.
func (in SignUp) validate() error {
	addr, err := mail.ParseAddress(in.Email)
	switch {
	case in.Email == "":
		return httpapi.BadRequest("email is required")
	case err != nil || addr.Address != in.Email || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@'):], "."):
		return httpapi.BadRequest("email %q is not an address such as ada@example.com", in.Email)
	case len(in.Email) > maxEmail:
		return httpapi.BadRequest("email is longer than %d characters", maxEmail)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{{"name", in.Name, maxName}, {"nickName", in.NickName, maxNickName}} {
		switch {
		case strings.TrimSpace(f.value) == "":
			return httpapi.BadRequest("%s is required", f.name)
		case utf8.RuneCountInString(f.value) > f.max:
			return httpapi.BadRequest("%s is longer than %d characters", f.name, f.max)
		}
	}
	return nil
}

// signUp stores the member and its signup-event in one transaction.
func (s *Service) signUp(ctx context.Context, in SignUp) (Member, error) {
	m := Member{Email: in.Email, Name: in.Name, NickName: in.NickName, SignedUpAt: time.Now().UTC().Truncate(time.Millisecond)}
	err := s.db.OutboxTx(ctx, s.outbox, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO member_members (email, email_key, name, nick_name, signed_up_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING member_id`,
			m.Email, strings.ToLower(m.Email), m.Name, m.NickName, m.SignedUpAt).Scan(&m.MemberID)
		if sqldb.IsUniqueViolation(err) {
			return httpapi.Conflict("a member with email %s already exists", m.Email)
		}
		if err != nil {
			return err
		}
		ev, err := event.New(events.TopicSignup, events.ID(m.MemberID).String(), events.Signup{
			MemberID: events.ID(m.MemberID), Email: m.Email, Name: m.Name, NickName: m.NickName,
			SignedUpAt: events.Time{Time: m.SignedUpAt},
		})
		if err != nil {
			return err
		}
		return s.outbox.Add(ctx, tx, s.topic, ev)
	})
	return m, err
}

// member reads one member.
func (s *Service) member(ctx context.Context, id int64) (Member, error) {
	m := Member{MemberID: id}
	err := s.db.QueryRowContext(ctx, "SELECT email, name, nick_name, signed_up_at FROM member_members WHERE member_id = $1", id).
		Scan(&m.Email, &m.Name, &m.NickName, &m.SignedUpAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, httpapi.NotFound("member %d does not exist", id)
	}
	m.SignedUpAt = m.SignedUpAt.UTC()
	return m, err
}
