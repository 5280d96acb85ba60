package javacompat

// The answers Kafka's Java clients read unconditionally, checked at the
// protocol level on kfake and on Apache Kafka, without Java. Each of these
// failed on upstream kfake; third_party/kfake-patches carries the fixes.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestCreateTopicsAnswersConfigs: CreateTopics v5+ answers every topic config
// with a source Kafka's admin client knows (it throws on -1 and on a null
// list, after the topic was created), and names an existing topic in its
// error message.
func TestCreateTopicsAnswersConfigs(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		cl := c.Client(t)
		ctx := testkit.Context(t, 30*time.Second)
		configured, plain := testkit.TopicName(t), testkit.TopicName(t)
		t.Cleanup(func() { _, _ = c.Admin(t).DeleteTopics(context.Background(), configured, plain) })

		resp := createTopics(ctx, t, cl, map[string]map[string]string{
			configured: {"retention.ms": "3600000"},
			plain:      nil,
		})
		for _, rt := range resp.Topics {
			if rt.ErrorCode != 0 {
				t.Fatalf("create %s: error %d", rt.Topic, rt.ErrorCode)
			}
			if len(rt.Configs) == 0 {
				t.Fatalf("create %s answered no configs; Kafka answers every topic config", rt.Topic)
			}
			if !slices.IsSortedFunc(rt.Configs, func(a, b kmsg.CreateTopicsResponseTopicConfig) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("create %s: configs not sorted by name", rt.Topic)
			}
			got := map[string]kmsg.CreateTopicsResponseTopicConfig{}
			for _, rc := range rt.Configs {
				if rc.Source < int8(kmsg.ConfigSourceDynamicTopicConfig) || rc.Source > int8(kmsg.ConfigSourceDefaultConfig) {
					t.Errorf("create %s: config %s has source %d, not a broker or topic source", rt.Topic, rc.Name, rc.Source)
				}
				got[rc.Name] = rc
			}
			wantRetention := config{"604800000", kmsg.ConfigSourceDefaultConfig}
			if rt.Topic == configured {
				wantRetention = config{"3600000", kmsg.ConfigSourceDynamicTopicConfig}
			}
			expectConfig(t, rt.Topic, "retention.ms", got, wantRetention)
			expectConfig(t, rt.Topic, "cleanup.policy", got, config{"delete", kmsg.ConfigSourceDefaultConfig})
		}

		again := createTopics(ctx, t, cl, map[string]map[string]string{plain: nil})
		rt := again.Topics[0]
		if want := "Topic '" + plain + "' already exists."; rt.ErrorCode != 36 || rt.ErrorMessage == nil || *rt.ErrorMessage != want {
			t.Fatalf("create existing %s: error %d message %v, want TOPIC_ALREADY_EXISTS %q", plain, rt.ErrorCode, deref(rt.ErrorMessage), want)
		}
	})
}

// TestDescribeTopicPartitionsELRLists: Kafka 4's Admin.describeTopics reads
// the ELR lists of every partition; Kafka sends empty lists, never null.
func TestDescribeTopicPartitionsELRLists(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 2, 1)
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
		rt.Topic = topic
		req.Topics = append(req.Topics, rt)
		req.ResponsePartitionLimit = 100
		resp, err := req.RequestWith(testkit.Context(t, 15*time.Second), c.Client(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 {
			t.Fatalf("describe %s: %+v", topic, resp.Topics)
		}
		for _, p := range resp.Topics[0].Partitions {
			if p.EligibleLeaderReplicas == nil || p.LastKnownELR == nil {
				t.Errorf("partition %d: EligibleLeaderReplicas null %v, LastKnownELR null %v; Kafka sends [] for both", p.Partition, p.EligibleLeaderReplicas == nil, p.LastKnownELR == nil)
			}
		}
	})
}

// TestListGroupsFiltersIgnoreCase: Kafka's admin client asks for the types
// "Classic" and "Consumer" (kafka-consumer-groups --list); Kafka matches
// type and state filters ignoring case.
func TestListGroupsFiltersIgnoreCase(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 1)
		group := "ksuite-test-group-" + testkit.RandomSuffix()
		cl := c.Client(t)
		if err := cl.ProduceSync(testkit.Context(t, 15*time.Second), &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		consumer := c.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if fs := consumer.PollRecords(testkit.Context(t, 30*time.Second), 1); fs.NumRecords() != 1 {
			t.Fatalf("group %s read no record: %v", group, fs.Errors())
		}
		if err := consumer.CommitUncommittedOffsets(testkit.Context(t, 15*time.Second)); err != nil {
			t.Fatal(err)
		}
		consumer.Close() // the group is Empty now
		t.Cleanup(func() { _, _ = c.Admin(t).DeleteGroup(context.Background(), group) })

		for _, filter := range []struct{ states, types []string }{
			{types: []string{"Classic", "Consumer"}},
			{types: []string{"CLASSIC"}},
			{states: []string{"empty"}, types: []string{"classic"}},
		} {
			testkit.Eventually(t, 15*time.Second, "ListGroups "+group+" with filter "+strings.Join(filter.states, ",")+"/"+strings.Join(filter.types, ","), func() bool {
				req := kmsg.NewPtrListGroupsRequest()
				req.StatesFilter, req.TypesFilter = filter.states, filter.types
				shards := cl.RequestSharded(testkit.Context(t, 15*time.Second), req)
				for _, s := range shards {
					if s.Err != nil {
						continue
					}
					for _, g := range s.Resp.(*kmsg.ListGroupsResponse).Groups {
						if g.Group == group {
							return true
						}
					}
				}
				return false
			})
		}
	})
}

// TestDescribeConfigsSynonyms: with IncludeSynonyms Kafka lists a config's
// synonyms by precedence, the value in force first (kafka-configs prints
// them); without, none.
func TestDescribeConfigsSynonyms(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		retention := "3600000"
		topic := c.CreateTopic(t, 1, 1, map[string]*string{"retention.ms": &retention})
		for _, include := range []bool{true, false} {
			req := kmsg.NewPtrDescribeConfigsRequest()
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			rr.ConfigNames = []string{"retention.ms", "cleanup.policy"}
			req.Resources = append(req.Resources, rr)
			req.IncludeSynonyms = include
			var resp *kmsg.DescribeConfigsResponse
			testkit.Eventually(t, 15*time.Second, "DescribeConfigs of "+topic, func() bool {
				var err error
				resp, err = req.RequestWith(testkit.Context(t, 15*time.Second), c.Client(t))
				return err == nil && len(resp.Resources) == 1 && resp.Resources[0].ErrorCode == 0
			})
			for _, rc := range resp.Resources[0].Configs {
				if !include {
					if len(rc.ConfigSynonyms) != 0 {
						t.Errorf("%s: %d synonyms without IncludeSynonyms", rc.Name, len(rc.ConfigSynonyms))
					}
					continue
				}
				if len(rc.ConfigSynonyms) == 0 {
					t.Errorf("%s: no synonyms with IncludeSynonyms", rc.Name)
					continue
				}
				first := rc.ConfigSynonyms[0]
				if first.Source != rc.Source || deref(first.Value) != deref(rc.Value) {
					t.Errorf("%s=%s (%v): first synonym is %s=%s (%v), want the value in force", rc.Name, deref(rc.Value), rc.Source, first.Name, deref(first.Value), first.Source)
				}
			}
		}
	})
}

type config struct {
	value  string
	source kmsg.ConfigSource
}

func expectConfig(t *testing.T, topic, name string, got map[string]kmsg.CreateTopicsResponseTopicConfig, want config) {
	t.Helper()
	rc, ok := got[name]
	if !ok || deref(rc.Value) != want.value || rc.Source != int8(want.source) {
		t.Errorf("create %s: config %s = %s (source %d), want %s (%v)", topic, name, deref(rc.Value), rc.Source, want.value, want.source)
	}
}

// createTopics sends one CreateTopics v7 (the controller answers) for topics
// with 1 partition and replication factor 1.
func createTopics(ctx context.Context, t *testing.T, cl *kgo.Client, topics map[string]map[string]string) *kmsg.CreateTopicsResponse {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 15000
	for name, configs := range topics {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		for k, v := range configs {
			rc := kmsg.NewCreateTopicsRequestTopicConfig()
			rc.Name, rc.Value = k, kmsg.StringPtr(v)
			rt.Configs = append(rt.Configs, rc)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != len(topics) {
		t.Fatalf("CreateTopics answered %d topics for %d", len(resp.Topics), len(topics))
	}
	return resp
}

// deref shows a nullable string as Kafka's tools do.
func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
