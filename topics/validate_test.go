package topics

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateRules(t *testing.T) {
	long := strings.Repeat("x", 250)
	tests := []struct {
		name string
		src  string
		want string // a problem's full String(); "" means valid
	}{
		{"valid", "topics: [{name: a.b-c_D9, partitions: 1, replication-factor: 1}]", ""},
		{"illegal char", "topics: [{name: 'a b', partitions: 1, replication-factor: 1}]", `t.yaml:1: error: topic name "a b" has characters Kafka does not allow`},
		{"dot", "topics: [{name: '.', partitions: 1, replication-factor: 1}]", `t.yaml:1: error: topic name "." is not allowed by Kafka`},
		{"dotdot", "topics: [{name: '..', partitions: 1, replication-factor: 1}]", `t.yaml:1: error: topic name ".." is not allowed by Kafka`},
		{"too long", "topics: [{name: " + long + ", partitions: 1, replication-factor: 1}]", "is 250 characters; Kafka allows at most 249"},
		{"internal", "topics: [{name: __consumer_offsets, partitions: 1, replication-factor: 1}]", `t.yaml:1: error: topic "__consumer_offsets": names starting with __ are Kafka's internal topics`},
		{"partitions 0", "topics:\n  - name: a\n    partitions: 0\n    replication-factor: 1\n", `t.yaml:3: error: topic "a": partitions must be between 1 and 2147483647, not 0`},
		{"partitions missing", "topics:\n  - name: a\n    replication-factor: 1\n", `t.yaml:2: error: topic "a" has no partitions`},
		{"rf negative", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: -1\n", `t.yaml:4: error: topic "a": replication-factor must be between 1 and 32767, not -1`},
		{"rf overflow", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 70000\n", `t.yaml:4: error: topic "a": replication-factor must be between 1 and 32767, not 70000`},
		{"unknown config", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 1\n    config:\n      retention.msx: 1\n", `t.yaml:6: error: topic "a": config retention.msx is not a Kafka topic config: did you mean retention.ms?`},
		{"removed config", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 1\n    config: {message.format.version: 3.0}\n", `config message.format.version was removed in Kafka 4`},
		{"wrong type", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 1\n    config: {retention.ms: 7d}\n", `config retention.ms must be a whole number (long), not "7d"`},
		{"enum", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 1\n    config: {cleanup.policy: 'compact,truncate'}\n", `config cleanup.policy takes a comma-separated list of compact, delete, not "truncate"`},
		{"bool", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 1\n    config: {preallocate: yes please}\n", `config preallocate must be true or false`},
		{"range", "topics:\n  - name: a\n    partitions: 1\n    replication-factor: 1\n    config: {min.cleanable.dirty.ratio: 1.5}\n", `config min.cleanable.dirty.ratio must be between 0 and 1, not 1.5`},
		{"min isr above rf", "defaults:\n  config:\n    min.insync.replicas: 3\ntopics:\n  - name: a\n    partitions: 1\n    replication-factor: 2\n", `t.yaml:3: error: topic "a": min.insync.replicas 3 is above the replication factor 2`},
		{"min isr equal rf", "topics: [{name: a, partitions: 1, replication-factor: 2, config: {min.insync.replicas: 2}}]", `t.yaml:1: error: topic "a": min.insync.replicas 2 equals the replication factor`},
		{"min isr 1 with rf 1 is fine", "topics: [{name: a, partitions: 1, replication-factor: 1, config: {min.insync.replicas: 1}}]", ``},
		{"collision warns", "topics:\n  - {name: a.b, partitions: 1, replication-factor: 1}\n  - {name: a_b, partitions: 1, replication-factor: 1}\n", `t.yaml:3: warning: topic "a_b" collides with "a.b" (declared at t.yaml:2)`},
		{"empty prefix", "manage: {prefixes: ['']}\ntopics: []", `t.yaml:1: error: manage.prefixes: an empty prefix would put every topic of the cluster in scope`},
		{"internal prefix", "manage: {prefixes: [__]}\n", `t.yaml:1: error: manage.prefixes: "__" covers Kafka's internal topics`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("t.yaml", []byte(tt.src), "")
			var all []string
			var ve *ValidationError
			switch {
			case errors.As(err, &ve):
				for _, p := range ve.Problems {
					all = append(all, p.String())
				}
			case err != nil:
				t.Fatal(err)
			default:
				for _, p := range d.Warnings {
					all = append(all, p.String())
				}
			}
			if tt.want == "" {
				if len(all) > 0 {
					t.Fatalf("want no problems, got:\n%s", strings.Join(all, "\n"))
				}
				return
			}
			for _, p := range all {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got:\n%s", tt.want, strings.Join(all, "\n"))
		})
	}
}

func TestValidateReportsAllProblemsInOrder(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`topics:
  - name: "bad name"
    partitions: 0
    replication-factor: 1
  - name: ok
    partitions: 1
    replication-factor: 0
    config:
      nope: 1
`), "")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var lines []int
	for _, p := range ve.Problems {
		lines = append(lines, p.Pos.Line)
	}
	if len(lines) != 4 || lines[0] != 2 || lines[1] != 3 || lines[2] != 7 || lines[3] != 9 {
		t.Fatalf("problem lines = %v, want [2 3 7 9]:\n%v", lines, err)
	}
}

func TestValidateDesiredBuiltInCode(t *testing.T) {
	d := &Desired{Topics: []Topic{{Name: "a", Partitions: 1, ReplicationFactor: 1}}, Manage: []string{""}}
	ps := Validate(d)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, `manage prefix "" is not allowed`) {
		t.Fatalf("problems = %v", ps)
	}
}
