package javacompat

import (
	"strings"
	"testing"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestKafkaClients runs java/ClientCheck.java, a program written against
// kafka-clients as a Java service would use it, on `ksuite up` and on
// Apache Kafka: every check it makes must pass on both.
func TestKafkaClients(t *testing.T) {
	build(t)
	want := []string{
		"ok createTopics with and without configs; the result's configs carry their sources",
		"ok describeTopics: 3 partitions with leader, ISR and ELR lists",
		"ok describeConfigs: retention.ms=3600000 from DYNAMIC_TOPIC_CONFIG",
		"ok incrementalAlterConfigs: retention.ms=7200000",
		"ok deleteRecords: low watermark 4",
		"ok listOffsets: earliest 4, latest 10, max-timestamp within",
		"ok transactions: read_committed sees the 6 committed records and none of the 3 aborted",
		"ok consumer group (group.protocol=classic): 30 records from 3 partitions committed; a new member resumed with 3",
		"ok consumer group (group.protocol=consumer): 30 records from 3 partitions committed; a new member resumed with 3",
		"ok listGroups: both groups, with and without the consumer-group type filter",
	}
	for _, c := range clusters(t) {
		t.Run(c.name, func(t *testing.T) {
			j := sharedJVM(t)
			prefix := "javacompat-" + testkit.RandomSuffix() + "-"
			t.Cleanup(func() { deletePrefixed(t, j, c, prefix) })
			r := j.run(t, request{Main: "ClientCheck", Args: []string{c.bootstrap, prefix}})
			if got := strings.TrimSpace(r.Out); r.Exit != 0 || got != strings.Join(want, "\n") {
				t.Fatalf("ClientCheck exit %d\nstdout:\n%s\nstderr:\n%s", r.Exit, r.Out, r.Err)
			}
			for _, line := range strings.Split(r.Err, "\n") {
				if strings.Contains(line, " ERROR ") {
					t.Errorf("ClientCheck logged an error: %s", line)
				}
			}
		})
	}
}

// deletePrefixed deletes the topics a test made on the shared cluster.
func deletePrefixed(t *testing.T, j *jvm, c cluster, prefix string) {
	r := j.run(t, request{Main: topicsTool, Args: []string{"--bootstrap-server", c.bootstrap, "--delete", "--if-exists", "--topic", prefix + ".*"}})
	if r.Exit != 0 {
		t.Errorf("deleting %s* on %s: exit %d: %s%s", prefix, c.name, r.Exit, r.Out, r.Err)
	}
}
