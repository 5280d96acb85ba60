package topics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/topics"
)

// fixture is one test's corner of a cluster: a unique prefix that the
// files it writes own through manage.prefixes, so deletes on the shared
// real cluster can never reach another test's topics.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	cl     *kgo.Client
	adm    *kadm.Client
	prefix string
}

func newFixture(t *testing.T, c testkit.Cluster) *fixture {
	f := &fixture{t: t, ctx: testkit.Context(t, 2*time.Minute), cl: c.Client(t), prefix: testkit.TopicName(t) + "-"}
	f.adm = kadm.NewClient(f.cl)
	t.Cleanup(func() {
		// Delete through ksuite itself: an empty file owning the prefix.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		d := &topics.Desired{Manage: []string{f.prefix}}
		if p, err := topics.Plan(ctx, f.cl, d); err == nil {
			_, _ = topics.Apply(ctx, f.cl, p, topics.ApplyOptions{AllowDelete: true})
		}
	})
	return f
}

// name is a topic name inside the fixture's prefix.
func (f *fixture) name(s string) string { return f.prefix + s }

// source is a topics file: body with "{{p}}" standing for the prefix, and
// the manage block owning it.
func (f *fixture) source(body string) string {
	return fmt.Sprintf("manage:\n  prefixes: [%q]\n", f.prefix) + strings.ReplaceAll(body, "{{p}}", f.prefix)
}

// desired parses the topics file [fixture.source] makes of body.
func (f *fixture) desired(body string) *topics.Desired {
	f.t.Helper()
	src := f.source(body)
	d, err := topics.Parse("test.yaml", []byte(src), "")
	if err != nil {
		f.t.Fatalf("parse:\n%s\n%v", src, err)
	}
	return d
}

func (f *fixture) plan(d *topics.Desired) *topics.PlanResult {
	f.t.Helper()
	p, err := topics.Plan(f.ctx, f.cl, d)
	if err != nil {
		f.t.Fatalf("plan: %v", err)
	}
	return p
}

func (f *fixture) apply(p *topics.PlanResult, opts topics.ApplyOptions) topics.ApplyResult {
	f.t.Helper()
	var progress bytes.Buffer
	opts.Progress = &progress
	res, err := topics.Apply(f.ctx, f.cl, p, opts)
	if err != nil {
		f.t.Fatalf("apply: %v\nprogress:\n%s", err, progress.String())
	}
	return res
}

// wantSummary plans d and checks the counts; it returns the plan.
func (f *fixture) wantSummary(d *topics.Desired, want topics.Summary) *topics.PlanResult {
	f.t.Helper()
	p := f.plan(d)
	if got := p.Summary(); got != want {
		var b strings.Builder
		_ = p.WriteText(&b)
		f.t.Fatalf("plan summary = %+v, want %+v\n%s", got, want, b.String())
	}
	return p
}

// replicas returns each partition's replica count, nil when the topic does
// not exist. It asks a broker directly: kadm's Metadata may answer from
// the client's cache, which would hide what apply just did.
func (f *fixture) replicas(topic string) []int {
	f.t.Helper()
	md, err := testkit.TopicMetadata(f.ctx, f.cl, topic)
	if err != nil {
		f.t.Fatal(err)
	}
	if md.ErrorCode != 0 {
		return nil
	}
	out := make([]int, len(md.Partitions))
	for _, p := range md.Partitions {
		out[p.Partition] = len(p.Replicas)
	}
	return out
}

// partitions is the partition count, -1 when the topic does not exist.
func (f *fixture) partitions(topic string) int {
	f.t.Helper()
	rs := f.replicas(topic)
	if rs == nil {
		return -1
	}
	return len(rs)
}

func (f *fixture) config(topic, key string) string {
	f.t.Helper()
	rc, err := f.adm.DescribeTopicConfigs(f.ctx, topic)
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := rc.On(topic, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range r.Configs {
		if c.Key == key {
			return c.MaybeValue()
		}
	}
	return ""
}

func TestApplyLifecycle(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		a, b := f.name("a"), f.name("b")

		// Create two topics in one apply; the plan afterwards is empty.
		v1 := f.desired(`defaults: {partitions: 2, replication-factor: 2}
topics:
  - name: {{p}}a
    config: {retention.ms: 3600000, cleanup.policy: delete}
  - name: {{p}}b
`)
		res := f.apply(f.wantSummary(v1, topics.Summary{Create: 2}), topics.ApplyOptions{})
		if res.Applied.Create != 2 {
			t.Fatalf("applied = %+v, want 2 creates", res.Applied)
		}
		if got := f.partitions(a); got != 2 {
			t.Fatalf("%s has %d partitions, want 2", a, got)
		}
		if got := f.config(a, "retention.ms"); got != "3600000" {
			t.Fatalf("retention.ms = %q, want 3600000", got)
		}
		f.wantSummary(v1, topics.Summary{})

		// Declaring a key at the value the broker already has (from its
		// defaults, not an override) is no change.
		f.wantSummary(f.desired(`defaults: {partitions: 2, replication-factor: 2}
topics:
  - name: {{p}}a
    config: {retention.ms: "3600000", cleanup.policy: delete}
  - name: {{p}}b
    config: {min.insync.replicas: 1, max.message.bytes: 1048588}
`), topics.Summary{})

		// Grow a, change one config and drop another; b leaves the file.
		v2 := f.desired(`topics:
  - name: {{p}}a
    partitions: 4
    replication-factor: 2
    config: {retention.ms: 7200000}
`)
		p := f.wantSummary(v2, topics.Summary{Update: 1, Delete: 1})
		res = f.apply(p, topics.ApplyOptions{})
		if res.Applied.Delete != 0 || !slices.Equal(res.SkippedDeletes, []string{b}) {
			t.Fatalf("without AllowDelete: applied %+v, skipped %v; want b skipped", res.Applied, res.SkippedDeletes)
		}
		if f.partitions(b) != 2 {
			t.Fatalf("%s must survive an apply without AllowDelete", b)
		}
		if got := f.partitions(a); got != 4 {
			t.Fatalf("%s has %d partitions, want 4", a, got)
		}
		if got := f.config(a, "retention.ms"); got != "7200000" {
			t.Fatalf("retention.ms = %q, want 7200000", got)
		}
		p = f.wantSummary(v2, topics.Summary{Delete: 1})
		res = f.apply(p, topics.ApplyOptions{AllowDelete: true})
		if res.Applied.Delete != 1 || f.partitions(b) != -1 {
			t.Fatalf("with AllowDelete: applied %+v, %s partitions %d; want it gone", res.Applied, b, f.partitions(b))
		}
		f.wantSummary(v2, topics.Summary{})

		// A decrease is blocked and Apply refuses the whole plan.
		v3 := f.desired(`topics:
  - {name: "{{p}}a", partitions: 1, replication-factor: 2, config: {retention.ms: 1000}}
  - {name: "{{p}}c", partitions: 1, replication-factor: 2}
`)
		p = f.wantSummary(v3, topics.Summary{Create: 1, Blocked: 1})
		if _, err := topics.Apply(f.ctx, f.cl, p, topics.ApplyOptions{}); !errors.Is(err, topics.ErrBlocked) {
			t.Fatalf("apply of a blocked plan: err = %v, want ErrBlocked", err)
		}
		if f.partitions(f.name("c")) != -1 || f.config(a, "retention.ms") != "7200000" {
			t.Fatal("a blocked plan must change nothing")
		}
	})
}

func TestApplyDryRunChangesNothing(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		f.apply(f.plan(f.desired(`topics:
  - {name: "{{p}}a", partitions: 1, replication-factor: 1}
  - {name: "{{p}}gone", partitions: 1, replication-factor: 1}
`)), topics.ApplyOptions{})
		// Every kind of change: Kafka validates the first three; the
		// replication factor and the delete have no validate-only mode and
		// must only be listed, even with AllowDelete.
		d := f.desired(`topics:
  - {name: "{{p}}a", partitions: 3, replication-factor: 2, config: {retention.ms: 1000}}
  - {name: "{{p}}new", partitions: 1, replication-factor: 1}
`)
		p := f.wantSummary(d, topics.Summary{Create: 1, Update: 1, Delete: 1})
		// A reassignment would not finish on kfake: fail fast if one starts.
		res := f.apply(p, topics.ApplyOptions{DryRun: true, AllowDelete: true, WaitTimeout: 10 * time.Second})
		if res.Applied.Create != 1 || res.Applied.Update != 1 || res.Applied.Delete != 1 {
			t.Fatalf("dry run validated %+v, want 1 create, 1 update and 1 delete", res.Applied)
		}
		if f.partitions(f.name("new")) != -1 || f.partitions(f.name("a")) != 1 || f.config(f.name("a"), "retention.ms") == "1000" {
			t.Fatal("a dry run changed the cluster")
		}
		if got := f.replicas(f.name("a")); !slices.Equal(got, []int{1}) || f.partitions(f.name("gone")) != 1 {
			t.Fatalf("a dry run reassigned (replicas %v) or deleted", got)
		}
		f.wantSummary(d, topics.Summary{Create: 1, Update: 1, Delete: 1})
	})
}

func TestDryRunSurfacesBrokerRejection(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		d := f.desired("topics: [{name: '{{p}}raced', partitions: 1, replication-factor: 1}]")
		p := f.wantSummary(d, topics.Summary{Create: 1})
		// Someone creates the topic between plan and apply: the brokers'
		// validate-only check must catch it and name the topic.
		if _, err := f.adm.CreateTopic(f.ctx, 1, 1, nil, f.name("raced")); err != nil {
			t.Fatal(err)
		}
		_, err := topics.Apply(f.ctx, f.cl, p, topics.ApplyOptions{DryRun: true})
		if err == nil || !strings.Contains(err.Error(), f.name("raced")) || !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
			t.Fatalf("dry run err = %v, want the broker's TOPIC_ALREADY_EXISTS naming the topic", err)
		}
	})
}

func TestUnmanagedTopicsAreInformationOnly(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		foreign := c.CreateTopic(t, 1, 1)
		// No manage block: nothing is ever deleted, others are unmanaged.
		d, err := topics.Parse("t.yaml", []byte(fmt.Sprintf("topics: [{name: %q, partitions: 1, replication-factor: 1}]", f.name("a"))), "")
		if err != nil {
			t.Fatal(err)
		}
		// CreateTopic returns once the controller has the topic; the broker a
		// plan asks may learn of it a moment later.
		var p *topics.PlanResult
		testkit.Eventually(t, 30*time.Second, "plan lists "+foreign+" as unmanaged", func() bool {
			p = f.plan(d)
			return slices.Contains(p.Unmanaged, foreign)
		})
		if p.Summary() != (topics.Summary{Create: 1}) {
			t.Fatalf("summary %+v, unmanaged %v: want 1 create and %s unmanaged", p.Summary(), p.Unmanaged, foreign)
		}
		for _, u := range p.Unmanaged {
			if strings.HasPrefix(u, "__") {
				t.Fatalf("internal topic %s listed as unmanaged", u)
			}
		}
	})
}

func TestReplicationFactorAboveLiveBrokersFailsBeforeApplying(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		body := "topics:\n  - {name: '{{p}}ok', partitions: 1, replication-factor: 1}\n  - {name: '{{p}}big', partitions: 1, replication-factor: 4}\n"
		d := f.desired(body)
		wantRFError := func(step string, err error) {
			t.Helper()
			var rfe *topics.RFError
			if !errors.As(err, &rfe) || rfe.Brokers != 3 || len(rfe.Topics) != 1 || rfe.Topics[f.name("big")] != 4 {
				t.Fatalf("%s: err = %v, want RFError for %s (4) with 3 brokers", step, err, f.name("big"))
			}
			for _, n := range []string{f.name("ok"), f.name("big")} {
				if f.partitions(n) != -1 {
					t.Fatalf("%s created %s: nothing may be created when a replication factor is impossible", step, n)
				}
			}
		}

		_, err := topics.Plan(f.ctx, f.cl, d)
		wantRFError("Plan", err)

		// Sync is what `ksuite up` runs: plan, then apply what it may.
		path := t.TempDir() + "/topics.yaml"
		if err := writeFile(path, f.source(body)); err != nil {
			t.Fatal(err)
		}
		_, err = topics.Sync(f.ctx, f.cl, []string{path}, "", nil)
		wantRFError("Sync", err)

		// A plan made while a fourth broker was up is refused by Apply itself.
		p, err := topics.PlanSeeingBrokers(f.ctx, f.cl, d, 4)
		if err != nil || p.Summary() != (topics.Summary{Create: 2}) {
			t.Fatalf("plan seeing 4 brokers = %+v, %v; want 2 creates", p, err)
		}
		_, err = topics.Apply(f.ctx, f.cl, p, topics.ApplyOptions{WaitTimeout: 20 * time.Second})
		wantRFError("Apply", err)
	})
}

// On kfake (ksuite up) too: a reassignment sets the replication factor
// there (kfake patch 0033), so apply's wait for it ends.
func TestReplicationFactorChange(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		name := f.name("rf")
		rfOf := func() []int { return f.replicas(name) }
		f.apply(f.plan(f.desired("topics: [{name: '{{p}}rf', partitions: 3, replication-factor: 1}]")), topics.ApplyOptions{})
		up := f.desired("topics: [{name: '{{p}}rf', partitions: 4, replication-factor: 3}]")
		p := f.wantSummary(up, topics.Summary{Update: 1})
		if got := p.Changes[0].ReplicationFactor; got == nil || *got.From != 1 || *got.To != 3 {
			t.Fatalf("replicationFactor change = %+v, want 1 → 3", got)
		}
		f.apply(p, topics.ApplyOptions{})
		if got := rfOf(); !slices.Equal(got, []int{3, 3, 3, 3}) {
			t.Fatalf("replicas per partition = %v, want 3 each", got)
		}
		f.wantSummary(up, topics.Summary{})

		down := f.desired("topics: [{name: '{{p}}rf', partitions: 4, replication-factor: 2}]")
		f.apply(f.wantSummary(down, topics.Summary{Update: 1}), topics.ApplyOptions{})
		if got := rfOf(); !slices.Equal(got, []int{2, 2, 2, 2}) {
			t.Fatalf("replicas per partition = %v, want 2 each", got)
		}
		f.wantSummary(down, topics.Summary{})
	})
}

// A replica list Kafka's controller refuses is refused on kfake too, with
// the same code (kfake patch 0033), and changes nothing.
func TestReassignmentRefusesBadReplicaLists(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		name := f.name("bad")
		f.apply(f.plan(f.desired("topics: [{name: '{{p}}bad', partitions: 1, replication-factor: 2}]")), topics.ApplyOptions{})
		brokers, err := f.adm.ListBrokers(f.ctx)
		if err != nil || len(brokers) == 0 {
			t.Fatalf("brokers = %v, %v", brokers, err)
		}
		b := brokers[0].NodeID
		for _, tt := range []struct {
			name     string
			replicas []int32
		}{
			{"empty", []int32{}},
			{"a broker twice", []int32{b, b}},
			{"an unknown broker", []int32{b, 999}},
		} {
			var req kadm.AlterPartitionAssignmentsReq
			req.Assign(name, 0, tt.replicas)
			resp, err := f.adm.AlterPartitionAssignments(f.ctx, req)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if err := resp.Error(); !errors.Is(err, kerr.InvalidReplicaAssignment) {
				t.Errorf("%s: %v, want INVALID_REPLICA_ASSIGNMENT", tt.name, err)
			}
		}
		if got := f.replicas(name); !slices.Equal(got, []int{2}) {
			t.Fatalf("replicas = %v after refused reassignments, want [2]", got)
		}
	})
}

func TestExportThenPlanHasNoChanges(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		f.apply(f.plan(f.desired(`topics:
  - {name: "{{p}}a", partitions: 3, replication-factor: 2, config: {retention.ms: 3600000, cleanup.policy: "compact,delete", min.cleanable.dirty.ratio: 0.25}}
  - {name: "{{p}}b", partitions: 1, replication-factor: 1}
`)), topics.ApplyOptions{})
		out, err := topics.Export(f.ctx, f.cl, topics.ExportOptions{Include: regexp.MustCompile("^" + regexp.QuoteMeta(f.prefix))})
		if err != nil {
			t.Fatal(err)
		}
		d, err := topics.Parse("exported.yaml", out, "")
		if err != nil {
			t.Fatalf("exported file does not parse: %v\n%s", err, out)
		}
		if len(d.Topics) != 2 || d.Topics[0].Config["retention.ms"] != "3600000" || d.Topics[1].Config != nil {
			t.Fatalf("exported topics = %+v\n%s", d.Topics, out)
		}
		if bytes.Contains(out, []byte("segment.bytes")) {
			t.Fatalf("export must leave out configs at their defaults:\n%s", out)
		}
		if p := f.plan(d); p.HasChanges() {
			var b strings.Builder
			_ = p.WriteText(&b)
			t.Fatalf("plan of the exported file has changes:\n%s", b.String())
		}
	})
}

func TestSync(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		f := newFixture(t, c)
		path := t.TempDir() + "/topics.yaml"
		src := fmt.Sprintf("topics:\n  - {name: %q, partitions: 2, replication-factor: 2}\n", f.name("s"))
		if err := writeFile(path, src); err != nil {
			t.Fatal(err)
		}
		var progress bytes.Buffer
		s, err := topics.Sync(f.ctx, f.cl, []string{path}, "", &progress)
		if err != nil || s.Create != 1 {
			t.Fatalf("Sync = %+v, %v\n%s", s, err, progress.String())
		}
		if s, err = topics.Sync(f.ctx, f.cl, []string{path}, "", nil); err != nil || s.Total() != 0 {
			t.Fatalf("second Sync = %+v, %v; want nothing to do", s, err)
		}
	})
}

// signalWriter collects progress and closes seen when a line contains want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestApplyWaitsForReassignmentInProgress(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		if !c.Real {
			t.Skip("kfake never has a reassignment in progress")
		}
		f := newFixture(t, c)
		name := f.name("moving")
		// The throttle configs are declared, so the plan has no config change
		// that would lift them.
		file := `topics: [{name: "{{p}}moving", partitions: 1, replication-factor: %d,
  config: {leader.replication.throttled.replicas: "*", follower.replication.throttled.replicas: "*"}}]`
		f.apply(f.plan(f.desired(fmt.Sprintf(file, 1))), topics.ApplyOptions{})

		// 2 MB of records that a follower throttled to 1 KB/s cannot copy
		// while the test runs.
		recs := make([]*kgo.Record, 200)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: name, Value: bytes.Repeat([]byte{'x'}, 10<<10)}
		}
		if err := f.cl.ProduceSync(f.ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		brokers := []int32{1, 2, 3}
		rates := []kadm.AlterConfig{
			{Op: kadm.SetConfig, Name: "leader.replication.throttled.rate", Value: kadm.StringPtr("1000")},
			{Op: kadm.SetConfig, Name: "follower.replication.throttled.rate", Value: kadm.StringPtr("1000")},
		}
		lift := func() {
			del := []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: rates[0].Name}, {Op: kadm.DeleteConfig, Name: rates[1].Name}}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := f.adm.AlterBrokerConfigs(ctx, del, brokers...); err != nil {
				t.Errorf("lift throttle: %v", err)
			}
		}
		t.Cleanup(lift) // never leave the shared cluster throttled
		if _, err := f.adm.AlterBrokerConfigs(f.ctx, rates, brokers...); err != nil {
			t.Fatal(err)
		}
		// Each broker applies the rates once it has replayed them from the
		// metadata log. A follower that starts fetching before that copies
		// the 2 MB at once, and the move is over before the plan is made.
		testkit.Eventually(t, 30*time.Second, "every broker applies the throttle rates", func() bool {
			for _, b := range brokers {
				rcs, err := f.adm.DescribeBrokerConfigs(f.ctx, b)
				if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
					return false
				}
				set := 0
				for _, c := range rcs[0].Configs {
					if (c.Key == rates[0].Name || c.Key == rates[1].Name) && c.Value != nil && *c.Value == "1000" {
						set++
					}
				}
				if set != len(rates) {
					return false
				}
			}
			return true
		})

		// Start moving to two replicas behind ksuite's back.
		current := f.replicaList(name)
		var target []int32
		target = append(target, current...)
		for _, b := range brokers {
			if b != current[0] {
				target = append(target, b)
				break
			}
		}
		var req kadm.AlterPartitionAssignmentsReq
		req.Assign(name, 0, target)
		resp, err := f.adm.AlterPartitionAssignments(f.ctx, req)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}

		want := f.desired(fmt.Sprintf(file, 2))
		p := f.wantSummary(want, topics.Summary{Update: 1})
		if !strings.Contains(p.Changes[0].Reason, "in progress") {
			t.Fatalf("plan reason = %q, want the reassignment in progress named", p.Changes[0].Reason)
		}

		// Apply must wait for the move: lift the throttle only once it says so.
		progress := &signalWriter{want: "already in progress", seen: make(chan struct{})}
		done := make(chan error, 1)
		go func() {
			_, err := topics.Apply(f.ctx, f.cl, p, topics.ApplyOptions{Progress: progress})
			done <- err
		}()
		select {
		case <-progress.seen:
		case err := <-done:
			t.Fatalf("apply returned (%v) before waiting for the reassignment:\n%s", err, progress)
		case <-f.ctx.Done():
			t.Fatalf("apply never said it waits:\n%s", progress)
		}
		lift()
		if err := <-done; err != nil {
			t.Fatalf("apply: %v\n%s", err, progress)
		}
		if got := f.replicas(name); !slices.Equal(got, []int{2}) {
			t.Fatalf("replicas = %v after apply, want [2]", got)
		}
		f.wantSummary(want, topics.Summary{})
	})
}

// replicaList is partition 0's replica list, asked of a broker directly.
func (f *fixture) replicaList(topic string) []int32 {
	f.t.Helper()
	md, err := testkit.TopicMetadata(f.ctx, f.cl, topic)
	if err != nil || len(md.Partitions) == 0 {
		f.t.Fatalf("metadata of %s: %v", topic, err)
	}
	return md.Partitions[0].Replicas
}

func TestApplyRechecksLiveBrokers(t *testing.T) {
	// Only kfake: a broker of the shared real cluster is not ours to stop.
	c := testkit.NewFake(t)
	f := newFixture(t, c)
	d := f.desired("topics: [{name: '{{p}}a', partitions: 1, replication-factor: 3}]")
	p := f.wantSummary(d, topics.Summary{Create: 1})
	brokers, err := f.adm.ListBrokers(f.ctx)
	if err != nil || len(brokers) != 3 {
		t.Fatalf("brokers = %v, %v", brokers, err)
	}
	if err := c.Fake.RemoveNode(brokers[2].NodeID); err != nil {
		t.Fatal(err)
	}
	_, err = topics.Apply(f.ctx, f.cl, p, topics.ApplyOptions{})
	var rfe *topics.RFError
	if !errors.As(err, &rfe) || rfe.Brokers != 2 {
		t.Fatalf("apply after a broker left: err = %v, want RFError with 2 brokers", err)
	}
	if f.partitions(f.name("a")) != -1 {
		t.Fatal("nothing may be created when the replication factor exceeds the live brokers")
	}
}
