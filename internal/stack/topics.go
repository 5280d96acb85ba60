package stack

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ksuite/ksuite/topics"
)

// applyTopics makes the cluster match the declared topics files, ACLs
// included. It never deletes: `ksuite topics apply --allow-delete` is the
// deliberate way.
func (s *Stack) applyTopics(ctx context.Context) error {
	if len(s.cfg.TopicsFiles) == 0 {
		return nil
	}
	cl, err := s.cfg.Kafka.Connect(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	sum, err := topics.Sync(ctx, cl, s.cfg.TopicsFiles, "", logWriter{s.cfg.Logger})
	if err != nil {
		return fmt.Errorf("applying %s: %w", strings.Join(s.cfg.TopicsFiles, ", "), err)
	}
	s.cfg.Logger.Info("topics applied", "files", strings.Join(s.cfg.TopicsFiles, ","),
		"created", sum.Create, "updated", sum.Update, "acls_created", sum.ACLCreate)
	return nil
}

// logWriter logs each line written to it, so progress text becomes log records.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			w.l.Info(line, "component", "topics")
		}
	}
	return len(p), nil
}
