// Package ksuitetest gives a Go test a Kafka cluster with the team's topics
// applied, and helpers to publish events and wait for their effects, each
// bounded by a deadline:
//
//	func TestWelcomeMail(t *testing.T) {
//		k := ksuitetest.Start(t, ksuitetest.TopicsFile("../../topics.yaml"))
//		svc := mailer.New(k.ClientOpts()) // your service, on the test cluster
//		go svc.Run(ctx)
//		ev, _ := event.New("signup-event", "42", Signup{...})
//		k.Publish(t, "signup-event", ev)
//		ksuitetest.Eventually(t, 10*time.Second, "welcome mail sent", func() bool { return outbox.Sent("ada@example.com") })
//	}
//
// [Start] runs the same embedded 3-broker cluster as `ksuite up`, in
// memory on random loopback ports, ready with the topics file applied in
// milliseconds, and closed when the test ends. [Attach] uses an existing
// cluster instead (a `ksuite up`, or the real Kafka of a CI job): because
// such a cluster is shared, every topic the kit creates there gets a prefix
// unique to the test ([Kafka.Topic] maps a declared name to it), and the
// topics and the prefix's consumer groups are deleted when the test ends.
// A service under test must then take its topic names with that prefix.
package ksuitetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/topics"
)

// Timeout bounds each of the kit's own calls to the cluster (starting it,
// applying topics, a publish). The waits take their own timeout.
const Timeout = 30 * time.Second

// Kafka is the cluster of one test.
type Kafka struct {
	brokers []string
	prefix  string
	created []string // the topics the kit created, real names
}

// Option configures [Start] and [Attach].
type Option func(*options)

type options struct {
	files      []string
	topics     []string
	prefix     *string
	autoCreate bool
}

// TopicsFile applies a topics file (or a directory of them) at start, as
// `ksuite up` does. Environment overlays are not applied.
func TopicsFile(paths ...string) Option {
	return func(o *options) { o.files = append(o.files, paths...) }
}

// Topics creates more topics at start, with 3 partitions and a dead-letter
// topic (<name>.DLT) each.
func Topics(names ...string) Option {
	return func(o *options) { o.topics = append(o.topics, names...) }
}

// Prefix sets the prefix of every topic the kit creates. Default: none on
// [Start]'s own cluster, a unique one on [Attach]'s shared cluster.
func Prefix(p string) Option { return func(o *options) { o.prefix = &p } }

// AutoCreateTopics lets [Start]'s cluster create a topic on first use, as
// `ksuite up` does by default. Default off: a test that uses a topic the
// topics file forgot fails instead of passing on a topic production lacks.
func AutoCreateTopics() Option { return func(o *options) { o.autoCreate = true } }

// Start runs an embedded 3-broker cluster for t, applies the topics, and
// stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Kafka {
	t.Helper()
	o := apply(opts)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cfg := embedded.DefaultConfig()
	cfg.PortBase, cfg.DataDir, cfg.AutoCreateTopics = 0, "", o.autoCreate
	c, err := embedded.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("ksuitetest: start the embedded cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("ksuitetest: stop the embedded cluster: %v", err)
		}
	})
	prefix := ""
	if o.prefix != nil {
		prefix = *o.prefix
	}
	return setUp(t, c.Bootstrap(), prefix, o)
}

// Attach uses the existing cluster at brokers for t: it creates the topics
// under a prefix unique to the test (or Prefix's) and, when the test ends,
// deletes the topics it created and the consumer groups named with the
// prefix. Topics that already existed are left alone.
func Attach(t testing.TB, brokers []string, opts ...Option) *Kafka {
	t.Helper()
	o := apply(opts)
	prefix := UniquePrefix(t)
	if o.prefix != nil {
		prefix = *o.prefix
	}
	k := setUp(t, brokers, prefix, o)
	t.Cleanup(func() { k.cleanUp(t) })
	return k
}

func apply(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// UniquePrefix is a topic and group prefix for t that no other test or
// run shares: "kt.<test name>.<random>.".
func UniquePrefix(t testing.TB) string {
	name := strings.Trim(unsafeChars.ReplaceAllString(t.Name(), "-"), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "kt." + name + "." + hex.EncodeToString(b) + "."
}

// setUp creates the declared topics under prefix.
func setUp(t testing.TB, brokers []string, prefix string, o options) *Kafka {
	t.Helper()
	k := &Kafka{brokers: brokers, prefix: prefix}
	d := &topics.Desired{}
	if len(o.files) > 0 {
		var err error
		if d, err = topics.Load("", o.files...); err != nil {
			t.Fatalf("ksuitetest: %v", err)
		}
	}
	for _, name := range o.topics {
		for _, n := range []string{name, event.DeadLetterTopic(name)} {
			d.Topics = append(d.Topics, topics.Topic{Name: n, Partitions: 3, ReplicationFactor: int16(min(len(brokers), 3))})
		}
	}
	d.Manage = nil // never delete anything on a cluster the kit does not own
	for i := range d.Topics {
		d.Topics[i].Name = prefix + d.Topics[i].Name
	}
	if len(d.Topics) == 0 {
		return k
	}
	cl := k.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	plan, err := topics.Plan(ctx, cl, d)
	if err == nil {
		// Only what the kit creates is deleted at the end: a topic that was
		// there before belongs to someone else.
		for _, c := range plan.Changes {
			if c.Action == topics.ActionCreate {
				k.created = append(k.created, c.Topic)
			}
		}
		_, err = topics.Apply(ctx, cl, plan, topics.ApplyOptions{WaitTimeout: Timeout})
	}
	if err != nil {
		t.Fatalf("ksuitetest: create topics on %s: %v", strings.Join(brokers, ","), err)
	}
	return k
}

// cleanUp deletes the topics the kit created and the groups named with its
// prefix (none without a prefix: they would be everyone's).
func (k *Kafka) cleanUp(t testing.TB) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if groups, err := adm.ListGroups(ctx); err == nil && k.prefix != "" {
		var mine []string
		for _, g := range groups.Groups() {
			if strings.HasPrefix(g, k.prefix) {
				mine = append(mine, g)
			}
		}
		if len(mine) > 0 {
			_, _ = adm.DeleteGroups(ctx, mine...)
		}
	}
	if len(k.created) > 0 {
		if _, err := adm.DeleteTopics(ctx, k.created...); err != nil {
			t.Logf("ksuitetest: delete topics: %v", err)
		}
	}
}

// Brokers is the bootstrap list.
func (k *Kafka) Brokers() []string { return slices.Clone(k.brokers) }

// Prefix is the prefix of the kit's topics ("" on Start's own cluster).
func (k *Kafka) Prefix() string { return k.prefix }

// Topic is the real name of a declared topic: Prefix() + name.
func (k *Kafka) Topic(name string) string { return k.prefix + name }

// ClientOpts are franz-go options for the cluster, tuned for tests: fetches
// return within 100ms and a group notices a stopped member within seconds.
func (k *Kafka) ClientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(k.brokers...),
		kgo.DialTimeout(10 * time.Second),
		kgo.RetryTimeout(Timeout),
		kgo.FetchMaxWait(100 * time.Millisecond),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.RebalanceTimeout(20 * time.Second),
		kgo.AutoCommitInterval(500 * time.Millisecond),
	}
}

// Client returns a client for the cluster, closed when the test ends.
func (k *Kafka) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(k.ClientOpts(), opts...)...)
	if err != nil {
		t.Fatalf("ksuitetest: client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Publish writes events to the declared topic (keyed by subject, source
// "ksuitetest" when unset) and waits for every acknowledgement.
func (k *Kafka) Publish(t testing.TB, topic string, evs ...*event.Event) {
	t.Helper()
	recs := make([]*kgo.Record, len(evs))
	for i, ev := range evs {
		if ev.Source == "" {
			c := *ev
			c.Source = "ksuitetest"
			ev = &c
		}
		r, err := ev.Record(k.Topic(topic))
		if err != nil {
			t.Fatalf("ksuitetest: publish to %s: %v", topic, err)
		}
		recs[i] = r
	}
	k.produce(t, recs...)
}

// PublishRaw writes one record as given, e.g. a legacy {"uuid","data"}
// value or a malformed one, and waits for the acknowledgement.
func (k *Kafka) PublishRaw(t testing.TB, topic string, key, value []byte, headers ...kgo.RecordHeader) {
	t.Helper()
	k.produce(t, &kgo.Record{Topic: k.Topic(topic), Key: key, Value: value, Headers: headers})
}

func (k *Kafka) produce(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	cl := k.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("ksuitetest: publish to %s: %v", recs[0].Topic, err)
	}
}

// WaitForRecord reads the declared topic from its start until a record
// matches, and returns it; after timeout it fails the test.
func (k *Kafka) WaitForRecord(t testing.TB, topic string, timeout time.Duration, match func(*kgo.Record) bool) *kgo.Record {
	t.Helper()
	cl := k.Client(t, kgo.ConsumeTopics(k.Topic(topic)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := 0
	for {
		fs := cl.PollFetches(ctx)
		for _, r := range fs.Records() {
			seen++
			if match(r) {
				return r
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("ksuitetest: no matching record in %s within %s (%d read)", k.Topic(topic), timeout, seen)
			return nil
		}
	}
}

// WaitForEvent is WaitForRecord for records that decode as events.
func (k *Kafka) WaitForEvent(t testing.TB, topic string, timeout time.Duration, match func(*event.Event) bool) *event.Event {
	t.Helper()
	var got *event.Event
	k.WaitForRecord(t, topic, timeout, func(r *kgo.Record) bool {
		ev, err := event.Decode(r)
		if err == nil && match(ev) {
			got = ev
			return true
		}
		return false
	})
	return got
}

// WaitForDeadLetter waits for a record in the dead-letter topic of the
// declared topic that matches, and returns it with the consumer's reason
// (the ksuite-dlt-error header).
func (k *Kafka) WaitForDeadLetter(t testing.TB, topic string, timeout time.Duration, match func(*kgo.Record) bool) (*kgo.Record, string) {
	t.Helper()
	r := k.WaitForRecord(t, event.DeadLetterTopic(topic), timeout, match)
	for _, h := range r.Headers {
		if h.Key == event.HeaderDLTError {
			return r, string(h.Value)
		}
	}
	return r, ""
}

// Eventually polls cond every 20ms until it returns true, failing the test
// with what after timeout. It is how a test waits for an effect: never
// sleep.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not true within %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitConsumed waits until group has committed every record the declared
// topics hold now: the consumer has handled everything published so far.
// Group is the real group name (with the prefix, if any).
func (k *Kafka) WaitConsumed(t testing.TB, group string, timeout time.Duration, topicNames ...string) {
	t.Helper()
	adm := kadm.NewClient(k.Client(t))
	real := make([]string, len(topicNames))
	for i, n := range topicNames {
		real[i] = k.Topic(n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, real...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("ksuitetest: end offsets of %v: %v", real, err)
	}
	Eventually(t, timeout, "group "+group+" consumed "+strings.Join(real, ", "), func() bool {
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return false
		}
		caughtUp := true
		ends.Each(func(o kadm.ListedOffset) {
			if o.Offset == 0 {
				return
			}
			c, ok := committed.Lookup(o.Topic, o.Partition)
			if !ok || c.At < o.Offset {
				caughtUp = false
			}
		})
		return caughtUp
	})
}
