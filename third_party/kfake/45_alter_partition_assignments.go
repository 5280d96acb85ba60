package kfake

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterPartitionAssignments: v0-1
//
// KIP-455: Admin API to reassign partitions.
//
// Behavior:
// * ACL: ALTER on CLUSTER
// * If Replicas is null, this is a cancel request and returns NO_REASSIGNMENT_IN_PROGRESS
//   (kfake never has reassignments in progress)
// * The replica list is checked as Kafka's controller checks a manual
//   assignment (not empty, no broker twice, every broker registered:
//   INVALID_REPLICA_ASSIGNMENT). kfake has no replication to move, so a
//   reassignment completes at once; it keeps one replica count per topic
//   (the leader and the brokers after it), so the new list's length becomes
//   the topic's replication factor, persisted, and the brokers named are not.
//
// Version notes:
// * v1: AllowReplicationFactorChange

func init() { regKey(45, 0, 1) }

func (c *Cluster) handleAlterPartitionAssignments(creq *clientReq) (kmsg.Response, error) {
	req := creq.kreq.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)

	if err := c.checkReqVersion(req.Key(), req.Version); err != nil {
		return nil, err
	}

	if e := c.denyCluster(creq, kmsg.ACLOperationAlter); e != nil {
		resp.ErrorCode = e.Code
		if creq.skipsWork(e) {
			return resp, nil
		}
	}

	var changed bool
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic

		t, ok := c.data.tps.gett(rt.Topic)
		rf := 0 // the replica count of the last accepted assignment
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition

			if e := creq.faults.check(faultKey{topic: rt.Topic}.part(rp.Partition)); e != nil {
				sp.ErrorCode = e.Code
			} else if !ok {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else if _, pok := t[rp.Partition]; !pok {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else if rp.Replicas == nil {
				// Null replicas means cancel reassignment; kfake never has
				// any reassignments in progress.
				sp.ErrorCode = kerr.NoReassignmentInProgress.Code
			} else if msg := c.checkReplicaAssignment(rp.Replicas); msg != "" {
				sp.ErrorCode = kerr.InvalidReplicaAssignment.Code
				sp.ErrorMessage = &msg
			} else if cur := c.data.treplicas[rt.Topic]; !req.AllowReplicationFactorChange && len(rp.Replicas) != cur {
				sp.ErrorCode = kerr.InvalidReplicationFactor.Code
				msg := fmt.Sprintf("The replication factor is changed from %d to %d but AllowReplicationFactorChange is false.", cur, len(rp.Replicas))
				sp.ErrorMessage = &msg
			} else {
				rf = len(rp.Replicas)
			}

			st.Partitions = append(st.Partitions, sp)
		}
		if rf > 0 && rf != c.data.treplicas[rt.Topic] {
			c.data.treplicas[rt.Topic] = rf
			changed = true
		}

		resp.Topics = append(resp.Topics, st)
	}
	if changed {
		c.persistTopicsState()
	}

	return resp, nil
}

// checkReplicaAssignment returns why Kafka's controller would refuse
// replicas as a partition's replica list, or "".
func (c *Cluster) checkReplicaAssignment(replicas []int32) string {
	if len(replicas) == 0 {
		return "The manual partition assignment includes an empty replica list."
	}
	seen := make(map[int32]bool, len(replicas))
	for _, r := range replicas {
		if seen[r] {
			return fmt.Sprintf("The manual partition assignment includes the broker %d more than once.", r)
		}
		seen[r] = true
		registered := false
		for _, b := range c.bs {
			registered = registered || b.node == r
		}
		if !registered {
			return fmt.Sprintf("The manual partition assignment includes broker %d, but no such broker is registered.", r)
		}
	}
	return ""
}
