package stack

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

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
	sum, err := s.syncTopics(ctx, cl)
	if err != nil {
		return fmt.Errorf("applying %s: %w", strings.Join(s.cfg.TopicsFiles, ", "), err)
	}
	s.cfg.Logger.Info("topics applied", "files", strings.Join(s.cfg.TopicsFiles, ","),
		"created", sum.Create, "updated", sum.Update, "acls_created", sum.ACLCreate)
	return nil
}

// syncTopics is topics.Sync with the stack's partition limits.
func (s *Stack) syncTopics(ctx context.Context, cl *kgo.Client) (topics.Summary, error) {
	d, err := topics.Load("", s.cfg.TopicsFiles...)
	if err != nil {
		return topics.Summary{}, err
	}
	d.Limits = s.cfg.TopicsLimits
	return topics.SyncDesired(ctx, cl, d, logWriter{s.cfg.Logger})
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
