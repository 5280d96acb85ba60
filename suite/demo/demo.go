// Package demo is a driver for the Suite services, not a part of them: it
// plays the services outside this repository over Kafka only — payment,
// contract, hall of fame and settlement — and sends realistic traffic
// through the services' API (sign-ups, rooms, joins, cancels, starts), so
// the whole saga runs end to end. `ksuite demo` runs it; with a rate and a
// duration it is the load generator of the benchmarks.
package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
)

// Config configures [Run].
type Config struct {
	// ClientOpts reach Kafka.
	ClientOpts []kgo.Opt
	// API is the services' base URL. Default http://127.0.0.1:9010.
	API string
	// TopicPrefix is put before every topic and group name, as the
	// services' own.
	TopicPrefix string
	// Rate is the API calls per second of the traffic. Default 5.
	Rate float64
	// Duration ends the run; 0 runs until ctx is cancelled.
	Duration time.Duration
	// PlayersOnly plays the other services without sending traffic (drive
	// the API yourself).
	PlayersOnly bool
	// RefundFailureRate is the share of refunds that fail (0..1), answered
	// with suiteroom-canceljoin-error (`ksuite demo`'s default: 0.2).
	RefundFailureRate float64
	// ContractFailureRate is the share of contract creations that fail
	// (0..1), answered with suiteroom-start-error (`ksuite demo`'s default:
	// 0.2).
	ContractFailureRate float64
	// RoomLifetime is how long a started room runs before the hall of fame
	// honours it and settlement terminates it. Default 10s.
	RoomLifetime time.Duration
	// Logger receives progress. Default: slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.API == "" {
		c.API = "http://127.0.0.1:9010"
	}
	c.API = strings.TrimSuffix(c.API, "/")
	if c.Rate <= 0 {
		c.Rate = 5
	}
	if c.RoomLifetime <= 0 {
		c.RoomLifetime = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a config that cannot work.
func (c *Config) Validate() error {
	switch {
	case len(c.ClientOpts) == 0:
		return errors.New("demo: no Kafka client options (seed brokers)")
	case c.RefundFailureRate < 0 || c.RefundFailureRate > 1 || c.ContractFailureRate < 0 || c.ContractFailureRate > 1:
		return errors.New("failure rates are shares from 0 to 1, e.g. 0.2")
	}
	return nil
}

// Stats counts what a run did.
type Stats struct {
	// Traffic through the API.
	Signups      int64 `json:"signups"`
	Rooms        int64 `json:"rooms"`
	JoinRequests int64 `json:"joinRequests"`
	Leaves       int64 `json:"leaves"`
	Starts       int64 `json:"starts"`
	// Answers the API refused as the rules say (full, not yet known, ...).
	Refused int64 `json:"refused"`
	// Failures of the API (5xx, unreachable).
	Errors int64 `json:"errors"`
	// What the other services published.
	Payments         int64 `json:"payments"`
	Refunds          int64 `json:"refunds"`
	RefundFailures   int64 `json:"refundFailures"`
	Contracts        int64 `json:"contracts"`
	ContractFailures int64 `json:"contractFailures"`
	Honours          int64 `json:"honours"`
	Terminations     int64 `json:"terminations"`
}

// counters is Stats updated concurrently.
type counters struct {
	signups, rooms, joinRequests, leaves, starts, refused, errors  atomic.Int64
	payments, refunds, refundFailures, contracts, contractFailures atomic.Int64
	honours, terminations                                          atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Signups: c.signups.Load(), Rooms: c.rooms.Load(), JoinRequests: c.joinRequests.Load(), Leaves: c.leaves.Load(),
		Starts: c.starts.Load(), Refused: c.refused.Load(), Errors: c.errors.Load(),
		Payments: c.payments.Load(), Refunds: c.refunds.Load(), RefundFailures: c.refundFailures.Load(),
		Contracts: c.contracts.Load(), ContractFailures: c.contractFailures.Load(),
		Honours: c.honours.Load(), Terminations: c.terminations.Load(),
	}
}

// Driver is a demo run.
type Driver struct {
	cfg    Config
	n      counters
	client *http.Client
}

// New checks cfg and returns a driver; Run it.
func New(cfg Config) (*Driver, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Driver{cfg: cfg, client: &http.Client{Timeout: 15 * time.Second}}, nil
}

// Run plays the other services and, unless PlayersOnly, sends traffic, until
// Duration passes or ctx is cancelled; then it returns nil. It fails at
// once when the API does not answer.
func (d *Driver) Run(ctx context.Context) error {
	cfg := d.cfg
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	if !cfg.PlayersOnly {
		if err := checkAPI(ctx, d.client, cfg.API); err != nil {
			return err
		}
	}
	p, err := newPlayers(cfg, &d.n, d.client)
	if err != nil {
		return err
	}
	defer p.close()
	done := make(chan error, 1)
	go func() { done <- p.router.Run(ctx) }()
	go progress(ctx, cfg.Logger, &d.n)
	if !cfg.PlayersOnly {
		t := &traffic{cfg: cfg, client: d.client, n: &d.n, name: runID()}
		t.run(ctx)
	}
	err = <-done
	p.wait()
	return err
}

// Stats counts what the run did so far; it is safe to call during Run.
func (d *Driver) Stats() Stats { return d.n.snapshot() }

// checkAPI fails fast, with the fix, when nothing answers at api.
func checkAPI(ctx context.Context, client *http.Client, api string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", api+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("--api %s: %w", api, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Suite API at %s: start `ksuite up` or `ksuite serve`, or pass --api (%w)", api, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the Suite API at %s is not healthy: /healthz answered %s", api, resp.Status)
	}
	return nil
}

// progress logs the counts every 5 seconds.
func progress(ctx context.Context, log *slog.Logger, n *counters) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s := n.snapshot()
			log.Info("demo", "signups", s.Signups, "rooms", s.Rooms, "joinRequests", s.JoinRequests, "payments", s.Payments,
				"leaves", s.Leaves, "refundFailures", s.RefundFailures, "starts", s.Starts, "contractFailures", s.ContractFailures,
				"terminations", s.Terminations, "errors", s.Errors)
		}
	}
}

// fails decides, the same way for every delivery of an event, whether the
// player fails it: a redelivered event gets the same answer.
func fails(ev *event.Event, rate float64) bool {
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(ev.Source))
	h.Write([]byte(ev.ID))
	return float64(h.Sum64()%10000) < rate*10000
}

// topicOf is the real name of a catalogue topic.
func (c Config) topicOf(name string) string { return c.TopicPrefix + name }
