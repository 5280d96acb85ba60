package cli_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/cli"
	"github.com/ksuite/ksuite/internal/records"
	"github.com/ksuite/ksuite/internal/testkit"
)

// jsonLines decodes consume --output json.
func jsonLines(t *testing.T, out string) []records.JSONRecord {
	t.Helper()
	var recs []records.JSONRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r records.JSONRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q is not a JSON record: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 3, 1)
		b := "--brokers=" + c.Bootstrap()
		mustRun(t, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n", "produce", topic, b,
			"--key", "member-1", "--header", "source=cli", "--header", "trace=abc=def")

		r := mustRun(t, "", "consume", topic, b, "--from-beginning", "--count", "3", "--output", "json")
		recs := jsonLines(t, r.out)
		if len(recs) != 3 {
			t.Fatalf("got %d records, want 3:\n%s", len(recs), r.out)
		}
		for i, rec := range recs {
			if rec.Topic != topic || rec.Key == nil || *rec.Key != "member-1" {
				t.Errorf("record %d: topic %q key %v", i, rec.Topic, rec.Key)
			}
			if rec.Headers["source"] != "cli" || rec.Headers["trace"] != "abc=def" {
				t.Errorf("record %d headers %v", i, rec.Headers)
			}
			// One key, one partition: the order is the produce order.
			if want := `{"n":` + string(rune('1'+i)) + `}`; rec.Value == nil || *rec.Value != want {
				t.Errorf("record %d value %v, want %s", i, rec.Value, want)
			}
			if rec.Offset != int64(i) || rec.Timestamp.IsZero() {
				t.Errorf("record %d offset %d timestamp %s", i, rec.Offset, rec.Timestamp)
			}
		}

		// --value to a chosen partition (the keyed records above are in
		// another), read back by partition and offset as text. Two records,
		// so that each offset picks a different one.
		mustRun(t, "", "produce", topic, b, "--value", "first", "--partition", "2")
		mustRun(t, "", "produce", topic, b, "--value", "pinned", "--partition", "2")
		r = mustRun(t, "", "consume", topic, b, "--partition", "2", "--offset", "1", "--count", "1")
		if r.out != "pinned\n" {
			t.Fatalf("consume --partition 2 --offset 1 printed %q, want %q", r.out, "pinned\n")
		}
		// Negative offset counts back from the end.
		r = mustRun(t, "", "consume", topic, b, "--partition", "2", "--offset", "-2", "--count", "1")
		if r.out != "first\n" {
			t.Fatalf("consume --offset -2 printed %q, want %q", r.out, "first\n")
		}
		r = mustRun(t, "", "consume", topic, b, "--partition", "2", "--offset", "-1", "--count", "1")
		if r.out != "pinned\n" {
			t.Fatalf("consume --offset -1 printed %q, want %q", r.out, "pinned\n")
		}
	})
}

func TestConsumeGroupCommitsWhatWasPrinted(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 1)
		group := testkit.TopicName(t)
		b := "--brokers=" + c.Bootstrap()
		mustRun(t, "a\nb\nc\nd\n", "produce", topic, b)

		r := mustRun(t, "", "consume", topic, b, "--group", group, "--from-beginning", "--count", "2")
		if r.out != "a\nb\n" {
			t.Fatalf("first run printed %q", r.out)
		}
		// --from-beginning is ignored now: the group has a committed offset.
		r = mustRun(t, "", "consume", topic, b, "--group", group, "--from-beginning", "--count", "2")
		if r.out != "c\nd\n" {
			t.Fatalf("second run printed %q, want the records after the committed offset", r.out)
		}
		offsets, err := c.Admin(t).FetchOffsets(testkit.Context(t, 10*time.Second), group)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := offsets.Lookup(topic, 0); !ok || o.At != 4 {
			t.Fatalf("committed offset %+v, want 4", o)
		}
	})
}

// TestConsumeGroupPastTheEnd: a group whose committed offset is past the
// partition's end (records lost, e.g. after up --repair) warns that records
// were lost and goes on from where the log now ends, as a Kafka consumer
// does after log truncation: it is not stuck failing for ever.
func TestConsumeGroupPastTheEnd(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 1)
		group := testkit.TopicName(t)
		b := "--brokers=" + c.Bootstrap()
		mustRun(t, "a\nb\nc\n", "produce", topic, b)
		// Committed by a consumer that read at leader epoch 0, as the
		// group's own commits before the records were lost.
		var past kadm.Offsets
		past.Add(kadm.Offset{Topic: topic, Partition: 0, At: 100, LeaderEpoch: 0})
		if err := c.Admin(t).CommitAllOffsets(testkit.Context(t, 10*time.Second), group, past); err != nil {
			t.Fatal(err)
		}
		out, errOut, done := &syncBuffer{}, &syncBuffer{}, make(chan int, 1)
		go func() {
			done <- cli.Run(testkit.Context(t, time.Minute), []string{"consume", topic, b, "--group", group, "--count", "1"},
				cli.IO{In: strings.NewReader(""), Out: out, Err: errOut, Getenv: func(string) string { return "" }})
		}()
		testkit.Eventually(t, 20*time.Second, "consume warns of the lost records", func() bool {
			return strings.Contains(errOut.String(), "lost records")
		})
		mustRun(t, "d\n", "produce", topic, b)
		select {
		case code := <-done:
			if code != 0 || out.String() != "d\n" {
				t.Fatalf("exit %d, printed %q, want 0 and the new record; stderr: %s", code, out, errOut)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("consume did not print the new record; stderr: %s", errOut)
		}
		offsets, err := c.Admin(t).FetchOffsets(testkit.Context(t, 10*time.Second), group)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := offsets.Lookup(topic, 0); !ok || o.At != 4 {
			t.Fatalf("committed offset %+v, want 4", o)
		}
	})
}

func TestConsumeSince(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		topic := c.CreateTopic(t, 1, 1)
		b := "--brokers=" + c.Bootstrap()
		// A record stamped an hour ago comes first: --since 10m must skip it,
		// where reading from the beginning would print it.
		old := &kgo.Record{Topic: topic, Value: []byte("old"), Timestamp: time.Now().Add(-time.Hour)}
		if err := c.Client(t).ProduceSync(testkit.Context(t, 30*time.Second), old).FirstErr(); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "recent\n", "produce", topic, b)
		r := mustRun(t, "", "consume", topic, b, "--since", "10m", "--count", "1")
		if r.out != "recent\n" {
			t.Fatalf("--since 10m printed %q, want only the recent record", r.out)
		}
	})
}

func TestRecordsBadInput(t *testing.T) {
	c := testkit.NewFake(t)
	topic := c.CreateTopic(t, 1, 1)
	b := "--brokers=" + c.Bootstrap()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"header without =", []string{"produce", topic, b, "--value", "x", "--header", "novalue"}, `header "novalue" is not key=value`},
		{"missing topic", []string{"consume", "no-such-topic", b, "--from-beginning"}, `topic "no-such-topic" does not exist`},
		{"partition out of range", []string{"consume", topic, b, "--partition", "5"}, "--partition 5 does not exist"},
		{"offset with group", []string{"consume", topic, b, "--group", "g", "--offset", "3"}, "--offset cannot be used with --group"},
		{"two starts", []string{"consume", topic, b, "--from-beginning", "--since", "1m"}, "give one"},
		{"bad output", []string{"consume", topic, b, "--output", "yaml"}, `--output "yaml"`},
		{"no brokers", []string{"consume", topic}, "no brokers"},
		{"no topic", []string{"produce"}, "ksuite produce takes exactly one TOPIC, got 0 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runStdin(t, "", nil, tt.args...)
			if r.code != 1 || !strings.Contains(r.errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 and %q", r.code, r.errOut, tt.want)
			}
		})
	}
}

func TestBrokersFromEnv(t *testing.T) {
	c := testkit.NewFake(t)
	topic := c.CreateTopic(t, 1, 1)
	env := map[string]string{"KSUITE_BROKERS": c.Bootstrap()}
	if r := runStdin(t, "", env, "produce", topic, "--value", "via-env"); r.code != 0 {
		t.Fatalf("produce: exit %d %s", r.code, r.errOut)
	}
	r := runStdin(t, "", env, "consume", topic, "--from-beginning", "--count", "1")
	if r.code != 0 || r.out != "via-env\n" {
		t.Fatalf("consume: exit %d out %q err %s", r.code, r.out, r.errOut)
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	start := time.Now()
	r := runStdin(t, "", nil, "consume", "t", "--brokers", "127.0.0.1:1", "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.errOut, "cannot connect to Kafka at 127.0.0.1:1: connection refused") {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	if strings.Count(strings.TrimSpace(r.errOut), "\n") != 0 {
		t.Fatalf("want one line, got %q", r.errOut)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s with --timeout 2s", time.Since(start))
	}
}
