package embedded_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestPartitionBounds is issue 9's tenth finding: the embedded cluster
// itself refuses, with POLICY_VIOLATION, any CreateTopics,
// CreatePartitions or auto-creation past its bounds, so a raw client
// cannot grow it without end.
func TestPartitionBounds(t *testing.T) {
	cfg := testConfig(t)
	cfg.DataDir = ""
	cfg.MaxPartitionsPerTopic, cfg.MaxPartitions = 5, 8
	c := start(t, cfg)
	ctx := testkit.Context(t, 30*time.Second)
	adm := kadm.NewClient(client(t, c))
	policy := func(what string, err error, msg string) {
		t.Helper()
		if !errors.Is(err, kerr.PolicyViolation) || !strings.Contains(msg, "at most") {
			t.Errorf("%s: %v (%q), want POLICY_VIOLATION naming the bound", what, err, msg)
		}
	}

	r, err := adm.CreateTopic(ctx, 1_000_000_000, 1, nil, "huge")
	if err == nil {
		err = r.Err
	}
	policy("create 1,000,000,000 partitions", err, r.ErrMessage)
	r, err = adm.CreateTopic(ctx, 6, 1, nil, "six")
	if err == nil {
		err = r.Err
	}
	policy("create 6 partitions, 5 allowed per topic", err, r.ErrMessage)

	if r, err := adm.CreateTopic(ctx, 5, 1, nil, "five"); err != nil || r.Err != nil {
		t.Fatalf("create 5 partitions: %v %v", err, r.Err)
	}
	pr, err := adm.CreatePartitions(ctx, 1, "five")
	if err == nil {
		err = pr["five"].Err
	}
	policy("grow to 6 partitions", err, pr["five"].ErrMessage)

	if r, err := adm.CreateTopic(ctx, 3, 1, nil, "three"); err != nil || r.Err != nil {
		t.Fatalf("create 3 more partitions (8 in all): %v %v", err, r.Err)
	}
	r, err = adm.CreateTopic(ctx, 1, 1, nil, "ninth")
	if err == nil {
		err = r.Err
	}
	policy("a 9th partition in a cluster of at most 8", err, r.ErrMessage)

	cl := client(t, c, kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(1))
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "auto", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.PolicyViolation) {
		t.Errorf("auto-creating a 9th partition: %v, want POLICY_VIOLATION", err)
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(topics.Names(), ","); got != "five,three" {
		t.Errorf("topics %s, want only five and three", got)
	}
}
