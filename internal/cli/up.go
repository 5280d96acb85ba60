package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/stack"
	"github.com/ksuite/ksuite/suite"
)

func (a *app) upCmd() *cobra.Command {
	var (
		emb          = embedded.DefaultConfig()
		inMemory     bool
		noAutoCreate bool
		topicsFiles  []string
		services     = stack.Services{Listen: suite.DefaultListen}
		noServices   bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the development platform: a 3-broker cluster with the declared topics and the Suite services",
		Long: `Up starts an embedded Kafka-compatible cluster (3 brokers on 127.0.0.1:9091-9093
by default, persisted under --data-dir), creates the topics declared in
topics.yaml, runs the Suite services (member and suite-room, see ksuite serve)
with their API on --api-listen, and prints one line on stdout when clients can
connect:

  ready bootstrap=127.0.0.1:9091,127.0.0.1:9092,127.0.0.1:9093 api=http://127.0.0.1:9010

The services keep their tables in suite.db beside the data directory
(./.ksuite/suite.db), in a temporary file with --in-memory, or in --db; topics
they need that no topics file declares are created. --no-services runs the
cluster alone (no api= field).

Logs go to stderr. Ctrl-C (SIGINT) or SIGTERM shuts down gracefully, flushing
the data to disk, and exits 0. With --brokers (or KSUITE_BROKERS, or a
profile) it uses that existing cluster instead of starting one.`,
		Example: `  ksuite up
  ksuite up --in-memory --port-base 19091 --api-listen 127.0.0.1:19010
  ksuite up --db postgres://suite@localhost:5432/suite
  ksuite up --no-services
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
			if inMemory {
				emb.DataDir = ""
			}
			emb.AutoCreateTopics = !noAutoCreate
			emb.Logger = a.log
			cfg := stack.Config{
				Kafka:       kcfg,
				Embedded:    emb,
				TopicsFiles: files,
				Logger:      a.log,
			}
			if !noServices {
				cfg.Services = &services
			}
			s, err := stack.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := fmt.Fprintln(a.io.Out, s.ReadyLine()); err != nil {
				return err
			}
			select {
			case <-cmd.Context().Done():
			case <-s.Done():
				return s.Err()
			}
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
	f.StringArrayVar(&topicsFiles, "topics", nil, "topics file or directory to apply at start (default ./topics.yaml if present; repeatable)")
	f.StringVar(&services.Listen, "api-listen", services.Listen, "address of the Suite services' API (port 0 picks a free one)")
	f.StringVar(&services.DB, "db", "", "the services' database: a postgres:// URL or a SQLite file (default suite.db beside --data-dir)")
	f.BoolVar(&noServices, "no-services", false, "run the cluster without the Suite services")
	return cmd
}
