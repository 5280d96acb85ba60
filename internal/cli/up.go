package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/expose"
	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/internal/stack"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/topics"
)

func (a *app) upCmd() *cobra.Command {
	var (
		emb          = embedded.DefaultConfig()
		inMemory     bool
		noAutoCreate bool
		topicsFiles  []string
		services     = stack.Services{Listen: suite.DefaultListen}
		noServices   bool
		exposeOpts   expose.Options
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
the data to disk, and exits 0 (1 when the data could not be saved; a second
Ctrl-C exits at once). With --brokers (or KSUITE_BROKERS, or a
profile) it uses that existing cluster instead of starting one.

--external-host HOST exposes the brokers to other machines: they listen on
--listen-address (default 0.0.0.0) and advertise HOST:9091..., over SASL_SSL
with SCRAM-SHA-512 and ACLs on. The first start creates a CA under
<data-dir>/tls (clients trust ca.pem) and the admin user's password
(KSUITE_ADMIN_PASSWORD, else generated into <data-dir>/admin.password), and
says where they are; the ready line then ends with security=SASL_SSL. See
docs/expose.md.`,
		Example: `  ksuite up
  ksuite up --in-memory --port-base 19091 --api-listen 127.0.0.1:19010
  ksuite up --db postgres://suite@localhost:5432/suite
  ksuite up --no-services
  ksuite up --racks a,b,c
  ksuite up --topics topics.yaml --data-dir /var/lib/ksuite
  ksuite up --brokers kafka-1:9092,kafka-2:9092 --sasl-mechanism SCRAM-SHA-512 --sasl-username app
  ksuite up --external-host kafka.dev.example.com
  ksuite up --external-host 203.0.113.7 --listen-address 10.0.0.5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("external-host") && exposeOpts.Host == "" {
				// --external-host "$HOST" with HOST unset must not quietly
				// start a cluster nobody else can reach.
				return errors.New("--external-host is empty: give the name or IP clients use to reach this machine (or drop the flag for a cluster on 127.0.0.1)")
			}
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
			switch {
			case inMemory:
				emb.DataDir = ""
			case emb.DataDir == "":
				return errors.New("--data-dir is empty: give a directory, or --in-memory for a cluster that keeps nothing")
			}
			emb.AutoCreateTopics = !noAutoCreate
			emb.Logger = a.log
			if exposeOpts.Host != "" && len(kcfg.Brokers) > 0 {
				return fmt.Errorf("--external-host exposes the embedded cluster: it does not go with --brokers %s", strings.Join(kcfg.Brokers, ","))
			}
			exposeOpts.DataDir, exposeOpts.Getenv, exposeOpts.Logger = emb.DataDir, a.io.Getenv, a.log
			exposed, err := expose.Prepare(exposeOpts)
			if err != nil {
				return err
			}
			if exposed != nil {
				emb.External = exposed.External
				if !exposed.External.Secure() {
					a.log.Warn("--insecure-plaintext: the brokers take PLAINTEXT without authentication or ACLs; anyone who reaches these ports can read and write every topic",
						"advertised", exposed.External.Host, "listen", exposed.External.Listen())
				}
			}
			cfg := stack.Config{
				Kafka:       kcfg,
				Embedded:    emb,
				TopicsFiles: files,
				TopicsLimits: topics.Limits{
					PartitionsPerTopic: emb.MaxPartitionsPerTopic,
					Partitions:         emb.MaxPartitions,
				},
				Logger: a.log,
			}
			if !noServices {
				cfg.Services = &services
			}
			s, err := stack.Start(cmd.Context(), cfg)
			if err != nil {
				return explainAdminLogin(err, exposed)
			}
			if exposed != nil && exposed.FirstStart {
				fmt.Fprint(a.io.Err, exposed.Notice(emb.PortBase, emb.Nodes))
				if err := exposed.NoticeShown(); err != nil {
					a.log.Warn("the next start will show the notice again", "err", err)
				}
			}
			if _, err := fmt.Fprintln(a.io.Out, s.ReadyLine()); err != nil {
				return errors.Join(err, s.Close())
			}
			select {
			case <-cmd.Context().Done():
			case <-s.Done():
				return errors.Join(s.Err(), s.Close())
			}
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
	f.StringSliceVar(&emb.Racks, "racks", nil, "brokers' racks (Kafka's broker.rack), one per broker in node order, e.g. a,b,c (default: none)")
	f.StringArrayVar(&topicsFiles, "topics", nil, "topics file or directory to apply at start (default ./topics.yaml if present; repeatable)")
	f.StringVar(&services.Listen, "api-listen", services.Listen, "address of the Suite services' API (port 0 picks a free one)")
	f.StringVar(&services.DB, "db", "", "the services' database: a postgres:// URL or a SQLite file (default suite.db beside --data-dir)")
	f.BoolVar(&noServices, "no-services", false, "run the cluster without the Suite services")
	f.StringVar(&exposeOpts.Host, "external-host", "", "expose the brokers: advertise HOST:PORT over SASL_SSL with SCRAM-SHA-512 and ACLs (docs/expose.md)")
	f.StringVar(&exposeOpts.ListenAddress, "listen-address", "", "with --external-host: the address the brokers bind (default 0.0.0.0)")
	f.BoolVar(&exposeOpts.Insecure, "insecure-plaintext", false, "with --external-host: PLAINTEXT without authentication or ACLs (warns on every start)")
	return cmd
}

// explainAdminLogin adds, to a start that failed because the admin could
// not log in, where the password came from.
func explainAdminLogin(err error, s *expose.Setup) error {
	var ce *kafka.ConnectError
	if s == nil || !s.External.Secure() || !errors.As(err, &ce) || !strings.Contains(ce.Cause, "SASL") {
		return err
	}
	if s.PasswordFromEnv {
		return fmt.Errorf("%w\nthe admin password from %s does not log in: it only sets the password on first start; use the one this cluster has", err, expose.PasswordEnv)
	}
	return fmt.Errorf("%w\nthe admin password in %s does not log in: if it was changed with ksuite users add admin, put the new one there (or set %s)", err, s.PasswordPath, expose.PasswordEnv)
}
