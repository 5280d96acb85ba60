// Package suiteroom is the Suite's suite-room service: study rooms with a
// host, paid participation and hall-of-fame honours, run as a saga with the
// payment and contract services over Kafka.
//
// A member asks to join (POST .../participants): the service records the
// request and publishes deposit-payment; when the payment service confirms
// with suiteroom-join, the member is a READY participant. Leaving publishes
// suiteroom-canceljoin (a refund); a failed refund (suiteroom-canceljoin-error)
// restores the participant. Starting a room publishes
// suiteroom-contract-creation; a failure (suiteroom-start-error) reverts the
// start. See docs/services.md for the API and docs/events.md for the events.
//
// Every event is applied exactly once through an inbox in the service's own
// database, in batches (one transaction, a few multi-row statements, for up
// to hundreds of events); an event that cannot apply goes to <topic>.DLT
// with the reason. Its tables (suiteroom_*) are its own: it knows members
// only from signup-event.
package suiteroom

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
	OutboxTable     = "suiteroom_outbox"
	InboxTable      = "suiteroom_inbox"
	migrationsTable = "suiteroom_schema_migrations"
)

// InboxRetention is how long the inbox remembers an applied event: longer
// than the topics keep records (7 days in topics.yaml), so a replay from
// offset 0 finds every event it could meet.
const InboxRetention = 8 * 24 * time.Hour

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
	// GroupPrefix is put before every consumer group name. Default:
	// TopicPrefix. A new prefix is a fresh set of groups, which replays
	// every topic from offset 0; the inbox makes that a no-op.
	GroupPrefix string
	// MaxBatch bounds the events applied in one transaction. Default 500.
	MaxBatch int
	// Observer receives the router's and relay's measurements (see
	// eventprom). Default: none.
	Observer event.Observer
	// Logger receives operational logs. Default: slog.Default().
	Logger *slog.Logger
}

// Service is a running suite-room service.
type Service struct {
	cfg      Config
	db       *sqldb.DB
	outbox   *event.Outbox
	inboxes  map[string]*event.Inbox // by catalogue topic
	producer *event.Producer
	relay    *event.Relay
	router   *event.Router
	log      *slog.Logger
}

// New migrates the database and prepares the service; [Service.Run]
// consumes and relays, [Service.Register] serves the API.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.DB == nil || len(cfg.ClientOpts) == 0 {
		return nil, errors.New("suiteroom: Config needs a DB and ClientOpts")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.GroupPrefix == "" {
		cfg.GroupPrefix = cfg.TopicPrefix
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 500
	}
	s := &Service{cfg: cfg, db: &sqldb.DB{DB: cfg.DB, Dialect: cfg.Dialect}, inboxes: make(map[string]*event.Inbox),
		log: cfg.Logger.With("service", events.SuiteRoomService)}
	if err := s.db.Migrate(ctx, migrations, migrationsTable); err != nil {
		return nil, fmt.Errorf("suiteroom: %w", err)
	}
	var err error
	s.outbox, err = event.NewOutbox(event.OutboxConfig{DB: cfg.DB, Dialect: cfg.Dialect, Table: OutboxTable, Source: events.SuiteRoomService})
	if err != nil {
		return nil, err
	}
	if err := s.outbox.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("suiteroom: %w", err)
	}
	for _, topic := range events.Consumes(events.SuiteRoomService) {
		// The inbox keys events by the consumer's name, not its Kafka group,
		// so a fresh group (a replay) skips what was applied.
		in, err := event.NewInbox(event.InboxConfig{DB: cfg.DB, Dialect: cfg.Dialect, Table: InboxTable,
			Consumer: events.Group(events.SuiteRoomService, topic)})
		if err != nil {
			return nil, err
		}
		if err := in.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("suiteroom: %w", err)
		}
		s.inboxes[topic] = in
	}
	s.producer, err = event.NewProducer(event.ProducerConfig{ClientOpts: cfg.ClientOpts, Source: events.SuiteRoomService})
	if err != nil {
		return nil, fmt.Errorf("suiteroom: %w", err)
	}
	s.relay, err = event.NewRelay(event.RelayConfig{Outbox: s.outbox, Producer: s.producer, Observer: cfg.Observer, Logger: s.log,
		WakeUp: s.db.RelayWakeUp(s.outbox, s.log)})
	if err == nil {
		s.router, err = s.newRouter()
	}
	if err != nil {
		s.producer.Close()
		return nil, fmt.Errorf("suiteroom: %w", err)
	}
	return s, nil
}

// topic is the real name of a catalogue topic.
func (s *Service) topic(name string) string { return s.cfg.TopicPrefix + name }

// Run consumes the service's topics and relays its outbox until ctx is
// cancelled, then shuts down gracefully.
func (s *Service) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.router.Run(ctx) }()
	go func() { errc <- s.relay.Run(ctx) }()
	go s.pruneInbox(ctx)
	return errors.Join(<-errc, <-errc)
}

// pruneInbox forgets applied events older than InboxRetention, hourly. The
// consumers share one inbox table, so one inbox's Prune serves them all.
func (s *Service) pruneInbox(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if _, err := s.inboxes[events.TopicJoin].Prune(ctx, InboxRetention); err != nil && ctx.Err() == nil {
			s.log.Warn("inbox prune", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Close releases the Kafka client; call it after Run returned.
func (s *Service) Close() { s.producer.Close() }

// Health reports whether the service's database answers.
func (s *Service) Health(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("suite-room database: %w", err)
	}
	return nil
}

// Register adds the service's routes to mux.
func (s *Service) Register(mux *http.ServeMux) {
	h := func(fn httpapi.HandlerFunc) http.Handler { return httpapi.Handle(s.log, fn) }
	mux.Handle("POST /api/suiterooms", h(s.postRoom))
	mux.Handle("GET /api/suiterooms", h(s.listRooms))
	mux.Handle("GET /api/suiterooms/{suiteRoomId}", h(s.getRoom))
	mux.Handle("POST /api/suiterooms/{suiteRoomId}/participants", h(s.postParticipant))
	mux.Handle("DELETE /api/suiterooms/{suiteRoomId}/participants/{memberId}", h(s.deleteParticipant))
	mux.Handle("POST /api/suiterooms/{suiteRoomId}/start", h(s.postStart))
}
