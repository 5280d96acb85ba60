package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/testkit"
)

func start(t *testing.T, cfg embedded.Config) *embedded.Cluster {
	t.Helper()
	c, err := embedded.Start(testkit.Context(t, 30*time.Second), cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testConfig(t *testing.T) embedded.Config {
	cfg := embedded.DefaultConfig()
	cfg.PortBase = testkit.FreePortBase(t, cfg.Nodes)
	cfg.DataDir = t.TempDir()
	return cfg
}

func client(t *testing.T, c *embedded.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Bootstrap()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestStartListensOnPortBase(t *testing.T) {
	cfg := testConfig(t)
	c := start(t, cfg)
	want := []string{}
	for i := range cfg.Nodes {
		want = append(want, net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.PortBase+i)))
	}
	if fmt.Sprint(c.Bootstrap()) != fmt.Sprint(want) {
		t.Fatalf("bootstrap %v, want %v", c.Bootstrap(), want)
	}
	meta, err := kadm.NewClient(client(t, c)).BrokerMetadata(testkit.Context(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 3 {
		t.Fatalf("metadata lists %d brokers, want 3: %v", len(meta.Brokers), meta.Brokers)
	}
}

// TestRestartKeepsRecordsAndOffsets is the promise of --data-dir: stop, start
// again, and the topics, records and committed group offsets are there.
func TestRestartKeepsRecordsAndOffsets(t *testing.T) {
	cfg := testConfig(t)
	const topic, group, n = "restart-topic", "restart-group", 10
	ctx := testkit.Context(t, 60*time.Second)

	c := start(t, cfg)
	adm := kadm.NewClient(client(t, c))
	if _, err := adm.CreateTopic(ctx, 3, 2, nil, topic); err != nil {
		t.Fatal(err)
	}
	prod := client(t, c)
	for i := range n {
		r := &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf("value-%d", i))}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Commit 4 of the 10 records for the group.
	cons := client(t, c, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	var committed []*kgo.Record
	for len(committed) < 4 {
		fs := cons.PollRecords(ctx, 4-len(committed))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		committed = append(committed, fs.Records()...)
	}
	if err := cons.CommitRecords(ctx, committed...); err != nil {
		t.Fatal(err)
	}
	before, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	cons.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := start(t, cfg)
	adm2 := kadm.NewClient(client(t, c2))
	after, err := adm2.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after.Offsets().Sorted()) != fmt.Sprint(before.Offsets().Sorted()) {
		t.Fatalf("committed offsets after restart %v, before %v", after.Offsets().Sorted(), before.Offsets().Sorted())
	}
	all := client(t, c2, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	for len(seen) < n {
		fs := all.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after restart, read %d of %d records: %v", len(seen), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	// The group resumes after what it committed: 6 records remain.
	rest := client(t, c2, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group), kgo.DisableAutoCommit())
	var remaining int
	for remaining < n-len(committed) {
		fs := rest.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("group read %d records after restart: %v", remaining, err)
		}
		for _, r := range fs.Records() {
			for _, old := range committed {
				if old.Partition == r.Partition && old.Offset == r.Offset {
					t.Fatalf("group re-read committed record %s[%d]@%d", r.Topic, r.Partition, r.Offset)
				}
			}
			remaining++
		}
	}
}

func TestPortInUse(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.PortBase+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = embedded.Start(context.Background(), cfg)
	var inUse *embedded.PortInUseError
	if !errors.As(err, &inUse) || inUse.Port != cfg.PortBase+1 {
		t.Fatalf("error %v, want PortInUseError for port %d", err, cfg.PortBase+1)
	}
	if want := "--port-base"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
	// The failed start released the data dir.
	start(t, func() embedded.Config { cfg.PortBase = testkit.FreePortBase(t, 3); return cfg }())
}

func TestDataDirLocked(t *testing.T) {
	cfg := testConfig(t)
	start(t, cfg)
	other := cfg
	other.PortBase = testkit.FreePortBase(t, 3)
	_, err := embedded.Start(context.Background(), other)
	var locked *embedded.DataDirLockedError
	if !errors.As(err, &locked) {
		t.Fatalf("error %v, want DataDirLockedError", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*embedded.Config)
	}{
		{"no nodes", func(c *embedded.Config) { c.Nodes = 0 }},
		{"ports past 65535", func(c *embedded.Config) { c.PortBase = 65534 }},
		{"negative port", func(c *embedded.Config) { c.PortBase = -1 }},
		{"no partitions", func(c *embedded.Config) { c.DefaultPartitions = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := embedded.DefaultConfig()
			tt.mod(&cfg)
			if err := cfg.Validate(); err == nil {
				t.Fatal("Validate accepted a bad config")
			}
		})
	}
}
