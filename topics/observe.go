package topics

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clusterState is what a plan knows about the cluster. It is plain data so
// the diff can be tested without a cluster.
type clusterState struct {
	brokers []broker
	topics  map[string]*observedTopic
}

type broker struct {
	id   int32
	rack string
}

type observedTopic struct {
	name     string
	internal bool
	// err is the topic's error in the metadata answer, such as
	// LEADER_NOT_AVAILABLE while it is created; nil when there is none.
	err error
	// leaderless is set when a partition has no leader or an error: the
	// topic is not usable yet.
	leaderless bool
	// replicas holds each partition's replica list, leader-preferred first.
	replicas map[int32][]int32
	// configs is nil when they were not read (topics outside the files).
	configs map[string]observedConfig
	// reassigning holds partitions with a reassignment in progress.
	reassigning map[int32]reassignment
}

type observedConfig struct {
	value  *string
	source kmsg.ConfigSource
}

type reassignment struct {
	replicas, adding, removing []int32
}

func (t *observedTopic) partitionCount() int { return len(t.replicas) }

// ready reports whether clients can use the topic: no error, and a leader
// for every partition.
func (t *observedTopic) ready() bool { return t.err == nil && !t.leaderless }

// replicasOf is partition p's replica count as a plan sees it: a partition
// under reassignment lists both its old and its new replicas, and the ones
// being removed do not count.
func (t *observedTopic) replicasOf(p int32) int {
	if r, ok := t.reassigning[p]; ok {
		return len(r.replicas) - len(r.removing)
	}
	return len(t.replicas[p])
}

// replicationFactor is the factor the topic has or is being moved to: the
// most replicas any partition has.
func (t *observedTopic) replicationFactor() int {
	rf := 0
	for p := range t.replicas {
		rf = max(rf, t.replicasOf(p))
	}
	return rf
}

// uniformRF reports whether every partition has (or is moving to) rf replicas.
func (t *observedTopic) uniformRF(rf int) bool {
	for p := range t.replicas {
		if t.replicasOf(p) != rf {
			return false
		}
	}
	return true
}

// readState reads the cluster as a plan sees it: one Metadata request for
// brokers, topic names and placement, and — only for the declared topics
// that exist — one DescribeConfigs and one ListPartitionReassignments. A
// topic whose metadata has a retriable error (one being deleted, say) is
// gone for planning; any other topic error fails the read, except
// LEADER_NOT_AVAILABLE, which a topic being created shows for a moment.
func readState(ctx context.Context, cl *kgo.Client, declared []string) (*clusterState, error) {
	s, err := readMetadata(ctx, cl, nil)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(s.topics) {
		switch err := s.topics[name].err; {
		case err == nil, err == kerr.LeaderNotAvailable:
		case kerr.IsRetriable(err):
			delete(s.topics, name)
		default:
			return nil, fmt.Errorf("read metadata of topic %s: %w", name, err)
		}
	}
	var existing []string
	for _, name := range declared {
		if _, ok := s.topics[name]; ok {
			existing = append(existing, name)
		}
	}
	if len(existing) == 0 {
		return s, nil
	}
	configs, err := describeConfigs(ctx, cl, existing)
	if err != nil {
		return nil, err
	}
	for name, c := range configs {
		s.topics[name].configs = c
	}
	moving, err := listReassignments(ctx, cl, s, existing)
	if err != nil {
		return nil, err
	}
	for name, m := range moving {
		s.topics[name].reassigning = m
	}
	return s, nil
}

// readMetadata asks r (a client, or one broker of it) for the live brokers
// and for topics: nil means every topic, empty means none. It never asks
// the broker to auto-create a topic. Every topic the broker knows is
// returned with its error and whether it has all its leaders; callers
// decide what counts: a plan, a wait for a create, a wait for a delete.
func readMetadata(ctx context.Context, r kmsg.Requestor, topics []string) (*clusterState, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	if topics != nil {
		req.Topics = make([]kmsg.MetadataRequestTopic, 0, len(topics))
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("read cluster metadata: %w", err)
	}
	s := &clusterState{topics: make(map[string]*observedTopic, len(resp.Topics))}
	for _, b := range resp.Brokers {
		br := broker{id: b.NodeID}
		if b.Rack != nil {
			br.rack = *b.Rack
		}
		s.brokers = append(s.brokers, br)
	}
	sort.Slice(s.brokers, func(i, j int) bool { return s.brokers[i].id < s.brokers[j].id })
	for _, t := range resp.Topics {
		if t.Topic == nil || t.ErrorCode == kerr.UnknownTopicOrPartition.Code {
			continue
		}
		ot := &observedTopic{
			name:     *t.Topic,
			internal: t.IsInternal,
			err:      kerr.ErrorForCode(t.ErrorCode),
			replicas: make(map[int32][]int32, len(t.Partitions)),
		}
		for _, p := range t.Partitions {
			ot.replicas[p.Partition] = p.Replicas
			if p.ErrorCode != 0 || p.Leader < 0 {
				ot.leaderless = true
			}
		}
		s.topics[ot.name] = ot
	}
	return s, nil
}

// describeConfigs reads the effective configs of topics in one request.
func describeConfigs(ctx context.Context, r kmsg.Requestor, topics []string) (map[string]map[string]observedConfig, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, t := range topics {
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType = kmsg.ConfigResourceTypeTopic
		rr.ResourceName = t
		req.Resources = append(req.Resources, rr)
	}
	out := make(map[string]map[string]observedConfig, len(topics))
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("read topic configs: %w", err)
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			if err == kerr.UnknownTopicOrPartition {
				continue // deleted between metadata and now
			}
			return nil, fmt.Errorf("read configs of topic %s: %w%s", r.ResourceName, err, errMessage(r.ErrorMessage))
		}
		m := make(map[string]observedConfig, len(r.Configs))
		for _, c := range r.Configs {
			// kfake may list a key once per source, most specific last.
			m[c.Name] = observedConfig{value: c.Value, source: c.Source}
		}
		out[r.ResourceName] = m
	}
	return out, nil
}

// listReassignments returns the partitions of topics with a reassignment in
// progress.
func listReassignments(ctx context.Context, cl *kgo.Client, s *clusterState, topics []string) (map[string]map[int32]reassignment, error) {
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = 30000
	for _, name := range topics {
		rt := kmsg.NewListPartitionReassignmentsRequestTopic()
		rt.Topic = name
		for p := range s.topics[name].replicas {
			rt.Partitions = append(rt.Partitions, p)
		}
		if len(rt.Partitions) > 0 {
			req.Topics = append(req.Topics, rt)
		}
	}
	if len(req.Topics) == 0 {
		return nil, nil
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list partition reassignments: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("list partition reassignments: %w%s", err, errMessage(resp.ErrorMessage))
	}
	out := map[string]map[int32]reassignment{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if out[t.Topic] == nil {
				out[t.Topic] = map[int32]reassignment{}
			}
			out[t.Topic][p.Partition] = reassignment{replicas: p.Replicas, adding: p.AddingReplicas, removing: p.RemovingReplicas}
		}
	}
	return out, nil
}

func errMessage(m *string) string {
	if m == nil || *m == "" {
		return ""
	}
	return " (" + strings.TrimSpace(*m) + ")"
}
