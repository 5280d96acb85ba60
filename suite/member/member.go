// Package member is the Suite's member service: members sign up over HTTP,
// and each new member is published as a signup-event through a
// transactional outbox, so the event exists exactly when the member does.
//
//	POST /api/members            {email, name, nickName} → 201 the member
//	GET  /api/members/{memberId} → 200 the member, or 404
//
// Its tables (member_*) are its own; other services learn about members
// only from signup-event.
package member

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/suite/events"
	"github.com/ksuite/ksuite/suite/internal/httpapi"
	"github.com/ksuite/ksuite/suite/internal/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// migrations holds <dialect>/NNNN_what.sql.
var migrations, _ = fs.Sub(migrationFiles, "migrations")

// Table names.
const (
	OutboxTable     = "member_outbox"
	migrationsTable = "member_schema_migrations"
)

// Config configures a [Service].
type Config struct {
	// DB holds the service's tables, created at start.
	DB *sql.DB
	// Dialect is event.SQLite or event.Postgres.
	Dialect event.Dialect
	// ClientOpts reach Kafka (seed brokers, SASL, TLS).
	ClientOpts []kgo.Opt
	// TopicPrefix is put before every topic name; "" in production, a
	// unique prefix for tests sharing a cluster.
	TopicPrefix string
	// Observer receives the outbox relay's measurements (see eventprom).
	// Default: none.
	Observer event.Observer
	// Logger receives operational logs. Default: slog.Default().
	Logger *slog.Logger
}

// Service is a running member service.
type Service struct {
	cfg      Config
	db       *sqldb.DB
	outbox   *event.Outbox
	producer *event.Producer
	relay    *event.Relay
	topic    string
}

// New migrates the database and prepares the service; [Service.Run] starts
// relaying, [Service.Register] serves the API.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DB == nil || len(cfg.ClientOpts) == 0 {
		return nil, errors.New("member: Config needs a DB and ClientOpts")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("service", events.MemberService)
	db := &sqldb.DB{DB: cfg.DB, Dialect: cfg.Dialect}
	if err := db.Migrate(ctx, migrations, migrationsTable); err != nil {
		return nil, fmt.Errorf("member: %w", err)
	}
	outbox, err := event.NewOutbox(event.OutboxConfig{DB: cfg.DB, Dialect: cfg.Dialect, Table: OutboxTable, Source: events.MemberService})
	if err != nil {
		return nil, err
	}
	if err := outbox.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("member: %w", err)
	}
	producer, err := event.NewProducer(event.ProducerConfig{ClientOpts: cfg.ClientOpts, Source: events.MemberService})
	if err != nil {
		return nil, fmt.Errorf("member: %w", err)
	}
	relay, err := event.NewRelay(event.RelayConfig{Outbox: outbox, Producer: producer, Observer: cfg.Observer, Logger: cfg.Logger,
		WakeUp: db.RelayWakeUp(outbox, cfg.Logger)})
	if err != nil {
		producer.Close()
		return nil, err
	}
	return &Service{cfg: cfg, db: db, outbox: outbox, producer: producer, relay: relay,
		topic: cfg.TopicPrefix + events.TopicSignup}, nil
}

// Run relays the outbox to Kafka until ctx is cancelled.
func (s *Service) Run(ctx context.Context) error { return s.relay.Run(ctx) }

// Close releases the Kafka client; call it after Run returned.
func (s *Service) Close() { s.producer.Close() }

// Health reports whether the service's database answers.
func (s *Service) Health(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("member database: %w", err)
	}
	return nil
}

// Register adds the service's routes to mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/members", httpapi.Handle(s.cfg.Logger, s.postMember))
	mux.Handle("GET /api/members/{memberId}", httpapi.Handle(s.cfg.Logger, s.getMember))
}

// Member is a member as the API shows it (and signup-event carries it).
type Member struct {
	MemberID   int64     `json:"memberId"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	NickName   string    `json:"nickName"`
	SignedUpAt time.Time `json:"signedUpAt"`
}

// SignUp is the body of POST /api/members.
type SignUp struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	NickName string `json:"nickName"`
}

func (s *Service) postMember(w http.ResponseWriter, r *http.Request) error {
	var in SignUp
	if err := httpapi.ReadJSON(r, &in); err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	m, err := s.signUp(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/members/%d", m.MemberID))
	return httpapi.WriteJSON(w, http.StatusCreated, m)
}

func (s *Service) getMember(w http.ResponseWriter, r *http.Request) error {
	id, err := httpapi.PathID(r, "memberId")
	if err != nil {
		return err
	}
	m, err := s.member(r.Context(), id)
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, m)
}
