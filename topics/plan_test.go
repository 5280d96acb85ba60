package topics

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func sp(s string) *string { return &s }

// observed builds a topic as a cluster reports it: partitions×rf replicas
// spread over brokers 1..3, with the given configs.
func observed(name string, partitions, rf int, configs map[string]observedConfig) *observedTopic {
	t := &observedTopic{name: name, replicas: map[int32][]int32{}, configs: configs}
	for p := 0; p < partitions; p++ {
		var rs []int32
		for r := 0; r < rf; r++ {
			rs = append(rs, int32((p+r)%3+1))
		}
		t.replicas[int32(p)] = rs
	}
	return t
}

func threeBrokers() []broker { return []broker{{id: 1}, {id: 2}, {id: 3}} }

func state(topics ...*observedTopic) *clusterState {
	s := &clusterState{brokers: threeBrokers(), topics: map[string]*observedTopic{}}
	for _, t := range topics {
		s.topics[t.name] = t
	}
	return s
}

func TestDiff(t *testing.T) {
	def := func(v string) observedConfig {
		return observedConfig{value: sp(v), source: kmsg.ConfigSourceDefaultConfig}
	}
	dyn := func(v string) observedConfig {
		return observedConfig{value: sp(v), source: kmsg.ConfigSourceDynamicTopicConfig}
	}
	brokerDyn := func(v string) observedConfig {
		return observedConfig{value: sp(v), source: kmsg.ConfigSourceDynamicDefaultBrokerConfig}
	}
	topic := func(name string, p int32, rf int16, cfg map[string]string) Topic {
		return Topic{Name: name, Partitions: p, ReplicationFactor: rf, Config: cfg}
	}
	tests := []struct {
		name      string
		desired   Desired
		cluster   *clusterState
		want      string // JSON of the changes
		unmanaged []string
	}{
		{
			name:    "create carries declared values with null from",
			desired: Desired{Topics: []Topic{topic("a", 3, 2, map[string]string{"retention.ms": "1000"})}},
			cluster: state(),
			want:    `[{"topic":"a","action":"create","partitions":{"from":null,"to":3},"replicationFactor":{"from":null,"to":2},"config":[{"key":"retention.ms","from":null,"to":"1000","op":"set"}],"reason":""}]`,
		},
		{
			name:    "unchanged even when broker defaults differ from Kafka's",
			desired: Desired{Topics: []Topic{topic("a", 3, 2, map[string]string{"min.insync.replicas": "2", "retention.ms": "604800000"})}},
			cluster: state(observed("a", 3, 2, map[string]observedConfig{
				"min.insync.replicas": brokerDyn("2"), "retention.ms": def("604800000"), "segment.ms": brokerDyn("1"),
			})),
			want: `[]`,
		},
		{
			name:    "config set, change and undeclared override removed",
			desired: Desired{Topics: []Topic{topic("a", 3, 2, map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"})}},
			cluster: state(observed("a", 3, 2, map[string]observedConfig{
				"retention.ms": dyn("2000"), "cleanup.policy": def("delete"), "segment.ms": dyn("60000"), "flush.ms": def("1"),
			})),
			want: `[{"topic":"a","action":"update","partitions":{"from":3,"to":3},"replicationFactor":{"from":2,"to":2},"config":[{"key":"cleanup.policy","from":"delete","to":"compact","op":"set"},{"key":"retention.ms","from":"2000","to":"1000","op":"set"},{"key":"segment.ms","from":"60000","to":null,"op":"delete"}],"reason":""}]`,
		},
		{
			name:    "partition increase",
			desired: Desired{Topics: []Topic{topic("a", 6, 2, nil)}},
			cluster: state(observed("a", 3, 2, nil)),
			want:    `[{"topic":"a","action":"update","partitions":{"from":3,"to":6},"replicationFactor":{"from":2,"to":2},"config":[],"reason":""}]`,
		},
		{
			name:    "partition decrease is blocked",
			desired: Desired{Topics: []Topic{topic("a", 2, 2, nil)}},
			cluster: state(observed("a", 3, 2, nil)),
			want:    `[{"topic":"a","action":"blocked","partitions":{"from":3,"to":2},"replicationFactor":{"from":2,"to":2},"config":[],"reason":"partitions cannot go down from 3 to 2: Kafka cannot remove partitions, and recreating the topic would lose its records and break key ordering; keep partitions: 3, or migrate to a new topic"}]`,
		},
		{
			name:    "replication factor change",
			desired: Desired{Topics: []Topic{topic("a", 3, 3, nil)}},
			cluster: state(observed("a", 3, 2, nil)),
			want:    `[{"topic":"a","action":"update","partitions":{"from":3,"to":3},"replicationFactor":{"from":2,"to":3},"config":[],"reason":""}]`,
		},
		{
			name:      "managed undeclared topic is deleted, others unmanaged, internal ignored",
			desired:   Desired{Topics: []Topic{topic("app-a", 1, 1, nil)}, Manage: []string{"app-"}},
			cluster:   state(observed("app-a", 1, 1, nil), observed("app-old", 2, 1, nil), observed("other", 1, 1, nil), observed("not-app-x", 1, 1, nil), observed("__consumer_offsets", 50, 3, nil)),
			want:      `[{"topic":"app-old","action":"delete","partitions":{"from":2,"to":null},"replicationFactor":{"from":1,"to":null},"config":[],"reason":"not declared in the topics files, inside manage prefix \"app-\""}]`,
			unmanaged: []string{"not-app-x", "other"},
		},
		{
			name:      "without manage nothing is deleted",
			desired:   Desired{Topics: []Topic{topic("a", 1, 1, nil)}},
			cluster:   state(observed("a", 1, 1, nil), observed("b", 1, 1, nil), observed("c", 1, 1, nil)),
			want:      `[]`,
			unmanaged: []string{"b", "c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := diff(&tt.desired, tt.cluster)
			if err != nil {
				t.Fatal(err)
			}
			changes := p.Changes
			if changes == nil {
				changes = []Change{}
			}
			got, _ := json.Marshal(changes)
			if string(got) != tt.want {
				t.Errorf("changes:\n got %s\nwant %s", got, tt.want)
			}
			if strings.Join(p.Unmanaged, ",") != strings.Join(tt.unmanaged, ",") {
				t.Errorf("unmanaged = %v, want %v", p.Unmanaged, tt.unmanaged)
			}
		})
	}
}

func TestDiffReassignmentInProgressIsWaitedFor(t *testing.T) {
	ot := observed("a", 1, 3, nil)
	// Moving from [1,2] to [1,2,3]: metadata already lists 3 replicas.
	ot.reassigning = map[int32]reassignment{0: {replicas: []int32{1, 2, 3}, adding: []int32{3}}}
	p, err := diff(&Desired{Topics: []Topic{{Name: "a", Partitions: 1, ReplicationFactor: 3}}}, state(ot))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || !p.Changes[0].waitReassign || !strings.Contains(p.Changes[0].Reason, "in progress") {
		t.Fatalf("changes = %+v, want one update waiting for the reassignment", p.Changes)
	}
}

func TestDiffReplicationFactorAboveBrokersIsAnError(t *testing.T) {
	d := &Desired{Topics: []Topic{{Name: "new", Partitions: 1, ReplicationFactor: 4}, {Name: "old", Partitions: 1, ReplicationFactor: 5}}}
	_, err := diff(d, state(observed("old", 1, 3, nil)))
	var rfe *RFError
	if !errors.As(err, &rfe) || rfe.Topics["new"] != 4 || rfe.Topics["old"] != 5 || rfe.Brokers != 3 {
		t.Fatalf("err = %v, want RFError for new (4) and old (5) with 3 brokers", err)
	}
	if !strings.Contains(err.Error(), "new (4), old (5)") {
		t.Errorf("message %q should name both topics", err)
	}
}

func TestPlanJSONShape(t *testing.T) {
	var empty PlanResult
	var b bytes.Buffer
	if err := empty.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["changes"].([]any); !ok {
		t.Errorf("changes must be an array even when empty: %s", b.String())
	}
	want := map[string]any{"create": 0.0, "update": 0.0, "delete": 0.0, "blocked": 0.0}
	s, _ := got["summary"].(map[string]any)
	for k, v := range want {
		if s[k] != v {
			t.Errorf("summary.%s = %v, want %v", k, s[k], v)
		}
	}
}

func TestPlanText(t *testing.T) {
	d := &Desired{Topics: []Topic{
		{Name: "new", Partitions: 3, ReplicationFactor: 2, Config: map[string]string{"retention.ms": "1000"}},
		{Name: "grow", Partitions: 6, ReplicationFactor: 2},
		{Name: "shrink", Partitions: 1, ReplicationFactor: 2},
	}, Manage: []string{"old"}}
	p, err := diff(d, state(observed("grow", 3, 2, nil), observed("shrink", 3, 2, nil), observed("old-x", 1, 1, nil), observed("foreign", 1, 1, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"~ grow\n    partitions:         3 → 6\n",
		"+ new\n    partitions:         3\n    replication-factor: 2\n    + config retention.ms: 1000\n",
		"- old-x (delete)\n",
		"! shrink (blocked)\n    partitions:         3 → 1\n    blocked: partitions cannot go down",
		"Plan: 1 to create, 1 to update, 1 to delete, 1 blocked.",
		"Unmanaged (1, not in the files and outside manage prefixes; never changed): foreign",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text plan lacks %q:\n%s", want, b.String())
		}
	}
	if s := p.Summary(); s != (Summary{Create: 1, Update: 1, Delete: 1, Blocked: 1}) {
		t.Errorf("summary = %+v", s)
	}
}
