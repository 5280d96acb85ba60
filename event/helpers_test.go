package event

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// testOpts are client options for c tuned for tests: short fetch waits and
// group timeouts so joins and rebalances take seconds, not half a minute.
func testOpts(t testing.TB, c testkit.Cluster) []kgo.Opt {
	t.Helper()
	opts, err := c.Config().ClientOpts()
	if err != nil {
		t.Fatal(err)
	}
	return append(opts,
		kgo.FetchMaxWait(250*time.Millisecond),
		kgo.SessionTimeout(10*time.Second),
		kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.RebalanceTimeout(30*time.Second),
		kgo.AutoCommitInterval(500*time.Millisecond),
	)
}

// topicWithDLT creates a topic and its dead-letter topic.
func topicWithDLT(t testing.TB, c testkit.Cluster, partitions int32) string {
	t.Helper()
	topic := c.CreateTopic(t, partitions, 3)
	createDLT(t, c, topic, partitions)
	return topic
}

// createDLT creates topic's dead-letter topic, deleted when the test ends.
func createDLT(t testing.TB, c testkit.Cluster, topic string, partitions int32) {
	t.Helper()
	adm := c.Admin(t)
	ctx := testkit.Context(t, 30*time.Second)
	resp, err := adm.CreateTopic(ctx, partitions, 3, nil, DeadLetterTopic(topic))
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", DeadLetterTopic(topic), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, DeadLetterTopic(topic))
	})
}

// newTestRouter is a router on c with fast retries.
func newTestRouter(t testing.TB, c testkit.Cluster, tune ...func(*RouterConfig)) *Router {
	t.Helper()
	cfg := RouterConfig{
		ClientOpts:      testOpts(t, c),
		Retry:           RetryPolicy{MaxAttempts: 3, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		ShutdownTimeout: 10 * time.Second,
	}
	for _, f := range tune {
		f(&cfg)
	}
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// start runs r until the returned stop is called (or the test ends) and
// fails the test if Run returns an error or does not return within 60s.
func start(t testing.TB, r *Router) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("Run did not return within 60s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitRun waits for a Run that ends by itself (a simulated crash).
func waitRun(t testing.TB, r *Router) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	ctx := testkit.Context(t, 2*time.Minute)
	go func() { done <- r.Run(ctx) }()
	return done
}

// produceEvents publishes events (subject = key) and waits for the acks.
func produceEvents(t testing.TB, c testkit.Cluster, topic string, evs ...*Event) {
	t.Helper()
	p, err := NewProducer(ProducerConfig{ClientOpts: testOpts(t, c), Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Publish(testkit.Context(t, 30*time.Second), topic, evs...); err != nil {
		t.Fatal(err)
	}
}

// produceRaw writes raw records and waits for the acks.
func produceRaw(t testing.TB, c testkit.Cluster, rs ...*kgo.Record) {
	t.Helper()
	cl := c.Client(t)
	if err := cl.ProduceSync(testkit.Context(t, 30*time.Second), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// mustEvent is New that fails the test on error.
func mustEvent(t testing.TB, typ, subject string, data any) *Event {
	t.Helper()
	ev, err := New(typ, subject, data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Source = "test"
	return ev
}

// readAll reads n records from topic (from the start), failing after 30s.
// readTopic reads every record topic holds now, up to its end offsets:
// with at-least-once delivery a topic can hold duplicates, so a count of
// records says nothing about which events are in.
func readTopic(t testing.TB, c testkit.Cluster, topic string) []*kgo.Record {
	t.Helper()
	ctx := testkit.Context(t, 30*time.Second)
	ends, err := c.Admin(t).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	total := 0
	ends.Each(func(o kadm.ListedOffset) { total += int(o.Offset) })
	return readAll(t, c, topic, total)
}

func readAll(t testing.TB, c testkit.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := c.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(250*time.Millisecond))
	ctx := testkit.Context(t, 30*time.Second)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// header returns r's header value for key.
func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// dialectOf maps a test database to its dialect.
func dialectOf(db testkit.DB) Dialect {
	if db.Postgres() {
		return Postgres
	}
	return SQLite
}

// counter is a concurrency-safe multiset of strings.
type counter struct {
	mu sync.Mutex
	m  map[string]int
	in []string
}

func (c *counter) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]int)
	}
	c.m[s]++
	c.in = append(c.in, s)
}

func (c *counter) count(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[s]
}

func (c *counter) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *counter) order() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.in...)
}

// headerString formats r's headers for failure messages.
func headerString(r *kgo.Record) string {
	var b strings.Builder
	for _, h := range r.Headers {
		fmt.Fprintf(&b, "%s=%q ", h.Key, h.Value)
	}
	return b.String()
}

// logged is a slog handler that counts the messages logged, so a test can
// wait for something the code under test only logs.
type logged struct{ c *counter }

// newLogged returns a logger whose messages are counted in c.
func newLogged(c *counter) *slog.Logger { return slog.New(logged{c}) }

func (logged) Enabled(context.Context, slog.Level) bool { return true }
func (l logged) Handle(_ context.Context, r slog.Record) error {
	l.c.add(r.Message)
	return nil
}
func (l logged) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logged) WithGroup(string) slog.Handler      { return l }

// defaultLogs routes slog.Default to a counter until the test ends, to see
// what a component given no Logger logs. Tests in this package do not run
// in parallel, so swapping the default is safe.
func defaultLogs(t testing.TB) *counter {
	prev := slog.Default()
	var c counter
	slog.SetDefault(newLogged(&c))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &c
}

// killSwitch dials a client's connections and can cut them all at once and
// refuse new ones: to the brokers the client's process has died. Its
// sockets close, and no commit or LeaveGroup ever comes, so the group waits
// for the member's session to expire (or for a static member to restart).
type killSwitch struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

var errKilled = errors.New("process killed (test)")

func (k *killSwitch) dial(ctx context.Context, network, host string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		c.Close()
		return nil, errKilled
	}
	k.conns = append(k.conns, c)
	return c, nil
}

// kill cuts every connection and refuses new ones.
func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// opts make a client dial through k and give up quickly once it is dead,
// so the killed router's own shutdown does not hold the test up.
func (k *killSwitch) opts() []kgo.Opt {
	return []kgo.Opt{kgo.Dialer(k.dial), kgo.RetryTimeout(2 * time.Second)}
}
