package javacompat

// The answers Kafka's Java clients read unconditionally, checked at the
// protocol level on kfake and on Apache Kafka, without Java. Each of these
// failed on upstream kfake; third_party/kfake-patches carries the fixes.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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

// TestConsumerGroupDescribeAsKafka: ConsumerGroupDescribe of a KIP-848 group
// names every assigned topic (Kafka's admin client describes the group's
// partitions by name: kafka-consumer-groups --describe failed on a nameless
// one), names the assignor in use when no member chose one (uniform, the
// first of Kafka's group.consumer.assignors) and gives the member's host as
// Kafka does ("/" and the address, no port).
func TestConsumerGroupDescribeAsKafka(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 3, 1)
		group := "ksuite-test-group-" + testkit.RandomSuffix()
		cl := c.Client(t)
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		hb.Group, hb.MemberID, hb.RebalanceTimeoutMillis = group, base64.RawURLEncoding.EncodeToString(id), 30000
		hb.SubscribedTopicNames, hb.Topics = []string{topic}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		t.Cleanup(func() {
			leave := *hb
			leave.MemberEpoch = -1
			_, _ = leave.RequestWith(context.Background(), cl)
			_, _ = c.Admin(t).DeleteGroup(context.Background(), group)
		})

		var described kmsg.ConsumerGroupDescribeResponseGroup
		testkit.Eventually(t, 30*time.Second, "member of "+group+" assigned "+topic+"'s 3 partitions", func() bool {
			// Heartbeat as a member does, acknowledging what it was given,
			// until the group's description shows all 3 partitions.
			resp, err := hb.RequestWith(testkit.Context(t, 15*time.Second), cl)
			if err != nil || resp.ErrorCode != 0 {
				return false
			}
			hb.MemberEpoch = resp.MemberEpoch
			if resp.Assignment != nil {
				hb.Topics = hb.Topics[:0]
				for _, a := range resp.Assignment.Topics {
					hb.Topics = append(hb.Topics, kmsg.ConsumerGroupHeartbeatRequestTopic{TopicID: a.TopicID, Partitions: a.Partitions})
				}
			}
			req := kmsg.NewPtrConsumerGroupDescribeRequest()
			req.Groups = []string{group}
			dresp, err := req.RequestWith(testkit.Context(t, 15*time.Second), cl)
			if err != nil || len(dresp.Groups) != 1 || dresp.Groups[0].ErrorCode != 0 || len(dresp.Groups[0].Members) != 1 {
				return false
			}
			described = dresp.Groups[0]
			m := described.Members[0]
			return len(m.Assignment.TopicPartitions) == 1 && len(m.Assignment.TopicPartitions[0].Partitions) == 3
		})

		if described.AssignorName != "uniform" {
			t.Errorf("assignor %q, want uniform (no member chose one)", described.AssignorName)
		}
		m := described.Members[0]
		if m.ClientHost != "/127.0.0.1" {
			t.Errorf("member host %q, want /127.0.0.1", m.ClientHost)
		}
		for what, a := range map[string]kmsg.Assignment{"assignment": m.Assignment, "target assignment": m.TargetAssignment} {
			for _, tp := range a.TopicPartitions {
				if tp.Topic != topic {
					t.Errorf("%s: topic %q (id %x), want %s", what, tp.Topic, tp.TopicID, topic)
				}
			}
		}
	})
}

// TestListTransactionsOnePerCoordinator: each broker lists the transactions
// it coordinates, so kafka-transactions list, which asks every broker,
// shows a transactional ID once.
func TestListTransactionsOnePerCoordinator(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 1)
		txid := "ksuite-test-txn-" + testkit.RandomSuffix()
		producer := c.Client(t, kgo.TransactionalID(txid), kgo.DefaultProduceTopic(topic))
		ctx := testkit.Context(t, 30*time.Second)
		if err := producer.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := producer.ProduceSync(ctx, kgo.StringRecord("v")).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}

		cl := c.Client(t)
		var listed int
		testkit.Eventually(t, 15*time.Second, "ListTransactions lists "+txid, func() bool {
			listed = 0
			for _, s := range cl.RequestSharded(testkit.Context(t, 15*time.Second), kmsg.NewPtrListTransactionsRequest()) {
				if s.Err != nil {
					return false
				}
				for _, ts := range s.Resp.(*kmsg.ListTransactionsResponse).TransactionStates {
					if ts.TransactionalID == txid {
						listed++
					}
				}
			}
			return listed > 0
		})
		if listed != 1 {
			t.Errorf("%s listed by %d brokers; only its coordinator lists it", txid, listed)
		}
	})
}

// TestTopicConfigsValidatedAsKafka: CreateTopics and IncrementalAlterConfigs
// refuse a topic config Kafka refuses, with INVALID_CONFIG and Kafka's
// message, and accept Kafka 4.4's own configs. Kafka's tools check names and
// types before they ask, but a program (Spring's KafkaAdmin, a NewTopic
// bean with a typo) only learns from the broker: on upstream kfake the typo
// was stored and the topic created, so it failed first in production.
func TestTopicConfigsValidatedAsKafka(t *testing.T) {
	refused := []struct{ name, value, message string }{
		{"retention.msec", "1000", "Unknown topic config name: retention.msec"},
		{"retention.ms", "1h", "Invalid value 1h for configuration retention.ms: Not a number of type LONG"},
		{"retention.ms", "-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{"segment.bytes", "1024", "Invalid value 1024 for configuration segment.bytes: Value must be at least 1048576"},
		{"max.message.bytes", "3000000000", "Invalid value 3000000000 for configuration max.message.bytes: Not a number of type INT"},
		{"min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{"cleanup.policy", "compact,purge", "Invalid value purge for configuration cleanup.policy: String must be one of: compact, delete"},
		{"compression.type", "brotli", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{"compression.gzip.level", "0", "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1"},
		{"unclean.leader.election.enable", "yes", "Invalid value yes for configuration unclean.leader.election.enable: Expected value to be either true or false"},
	}
	accepted := map[string]string{
		"cleanup.policy":                        "compact,delete",
		"min.cleanable.dirty.ratio":             "0.01",
		"max.decompressed.message.bytes":        "2000000", // new in Kafka 4.4
		"preallocate":                           "TRUE",
		"retention.ms":                          " 3600000 ",
		"leader.replication.throttled.replicas": "*",
	}
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		cl := c.Client(t)
		ctx := testkit.Context(t, 30*time.Second)
		topic := c.CreateTopic(t, 1, 1)
		for _, r := range refused {
			name := testkit.TopicName(t)
			resp := createTopics(ctx, t, cl, map[string]map[string]string{name: {r.name: r.value}})
			if rt := resp.Topics[0]; rt.ErrorCode != 40 || deref(rt.ErrorMessage) != r.message {
				t.Errorf("create with %s=%q: error %d %q, want INVALID_CONFIG (40) %q", r.name, r.value, rt.ErrorCode, deref(rt.ErrorMessage), r.message)
				_, _ = c.Admin(t).DeleteTopics(context.Background(), name)
			}

			req := kmsg.NewPtrIncrementalAlterConfigsRequest()
			rr := kmsg.NewIncrementalAlterConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, topic
			rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			rc.Name, rc.Value, rc.Op = r.name, kmsg.StringPtr(r.value), kmsg.IncrementalAlterConfigOpSet
			rr.Configs = append(rr.Configs, rc)
			req.Resources = append(req.Resources, rr)
			aresp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if ar := aresp.Resources[0]; ar.ErrorCode != 40 || deref(ar.ErrorMessage) != r.message {
				t.Errorf("alter %s=%q: error %d %q, want INVALID_CONFIG (40) %q", r.name, r.value, ar.ErrorCode, deref(ar.ErrorMessage), r.message)
			}
		}

		name := testkit.TopicName(t)
		t.Cleanup(func() { _, _ = c.Admin(t).DeleteTopics(context.Background(), name) })
		if rt := createTopics(ctx, t, cl, map[string]map[string]string{name: accepted}).Topics[0]; rt.ErrorCode != 0 {
			t.Errorf("create with Kafka's configs %v: error %d %s", accepted, rt.ErrorCode, deref(rt.ErrorMessage))
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
