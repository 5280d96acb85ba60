package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/stack"
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
  ksuite up --racks a,b,c
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
			if len(kcfg.Brokers) > 0 && cmd.Flags().Changed("racks") {
				return fmt.Errorf("--racks sets the embedded brokers' racks; with --brokers the existing cluster's brokers keep their own broker.rack: drop --racks")
			}
			if inMemory {
				emb.DataDir = ""
			}
			emb.AutoCreateTopics = !noAutoCreate
			emb.Logger = a.log
			s, err := stack.Start(cmd.Context(), stack.Config{
				Kafka:       kcfg,
				Embedded:    emb,
				TopicsFiles: files,
				Logger:      a.log,
			})
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := fmt.Fprintln(a.io.Out, s.ReadyLine()); err != nil {
				return err
			}
			<-cmd.Context().Done()
			a.log.Info("shutting down")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&emb.PortBase, "port-base", emb.PortBase, "first broker port; brokers listen on N, N+1, N+2, ...")
	f.IntVar(&emb.Nodes, "nodes", emb.Nodes, "number of embedded brokers")
	f.StringVar(&emb.DataDir, "data-dir", emb.DataDir, "where the embedded cluster persists topics, records and offsets")
	f.BoolVar(&inMemory, "in-memory", false, "keep nothing on disk (a throwaway cluster)")
	f.BoolVar(&noAutoCreate, "no-auto-create-topics", false, "do not create topics on first use (Kafka's auto.create.topics.enable=false)")
	f.StringSliceVar(&emb.Racks, "racks", nil, "brokers' racks (Kafka's broker.rack), one per broker in node order, e.g. a,b,c (default: none)")
	f.StringArrayVar(&topicsFiles, "topics", nil, "topics file or directory to apply at start (default ./topics.yaml if present; repeatable)")
	return cmd
}
