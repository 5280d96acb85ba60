package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ProducerConfig configures a [Producer]. Set exactly one of Client and
// ClientOpts.
type ProducerConfig struct {
	// Client is a caller-owned client to produce with; Close leaves it open.
	// Its producer settings are the caller's: keep franz-go's defaults
	// (idempotent writes, acks=all) for the guarantees this package gives.
	Client *kgo.Client
	// ClientOpts builds a client owned by the producer: seed brokers, SASL,
	// TLS and any tuning. The producer appends acks=all; franz-go's producer
	// is idempotent by default, so retries never duplicate or reorder a
	// partition's records. Linger defaults to 0 (franz-go's default is
	// 10ms) because Publish waits for the ack; kgo.ProducerLinger here
	// overrides it.
	ClientOpts []kgo.Opt
	// Source stands for Event.Source when an event leaves it empty, e.g.
	// "member-service" (the event itself is not written to). Like
	// Event.Source it must be a URI-reference; Validate checks. Default: ""
	// (every event must then carry one).
	Source string
	// ContentMode is how events are laid out in records: [Structured] (the
	// default; one JSON object, readable by any JSON consumer) or [Binary]
	// (ce_* headers and the raw data; cheapest to consume). See
	// docs/events.md.
	ContentMode ContentMode
	// Logger receives the failures of events published with
	// [Producer.PublishAsync] and no callback, which would otherwise go
	// unnoticed. Default: [slog.Default].
	Logger *slog.Logger
}

// Validate reports a config that cannot work.
func (c *ProducerConfig) Validate() error {
	if (c.Client == nil) == (len(c.ClientOpts) == 0) {
		return errors.New("event: producer needs exactly one of Client or ClientOpts")
	}
	if err := checkConfigSource("ProducerConfig.Source", c.Source); err != nil {
		return err
	}
	return c.ContentMode.Validate()
}

// checkConfigSource refuses a default source that every event published
// without its own would fail on.
func checkConfigSource(field, source string) error {
	if source != "" && !validSource(source) {
		return fmt.Errorf("event: %s %q is not a URI-reference (RFC 3986): percent-encode spaces and other reserved characters, or use a name such as member-service", field, source)
	}
	return nil
}

// Producer publishes events as CloudEvents records (in its config's
// content mode) keyed by subject. It is safe for concurrent use.
type Producer struct {
	cl     *kgo.Client
	owned  bool
	source string
	mode   ContentMode
	log    *slog.Logger
}

// NewProducer returns a producer; call Close when done.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Producer{cl: cfg.Client, source: cfg.Source, mode: cfg.ContentMode, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.cl == nil {
		// No linger unless the caller asks for it: Publish and the relay wait
		// for each ack, so lingering only adds latency, and under load records
		// still batch while a produce request is in flight.
		opts := append([]kgo.Opt{kgo.ProducerLinger(0)}, cfg.ClientOpts...)
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return nil, fmt.Errorf("event: producer client: %w", err)
		}
		p.cl, p.owned = cl, true
	}
	return p, nil
}

// Client is the underlying franz-go client.
func (p *Producer) Client() *kgo.Client { return p.cl }

// record validates ev and builds its record, with ctx's traceparent.
func (p *Producer) record(ctx context.Context, topic string, ev *Event) (*kgo.Record, error) {
	if ev.Source == "" && p.source == "" {
		return nil, errNoSource(topic, ev, "ProducerConfig.Source")
	}
	r, err := ev.record(topic, p.source, p.mode)
	if err != nil {
		return nil, errCannotPublish(topic, ev, err)
	}
	addTraceparent(ctx, r)
	return r, nil
}

// Publish writes events to topic and returns once every one is acknowledged
// by all in-sync replicas, or the first error. Events with the same subject
// are written in argument order. ctx bounds the wait (give it a deadline);
// an event not acknowledged by then is reported failed, although it may
// still be written later, so a retry can duplicate it: consumers dedupe by
// event id.
func (p *Producer) Publish(ctx context.Context, topic string, events ...*Event) error {
	rs := make([]*kgo.Record, 0, len(events))
	for _, ev := range events {
		r, err := p.record(ctx, topic, ev)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	for _, err := range p.produce(ctx, rs) {
		if err != nil {
			return fmt.Errorf("event: publish to %s: %w", topic, err)
		}
	}
	return nil
}

// produce sends recs and returns each one's outcome, waiting at most until
// ctx ends. franz-go honours a context only until a record is in a produce
// request, so with a broker gone silent ProduceSync can outlive any
// deadline; here a record not acknowledged in time counts as failed (it
// may still land later, ahead of its own retry, which keeps key order).
func (p *Producer) produce(ctx context.Context, recs []*kgo.Record) []error {
	type result struct {
		i   int
		err error
	}
	done := make(chan result, len(recs))
	for i, rec := range recs {
		p.cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { done <- result{i, err} })
	}
	errs := make([]error, len(recs))
	for i := range errs {
		errs[i] = context.DeadlineExceeded
	}
	for range recs {
		select {
		case res := <-done:
			errs[res.i] = res.err
		case <-ctx.Done():
			return errs
		}
	}
	return errs
}

// PublishAsync buffers ev for topic and returns at once; done is called
// from a client goroutine with the outcome once the broker acknowledges it
// or it fails. Records are batched per partition, so this is the
// high-throughput form. Call [Producer.Flush] to wait for everything
// buffered. A validation error is passed to done synchronously. With a nil
// done, failures are logged at error level ([ProducerConfig.Logger]).
func (p *Producer) PublishAsync(ctx context.Context, topic string, ev *Event, done func(error)) {
	if done == nil {
		id, typ := ev.ID, ev.Type // the caller may reuse ev once we return
		done = func(err error) {
			if err != nil {
				p.log.Error("event: publish failed", "topic", topic, "id", id, "type", typ, "err", err)
			}
		}
	}
	r, err := p.record(ctx, topic, ev)
	if err != nil {
		done(err)
		return
	}
	p.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("event: publish to %s: %w", topic, err)
		}
		done(err)
	})
}

// Flush waits until every buffered event is acknowledged or failed, or ctx
// ends.
func (p *Producer) Flush(ctx context.Context) error { return p.cl.Flush(ctx) }

// Close closes the client if the producer created it. Buffered events that
// were not flushed fail.
func (p *Producer) Close() {
	if p.owned {
		p.cl.Close()
	}
}

// errNoSource is the error for an event with no source, from neither the
// event nor the config: a mistake in the publishing code, not in data, so
// the message names where a source goes.
func errNoSource(topic string, ev *Event, field string) error {
	return &invalidEventError{
		msg: fmt.Sprintf("event: cannot publish %q event %s to %s: it has no source: set %s (or Event.Source): %v",
			ev.Type, ev.ID, topic, field, ErrInvalid),
		err: decodeErr("", "source", ErrInvalid, "source is empty"),
	}
}

// errCannotPublish is the error for an event that fails validation on the
// produce path (Publish, Outbox.Add). It names the event and the topic and
// says what is wrong, in place of the *DecodeError's "event: decode field
// ..." wording, which reads as a consumer's failure; errors.Is and errors.As
// still find the *DecodeError and ErrInvalid.
func errCannotPublish(topic string, ev *Event, err error) error {
	return errInvalidEvent("publish", "to", topic, ev, err)
}

// errInvalidEvent words a validation error of ev for what the caller was
// doing with it (publish to a topic, encode for one).
func errInvalidEvent(verb, prep, topic string, ev *Event, err error) error {
	var de *DecodeError
	if !errors.As(err, &de) {
		return err
	}
	return &invalidEventError{msg: fmt.Sprintf("event: cannot %s %q event %s %s %s: %v", verb, ev.Type, ev.ID, prep, topic, de.Err), err: de}
}

// invalidEventError is what errInvalidEvent returns.
type invalidEventError struct {
	msg string
	err *DecodeError
}

func (e *invalidEventError) Error() string { return e.msg }
func (e *invalidEventError) Unwrap() error { return e.err }
