package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Action is what a plan does to one topic.
type Action string

// The actions of a [Change], as they appear in JSON.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionDelete  Action = "delete"
	ActionBlocked Action = "blocked"
)

// ConfigOp is how one config key changes.
type ConfigOp string

// The config operations, as IncrementalAlterConfigs performs them.
const (
	OpSet    ConfigOp = "set"
	OpDelete ConfigOp = "delete"
)

// Delta is a number before and after a change. From is nil for a create,
// To is nil for a delete.
type Delta struct {
	From *int `json:"from"`
	To   *int `json:"to"`
}

// ConfigChange is one config key before and after a change. From is nil
// when the key has no value on the cluster yet; To is nil for a delete.
type ConfigChange struct {
	Key  string   `json:"key"`
	From *string  `json:"from"`
	To   *string  `json:"to"`
	Op   ConfigOp `json:"op"`
}

// Change is what a plan does to one topic. Partitions, ReplicationFactor
// and Config are set only for what changes; a create carries every declared
// value and a delete the values that go away. In JSON every field is always
// present (see [Change.MarshalJSON]).
type Change struct {
	Topic             string
	Action            Action
	Partitions        *Delta
	ReplicationFactor *Delta
	Config            []ConfigChange
	// Reason explains a blocked change, a delete, or a wait for a
	// reassignment already in progress.
	Reason string

	// waitReassign is set when a reassignment started earlier must finish.
	waitReassign bool
	// partitions and rf are the topic's current counts, for the JSON of an
	// update that leaves them as they are.
	partitions, rf int
}

// Summary counts changes by action: topics, then ACL bindings.
type Summary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Blocked   int `json:"blocked"`
	ACLCreate int `json:"aclCreate"`
	ACLDelete int `json:"aclDelete"`
}

// Total is the number of changes, blocked ones and ACLs included.
func (s Summary) Total() int {
	return s.Create + s.Update + s.Delete + s.Blocked + s.ACLCreate + s.ACLDelete
}

// PlanResult is what [Apply] would do to make the cluster match a
// [Desired] state. Marshalled to JSON it is the documented, stable shape
// {"changes":[...],"summary":{...}}.
type PlanResult struct {
	// Changes are sorted by topic name.
	Changes []Change
	// Unmanaged are existing topics the files neither declare nor own
	// through a manage prefix. They are information only: never changed,
	// never counted as changes. Internal (__*) topics are not listed.
	Unmanaged []string
	// Brokers is the number of live brokers when the plan was made.
	Brokers int
	// ACLs are the ACL bindings to create and delete, sorted.
	ACLs []ACLChange
	// ACLsSkipped says why declared ACLs were not planned (the cluster has
	// no authorizer); "" when they were, or none are declared.
	ACLsSkipped string

	desired map[string]Topic
	state   *clusterState
}

// Summary counts the plan's changes by action.
func (p *PlanResult) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case ActionCreate:
			s.Create++
		case ActionUpdate:
			s.Update++
		case ActionDelete:
			s.Delete++
		case ActionBlocked:
			s.Blocked++
		}
	}
	for _, c := range p.ACLs {
		if c.Action == ActionCreate {
			s.ACLCreate++
		} else {
			s.ACLDelete++
		}
	}
	return s
}

// HasChanges reports whether the plan changes anything (or is blocked).
func (p *PlanResult) HasChanges() bool { return len(p.Changes)+len(p.ACLs) > 0 }

// Blocked reports whether any change is blocked; [Apply] then refuses the
// whole plan.
func (p *PlanResult) Blocked() bool { return p.Summary().Blocked > 0 }

// ErrBlocked is returned (wrapped) by [Apply] and [Sync] for a plan with a
// blocked change. Nothing was changed.
var ErrBlocked = errors.New("the plan has blocked changes, so nothing was applied")

// RFError is returned by [Plan] when topics ask for more replicas than
// there are live brokers. It is found before anything is applied.
type RFError struct {
	// Topics maps each offending topic to the factor it asks for.
	Topics  map[string]int
	Brokers int
}

func (e *RFError) Error() string {
	names := sortedKeys(e.Topics)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s (%d)", n, e.Topics[n]))
	}
	return fmt.Sprintf("replication factor above the %d live broker(s) for %s: lower replication-factor (e.g. in an environment overlay) or start more brokers", e.Brokers, strings.Join(parts, ", "))
}

// checkReplicationFactors returns an [*RFError] naming each of ts that asks
// for more replicas than there are live brokers, or nil. Plan checks with
// the brokers it saw; Apply checks again before it writes and before it
// places replicas, because brokers may leave in between.
func checkReplicationFactors(ts []Topic, brokers int) error {
	tooHigh := map[string]int{}
	for _, t := range ts {
		if rf := int(t.ReplicationFactor); rf > brokers {
			tooHigh[t.Name] = rf
		}
	}
	if len(tooHigh) > 0 {
		return &RFError{Topics: tooHigh, Brokers: brokers}
	}
	return nil
}

// Plan validates d, reads the cluster and returns what [Apply] would do.
// It reads metadata for all topic names (needed to find managed topics to
// delete) and configs and reassignments only for the declared topics. It
// writes nothing.
func Plan(ctx context.Context, cl *kgo.Client, d *Desired) (*PlanResult, error) {
	if ps := Validate(d); hasErrors(ps) {
		return nil, &ValidationError{Problems: ps}
	}
	names := make([]string, len(d.Topics))
	for i, t := range d.Topics {
		names[i] = t.Name
	}
	s, err := readState(ctx, cl, names)
	if err != nil {
		return nil, err
	}
	p, err := diff(d, s)
	if err != nil {
		return nil, err
	}
	if err := planACLs(ctx, cl, d, p); err != nil {
		return nil, err
	}
	return p, nil
}

// diff is the pure heart of planning: desired versus observed.
func diff(d *Desired, s *clusterState) (*PlanResult, error) {
	p := &PlanResult{desired: make(map[string]Topic, len(d.Topics)), state: s, Brokers: len(s.brokers)}
	// replicated are the topics whose replicas this plan places.
	var replicated []Topic
	for _, t := range d.Topics {
		p.desired[t.Name] = t
		ot, exists := s.topics[t.Name]
		if !exists {
			replicated = append(replicated, t)
			p.Changes = append(p.Changes, createChange(t))
			continue
		}
		c, ok := updateChange(t, ot)
		if !ok {
			continue
		}
		if c.ReplicationFactor != nil {
			replicated = append(replicated, t)
		}
		p.Changes = append(p.Changes, c)
	}
	if err := checkReplicationFactors(replicated, len(s.brokers)); err != nil {
		return nil, err
	}
	for name, ot := range s.topics {
		if _, declared := p.desired[name]; declared || ot.internal || strings.HasPrefix(name, "__") {
			continue
		}
		prefix := d.managedBy(name)
		if prefix == "" {
			p.Unmanaged = append(p.Unmanaged, name)
			continue
		}
		from, rf := ot.partitionCount(), ot.replicationFactor()
		p.Changes = append(p.Changes, Change{
			Topic:             name,
			Action:            ActionDelete,
			Partitions:        &Delta{From: &from},
			ReplicationFactor: &Delta{From: &rf},
			Reason:            fmt.Sprintf("not declared in the topics files, inside manage prefix %q", prefix),
		})
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Topic < p.Changes[j].Topic })
	sort.Strings(p.Unmanaged)
	return p, nil
}

func createChange(t Topic) Change {
	parts, rf := int(t.Partitions), int(t.ReplicationFactor)
	c := Change{
		Topic:             t.Name,
		Action:            ActionCreate,
		Partitions:        &Delta{To: &parts},
		ReplicationFactor: &Delta{To: &rf},
	}
	for _, k := range sortedKeys(t.Config) {
		v := t.Config[k]
		c.Config = append(c.Config, ConfigChange{Key: k, To: &v, Op: OpSet})
	}
	return c
}

// updateChange compares one existing topic; ok is false when it matches.
func updateChange(t Topic, ot *observedTopic) (Change, bool) {
	c := Change{Topic: t.Name, Action: ActionUpdate, partitions: ot.partitionCount(), rf: ot.replicationFactor()}
	var reasons []string
	if from, to := ot.partitionCount(), int(t.Partitions); from != to {
		c.Partitions = &Delta{From: &from, To: &to}
		if to < from {
			c.Action = ActionBlocked
			reasons = append(reasons, fmt.Sprintf("partitions cannot go down from %d to %d: Kafka cannot remove partitions, and recreating the topic would lose its records and break key ordering; keep partitions: %d, or migrate to a new topic", from, to, from))
		}
	}
	if to := int(t.ReplicationFactor); !ot.uniformRF(to) {
		from := ot.replicationFactor()
		c.ReplicationFactor = &Delta{From: &from, To: &to}
	}
	if len(ot.reassigning) > 0 {
		c.waitReassign = true
		if c.ReplicationFactor == nil {
			rf := ot.replicationFactor()
			c.ReplicationFactor = &Delta{From: &rf, To: &rf}
		}
		reasons = append(reasons, fmt.Sprintf("a replica reassignment of %d partition(s) is in progress; apply waits for it", len(ot.reassigning)))
	}
	c.Config = configChanges(t.Config, ot.configs)
	if c.Partitions == nil && c.ReplicationFactor == nil && len(c.Config) == 0 {
		return Change{}, false
	}
	c.Reason = strings.Join(reasons, "; ")
	return c, true
}

// configChanges compares declared configs with the effective ones. A
// declared key matches whatever the source of its effective value (broker
// default, cluster-wide dynamic default or topic override), so a cluster
// whose defaults differ from Kafka's still plans no changes. An override
// the files no longer declare is removed.
func configChanges(want map[string]string, have map[string]observedConfig) []ConfigChange {
	var out []ConfigChange
	for _, k := range sortedKeys(want) {
		v := want[k]
		cur, ok := have[k]
		if ok && cur.value != nil && configEqual(k, v, *cur.value) {
			continue
		}
		cc := ConfigChange{Key: k, To: &v, Op: OpSet}
		if ok && cur.value != nil {
			from := *cur.value
			cc.From = &from
		}
		out = append(out, cc)
	}
	for _, k := range sortedKeys(have) {
		cur := have[k]
		if _, declared := want[k]; declared || cur.source != kmsg.ConfigSourceDynamicTopicConfig {
			continue
		}
		cc := ConfigChange{Key: k, Op: OpDelete}
		if cur.value != nil {
			from := *cur.value
			cc.From = &from
		}
		out = append(out, cc)
	}
	return out
}

func hasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}
