package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ksuite/ksuite/suite/events"
)

type body struct {
	Name  string      `json:"name"`
	Count int         `json:"count"`
	Due   events.Time `json:"due"`
}

func newMux(logs io.Writer) http.Handler {
	log := slog.New(slog.NewTextHandler(logs, nil))
	mux := http.NewServeMux()
	mux.Handle("POST /things", Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		var b body
		if err := ReadJSON(r, &b); err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, b)
	}))
	mux.Handle("GET /things/{id}", Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		switch id {
		case 1:
			return WriteJSON(w, http.StatusOK, body{Name: "one"})
		case 2:
			return fmt.Errorf("loading: %w", Conflict("thing %d is busy", id))
		case 3:
			return errors.New("disk on fire")
		case 4:
			return fmt.Errorf("query: %w", context.DeadlineExceeded)
		}
		return NotFound("thing %d does not exist", id)
	}))
	return NotFoundHandler(mux)
}

func TestProblems(t *testing.T) {
	tests := []struct {
		method, path, body string
		status             int
		detail             string
	}{
		{"POST", "/things", `{"name":"a","count":2}`, 201, ""},
		{"POST", "/things", ``, 400, "the request body is empty: send a JSON object"},
		{"POST", "/things", `{"name":`, 400, "the request body is not valid JSON"},
		{"POST", "/things", `{"name":"a","nmae":"b"}`, 400, `unknown field "nmae"`},
		{"POST", "/things", `{"count":"two"}`, 400, `field count: string, want an integer$`},
		{"POST", "/things", `{"name":2}`, 400, `field name: number, want a string`},
		{"POST", "/things", `{"due":"2027/06/01"}`, 400, `field due: "2027/06/01", want an RFC 3339 time$`},
		{"POST", "/things", `[1]`, 400, "the request body must be a JSON object, not array"},
		{"POST", "/things", `{} {}`, 400, "more than one JSON value"},
		{"POST", "/things", `{"name":"` + strings.Repeat("x", maxBody) + `"}`, 400, "larger than 1048576 bytes"},
		{"GET", "/things/1", ``, 200, ""},
		{"GET", "/things/2", ``, 409, "thing 2 is busy"},
		{"GET", "/things/3", ``, 500, "internal error; the service log has the cause"},
		{"GET", "/things/4", ``, 503, "the request took longer than 15s; try again"},
		{"GET", "/things/9", ``, 404, "thing 9 does not exist"},
		{"GET", "/things/abc", ``, 400, `id "abc" in the path is not a positive integer`},
		{"GET", "/things/-1", ``, 400, `id "-1" in the path is not a positive integer`},
		{"GET", "/nothing", ``, 404, "no such resource: /nothing"},
		{"DELETE", "/things/1", ``, 405, "DELETE /things/1 is not supported; use GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body[:min(len(tt.body), 30)], func(t *testing.T) {
			var logs strings.Builder
			rec := httptest.NewRecorder()
			newMux(&logs).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.detail == "" {
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("content type %q", ct)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != ContentTypeProblem {
				t.Fatalf("content type %q, want %s", ct, ContentTypeProblem)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			// A detail ending in $ must end the problem's detail.
			want, whole := strings.CutSuffix(tt.detail, "$")
			if p.Status != tt.status || p.Title != http.StatusText(tt.status) || p.Instance != tt.path ||
				!strings.Contains(p.Detail, want) || whole && !strings.HasSuffix(p.Detail, want) {
				t.Fatalf("problem %+v, want status %d and detail containing %q", p, tt.status, tt.detail)
			}
			if tt.status == 500 && !strings.Contains(logs.String(), "disk on fire") {
				t.Fatalf("the cause of a 500 was not logged: %s", logs.String())
			}
			if strings.Contains(rec.Body.String(), "disk on fire") {
				t.Fatal("the cause of a 500 reached the client")
			}
			if tt.status == 405 && rec.Header().Get("Allow") != "GET" {
				t.Fatalf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
}
