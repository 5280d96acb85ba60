// Package stack is what `ksuite up` runs: a Kafka cluster (the embedded one,
// or an existing one named by --brokers), on it the topics declared in
// topics.yaml, and the Suite services with their API. Later parts of the
// platform (the console) join the stack here, each adding its address to
// the ready line.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/topics"
)

// DefaultTopicsFile is applied at start when it exists and --topics is not given.
const DefaultTopicsFile = "topics.yaml"

// Config configures [Start].
type Config struct {
	// Kafka names an existing cluster; with no brokers the embedded cluster
	// is started from Embedded.
	Kafka kafka.Config
	// Embedded configures the embedded cluster.
	Embedded embedded.Config
	// TopicsFiles are applied at start; empty applies nothing.
	TopicsFiles []string
	// TopicsLimits bounds the partitions the topics files may declare.
	TopicsLimits topics.Limits
	// Services runs the Suite services on the cluster; nil runs none.
	Services *Services
	// Logger receives progress; never nil after setDefaults.
	Logger *slog.Logger
}

// Stack is a running `ksuite up`.
type Stack struct {
	cfg      Config
	cluster  *embedded.Cluster // nil when an existing cluster is used
	brokers  []string
	services *suite.Server // nil without services
	tempDirs []string      // removed by Close
}

// Start brings the stack up and returns once clients can use it.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{cfg: cfg}
	if len(cfg.Kafka.Brokers) > 0 {
		cl, err := cfg.Kafka.Connect(ctx)
		if err != nil {
			return nil, err
		}
		cl.Close()
		s.brokers = cfg.Kafka.Brokers
		cfg.Logger.Info("using existing cluster", "cluster", cfg.Kafka.String())
	} else {
		cluster, err := embedded.Start(ctx, cfg.Embedded)
		if err != nil {
			return nil, err
		}
		s.cluster = cluster
		s.brokers = cluster.Bootstrap()
		// The stack's own clients reach the brokers where they listen,
		// whatever they advertise.
		s.cfg.Kafka = cluster.ClientConfig()
		s.cfg.Kafka.Timeout = cfg.Kafka.Timeout
		where := "in memory"
		if cfg.Embedded.DataDir != "" {
			where = cfg.Embedded.DataDir
		}
		for _, line := range cluster.RepairReport() {
			cfg.Logger.Warn(line, "component", "repair")
		}
		cfg.Logger.Info("embedded cluster started", "brokers", len(s.brokers), "data", where)
	}
	if err := s.applyTopics(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if cfg.Services != nil {
		if err := s.startServices(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// ReadyLine is the single line `ksuite up` prints on stdout when ready. An
// exposed embedded cluster adds its listener's security protocol.
func (s *Stack) ReadyLine() string {
	line := "ready bootstrap=" + strings.Join(s.brokers, ",")
	if x := s.cfg.Embedded.External; s.cluster != nil && x != nil {
		if x.Secure() {
			line += " security=SASL_SSL"
		} else {
			line += " security=PLAINTEXT"
		}
	}
	if s.services != nil {
		line += " api=" + s.services.URL()
	}
	return line
}

// Done is closed when a part of the stack fails for good; Err says why.
func (s *Stack) Done() <-chan struct{} {
	if s.services == nil {
		return nil
	}
	return s.services.Done()
}

// Err is the failure that closed Done.
func (s *Stack) Err() error {
	if s.services == nil {
		return nil
	}
	return s.services.Err()
}

// Close stops everything the stack started, flushing the embedded
// cluster's data to disk. The error says what could not be saved.
func (s *Stack) Close() error {
	if s.services != nil {
		s.services.Close()
		s.services = nil
	}
	for _, dir := range s.tempDirs {
		_ = os.RemoveAll(dir)
	}
	s.tempDirs = nil
	if s.cluster == nil {
		return nil
	}
	err := s.cluster.Close()
	s.cluster = nil
	return err
}

// TopicsFiles resolves --topics: the given paths, or topics.yaml in the
// working directory when it exists.
func TopicsFiles(given []string) ([]string, error) {
	if len(given) > 0 {
		for _, p := range given {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("--topics %s: %w", p, err)
			}
		}
		return given, nil
	}
	if _, err := os.Stat(DefaultTopicsFile); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", DefaultTopicsFile, err)
	}
	return []string{DefaultTopicsFile}, nil
}
