package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/suite"
)

// localBrokers are the brokers of a `ksuite up` with its defaults, which
// serve and demo use when no cluster is named.
var localBrokers = []string{"127.0.0.1:9091", "127.0.0.1:9092", "127.0.0.1:9093"}

// servicesKafka resolves the connection flags, defaulting to a local up.
func (a *app) servicesKafka(cmd *cobra.Command) (kafka.Config, error) {
	cfg, err := a.kafkaConfig(cmd)
	if err != nil {
		return cfg, err
	}
	if len(cfg.Brokers) == 0 {
		cfg.Brokers = localBrokers
	}
	return cfg, nil
}

func (a *app) serveCmd() *cobra.Command {
	cfg := suite.Config{Listen: suite.DefaultListen}
	cmd := &cobra.Command{
		Use:   "serve [member|suiteroom]",
		Short: "Run the Suite services (member, suite-room, or both) against a Kafka cluster",
		Long: `Serve runs the Suite's services, the reference application built on package
event: the member service (sign-up, publishing signup-event through an outbox)
and the suite-room service (rooms and the join saga, consuming the payment,
contract, hall-of-fame and settlement services' events). Without an argument
both run; "member" or "suiteroom" runs one, with its own tables and consumer
groups. Their API, /metrics and /healthz listen on --api-listen. When ready it
prints one line on stdout:

  ready api=http://127.0.0.1:9010

Tables live in --db: a SQLite file (default ./.ksuite/suite.db) or a
postgres:// URL; migrations run at start. Without --brokers (or
KSUITE_BROKERS, or a profile) it uses a local ksuite up (127.0.0.1:9091-9093).
The topics must exist (ksuite topics apply, or ksuite up creates them).
Ctrl-C or SIGTERM stops it gracefully. See docs/services.md.`,
		Example: `  ksuite serve
  ksuite serve suiteroom --db postgres://suite:secret@db:5432/suite --brokers kafka-1:9092
  ksuite serve member --api-listen 0.0.0.0:9011`,
		Args:      serviceArgs,
		ValidArgs: []string{suite.Member, suite.SuiteRoom},
		RunE: func(cmd *cobra.Command, args []string) error {
			kcfg, err := a.servicesKafka(cmd)
			if err != nil {
				return err
			}
			cfg.Services = args
			if err := a.checkTopics(cmd.Context(), kcfg, cfg.TopicPrefix, args); err != nil {
				return err
			}
			if cfg.ClientOpts, err = kcfg.ClientOpts(); err != nil {
				return err
			}
			cfg.Logger = a.log
			srv, err := suite.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			if _, err := fmt.Fprintln(a.io.Out, "ready api="+srv.URL()); err != nil {
				return err
			}
			select {
			case <-cmd.Context().Done():
				a.log.Info("shutting down")
				return nil
			case <-srv.Done():
				return srv.Err()
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DB, "db", suite.DefaultDB, "database: a SQLite file or a postgres:// URL")
	f.StringVar(&cfg.Listen, "api-listen", cfg.Listen, "address of the API, /metrics and /healthz (port 0 picks a free one)")
	f.StringVar(&cfg.TopicPrefix, "topic-prefix", "", "put this before every topic and consumer group name (several developers on one shared cluster)")
	return cmd
}

// serviceArgs accepts one service name or none (both).
func serviceArgs(_ *cobra.Command, args []string) error {
	switch {
	case len(args) > 1:
		return fmt.Errorf("%s: give one service (member or suiteroom), or none to run both", strings.Join(args, " "))
	case len(args) == 1 && args[0] != suite.Member && args[0] != suite.SuiteRoom:
		return fmt.Errorf("unknown service %q: give member or suiteroom, or none to run both", args[0])
	}
	return nil
}

// checkTopics proves the cluster answers and warns about the services'
// topics that do not exist (a service would wait for them).
func (a *app) checkTopics(ctx context.Context, kcfg kafka.Config, prefix string, services []string) error {
	cl, err := kcfg.Connect(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, kcfg.Timeout)
	defer cancel()
	have, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		return kcfg.Explain(err)
	}
	var missing []string
	for _, t := range suite.Topics(services...) {
		if !have.Has(prefix + t) {
			missing = append(missing, prefix+t)
		}
	}
	if len(missing) > 0 {
		a.log.Warn("topics the services use do not exist; create them with `ksuite topics apply -f topics.yaml`",
			"topics", strings.Join(missing, ","))
	}
	return nil
}
