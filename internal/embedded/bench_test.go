package embedded_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/testkit"
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
