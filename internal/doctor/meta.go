package doctor

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The requests that describe the whole cluster go to a seed broker, the
// address the user gave: kgo would send them to any broker it discovered,
// and reaching those at their advertised addresses is what may be broken.

// clusterMeta is a metadata answer, as the checks need it.
type clusterMeta struct {
	id      string
	brokers []brokerMeta
	topics  []topicMeta
}

type brokerMeta struct {
	node int32
	host string
	port int32
}

type topicMeta struct {
	name       string
	partitions []partitionMeta
}

type partitionMeta struct {
	id            int32
	leader        int32
	replicas, isr []int32
}

// seedMetadata asks the first seed that answers for the metadata of every
// topic; it returns that seed for the other cluster-wide requests.
func seedMetadata(ctx context.Context, cl *kgo.Client, timeout time.Duration) (*kgo.Broker, clusterMeta, error) {
	var lastErr error
	for _, seed := range cl.SeedBrokers() {
		req := kmsg.NewPtrMetadataRequest() // nil Topics: all of them
		rctx, cancel := requestCtx(ctx, timeout)
		resp, err := req.RequestWith(rctx, seed)
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		m := clusterMeta{}
		if resp.ClusterID != nil {
			m.id = *resp.ClusterID
		}
		for _, b := range resp.Brokers {
			m.brokers = append(m.brokers, brokerMeta{node: b.NodeID, host: b.Host, port: b.Port})
		}
		sort.Slice(m.brokers, func(i, j int) bool { return m.brokers[i].node < m.brokers[j].node })
		for _, t := range resp.Topics {
			if t.Topic == nil || t.ErrorCode != 0 {
				continue
			}
			tm := topicMeta{name: *t.Topic}
			for _, p := range t.Partitions {
				tm.partitions = append(tm.partitions, partitionMeta{id: p.Partition, leader: p.Leader, replicas: p.Replicas, isr: p.ISR})
			}
			sort.Slice(tm.partitions, func(i, j int) bool { return tm.partitions[i].id < tm.partitions[j].id })
			m.topics = append(m.topics, tm)
		}
		sort.Slice(m.topics, func(i, j int) bool { return m.topics[i].name < m.topics[j].name })
		return seed, m, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no seed broker")
	}
	return nil, clusterMeta{}, lastErr
}

// minInsyncReplicas reads min.insync.replicas of every topic from the seed.
func minInsyncReplicas(ctx context.Context, seed *kgo.Broker, topics []topicMeta, timeout time.Duration) (map[string]int, error) {
	out := map[string]int{}
	if len(topics) == 0 {
		return out, nil
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, t := range topics {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = t.name
		r.ConfigNames = []string{"min.insync.replicas"}
		req.Resources = append(req.Resources, r)
	}
	rctx, cancel := requestCtx(ctx, timeout)
	defer cancel()
	resp, err := req.RequestWith(rctx, seed)
	if err != nil {
		return nil, err
	}
	for _, r := range resp.Resources {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			if errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.UnknownTopicOrPartition) {
				continue // not ours to see, or deleted since the metadata was read
			}
			return nil, err
		}
		for _, c := range r.Configs {
			if c.Name == "min.insync.replicas" && c.Value != nil {
				if v, err := strconv.Atoi(*c.Value); err == nil {
					out[r.ResourceName] = v
				}
			}
		}
	}
	return out, nil
}
