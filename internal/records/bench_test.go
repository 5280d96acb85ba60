package records_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/records"
	"github.com/ksuite/ksuite/internal/testkit"
)

// benchRecords is how many 1 KB JSON records each benchmark iteration moves.
const benchRecords = 20000

// jsonRecord1K is a ~1 KB JSON event, as the Suite services publish.
var jsonRecord1K = func() []byte {
	pad := strings.Repeat("x", 1024-110)
	return []byte(fmt.Sprintf(`{"specversion":"1.0","type":"signup-event","subject":"member-42","data":{"memberId":"member-42","note":"%s"}}`, pad))
}()

// BenchmarkProduce compares `ksuite produce` (records.Produce reading lines)
// with a raw franz-go produce loop, on the same cluster in the same run.
// Run with: scripts/bench.sh (or go test -bench Produce ./internal/records).
func BenchmarkProduce(b *testing.B) {
	input := bytes.Repeat(append(append([]byte{}, jsonRecord1K...), '\n'), benchRecords)
	for _, c := range testkit.Clusters(b) {
		topic := c.CreateTopic(b, 3, benchRF(c))
		b.Run(c.Name+"/franz-go", func(b *testing.B) {
			cl := c.Client(b, kgo.DefaultProduceTopic(topic))
			b.SetBytes(int64(len(jsonRecord1K)) * benchRecords)
			for b.Loop() {
				rawProduce(b, cl, topic)
			}
		})
		b.Run(c.Name+"/ksuite", func(b *testing.B) {
			o := records.ProduceOptions{Topic: topic, Partition: -1}
			cl := c.Client(b, o.ClientOpts()...)
			b.SetBytes(int64(len(jsonRecord1K)) * benchRecords)
			for b.Loop() {
				n, err := records.Produce(context.Background(), cl, o, bytes.NewReader(input), time.Minute)
				if err != nil || n.Acked != benchRecords {
					b.Fatalf("produced %d: %v", n.Acked, err)
				}
			}
		})
	}
}

// BenchmarkConsume compares `ksuite consume` (records.Consume printing JSON
// lines) with a raw franz-go poll loop that only counts records.
func BenchmarkConsume(b *testing.B) {
	for _, c := range testkit.Clusters(b) {
		topic := c.CreateTopic(b, 3, benchRF(c))
		rawProduce(b, c.Client(b, kgo.DefaultProduceTopic(topic)), topic)
		b.Run(c.Name+"/franz-go", func(b *testing.B) {
			b.SetBytes(int64(len(jsonRecord1K)) * benchRecords)
			for b.Loop() {
				cl := c.Client(b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				n := 0
				for n < benchRecords {
					fs := cl.PollFetches(ctx)
					if err := fs.Err0(); err != nil {
						b.Fatal(err)
					}
					n += fs.NumRecords()
				}
				cancel()
				cl.Close()
			}
		})
		for _, output := range []string{records.OutputText, records.OutputJSON} {
			b.Run(c.Name+"/ksuite-"+output, func(b *testing.B) {
				o := records.ConsumeOptions{Topic: topic, FromBeginning: true, Partition: -1, Count: benchRecords, Output: output}
				b.SetBytes(int64(len(jsonRecord1K)) * benchRecords)
				for b.Loop() {
					cl := c.Client(b, o.ClientOpts()...)
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					n, err := records.Consume(ctx, cl, o, io.Discard)
					cancel()
					cl.Close()
					if err != nil || n != benchRecords {
						b.Fatalf("consumed %d: %v", n, err)
					}
				}
			})
		}
	}
}

// rawProduce sends benchRecords records with plain franz-go and waits for all.
func rawProduce(b *testing.B, cl *kgo.Client, topic string) {
	b.Helper()
	errs := make(chan error, 1)
	for range benchRecords {
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: jsonRecord1K}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// benchRF is the replication factor the team uses where the cluster has the
// brokers for it: 2 on real Kafka; kfake does not replicate anyway.
func benchRF(c testkit.Cluster) int16 {
	if c.Real {
		return 2
	}
	return 1
}
