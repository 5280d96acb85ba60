package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RouterConfig configures a [Router]. Only ClientOpts is required.
type RouterConfig struct {
	// ClientOpts are the franz-go options every consumer (one client per
	// group) and the dead-letter producer start from: seed brokers, SASL,
	// TLS, and group tuning such as kgo.SessionTimeout (the router's
	// default is 10s, not franz-go's 45s: see [DefaultSessionTimeout]) or
	// kgo.HeartbeatInterval.
	//
	// The router adds the options its guarantees need itself: consumer
	// group and topics (from Handle), AutoCommitMarks, BlockRebalanceOnPoll,
	// cooperative-sticky balancing, read-committed isolation, the reset
	// offset (ResetOffset), the instance id (InstanceID), the revoke and
	// lost callbacks (kgo.OnPartitionsAssigned is left to you), and
	// acks=all for dead letters. Validate rejects those options here
	// (DisableAutoCommit and TransactionalID too), naming the field to use
	// instead, rather than silently overriding them; AutoCommitMarks and
	// BlockRebalanceOnPoll, which would change nothing, are accepted.
	ClientOpts []kgo.Opt
	// InstanceID turns on static group membership (KIP-345): a router
	// restarted with the same InstanceID takes its partitions back at
	// once, without a rebalance, instead of waiting for the group to
	// expire the crashed member's session. It must be unique among the
	// members of each group and stable across restarts of one replica: a
	// StatefulSet pod name or a host name, not a random value. Two live
	// routers with the same InstanceID fence each other.
	//
	// A static member does not leave the group when it shuts down (that is
	// what lets its restart skip the rebalance), so after a shutdown that
	// is not followed by a restart its partitions wait for the session
	// timeout before they move. Default: "" (dynamic membership: a clean
	// shutdown leaves the group and its partitions move at once).
	InstanceID string
	// Retry is the default retry policy of handlers; see [RetryPolicy] for
	// its defaults.
	Retry RetryPolicy
	// ResetOffset is where a group with no committed offset starts.
	// Default: the start of each partition, so a new service sees the
	// topic's history. Spring's default (auto.offset.reset=latest) is
	// kgo.NewOffset().AtEnd(): a new group then skips what was written
	// before it first joined.
	ResetOffset kgo.Offset
	// MaxPollRecords bounds the records processed per poll round. Default
	// 1000. Smaller rounds let rebalances in sooner.
	MaxPollRecords int
	// KeyConcurrency is how many keys of one partition are handled in
	// parallel; records with the same key stay in order. Batch handlers
	// ignore it. Default 1: strict
	// partition order. Above 1, the committed offset is the watermark below
	// which every record is done; a crash may redeliver some records past
	// it, which the inbox makes harmless.
	KeyConcurrency int
	// MaxBatch bounds the events given to one call of a batch handler.
	// Default 100.
	MaxBatch int
	// RoundTimeout bounds one poll round: past it no new record is started
	// and the rest is fetched again next round. It keeps a
	// slow partition from holding a rebalance past the group's rebalance
	// timeout (60s by default). Default 20s.
	RoundTimeout time.Duration
	// ShutdownTimeout is how long in-flight handlers may run after the
	// router's context is cancelled before their own context is cancelled.
	// Default 30s.
	ShutdownTimeout time.Duration
	// Observer receives measurements: any value implementing some of the
	// observer interfaces (see [Observer]), such as eventprom's Metrics.
	// Default: none.
	Observer Observer
	// Logger receives operational logs: dead letters, failed dead-letter
	// writes, fetch errors, lost partitions. Default: [slog.Default], so
	// they are never silently dropped; pass a logger with a discarding
	// handler to silence them.
	Logger *slog.Logger
}

func (c *RouterConfig) setDefaults() {
	c.Retry.setDefaults()
	if c.ResetOffset == (kgo.Offset{}) {
		c.ResetOffset = kgo.NewOffset().AtStart()
	}
	if c.MaxPollRecords <= 0 {
		c.MaxPollRecords = 1000
	}
	if c.KeyConcurrency <= 0 {
		c.KeyConcurrency = 1
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 100
	}
	if c.RoundTimeout <= 0 {
		c.RoundTimeout = 20 * time.Second
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a config that cannot work.
func (c *RouterConfig) Validate() error {
	if len(c.ClientOpts) == 0 {
		return errors.New("event: router needs ClientOpts (at least kgo.SeedBrokers)")
	}
	if err := checkRouterClientOpts(c.ClientOpts); err != nil {
		return err
	}
	if err := errors.Join(c.Retry.validate("RouterConfig.Retry"),
		notNegative("RouterConfig.MaxPollRecords", c.MaxPollRecords),
		notNegative("RouterConfig.KeyConcurrency", c.KeyConcurrency),
		notNegative("RouterConfig.MaxBatch", c.MaxBatch),
		notNegative("RouterConfig.RoundTimeout", c.RoundTimeout),
		notNegative("RouterConfig.ShutdownTimeout", c.ShutdownTimeout)); err != nil {
		return err
	}
	return checkObserver("RouterConfig.Observer", c.Observer)
}

// DefaultSessionTimeout is the group session timeout the router's
// consumers use unless ClientOpts sets kgo.SessionTimeout: how long the
// group waits for a member that stopped heartbeating (a crashed process)
// before its partitions move. franz-go's and Kafka's default, 45s, stalls
// those partitions for most of a minute after every crash; Kafka raised it
// from 10s (KIP-735) for JVM clients whose garbage-collection pauses and
// cloud network blips caused needless rebalances. Go's collector does not
// pause for seconds and franz-go heartbeats from a goroutine of its own
// (every 3s), so 10s is safe here; raise it if your network is unreliable.
// Brokers accept 6s to 30min by default (group.min/max.session.timeout.ms).
const DefaultSessionTimeout = 10 * time.Second

// Router consumes topics in consumer groups and hands each event to the
// handler registered for its group, topic and (optionally) type. It replaces
// Spring's @KafkaListener: see the package documentation for the
// guarantees. Register every handler, then call [Router.Run] once.
type Router struct {
	cfg    RouterConfig
	obs    observers
	mws    []Middleware
	groups map[string]map[string]*route // group → topic → route
	ran    atomic.Bool
}

// route is what one group does with one topic.
type route struct {
	byType   map[string]HandlerFunc // "" is the catch-all
	only     HandlerFunc            // the catch-all when there is no other handler
	raw      map[string]handlerSpec
	batch    BatchHandlerFunc
	retry    RetryPolicy
	hasRetry bool
}

type handlerSpec struct {
	h   HandlerFunc
	mws []Middleware
}

// handler is the handler for an event type, nil when none applies.
func (rt *route) handler(typ string) HandlerFunc {
	if rt.only != nil {
		return rt.only
	}
	if h, ok := rt.byType[typ]; ok {
		return h
	}
	return rt.byType[""]
}

// NewRouter returns a router; register handlers before calling Run.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Router{cfg: cfg, obs: resolveObserver(cfg.Observer), groups: make(map[string]map[string]*route)}, nil
}

// Use adds middleware around every handler (not batch handlers), outermost
// first, before any per-handler middleware.
func (r *Router) Use(mws ...Middleware) { r.mws = append(r.mws, mws...) }

// HandleOption refines a registration.
type HandleOption func(*handleOptions)

type handleOptions struct {
	typ      string
	mws      []Middleware
	retry    RetryPolicy
	hasRetry bool
}

// OfType restricts the handler to events of type typ. A topic may have one
// handler per type plus one without OfType for every other type; events no
// handler accepts are skipped (committed without a call).
func OfType(typ string) HandleOption { return func(o *handleOptions) { o.typ = typ } }

// WithMiddleware wraps this handler only, inside the router-wide middleware.
func WithMiddleware(mws ...Middleware) HandleOption {
	return func(o *handleOptions) { o.mws = append(o.mws, mws...) }
}

// WithRetry overrides the router's retry policy for the topic in this group.
// It panics on a negative field, as registering a handler without a group
// does: a mistake in the code, found at start-up.
func WithRetry(p RetryPolicy) HandleOption {
	if err := p.validate("WithRetry RetryPolicy"); err != nil {
		panic(err.Error())
	}
	return func(o *handleOptions) { p.setDefaults(); o.retry, o.hasRetry = p, true }
}

func (r *Router) route(group, topic string) *route {
	if r.ran.Load() {
		panic("event: handler registered after Router.Run")
	}
	if group == "" || topic == "" {
		panic("event: handler needs a group and a topic")
	}
	topics := r.groups[group]
	if topics == nil {
		topics = make(map[string]*route)
		r.groups[group] = topics
	}
	rt := topics[topic]
	if rt == nil {
		rt = &route{raw: make(map[string]handlerSpec)}
		topics[topic] = rt
	}
	return rt
}

func (rt *route) apply(o handleOptions) {
	if o.hasRetry {
		rt.retry, rt.hasRetry = o.retry, true
	}
}

// Handle registers h for topic in consumer group group. It panics on a
// duplicate registration or one after Run, both programming errors.
func (r *Router) Handle(group, topic string, h HandlerFunc, opts ...HandleOption) {
	var o handleOptions
	for _, opt := range opts {
		opt(&o)
	}
	rt := r.route(group, topic)
	if _, dup := rt.raw[o.typ]; dup || rt.batch != nil {
		panic(fmt.Sprintf("event: duplicate handler for group %q topic %q type %q", group, topic, o.typ))
	}
	rt.raw[o.typ] = handlerSpec{h: h, mws: o.mws}
	rt.apply(o)
}

// HandleBatch registers h for every event of topic in group, given in runs
// of up to MaxBatch consecutive events of one partition. If a batch fails,
// its events are handled again one at a time (h called with one event each)
// with the usual retries and dead-lettering, so one bad event costs only
// itself. Use it with [Inbox.BatchHandler] to apply many events in one
// database transaction.
func (r *Router) HandleBatch(group, topic string, h BatchHandlerFunc, opts ...HandleOption) {
	var o handleOptions
	for _, opt := range opts {
		opt(&o)
	}
	rt := r.route(group, topic)
	if len(rt.raw) > 0 || rt.batch != nil {
		panic(fmt.Sprintf("event: duplicate handler for group %q topic %q", group, topic))
	}
	rt.batch = h
	rt.apply(o)
}

// prepareRoutes wraps the registered handlers in their middleware and
// settles each route's retry policy, once, before Run starts consuming.
func (r *Router) prepareRoutes() {
	for _, topics := range r.groups {
		for _, rt := range topics {
			rt.byType = make(map[string]HandlerFunc, len(rt.raw))
			for typ, spec := range rt.raw {
				rt.byType[typ] = Chain(Chain(spec.h, spec.mws...), r.mws...)
			}
			if len(rt.byType) == 1 {
				rt.only = rt.byType[""] // nil when the one handler has a type
			}
			if !rt.hasRetry {
				rt.retry = r.cfg.Retry
			}
		}
	}
}

// dltMetadataMinAge is how soon the dead-letter producer looks again for a
// topic it could not find. franz-go's 5s default would hold a dead letter
// up to 5s past its topic's creation, longer than the retry backoff that
// the router promises; this client only produces on the error path, so
// asking often costs nothing when all is well.
const dltMetadataMinAge = 250 * time.Millisecond

// dltClientOpts are the dead-letter producer's options: the router's
// ClientOpts (which may override the metadata age) and acks from every
// in-sync replica, which they may not.
func dltClientOpts(opts []kgo.Opt) []kgo.Opt {
	return append(append([]kgo.Opt{kgo.MetadataMinAge(dltMetadataMinAge)}, opts...), kgo.RequiredAcks(kgo.AllISRAcks()))
}

// Run consumes until ctx is cancelled, then shuts down gracefully: it stops
// polling, lets in-flight handlers finish (cancelling them after
// ShutdownTimeout), commits what succeeded and leaves the groups. It returns
// nil after a clean shutdown, or an error at once if a client cannot be
// created.
func (r *Router) Run(ctx context.Context) error {
	if !r.ran.CompareAndSwap(false, true) {
		return ErrRouterClosed
	}
	if len(r.groups) == 0 {
		return errors.New("event: router has no handlers")
	}
	r.prepareRoutes()
	dlt, err := kgo.NewClient(dltClientOpts(r.cfg.ClientOpts)...)
	if err != nil {
		return fmt.Errorf("event: dead-letter producer: %w", err)
	}
	defer dlt.Close()

	// Open every group's client first so a bad option fails Run at once
	// instead of after the other groups have started.
	var consumers []*groupConsumer
	for _, group := range slices.Sorted(maps.Keys(r.groups)) {
		gc := &groupConsumer{r: r, group: group, routes: r.groups[group], dlt: dlt}
		if err := gc.open(); err != nil {
			for _, open := range consumers {
				open.cl.Close()
			}
			return err
		}
		consumers = append(consumers, gc)
	}
	var wg sync.WaitGroup
	for _, gc := range consumers {
		wg.Go(func() { gc.run(ctx) })
	}
	wg.Wait()
	return nil
}
