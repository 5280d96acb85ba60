package suite

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fakeService answers Health with err.
type fakeService struct{ err error }

func (fakeService) Register(*http.ServeMux)        {}
func (fakeService) Run(context.Context) error      { return nil }
func (f fakeService) Health(context.Context) error { return f.err }
func (fakeService) Close()                         {}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name     string
		services map[string]service
		failed   error
		code     int
		want     Health
	}{
		{"healthy", map[string]service{Member: fakeService{}, SuiteRoom: fakeService{}}, nil, 200,
			Health{Status: "ok", Services: map[string]string{"member": "ok", "suiteroom": "ok"}}},
		{"a database down", map[string]service{Member: fakeService{}, SuiteRoom: fakeService{errors.New("suite-room database: connection refused")}}, nil, 503,
			Health{Status: "unavailable", Services: map[string]string{"member": "ok", "suiteroom": "suite-room database: connection refused"}}},
		{"a service failed", map[string]service{Member: fakeService{}}, errors.New("member service: boom"), 503,
			Health{Status: "failed: member service: boom", Services: map[string]string{"member": "ok"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{services: tt.services, done: make(chan struct{})}
			if tt.failed != nil {
				s.fail(tt.failed)
			}
			rec := httptest.NewRecorder()
			s.healthz(rec, httptest.NewRequest("GET", "/healthz", nil))
			var got Health
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.code || got.Status != tt.want.Status || len(got.Services) != len(tt.want.Services) {
				t.Fatalf("%d %+v, want %d %+v", rec.Code, got, tt.code, tt.want)
			}
			for k, v := range tt.want.Services {
				if got.Services[k] != v {
					t.Fatalf("service %s: %q, want %q", k, got.Services[k], v)
				}
			}
		})
	}
}
