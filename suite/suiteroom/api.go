package suiteroom

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/internal/httpapi"
)

// Room statuses, the team's enum: OPEN → START → END, and back from START
// to OPEN when the contract could not be created.
const (
	RoomOpen  = "OPEN"
	RoomStart = "START"
	RoomEnd   = "END"
)

// Participant statuses: PLAIN (the host before the deposit is paid) →
// READY → START → END.
const (
	ParticipantPlain = "PLAIN"
	ParticipantReady = "READY"
	ParticipantStart = "START"
	ParticipantEnd   = "END"
)

// NewRoom is the body of POST /api/suiterooms.
type NewRoom struct {
	Title                  string      `json:"title"`
	Content                string      `json:"content"`
	Subject                string      `json:"subject"`
	HostMemberID           int64       `json:"hostMemberId"`
	RecruitmentLimit       int         `json:"recruitmentLimit"`
	DepositAmount          int64       `json:"depositAmount"`
	StudyDeadline          events.Time `json:"studyDeadline"`
	MinAttendanceRate      int         `json:"minAttendanceRate"`
	MinMissionCompleteRate int         `json:"minMissionCompleteRate"`
}

// Room is a room as the API shows it.
type Room struct {
	SuiteRoomID            int64         `json:"suiteRoomId"`
	Title                  string        `json:"title"`
	Content                string        `json:"content"`
	Subject                string        `json:"subject"`
	HostMemberID           int64         `json:"hostMemberId"`
	RecruitmentLimit       int           `json:"recruitmentLimit"`
	DepositAmount          int64         `json:"depositAmount"`
	StudyDeadline          time.Time     `json:"studyDeadline"`
	MinAttendanceRate      int           `json:"minAttendanceRate"`
	MinMissionCompleteRate int           `json:"minMissionCompleteRate"`
	Status                 string        `json:"status"`
	HonorPoint             int64         `json:"honorPoint"`
	CreatedAt              time.Time     `json:"createdAt"`
	Participants           []Participant `json:"participants"`
}

// Participant is a member of a room.
type Participant struct {
	MemberID int64  `json:"memberId"`
	NickName string `json:"nickName"`
	IsHost   bool   `json:"isHost"`
	Status   string `json:"status"`
}

// JoinRequest is the body of POST /api/suiterooms/{id}/participants.
type JoinRequest struct {
	MemberID int64 `json:"memberId"`
}

// JoinAccepted answers a join request: the deposit is asked for, and the
// member becomes a participant when the payment service confirms it.
type JoinAccepted struct {
	SuiteRoomID   int64 `json:"suiteRoomId"`
	MemberID      int64 `json:"memberId"`
	DepositAmount int64 `json:"depositAmount"`
}

// Limits on a room.
const (
	maxTitle   = 100
	maxContent = 4000
	maxSubject = 50
	maxLimit   = 1000
	maxDeposit = 1_000_000_000
)

// validate checks a new room; the error names the field and the rule.
func (in NewRoom) validate(now time.Time) error {
	for _, f := range []struct {
		name, value string
		max         int
		required    bool
	}{{"title", in.Title, maxTitle, true}, {"content", in.Content, maxContent, false}, {"subject", in.Subject, maxSubject, true}} {
		switch {
		case f.required && strings.TrimSpace(f.value) == "":
			return httpapi.BadRequest("%s is required", f.name)
		case utf8.RuneCountInString(f.value) > f.max:
			return httpapi.BadRequest("%s is longer than %d characters", f.name, f.max)
		}
	}
	switch {
	case in.HostMemberID <= 0:
		return httpapi.BadRequest("hostMemberId must be a positive integer")
	case in.RecruitmentLimit < 1 || in.RecruitmentLimit > maxLimit:
		return httpapi.BadRequest("recruitmentLimit must be between 1 and %d (the host included), not %d", maxLimit, in.RecruitmentLimit)
	case in.DepositAmount < 1 || in.DepositAmount > maxDeposit:
		return httpapi.BadRequest("depositAmount must be between 1 and %d, not %d", maxDeposit, in.DepositAmount)
	case in.StudyDeadline.IsZero():
		return httpapi.BadRequest("studyDeadline is required (e.g. %q)", now.AddDate(0, 1, 0).Format("2006-01-02"))
	case !in.StudyDeadline.After(now):
		return httpapi.BadRequest("studyDeadline %s is not in the future", in.StudyDeadline.Format(time.RFC3339))
	}
	for _, r := range []struct {
		name  string
		value int
	}{{"minAttendanceRate", in.MinAttendanceRate}, {"minMissionCompleteRate", in.MinMissionCompleteRate}} {
		if r.value < 0 || r.value > 100 {
			return httpapi.BadRequest("%s is a percentage from 0 to 100, not %d", r.name, r.value)
		}
	}
	return nil
}

func (s *Service) postRoom(w http.ResponseWriter, r *http.Request) error {
	var in NewRoom
	if err := httpapi.ReadJSON(r, &in); err != nil {
		return err
	}
	if err := in.validate(time.Now()); err != nil {
		return err
	}
	room, err := s.createRoom(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/suiterooms/%d", room.SuiteRoomID))
	return httpapi.WriteJSON(w, http.StatusCreated, room)
}

func (s *Service) getRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "suiteRoomId")
	if err != nil {
		return err
	}
	room, err := s.room(r.Context(), id)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, room)
}

// Listing bounds.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

func (s *Service) listRooms(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", RoomOpen, RoomStart, RoomEnd:
	default:
		return httpapi.BadRequest("status %q is not one of OPEN, START, END", status)
	}
	limit := defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return httpapi.BadRequest("limit %q must be between 1 and %d", v, maxListLimit)
		}
		limit = n
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return httpapi.BadRequest("after %q must be a suiteRoomId", v)
		}
		after = n
	}
	rooms, err := s.rooms(r.Context(), status, after, limit)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, rooms)
}

func (s *Service) postParticipant(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "suiteRoomId")
	if err != nil {
		return err
	}
	var in JoinRequest
	if err := httpapi.ReadJSON(r, &in); err != nil {
		return err
	}
	if in.MemberID <= 0 {
		return httpapi.BadRequest("memberId must be a positive integer")
	}
	acc, err := s.requestJoin(r.Context(), id, in.MemberID)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusAccepted, acc)
}

func (s *Service) deleteParticipant(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "suiteRoomId")
	if err != nil {
		return err
	}
	member, err := httpapi.PathID(r, "memberId")
	if err != nil {
		return err
	}
	if err := s.leave(r.Context(), id, member); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) postStart(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "suiteRoomId")
	if err != nil {
		return err
	}
	room, err := s.start(r.Context(), id)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, room)
}
