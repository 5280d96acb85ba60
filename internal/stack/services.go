package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/suite"
	"github.com/ksuite/ksuite/suite/events"
)

// Services configures the Suite services `ksuite up` runs on its cluster.
type Services struct {
	// Listen is the API address (--api-listen).
	Listen string
	// DB is the services' database (--db): a postgres:// URL or a SQLite
	// file. Empty: suite.db beside the data directory, or a temporary file
	// for an in-memory cluster.
	DB string
}

// startServices makes sure the services' topics exist and starts them.
func (s *Stack) startServices(ctx context.Context) error {
	cfg := s.cfg.Services
	opts, err := s.cfg.Kafka.ClientOpts()
	if err != nil {
		return err
	}
	if err := s.createServiceTopics(ctx); err != nil {
		return err
	}
	db := cfg.DB
	if db == "" {
		if db, err = s.defaultDB(); err != nil {
			return err
		}
	}
	srv, err := suite.Start(ctx, suite.Config{ClientOpts: opts, DB: db, Listen: cfg.Listen, Logger: s.cfg.Logger})
	if err != nil {
		return err
	}
	s.services = srv
	return nil
}

// defaultDB is suite.db beside the data directory (./.ksuite/suite.db by
// default), or a temporary file that Close removes when nothing persists.
func (s *Stack) defaultDB() (string, error) {
	if s.cluster != nil && s.cfg.Embedded.DataDir == "" {
		dir, err := os.MkdirTemp("", "ksuite-suite-")
		if err != nil {
			return "", err
		}
		s.tempDirs = append(s.tempDirs, dir)
		return filepath.Join(dir, "suite.db"), nil
	}
	if s.cluster != nil {
		return filepath.Join(filepath.Dir(filepath.Clean(s.cfg.Embedded.DataDir)), "suite.db"), nil
	}
	return suite.DefaultDB, nil
}

// createServiceTopics creates the catalogue's topics (and their dead-letter
// topics) that no topics file created, so the services work on any
// cluster. Existing topics are left exactly as they are.
func (s *Stack) createServiceTopics(ctx context.Context) error {
	cl, err := s.cfg.Kafka.Connect(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	have, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return fmt.Errorf("listing brokers: %w", err)
	}
	var missing []string
	for _, spec := range events.Catalogue() {
		for _, t := range []string{spec.Topic, event.DeadLetterTopic(spec.Topic)} {
			if !have.Has(t) {
				missing = append(missing, t)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	rf := int16(min(2, len(brokers)))
	resp, err := adm.CreateTopics(ctx, 3, rf, nil, missing...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("creating the services' topics: %w", err)
	}
	s.cfg.Logger.Info("created the topics the services need that no topics file declares", "topics", len(missing),
		"partitions", 3, "replication-factor", rf)
	return nil
}
