package topics_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/topics"
)

// These tests feed plans and applies metadata answers that a real cluster
// gives only for a moment (a topic without leaders, a topic-level error),
// so they run on kfake alone: only its control hooks can hold such an
// answer still.

// answerMetadata makes kfake answer, up to times times, the Metadata
// requests match picks with the real brokers and topic as given; other
// requests are answered normally. It returns how many it answered.
func (f *fixture) answerMetadata(c testkit.Cluster, match func(*kmsg.MetadataRequest) bool, times int32, topic kmsg.MetadataResponseTopic) *atomic.Int32 {
	f.t.Helper()
	md, err := f.adm.BrokerMetadata(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	var n atomic.Int32
	c.Fake.ControlKey(int16(kmsg.Metadata), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.MetadataRequest)
		if n.Load() >= times || !match(req) {
			return nil, nil, false
		}
		c.Fake.KeepControl()
		n.Add(1)
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.ControllerID = md.Controller
		resp.ClusterID = kmsg.StringPtr(md.Cluster)
		for _, b := range md.Brokers {
			rb := kmsg.NewMetadataResponseBroker()
			rb.NodeID, rb.Host, rb.Port, rb.Rack = b.NodeID, b.Host, b.Port, b.Rack
			resp.Brokers = append(resp.Brokers, rb)
		}
		resp.Topics = append(resp.Topics, topic)
		return resp, nil, true
	})
	return &n
}

func asksFor(name string) func(*kmsg.MetadataRequest) bool {
	return func(req *kmsg.MetadataRequest) bool {
		for _, t := range req.Topics {
			if t.Topic != nil && *t.Topic == name {
				return true
			}
		}
		return false
	}
}

// asksForAll matches the all-topics request a plan sends; the client's own
// refreshes ask for a list.
func asksForAll(req *kmsg.MetadataRequest) bool { return req.Topics == nil }

func metadataTopic(name string, err *kerr.Error, partitions int32, leader int32) kmsg.MetadataResponseTopic {
	t := kmsg.NewMetadataResponseTopic()
	t.Topic = kmsg.StringPtr(name)
	if err != nil {
		t.ErrorCode = err.Code
	}
	for p := int32(0); p < partitions; p++ {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = p
		mp.Leader = leader
		if leader < 0 {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		mp.Replicas = []int32{0}
		mp.ISR = []int32{0}
		t.Partitions = append(t.Partitions, mp)
	}
	return t
}

func TestApplyWaitsUntilEveryPartitionHasALeader(t *testing.T) {
	c := testkit.NewFake(t)
	f := newFixture(t, c)
	p := f.wantSummary(f.desired("topics: [{name: '{{p}}a', partitions: 2, replication-factor: 1}]"), topics.Summary{Create: 1})
	// The first reads after the create show the partitions but no leaders.
	// Apply asks each of the 3 brokers per poll, so 4 such answers span two
	// polls: returning before all are used means it took one as done.
	answered := f.answerMetadata(c, asksFor(f.name("a")), 4, metadataTopic(f.name("a"), nil, 2, -1))
	f.apply(p, topics.ApplyOptions{})
	if n := answered.Load(); n != 4 {
		t.Fatalf("apply returned after %d leaderless answer(s), want it to wait through all 4", n)
	}
}

func TestPlanReadsTopicErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     *kerr.Error
		want    topics.Summary // when the plan succeeds
		wantErr string
	}{
		{name: "leader not available: the topic exists", err: kerr.LeaderNotAvailable, want: topics.Summary{}},
		{name: "another retriable error: the topic is going away", err: kerr.UnknownTopicID, want: topics.Summary{Create: 1}},
		{name: "a lasting error fails the plan", err: kerr.TopicAuthorizationFailed, wantErr: "TOPIC_AUTHORIZATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testkit.NewFake(t)
			f := newFixture(t, c)
			d := f.desired("topics: [{name: '{{p}}a', partitions: 1, replication-factor: 1}]")
			f.apply(f.plan(d), topics.ApplyOptions{})
			answered := f.answerMetadata(c, asksForAll, 1, metadataTopic(f.name("a"), tt.err, 1, 0))
			p, err := topics.Plan(f.ctx, f.cl, d)
			if answered.Load() != 1 {
				t.Fatal("the plan's metadata request was not the one answered")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), f.name("a")) {
					t.Fatalf("plan err = %v, want %s naming the topic", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Summary() != tt.want {
				t.Fatalf("plan summary = %+v, want %+v", p.Summary(), tt.want)
			}
		})
	}
}

func TestApplyWaitsUntilNoBrokerKnowsADeletedTopic(t *testing.T) {
	c := testkit.NewFake(t)
	f := newFixture(t, c)
	f.apply(f.plan(f.desired("topics: [{name: '{{p}}a', partitions: 1, replication-factor: 1}]")), topics.ApplyOptions{})
	p := f.wantSummary(f.desired("topics: []"), topics.Summary{Delete: 1})
	// A broker that still knows the topic, even only with an error, has
	// not caught up with the delete. 4 answers span two polls of 3 brokers.
	answered := f.answerMetadata(c, asksFor(f.name("a")), 4, metadataTopic(f.name("a"), kerr.UnknownTopicID, 0, -1))
	res := f.apply(p, topics.ApplyOptions{AllowDelete: true})
	if n := answered.Load(); n != 4 {
		t.Fatalf("apply returned after %d answer(s) still listing the topic, want it to wait through all 4", n)
	}
	if res.Applied.Delete != 1 || !slices.Equal(res.SkippedDeletes, nil) {
		t.Fatalf("applied %+v, skipped %v; want 1 delete", res.Applied, res.SkippedDeletes)
	}
}

func TestDryRunDoesNotWaitForReassignmentInProgress(t *testing.T) {
	c := testkit.NewFake(t)
	f := newFixture(t, c)
	d := f.desired("topics: [{name: '{{p}}a', partitions: 1, replication-factor: 2}]")
	f.apply(f.plan(f.desired("topics: [{name: '{{p}}a', partitions: 1, replication-factor: 1}]")), topics.ApplyOptions{})
	// kfake never moves replicas: make it report, for ever, partition 0
	// moving to two replicas.
	c.Fake.ControlKey(int16(kmsg.ListPartitionReassignments), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.Fake.KeepControl()
		req := kr.(*kmsg.ListPartitionReassignmentsRequest)
		resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
		rt := kmsg.NewListPartitionReassignmentsResponseTopic()
		rt.Topic = f.name("a")
		rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		rp.Replicas, rp.AddingReplicas = []int32{0, 1}, []int32{1}
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	p := f.wantSummary(d, topics.Summary{Update: 1})
	if !strings.Contains(p.Changes[0].Reason, "in progress") {
		t.Fatalf("plan reason = %q, want the reassignment in progress named", p.Changes[0].Reason)
	}
	// A real apply would wait until WaitTimeout; a dry run has nothing to
	// wait for.
	var progress strings.Builder
	_, err := topics.Apply(f.ctx, f.cl, p, topics.ApplyOptions{DryRun: true, Progress: &progress, WaitTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, progress.String())
	}
}
