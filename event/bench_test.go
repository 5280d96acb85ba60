package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// The benchmarks compare the library with raw franz-go on the same topic in
// the same run. Run them with a fixed count so both sides move the same
// records, e.g.:
//
//	go test -run '^$' -bench . -benchtime 20000x ./event
//
// Consume benchmarks report ns/op and rec/s from the first record received to
// the last one handled, so the group join is not counted.

// benchPayload makes an event of about 300 bytes on the wire.
type benchPayload struct {
	Member string `json:"member"`
	Email  string `json:"email"`
	Note   string `json:"note"`
}

func benchEvent(tb testing.TB, i int) *Event {
	ev, err := New("member-updated", fmt.Sprintf("member-%d", i%100), benchPayload{
		Member: fmt.Sprintf("member-%d", i%100), Email: "someone@example.com", Note: strings.Repeat("x", 48),
	})
	if err != nil {
		tb.Fatal(err)
	}
	ev.Source = "member-service"
	return ev
}

func benchClusters(b *testing.B, fn func(b *testing.B, c testkit.Cluster)) {
	for _, c := range testkit.Clusters(b) {
		b.Run(c.Name, func(b *testing.B) { fn(b, c) })
	}
}

func BenchmarkPublish(b *testing.B) {
	benchClusters(b, func(b *testing.B, c testkit.Cluster) {
		topic := c.CreateTopic(b, 6, 3)
		opts, _ := c.Config().ClientOpts()
		sample, _ := benchEvent(b, 0).Record(topic)
		// Warm up: metadata, connections and partition leaders, so the first
		// measured side does not pay for them.
		warm := c.Client(b)
		for i := range 1000 {
			warm.Produce(testkit.Context(b, time.Minute), &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: sample.Value}, nil)
		}
		if err := warm.Flush(testkit.Context(b, time.Minute)); err != nil {
			b.Fatal(err)
		}
		// Both sides learn each record's outcome through a callback made
		// once, and fail the benchmark on any error.
		rawProduce := func(b *testing.B, next func(i int) *kgo.Record) {
			cl := c.Client(b, kgo.RequiredAcks(kgo.AllISRAcks()))
			ctx := testkit.Context(b, 5*time.Minute)
			var failed atomic.Int64
			promise := func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Add(1)
				}
			}
			b.SetBytes(int64(len(sample.Value)))
			b.ResetTimer()
			cpu := processCPU()
			for i := range b.N {
				cl.Produce(ctx, next(i), promise)
			}
			if err := cl.Flush(ctx); err != nil || failed.Load() > 0 {
				b.Fatal(err, failed.Load())
			}
			reportCPU(b, processCPU()-cpu, int64(b.N))
		}
		b.Run("raw-franz-go", func(b *testing.B) {
			rawProduce(b, func(i int) *kgo.Record {
				return &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("member-%d", i%100)), Value: sample.Value, Headers: sample.Headers}
			})
		})
		// Raw franz-go as a hand-written service publishing the same events
		// would: encoding/json marshals an envelope struct, then Produce.
		b.Run("raw-franz-go-json", func(b *testing.B) {
			envs := make([]rawEnvelope, 100)
			for i := range envs {
				envs[i] = rawEnvelopeOf(benchEvent(b, i))
			}
			rawProduce(b, func(i int) *kgo.Record {
				env := &envs[i%len(envs)]
				v, err := json.Marshal(env)
				if err != nil {
					b.Fatal(err)
				}
				return &kgo.Record{Topic: topic, Key: []byte(env.Subject), Value: v, Headers: sample.Headers}
			})
		})
		// Same batching as raw franz-go's default (10ms linger): the producer
		// defaults to no linger for Publish latency, which costs throughput
		// for PublishAsync.
		publish := func(b *testing.B, next func(i int) *Event) {
			p, err := NewProducer(ProducerConfig{ClientOpts: append(opts, kgo.ProducerLinger(10*time.Millisecond))})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := testkit.Context(b, 5*time.Minute)
			var failed atomic.Int64
			done := func(err error) {
				if err != nil {
					failed.Add(1)
				}
			}
			b.SetBytes(int64(len(sample.Value)))
			b.ResetTimer()
			cpu := processCPU()
			for i := range b.N {
				p.PublishAsync(ctx, topic, next(i), done)
			}
			if err := p.Flush(ctx); err != nil || failed.Load() > 0 {
				b.Fatal(err, failed.Load())
			}
			reportCPU(b, processCPU()-cpu, int64(b.N))
		}
		// The library's cost: events built beforehand, as raw-franz-go's
		// value is (one per key, reused like its value); PublishAsync
		// encodes and produces them.
		b.Run("event", func(b *testing.B) {
			evs := make([]*Event, 100)
			for i := range evs {
				evs[i] = benchEvent(b, i)
			}
			publish(b, func(i int) *Event { return evs[i%len(evs)] })
		})
		// End to end: New (UUIDv7, JSON data) inside the loop too.
		b.Run("event-with-New", func(b *testing.B) {
			publish(b, func(i int) *Event { return benchEvent(b, i) })
		})
	})
}

// fillTopic makes sure topic holds at least n benchmark events, written
// in mode.
func fillTopic(b *testing.B, c testkit.Cluster, topic string, have *int, n int, mode ContentMode) {
	if *have >= n {
		return
	}
	p, err := NewProducer(ProducerConfig{ClientOpts: testOpts(b, c), ContentMode: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := testkit.Context(b, 5*time.Minute)
	for i := *have; i < n; i++ {
		p.PublishAsync(ctx, topic, benchEvent(b, i), nil)
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	*have = n
}

// window measures from the first to the last of n events, in wall time and
// in the process's CPU time.
type window struct {
	n                 int64
	count             atomic.Int64
	first, last       atomic.Int64
	firstCPU, lastCPU atomic.Int64
	done              chan struct{}
}

func newWindow(n int) *window { return &window{n: int64(n), done: make(chan struct{})} }

// begin starts the window, if not started yet.
func (s *window) begin() {
	if s.first.Load() == 0 && s.first.CompareAndSwap(0, time.Now().UnixNano()) {
		s.firstCPU.Store(int64(processCPU()))
	}
}

// tick counts k more events, starting the window if need be.
func (s *window) tick(k int) {
	s.begin()
	if c := s.count.Add(int64(k)); c >= s.n && c-int64(k) < s.n {
		s.last.Store(time.Now().UnixNano())
		s.lastCPU.Store(int64(processCPU()))
		close(s.done)
	}
}

func (s *window) wait(b *testing.B) {
	select {
	case <-s.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("consumed %d of %d", s.count.Load(), s.n)
	}
	b.StopTimer()
	d := time.Duration(s.last.Load() - s.first.Load())
	b.ReportMetric(float64(d.Nanoseconds())/float64(s.n), "ns/op")
	b.ReportMetric(float64(s.n)/d.Seconds(), "rec/s")
	reportCPU(b, time.Duration(s.lastCPU.Load()-s.firstCPU.Load()), s.n)
}

// reportCPU reports the process CPU time per record. When the CPUs are
// saturated, throughput follows it; with spare cores it does not.
func reportCPU(b *testing.B, cpu time.Duration, n int64) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	}
}

func BenchmarkConsume(b *testing.B) {
	benchClusters(b, func(b *testing.B, c testkit.Cluster) {
		// The same events in both content modes, each mode on its topic.
		topics := map[ContentMode]string{Structured: c.CreateTopic(b, 6, 3), Binary: c.CreateTopic(b, 6, 3)}
		have := map[ContentMode]*int{Structured: new(int), Binary: new(int)}
		// rawLoop is a raw franz-go poll loop calling each on every record.
		rawLoop := func(b *testing.B, mode ContentMode, each func(*kgo.Record)) {
			topic := topics[mode]
			fillTopic(b, c, topic, have[mode], b.N, mode)
			s := newWindow(b.N)
			cl := c.Client(b, append(testOpts(b, c)[1:], kgo.ConsumerGroup(testkit.TopicName(b)), kgo.ConsumeTopics(topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
			ctx := testkit.Context(b, 5*time.Minute)
			b.ResetTimer()
			go func() {
				for ctx.Err() == nil {
					fs := cl.PollRecords(ctx, 1000)
					if each != nil {
						fs.EachRecord(each)
					}
					if n := fs.NumRecords(); n > 0 {
						s.tick(n)
					}
				}
			}()
			s.wait(b)
		}
		// The bare minimum: records fetched, nothing done with them.
		b.Run("raw-franz-go", func(b *testing.B) { rawLoop(b, Structured, nil) })
		b.Run("raw-franz-go-binary", func(b *testing.B) { rawLoop(b, Binary, nil) })
		// What a hand-written franz-go consumer of these events does:
		// encoding/json decodes the envelope, the data stays raw for the
		// handler, and the handler does nothing.
		b.Run("raw-franz-go-json", func(b *testing.B) {
			rawLoop(b, Structured, func(r *kgo.Record) {
				var env rawEnvelope
				if err := json.Unmarshal(r.Value, &env); err != nil {
					b.Error(err)
				}
			})
		})
		router := func(b *testing.B, mode ContentMode) {
			topic := topics[mode]
			fillTopic(b, c, topic, have[mode], b.N, mode)
			want := endOffsets(b, c, topic)
			var total int64
			for _, n := range want {
				total += n
			}
			s := newWindow(int(total))
			// Each partition counts on its own cache line and ticks once, at
			// its end, as the raw loops tick once per poll: a shared counter
			// would cost the no-op handler more than the router does.
			counts := make([]struct {
				n atomic.Int64
				_ [56]byte
			}, len(want))
			r := newTestRouter(b, c)
			r.Handle(testkit.TopicName(b), topic, func(_ context.Context, m *Message) error {
				s.begin()
				if p := m.Record.Partition; counts[p].n.Add(1) == want[p] {
					s.tick(int(want[p]))
				}
				return nil
			})
			b.ResetTimer()
			start(b, r)
			s.wait(b)
		}
		b.Run("event-router", func(b *testing.B) { router(b, Structured) })
		b.Run("event-router-binary", func(b *testing.B) { router(b, Binary) })
	})
}

// rawEnvelope is a CloudEvent as a hand-written encoding/json service would
// declare it.
type rawEnvelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            time.Time       `json:"time"`
	Subject         string          `json:"subject,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

func rawEnvelopeOf(ev *Event) rawEnvelope {
	return rawEnvelope{SpecVersion: SpecVersion, ID: ev.ID, Source: ev.Source, Type: ev.Type, Time: ev.Time,
		Subject: ev.Subject, DataContentType: ev.DataContentType, Data: ev.Data}
}

// endOffsets is the number of records in each partition of topic (which
// starts at offset 0).
func endOffsets(b *testing.B, c testkit.Cluster, topic string) []int64 {
	ends, err := c.Admin(b).ListEndOffsets(testkit.Context(b, 30*time.Second), topic)
	if err != nil {
		b.Fatal(err)
	}
	n := make([]int64, len(ends[topic]))
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			b.Fatal(o.Err)
		}
		n[o.Partition] = o.Offset
	})
	return n
}

func BenchmarkConsumeInbox(b *testing.B) {
	benchClusters(b, func(b *testing.B, c testkit.Cluster) {
		topic := c.CreateTopic(b, 6, 3)
		have := 0
		for _, db := range testkit.DBs(b) {
			b.Run(db.Name, func(b *testing.B) {
				fx, inbox := newEffects(b, db)
				b.Run("tx-per-record", func(b *testing.B) {
					fillTopic(b, c, topic, &have, b.N, Structured)
					s := newWindow(b.N)
					r := newTestRouter(b, c)
					h := inbox.Handler(fx.apply)
					r.Handle(testkit.TopicName(b), topic, func(ctx context.Context, m *Message) error {
						err := h(ctx, m)
						if err == nil {
							s.tick(1)
						}
						return err
					})
					b.ResetTimer()
					start(b, r)
					s.wait(b)
				})
				b.Run("batched", func(b *testing.B) {
					fillTopic(b, c, topic, &have, b.N, Structured)
					s := newWindow(b.N)
					r := newTestRouter(b, c)
					h := inbox.BatchHandler(fx.apply)
					r.HandleBatch(testkit.TopicName(b), topic, func(ctx context.Context, ms []*Message) error {
						err := h(ctx, ms)
						if err == nil {
							s.tick(len(ms))
						}
						return err
					})
					b.ResetTimer()
					start(b, r)
					s.wait(b)
				})
			})
		}
	})
}

// BenchmarkEnvelope measures the codec alone on a ~330-byte event, in
// both content modes, and what decoding does with its data: skipped to its
// end, beside validating it as decoding used to.
func BenchmarkEnvelope(b *testing.B) {
	ev := benchEvent(b, 1)
	b.Run("data-skip", func(b *testing.B) {
		for range b.N {
			if compositeEnd(ev.Data, 0) != len(ev.Data) {
				b.Fatal("the skip did not end at the data's end")
			}
		}
	})
	b.Run("data-validate", func(b *testing.B) {
		for range b.N {
			if !validJSON(ev.Data) {
				b.Fatal("invalid data")
			}
		}
	})
	for _, mode := range []ContentMode{Structured, Binary} {
		r, err := ev.record("t", "", mode)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("decode-"+mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(r.Value)))
			for range b.N {
				if _, err := Decode(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encode-"+mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(r.Value)))
			for range b.N {
				if _, err := ev.record("t", "", mode); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOutboxLatency measures commit → record received by a consumer,
// one event at a time, through the relay woken by Notify. It reports the
// median and 99th percentile in ms.
func BenchmarkOutboxLatency(b *testing.B) {
	benchClusters(b, func(b *testing.B, c testkit.Cluster) {
		for _, db := range testkit.DBs(b) {
			b.Run(db.Name, func(b *testing.B) {
				o := newOutbox(b, db)
				topic := c.CreateTopic(b, 3, 3)
				runRelay(b, o, testOpts(b, c), benchRelay)
				cl := c.Client(b, kgo.ConsumeTopics(topic), kgo.FetchMaxWait(time.Second))
				ctx := testkit.Context(b, 5*time.Minute)
				warmUp(ctx, b, o, cl, topic)
				type receipt struct {
					id string
					at time.Time
				}
				received := make(chan receipt, 16)
				go func() {
					for ctx.Err() == nil {
						fs := cl.PollFetches(ctx)
						at := time.Now()
						for _, r := range fs.Records() {
							if ev, err := Decode(r); err == nil {
								received <- receipt{ev.ID, at}
							}
						}
					}
				}()
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := range b.N {
					var committed time.Time
					ev := benchEvent(b, i)
					err := o.WithTx(ctx, func(tx *sql.Tx) error {
						committed = time.Now() // just before commit; Notify follows it
						return o.Add(ctx, tx, topic, ev)
					})
					if err != nil {
						b.Fatal(err)
					}
				wait: // for this event; a redelivered earlier one is skipped
					for {
						select {
						case got := <-received:
							if got.id == ev.ID {
								lat = append(lat, got.at.Sub(committed))
								break wait
							}
						case <-ctx.Done():
							b.Fatal("event not received")
						}
					}
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	})
}

// benchRelay gives benchmark relays the default publish timeout: the tests'
// short one would make a cold real cluster's first acks time out and the
// rows go out twice.
func benchRelay(cfg *RelayConfig) { cfg.PublishTimeout = 0 }

// warmUp relays one event to topic and waits until cl receives it: the
// relay's producer and the consumer learn the new topic's leaders first,
// which takes seconds on a real cluster, before anything is timed.
func warmUp(ctx context.Context, b *testing.B, o *Outbox, cl *kgo.Client, topic string) {
	err := o.WithTx(ctx, func(tx *sql.Tx) error { return o.Add(ctx, tx, topic, benchEvent(b, 0)) })
	if err != nil {
		b.Fatal(err)
	}
	for cl.PollFetches(ctx).NumRecords() == 0 {
		if ctx.Err() != nil {
			b.Fatal("warm-up event not received")
		}
	}
}

// BenchmarkOutboxLatencyUnderLoad is BenchmarkOutboxLatency with four
// writers committing concurrently, one event per transaction, b.N events in
// all: at 1,000 events/s in all, and as fast as the database lets them. It
// reports the commit → received median and 99th percentile in ms and the
// events committed and relayed per second. SQLite runs on one connection,
// as docs/events.md advises.
func BenchmarkOutboxLatencyUnderLoad(b *testing.B) {
	const writers = 4
	benchClusters(b, func(b *testing.B, c testkit.Cluster) {
		for _, db := range testkit.DBs(b) {
			if !db.Postgres() {
				db.SetMaxOpenConns(1)
			}
			o := newOutbox(b, db)
			runRelay(b, o, testOpts(b, c), benchRelay)
			for _, rate := range []int{1000, 0} {
				name := db.Name + "/max"
				if rate > 0 {
					name = fmt.Sprintf("%s/%d-per-s", db.Name, rate)
				}
				b.Run(name, func(b *testing.B) {
					topic := c.CreateTopic(b, 6, 3)
					cl := c.Client(b, kgo.ConsumeTopics(topic), kgo.FetchMaxWait(time.Second))
					ctx := testkit.Context(b, 5*time.Minute)
					warmUp(ctx, b, o, cl, topic)
					var (
						mu        sync.Mutex
						committed = make(map[string]time.Time, b.N)
						lat       = make([]time.Duration, 0, b.N)
						done      = make(chan struct{})
					)
					go func() {
						seen := make(map[string]bool, b.N)
						for ctx.Err() == nil {
							fs := cl.PollFetches(ctx)
							now := time.Now()
							mu.Lock()
							for _, r := range fs.Records() {
								ev, err := Decode(r)
								if err != nil || seen[ev.ID] {
									continue // a redelivery counts once, at its first arrival
								}
								if at, ok := committed[ev.ID]; ok {
									seen[ev.ID] = true
									lat = append(lat, now.Sub(at))
								}
							}
							n := len(lat)
							mu.Unlock()
							if n >= b.N {
								close(done)
								return
							}
						}
					}()
					var next atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					start := time.Now()
					for range writers {
						wg.Go(func() {
							for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
								if rate > 0 { // event i is due at start + i/rate
									time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
								}
								ev := benchEvent(b, i)
								err := o.WithTx(ctx, func(tx *sql.Tx) error {
									if err := o.Add(ctx, tx, topic, ev); err != nil {
										return err
									}
									mu.Lock()
									committed[ev.ID] = time.Now() // just before commit
									mu.Unlock()
									return nil
								})
								if err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					select {
					case <-done:
					case <-ctx.Done():
						b.Fatal("events not received")
					}
					elapsed := time.Since(start)
					b.StopTimer()
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ev/s")
				})
			}
		}
	})
}
