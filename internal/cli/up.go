package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/stack"
	"github.com/ksuite/ksuite/topics"
)

func (a *app) upCmd() *cobra.Command {
	var (
		emb          = embedded.DefaultConfig()
		inMemory     bool
		noAutoCreate bool
		topicsFiles  []string
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the development platform: a 3-broker cluster with the declared topics",
		Long: `Up starts an embedded Kafka-compatible cluster (3 brokers on 127.0.0.1:9091-9093
by default, persisted under --data-dir), creates the topics declared in
topics.yaml, and prints one line on stdout when clients can connect:

  ready bootstrap=127.0.0.1:9091,127.0.0.1:9092,127.0.0.1:9093

Logs go to stderr. Ctrl-C (SIGINT) or SIGTERM shuts down gracefully, flushing
the data to disk, and exits 0. With --brokers (or KSUITE_BROKERS, or a
profile) it uses that existing cluster instead of starting one.`,
		Example: `  ksuite up
  ksuite up --in-memory --port-base 19091
  ksuite up --topics topics.yaml --data-dir /var/lib/ksuite
  ksuite up --brokers kafka-1:9092,kafka-2:9092 --sasl-mechanism SCRAM-SHA-512 --sasl-username app`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kcfg, err := a.kafkaConfig(cmd)
			if err != nil {
				return err
			}
			files, err := stack.TopicsFiles(topicsFiles)
			if err != nil {
				return err
			}
			switch {
			case inMemory:
				emb.DataDir = ""
			case emb.DataDir == "":
				return errors.New("--data-dir is empty: give a directory, or --in-memory for a cluster that keeps nothing")
			}
			emb.AutoCreateTopics = !noAutoCreate
			emb.Logger = a.log
			s, err := stack.Start(cmd.Context(), stack.Config{
				Kafka:       kcfg,
				Embedded:    emb,
				TopicsFiles: files,
				TopicsLimits: topics.Limits{
					PartitionsPerTopic: emb.MaxPartitionsPerTopic,
					Partitions:         emb.MaxPartitions,
				},
				Logger: a.log,
			})
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(a.io.Out, s.ReadyLine()); err != nil {
				return errors.Join(err, s.Close())
			}
			<-cmd.Context().Done()
			a.log.Info("shutting down")
			if err := s.Close(); err != nil {
				return fmt.Errorf("shutting down: %w: records, offsets or topics acknowledged since the last sync may be lost", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&emb.PortBase, "port-base", emb.PortBase, "first broker port; brokers listen on N, N+1, N+2, ...")
	f.IntVar(&emb.Nodes, "nodes", emb.Nodes, "number of embedded brokers")
	f.StringVar(&emb.DataDir, "data-dir", emb.DataDir, "where the embedded cluster persists topics, records and offsets")
	f.BoolVar(&inMemory, "in-memory", false, "keep nothing on disk (a throwaway cluster)")
	f.BoolVar(&noAutoCreate, "no-auto-create-topics", false, "do not create topics on first use (Kafka's auto.create.topics.enable=false)")
	addLimitFlags(cmd, &emb.MaxPartitionsPerTopic, &emb.MaxPartitions, emb.MaxPartitionsPerTopic, emb.MaxPartitions)
	f.BoolVar(&emb.SyncWrites, "sync-writes", false, "fsync every produced batch before acknowledging it: survive an OS crash or power loss, at a cost in throughput")
	f.BoolVar(&emb.Repair, "repair", false, "start from a damaged data directory: rebuild what its segment files hold and report what was lost")
	f.StringArrayVar(&topicsFiles, "topics", nil, "topics file or directory to apply at start (default ./topics.yaml if present; repeatable)")
	return cmd
}
