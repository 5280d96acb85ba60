package event

import (
	"context"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkRound measures the router's own work on one poll of records
// already fetched — decode, dispatch, no-op handler, marking — without a
// cluster, so its CPU and allocations per event are not blurred by the
// client and the brokers (BenchmarkConsume measures the whole path).
func BenchmarkRound(b *testing.B) {
	const partitions, perPartition = 6, 1000 / 6
	for _, mode := range []ContentMode{Structured, Binary} {
		b.Run(map[ContentMode]string{Structured: "structured", Binary: "binary"}[mode], func(b *testing.B) {
			cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			const topic = "bench"
			// Fresh copies of the values and headers per round, as a fetch
			// makes, so the router cannot lean on values it saw before.
			template := make([][]*kgo.Record, partitions)
			for p := range template {
				for i := range perPartition {
					r, err := benchEvent(b, p*perPartition+i).record(topic, "", mode)
					if err != nil {
						b.Fatal(err)
					}
					r.Partition, r.Offset = int32(p), int64(i)
					template[p] = append(template[p], r)
				}
			}
			fetch := func() kgo.Fetches {
				ft := kgo.FetchTopic{Topic: topic}
				for p, recs := range template {
					fp := kgo.FetchPartition{Partition: int32(p), HighWatermark: int64(len(recs))}
					for _, r := range recs {
						c := *r
						c.Value = slices.Clone(r.Value)
						c.Headers = slices.Clone(r.Headers)
						fp.Records = append(fp.Records, &c)
					}
					ft.Partitions = append(ft.Partitions, fp)
				}
				return kgo.Fetches{{Topics: []kgo.FetchTopic{ft}}}
			}
			r, err := NewRouter(RouterConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}})
			if err != nil {
				b.Fatal(err)
			}
			var handled atomic.Int64
			r.Handle("g", topic, func(context.Context, *Message) error { handled.Add(1); return nil })
			for _, rt := range r.groups["g"] {
				rt.byType = map[string]HandlerFunc{"": rt.raw[""].h}
				rt.retry = r.cfg.Retry
			}
			gc := &groupConsumer{r: r, group: "g", routes: r.groups["g"], cl: cl}
			ctx := context.Background()
			// One op is one event: rounds of a poll's worth until b.N. Only
			// the rounds are measured, not the making of their records.
			var (
				before, after runtime.MemStats
				mallocs       uint64
				cpu           time.Duration
			)
			n := 0
			b.ResetTimer()
			for n < b.N {
				b.StopTimer()
				fs := fetch()
				runtime.ReadMemStats(&before)
				cpu0 := processCPU()
				b.StartTimer()
				gc.round(ctx, fs)
				b.StopTimer()
				cpu += processCPU() - cpu0
				runtime.ReadMemStats(&after)
				mallocs += after.Mallocs - before.Mallocs
				n += fs.NumRecords()
				b.StartTimer()
			}
			b.StopTimer()
			if got := handled.Load(); got != int64(n) {
				b.Fatalf("handled %d of %d", got, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
			b.ReportMetric(float64(mallocs)/float64(n), "allocs/event")
		})
	}
}
