package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/internal/records"
)

func (a *app) produceCmd() *cobra.Command {
	var (
		o         records.ProduceOptions
		key       string
		value     string
		headers   []string
		partition int32
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Send records to a topic: one per stdin line, or --value",
		Long: `Produce sends one record per line of standard input (or exactly one with
--value) and waits until the brokers acknowledged every record.

Every wait is bounded by --timeout: when the cluster acknowledges nothing for
that long, or Ctrl-C (SIGINT/SIGTERM) leaves records unanswered that long,
produce stops and reports how many records were acknowledged and how many
were not, and exits 1. A record that fails is reported by its line number;
lines sent before it may or may not have been acknowledged (the count says
how many were). A second Ctrl-C exits at once.`,
		Example: `  echo '{"memberId":"m-1"}' | ksuite produce signup-event --key m-1 --header source=cli
  ksuite produce signup-event --value '{"memberId":"m-2"}' --partition 0
  printf 'm-1:{"a":1}\nm-2:{"a":2}\n' | ksuite produce signup-event --key-delimiter :`,
		Args: topicArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Topic = args[0]
			if cmd.Flags().Changed("key") {
				o.Key = &key
			}
			if cmd.Flags().Changed("value") {
				o.Value = &value
			}
			var err error
			if o.Partition, err = partitionFlag(cmd, partition); err != nil {
				return err
			}
			for _, h := range headers {
				hdr, err := records.ParseHeader(h)
				if err != nil {
					return err
				}
				o.Headers = append(o.Headers, hdr)
			}
			cfg, err := a.kafkaConfig(cmd)
			if err != nil {
				return err
			}
			extra := append(o.ClientOpts(),
				kgo.RecordDeliveryTimeout(cfg.Timeout),
				// A few quick tries, so that a record that keeps failing
				// fails with the broker's reason (e.g. KAFKA_STORAGE_ERROR)
				// rather than a bare timeout.
				kgo.RecordRetries(produceTries),
				kgo.MetadataMinAge(250*time.Millisecond),
				// As Kafka's console producer: the broker decides (auto.create.topics.enable).
				kgo.AllowAutoTopicCreation(),
			)
			cl, err := cfg.Connect(cmd.Context(), extra...)
			if err != nil {
				return err
			}
			// Produce has had every record answered, or given up on it:
			// closing only releases connections (see closeGrace).
			defer closeWithin(cl, closeGrace)
			res, err := records.Produce(cmd.Context(), cl, o, a.io.In, cfg.Timeout)
			if err != nil {
				return fmt.Errorf("%w; %d of %d record(s) acknowledged, %d not", explainProduce(cfg, o.Topic, err), res.Acked, res.Sent, res.NotAcked())
			}
			a.log.Info("produced", "records", res.Acked, "topic", o.Topic)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&key, "key", "k", "", "key of every record")
	f.StringVar(&o.KeyDelimiter, "key-delimiter", "", "split each line into key and value at this delimiter (kcat -K)")
	f.StringVar(&value, "value", "", "send one record with this value instead of reading stdin")
	f.StringArrayVarP(&headers, "header", "H", nil, "header name=value (repeatable)")
	f.Int32VarP(&partition, "partition", "p", 0, "send to this partition (default: by key hash)")
	return cmd
}

func (a *app) consumeCmd() *cobra.Command {
	var (
		o         records.ConsumeOptions
		offset    int64
		partition int32
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records from a topic, as text or JSON lines",
		Long: `Consume prints each record's value on its own line, or with --output json one
object per line with topic, partition, offset, timestamp, key, headers and value.

Without a start flag it prints new records only. With --group it consumes as a
member of that consumer group, as kafka-console-consumer does: --from-beginning
and --since apply only while the group has no committed offset, and what was
printed is committed before exit. It runs until --count records were printed
or it is interrupted (Ctrl-C or SIGTERM), and exits 0 in both cases; with a
group it then commits what was printed and leaves the group within --timeout.
When no broker can be reached for --timeout it says so and exits 1. A second
Ctrl-C exits at once.`,
		Example: `  ksuite consume signup-event --from-beginning --count 10
  ksuite consume signup-event --since 10m --output json | jq .value
  ksuite consume signup-event --group audit --from-beginning
  ksuite consume signup-event --partition 2 --offset -5`,
		Args: topicArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Topic = args[0]
			if cmd.Flags().Changed("offset") {
				o.Offset = &offset
			}
			var err error
			if o.Partition, err = partitionFlag(cmd, partition); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			cfg, err := a.kafkaConfig(cmd)
			if err != nil {
				return err
			}
			o.Timeout, o.Logger = cfg.Timeout, a.log
			cl, err := cfg.Connect(cmd.Context(), o.ClientOpts()...)
			if err != nil {
				return err
			}
			// Consume has committed and left the group (or given up on
			// it within --timeout): closing only releases connections,
			// and a cluster that stopped answering must not add another
			// --timeout to the exit.
			defer closeWithin(cl, closeGrace)
			if err := checkTopic(cmd, cfg, cl, o); err != nil {
				return err
			}
			_, err = records.Consume(cmd.Context(), cl, o, a.io.Out)
			var commitErr *records.CommitError
			switch {
			case errors.As(err, &commitErr):
				return &records.CommitError{Group: commitErr.Group, Err: cfg.Explain(commitErr.Err)}
			case errors.Is(err, records.ErrConnectionLost):
				return err
			}
			return cfg.Explain(err)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.FromBeginning, "from-beginning", false, "start at the earliest record")
	f.Int64VarP(&offset, "offset", "o", 0, "start at this offset in every partition; negative counts back from the end")
	f.DurationVar(&o.Since, "since", 0, "start at records at most this old, e.g. 10m or 2h")
	f.Int32VarP(&partition, "partition", "p", 0, "read only this partition")
	f.StringVarP(&o.Group, "group", "g", "", "consume as a member of this consumer group and commit what was printed")
	f.IntVarP(&o.Count, "count", "c", 0, "exit after this many records")
	f.StringVar(&o.Output, "output", records.OutputText, "text (values) or json (one object per line)")
	return cmd
}

// produceTries bounds the tries of one record, see produceCmd.
const produceTries = 5

// closeGrace bounds closing the client at the end of produce and consume,
// once their own work is done or given up within --timeout: a cluster that
// stopped answering must not add another --timeout to the exit.
const closeGrace = time.Second

// explainProduce names what a user can act on in a produce failure.
func explainProduce(cfg kafka.Config, topic string, err error) error {
	switch {
	case errors.Is(err, kerr.KafkaStorageError):
		return fmt.Errorf("%w: the broker reported a storage error: it could not write the records to its disk (full, or not writable?); its log says why", err)
	case errors.Is(err, kerr.PolicyViolation):
		// A produce request is never refused by policy: the metadata
		// request that auto-creates the topic was, and its answer has no
		// room for the reason.
		return fmt.Errorf("%w: the cluster refused to create topic %q: ksuite up refuses a topic past --max-partitions-per-topic or a cluster past --max-partitions (Kafka: its create.topic.policy); create the topic with ksuite topics apply or raise the bound", err, topic)
	}
	return cfg.Explain(err)
}

// closeWithin closes cl, giving up after d: closing waits for requests
// in flight, and a broker that stopped answering must not hold the exit.
func closeWithin(cl *kgo.Client, d time.Duration) {
	done := make(chan struct{})
	go func() {
		cl.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// checkTopic fails fast, naming the topic, when it does not exist or lacks
// the partition asked for: a consumer would otherwise wait silently.
func checkTopic(cmd *cobra.Command, cfg kafka.Config, cl *kgo.Client, o records.ConsumeOptions) error {
	topics, err := kadm.NewClient(cl).ListTopics(cmd.Context(), o.Topic)
	if err != nil {
		return cfg.Explain(err)
	}
	td, ok := topics[o.Topic]
	if !ok || td.Err != nil {
		return fmt.Errorf("topic %q does not exist: check the name (ksuite topics plan shows what is declared)", o.Topic)
	}
	if o.Partition >= 0 && int(o.Partition) >= len(td.Partitions) {
		return fmt.Errorf("topic %q has %d partitions: --partition %d does not exist", o.Topic, len(td.Partitions), o.Partition)
	}
	if o.Offset != nil && *o.Offset > 0 {
		return checkOffsetInRange(cmd, cfg, cl, o)
	}
	return nil
}

// checkOffsetInRange refuses --offset past a partition's end: Kafka would
// answer OFFSET_OUT_OF_RANGE and the consumer would wait silently for
// records that may never come.
func checkOffsetInRange(cmd *cobra.Command, cfg kafka.Config, cl *kgo.Client, o records.ConsumeOptions) error {
	ends, err := kadm.NewClient(cl).ListEndOffsets(cmd.Context(), o.Topic)
	if err != nil {
		return cfg.Explain(err)
	}
	var past []string
	ends.Each(func(e kadm.ListedOffset) {
		if (o.Partition < 0 || e.Partition == o.Partition) && e.Err == nil && *o.Offset > e.Offset {
			past = append(past, fmt.Sprintf("partition %d ends at offset %d", e.Partition, e.Offset))
		}
	})
	if len(past) == 0 {
		return nil
	}
	sort.Strings(past)
	return fmt.Errorf("--offset %d is past the end of topic %q (%s): the next record gets the end offset; use --offset -N for the last N records", *o.Offset, o.Topic, strings.Join(past, ", "))
}

// partitionFlag is --partition: -1 (any) when not given, an error when negative.
func partitionFlag(cmd *cobra.Command, partition int32) (int32, error) {
	if !cmd.Flags().Changed("partition") {
		return -1, nil
	}
	if partition < 0 {
		return 0, fmt.Errorf("--partition %d: must be 0 or more", partition)
	}
	return partition, nil
}

// topicArg requires exactly one argument, the topic, and says so.
func topicArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s takes exactly one TOPIC, got %d arguments: %s", cmd.CommandPath(), len(args), cmd.UseLine())
	}
	return nil
}
