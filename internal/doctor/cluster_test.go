package doctor

import (
	"sort"
	"strings"
	"testing"
)

// metadata builds what a cluster reports: live brokers, and per topic
// partitions as (leader, replicas, isr).
func metadata(live []int32, topics map[string][][3][]int32) clusterMeta {
	var m clusterMeta
	for _, id := range live {
		m.brokers = append(m.brokers, brokerMeta{node: id, host: "127.0.0.1", port: 9091 + id})
	}
	for name, parts := range topics {
		tm := topicMeta{name: name}
		for i, p := range parts {
			tm.partitions = append(tm.partitions, partitionMeta{id: int32(i), leader: p[0][0], replicas: p[1], isr: p[2]})
		}
		m.topics = append(m.topics, tm)
	}
	sort.Slice(m.topics, func(i, j int) bool { return m.topics[i].name < m.topics[j].name })
	return m
}

func part(leader int32, replicas, isr []int32) [3][]int32 {
	return [3][]int32{{leader}, replicas, isr}
}

// TestReplicationChecks: what Kafka's metadata looks like with a broker
// down, checked without stopping one (TestBrokerDownOnRealKafka does that
// on a private real cluster).
func TestReplicationChecks(t *testing.T) {
	all := []int32{1, 2, 3}
	tests := []struct {
		name        string
		m           clusterMeta
		repl, parts Status
		replDetail  []string
		partsDetail []string
	}{
		{
			name: "healthy",
			m:    metadata(all, map[string][][3][]int32{"t": {part(1, all, all), part(2, []int32{2, 3}, []int32{2, 3})}}),
			repl: OK, parts: OK, replDetail: []string{"3 live broker(s)", "highest replication factor is 3"},
			partsDetail: []string{"2 partition(s), every one led"},
		},
		{
			name: "broker 3 stopped",
			m: metadata([]int32{1, 2}, map[string][][3][]int32{
				"__consumer_offsets": {part(1, all, []int32{1, 2}), part(2, all, []int32{1, 2})},
				"small":              {part(1, []int32{1, 2}, []int32{1, 2})},
			}),
			repl: Fail, parts: Warn,
			replDetail:  []string{"broker 3 is not live but holds replicas of 2 partition(s)", "replication factor above the 2 live broker(s): __consumer_offsets (3)", "fix: start broker 3 again"},
			partsDetail: []string{"2 partition(s) are under-replicated", "__consumer_offsets-0"},
		},
		{
			name: "leaderless partition",
			m:    metadata([]int32{1, 2}, map[string][][3][]int32{"t": {part(-1, []int32{3}, nil), part(1, []int32{1}, []int32{1})}}),
			repl: Fail, parts: Fail,
			replDetail:  []string{"broker 3 is not live"},
			partsDetail: []string{"1 partition(s) have no leader", "t-0", "fix: start the broker(s) holding their replicas (3)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := replicationChecks(tt.m)
			for i, want := range []struct {
				st     Status
				detail []string
			}{{tt.repl, tt.replDetail}, {tt.parts, tt.partsDetail}} {
				c := cs[i]
				if c.Status != want.st {
					t.Errorf("%s: %s, want %s (%s)", c.Name, c.Status, want.st, c.Detail)
				}
				for _, d := range want.detail {
					if !strings.Contains(c.Detail+" | fix: "+c.Fix, d) {
						t.Errorf("%s: %q | fix %q, want %q", c.Name, c.Detail, c.Fix, d)
					}
				}
			}
		})
	}
}
