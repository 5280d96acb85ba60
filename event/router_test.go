package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

type seqData struct {
	Seq int `json:"seq"`
}

// A poison record, a record whose handler always fails, and one failing
// permanently each go to <topic>.DLT with the documented headers, and the
// records after them on the same partition are handled.
func TestRouterDeadLetters(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 1)
		group := testkit.TopicName(t)
		var handled counter
		var failAttempts, panics atomic.Int32
		logs := defaultLogs(t) // the router has no Logger of its own
		r := newTestRouter(t, c)
		r.Handle(group, topic, Typed(func(ctx context.Context, msg *Message, d seqData) error {
			switch msg.Event.Type {
			case "flaky-forever":
				failAttempts.Add(1)
				return errors.New("database unavailable")
			case "rejected":
				return Permanent(errors.New("member does not exist"))
			case "boom":
				panics.Add(1)
				panic("nil map")
			}
			handled.add(strconv.Itoa(d.Seq))
			return nil
		}))
		produceEvents(t, c, topic, mustEvent(t, "ok", "k1", seqData{1}))
		produceRaw(t, c, &kgo.Record{Topic: topic, Key: []byte("k1"), Value: []byte("not an event"),
			Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("legacy-app")}}})
		produceEvents(t, c, topic,
			mustEvent(t, "ok", "k1", seqData{2}),
			mustEvent(t, "flaky-forever", "k2", seqData{3}),
			mustEvent(t, "rejected", "k3", seqData{4}),
			mustEvent(t, "boom", "k4", seqData{5}),
			mustEvent(t, "bad-data", "k5", "a string, not an object"),
			mustEvent(t, "ok", "k1", seqData{6}),
		)
		stop := start(t, r)
		testkit.Eventually(t, 60*time.Second, "records after the failures handled", func() bool { return handled.count("6") == 1 })
		stop()

		if got := strings.Join(handled.order(), ","); got != "1,2,6" {
			t.Errorf("handled %s, want 1,2,6", got)
		}
		if failAttempts.Load() != 3 || panics.Load() != 3 {
			t.Errorf("flaky handler ran %d times, panicking one %d, want 3 each (MaxAttempts)", failAttempts.Load(), panics.Load())
		}
		dlt := readAll(t, c, DeadLetterTopic(topic), 5)
		want := []struct{ offset, attempts, key, errPart string }{
			{"1", "0", "k1", "not a JSON object"},
			{"3", "3", "k2", "database unavailable"},
			{"4", "1", "k3", "member does not exist"},
			{"5", "3", "k4", "panic"},
			{"6", "1", "k5", "data"},
		}
		for i, w := range want {
			rec := dlt[i]
			dl, err := ParseDeadLetter(rec)
			if err != nil || dl.Group != group || dl.Topic != topic || dl.Partition != 0 ||
				strconv.FormatInt(dl.Offset, 10) != w.offset || strconv.Itoa(dl.Attempts) != w.attempts ||
				dl.Key() != group+"/"+topic+"/0/"+w.offset {
				t.Errorf("ParseDeadLetter(dead letter %d) = %+v, %v", i, dl, err)
			}
			if header(rec, HeaderDLTOriginalOffset) != w.offset || header(rec, HeaderDLTAttempts) != w.attempts ||
				string(rec.Key) != w.key || !strings.Contains(header(rec, HeaderDLTError), w.errPart) ||
				header(rec, HeaderDLTOriginalTopic) != topic || header(rec, HeaderDLTOriginalPartition) != "0" ||
				header(rec, HeaderDLTGroup) != group {
				t.Errorf("dead letter %d: key %q headers %s, want offset %s attempts %s key %s error ~%q",
					i, rec.Key, headerString(rec), w.offset, w.attempts, w.key, w.errPart)
			}
		}
		if n := logs.count("event: dead-lettered"); n != 5 {
			t.Errorf("%d dead letters logged through slog.Default, want 5", n)
		}
		if string(dlt[0].Value) != "not an event" || header(dlt[0], "origin") != "legacy-app" {
			t.Errorf("dead letter lost the original value or headers: %q %s", dlt[0].Value, headerString(dlt[0]))
		}
	})
}

// With KeyConcurrency, keys of one partition run in parallel but each key's
// events are handled in the order they were produced: never one before an
// earlier one of its key. A round that ends early (a rebalance) fetches the
// partition again from its watermark, so events past it that other lanes
// had finished come again: that restarts a key at an earlier event, which
// is not a break of order.
func TestRouterPerKeyOrder(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		// One partition, so all events arrive in one poll and only the
		// per-key lanes can make handlers overlap.
		topic := topicWithDLT(t, c, 1)
		group := testkit.TopicName(t)
		const keys, perKey = 12, 40
		var (
			seen           counter
			inFlight, peak atomic.Int32
			outOfOrder     atomic.Int32
			redelivered    atomic.Int32
			last           [keys]atomic.Int32
		)
		lanes := make(map[int]bool)
		for k := range keys {
			lanes[laneOf([]byte(fmt.Sprintf("key-%d", k)), 4)] = true
		}
		if len(lanes) < 2 {
			t.Fatal("test keys all hash to one lane: pick other keys")
		}
		// Every handler waits until two run at once, which only happens if
		// keys really run in parallel; after that nobody waits. (Only key-0's
		// waiting let the other lanes finish first when they were scheduled
		// first, then each key-0 event waited alone and the round timed out.)
		parallel := make(chan struct{})
		var closeOnce sync.Once
		r := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.KeyConcurrency = 4 })
		r.Handle(group, topic, Typed(func(ctx context.Context, msg *Message, d seqData) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > 1 {
				closeOnce.Do(func() { close(parallel) })
			}
			select {
			case <-parallel:
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
			}
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			k, _ := strconv.Atoi(strings.TrimPrefix(msg.Event.Subject, "key-"))
			switch prev := last[k].Swap(int32(d.Seq)); {
			case int32(d.Seq) > prev+1:
				outOfOrder.Add(1) // handled before an earlier event of its key
			case int32(d.Seq) <= prev:
				redelivered.Add(1)
			}
			seen.add(msg.Event.ID)
			return nil
		}))
		var evs []*Event
		for s := 1; s <= perKey; s++ {
			for k := range keys {
				evs = append(evs, mustEvent(t, "tick", fmt.Sprintf("key-%d", k), seqData{s}))
			}
		}
		produceEvents(t, c, topic, evs...)
		start(t, r)
		testkit.Eventually(t, 60*time.Second, "all events handled", func() bool { return seen.distinct() == len(evs) })
		if outOfOrder.Load() != 0 {
			t.Errorf("%d events handled before an earlier event of their key", outOfOrder.Load())
		}
		if n := redelivered.Load(); n > 0 {
			t.Logf("%d events redelivered after a round ended early", n)
		}
		if peak.Load() < 2 {
			t.Errorf("peak concurrency %d: keys were not handled in parallel", peak.Load())
		}
	})
}

// Handlers registered by type get only their type; other types fall to the
// catch-all, and a group without a catch-all skips them.
func TestRouterByType(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 1)
		g1, g2 := testkit.TopicName(t), testkit.TopicName(t)
		var got counter
		r := newTestRouter(t, c)
		note := func(tag string) HandlerFunc {
			return func(_ context.Context, msg *Message) error { got.add(tag + ":" + msg.Event.Type); return nil }
		}
		r.Handle(g1, topic, note("g1-signup"), OfType("signup"))
		r.Handle(g1, topic, note("g1-any"))
		r.Handle(g2, topic, note("g2-signup"), OfType("signup"))
		var mwOrder counter
		r.Use(func(next HandlerFunc) HandlerFunc {
			return func(ctx context.Context, msg *Message) error { mwOrder.add("outer"); return next(ctx, msg) }
		})
		produceEvents(t, c, topic, mustEvent(t, "signup", "a", nil), mustEvent(t, "leave", "a", nil),
			mustEvent(t, "signup", "b", nil))
		start(t, r)
		testkit.Eventually(t, 60*time.Second, "both groups done", func() bool {
			return got.count("g1-signup:signup") == 2 && got.count("g1-any:leave") == 1 && got.count("g2-signup:signup") == 2
		})
		if got.count("g2-signup:leave") != 0 || got.count("g1-any:signup") != 0 {
			t.Errorf("type routing wrong: %v", got.order())
		}
		if mwOrder.count("outer") != 5 {
			t.Errorf("router middleware ran %d times, want 5", mwOrder.count("outer"))
		}
	})
}

// A record waiting between retries is abandoned, not dead-lettered and not
// committed, when the router shuts down: Run returns without sitting out
// the backoff, and the next consumer of the group gets the record again.
func TestRouterShutdownCancelsRetries(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 1)
		group := testkit.TopicName(t)
		produceEvents(t, c, topic, mustEvent(t, "ok", "k", seqData{1}), mustEvent(t, "stuck", "k", seqData{2}))
		var stuckCalls atomic.Int32
		slow := RetryPolicy{MaxAttempts: 10, InitialBackoff: 5 * time.Minute, MaxBackoff: 5 * time.Minute}
		r := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.Retry = slow })
		r.Handle(group, topic, func(_ context.Context, msg *Message) error {
			if msg.Event.Type == "stuck" {
				stuckCalls.Add(1)
				return errors.New("not yet")
			}
			return nil
		})
		stop := start(t, r)
		testkit.Eventually(t, 60*time.Second, "stuck record attempted", func() bool { return stuckCalls.Load() == 1 })
		began := time.Now()
		stop()
		if d := time.Since(began); d > 20*time.Second {
			t.Errorf("shutdown took %s: the retry backoff was not cancelled", d)
		}

		var again counter
		r2 := newTestRouter(t, c)
		r2.Handle(group, topic, func(_ context.Context, msg *Message) error {
			again.add(msg.Event.Type)
			return nil
		})
		start(t, r2)
		testkit.Eventually(t, 60*time.Second, "stuck record redelivered", func() bool { return again.count("stuck") == 1 })
		if again.count("ok") != 0 {
			t.Errorf("the record handled before the shutdown was redelivered: its offset was not committed")
		}
		ctx := testkit.Context(t, 10*time.Second)
		offs, err := c.Admin(t).ListEndOffsets(ctx, DeadLetterTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := offs.Lookup(DeadLetterTopic(topic), 0); o.Offset != 0 {
			t.Errorf("%d dead letters, want none: an abandoned retry is not a failure", o.Offset)
		}
	})
}

// A rebalance does not wait for a record's retry backoff: the pending
// rebalance ends the wait, the partitions move, and the record is retried
// by whoever owns it next.
func TestRouterRebalanceCancelsRetries(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 2)
		group := testkit.TopicName(t)
		var evs []*Event
		for i := range 20 {
			evs = append(evs, mustEvent(t, "stuck", fmt.Sprintf("k%d", i), seqData{i}))
		}
		produceEvents(t, c, topic, evs...)
		var calls atomic.Int32
		slow := func(cfg *RouterConfig) {
			cfg.Retry = RetryPolicy{MaxAttempts: 10, InitialBackoff: 5 * time.Minute, MaxBackoff: 5 * time.Minute}
			cfg.RoundTimeout = 10 * time.Minute // only the rebalance signal can end the wait
		}
		fail := func(context.Context, *Message) error { calls.Add(1); return errors.New("not yet") }
		a := newTestRouter(t, c, slow)
		a.Handle(group, topic, fail)
		start(t, a)
		testkit.Eventually(t, 60*time.Second, "both partitions stuck in backoff", func() bool { return calls.Load() >= 2 })
		b := newTestRouter(t, c, slow)
		b.Handle(group, topic, fail)
		start(t, b)
		// The rebalance completes although both records are in backoff.
		c.WaitGroupBalanced(t, group, 2, 45*time.Second)
	})
}

// A record waiting for its retry pauses only its own partition: the other
// partitions of the group keep being handled meanwhile.
func TestRouterRetryDoesNotHoldOtherPartitions(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 3)
		group := testkit.TopicName(t)
		var handled counter
		var stuckCalls atomic.Int32
		r := newTestRouter(t, c, func(cfg *RouterConfig) {
			cfg.Retry = RetryPolicy{MaxAttempts: 3, InitialBackoff: 5 * time.Minute, MaxBackoff: 5 * time.Minute}
		})
		r.Handle(group, topic, Typed(func(_ context.Context, msg *Message, d seqData) error {
			if msg.Event.Type == "stuck" {
				stuckCalls.Add(1)
				return errors.New("not yet")
			}
			handled.add(fmt.Sprintf("%d/%d", msg.Record.Partition, d.Seq))
			return nil
		}))
		cl := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		send := func(partition int32, typ string, seq int) {
			rec, err := mustEvent(t, typ, "k", seqData{seq}).Record(topic)
			if err != nil {
				t.Fatal(err)
			}
			rec.Partition = partition
			if err := cl.ProduceSync(testkit.Context(t, 30*time.Second), rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		send(0, "stuck", 0)
		send(0, "ok", 1) // behind the stuck record: must wait, order per partition
		start(t, r)
		testkit.Eventually(t, 60*time.Second, "stuck record attempted", func() bool { return stuckCalls.Load() == 1 })
		for i := range 10 {
			send(1+int32(i%2), "ok", 10+i)
		}
		testkit.Eventually(t, 30*time.Second, "other partitions handled while partition 0 waits", func() bool {
			return handled.distinct() == 10
		})
		if handled.count("0/1") != 0 || stuckCalls.Load() != 1 {
			t.Errorf("partition 0 went past its waiting record (%v) or retried early (%d calls)", handled.order(), stuckCalls.Load())
		}
	})
}

// A dead letter whose topic does not exist yet is written once the topic
// appears, within the retry backoff: every attempt is a fresh produce, not
// a replay of the first one's cancelled context. The round is made long so
// only a real retry (not a re-fetch after the round) can deliver it.
func TestRouterDeadLetterRetriedUntilTopicExists(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 3)
		group := testkit.TopicName(t)
		var calls atomic.Int32
		var logs counter
		r := newTestRouter(t, c, func(cfg *RouterConfig) {
			cfg.Logger = newLogged(&logs)
			cfg.RoundTimeout = 5 * time.Minute
			cfg.Retry = RetryPolicy{MaxAttempts: 1, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
		})
		r.Handle(group, topic, func(context.Context, *Message) error {
			calls.Add(1)
			return Permanent(errors.New("member does not exist"))
		})
		produceEvents(t, c, topic, mustEvent(t, "rejected", "k", seqData{1}))
		start(t, r)
		testkit.Eventually(t, 60*time.Second, "dead-letter writes failing on the missing topic", func() bool {
			return logs.count("event: dead-letter write failed") >= 2
		})
		createDLT(t, c, topic, 1)
		// The topic has appeared once every broker knows it: Kafka answers
		// CreateTopics before that, and on a loaded machine the rest can
		// take a second of its own.
		c.WaitTopic(t, DeadLetterTopic(topic), 1)
		created := time.Now()
		// The test's own client must not be the slow one: after an unknown
		// topic, franz-go would wait its 5s metadata age to look again.
		adm := kadm.NewClient(c.Client(t, kgo.MetadataMinAge(100*time.Millisecond)))
		ctx := testkit.Context(t, 30*time.Second)
		testkit.Eventually(t, 30*time.Second, "dead letter written after its topic appeared", func() bool {
			ends, err := adm.ListEndOffsets(ctx, DeadLetterTopic(topic))
			if err != nil {
				return false
			}
			o, ok := ends.Lookup(DeadLetterTopic(topic), 0)
			return ok && o.Err == nil && o.Offset == 1
		})
		// Within the backoff (1s) and a metadata refresh or two, not after
		// franz-go's 5s metadata age.
		if took := time.Since(created); took > 3*time.Second {
			t.Errorf("dead letter landed %s after its topic appeared, want within the 1s backoff (+2s)", took.Round(time.Millisecond))
		} else {
			t.Logf("dead letter landed %s after its topic appeared", took.Round(time.Millisecond))
		}
		if calls.Load() != 1 {
			t.Errorf("handler called %d times, want 1: the record was fetched again instead of its dead letter retried", calls.Load())
		}
	})
}

// The dead letter of an old record is written as a new record: stamped
// now, the original time in a header. Stamped with the original time it
// would time out at once under kgo.RecordDeliveryTimeout (franz-go measures
// it from the record's timestamp), be refused by brokers limiting
// message.timestamp.before.max.ms, and be deleted early by the DLT's
// retention.ms: lost, or the partition stopped for good.
func TestDeadLetterOfOldRecord(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 1)
		group := testkit.TopicName(t)
		r := newTestRouter(t, c, func(cfg *RouterConfig) {
			cfg.ClientOpts = append(cfg.ClientOpts, kgo.RecordDeliveryTimeout(10*time.Second))
		})
		r.Handle(group, topic, func(context.Context, *Message) error {
			return Permanent(errors.New("member does not exist"))
		})
		old := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		rec, err := mustEvent(t, "rejected", "k", seqData{1}).Record(topic)
		if err != nil {
			t.Fatal(err)
		}
		rec.Timestamp = old
		produceRaw(t, c, rec)
		start(t, r)
		dlt := readAll(t, c, DeadLetterTopic(topic), 1)[0]
		d, err := ParseDeadLetter(dlt)
		if err != nil || !d.Timestamp.Equal(old) {
			t.Errorf("dead letter's original timestamp %v (%v), want %v", d.Timestamp, err, old)
		}
		if time.Since(dlt.Timestamp) > time.Minute {
			t.Errorf("dead letter stamped %v, want the time it was written", dlt.Timestamp)
		}
	})
}

// A dead letter still unwritten when its poll round ends is not handled
// again: the record is fetched again, and the dead letter, not the
// handler, is retried (the handler gave up on it for good already).
func TestRouterDeadLetterPendingAcrossRounds(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 3)
		group := testkit.TopicName(t)
		var calls atomic.Int32
		var logs counter
		r := newTestRouter(t, c, func(cfg *RouterConfig) {
			// Each dead-letter write fails within 2s, each round ends after 1s.
			cfg.ClientOpts = append(cfg.ClientOpts, kgo.RecordDeliveryTimeout(2*time.Second))
			cfg.Logger = newLogged(&logs)
			cfg.RoundTimeout = time.Second
			cfg.Retry = RetryPolicy{MaxAttempts: 1, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
		})
		r.Handle(group, topic, func(context.Context, *Message) error {
			calls.Add(1)
			return Permanent(errors.New("member does not exist"))
		})
		produceEvents(t, c, topic, mustEvent(t, "rejected", "k", seqData{1}))
		start(t, r)
		testkit.Eventually(t, 60*time.Second, "dead-letter writes failing over several rounds", func() bool {
			return logs.count("event: dead-letter write failed") >= 3
		})
		createDLT(t, c, topic, 1)
		dlt := readAll(t, c, DeadLetterTopic(topic), 1)
		if n := calls.Load(); n != 1 || header(dlt[0], HeaderDLTAttempts) != "1" {
			t.Errorf("handler called %d times, dead letter says %s attempts; want 1 and 1: a round's end ran the handler again",
				n, header(dlt[0], HeaderDLTAttempts))
		}
	})
}

// A router killed without leaving its group (its connections cut, as when
// its process dies) hands its partitions to a restarted one well within
// franz-go's default 45s session timeout: with the router's default session
// timeout, and with static membership even when the session timeout is
// long, because the restart reuses the InstanceID and replaces the dead
// member at once.
func TestRouterTakeoverAfterCrash(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		for _, tc := range []struct {
			name     string
			instance string
			opts     []kgo.Opt
		}{
			{"default session timeout", "", nil},
			{"static member, 60s session timeout", "member-projection-0", []kgo.Opt{kgo.SessionTimeout(time.Minute)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				topic := topicWithDLT(t, c, 1)
				group := testkit.TopicName(t)
				base, err := c.Config().ClientOpts()
				if err != nil {
					t.Fatal(err)
				}
				// No test tuning of the group timeouts: the defaults are under test.
				base = append(base, kgo.FetchMaxWait(250*time.Millisecond))
				router := func(kill *killSwitch, seen *counter) *Router {
					r := newTestRouter(t, c, func(cfg *RouterConfig) {
						cfg.ClientOpts = append(slices.Clone(base), tc.opts...)
						if kill != nil {
							cfg.ClientOpts = append(cfg.ClientOpts, kill.opts()...)
							cfg.ShutdownTimeout = time.Second
						}
						cfg.InstanceID = tc.instance
					})
					r.Handle(group, topic, func(_ context.Context, msg *Message) error { seen.add(msg.Event.Type); return nil })
					return r
				}
				var kill killSwitch
				var before, after counter
				stopFirst := start(t, router(&kill, &before))
				produceEvents(t, c, topic, mustEvent(t, "before", "k", nil))
				testkit.Eventually(t, 60*time.Second, "first router handling", func() bool { return before.count("before") == 1 })

				kill.kill()
				killed := time.Now()
				go stopFirst()
				start(t, router(nil, &after))
				produceEvents(t, c, topic, mustEvent(t, "after", "k", nil))
				testkit.Eventually(t, 30*time.Second, "restarted router handling the partition", func() bool {
					return after.count("after") == 1
				})
				t.Logf("took over %s after the kill", time.Since(killed).Round(100*time.Millisecond))
			})
		}
	})
}

// deadLetterSpy calls fn after each dead letter is written.
type deadLetterSpy func()

func (f deadLetterSpy) DeadLettered(string, string) { f() }

// Dead letters are at least once: a router killed after writing a dead
// letter but before committing the record's offset dead-letters the record
// again after the restart, and both copies carry the same dedupe key.
func TestDeadLetterAtLeastOnce(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 1)
		group := testkit.TopicName(t)
		rejected := func(context.Context, *Message) error { return Permanent(errors.New("member does not exist")) }
		var kill killSwitch
		first := newTestRouter(t, c, func(cfg *RouterConfig) {
			cfg.ClientOpts = append(cfg.ClientOpts, kill.opts()...)
			cfg.InstanceID = "mailer-0"
			cfg.ShutdownTimeout = time.Second
			cfg.Observer = deadLetterSpy(kill.kill) // written, not yet marked
		})
		first.Handle(group, topic, rejected)
		produceEvents(t, c, topic, mustEvent(t, "rejected", "k", nil))
		stopFirst := start(t, first)
		readAll(t, c, DeadLetterTopic(topic), 1)
		go stopFirst()

		second := newTestRouter(t, c, func(cfg *RouterConfig) { cfg.InstanceID = "mailer-0" })
		second.Handle(group, topic, rejected)
		start(t, second)
		dlt := readAll(t, c, DeadLetterTopic(topic), 2)
		a, errA := ParseDeadLetter(dlt[0])
		b, errB := ParseDeadLetter(dlt[1])
		if errA != nil || errB != nil || a.Key() != b.Key() || a.Key() != group+"/"+topic+"/0/0" {
			t.Errorf("two copies of one dead letter: keys %q (%v) and %q (%v), want both %s/%s/0/0", a.Key(), errA, b.Key(), errB, group, topic)
		}
	})
}

// ParseDeadLetter reads the router's headers, the last ones when a replayed
// dead letter failed again, and refuses records the router did not write.
func TestParseDeadLetter(t *testing.T) {
	orig := &kgo.Record{Topic: "members", Partition: 2, Offset: 7, Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("app")}}}
	once := deadLetterRecord(orig, "g1", errors.New("boom"), 5)
	replayed := &kgo.Record{Topic: "members", Partition: 0, Offset: 99, Headers: once.Headers}
	twice := deadLetterRecord(replayed, "g2", errors.New("again"), 1)
	for _, tc := range []struct {
		name    string
		r       *kgo.Record
		want    DeadLetter
		wantErr string
	}{
		{"dead letter", once, DeadLetter{Group: "g1", Topic: "members", Partition: 2, Offset: 7, Error: "boom", Attempts: 5}, ""},
		{"replayed and failed again", twice, DeadLetter{Group: "g2", Topic: "members", Partition: 0, Offset: 99, Error: "again", Attempts: 1}, ""},
		{"plain record", orig, DeadLetter{}, "not a dead letter: no ksuite-dlt-group, ksuite-dlt-original-topic"},
		{"malformed", &kgo.Record{Headers: append(slices.Clone(once.Headers), kgo.RecordHeader{Key: HeaderDLTOriginalOffset, Value: []byte("x")})},
			DeadLetter{}, "malformed dead-letter header"},
	} {
		got, err := ParseDeadLetter(tc.r)
		if got != tc.want || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: ParseDeadLetter = %+v, %v; want %+v, error %q", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

// The error header is cut to 4 KiB on a character boundary, so consumers
// that read headers as UTF-8 text (Java's new String(bytes, UTF_8), the
// console) see no broken character at the end.
func TestDeadLetterErrorHeaderCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
	}{
		{"short", "boom"},
		{"ASCII past the limit", strings.Repeat("x", 5000)},
		{"multi-byte character across the limit", strings.Repeat("x", maxErrorHeader-1) + "é" + strings.Repeat("y", 10)},
		{"four-byte characters past the limit", strings.Repeat("😀", 1100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := deadLetterRecord(&kgo.Record{Topic: "members"}, "g", errors.New(tc.msg), 1)
			d, err := ParseDeadLetter(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Error) > maxErrorHeader || !utf8.ValidString(d.Error) || !strings.HasPrefix(tc.msg, d.Error) ||
				len(d.Error) < min(len(tc.msg), maxErrorHeader-utf8.UTFMax) {
				t.Errorf("error header of %d bytes (valid UTF-8: %v), want the longest prefix of at most %d bytes on a character boundary",
					len(d.Error), utf8.ValidString(d.Error), maxErrorHeader)
			}
		})
	}
}

// A structured record whose data is not JSON reaches the handlers, as a
// binary-mode one does: decoding leaves the data to be checked when read.
// A typed handler's DataAs fails with a DecodeError, so the record is
// dead-lettered after one attempt without calling the user's function; a
// handler that never reads the data handles it.
func TestRouterStructuredInvalidData(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := topicWithDLT(t, c, 1)
		typedGroup, plainGroup := testkit.TopicName(t)+"-typed", testkit.TopicName(t)+"-plain"
		var typed, plain counter
		r := newTestRouter(t, c)
		r.Handle(typedGroup, topic, Typed(func(ctx context.Context, msg *Message, d seqData) error {
			typed.add(strconv.Itoa(d.Seq))
			return nil
		}))
		r.Handle(plainGroup, topic, func(ctx context.Context, msg *Message) error {
			plain.add(msg.Event.ID)
			return nil
		})
		first, last := mustEvent(t, "ok", "k", seqData{1}), mustEvent(t, "ok", "k", seqData{2})
		bad := []byte(`{"specversion":"1.0","id":"bad-1","source":"test","type":"ok","subject":"k","data":{"seq":2 3}}`)
		produceEvents(t, c, topic, first)
		produceRaw(t, c, &kgo.Record{Topic: topic, Key: []byte("k"), Value: bad,
			Headers: []kgo.RecordHeader{{Key: HeaderContentType, Value: []byte(ContentTypeCloudEvents)}}})
		produceEvents(t, c, topic, last)
		stop := start(t, r)
		testkit.Eventually(t, 60*time.Second, "the record after the bad one handled by both groups", func() bool {
			return typed.count("2") == 1 && plain.count(last.ID) == 1
		})
		stop()

		if got := strings.Join(typed.order(), ","); got != "1,2" {
			t.Errorf("typed handler ran for %s, want 1,2 (never for the record with invalid data)", got)
		}
		if got, want := strings.Join(plain.order(), ","), first.ID+",bad-1,"+last.ID; got != want {
			t.Errorf("plain handler saw %s, want %s", got, want)
		}
		dlt := readTopic(t, c, DeadLetterTopic(topic))
		if len(dlt) != 1 {
			t.Fatalf("%d dead letters, want 1 (the typed group's)", len(dlt))
		}
		rec := dlt[0]
		if header(rec, HeaderDLTGroup) != typedGroup || header(rec, HeaderDLTOriginalOffset) != "1" ||
			header(rec, HeaderDLTAttempts) != "1" || !strings.Contains(header(rec, HeaderDLTError), "data") ||
			string(rec.Value) != string(bad) {
			t.Errorf("dead letter %q with headers %s, want the original value, group %s, offset 1, 1 attempt, a data error",
				rec.Value, headerString(rec), typedGroup)
		}
	})
}
