package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// settleTimeout bounds the wait, after Kafka reports a reassignment done,
// for metadata to show the new replica lists. Real Kafka takes
// milliseconds; a cluster that never shows them (kfake accepts a
// reassignment without moving anything) should fail fast, not hang.
const settleTimeout = 30 * time.Second

// reassign changes the replication factor of topics with one
// AlterPartitionReassignments request, then waits until Kafka lists no
// reassignment for them and metadata shows the new factor. Kafka has no
// validate-only reassignment, so a dry run lists them.
func (a *applier) reassign(ctx context.Context, cs []Change) ([]string, error) {
	if a.opts.DryRun {
		a.logf("replication factor: %d topic(s) would be reassigned (%s); Kafka has no validate-only reassignment, so this is not checked by the brokers", len(cs), strings.Join(names(cs), ", "))
		return names(cs), nil
	}
	start := time.Now()
	// Placement needs every topic's replicas, and the earlier steps took
	// time in which brokers may have left: check against what is live now.
	s, err := readState(ctx, a.cl, nil)
	if err != nil {
		return nil, err
	}
	if err := checkReplicationFactors(a.desired(cs), len(s.brokers)); err != nil {
		return nil, err
	}
	load := brokerLoad(s)
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	moving := 0
	var topics []string
	for _, c := range cs {
		ot := s.topics[c.Topic]
		if ot == nil {
			return nil, fmt.Errorf("change replication factor of %s: the topic is gone", c.Topic)
		}
		topics = append(topics, c.Topic)
		target := placeReplicas(ot.replicas, int(a.p.desired[c.Topic].ReplicationFactor), s.brokers, load)
		rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
		rt.Topic = c.Topic
		for _, p := range sortedPartitions(target) {
			if equalInt32s(target[p], ot.replicas[p]) {
				continue
			}
			rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
			rp.Partition = p
			rp.Replicas = target[p]
			rt.Partitions = append(rt.Partitions, rp)
		}
		if len(rt.Partitions) > 0 {
			moving += len(rt.Partitions)
			req.Topics = append(req.Topics, rt)
		}
	}
	a.logf("changing the replication factor of %d topic(s): reassigning %d partition(s)…", len(cs), moving)
	var errs []error
	failed := map[string]bool{}
	if len(req.Topics) > 0 {
		resp, err := req.RequestWith(ctx, a.cl)
		if err != nil {
			return nil, fmt.Errorf("alter partition reassignments: %w", err)
		}
		if resp.ErrorCode != 0 {
			return nil, topicErr("alter partition reassignments of", fmt.Sprint(topics), resp.ErrorCode, resp.ErrorMessage)
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					failed[t.Topic] = true
					errs = append(errs, topicErr("reassign", fmt.Sprintf("%s partition %d", t.Topic, p.Partition), p.ErrorCode, p.ErrorMessage))
				}
			}
		}
	}
	var ok []string
	for _, t := range topics {
		if !failed[t] {
			ok = append(ok, t)
		}
	}
	if len(ok) == 0 {
		return nil, errors.Join(errs...)
	}
	if err := a.waitReassignments(ctx, ok); err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	settle := *a
	settle.opts.WaitTimeout = min(settleTimeout, a.opts.WaitTimeout)
	if err := settle.waitTopics(ctx, "metadata to show the new replication factor", ok, func(ot *observedTopic, want Topic) bool {
		return ot != nil && ot.ready() && ot.uniformRF(int(want.ReplicationFactor))
	}); err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	a.logf("  reassigned %d partition(s) of %d topic(s) in %s", moving, len(ok), since(start))
	return ok, errors.Join(errs...)
}

// waitReassignments polls ListPartitionReassignments until none of the
// topics' partitions is moving, reporting how many still are.
func (a *applier) waitReassignments(ctx context.Context, topics []string) error {
	return a.poll(ctx, "replica reassignment", func(ctx context.Context) (bool, string, error) {
		s, err := readMetadata(ctx, a.cl, topics)
		if err != nil {
			return false, "", err
		}
		moving, err := listReassignments(ctx, a.cl, s, sortedKeys(s.topics))
		if err != nil {
			return false, "", err
		}
		n := 0
		for _, ps := range moving {
			n += len(ps)
		}
		return n == 0, fmt.Sprintf("%d partition(s) still moving", n), nil
	})
}

// brokerLoad counts the replicas each live broker holds, so new replicas
// go where there are fewest.
func brokerLoad(s *clusterState) map[int32]int {
	load := make(map[int32]int, len(s.brokers))
	for _, b := range s.brokers {
		load[b.id] = 0
	}
	for _, t := range s.topics {
		for _, rs := range t.replicas {
			for _, r := range rs {
				load[r]++
			}
		}
	}
	return load
}

// placeReplicas returns each partition's replica list for replication factor
// rf. Existing replicas stay (so little data moves) and the first replica,
// the preferred leader, stays first. A new replica goes to a live broker
// whose rack the partition does not use yet, then to the least loaded
// broker, then to the lowest id; a replica to drop is one sharing a rack
// with another, then the one on the most loaded broker. load is updated as
// replicas are placed, which spreads a topic's partitions evenly.
func placeReplicas(current map[int32][]int32, rf int, brokers []broker, load map[int32]int) map[int32][]int32 {
	rack := make(map[int32]string, len(brokers))
	live := make(map[int32]bool, len(brokers))
	for _, b := range brokers {
		rack[b.id] = b.rack
		live[b.id] = true
	}
	out := make(map[int32][]int32, len(current))
	for _, p := range sortedPartitions(current) {
		rs := append([]int32(nil), current[p]...)
		for len(rs) > rf && len(rs) > 1 {
			drop := pickDrop(rs, rack, load, live)
			load[rs[drop]]--
			rs = append(rs[:drop], rs[drop+1:]...)
		}
		for len(rs) < rf {
			b, ok := pickAdd(rs, brokers, rack, load)
			if !ok {
				break // fewer brokers than rf: caught before reassigning
			}
			load[b]++
			rs = append(rs, b)
		}
		out[p] = rs
	}
	return out
}

// pickDrop picks the index of the replica to remove; never 0, the
// preferred leader, unless that broker is gone.
func pickDrop(rs []int32, rack map[int32]string, load map[int32]int, live map[int32]bool) int {
	racks := map[string]int{}
	for _, r := range rs {
		racks[rack[r]]++
	}
	best, bestScore := -1, [3]int{}
	for i, r := range rs {
		score := [3]int{0, 0, load[r]}
		if !live[r] {
			score[0] = 2 // a replica on a broker that is gone goes first
		}
		if i != 0 && rack[r] != "" && racks[rack[r]] > 1 {
			score[1] = 1
		}
		if i == 0 && live[r] {
			continue
		}
		if best < 0 || less3(bestScore, score) {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		best = len(rs) - 1
	}
	return best
}

// pickAdd picks the broker for a new replica.
func pickAdd(rs []int32, brokers []broker, rack map[int32]string, load map[int32]int) (int32, bool) {
	used := map[int32]bool{}
	usedRack := map[string]bool{}
	for _, r := range rs {
		used[r] = true
		usedRack[rack[r]] = true
	}
	var best int32
	found := false
	bestNewRack := false
	for _, b := range brokers {
		if used[b.id] {
			continue
		}
		newRack := b.rack != "" && !usedRack[b.rack]
		switch {
		case !found,
			newRack && !bestNewRack,
			newRack == bestNewRack && load[b.id] < load[best]:
			best, bestNewRack, found = b.id, newRack, true
		}
	}
	return best, found
}

func less3(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func sortedPartitions(m map[int32][]int32) []int32 {
	ps := make([]int32, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

func equalInt32s(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
