package cli_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// TestPartitionLimitsBeforeSending is issue 9's tenth finding on the
// client side: validate, plan and up refuse a topic above the partition
// bounds before anything reaches a cluster, and the bounds can be raised.
func TestPartitionLimitsBeforeSending(t *testing.T) {
	huge := writeTopics(t, "topics:\n  - name: huge\n    partitions: 1000000000\n    replication-factor: 1\n")
	twenty := writeTopics(t, "topics:\n  - name: twenty\n    partitions: 20\n    replication-factor: 1\n")
	const perTopic = "huge\": 1000000000 partitions is above the limit of 10000 per topic"

	r := runKsuite(t, "topics", "validate", "-f", huge)
	if r.code != 1 || !strings.Contains(r.errOut, huge+":3: error: topic \""+perTopic) {
		t.Errorf("validate: exit %d, stderr %q; want the limit at file:line", r.code, r.errOut)
	}
	if r := runKsuite(t, "topics", "validate", "-f", twenty, "--max-partitions-per-topic", "10"); r.code != 1 || !strings.Contains(r.errOut, "above the limit of 10 per topic") {
		t.Errorf("validate with a lower bound: exit %d, stderr %q", r.code, r.errOut)
	}
	if r := runKsuite(t, "topics", "validate", "-f", twenty, "--max-partitions-per-topic", "25", "--max-partitions", "15"); r.code != 1 || !strings.Contains(r.errOut, "20 partitions in all, above the limit of 15") {
		t.Errorf("validate with a lower cluster bound: exit %d, stderr %q", r.code, r.errOut)
	}

	base := testkit.FreePortBase(t, 3)
	b := "--brokers=" + bootstrapFor(base, 3)
	startUp(t, "--in-memory", "--port-base", strconv.Itoa(base), "--topics", writeTopics(t, "topics: []\n"))
	if r := runKsuite(t, "topics", "plan", "-f", huge, b); r.code != 1 || !strings.Contains(r.errOut, perTopic) {
		t.Errorf("plan: exit %d, stderr %q", r.code, r.errOut)
	}
	if r := runKsuite(t, "topics", "apply", "-f", huge, b, "--auto-approve"); r.code != 1 || !strings.Contains(r.errOut, perTopic) {
		t.Errorf("apply: exit %d, stderr %q", r.code, r.errOut)
	}
	adm := testkit.Cluster{Brokers: strings.Split(bootstrapFor(base, 3), ",")}.Admin(t)
	topics, err := adm.ListTopics(testkit.Context(t, 10*time.Second))
	if err != nil || topics.Has("huge") {
		t.Fatalf("topic huge reached the cluster (%v)", err)
	}

	// up refuses its topics file before creating anything.
	r = runKsuite(t, "up", "--in-memory", "--port-base", strconv.Itoa(testkit.FreePortBase(t, 3)), "--topics", huge)
	if r.code != 1 || !strings.Contains(r.errOut, perTopic) {
		t.Errorf("up: exit %d, stderr %q", r.code, r.errOut)
	}
}

// TestProduceAutoCreatePastTheBound: a produce whose topic ksuite up
// refuses to auto-create (the cluster's partitions are used up) says that
// the topic's creation was refused and names the bounds, not only Kafka's
// bare POLICY_VIOLATION text (a metadata answer carries no message).
func TestProduceAutoCreatePastTheBound(t *testing.T) {
	c := testkit.NewFake(t, kfake.AllowAutoTopicCreation(), kfake.MaxPartitions(2, 2))
	c.CreateTopic(t, 2, 1)
	r := runStdin(t, "x\n", nil, "produce", "one-too-many", "--brokers="+c.Bootstrap(), "--timeout", "3s")
	if r.code != 1 || !strings.Contains(r.errOut, `the cluster refused to create topic "one-too-many"`) || !strings.Contains(r.errOut, "--max-partitions") {
		t.Fatalf("exit %d, stderr %q; want the refused creation and the bounds named", r.code, r.errOut)
	}
}
