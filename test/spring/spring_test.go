package spring

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

var ksuiteBin string

// TestMain builds the ksuite binary the test runs as `ksuite up`.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ksuite-spring-")
	if err != nil {
		panic(err)
	}
	if ksuiteBin, err = testkit.BuildKsuite(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// TestSpringKafkaRoundTrip: the Spring Boot app starts (KafkaAdmin creates
// its topics from NewTopic beans and @RetryableTopic), sees the brokers with
// AdminClient.describeCluster, sends a record with KafkaTemplate that its
// @KafkaListener receives in a group, and runs what the team's services do:
// a batch listener, DefaultErrorHandler with DeadLetterPublishingRecoverer,
// @RetryableTopic with a @DltHandler, and transactions through a
// KafkaTransactionManager read back read_committed. Every part must report
// ok and nothing be logged at ERROR.
func TestSpringKafkaRoundTrip(t *testing.T) {
	for _, tool := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(testkit.EnvRequireKafka) == "1" {
				t.Fatalf("%s is not on PATH but %s=1: install a JDK 17 and Maven (scripts/test.sh does)", tool, testkit.EnvRequireKafka)
			}
			t.Skipf("%s is not on PATH: the Spring test needs a JDK and Maven", tool)
		}
	}
	jar := buildApp(t)
	clusters := []struct{ name, bootstrap string }{{"ksuite-up", testkit.StartUp(t, ksuiteBin)}}
	if real, ok := testkit.RealKafka(t); ok {
		clusters = append(clusters, struct{ name, bootstrap string }{"kafka", real.Bootstrap()})
	}
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			name := "ksuite-test.spring." + testkit.RandomSuffix()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "java", "-XX:TieredStopAtLevel=1", "-jar", jar,
				"--spring.kafka.bootstrap-servers="+c.bootstrap, "--app.topic="+name, "--app.group="+name).CombinedOutput()
			t.Cleanup(func() { deleteTopics(t, c.name, c.bootstrap, name) })
			log := string(out)
			if err != nil {
				t.Fatalf("the Spring app failed (%v):\n%s", err, log)
			}
			topic := regexp.QuoteMeta(name)
			for _, want := range []string{
				`ok describeCluster: cluster \S+ with 3 brokers`,
				`round trip ok: received hello from spring \d+ from ` + topic + `-\d@\d+`,
				`ok batch listener: 5 records`,
				`ok DefaultErrorHandler with DeadLetterPublishingRecoverer: the failed record reached ` + topic + `-failing-dlt`,
				`ok @RetryableTopic: attempts on \[` + topic + `-retryable, ` + topic + `-retryable-retry\], then the @DltHandler`,
				`ok KafkaTransactionManager: read_committed received \[committed-1, committed-2, committed-3\] and not the aborted record`,
			} {
				if !regexp.MustCompile(want).MatchString(log) {
					t.Fatalf("the Spring app's log has no line matching %s:\n%s", want, log)
				}
			}
			if m := regexp.MustCompile(`(?m)^.* ERROR .*$`).FindAllString(log, -1); len(m) > 0 {
				t.Fatalf("the Spring app logged errors:\n%s\n\nwhole log:\n%s", strings.Join(m, "\n"), log)
			}
		})
	}
}

// buildApp builds the app's jar with Maven and returns its path.
func buildApp(t *testing.T) string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("mvn", "-q", "-B", "package", "-DskipTests")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mvn package: %v\n%s", err, out)
	}
	t.Logf("mvn package took %s", time.Since(start).Round(100*time.Millisecond))
	jar, err := filepath.Abs("target/spring-check.jar")
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// deleteTopics deletes the topics the app made: name and those starting
// with "name-".
func deleteTopics(t *testing.T, cluster, bootstrap, name string) {
	adm := testkit.Cluster{Name: cluster, Brokers: strings.Split(bootstrap, ",")}.Admin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Errorf("listing the topics of %s to delete the app's: %v", cluster, err)
		return
	}
	var mine []string
	for _, topic := range topics.Names() {
		if topic == name || strings.HasPrefix(topic, name+"-") {
			mine = append(mine, topic)
		}
	}
	if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
		t.Errorf("deleting %v on %s: %v", mine, cluster, err)
	}
}
