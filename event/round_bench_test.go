package event

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkRound measures the router's own work on one poll of records
// already fetched — decode, dispatch, no-op handler, marking — without a
// cluster, so its CPU and allocations per event are not blurred by the
// client and the brokers (BenchmarkConsume measures the whole path).
func BenchmarkRound(b *testing.B) {
	const partitions, perPartition = 6, 1000 / 6
	for _, mode := range []ContentMode{Structured, Binary} {
		b.Run(mode.String(), func(b *testing.B) {
			cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			const topic = "bench"
			// The records of one poll, as a fetch makes them; every round
			// handles them again, so the router's work is all that is
			// measured (decoding reads the records and keeps nothing of them
			// from one round to the next).
			ft := kgo.FetchTopic{Topic: topic}
			for p := range partitions {
				fp := kgo.FetchPartition{Partition: int32(p), HighWatermark: perPartition}
				for i := range perPartition {
					r, err := benchEvent(b, p*perPartition+i).record(topic, "", mode)
					if err != nil {
						b.Fatal(err)
					}
					r.Partition, r.Offset = int32(p), int64(i)
					fp.Records = append(fp.Records, r)
				}
				ft.Partitions = append(ft.Partitions, fp)
			}
			fs := kgo.Fetches{{Topics: []kgo.FetchTopic{ft}}}
			r, err := NewRouter(RouterConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}})
			if err != nil {
				b.Fatal(err)
			}
			var handled atomic.Int64
			r.Handle("g", topic, func(context.Context, *Message) error { handled.Add(1); return nil })
			r.prepareRoutes()
			gc := &groupConsumer{r: r, group: "g", routes: r.groups["g"], cl: cl}
			ctx := context.Background()
			// One op is one event: rounds of a poll's worth until b.N.
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu := processCPU()
			n := 0
			b.ResetTimer()
			for n < b.N {
				gc.round(ctx, fs)
				n += fs.NumRecords()
			}
			b.StopTimer()
			cpu = processCPU() - cpu
			runtime.ReadMemStats(&after)
			if got := handled.Load(); got != int64(n) {
				b.Fatalf("handled %d of %d", got, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n), "allocs/event")
		})
	}
}
