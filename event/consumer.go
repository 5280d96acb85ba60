package event

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// groupConsumer is one consumer group's poll loop and its client.
//
// The at-least-once contract rests on two franz-go options. AutoCommitMarks
// commits only offsets the router marked, and it marks a record only after
// its handler succeeded or it was dead-lettered. BlockRebalanceOnPoll holds
// rebalances from one poll until AllowRebalance, so a partition is never
// revoked while one of its records is being handled: in-flight work
// finishes (or is abandoned unmarked and fetched again) before the revoke
// callback commits.
//
// A record whose handler failed and is to be retried does not wait inside
// the round: its partition is paused for the backoff and rewound to it, so
// the other partitions keep flowing and rebalances are not held up.
type groupConsumer struct {
	r      *Router
	group  string
	routes map[string]*route
	dlt    *kgo.Client
	cl     *kgo.Client

	retries retryBook

	mu   sync.Mutex
	stop chan struct{} // closed to end the current round early
}

func (gc *groupConsumer) cfg() *RouterConfig { return &gc.r.cfg }

// open creates the group's client; nothing is fetched before run.
func (gc *groupConsumer) open() error {
	cfg := gc.cfg()
	// The default session timeout goes first, so ClientOpts can override
	// it; the options the router's guarantees need go last.
	opts := append([]kgo.Opt{kgo.SessionTimeout(DefaultSessionTimeout)}, cfg.ClientOpts...)
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	opts = append(opts,
		kgo.ConsumerGroup(gc.group),
		kgo.ConsumeTopics(slices.Sorted(maps.Keys(gc.routes))...),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(cfg.ResetOffset),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.OnPartitionsRevoked(gc.onRevoked),
		kgo.OnPartitionsLost(gc.onLost),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { gc.endRound() }),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("event: consumer for group %s: %w", gc.group, err)
	}
	gc.cl = cl
	return nil
}

// run polls and handles until ctx is cancelled, then shuts down.
func (gc *groupConsumer) run(ctx context.Context) {
	cfg := gc.cfg()
	cl := gc.cl
	for ctx.Err() == nil {
		fetches := cl.PollRecords(ctx, cfg.MaxPollRecords)
		if fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil {
				cfg.Logger.Warn("event: fetch error", "group", gc.group, "topic", topic, "partition", p, "err", err)
			}
		})
		// Records polled when ctx was cancelled are dropped unmarked: the
		// next owner gets them from the committed offset.
		if ctx.Err() == nil {
			gc.round(ctx, fetches)
		}
		cl.AllowRebalance()
	}
	gc.shutdown()
}

// shutdown commits what was marked, leaves the group (unless it is a
// static member, see RouterConfig.InstanceID) and closes the client.
func (gc *groupConsumer) shutdown() {
	cfg := gc.cfg()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	if err := gc.cl.CommitMarkedOffsets(ctx); err != nil {
		cfg.Logger.Warn("event: final commit", "group", gc.group, "err", err)
	}
	cancel()
	gc.retries.drop(gc.cl, nil)
	gc.cl.AllowRebalance()
	gc.cl.Close() // onRevoked commits nothing new
}

// onRevoked commits the marks of the partitions being revoked before the
// next owner starts from them. It runs only between rounds
// (BlockRebalanceOnPoll), so every mark is final.
func (gc *groupConsumer) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if len(revoked) == 0 {
		return
	}
	gc.retries.drop(cl, revoked)
	ctx, cancel := context.WithTimeout(ctx, gc.cfg().ShutdownTimeout)
	defer cancel()
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		gc.cfg().Logger.Warn("event: commit on revoke", "group", gc.group, "err", err)
	}
}

// onLost cannot commit: the group has moved on. The partitions' unmarked
// records go to their next owner.
func (gc *groupConsumer) onLost(_ context.Context, cl *kgo.Client, lost map[string][]int32) {
	gc.retries.drop(cl, lost)
	if len(lost) > 0 {
		gc.cfg().Logger.Warn("event: partitions lost", "group", gc.group, "partitions", lost)
	}
}

// endRound tells the current round to start nothing new and stop waiting
// for retries: a rebalance is waiting, or the router is shutting down.
func (gc *groupConsumer) endRound() {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if gc.stop != nil {
		select {
		case <-gc.stop:
		default:
			close(gc.stop)
		}
	}
}

// round handles one poll: partitions in parallel, each in order. Records a
// partition did not finish are fetched again: the partition is rewound to
// its first unfinished offset before rebalances are allowed.
func (gc *groupConsumer) round(ctx context.Context, fetches kgo.Fetches) {
	cfg := gc.cfg()
	stop := make(chan struct{})
	gc.mu.Lock()
	gc.stop = stop
	gc.mu.Unlock()
	defer func() {
		gc.mu.Lock()
		gc.stop = nil
		gc.mu.Unlock()
	}()
	timer := time.AfterFunc(cfg.RoundTimeout, gc.endRound)
	defer timer.Stop()
	// Shutdown (ctx cancelled) ends the round at once for new work; handlers
	// already running keep a context that lives ShutdownTimeout longer.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	unhook := context.AfterFunc(ctx, func() {
		gc.endRound()
		time.AfterFunc(cfg.ShutdownTimeout, cancel)
	})
	defer unhook()

	type pause struct {
		topic     string
		partition int32
		d         time.Duration
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		rewind = make(map[string]map[int32]kgo.EpochOffset)
		pauses []pause
	)
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		rt := gc.routes[p.Topic]
		wg.Go(func() {
			for range p.Records {
				gc.r.obs.consumed(gc.group, p.Topic, p.Partition)
			}
			pw := &partitionWork{gc: gc, rt: rt, recs: p.Records, stop: stop, done: make([]bool, len(p.Records))}
			pw.process(hctx)
			pw.flush()
			if next, ok := pw.firstUndone(); ok {
				mu.Lock()
				if rewind[p.Topic] == nil {
					rewind[p.Topic] = make(map[int32]kgo.EpochOffset)
				}
				rewind[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: -1, Offset: next}
				if pw.retryAfter > 0 {
					pauses = append(pauses, pause{p.Topic, p.Partition, pw.retryAfter})
				}
				mu.Unlock()
			} else if p.HighWatermark > 0 {
				last := p.Records[len(p.Records)-1].Offset
				gc.r.obs.lag(gc.group, p.Topic, p.Partition, max(p.HighWatermark-last-1, 0))
			}
		})
	})
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	// Pause before rewinding: pausing drops what is buffered for the
	// partition, then fetching restarts at the rewound offset on resume.
	for _, p := range pauses {
		gc.retries.pause(gc.cl, p.topic, p.partition, p.d)
	}
	if len(rewind) > 0 {
		gc.cl.SetOffsets(rewind)
	}
}
