// Package suite runs the Suite's services — the member service and the
// suite-room service — behind one HTTP listener with /metrics and /healthz.
// It is what `ksuite serve` and `ksuite up` start; each service lives in its
// own package (suite/member, suite/suiteroom) with its own tables and
// consumer groups, and they share nothing but Kafka.
package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/event/eventprom"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/internal/httpapi"
	"github.com/ksuite/ksuite/suite/internal/sqldb"
	"github.com/ksuite/ksuite/suite/member"
	"github.com/ksuite/ksuite/suite/suiteroom"
)

// The services [Config.Services] may name.
const (
	Member    = "member"
	SuiteRoom = "suiteroom"
)

// DefaultListen is the API address: the team's server port.
const DefaultListen = "127.0.0.1:9010"

// DefaultDB is the SQLite database used when Config.DB is empty.
const DefaultDB = sqldb.DefaultPath

// Config configures [Start].
type Config struct {
	// ClientOpts reach Kafka: seed brokers, SASL, TLS.
	ClientOpts []kgo.Opt
	// DB is a postgres:// URL or a SQLite file. Default DefaultDB.
	DB string
	// Listen is the API's address. Default DefaultListen; port 0 picks one.
	Listen string
	// Services lists the services to run. Default: both.
	Services []string
	// TopicPrefix and GroupPrefix are put before topic and consumer group
	// names (tests on a shared cluster); "" in production.
	TopicPrefix, GroupPrefix string
	// MaxBatch bounds the events the suite-room service applies per
	// transaction. Default: the service's.
	MaxBatch int
	// Logger receives operational logs. Default: slog.Default().
	Logger *slog.Logger
}

// service is what the server needs of a service.
type service interface {
	Register(*http.ServeMux)
	Run(context.Context) error
	Health(context.Context) error
	Close()
}

// Server is a running set of services.
type Server struct {
	cfg      Config
	ln       net.Listener
	http     *http.Server
	services map[string]service
	db       *sqldb.DB
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	done     chan struct{}
	mu       sync.Mutex
	err      error
	closed   sync.Once
}

// Start opens the database, migrates it, starts the services and serves
// the API; it returns once the API accepts connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if len(cfg.Services) == 0 {
		cfg.Services = []string{Member, SuiteRoom}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var names []string
	for _, name := range cfg.Services {
		if name != Member && name != SuiteRoom {
			return nil, fmt.Errorf("unknown service %q: the services are %s and %s", name, Member, SuiteRoom)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	cfg.Services = names
	s := &Server{cfg: cfg, services: make(map[string]service), done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	// One pool for both services: on SQLite one connection per file is
	// what keeps writers from sleeping in SQLite's busy handler.
	db, err := sqldb.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	s.db = db
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := eventprom.New(reg)
	if err != nil {
		return nil, err
	}
	for _, name := range cfg.Services {
		var svc service
		switch name {
		case Member:
			svc, err = member.New(ctx, member.Config{DB: db.DB, Dialect: db.Dialect, ClientOpts: cfg.ClientOpts,
				TopicPrefix: cfg.TopicPrefix, Observer: metrics, Logger: cfg.Logger})
		case SuiteRoom:
			svc, err = suiteroom.New(ctx, suiteroom.Config{DB: db.DB, Dialect: db.Dialect, ClientOpts: cfg.ClientOpts,
				TopicPrefix: cfg.TopicPrefix, GroupPrefix: cfg.GroupPrefix, MaxBatch: cfg.MaxBatch, Observer: metrics, Logger: cfg.Logger})
		}
		if err != nil {
			return nil, err
		}
		s.services[name] = svc
	}
	s.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("API address %s is already in use: stop what holds it or choose another with --api-listen", cfg.Listen)
		}
		return nil, fmt.Errorf("API address %s: %w (choose another with --api-listen)", cfg.Listen, err)
	}
	s.http = &http.Server{Handler: s.handler(reg), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	for _, name := range cfg.Services {
		svc := s.services[name]
		s.wg.Go(func() {
			if err := svc.Run(runCtx); err != nil {
				s.fail(fmt.Errorf("%s service: %w", name, err))
			}
		})
	}
	s.wg.Go(func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("API: %w", err))
		}
	})
	cfg.Logger.Info("suite services started", "services", cfg.Services, "api", s.URL(), "db", db.Name)
	ok = true
	return s, nil
}

// handler is the API, /metrics and /healthz, with request metrics.
func (s *Server) handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	for _, name := range s.cfg.Services {
		s.services[name].Register(mux)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	requests := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ksuite_suite_http_request_duration_seconds",
		Help:    "API requests by route, method and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method", "code"})
	reg.MustRegister(requests)
	routed := httpapi.NotFoundHandler(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		routed.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on r
		if route == "" {
			route = "unmatched"
		}
		requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Health is the /healthz body.
type Health struct {
	Status   string            `json:"status"`
	Services map[string]string `json:"services"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h := Health{Status: "ok", Services: make(map[string]string)}
	code := http.StatusOK
	for name, svc := range s.services {
		h.Services[name] = "ok"
		if err := svc.Health(ctx); err != nil {
			h.Services[name], h.Status, code = err.Error(), "unavailable", http.StatusServiceUnavailable
		}
	}
	if err := s.Err(); err != nil {
		h.Status, code = "failed: "+err.Error(), http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(h)
}

// Addr is the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the API's base URL, http://host:port.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Done is closed when a service fails for good; Err says why.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the failure that closed Done, or nil.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Server) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		close(s.done)
	}
}

// ShutdownTimeout bounds how long Close waits for requests in flight.
const ShutdownTimeout = 10 * time.Second

// Close stops serving (letting requests in flight finish), stops the
// services gracefully (handlers finish and commit, the outbox relay marks
// what it sent) and closes the database.
func (s *Server) Close() {
	s.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			s.cfg.Logger.Warn("API shutdown", "err", err)
		}
		s.cancel()
		s.wg.Wait()
		s.release()
	})
}

// release closes the services' clients and the database.
func (s *Server) release() {
	for _, svc := range s.services {
		svc.Close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
}

// Topics lists the topics services (default: both) publish to or consume,
// with the dead-letter topics of those they consume, in catalogue order.
func Topics(services ...string) []string {
	if len(services) == 0 {
		services = []string{Member, SuiteRoom}
	}
	var out []string
	add := func(ts ...string) {
		for _, t := range ts {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	for _, name := range services {
		svc := map[string]string{Member: events.MemberService, SuiteRoom: events.SuiteRoomService}[name]
		add(events.Produces(svc)...)
		for _, t := range events.Consumes(svc) {
			add(t, event.DeadLetterTopic(t))
		}
	}
	return out
}
