package javacompat

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// Kafka's tools, by the class each kafka-*.sh script runs.
const (
	topicsTool         = "org.apache.kafka.tools.TopicCommand"
	configsTool        = "org.apache.kafka.tools.ConfigCommand"
	consumerGroupsTool = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
	consoleProducer    = "org.apache.kafka.tools.ConsoleProducer"
	consoleConsumer    = "org.apache.kafka.tools.consumer.ConsoleConsumer"
	producerPerf       = "org.apache.kafka.tools.ProducerPerformance"
	consumerPerf       = "org.apache.kafka.tools.ConsumerPerformance"
	apiVersionsTool    = "org.apache.kafka.tools.BrokerApiVersionsCommand"
	logDirsTool        = "org.apache.kafka.tools.LogDirsCommand"
	transactionsTool   = "org.apache.kafka.tools.TransactionsCommand"
)

// step is one command of a tools session, as a user types it.
type step struct {
	name string
	main string
	// args may use {bootstrap}, {broker0}..{broker2} (the brokers' ids),
	// {topic}, {configured}, {perf}, {stamped}, {group} and {prefix}; the
	// session fills them in.
	args  []string
	stdin string
	// waitTopic, when set, waits until every broker knows topic {name} with
	// this many partitions: Kafka answers CreateTopics and CreatePartitions
	// before its brokers' metadata shows the change, and a script that runs
	// the next command at once can race it on the real cluster too.
	waitTopic  string
	partitions int32
	// retry reruns a command whose answer depends on metadata the brokers
	// learn a moment later, until its checks pass (or 20s pass).
	retry bool
	exit  int
	// out and errOut are regular expressions stdout and stderr must match.
	out, errOut []string
	// check inspects the result further.
	check func(r result, v vars) string
}

// vars fills a session's placeholders.
type vars map[string]string

func (v vars) expand(args []string) []string {
	pairs := make([]string, 0, 2*len(v))
	for k, val := range v {
		pairs = append(pairs, "{"+k+"}", val)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = r.Replace(a)
	}
	return out
}

// toolsSession is what an operator does with Kafka's scripts, in order:
// topics, console producer and consumer with a group, the group's offsets,
// topic configs, the perf tools, and clean-up. Every command's exit code and
// output are those of Kafka's tools on Apache Kafka 4.
var toolsSession = []step{
	{
		name: "kafka-topics --create",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--create", "--topic", "{topic}", "--partitions", "3", "--replication-factor", "1"},
		out: []string{`^Created topic {topic}\.\n$`},
	},
	{
		name: "kafka-topics --create --config",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--create", "--topic", "{configured}", "--partitions", "1", "--replication-factor", "3",
			"--config", "retention.ms=3600000", "--config", "cleanup.policy=compact"},
		out: []string{`^Created topic {configured}\.\n$`},
	},
	{
		name: "kafka-topics --create of an existing topic",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--create", "--topic", "{topic}"},
		exit: 1, out: []string{`Error while executing topic command : Topic '{topic}' already exists\.`},
		errOut: []string{`ERROR org\.apache\.kafka\.common\.errors\.TopicExistsException`},
	},
	{
		name:      "kafka-topics --describe",
		waitTopic: "{configured}", partitions: 1,
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--topic", "{configured}"},
		out: []string{
			`(?m)^Topic: {configured}\tTopicId: \S+\tPartitionCount: 1\tReplicationFactor: \d+\tConfigs: .*\bcleanup\.policy=compact\b`,
			`(?m)^Topic: {configured}\t.*\bretention\.ms=3600000\b`,
			`(?m)^\tTopic: {configured}\tPartition: 0\tLeader: \d+\tReplicas: [\d,]+\tIsr: [\d,]+\tElr: \tLastKnownElr: $`,
		},
	},
	{
		name:      "kafka-topics --alter --partitions",
		waitTopic: "{topic}", partitions: 3,
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--alter", "--topic", "{topic}", "--partitions", "4"},
		out: []string{`^$`},
	},
	{
		name:      "kafka-topics --describe after --alter",
		waitTopic: "{topic}", partitions: 4,
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--topic", "{topic}"},
		out: []string{`(?m)^Topic: {topic}\tTopicId: \S+\tPartitionCount: 4\tReplicationFactor: 1\t`},
	},
	{
		name: "kafka-topics --list",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--list"},
		out: []string{`(?m)^{topic}$`, `(?m)^{configured}$`},
	},
	{
		name: "kafka-console-producer",
		main: consoleProducer, args: []string{"--bootstrap-server", "{bootstrap}", "--topic", "{topic}",
			"--reader-property", "parse.key=true", "--reader-property", "key.separator=:"},
		stdin: "k1:v1\nk2:v2\nk3:v3\n",
		out:   []string{`^$`},
	},
	{
		name: "kafka-console-consumer --group",
		main: consoleConsumer, args: []string{"--bootstrap-server", "{bootstrap}", "--topic", "{topic}", "--group", "{group}",
			"--from-beginning", "--max-messages", "3", "--timeout-ms", "30000", "--formatter-property", "print.key=true"},
		out:    []string{`(?m)^k1\tv1$`, `(?m)^k2\tv2$`, `(?m)^k3\tv3$`},
		errOut: []string{`(?m)^Processed a total of 3 messages$`},
	},
	{
		name: "kafka-topics --create --config message.timestamp.type=LogAppendTime",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--create", "--topic", "{stamped}", "--partitions", "1", "--replication-factor", "1",
			"--config", "message.timestamp.type=LogAppendTime"},
		out: []string{`^Created topic {stamped}\.\n$`},
	},
	{
		name:      "kafka-console-producer to a LogAppendTime topic",
		waitTopic: "{stamped}", partitions: 1,
		main: consoleProducer, args: []string{"--bootstrap-server", "{bootstrap}", "--topic", "{stamped}", "--command-property", "compression.type=lz4"},
		stdin: "v\n",
		out:   []string{`^$`},
	},
	{
		// The broker stamps the batch and reseals its CRC, which the
		// consumer checks.
		name: "kafka-console-consumer of a LogAppendTime topic",
		main: consoleConsumer, args: []string{"--bootstrap-server", "{bootstrap}", "--topic", "{stamped}", "--from-beginning", "--max-messages", "1",
			"--timeout-ms", "30000", "--formatter-property", "print.timestamp=true"},
		out: []string{`(?m)^LogAppendTime:\d{13}\tv$`},
	},
	{
		name: "kafka-consumer-groups --list",
		main: consumerGroupsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--list"},
		out: []string{`(?m)^{group}$`},
	},
	{
		name: "kafka-consumer-groups --describe",
		main: consumerGroupsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--group", "{group}"},
		out:    []string{`(?m)^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$`},
		errOut: []string{`Consumer group '{group}' has no active members\.`},
		check:  groupOffsets(3, 0),
	},
	{
		name: "kafka-consumer-groups --reset-offsets --to-earliest --execute",
		main: consumerGroupsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--reset-offsets", "--group", "{group}",
			"--topic", "{topic}", "--to-earliest", "--execute"},
		out: []string{`(?m)^GROUP +TOPIC +PARTITION +NEW-OFFSET$`},
		check: func(r result, v vars) string {
			rows := groupRows(r.Out, v["group"])
			if len(rows) != 4 {
				return fmt.Sprintf("want 4 partitions reset, got %d", len(rows))
			}
			for _, row := range rows {
				if row[3] != "0" {
					return "partition " + row[2] + " reset to " + row[3] + ", want 0"
				}
			}
			return ""
		},
	},
	{
		name: "kafka-consumer-groups --describe after the reset",
		main: consumerGroupsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--group", "{group}"},
		check: groupOffsets(0, 3),
	},
	{
		name: "kafka-consumer-groups --delete",
		main: consumerGroupsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--delete", "--group", "{group}"},
		out: []string{`^Deletion of requested consumer groups \('{group}'\) was successful\.\n$`},
	},
	{
		name: "kafka-configs --describe",
		main: configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--entity-type", "topics", "--entity-name", "{configured}"},
		out: []string{
			`^Dynamic configs for topic {configured} are:\n`,
			`(?m)^  retention\.ms=3600000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention\.ms=3600000\b`,
			`(?m)^  cleanup\.policy=compact sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:cleanup\.policy=compact\b`,
		},
	},
	{
		name: "kafka-configs --alter --add-config",
		main: configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--alter", "--entity-type", "topics", "--entity-name", "{configured}",
			"--add-config", "retention.ms=7200000"},
		out: []string{`^Completed updating config for topic {configured}\.\n$`},
	},
	{
		name:  "kafka-configs --describe after --alter",
		retry: true,
		main:  configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--entity-type", "topics", "--entity-name", "{configured}"},
		out: []string{`(?m)^  retention\.ms=7200000 sensitive=false `},
	},
	{
		name: "kafka-log-dirs --describe",
		main: logDirsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--topic-list", "{topic}"},
		check: func(r result, v vars) string {
			// The last line is the JSON: every broker's replicas, so each
			// of the 4 partitions of a topic of replication factor 1 once.
			lines := strings.Split(strings.TrimSpace(r.Out), "\n")
			var dirs struct {
				Brokers []struct {
					LogDirs []struct {
						Partitions []struct{ Partition string }
					}
				}
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &dirs); err != nil {
				return "the last line is not JSON: " + err.Error()
			}
			seen := map[string]int{}
			for _, b := range dirs.Brokers {
				for _, d := range b.LogDirs {
					for _, p := range d.Partitions {
						seen[p.Partition]++
					}
				}
			}
			for p := range 4 {
				if n := seen[fmt.Sprintf("%s-%d", v["topic"], p)]; n != 1 {
					return fmt.Sprintf("partition %d listed by %d brokers; it has one replica", p, n)
				}
			}
			return ""
		},
	},
	// Every broker: each hosts replicas it does not lead ({configured} has
	// three), which find-hanging asks it about.
	findHanging("{broker0}"), findHanging("{broker1}"), findHanging("{broker2}"),
	{
		name: "kafka-configs --alter a client quota",
		main: configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--alter", "--entity-type", "users", "--entity-name", "{prefix}user",
			"--entity-type", "clients", "--entity-name", "{prefix}client", "--add-config", "producer_byte_rate=1048576"},
		out: []string{`^Completed updating config for user {prefix}user\.\n$`},
	},
	{
		name: "kafka-configs --alter the default client's quota",
		main: configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--alter", "--entity-type", "users", "--entity-name", "{prefix}user",
			"--entity-type", "clients", "--entity-default", "--add-config", "producer_byte_rate=2097152"},
		out: []string{`^Completed updating config for user {prefix}user\.\n$`},
	},
	{
		name:  "kafka-configs --describe client quotas",
		retry: true,
		main:  configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--entity-type", "users", "--entity-name", "{prefix}user", "--entity-type", "clients"},
		out: []string{
			`(?m)^Quota configs for user-principal '{prefix}user', client-id '{prefix}client' are producer_byte_rate=1048576\.0$`,
			`(?m)^Quota configs for user-principal '{prefix}user', the default client-id are producer_byte_rate=2097152\.0$`,
		},
	},
	{
		name: "kafka-configs --alter --delete-config a client quota",
		main: configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--alter", "--entity-type", "users", "--entity-name", "{prefix}user",
			"--entity-type", "clients", "--entity-name", "{prefix}client", "--delete-config", "producer_byte_rate"},
		out: []string{`^Completed updating config for user {prefix}user\.\n$`},
	},
	{
		name: "kafka-configs --alter --delete-config the default client's quota",
		main: configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--alter", "--entity-type", "users", "--entity-name", "{prefix}user",
			"--entity-type", "clients", "--entity-default", "--delete-config", "producer_byte_rate"},
		out: []string{`^Completed updating config for user {prefix}user\.\n$`},
	},
	{
		name:  "kafka-configs --describe client quotas after --delete-config",
		retry: true,
		main:  configsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--describe", "--entity-type", "users", "--entity-name", "{prefix}user", "--entity-type", "clients"},
		out: []string{`^$`},
	},
	{
		name: "kafka-broker-api-versions",
		main: apiVersionsTool, args: []string{"--bootstrap-server", "{bootstrap}"},
		check: func(r result, v vars) string {
			nodes := regexp.MustCompile(`(?m)^\S+ \(id: \d+ rack: (\S+) isFenced: false\) -> \($`).FindAllStringSubmatch(r.Out, -1)
			if len(nodes) != 3 {
				return "want 3 brokers listed"
			}
			for _, n := range nodes {
				if n[1] != "null" {
					return "a broker has rack " + n[1] + "; brokers have none unless configured"
				}
			}
			return ""
		},
	},
	{
		name: "kafka-topics --create for the perf tools",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--create", "--topic", "{perf}", "--partitions", "3", "--replication-factor", "1"},
		out: []string{`^Created topic {perf}\.\n$`},
	},
	{
		name:      "kafka-producer-perf-test",
		waitTopic: "{perf}", partitions: 3,
		main: producerPerf, args: []string{"--topic", "{perf}", "--num-records", "20000", "--record-size", "100", "--throughput", "-1",
			"--command-property", "bootstrap.servers={bootstrap}", "acks=all"},
		out: []string{`(?m)^20000 records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency`},
	},
	{
		name: "kafka-consumer-perf-test",
		main: consumerPerf, args: []string{"--bootstrap-server", "{bootstrap}", "--topic", "{perf}", "--num-records", "20000", "--timeout", "30000"},
		out: []string{`(?m)^start\.time, end\.time, data\.consumed\.in\.MB, MB\.sec, data\.consumed\.in\.nMsg, nMsg\.sec,`,
			`(?m)^[\d-]+ [\d:]+, [\d-]+ [\d:]+, 1\.9073, [\d.]+, 20000, `},
	},
	{
		name: "kafka-topics --delete",
		main: topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--delete", "--topic", "{prefix}.*"},
		out: []string{`^$`},
	},
	{
		name:  "kafka-topics --list after --delete",
		retry: true,
		main:  topicsTool, args: []string{"--bootstrap-server", "{bootstrap}", "--list"},
		check: func(r result, v vars) string {
			if strings.Contains(r.Out, v["prefix"]) {
				return "deleted topics still listed"
			}
			return ""
		},
	},
}

// findHanging is kafka-transactions find-hanging on one broker, limited to
// {configured}, whose three replicas per partition put on every broker
// replicas it does not lead: the tool asks the broker for the producers of
// its replicas (DescribeProducers), which any replica answers. Limited to
// the session's own topic because, across the whole shared real cluster,
// the tool fails or waits its full minute when a topic another test
// deletes vanishes while it runs.
func findHanging(broker string) step {
	return step{
		name:  "kafka-transactions find-hanging --broker-id " + broker,
		retry: true,
		main:  transactionsTool, args: []string{"--bootstrap-server", "{bootstrap}", "find-hanging", "--broker-id", broker, "--topic", "{configured}"},
		out: []string{`^Topic\tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\tStartOffset\tLastTimestamp\tDuration\(min\)\t\n$`},
	}
}

// TestKafkaTools runs the tools session on `ksuite up` and on Apache Kafka.
func TestKafkaTools(t *testing.T) {
	build(t)
	for _, c := range clusters(t) {
		t.Run(c.name, func(t *testing.T) {
			j := sharedJVM(t)
			prefix := "javacompat-" + testkit.RandomSuffix() + "-"
			brokers, err := c.testkit().Admin(t).ListBrokers(testkit.Context(t, 15*time.Second))
			if err != nil || len(brokers) != 3 {
				t.Fatalf("list brokers of %s: %d brokers, %v; the session needs 3", c.name, len(brokers), err)
			}
			v := vars{
				"broker0":    strconv.Itoa(int(brokers[0].NodeID)),
				"broker1":    strconv.Itoa(int(brokers[1].NodeID)),
				"broker2":    strconv.Itoa(int(brokers[2].NodeID)),
				"bootstrap":  c.bootstrap,
				"prefix":     prefix,
				"topic":      prefix + "orders",
				"configured": prefix + "configured",
				"perf":       prefix + "perf",
				"stamped":    prefix + "stamped",
				"group":      prefix + "group",
			}
			for _, s := range toolsSession {
				if !t.Run(s.name, func(t *testing.T) { runStep(t, j, c, s, v) }) {
					t.FailNow() // later commands depend on this one
				}
			}
		})
	}
}

func runStep(t *testing.T, j *jvm, c cluster, s step, v vars) {
	if s.waitTopic != "" {
		c.testkit().WaitTopic(t, v.expand([]string{s.waitTopic})[0], s.partitions)
	}
	req := request{Main: s.main, Args: v.expand(s.args), Stdin: s.stdin}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := j.run(t, req)
		problem := judge(s, r, v)
		if problem == "" {
			return
		}
		if !s.retry || time.Now().After(deadline) {
			t.Fatalf("%s %s\n%s\nexit %d\nstdout:\n%s\nstderr:\n%s", s.main, strings.Join(req.Args, " "), problem, r.Exit, r.Out, r.Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// judge returns what is wrong with r, or "".
func judge(s step, r result, v vars) string {
	if r.Exit != s.exit {
		return fmt.Sprintf("exit %d, want %d", r.Exit, s.exit)
	}
	for _, re := range s.out {
		if !regexp.MustCompile(v.expand([]string{re})[0]).MatchString(r.Out) {
			return "stdout does not match " + re
		}
	}
	for _, re := range s.errOut {
		if !regexp.MustCompile(v.expand([]string{re})[0]).MatchString(r.Err) {
			return "stderr does not match " + re
		}
	}
	if s.exit == 0 {
		// A command that succeeds logs no error: an exception on stderr with
		// exit 0 is what a script cannot see and a person must.
		if m := regexp.MustCompile(`(?m)^.*(\bERROR\b|Exception).*$`).FindString(r.Err); m != "" {
			return "stderr has an error: " + m
		}
	}
	if s.check != nil {
		return s.check(r, v)
	}
	return ""
}

// groupRows are the rows of a kafka-consumer-groups table for group, split
// into columns.
func groupRows(out, group string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == group {
			rows = append(rows, f)
		}
	}
	return rows
}

// groupOffsets checks a --describe table: 4 partitions, the committed
// offsets adding up to committed and the lags to lag. A partition with no
// records may have no committed offset ("-"): a consumer that stops after
// --max-messages may not have looked at it yet.
func groupOffsets(committed, lag int) func(r result, v vars) string {
	return func(r result, v vars) string {
		rows := groupRows(r.Out, v["group"])
		if len(rows) != 4 {
			return fmt.Sprintf("want 4 partitions described, got %d", len(rows))
		}
		var offsets, lags int
		for _, row := range rows {
			if len(row) < 6 {
				return "short row: " + strings.Join(row, " ")
			}
			if row[3] == "-" && row[4] == "0" {
				continue
			}
			off, err1 := strconv.Atoi(row[3])
			l, err2 := strconv.Atoi(row[5])
			if err1 != nil || err2 != nil {
				return "partition " + row[2] + " has records but no committed offset: " + strings.Join(row, " ")
			}
			offsets += off
			lags += l
		}
		if offsets != committed || lags != lag {
			return fmt.Sprintf("committed offsets add up to %d with lag %d; want %d and %d", offsets, lags, committed, lag)
		}
		return ""
	}
}

// TestKafkaToolsActiveGroups: kafka-consumer-groups on a group with a live
// member, on both rebalance protocols, as an operator looks after a running
// service: the offsets table and --members name the member's topic and host,
// and --delete-offsets removes the offsets of a topic the group no longer
// reads but refuses those of the topic it reads, as on Kafka. On upstream
// kfake a KIP-848 group's --describe failed (InvalidTopicException for an
// empty topic name, exit 0), --members showed ":0,1,2" and the client's port
// in HOST, and --delete-offsets of a KIP-848 group answered "The group is
// not empty" for every topic.
func TestKafkaToolsActiveGroups(t *testing.T) {
	build(t)
	for _, c := range clusters(t) {
		t.Run(c.name, func(t *testing.T) {
			j := sharedJVM(t)
			tk := c.testkit()
			topic, old := tk.CreateTopic(t, 3, 1), tk.CreateTopic(t, 1, 1)
			for _, p := range []struct {
				protocol string
				opts     []kgo.Opt
			}{
				{"classic", nil},
				{"consumer", []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.StickyBalancer())}},
			} {
				t.Run(p.protocol, func(t *testing.T) {
					group := topic + "-" + p.protocol
					adm := tk.Admin(t)
					// The group once read old: it has an offset there.
					var offsets kadm.Offsets
					offsets.Add(kadm.Offset{Topic: old, Partition: 0, At: 1, LeaderEpoch: -1})
					if err := adm.CommitAllOffsets(testkit.Context(t, 15*time.Second), group, offsets); err != nil {
						t.Fatal(err)
					}
					// A member joins on creation and heartbeats until closed.
					member := tk.Client(t, append([]kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic)}, p.opts...)...)
					t.Cleanup(func() {
						member.Close()
						_, _ = adm.DeleteGroup(context.Background(), group)
					})
					v := vars{"bootstrap": c.bootstrap, "topic": regexp.QuoteMeta(topic), "old": regexp.QuoteMeta(old), "group": regexp.QuoteMeta(group)}
					args := func(extra ...string) []string {
						return append([]string{"--bootstrap-server", "{bootstrap}", "--group", group}, extra...)
					}
					for _, s := range []step{
						{
							name: "--describe --members --verbose", retry: true, // until the member has its partitions
							main: consumerGroupsTool, args: args("--describe", "--members", "--verbose"),
							out: []string{`(?m)^{group} +\S+ +/127\.0\.0\.1 +\S+ +3 +\S+ +{topic}:0,1,2 `},
						},
						{
							name: "--describe",
							main: consumerGroupsTool, args: args("--describe"),
							check: func(r result, _ vars) string {
								rows := regexp.MustCompile(`(?m)^`+v["group"]+` +`+v["topic"]+` +[012] +\S+ +\d+ +\S+ +\S+ +/127\.0\.0\.1 +\S+$`).FindAllString(r.Out, -1)
								if len(rows) != 3 {
									return fmt.Sprintf("want 3 partitions with the member's host, got %d", len(rows))
								}
								return ""
							},
						},
						{
							name: "--delete-offsets of a topic the group no longer reads",
							main: consumerGroupsTool, args: args("--delete-offsets", "--topic", old),
							out: []string{`(?m)^Request succeeded for deleting offsets from group `, `(?m)^{old} +0 +Successful +$`},
						},
						{
							name: "--delete-offsets of the topic the group reads",
							main: consumerGroupsTool, args: args("--delete-offsets", "--topic", topic),
							out: []string{`(?m)^{topic} +0 +Error: org\.apache\.kafka\.common\.errors\.GroupSubscribedToTopicException: `},
						},
					} {
						t.Run(s.name, func(t *testing.T) { runStep(t, j, c, s, v) })
					}
				})
			}
		})
	}
}
