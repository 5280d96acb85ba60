package main_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// kill9 kills up as a crash or the OOM killer would: no shutdown code runs.
func (u *upBinary) kill9(t testing.TB) {
	t.Helper()
	if err := u.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-u.waitErr
}

// bootstrapOf is the bootstrap list of up's ready line.
func (u *upBinary) bootstrapOf() []string {
	return strings.Split(strings.Fields(strings.TrimPrefix(u.ready, "ready bootstrap="))[0], ",")
}

// produceAcked produces n records with values prefix-0..prefix-(n-1) and
// returns the values the cluster acknowledged. It stops at the first
// failure: a produce into a dying cluster is part of what is tested.
func produceAcked(t testing.TB, brokers []string, topic, prefix string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation(),
		kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		v := prefix + "-" + strconv.Itoa(i)
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: []byte(v)}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err == nil {
				mu.Lock()
				acked = append(acked, v)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked
}

// readAll reads topic from the beginning until want records arrived or the
// deadline passed, and returns the values read.
func readAll(t testing.TB, brokers []string, topic string, want int) map[string]bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(seen) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	return seen
}

// missing lists the acked values not in seen.
func missing(acked []string, seen map[string]bool) []string {
	var out []string
	for _, v := range acked {
		if !seen[v] {
			out = append(out, v)
		}
	}
	return out
}

// TestKill9KeepsAckedRecordsOfAutoCreatedTopic is issue 9's first finding:
// records acknowledged into a topic that produce auto-created must survive
// kill -9 of `ksuite up`, as those of a declared topic do.
func TestKill9KeepsAckedRecordsOfAutoCreatedTopic(t *testing.T) {
	dir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	args := []string{"--port-base", strconv.Itoa(base), "--data-dir", filepath.Join(dir, "data")}

	u := startBinary(t, dir, args...)
	acked := produceAcked(t, u.bootstrapOf(), "auto-created", "v", 2000)
	if len(acked) != 2000 {
		t.Fatalf("only %d of 2000 records acknowledged by a healthy cluster", len(acked))
	}
	u.kill9(t)

	u = startBinary(t, dir, args...)
	if lost := missing(acked, readAll(t, u.bootstrapOf(), "auto-created", len(acked))); len(lost) > 0 {
		t.Fatalf("kill -9 lost %d of %d acknowledged records, e.g. %v; up's log:\n%s", len(lost), len(acked), lost[:min(5, len(lost))], u.stderr)
	}
	if code := u.interrupt(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// BenchmarkKill9Durability is the durability figure of docs/benchmarks.md:
// each iteration produces into an auto-created topic, kills `ksuite up`
// with SIGKILL mid-stream (once 5,000 records are acknowledged, while more
// are in flight), restarts it on the same data directory, and counts the
// acknowledged records that came back. survived/acked must be 1.
func BenchmarkKill9Durability(b *testing.B) {
	var acked, survived int
	for b.Loop() {
		dir := b.TempDir()
		args := []string{"--port-base", strconv.Itoa(testkit.FreePortBase(b, 3)), "--data-dir", filepath.Join(dir, "data")}
		u := startBinary(b, dir, args...)
		var n atomic.Int64
		got := make(chan []string, 1)
		killed := make(chan struct{})
		go func() { got <- produceUntilFailure(b, u.bootstrapOf(), "midstream", &n, killed) }()
		testkit.Eventually(b, 30*time.Second, "5,000 records acknowledged", func() bool { return n.Load() >= 5000 })
		u.kill9(b)
		close(killed)
		a := <-got
		u = startBinary(b, dir, args...)
		seen := readAll(b, u.bootstrapOf(), "midstream", len(a))
		acked += len(a)
		survived += len(a) - len(missing(a, seen))
		u.kill9(b)
	}
	b.ReportMetric(float64(acked)/float64(b.N), "acked/run")
	b.ReportMetric(float64(survived)/float64(max(acked, 1)), "survived/acked")
}

// produceUntilFailure produces batches of 500 records until one fails,
// counting acknowledged records in n, and returns their values. Once
// killed is closed it waits at most 5s more: an idempotent producer never
// gives up on a batch whose fate it does not know.
func produceUntilFailure(t testing.TB, brokers []string, topic string, n *atomic.Int64, killed <-chan struct{}) []string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation(),
		kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(3*time.Second))
	if err != nil {
		t.Error(err)
		return nil
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		acked []string
	)
	for batch := 0; ; batch++ {
		failed := false
		var wg sync.WaitGroup
		for i := range 500 {
			v := "b" + strconv.Itoa(batch) + "-" + strconv.Itoa(i)
			wg.Add(1)
			cl.Produce(context.Background(), kgo.StringRecord(v), func(_ *kgo.Record, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = true
					return
				}
				acked = append(acked, v)
				n.Add(1)
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-killed:
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
			failed = true
		}
		mu.Lock()
		if failed {
			defer mu.Unlock()
			return append([]string(nil), acked...)
		}
		mu.Unlock()
	}
}
