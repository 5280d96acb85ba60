package cli_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksuite/ksuite/internal/testkit"
)

func TestTopicsValidate(t *testing.T) {
	good := writeTopics(t, "topics: [{name: a, partitions: 1, replication-factor: 1}]\n")
	bad := writeTopics(t, "topics:\n  - name: 'a b'\n    partitions: 0\n    replication-factor: 1\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{"valid", []string{"topics", "validate", "-f", good}, 0, []string{"ok: 1 topic(s) valid"}, nil},
		{"every problem with file:line", []string{"topics", "validate", "-f", bad}, 1, nil, []string{
			bad + `:2: error: topic name "a b" has characters Kafka does not allow`,
			bad + `:3: error: topic "a b": partitions must be between 1 and 2147483647, not 0`,
			"ksuite: 2 problem(s) in the topics files",
		}},
		{"unknown env", []string{"topics", "validate", "-f", good, "--env", "prod"}, 1, nil, []string{`environment "prod" is not declared`}},
		{"missing file", []string{"topics", "validate", "-f", filepath.Join(t.TempDir(), "none.yaml")}, 1, nil, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runKsuite(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.out, r.errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(r.out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.out)
				}
			}
			for _, w := range tt.err {
				if !strings.Contains(r.errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.errOut)
				}
			}
		})
	}
}

func TestTopicsPlanApplyExitCodes(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		prefix := testkit.TopicName(t) + "-"
		t.Cleanup(func() {
			// Delete what the test made through the command itself.
			empty := writeTopics(t, fmt.Sprintf("manage: {prefixes: [%q]}\n", prefix))
			runKsuite(t, "--brokers", c.Bootstrap(), "topics", "apply", "-f", empty, "--auto-approve", "--allow-delete")
		})
		file := writeTopics(t, fmt.Sprintf(`manage: {prefixes: [%q]}
defaults: {partitions: 2, replication-factor: 1}
topics:
  - name: %sa
    config: {retention.ms: 3600000}
`, prefix, prefix))
		conn := []string{"--brokers", c.Bootstrap(), "topics"}
		run := func(args ...string) runResult { return runKsuite(t, append(append([]string{}, conn...), args...)...) }

		// plan: 0 without --detailed-exitcode, 2 with it; JSON is the documented shape.
		if r := run("plan", "-f", file); r.code != 0 || !strings.Contains(r.out, "+ "+prefix+"a") {
			t.Fatalf("plan: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
		r := run("plan", "-f", file, "--output", "json", "--detailed-exitcode")
		if r.code != 2 {
			t.Fatalf("plan --detailed-exitcode with changes: exit %d, want 2\n%s", r.code, r.errOut)
		}
		var plan struct {
			Changes []struct {
				Topic             string
				Action            string
				Partitions        struct{ From, To *int }
				ReplicationFactor struct{ From, To *int } `json:"replicationFactor"`
				Config            []struct {
					Key, Op  string
					From, To *string
				}
			}
			Summary map[string]int
		}
		if err := json.Unmarshal([]byte(r.out), &plan); err != nil {
			t.Fatalf("plan JSON: %v\n%s", err, r.out)
		}
		ch := plan.Changes
		if len(ch) != 1 || ch[0].Action != "create" || ch[0].Partitions.From != nil || *ch[0].Partitions.To != 2 ||
			*ch[0].ReplicationFactor.To != 1 || len(ch[0].Config) != 1 || ch[0].Config[0].Op != "set" || *ch[0].Config[0].To != "3600000" ||
			plan.Summary["create"] != 1 || plan.Summary["blocked"] != 0 {
			t.Fatalf("plan JSON = %s", r.out)
		}

		// apply without a terminal needs --auto-approve and changes nothing.
		if r := run("apply", "-f", file); r.code != 1 || !strings.Contains(r.errOut, "--auto-approve") {
			t.Fatalf("apply without terminal: exit %d\n%s", r.code, r.errOut)
		}
		if r := run("plan", "-f", file, "--detailed-exitcode"); r.code != 2 {
			t.Fatalf("apply without --auto-approve changed the cluster: plan exit %d", r.code)
		}
		if r := run("apply", "-f", file, "--dry-run"); r.code != 0 || !strings.Contains(r.out, "Dry run: brokers validated: 1 created") {
			t.Fatalf("apply --dry-run: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
		if r := run("apply", "-f", file, "--auto-approve"); r.code != 0 || !strings.Contains(r.out, "Applied: 1 created") || !strings.Contains(r.errOut, "creating 1 topic(s)") {
			t.Fatalf("apply: exit %d\n%s%s", r.code, r.out, r.errOut)
		}
		if r := run("plan", "-f", file, "--detailed-exitcode"); r.code != 0 || !strings.Contains(r.out, "No changes") {
			t.Fatalf("plan after apply: exit %d\n%s", r.code, r.out)
		}

		// A decrease is blocked: exit 3 for plan and apply, nothing applied.
		shrunk := writeTopics(t, strings.Replace(mustRead(t, file), "partitions: 2", "partitions: 1", 1))
		if r := run("plan", "-f", shrunk); r.code != 3 || !strings.Contains(r.out, "! "+prefix+"a (blocked)") {
			t.Fatalf("plan of a decrease: exit %d, want 3\n%s", r.code, r.out)
		}
		if r := run("apply", "-f", shrunk, "--auto-approve"); r.code != 3 || strings.Contains(r.out, "Applied") {
			t.Fatalf("apply of a decrease: exit %d, want 3\n%s", r.code, r.out)
		}

		// export then plan: no changes.
		exported := filepath.Join(t.TempDir(), "exported.yaml")
		if r := run("export", "--include", "^"+strings.ReplaceAll(prefix, ".", `\.`), "--out", exported); r.code != 0 {
			t.Fatalf("export: exit %d\n%s", r.code, r.errOut)
		}
		if r := run("plan", "-f", exported, "--detailed-exitcode"); r.code != 0 {
			t.Fatalf("plan of the export: exit %d\n%s", r.code, r.out)
		}
		if r := run("export", "--include", "("); r.code != 1 || !strings.Contains(r.errOut, "--include") {
			t.Fatalf("bad --include: exit %d\n%s", r.code, r.errOut)
		}
	})
}

func TestTopicsPlanConnectionError(t *testing.T) {
	file := writeTopics(t, "topics: [{name: a, partitions: 1, replication-factor: 1}]\n")
	r := runKsuite(t, "--brokers", "127.0.0.1:1", "--timeout", "2s", "topics", "plan", "-f", file)
	if r.code != 1 || !strings.Contains(r.errOut, "cannot connect to Kafka at 127.0.0.1:1") {
		t.Fatalf("exit %d\n%s", r.code, r.errOut)
	}
}

func TestTopicsApplyConfirmsOnATerminal(t *testing.T) {
	c := testkit.NewFake(t)
	file := writeTopics(t, "topics: [{name: confirmed, partitions: 1, replication-factor: 1}]\n")
	args := []string{"--brokers", c.Bootstrap(), "topics", "apply", "-f", file}

	for _, answer := range []string{"no\n", "y\n", ""} {
		r := runIn(t, fakeTerminal{strings.NewReader(answer)}, nil, args...)
		if r.code != 0 || !strings.Contains(r.out, "Only 'yes' is accepted") || !strings.Contains(r.out, "Apply cancelled: nothing changed.") {
			t.Fatalf("answer %q: exit %d\n%s%s", answer, r.code, r.out, r.errOut)
		}
	}
	if r := runKsuite(t, "--brokers", c.Bootstrap(), "topics", "plan", "-f", file, "--detailed-exitcode"); r.code != 2 {
		t.Fatalf("a refused apply changed the cluster: plan exit %d", r.code)
	}
	if r := runIn(t, fakeTerminal{strings.NewReader("yes\n")}, nil, args...); r.code != 0 || !strings.Contains(r.out, "Applied: 1 created") {
		t.Fatalf("answer yes: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if r := runKsuite(t, "--brokers", c.Bootstrap(), "topics", "plan", "-f", file, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("plan after a confirmed apply: exit %d", r.code)
	}
}
