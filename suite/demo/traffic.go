package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// traffic sends API calls at the configured rate, each chosen among those
// the current state allows, as a crowd of members would.
type traffic struct {
	cfg    Config
	client *http.Client
	n      *counters
	name   string // names this run's members and rooms

	mu      sync.Mutex
	members []int64
	rooms   []room // OPEN rooms, refreshed from the API
	seq     int
}

// room is what the traffic needs of an OPEN room.
type room struct {
	SuiteRoomID      int64 `json:"suiteRoomId"`
	HostMemberID     int64 `json:"hostMemberId"`
	RecruitmentLimit int   `json:"recruitmentLimit"`
	Participants     []struct {
		MemberID int64  `json:"memberId"`
		IsHost   bool   `json:"isHost"`
		Status   string `json:"status"`
	} `json:"participants"`
}

func runID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maxInFlight bounds the API calls waiting for an answer.
const maxInFlight = 64

// run sends calls until ctx ends, then waits for the calls in flight: they
// finish (bounded by the client's timeout) rather than being cut off, so
// the counts say what the services did.
func (t *traffic) run(ctx context.Context) {
	go t.refresh(ctx)
	interval := time.Duration(float64(time.Second) / t.cfg.Rate)
	tick := time.NewTicker(max(interval, time.Microsecond))
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // the API is slower than the rate: skip this call
		}
		wg.Go(func() {
			defer func() { <-sem }()
			t.step(context.WithoutCancel(ctx))
		})
	}
}

// refresh reloads the OPEN rooms twice a second.
func (t *traffic) refresh(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		var rooms []room
		if code, err := t.call(ctx, "GET", "/api/suiterooms?status=OPEN&limit=1000", nil, &rooms); err == nil && code == http.StatusOK {
			t.mu.Lock()
			t.rooms = rooms
			t.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// step makes one call the state allows: a member signs up, creates a room,
// asks to join, leaves, or a host starts a full-enough room.
func (t *traffic) step(ctx context.Context) {
	t.mu.Lock()
	members, rooms := t.members, t.rooms
	t.seq++
	seq := t.seq
	t.mu.Unlock()
	roll := mrand.IntN(100)
	switch {
	case len(members) < 8 || roll < 15:
		t.signUp(ctx, seq)
	case len(rooms) == 0 || roll < 25 && len(rooms) < 30:
		t.createRoom(ctx, seq, members[mrand.IntN(len(members))])
	case roll < 65:
		r := rooms[mrand.IntN(len(rooms))]
		t.join(ctx, r, members[mrand.IntN(len(members))])
	case roll < 75:
		t.leave(ctx, rooms[mrand.IntN(len(rooms))])
	default:
		t.start(ctx, rooms[mrand.IntN(len(rooms))])
	}
}

func (t *traffic) signUp(ctx context.Context, seq int) {
	nick := fmt.Sprintf("demo-%s-%d", t.name, seq)
	var m struct {
		MemberID int64 `json:"memberId"`
	}
	if t.expect(ctx, http.StatusCreated, &t.n.signups, "POST", "/api/members",
		map[string]string{"email": nick + "@example.com", "name": "Demo member " + strconv.Itoa(seq), "nickName": nick}, &m) {
		t.mu.Lock()
		t.members = append(t.members, m.MemberID)
		t.mu.Unlock()
	}
}

func (t *traffic) createRoom(ctx context.Context, seq int, host int64) {
	t.expect(ctx, http.StatusCreated, &t.n.rooms, "POST", "/api/suiterooms", map[string]any{
		"title": fmt.Sprintf("Study room %s-%d", t.name, seq), "content": "Solve a problem a day", "subject": "algorithms",
		"hostMemberId": host, "recruitmentLimit": 3 + mrand.IntN(4), "depositAmount": 1000 * (1 + mrand.IntN(10)),
		"studyDeadline":     time.Now().AddDate(0, 1+mrand.IntN(3), 0).UTC().Format(time.RFC3339),
		"minAttendanceRate": 50 + mrand.IntN(50), "minMissionCompleteRate": 50 + mrand.IntN(50),
	}, nil)
}

func (t *traffic) join(ctx context.Context, r room, member int64) {
	t.expect(ctx, http.StatusAccepted, &t.n.joinRequests, "POST",
		fmt.Sprintf("/api/suiterooms/%d/participants", r.SuiteRoomID), map[string]int64{"memberId": member}, nil)
}

func (t *traffic) leave(ctx context.Context, r room) {
	for _, p := range r.Participants {
		if !p.IsHost && p.Status == "READY" {
			t.expect(ctx, http.StatusNoContent, &t.n.leaves, "DELETE",
				fmt.Sprintf("/api/suiterooms/%d/participants/%d", r.SuiteRoomID, p.MemberID), nil, nil)
			return
		}
	}
}

func (t *traffic) start(ctx context.Context, r room) {
	if len(r.Participants) < 2 {
		return
	}
	for _, p := range r.Participants {
		if p.Status != "READY" {
			return
		}
	}
	t.expect(ctx, http.StatusOK, &t.n.starts, "POST", fmt.Sprintf("/api/suiterooms/%d/start", r.SuiteRoomID), nil, nil)
}

// expect makes a call and counts it: as done when it answers want, as
// refused for another 4xx (the rules said no, as they may in a crowd), as
// an error otherwise.
func (t *traffic) expect(ctx context.Context, want int, done interface{ Add(int64) int64 }, method, path string, body, out any) bool {
	code, err := t.call(ctx, method, path, body, out)
	switch {
	case err == nil && code == want:
		done.Add(1)
		return true
	case err == nil && code >= 400 && code < 500:
		t.n.refused.Add(1)
	case ctx.Err() == nil:
		t.n.errors.Add(1)
		t.cfg.Logger.Warn("demo: API call failed", "method", method, "path", path, "status", code, "err", err)
	}
	return false
}

// call sends a JSON request and decodes a JSON answer into out.
func (t *traffic) call(ctx context.Context, method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.cfg.API+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
