// Package testkit is the one place ksuite's tests get their real parts: a
// kfake cluster always, and the real 3-node Apache Kafka cluster started by
// test/kafka/cluster.sh when KSUITE_TEST_KAFKA holds its bootstrap list.
//
// Integration tests run once per cluster:
//
//	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
//		topic := c.CreateTopic(t, 3, 1)
//		cl := c.Client(t)
//		...
//	})
//
// With KSUITE_REQUIRE_KAFKA=1 (set by the test command) a missing real
// cluster fails the test instead of silently running kfake only.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// Environment variables the test command sets.
const (
	// EnvKafka holds the real cluster's PLAINTEXT bootstrap list.
	EnvKafka = "KSUITE_TEST_KAFKA"
	// EnvKafkaSASL holds the real cluster's SASL_PLAINTEXT (SCRAM) bootstrap list.
	EnvKafkaSASL = "KSUITE_TEST_KAFKA_SASL"
	// EnvRequireKafka makes a missing real cluster a test failure.
	EnvRequireKafka = "KSUITE_REQUIRE_KAFKA"
)

// SASL credentials seeded into the real test cluster by cluster.sh.
const (
	SASLUser     = "ksuite"
	SASLPassword = "ksuite-test-secret"
)

// Cluster is one cluster a test runs against.
type Cluster struct {
	// Name is "kfake" or "kafka"; it names the subtest.
	Name string
	// Brokers is the bootstrap list.
	Brokers []string
	// Real is true for Apache Kafka, where replication, config sources and
	// validate-only behave for real.
	Real bool
	// Fake is the embedded cluster, nil for real Kafka.
	Fake *kfake.Cluster
}

// Config is the connection config for the cluster with a short timeout.
func (c Cluster) Config() kafka.Config {
	return kafka.Config{Brokers: c.Brokers, Timeout: 15 * time.Second}
}

// Bootstrap is the comma-separated bootstrap list, as --brokers takes it.
func (c Cluster) Bootstrap() string { return strings.Join(c.Brokers, ",") }

// Client returns a client for the cluster, closed when the test ends.
func (c Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := c.Config().NewClient(opts...)
	if err != nil {
		t.Fatalf("client for %s: %v", c.Name, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns an admin client for the cluster, closed when the test ends.
func (c Cluster) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(c.Client(t))
}

// CreateTopic creates a topic with a name unique to this test and returns
// it; the topic is deleted when the test ends.
func (c Cluster) CreateTopic(t testing.TB, partitions int32, rf int16, configs ...map[string]*string) string {
	t.Helper()
	name := TopicName(t)
	var cfg map[string]*string
	if len(configs) > 0 {
		cfg = configs[0]
	}
	adm := c.Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, partitions, rf, cfg, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s on %s: %v", name, c.Name, err)
	}
	c.WaitTopic(t, name, partitions)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, name)
	})
	return name
}

// TopicMetadata asks r (a client, or one broker of it) for topic's
// metadata, bypassing the client's cache, which would hide a change an
// admin request just made.
func TopicMetadata(ctx context.Context, r kmsg.Requestor, topic string) (kmsg.MetadataResponseTopic, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return kmsg.MetadataResponseTopic{}, err
	}
	if len(resp.Topics) != 1 {
		return kmsg.MetadataResponseTopic{}, fmt.Errorf("metadata of %s: %d topics in the answer", topic, len(resp.Topics))
	}
	return resp.Topics[0], nil
}

// WaitTopic waits until every broker's metadata shows topic with its
// partitions led: Kafka answers CreateTopics before all brokers know the
// topic, and a producer that asks one that does not yet fails.
func (c Cluster) WaitTopic(t testing.TB, topic string, partitions int32) {
	t.Helper()
	waitTopic(t, c.Config(), c.Name, topic, partitions)
}

func waitTopic(t testing.TB, cfg kafka.Config, name, topic string, partitions int32) {
	t.Helper()
	cl, err := cfg.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := Context(t, 30*time.Second)
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil {
		t.Fatalf("list brokers of %s: %v", name, err)
	}
	Eventually(t, 30*time.Second, "every broker knows topic "+topic, func() bool {
		for _, b := range brokers {
			md, err := TopicMetadata(ctx, cl.Broker(int(b.NodeID)), topic)
			if err != nil || md.ErrorCode != 0 || int32(len(md.Partitions)) != partitions {
				return false
			}
			for _, p := range md.Partitions {
				if p.ErrorCode != 0 || p.Leader < 0 {
					return false
				}
			}
		}
		return true
	})
}

// WaitGroupBalanced waits until group is Stable with exactly members
// members, each assigned at least one partition: the end of a rebalance.
func (c Cluster) WaitGroupBalanced(t testing.TB, group string, members int, timeout time.Duration) {
	t.Helper()
	adm := c.Admin(t)
	Eventually(t, timeout, fmt.Sprintf("group %s balanced over %d members", group, members), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		groups, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false
		}
		g := groups[group]
		if len(g.Members) != members || g.State != "Stable" {
			return false
		}
		for _, m := range g.Members {
			if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) == 0 || len(a.Topics[0].Partitions) == 0 {
				return false
			}
		}
		return true
	})
}

// Clusters returns the clusters a test must run against: a fresh 3-broker
// kfake cluster (auto topic creation on, closed at cleanup; opts add to it)
// and, when KSUITE_TEST_KAFKA is set, the shared real cluster.
func Clusters(t testing.TB, opts ...kfake.Opt) []Cluster {
	t.Helper()
	out := []Cluster{NewFake(t, opts...)}
	if real, ok := RealKafka(t); ok {
		out = append(out, real)
	}
	return out
}

// ForEachCluster runs fn as a subtest per cluster of [Clusters].
func ForEachCluster(t *testing.T, fn func(t *testing.T, c Cluster), opts ...kfake.Opt) {
	t.Helper()
	for _, c := range Clusters(t, opts...) {
		t.Run(c.Name, func(t *testing.T) { fn(t, c) })
	}
}

// NewFake starts a 3-broker kfake cluster on random loopback ports, closed
// when the test ends.
func NewFake(t testing.TB, opts ...kfake.Opt) Cluster {
	t.Helper()
	base := []kfake.Opt{
		kfake.NumBrokers(3),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	}
	fake, err := kfake.NewCluster(append(base, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(fake.Close)
	return Cluster{Name: "kfake", Brokers: fake.ListenAddrs(), Fake: fake}
}

// RealKafka returns the real cluster if KSUITE_TEST_KAFKA is set. When it is
// not and KSUITE_REQUIRE_KAFKA=1, the test fails.
func RealKafka(t testing.TB) (Cluster, bool) {
	t.Helper()
	bootstrap := requiredEnv(t, EnvKafka, EnvRequireKafka, "start the cluster with test/kafka/cluster.sh up")
	if bootstrap == "" {
		return Cluster{}, false
	}
	return Cluster{Name: "kafka", Brokers: strings.Split(bootstrap, ","), Real: true}, true
}

// requiredEnv is the value of name; when it is empty and require is "1",
// the test fails with the hint instead of quietly running with less.
func requiredEnv(t testing.TB, name, require, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" && os.Getenv(require) == "1" {
		t.Fatalf("%s is empty but %s=1: %s", name, require, hint)
	}
	return v
}

// RealKafkaSASL returns the real cluster's SCRAM listener, if known.
func RealKafkaSASL(t testing.TB) (Cluster, bool) {
	t.Helper()
	if _, ok := RealKafka(t); !ok {
		return Cluster{}, false
	}
	bootstrap := os.Getenv(EnvKafkaSASL)
	if bootstrap == "" {
		t.Fatalf("%s is set but %s is empty: run the tests through `make test`", EnvKafka, EnvKafkaSASL)
	}
	return Cluster{Name: "kafka-sasl", Brokers: strings.Split(bootstrap, ","), Real: true}, true
}

var unsafeTopicChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// TopicName is a topic name unique to this test run, readable in listings:
// ksuite-test.<test name>.<random>. Tests share the real cluster, so names
// must never collide across tests or runs.
func TopicName(t testing.TB) string {
	name := unsafeTopicChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 150 {
		name = name[len(name)-150:]
	}
	return "ksuite-test." + name + "." + RandomSuffix()
}

// RandomSuffix is 8 random hex characters.
func RandomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually polls cond every 20ms until it returns true or timeout passes,
// then fails the test with msg. It is the only way tests wait.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true within %s: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Context returns a context cancelled when the test ends or after timeout.
func Context(t testing.TB, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// FreePortBase returns a port p such that p..p+n-1 are all free on
// loopback right now, for commands that take --port-base. The ports are
// drawn below the kernel's ephemeral range: a free ephemeral port can be
// taken by any outgoing connection before the command binds it, and again
// whenever a test restarts the command on the same ports.
func FreePortBase(t testing.TB, n int) int {
	t.Helper()
	lo, hi := 15000, ephemeralLow()
	for range 200 {
		base := lo + mrand.IntN(hi-lo-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports found in %d-%d", n, lo, hi)
	return 0
}

// ephemeralLow is where the kernel's ephemeral ports start: Linux's
// default (32768) unless it says otherwise. macOS starts at 49152 and
// Windows at 49152, both above it.
func ephemeralLow() int {
	const linuxDefault = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return linuxDefault
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low < 16000 { // a range reaching this low leaves no room below it: take the default
		return linuxDefault
	}
	return min(low, linuxDefault)
}
