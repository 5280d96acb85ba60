package ksuitetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/ksuitetest"
	"github.com/ksuite/ksuite/topics"
)

const repoTopics = "../topics.yaml"

// kits returns the kit on its own embedded cluster and, when the real
// cluster is there, attached to it.
func kits(t *testing.T, fn func(t *testing.T, k *ksuitetest.Kafka), opts ...ksuitetest.Option) {
	t.Run("embedded", func(t *testing.T) { fn(t, ksuitetest.Start(t, opts...)) })
	if real, ok := testkit.RealKafka(t); ok {
		t.Run("attached", func(t *testing.T) { fn(t, ksuitetest.Attach(t, real.Brokers, opts...)) })
	}
}

func TestTopicsFileApplied(t *testing.T) {
	want, err := topics.Load("", repoTopics)
	if err != nil {
		t.Fatal(err)
	}
	kits(t, func(t *testing.T, k *ksuitetest.Kafka) {
		adm := kadm.NewClient(k.Client(t))
		md, err := adm.Metadata(testkit.Context(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(md.Brokers) != 3 {
			t.Fatalf("%d brokers, want 3", len(md.Brokers))
		}
		for _, tp := range want.Topics {
			got, ok := md.Topics[k.Topic(tp.Name)]
			if !ok || len(got.Partitions) != int(tp.Partitions) || got.Partitions.NumReplicas() != int(tp.ReplicationFactor) {
				t.Errorf("topic %s: %+v, want %d partitions × %d replicas", k.Topic(tp.Name), got, tp.Partitions, tp.ReplicationFactor)
			}
		}
	}, ksuitetest.TopicsFile(repoTopics), ksuitetest.Topics("extra"))
}

func TestPublishAndWait(t *testing.T) {
	kits(t, func(t *testing.T, k *ksuitetest.Kafka) {
		ev, err := event.New("greeting", "k1", map[string]string{"hello": "world"})
		if err != nil {
			t.Fatal(err)
		}
		k.Publish(t, "extra", ev)
		got := k.WaitForEvent(t, "extra", 10*time.Second, func(e *event.Event) bool { return e.ID == ev.ID })
		if got.Source != "ksuitetest" || string(got.Data) != `{"hello":"world"}` || got.Subject != "k1" {
			t.Fatalf("read back %+v", got)
		}
		if ev.Source != "" {
			t.Fatal("Publish changed the caller's event")
		}
		legacy := []byte(`{"uuid":"Legacy/1","data":{"x":1}}`)
		k.PublishRaw(t, "extra", []byte("k2"), legacy)
		r := k.WaitForRecord(t, "extra", 10*time.Second, func(r *kgo.Record) bool { return string(r.Key) == "k2" })
		if string(r.Value) != string(legacy) || r.Topic != k.Topic("extra") {
			t.Fatalf("raw record %s %s", r.Topic, r.Value)
		}
	}, ksuitetest.Topics("extra"))
}

// A router consuming through the kit's options dead-letters a bad record,
// and WaitForDeadLetter returns it with the reason.
func TestWaitForDeadLetter(t *testing.T) {
	kits(t, func(t *testing.T, k *ksuitetest.Kafka) {
		r, err := event.NewRouter(event.RouterConfig{ClientOpts: k.ClientOpts()})
		if err != nil {
			t.Fatal(err)
		}
		r.Handle(k.Topic("group"), k.Topic("orders"), func(context.Context, *event.Message) error { return nil })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		k.PublishRaw(t, "orders", []byte("bad"), []byte("not an event"))
		rec, reason := k.WaitForDeadLetter(t, "orders", 20*time.Second, func(r *kgo.Record) bool { return string(r.Key) == "bad" })
		if string(rec.Value) != "not an event" || !strings.Contains(reason, "not a CloudEvent") {
			t.Fatalf("dead letter %q, reason %q", rec.Value, reason)
		}
	}, ksuitetest.Topics("orders"))
}

// Attach names everything under a prefix unique to the test and removes
// its topics and groups afterwards.
func TestAttachCleansUp(t *testing.T) {
	real, ok := testkit.RealKafka(t)
	if !ok {
		t.Skip("no real cluster: " + testkit.EnvKafka + " is empty")
	}
	var prefix string
	t.Run("use", func(t *testing.T) {
		k := ksuitetest.Attach(t, real.Brokers, ksuitetest.Topics("scratch"))
		prefix = k.Prefix()
		if !strings.HasPrefix(prefix, "kt.TestAttachCleansUp-use.") || k.Topic("scratch") != prefix+"scratch" {
			t.Fatalf("prefix %q", prefix)
		}
		other := ksuitetest.Attach(t, real.Brokers, ksuitetest.Topics("scratch"))
		if other.Prefix() == prefix {
			t.Fatal("two kits share a prefix")
		}
		// A group under the prefix, to be deleted with the topics.
		cl := k.Client(t, kgo.ConsumerGroup(k.Topic("g")), kgo.ConsumeTopics(k.Topic("scratch")))
		ctx := testkit.Context(t, 20*time.Second)
		if err := cl.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		k.PublishRaw(t, "scratch", nil, []byte("x"))
		for len(cl.PollFetches(ctx).Records()) == 0 && ctx.Err() == nil {
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
		cl.Close()
	})
	adm := real.Admin(t)
	testkit.Eventually(t, 30*time.Second, "the kit's topics and groups are gone", func() bool {
		ctx := testkit.Context(t, 10*time.Second)
		tds, err := adm.ListTopics(ctx)
		groups, gerr := adm.ListGroups(ctx)
		if err != nil || gerr != nil {
			return false
		}
		for _, name := range append(tds.Names(), groups.Groups()...) {
			if strings.HasPrefix(name, prefix) {
				return false
			}
		}
		return true
	})
}

// Starting the kit's cluster with the repository's topics takes
// milliseconds (the figure is in docs/benchmarks.md).
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		ksuitetest.Start(b, ksuitetest.TopicsFile(repoTopics))
	}
}

// Attach with an empty prefix on a cluster that already has some of the
// topics creates the others, and leaves the ones it found when it cleans up.
func TestAttachLeavesWhatItFound(t *testing.T) {
	k := ksuitetest.Start(t, ksuitetest.Topics("theirs"))
	t.Run("attach", func(t *testing.T) {
		ksuitetest.Attach(t, k.Brokers(), ksuitetest.Prefix(""), ksuitetest.Topics("theirs", "mine"))
	})
	adm := kadm.NewClient(k.Client(t))
	testkit.Eventually(t, 10*time.Second, "mine deleted, theirs kept", func() bool {
		tds, err := adm.ListTopics(testkit.Context(t, 5*time.Second))
		return err == nil && tds.Has("theirs") && tds.Has("theirs.DLT") && !tds.Has("mine") && !tds.Has("mine.DLT")
	})
}
