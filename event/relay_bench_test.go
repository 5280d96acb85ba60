package event

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// BenchmarkRelayDrain measures how fast one relay publishes a backlog:
// b.N rows of 100 keys are added while no relay runs, then a relay starts
// and the clock runs until a consumer has received every event. It reports
// rows per second: the relay's capacity, which bounds the commit → received
// latency once writers outrun it. The producer and the consumer know the
// topic's leaders before the clock starts.
func BenchmarkRelayDrain(b *testing.B) {
	benchClusters(b, func(b *testing.B, c testkit.Cluster) {
		for _, db := range testkit.DBs(b) {
			b.Run(db.Name, func(b *testing.B) {
				// A table per run: rows left by the previous run (b.N=1) would
				// go to its topic, deleted when that run ended.
				o, err := NewOutbox(OutboxConfig{DB: db.DB, Dialect: dialectOf(db), Table: "drain_" + testkit.RandomSuffix()})
				if err != nil {
					b.Fatal(err)
				}
				topic := c.CreateTopic(b, 6, 3)
				ctx := testkit.Context(b, 10*time.Minute)
				if err := o.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				p, err := NewProducer(ProducerConfig{ClientOpts: testOpts(b, c)})
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				cl := c.Client(b, kgo.ConsumeTopics(topic), kgo.FetchMaxWait(time.Second))
				if err := p.Publish(ctx, topic, benchEvent(b, 0)); err != nil {
					b.Fatal(err)
				}
				for cl.PollFetches(ctx).NumRecords() == 0 {
					if ctx.Err() != nil {
						b.Fatal("warm-up event not received")
					}
				}
				for i := 0; i < b.N; i += 500 {
					err := o.WithTx(ctx, func(tx *sql.Tx) error {
						for j := i; j < min(i+500, b.N); j++ {
							if err := o.Add(ctx, tx, topic, benchEvent(b, j)); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				rl, err := NewRelay(RelayConfig{Outbox: o, Producer: p, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				start := time.Now()
				rctx, stop := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { _ = rl.Run(rctx); close(done) }()
				seen := make(map[string]bool, b.N)
				for len(seen) < b.N {
					fs := cl.PollFetches(ctx)
					if ctx.Err() != nil {
						b.Fatalf("%d of %d events received", len(seen), b.N)
					}
					fs.EachRecord(func(r *kgo.Record) {
						if ev, err := Decode(r); err == nil {
							seen[ev.ID] = true
						}
					})
				}
				elapsed := time.Since(start)
				b.StopTimer()
				stop()
				<-done
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
			})
		}
	})
}
