// Package cli wires ksuite's cobra commands to the feature packages. Each
// command parses flags, resolves the shared connection config and calls one
// feature package; it holds no Kafka logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/kafka"
)

// Version is the ksuite version, set at build time with
// -ldflags "-X github.com/ksuite/ksuite/internal/cli.Version=v1.2.3".
var Version = "dev"

// ExitError carries a specific exit code out of a command. Any other error
// exits 1.
type ExitError struct {
	Code int
	Err  error // may be nil: the command already printed what it had to say
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// IO is where a command reads and writes; tests swap it.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
}

// app is the state every command shares.
type app struct {
	io  IO
	log *slog.Logger
}

// Main runs ksuite with args and returns the process exit code. SIGINT and
// SIGTERM cancel the command's context, so that it ends cleanly; a second
// one ends the process at once with 128+signal, as the default action
// would. It is handled here rather than by restoring the default: a shell
// starts background jobs with SIGINT ignored, and restoring that would
// ignore the second Ctrl-C too.
func Main(args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		<-signals
		cancel()
		sig := <-signals
		fmt.Fprintf(os.Stderr, "ksuite: %s again: exiting at once\n", sig)
		code := 1
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		os.Exit(code)
	}()
	return Run(ctx, args, IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv})
}

// Run is Main with explicit context and IO, for tests.
func Run(ctx context.Context, args []string, stdio IO) int {
	root := New(stdio)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(stdio.Err, "ksuite:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(stdio.Err, "ksuite:", err)
	return 1
}

// New builds the command tree.
func New(stdio IO) *cobra.Command {
	a := &app{io: stdio, log: slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	root := &cobra.Command{
		Use:   "ksuite",
		Short: "The Kafka platform of an event-driven product, in one binary",
		Long: `ksuite runs an embedded 3-broker Kafka-compatible cluster for development,
keeps topics as code, and gives developers kcat-like produce and consume
commands. Every command that talks to Kafka takes the same connection flags,
KSUITE_* environment variables, or a profile from ksuite.yaml.`,
		Example: `  # start the embedded cluster with the topics from ./topics.yaml
  ksuite up

  # send and read records
  echo '{"hello":"world"}' | ksuite produce signup-event --key member-1
  ksuite consume signup-event --from-beginning --count 1 --output json

  # talk to another cluster
  ksuite --profile prod consume signup-event --since 10m`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	kafka.AddFlags(root.PersistentFlags())
	root.AddCommand(
		a.versionCmd(),
		a.upCmd(),
		a.produceCmd(),
		a.consumeCmd(),
		a.topicsCmd(),
		a.usersCmd(),
		a.profileCmd(),
		a.doctorCmd(),
		a.serveCmd(),
		a.demoCmd(),
		a.outboxCmd(),
	)
	return root
}

// kafkaConfig resolves the connection settings for cmd. A SASL user
// without a password (a profile from `ksuite profile export` keeps none)
// is asked for it on a terminal.
func (a *app) kafkaConfig(cmd *cobra.Command) (kafka.Config, error) {
	cfg, err := kafka.Resolve(cmd.Flags(), a.io.Getenv)
	if err != nil || len(cfg.Brokers) == 0 || cfg.SASL.Mechanism == "" || cfg.SASL.Password != "" {
		return cfg, err
	}
	if !isTerminal(a.io.In) {
		return cfg, fmt.Errorf("no password for SASL user %s: set %s (or run on a terminal to be asked)", cfg.SASL.Username, kafka.EnvName(kafka.FlagSASLPassword))
	}
	if cfg.SASL.Password, err = a.readSecret(fmt.Sprintf("Password for %s: ", cfg.SASL.Username)); err != nil {
		return cfg, fmt.Errorf("reading the password: %w", err)
	}
	return cfg, nil
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the ksuite version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.io.Out, "ksuite", Version)
			return err
		},
	}
}
