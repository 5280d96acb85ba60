package topics

import "testing"

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
