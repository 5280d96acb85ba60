package doctor_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/doctor"
	"github.com/ksuite/ksuite/internal/testkit"
)

// BenchmarkDoctor compares a whole doctor run on a healthy 3-broker
// cluster with 20 topics against its baseline: what any command pays to
// start talking to the cluster (a new client, a connection, one metadata
// request). Report the ratio, not the absolute time.
func BenchmarkDoctor(b *testing.B) {
	c := testkit.NewFake(b)
	for range 20 {
		c.CreateTopic(b, 3, 2)
	}
	cfg := c.Config()
	cfg.Timeout = 5 * time.Second
	ctx := context.Background()
	b.Run("baseline-connect-and-metadata", func(b *testing.B) {
		for b.Loop() {
			cl, err := cfg.Connect(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := kadm.NewClient(cl).Metadata(ctx); err != nil {
				b.Fatal(err)
			}
			cl.Close()
		}
	})
	b.Run("doctor", func(b *testing.B) {
		for b.Loop() {
			if r := doctor.Run(ctx, cfg, doctor.Options{}); r.Failed() {
				b.Fatalf("%+v", r.Checks)
			}
		}
	})
}
