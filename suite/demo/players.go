package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/suite/events"
)

// players are the payment, contract, hall-of-fame and settlement services:
// one router consuming what the suite-room service publishes, and one
// producer per service answering it.
type players struct {
	cfg       Config
	n         *counters
	client    *http.Client
	router    *event.Router
	producers map[string]*event.Producer // by service
	pending   sync.WaitGroup             // settlements scheduled
	stop      chan struct{}
}

func newPlayers(cfg Config, n *counters, client *http.Client) (*players, error) {
	p := &players{cfg: cfg, n: n, client: client, producers: make(map[string]*event.Producer), stop: make(chan struct{})}
	for _, svc := range []string{events.PaymentService, events.ContractService, events.HallOfFameService, events.SettlementService} {
		prod, err := event.NewProducer(event.ProducerConfig{ClientOpts: cfg.ClientOpts, Source: svc})
		if err != nil {
			p.close()
			return nil, err
		}
		p.producers[svc] = prod
	}
	r, err := event.NewRouter(event.RouterConfig{ClientOpts: cfg.ClientOpts, Logger: cfg.Logger})
	if err != nil {
		p.close()
		return nil, err
	}
	handle := func(service, topic string, h event.HandlerFunc) {
		r.Handle(cfg.TopicPrefix+events.Group(service, topic), cfg.topicOf(topic), h)
	}
	handle(events.PaymentService, events.TopicDepositPayment, p.pay)
	handle(events.PaymentService, events.TopicCancelJoin, p.refund)
	handle(events.ContractService, events.TopicContractCreation, p.contract)
	p.router = r
	return p, nil
}

// publish sends one event of topic about room as service.
func (p *players) publish(ctx context.Context, service, topic string, room events.ID, data any) error {
	ev, err := event.New(topic, room.String(), data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return p.producers[service].Publish(ctx, p.cfg.topicOf(topic), ev)
}

// pay takes every deposit: payment confirmed, the member is in.
func (p *players) pay(ctx context.Context, msg *event.Message) error {
	d, err := events.Decode[events.DepositPayment](msg, events.TopicDepositPayment)
	if err != nil {
		return err
	}
	if err := p.publish(ctx, events.PaymentService, events.TopicJoin, d.SuiteRoomID,
		events.Join{SuiteRoomID: d.SuiteRoomID, IsHost: d.IsHost, AuthorizerDto: d.AuthorizerDto}); err != nil {
		return err
	}
	p.n.payments.Add(1)
	return nil
}

// refund refunds a deposit, failing a share of them.
func (p *players) refund(ctx context.Context, msg *event.Message) error {
	d, err := events.Decode[events.DepositPayment](msg, events.TopicCancelJoin)
	if err != nil {
		return err
	}
	p.n.refunds.Add(1)
	if !fails(msg.Event, p.cfg.RefundFailureRate) {
		return nil
	}
	if err := p.publish(ctx, events.PaymentService, events.TopicCancelJoinError, d.SuiteRoomID,
		events.Join{SuiteRoomID: d.SuiteRoomID, IsHost: d.IsHost, AuthorizerDto: d.AuthorizerDto}); err != nil {
		return err
	}
	p.n.refundFailures.Add(1)
	return nil
}

// contract creates study contracts, failing a share of them; a room whose
// contract exists runs for RoomLifetime, is honoured and terminated.
func (p *players) contract(ctx context.Context, msg *event.Message) error {
	c, err := events.Decode[events.ContractCreation](msg, events.TopicContractCreation)
	if err != nil {
		return err
	}
	p.n.contracts.Add(1)
	if fails(msg.Event, p.cfg.ContractFailureRate) {
		if err := p.publish(ctx, events.ContractService, events.TopicStartError, c.SuiteRoomID,
			events.RoomRef{SuiteRoomID: c.SuiteRoomID}); err != nil {
			return err
		}
		p.n.contractFailures.Add(1)
		return nil
	}
	p.pending.Add(1)
	go func() {
		defer p.pending.Done()
		select {
		case <-p.stop:
			return
		case <-time.After(p.cfg.RoomLifetime):
		}
		p.settle(c.SuiteRoomID)
	}()
	return nil
}

// settle honours a finished room and, once the suite-room service shows
// the honour, terminates it: the two events travel on different topics,
// so sent back to back the termination could overtake the honour.
func (p *players) settle(room events.ID) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	points := events.Int(10 * (1 + rand.IntN(20)))
	if err := p.publish(ctx, events.HallOfFameService, events.TopicHallOfFame, room,
		events.HallOfFameSelection{SuiteRoomID: room, HonorPoint: points}); err != nil {
		p.cfg.Logger.Warn("demo: hall of fame", "room", room, "err", err)
		return
	}
	p.n.honours.Add(1)
	p.awaitHonour(ctx, room, points)
	if err := p.publish(ctx, events.SettlementService, events.TopicTerminateComplete, room,
		events.RoomRef{SuiteRoomID: room}); err != nil {
		p.cfg.Logger.Warn("demo: settlement", "room", room, "err", err)
		return
	}
	p.n.terminations.Add(1)
}

// awaitHonour polls the API (for up to 10s) until room shows points.
func (p *players) awaitHonour(ctx context.Context, room events.ID, points events.Int) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/suiterooms/%d", p.cfg.API, room), nil)
		if err != nil {
			return
		}
		var r struct {
			HonorPoint int64 `json:"honorPoint"`
		}
		if resp, err := p.client.Do(req); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err == nil && r.HonorPoint == int64(points) {
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// wait drops the settlements not yet due and waits for those running.
func (p *players) wait() {
	close(p.stop)
	p.pending.Wait()
}

func (p *players) close() {
	for _, prod := range p.producers {
		prod.Close()
	}
}
