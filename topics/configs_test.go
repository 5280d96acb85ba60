package topics

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/testkit"
)

func TestConfigEqual(t *testing.T) {
	tests := []struct {
		key, a, b string
		want      bool
	}{
		{"retention.ms", "604800000", "604800000", true},
		{"retention.ms", "604800000", " 604800000", true},
		{"retention.ms", "604800000", "86400000", false},
		{"min.cleanable.dirty.ratio", "0.50", "0.5", true},
		{"min.cleanable.dirty.ratio", "0.5", "0.6", false},
		{"preallocate", "TRUE", "true", true},
		{"preallocate", "false", "true", false},
		{"cleanup.policy", "delete,compact", "compact, delete", true},
		{"cleanup.policy", "delete", "compact", false},
		{"compression.type", "zstd", "zstd", true},
		{"compression.type", "zstd", "lz4", false},
		{"retention.ms", "x", "y", false},
		{"unknown.key", "a", " a ", true},
	}
	for _, tt := range tests {
		if got := configEqual(tt.key, tt.a, tt.b); got != tt.want {
			t.Errorf("configEqual(%s, %q, %q) = %v, want %v", tt.key, tt.a, tt.b, got, tt.want)
		}
	}
}

func TestKnownConfigDefaultsAreValid(t *testing.T) {
	// Kafka's own defaults must pass our checks, or a file exported from a
	// fresh cluster would fail validate.
	for key, c := range knownConfigs {
		if c.def == "" && c.typ == typeList {
			continue
		}
		if msg := checkConfig(key, c.def); msg != "" {
			t.Errorf("default of %s: %s", key, msg)
		}
	}
}

// TestKnownConfigsMatchKafka compares the table validate checks against
// with what the real broker reports for a new topic, so moving the harness
// to a newer Kafka cannot leave validate refusing its new configs or
// planning against stale defaults.
func TestKnownConfigsMatchKafka(t *testing.T) {
	c, ok := testkit.RealKafka(t)
	if !ok {
		t.Skip("no real Kafka cluster (KSUITE_TEST_KAFKA)")
	}
	topic := c.CreateTopic(t, 1, 1)
	ctx := testkit.Context(t, 30*time.Second)
	rcs, err := c.Admin(t).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, cfg := range rc.Configs {
		seen[cfg.Key] = true
		known, ok := knownConfigs[cfg.Key]
		if !ok {
			t.Errorf("Kafka has topic config %s=%s that knownConfigs lacks", cfg.Key, cfg.MaybeValue())
			continue
		}
		if cfg.Source == kmsg.ConfigSourceDefaultConfig && known.def != cfg.MaybeValue() {
			t.Errorf("%s: knownConfigs default %q, Kafka's %q", cfg.Key, known.def, cfg.MaybeValue())
		}
	}
	for key := range knownConfigs {
		if !seen[key] {
			t.Errorf("knownConfigs has %s, which Kafka does not report", key)
		}
	}
}
