package embedded_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// fakeAt starts a bare kfake cluster persisted in dir, closed at cleanup.
func fakeAt(t *testing.T, dir string, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(dir), kfake.DefaultNumPartitions(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake in %s: %v", dir, err)
	}
	t.Cleanup(c.Close)
	return c
}

// produceValues produces values to topic in one partition and fails the
// test unless every record is acknowledged.
func produceValues(t *testing.T, brokers []string, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for _, v := range values {
		rs = append(rs, kgo.StringRecord(v))
	}
	if err := cl.ProduceSync(testkit.Context(t, 30*time.Second), rs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// readPartition reads partition 0 of topic from its start to its end, as
// offset -> value.
func readPartition(t *testing.T, brokers []string, topic string) map[int64]string {
	t.Helper()
	ctx := testkit.Context(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	got := map[int64]string{}
	if end.Offset == 0 {
		return got
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}})
	for int64(len(got)) < end.Offset && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { got[r.Offset] = string(r.Value) })
		if len(fs.Records()) == 0 {
			break
		}
	}
	return got
}

// dropFromTopicsState removes topic from kfake's persisted topics state, as
// a kill -9 did to an auto-created topic before patch 0001.
func dropFromTopicsState(t *testing.T, dir, topic string) {
	t.Helper()
	path := filepath.Join(dir, "topics.json")
	var state map[string]any
	if err := json.Unmarshal([]byte(mustReadFile(t, path)), &state); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, tp := range state["topics"].([]any) {
		if tp.(map[string]any)["name"] != topic {
			kept = append(kept, tp)
		}
	}
	state["topics"] = kept
	b, _ := json.Marshal(state)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecreatedTopicStartsEmpty is issue 9's second finding: a topic whose
// files outlived it must, when created again, start at offset 0 with only
// its own records — live and after a restart — not append to the old log.
func TestRecreatedTopicStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	const topic = "recreated"
	c := fakeAt(t, dir)
	if err := c.CreateTopic(topic, 1, nil); err != nil {
		t.Fatal(err)
	}
	old := make([]string, 1000)
	for i := range old {
		old[i] = "old-" + strconv.Itoa(i)
	}
	produceValues(t, c.ListenAddrs(), topic, old...)
	c.Close()
	dropFromTopicsState(t, dir, topic)

	c = fakeAt(t, dir)
	if err := c.CreateTopic(topic, 1, nil); err != nil {
		t.Fatal(err)
	}
	fresh := make([]string, 100)
	for i := range fresh {
		fresh[i] = "new-" + strconv.Itoa(i)
	}
	produceValues(t, c.ListenAddrs(), topic, fresh...)
	check := func(when string, got map[int64]string) {
		t.Helper()
		if len(got) != len(fresh) {
			t.Fatalf("%s: the re-created topic holds %d records, want the %d new ones", when, len(got), len(fresh))
		}
		for i, v := range fresh {
			if got[int64(i)] != v {
				t.Fatalf("%s: offset %d holds %q, want %q", when, i, got[int64(i)], v)
			}
		}
	}
	check("live", readPartition(t, c.ListenAddrs(), topic))
	c.Close()
	c = fakeAt(t, dir)
	check("after a restart", readPartition(t, c.ListenAddrs(), topic))
}
