package topics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultWaitTimeout bounds how long [Apply] waits for the cluster to
// reflect its changes when [ApplyOptions.WaitTimeout] is zero. Creating
// and deleting topics takes seconds; moving replicas of big partitions can
// take far longer, so raise it (or cancel ctx yourself) for those.
const DefaultWaitTimeout = 5 * time.Minute

// requestTimeout is what each admin request asks the controller to wait
// before answering: long enough for a thousand topics, short enough that
// a stuck controller surfaces as an error.
const requestTimeout = 60 * time.Second

// ApplyOptions tunes [Apply]. The zero value applies everything except
// deletes and waits up to [DefaultWaitTimeout].
type ApplyOptions struct {
	// AllowDelete executes the plan's deletes. Without it they are
	// skipped with a warning on Progress. Default false, because a
	// deleted topic's records are gone.
	AllowDelete bool
	// DryRun sends the creates, partition increases and config changes
	// with the brokers' validate-only flag, so the brokers check them
	// without changing anything. Reassignments and deletes have no
	// validate-only mode in Kafka; a dry run lists them only.
	DryRun bool
	// Progress receives one line per step (nil for silence).
	Progress io.Writer
	// WaitTimeout bounds each wait for the cluster to reflect a step;
	// zero means [DefaultWaitTimeout].
	WaitTimeout time.Duration
}

// ApplyResult says what [Apply] did.
type ApplyResult struct {
	// Applied counts the topics created, updated and deleted (in a dry run:
	// validated). Blocked is always 0: a blocked plan applies nothing.
	Applied Summary
	// SkippedDeletes are the deletes left out because AllowDelete was false.
	SkippedDeletes []string
	// SkippedACLDeletes are the ACL deletes left out for the same reason.
	SkippedACLDeletes []ACL
}

// Apply executes a plan: one CreateTopics request for every create, one
// CreatePartitions for every increase, one IncrementalAlterConfigs for every
// config change, a partition reassignment for replication-factor changes,
// and — with AllowDelete — one DeleteTopics. After each step it waits until
// the cluster shows the result, so a caller can produce to a created topic
// as soon as Apply returns.
//
// A plan with a blocked change is refused as a whole: Apply returns an error
// wrapping [ErrBlocked] and changes nothing. Failures of single topics do
// not stop the other steps; they are returned joined, each naming its
// topic.
func Apply(ctx context.Context, cl *kgo.Client, p *PlanResult, opts ApplyOptions) (ApplyResult, error) {
	if p.Blocked() {
		var names []string
		for _, c := range p.Changes {
			if c.Action == ActionBlocked {
				names = append(names, c.Topic)
			}
		}
		return ApplyResult{}, fmt.Errorf("%w: %s", ErrBlocked, strings.Join(names, ", "))
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	a := &applier{cl: cl, p: p, opts: opts, progress: opts.Progress}
	if a.progress == nil {
		a.progress = io.Discard
	}
	done := map[Action]map[string]bool{} // topics changed, by what they count as
	var errs []error
	for _, st := range steps {
		var cs []Change
		for _, c := range p.Changes {
			if st.takes(c) {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		ok, err := st.run(a, ctx, cs)
		if err != nil && st.counts == "" {
			return ApplyResult{}, err // a precondition: nothing was applied
		}
		if err != nil {
			errs = append(errs, err)
		}
		for _, name := range ok {
			if done[st.counts] == nil {
				done[st.counts] = map[string]bool{}
			}
			done[st.counts][name] = true
		}
	}
	// ACLs last: a grant on a topic is only useful once the topic exists.
	aclCreated, aclDeleted, err := a.applyACLs(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	return ApplyResult{
		Applied: Summary{Create: len(done[ActionCreate]), Update: len(done[ActionUpdate]), Delete: len(done[ActionDelete]),
			ACLCreate: aclCreated, ACLDelete: aclDeleted},
		SkippedDeletes:    a.skippedDeletes,
		SkippedACLDeletes: a.skippedACLDeletes,
	}, errors.Join(errs...)
}

// step is one stage of [Apply]: the changes it takes and what it does
// with them.
type step struct {
	takes func(Change) bool
	// run applies cs and returns the topics it changed (in a dry run: would
	// change).
	run func(a *applier, ctx context.Context, cs []Change) ([]string, error)
	// counts is the action the changed topics count as in the summary; ""
	// marks a precondition, whose error stops Apply before it writes.
	counts Action
}

// steps are Apply's stages in order. Both preconditions come first so a
// plan that cannot work fails before anything changes, not halfway.
var steps = []step{
	{takes: placesReplicas, run: (*applier).checkBrokers},
	{takes: func(c Change) bool { return c.Action == ActionUpdate && c.waitReassign }, run: (*applier).waitInProgress},
	{takes: func(c Change) bool { return c.Action == ActionCreate }, run: (*applier).create, counts: ActionCreate},
	{takes: func(c Change) bool { return c.Action == ActionUpdate && c.Partitions != nil }, run: (*applier).addPartitions, counts: ActionUpdate},
	{takes: func(c Change) bool { return c.Action == ActionUpdate && len(c.Config) > 0 }, run: (*applier).alterConfigs, counts: ActionUpdate},
	{takes: func(c Change) bool { return c.Action == ActionUpdate && c.ReplicationFactor != nil }, run: (*applier).reassign, counts: ActionUpdate},
	{takes: func(c Change) bool { return c.Action == ActionDelete }, run: (*applier).delete, counts: ActionDelete},
}

// placesReplicas reports whether applying c places replicas: a create or
// a replication-factor change.
func placesReplicas(c Change) bool {
	return c.Action == ActionCreate || c.Action == ActionUpdate && c.ReplicationFactor != nil
}

// checkBrokers fails with an [*RFError] when a created or reassigned topic
// asks for more replicas than there are live brokers now: they may have
// changed since the plan.
func (a *applier) checkBrokers(ctx context.Context, cs []Change) ([]string, error) {
	s, err := readMetadata(ctx, a.cl, []string{})
	if err != nil {
		return nil, err
	}
	return nil, checkReplicationFactors(a.desired(cs), len(s.brokers))
}

// waitInProgress waits for reassignments started before the plan, so the
// steps after it work on settled replicas. A dry run does not wait.
func (a *applier) waitInProgress(ctx context.Context, cs []Change) ([]string, error) {
	if a.opts.DryRun {
		return nil, nil
	}
	a.logf("waiting for the replica reassignment already in progress on %d topic(s): %s…", len(cs), strings.Join(names(cs), ", "))
	return nil, a.waitReassignments(ctx, names(cs))
}

type applier struct {
	cl       *kgo.Client
	p        *PlanResult
	opts     ApplyOptions
	progress io.Writer
	// skippedDeletes are the deletes left out for want of AllowDelete.
	skippedDeletes    []string
	skippedACLDeletes []ACL
}

// desired is the declared topic of each change.
func (a *applier) desired(cs []Change) []Topic {
	out := make([]Topic, len(cs))
	for i, c := range cs {
		out[i] = a.p.desired[c.Topic]
	}
	return out
}

func (a *applier) logf(format string, args ...any) {
	fmt.Fprintf(a.progress, format+"\n", args...)
}

func (a *applier) verb(do, dry string) string {
	if a.opts.DryRun {
		return dry
	}
	return do
}

func names(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Topic
	}
	return out
}

// topicErr names the topic, the step and the broker's message.
func topicErr(step, topic string, code int16, msg *string) error {
	return fmt.Errorf("%s %s: %w%s", step, topic, kerr.ErrorForCode(code), errMessage(msg))
}

func (a *applier) create(ctx context.Context, cs []Change) ([]string, error) {
	start := time.Now()
	a.logf("%s %d topic(s)…", a.verb("creating", "validating the creation of"), len(cs))
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	req.ValidateOnly = a.opts.DryRun
	for _, c := range cs {
		t := a.p.desired[c.Topic]
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = t.Name
		rt.NumPartitions = t.Partitions
		rt.ReplicationFactor = t.ReplicationFactor
		for _, k := range sortedKeys(t.Config) {
			rc := kmsg.NewCreateTopicsRequestTopicConfig()
			rc.Name = k
			rc.Value = kmsg.StringPtr(t.Config[k])
			rt.Configs = append(rt.Configs, rc)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return nil, fmt.Errorf("create topics: %w", err)
	}
	var ok []string
	var errs []error
	for _, t := range resp.Topics {
		if t.ErrorCode != 0 {
			errs = append(errs, topicErr("create topic", t.Topic, t.ErrorCode, t.ErrorMessage))
			continue
		}
		ok = append(ok, t.Topic)
	}
	if !a.opts.DryRun && len(ok) > 0 {
		if err := a.waitTopics(ctx, "created topics to have leaders", ok, func(ot *observedTopic, want Topic) bool {
			return ot != nil && ot.ready() && ot.partitionCount() == int(want.Partitions)
		}); err != nil {
			return ok, errors.Join(append(errs, err)...)
		}
	}
	a.logf("  %s %d topic(s) in %s", a.verb("created", "validated"), len(ok), since(start))
	return ok, errors.Join(errs...)
}

func (a *applier) addPartitions(ctx context.Context, cs []Change) ([]string, error) {
	start := time.Now()
	a.logf("%s partitions of %d topic(s)…", a.verb("adding", "validating new"), len(cs))
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	req.ValidateOnly = a.opts.DryRun
	for _, c := range cs {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic = c.Topic
		rt.Count = int32(*c.Partitions.To)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return nil, fmt.Errorf("create partitions: %w", err)
	}
	var ok []string
	var errs []error
	for _, t := range resp.Topics {
		if t.ErrorCode != 0 {
			errs = append(errs, topicErr("add partitions to", t.Topic, t.ErrorCode, t.ErrorMessage))
			continue
		}
		ok = append(ok, t.Topic)
	}
	if !a.opts.DryRun && len(ok) > 0 {
		if err := a.waitTopics(ctx, "new partitions to appear", ok, func(ot *observedTopic, want Topic) bool {
			return ot != nil && ot.ready() && ot.partitionCount() >= int(want.Partitions)
		}); err != nil {
			return ok, errors.Join(append(errs, err)...)
		}
	}
	a.logf("  %s partitions of %d topic(s) in %s", a.verb("added", "validated"), len(ok), since(start))
	return ok, errors.Join(errs...)
}

func (a *applier) alterConfigs(ctx context.Context, cs []Change) ([]string, error) {
	start := time.Now()
	a.logf("%s configs of %d topic(s)…", a.verb("changing", "validating"), len(cs))
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.ValidateOnly = a.opts.DryRun
	for _, c := range cs {
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType = kmsg.ConfigResourceTypeTopic
		rr.ResourceName = c.Topic
		for _, cc := range c.Config {
			rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			rc.Name = cc.Key
			if cc.Op == OpDelete {
				rc.Op = kmsg.IncrementalAlterConfigOpDelete
			} else {
				rc.Op = kmsg.IncrementalAlterConfigOpSet
				rc.Value = cc.To
			}
			rr.Configs = append(rr.Configs, rc)
		}
		req.Resources = append(req.Resources, rr)
	}
	ok, errs := alterConfigsResults(a.cl.RequestSharded(ctx, req))
	if !a.opts.DryRun && len(ok) > 0 {
		if err := a.waitConfigs(ctx, ok); err != nil {
			return ok, errors.Join(append(errs, err)...)
		}
	}
	a.logf("  %s configs of %d topic(s) in %s", a.verb("changed", "validated"), len(ok), since(start))
	return ok, errors.Join(errs...)
}

// alterConfigsResults reads every shard of an IncrementalAlterConfigs
// answer: the topics changed, and an error for each topic refused and for
// each shard that failed as a whole (naming its topics), so one failure
// never hides another.
func alterConfigsResults(shards []kgo.ResponseShard) (ok []string, errs []error) {
	for _, shard := range shards {
		if shard.Err != nil {
			var topics []string
			if req, _ := shard.Req.(*kmsg.IncrementalAlterConfigsRequest); req != nil {
				for _, r := range req.Resources {
					topics = append(topics, r.ResourceName)
				}
			}
			errs = append(errs, fmt.Errorf("change configs of %s: %w", strings.Join(topics, ", "), shard.Err))
			continue
		}
		for _, r := range shard.Resp.(*kmsg.IncrementalAlterConfigsResponse).Resources {
			if r.ErrorCode != 0 {
				errs = append(errs, topicErr("change configs of", r.ResourceName, r.ErrorCode, r.ErrorMessage))
				continue
			}
			ok = append(ok, r.ResourceName)
		}
	}
	return ok, errs
}

// delete deletes topics, only with AllowDelete: a deleted topic's records
// are gone. Kafka has no validate-only delete, so a dry run lists them.
func (a *applier) delete(ctx context.Context, cs []Change) ([]string, error) {
	switch {
	case !a.opts.AllowDelete:
		a.skippedDeletes = names(cs)
		a.logf("warning: %d delete(s) skipped, pass --allow-delete to delete: %s", len(cs), strings.Join(a.skippedDeletes, ", "))
		return nil, nil
	case a.opts.DryRun:
		a.logf("delete: %d topic(s) would be deleted (%s); Kafka has no validate-only delete", len(cs), strings.Join(names(cs), ", "))
		return names(cs), nil
	}
	start := time.Now()
	a.logf("deleting %d topic(s)…", len(cs))
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = int32(requestTimeout.Milliseconds())
	for _, c := range cs {
		req.TopicNames = append(req.TopicNames, c.Topic)
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic = kmsg.StringPtr(c.Topic)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return nil, fmt.Errorf("delete topics: %w", err)
	}
	var ok []string
	var errs []error
	for _, t := range resp.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		if t.ErrorCode != 0 && t.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			errs = append(errs, topicErr("delete topic", name, t.ErrorCode, t.ErrorMessage))
			continue
		}
		ok = append(ok, name)
	}
	if len(ok) > 0 {
		// A topic counts as present while a broker knows it at all.
		if err := a.waitTopics(ctx, "deleted topics to be gone", ok, func(ot *observedTopic, _ Topic) bool {
			return ot == nil
		}); err != nil {
			return ok, errors.Join(append(errs, err)...)
		}
	}
	a.logf("  deleted %d topic(s) in %s", len(ok), since(start))
	return ok, errors.Join(errs...)
}

// waitTopics polls metadata of topics until done holds for each (ot is nil
// for a topic the cluster does not know) on every live broker. Brokers
// apply the controller's metadata log each at its own pace, and a client
// may ask any of them next, so one broker agreeing is not enough.
func (a *applier) waitTopics(ctx context.Context, what string, topics []string, done func(ot *observedTopic, want Topic) bool) error {
	return a.poll(ctx, what, func(ctx context.Context) (bool, string, error) {
		pending := map[string]bool{}
		for _, b := range a.brokers() {
			s, err := readMetadata(ctx, b, topics)
			if err != nil {
				return false, "", err
			}
			for _, name := range topics {
				if !done(s.topics[name], a.p.desired[name]) {
					pending[name] = true
				}
			}
		}
		return len(pending) == 0, fmt.Sprintf("%d of %d pending", len(pending), len(topics)), nil
	})
}

// brokers returns a requestor per live broker, or the client itself when
// the plan saw no brokers (a hand-built plan).
func (a *applier) brokers() []kmsg.Requestor {
	var out []kmsg.Requestor
	if a.p.state != nil {
		for _, b := range a.p.state.brokers {
			out = append(out, a.cl.Broker(int(b.id)))
		}
	}
	if len(out) == 0 {
		out = append(out, a.cl)
	}
	return out
}

// waitConfigs polls DescribeConfigs on every live broker until each changed
// topic shows its declared configs and no undeclared override.
func (a *applier) waitConfigs(ctx context.Context, topics []string) error {
	return a.poll(ctx, "configs to take effect", func(ctx context.Context) (bool, string, error) {
		pending := map[string]bool{}
		for _, b := range a.brokers() {
			have, err := describeConfigs(ctx, b, topics)
			if err != nil {
				return false, "", err
			}
			for _, name := range topics {
				if len(configChanges(a.p.desired[name].Config, have[name])) > 0 {
					pending[name] = true
				}
			}
		}
		return len(pending) == 0, fmt.Sprintf("%d of %d pending", len(pending), len(topics)), nil
	})
}

// poll calls check until it reports done, backing off from 50ms to 1s, and
// gives up after the wait timeout with the last status.
func (a *applier) poll(ctx context.Context, what string, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.WaitTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	lastStatus, lastLog := "", time.Now()
	for {
		done, status, err := check(ctx)
		if err == nil && done {
			return nil
		}
		if err != nil {
			status = err.Error()
		}
		// A line when the status moves (at most every 2s) and a heartbeat
		// every 10s, so a long reassignment visibly progresses.
		if since := time.Since(lastLog); status != lastStatus && since > 2*time.Second || since > 10*time.Second {
			a.logf("  waiting for %s: %s", what, status)
			lastLog = time.Now()
		}
		lastStatus = status
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for %s: gave up after %s (%s): the cluster accepted the change but does not show it yet; re-run plan to see where it stands", what, a.opts.WaitTimeout, lastStatus)
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
