package main_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
