package embedded_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// BenchmarkStartToReady measures embedded.Start (3 brokers, ready = every
// broker accepts and metadata answers) beside bare kfake.NewCluster plus
// one ping, the least any embedded start can do.
func BenchmarkStartToReady(b *testing.B) {
	for _, persisted := range []bool{false, true} {
		name := "in-memory"
		if persisted {
			name = "data-dir"
		}
		b.Run(name+"/kfake-raw", func(b *testing.B) {
			for b.Loop() {
				opts := []kfake.Opt{kfake.NumBrokers(3), kfake.AllowAutoTopicCreation()}
				if persisted {
					opts = append(opts, kfake.DataDir(b.TempDir()))
				}
				c, err := kfake.NewCluster(opts...)
				if err != nil {
					b.Fatal(err)
				}
				cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
				if err != nil {
					b.Fatal(err)
				}
				if err := cl.Ping(context.Background()); err != nil {
					b.Fatal(err)
				}
				cl.Close()
				c.Close()
			}
		})
		b.Run(name+"/ksuite", func(b *testing.B) {
			for b.Loop() {
				cfg := embedded.DefaultConfig()
				cfg.PortBase = 0
				cfg.DataDir = ""
				if persisted {
					cfg.DataDir = b.TempDir()
				}
				c, err := embedded.Start(testkit.Context(b, 30e9), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProduceSyncWrites measures acks=all produce throughput into a
// persisted cluster with and without --sync-writes (fsync per batch), in
// the same run: the cost of surviving an OS crash. Batches are small and
// synchronous (one record per op, awaited) to show the worst case, and
// large to show a streaming producer (1,000 records per op).
func BenchmarkProduceSyncWrites(b *testing.B) {
	value := make([]byte, 1024)
	for _, linger := range []bool{false, true} {
		for _, sync := range []bool{false, true} {
			name := "no-sync"
			if sync {
				name = "sync-writes"
			}
			mode := "one-at-a-time"
			if linger {
				mode = "streaming"
			}
			b.Run(mode+"/"+name, func(b *testing.B) {
				cfg := embedded.DefaultConfig()
				cfg.PortBase = 0
				cfg.DataDir = b.TempDir()
				cfg.SyncWrites = sync
				c, err := embedded.Start(testkit.Context(b, 30e9), cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = c.Close() }()
				cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.DefaultProduceTopic("bench"), kgo.AllowAutoTopicCreation())
				if err != nil {
					b.Fatal(err)
				}
				defer cl.Close()
				ctx := context.Background()
				perOp := 1
				if linger {
					perOp = 1000
				}
				b.SetBytes(int64(len(value) * perOp))
				for b.Loop() {
					for range perOp {
						cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
							if err != nil {
								b.Error(err)
							}
						})
					}
					if err := cl.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
