package embedded_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestTopicNameRules is issue 9's eleventh finding: the embedded cluster
// refuses the topic names Kafka refuses, for auto-creation and for
// CreateTopics, with Kafka's INVALID_TOPIC_EXCEPTION, and creates nothing.
func TestTopicNameRules(t *testing.T) {
	bad := []string{"bad name/é", strings.Repeat("a", 250), ".", ".."}
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		ctx := testkit.Context(t, 30*time.Second)
		adm := c.Admin(t)
		for _, name := range bad {
			cl := c.Client(t, kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(1))
			err := cl.ProduceSync(ctx, &kgo.Record{Topic: name, Value: []byte("x")}).FirstErr()
			if !errors.Is(err, kerr.InvalidTopicException) {
				t.Errorf("produce to %.20q with auto-creation: %v, want INVALID_TOPIC_EXCEPTION", name, err)
			}
			resp, err := adm.CreateTopic(ctx, 1, 1, nil, name)
			if err == nil {
				err = resp.Err
			}
			if !errors.Is(err, kerr.InvalidTopicException) {
				t.Errorf("CreateTopics %.20q: %v, want INVALID_TOPIC_EXCEPTION", name, err)
			}
		}
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range bad {
			if topics.Has(name) {
				t.Errorf("topic %.20q was created", name)
			}
		}
	})
}

// TestInternalTopicsRefuseProduce: as on Kafka, a client cannot append to
// __consumer_offsets or __transaction_state, and metadata flags them
// internal.
func TestInternalTopicsRefuseProduce(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		ctx := testkit.Context(t, 30*time.Second)
		cl := c.Client(t, kgo.AllowAutoTopicCreation(), kgo.UnknownTopicRetries(1))
		for _, internal := range []string{"__consumer_offsets", "__transaction_state"} {
			err := cl.ProduceSync(ctx, &kgo.Record{Topic: internal, Value: []byte("x")}).FirstErr()
			if !errors.Is(err, kerr.InvalidTopicException) {
				t.Errorf("produce to %s: %v, want INVALID_TOPIC_EXCEPTION", internal, err)
			}
		}
		md, err := c.Admin(t).Metadata(ctx, "__consumer_offsets")
		if err != nil {
			t.Fatal(err)
		}
		if td := md.Topics["__consumer_offsets"]; td.Err == nil && !td.IsInternal {
			t.Errorf("__consumer_offsets is not flagged internal: %+v", td)
		}
	})
}
