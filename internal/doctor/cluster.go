package doctor

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/kafka"
)

// maxListed bounds the names a detail line lists.
const maxListed = 5

// replicationChecks compares replicas with the live brokers: a replica on
// a broker that is not live, a replication factor above the live brokers,
// partitions without a leader and partitions whose ISR is short.
func replicationChecks(m clusterMeta) []Check {
	live := map[int32]bool{}
	for _, b := range m.brokers {
		live[b.node] = true
	}
	var (
		dead        = map[int32]int{} // not-live broker → partitions it holds
		tooHigh     []string
		offline     []string
		underRepl   []string
		partitions  int
		maxRF       int
		offlineNode = map[int32]bool{}
	)
	for _, t := range m.topics {
		rf := t.replicationFactor()
		for _, p := range t.partitions {
			partitions++
			for _, r := range p.replicas {
				if !live[r] {
					dead[r]++
				}
			}
			name := t.name + "-" + strconv.Itoa(int(p.id))
			switch {
			case p.leader < 0:
				offline = append(offline, name)
				for _, r := range p.replicas {
					offlineNode[r] = true
				}
			case len(p.isr) < len(p.replicas):
				underRepl = append(underRepl, name)
			}
		}
		maxRF = max(maxRF, rf)
		if rf > len(m.brokers) {
			tooHigh = append(tooHigh, fmt.Sprintf("%s (%d)", t.name, rf))
		}
	}

	repl := Check{Name: "replication", Status: OK,
		Detail: fmt.Sprintf("%d live broker(s) hold every replica; the highest replication factor is %d", len(m.brokers), maxRF)}
	if partitions == 0 {
		repl.Detail = fmt.Sprintf("%d live broker(s); no topics yet", len(m.brokers))
	}
	if len(dead)+len(tooHigh) > 0 {
		var parts []string
		for _, id := range sortedIDs(dead) {
			parts = append(parts, fmt.Sprintf("broker %d is not live but holds replicas of %d partition(s)", id, dead[id]))
		}
		if len(tooHigh) > 0 {
			parts = append(parts, fmt.Sprintf("replication factor above the %d live broker(s): %s", len(m.brokers), names(tooHigh, maxListed)))
		}
		repl.Status, repl.Detail = Fail, strings.Join(parts, "; ")
		repl.Fix = "start the missing broker(s) again; a topic whose replication factor is above the brokers you run needs a lower one (replication-factor in topics.yaml, ksuite topics apply; offsets.topic.replication.factor for __consumer_offsets)"
		if ids := sortedIDs(dead); len(ids) > 0 {
			repl.Fix = fmt.Sprintf("start broker %s again; %s", joinIDs(ids), strings.TrimPrefix(repl.Fix, "start the missing broker(s) again; "))
		}
	}

	parts := Check{Name: "partitions", Status: OK,
		Detail: fmt.Sprintf("%d partition(s), every one led and fully in sync", partitions)}
	switch {
	case len(offline) > 0:
		parts.Status = Fail
		parts.Detail = fmt.Sprintf("%d partition(s) have no leader, so nobody can read or write them: %s", len(offline), names(offline, maxListed))
		parts.Fix = fmt.Sprintf("start the broker(s) holding their replicas (%s)", joinIDs(sortedIDs(offlineNode)))
	case len(underRepl) > 0:
		parts.Status = Warn
		parts.Detail = fmt.Sprintf("%d partition(s) are under-replicated (fewer in-sync replicas than replicas): %s", len(underRepl), names(underRepl, maxListed))
		parts.Fix = "wait for the followers to catch up; if it lasts, check the brokers that dropped out of the ISR"
	}
	return []Check{repl, parts}
}

// minISRCheck compares each topic's min.insync.replicas with its
// replication factor: above it, acks=all producers can never write; equal
// to it, one broker down stops them.
func minISRCheck(m clusterMeta, minISR map[string]int, err error) Check {
	c := Check{Name: "min.insync.replicas", Status: OK}
	if err != nil {
		c.Status, c.Detail = Warn, "could not read topic configs: "+err.Error()
		c.Fix = "grant the user DescribeConfigs on the topics"
		return c
	}
	var impossible, fragile []string
	for _, t := range m.topics {
		v, ok := minISR[t.name]
		rf := t.replicationFactor()
		switch {
		case !ok || rf == 0:
		case v > rf:
			impossible = append(impossible, fmt.Sprintf("%s (%d > %d)", t.name, v, rf))
		case v == rf && rf > 1:
			fragile = append(fragile, fmt.Sprintf("%s (%d = %d)", t.name, v, rf))
		}
	}
	switch {
	case len(impossible) > 0:
		c.Status = Fail
		c.Detail = "min.insync.replicas above the replication factor, so acks=all producers can never write: " + names(impossible, maxListed)
		c.Fix = "lower min.insync.replicas below the replication factor, or raise the factor (topics.yaml, ksuite topics apply)"
	case len(fragile) > 0:
		c.Status = Warn
		c.Detail = "min.insync.replicas equals the replication factor, so one broker down stops acks=all producers: " + names(fragile, maxListed)
		c.Fix = "set min.insync.replicas to the replication factor minus one"
	default:
		c.Detail = fmt.Sprintf("%d topic(s) checked: none has min.insync.replicas at or above its replication factor (single-replica topics aside)", len(minISR))
	}
	return c
}

// replicationFactor is the largest replica count of the topic's partitions.
func (t topicMeta) replicationFactor() int {
	rf := 0
	for _, p := range t.partitions {
		rf = max(rf, len(p.replicas))
	}
	return rf
}

// localHosts are the advertised hosts that only this machine can use.
// Anything else, 127.0.0.2 included, means the brokers are meant to be
// reached from elsewhere (that is what `ksuite up --external-host` does),
// so it is judged as exposed.
var localHosts = map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true}

// exposureCheck fails a cluster advertised to other machines that anyone
// who reaches it can use: no authentication, or ACLs off.
func exposureCheck(cfg kafka.Config, tlsOn bool, brokers []brokerMeta, acls aclState) Check {
	var external []string
	for _, b := range brokers {
		if !localHosts[b.host] {
			external = append(external, net.JoinHostPort(b.host, strconv.Itoa(int(b.port))))
		}
	}
	c := Check{Name: "exposure", Status: OK}
	if len(external) == 0 {
		c.Detail = "every broker advertises a loopback address: only this machine can reach them"
		return c
	}
	where := names(external, maxListed)
	authenticated := cfg.SASL.Mechanism != "" || cfg.TLS.CertFile != ""
	switch {
	case !authenticated:
		protocol := "PLAINTEXT"
		if tlsOn {
			protocol = "SSL without client authentication"
		}
		c.Status = Fail
		c.Detail = fmt.Sprintf("the brokers advertise %s over %s: anyone who reaches this port can read and write every topic", where, protocol)
		c.Fix = "expose the cluster with SASL_SSL: restart ksuite up --external-host HOST without --insecure-plaintext (Apache Kafka: a SASL_SSL listener, SCRAM users and an authorizer)"
	case acls == aclsOff:
		c.Status = Fail
		c.Detail = fmt.Sprintf("ACLs are off on brokers advertised at %s: every user who can log in can read, write and delete every topic", where)
		c.Fix = "turn ACLs on (Apache Kafka: authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer; ksuite up --external-host enables them) and grant each user only what it needs in the topics file's acls: section"
	case !tlsOn:
		c.Status = Warn
		c.Detail = fmt.Sprintf("the brokers advertise %s with SASL but without TLS: passwords and records cross the network in clear", where)
		c.Fix = "use SASL_SSL (ksuite up --external-host does)"
	case acls == aclsUnknown:
		c.Status = Warn
		c.Detail = fmt.Sprintf("the brokers advertise %s over SASL_SSL, but whether ACLs are enforced could not be told", where)
		c.Fix = "check the brokers' authorizer.class.name"
	default:
		c.Detail = fmt.Sprintf("the brokers advertise %s over SASL_SSL with %s, and ACLs are enforced", where, cfg.SASL.Mechanism)
	}
	return c
}

// checkGroups finds consumer groups with no members that have records
// they have not read: consumers that died while producers went on.
func checkGroups(ctx context.Context, adm *kadm.Client, timeout time.Duration, limit int) Check {
	c := Check{Name: "consumer groups", Status: OK}
	gctx, cancel := requestCtx(ctx, timeout)
	defer cancel()
	listed, err := adm.ListGroups(gctx)
	if err != nil {
		c.Status, c.Detail = Warn, "could not list consumer groups: "+err.Error()
		c.Fix = "grant the user Describe on the groups"
		return c
	}
	var empty []string
	for _, g := range listed.Sorted() {
		if g.State == "Empty" {
			empty = append(empty, g.Group)
		}
	}
	if len(empty) > limit {
		empty = empty[:limit]
	}
	var dead []string
	if len(empty) > 0 {
		lags, err := adm.Lag(gctx, empty...)
		if err != nil {
			c.Status, c.Detail = Warn, "could not compute the lag of member-less groups: "+err.Error()
			c.Fix = "grant the user Describe on the groups and topics"
			return c
		}
		for _, l := range lags.Sorted() {
			if l.Error() != nil || len(l.Members) > 0 {
				continue
			}
			if total := l.Lag.Total(); total > 0 {
				var topics []string
				for _, tl := range l.Lag.TotalByTopic().Sorted() {
					if tl.Lag > 0 {
						topics = append(topics, tl.Topic)
					}
				}
				dead = append(dead, fmt.Sprintf("%s (%d record(s) behind on %s)", l.Group, total, names(topics, 3)))
			}
		}
	}
	if len(dead) > 0 {
		c.Status = Warn
		c.Detail = fmt.Sprintf("%d group(s) have no members and records they have not read: %s", len(dead), names(dead, maxListed))
		c.Fix = "start their consumers again, or delete groups nobody uses any more (kafka-consumer-groups.sh --delete --group NAME)"
		return c
	}
	c.Detail = fmt.Sprintf("%d group(s); none without members and behind", len(listed))
	return c
}

func sortedIDs[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ", ")
}
