// Package eventprom exposes the measurements of package event's router and
// outbox relay as Prometheus metrics. It is a separate package so services
// that use another metrics system do not link client_golang.
//
//	m, err := eventprom.New(registry) // your registry, never a global one
//	router, err := event.NewRouter(event.RouterConfig{..., Observer: m})
//	relay, err := event.NewRelay(event.RelayConfig{..., Observer: m})
//	http.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
package eventprom

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ksuite/ksuite/event"
)

// Metrics is an [event.Observer] implementing every observer interface with
// Prometheus collectors:
//
//	<ns>_records_consumed_total{group,topic}        records polled (again after a retry pause)
//	<ns>_records_handled_total{group,topic}         handled successfully (duplicates included)
//	<ns>_duplicates_total{group,topic}              redeliveries the inbox recognised and skipped
//	<ns>_handler_failures_total{group,topic}        handler calls that failed
//	<ns>_retries_total{group,topic}                 retries after a failure
//	<ns>_dead_lettered_total{group,topic}           records sent to <topic>.DLT
//	<ns>_handler_duration_seconds{group,topic}      handler latency, success or not
//	<ns>_consumer_lag{group,topic,partition}        records behind the partition end
//	<ns>_outbox_backlog{table}                      outbox rows not yet published
//	<ns>_outbox_parked_total{table,topic}           outbox rows Kafka rejected for good
type Metrics struct {
	consumed, handled, duplicates, failed, retried, deadLettered *prometheus.CounterVec
	latency                                                      *prometheus.HistogramVec
	lag, backlog                                                 *prometheus.GaugeVec
	parked                                                       *prometheus.CounterVec
}

// Metrics observes everything the router and the relay report.
var _ interface {
	event.ConsumedObserver
	event.HandledObserver
	event.FailedObserver
	event.RetriedObserver
	event.DeadLetteredObserver
	event.DuplicateObserver
	event.LagObserver
	event.OutboxBacklogObserver
	event.OutboxParkedObserver
} = (*Metrics)(nil)

// Option tunes [New].
type Option func(*options)

type options struct {
	namespace string
	buckets   []float64
}

// Namespace prefixes every metric name. Default "ksuite_event".
func Namespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// Buckets sets the handler latency histogram buckets, in seconds. Default:
// 0.5ms to 10s, roughly ×2.5 apart, which covers no-op handlers through
// slow database transactions.
func Buckets(b ...float64) Option { return func(o *options) { o.buckets = b } }

// New creates the collectors and registers them on reg. It fails if reg
// already holds metrics of the same names (e.g. New called twice on it),
// and then registers none.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	o := options{
		namespace: "ksuite_event",
		buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}
	for _, opt := range opts {
		opt(&o)
	}
	gt := []string{"group", "topic"}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: o.namespace, Name: name, Help: help}, gt)
	}
	m := &Metrics{
		consumed:     counter("records_consumed_total", "Records polled by the router."),
		handled:      counter("records_handled_total", "Records whose handler succeeded, duplicates skipped by the inbox included."),
		duplicates:   counter("duplicates_total", "Redelivered events the inbox had handled before and skipped."),
		failed:       counter("handler_failures_total", "Handler calls that returned an error or panicked."),
		retried:      counter("retries_total", "Handler retries after a failure."),
		deadLettered: counter("dead_lettered_total", "Records written to their dead-letter topic."),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: o.namespace, Name: "handler_duration_seconds",
			Help: "Handler call latency, successful or not.", Buckets: o.buckets,
		}, gt),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: o.namespace, Name: "consumer_lag",
			Help: "Records between the last handled one and the partition's high watermark.",
		}, []string{"group", "topic", "partition"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: o.namespace, Name: "outbox_backlog", Help: "Outbox rows not yet published.",
		}, []string{"table"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: o.namespace, Name: "outbox_parked_total",
			Help: "Outbox rows Kafka rejected for good, parked with their error.",
		}, []string{"table", "topic"}),
	}
	cs := []prometheus.Collector{m.consumed, m.handled, m.duplicates, m.failed, m.retried, m.deadLettered, m.latency, m.lag, m.backlog, m.parked}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			// All or nothing: a half-registered set would make the
			// retry the error suggests fail too.
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				return nil, fmt.Errorf("eventprom: the registry already has %s_* metrics (New called twice on it?): "+
					"share the first Metrics, or give this one another registry or eventprom.Namespace: %w", o.namespace, err)
			}
			return nil, fmt.Errorf("eventprom: register the %s_* metrics: %w", o.namespace, err)
		}
	}
	return m, nil
}

// Consumed implements [event.ConsumedObserver].
func (m *Metrics) Consumed(group, topic string, _ int32) {
	m.consumed.WithLabelValues(group, topic).Inc()
}

// Handled implements [event.HandledObserver].
func (m *Metrics) Handled(group, topic string, d time.Duration) {
	m.handled.WithLabelValues(group, topic).Inc()
	m.latency.WithLabelValues(group, topic).Observe(d.Seconds())
}

// Duplicate implements [event.DuplicateObserver].
func (m *Metrics) Duplicate(group, topic string) { m.duplicates.WithLabelValues(group, topic).Inc() }

// Failed implements [event.FailedObserver].
func (m *Metrics) Failed(group, topic string, d time.Duration, _ error) {
	m.failed.WithLabelValues(group, topic).Inc()
	m.latency.WithLabelValues(group, topic).Observe(d.Seconds())
}

// Retried implements [event.RetriedObserver].
func (m *Metrics) Retried(group, topic string) { m.retried.WithLabelValues(group, topic).Inc() }

// DeadLettered implements [event.DeadLetteredObserver].
func (m *Metrics) DeadLettered(group, topic string) {
	m.deadLettered.WithLabelValues(group, topic).Inc()
}

// Lag implements [event.LagObserver].
func (m *Metrics) Lag(group, topic string, partition int32, lag int64) {
	m.lag.WithLabelValues(group, topic, strconv.Itoa(int(partition))).Set(float64(lag))
}

// OutboxBacklog implements [event.OutboxBacklogObserver].
func (m *Metrics) OutboxBacklog(table string, rows int64) {
	m.backlog.WithLabelValues(table).Set(float64(rows))
}

// OutboxParked implements [event.OutboxParkedObserver].
func (m *Metrics) OutboxParked(table, topic string) { m.parked.WithLabelValues(table, topic).Inc() }
