package topics

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const exampleFile = `defaults:
  partitions: 3
  replication-factor: 2
  config:
    min.insync.replicas: 1
manage:
  prefixes: [signup-, suiteroom-, halloffame-]
topics:
  - name: signup-event
    partitions: 3
    replication-factor: 2
    config:
      retention.ms: 604800000
      cleanup.policy: delete
  - name: suiteroom-join
environments:
  dev:
    defaults: {replication-factor: 1}
  prod:
    defaults: {replication-factor: 3}
    topics:
      - name: signup-event
        partitions: 12
`

func mustParse(t *testing.T, src, env string) *Desired {
	t.Helper()
	d, err := Parse("topics.yaml", []byte(src), env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func TestParseResolvesDefaultsAndOverlays(t *testing.T) {
	tests := []struct {
		env  string
		want map[string][2]int // name -> partitions, rf
	}{
		{"", map[string][2]int{"signup-event": {3, 2}, "suiteroom-join": {3, 2}}},
		// dev's defaults win over the topic's own replication factor: an
		// overlay is applied on top of the whole file.
		{"dev", map[string][2]int{"signup-event": {3, 1}, "suiteroom-join": {3, 1}}},
		{"prod", map[string][2]int{"signup-event": {12, 3}, "suiteroom-join": {3, 3}}},
	}
	for _, tt := range tests {
		t.Run("env="+tt.env, func(t *testing.T) {
			d := mustParse(t, exampleFile, tt.env)
			got := map[string][2]int{}
			for _, tp := range d.Topics {
				got[tp.Name] = [2]int{int(tp.Partitions), int(tp.ReplicationFactor)}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("topics = %v, want %v", got, tt.want)
			}
			if want := []string{"signup-", "suiteroom-", "halloffame-"}; !reflect.DeepEqual(d.Manage, want) {
				t.Errorf("manage = %v, want %v", d.Manage, want)
			}
		})
	}
}

func TestParseNormalisesConfigValues(t *testing.T) {
	d := mustParse(t, `topics:
  - name: a
    partitions: 1
    replication-factor: 1
    config:
      retention.ms: 604800000
      segment.ms: 1e3
      unclean.leader.election.enable: true
      preallocate: "FALSE"
      min.cleanable.dirty.ratio: 0.25
      max.message.bytes: 0x100000
      cleanup.policy: compact,delete
`, "")
	want := map[string]string{
		"retention.ms":                   "604800000",
		"segment.ms":                     "1000",
		"unclean.leader.election.enable": "true",
		"preallocate":                    "FALSE",
		"min.cleanable.dirty.ratio":      "0.25",
		"max.message.bytes":              "1048576",
		"cleanup.policy":                 "compact,delete",
	}
	if got := d.Topics[0].Config; !reflect.DeepEqual(got, want) {
		t.Errorf("config = %v, want %v", got, want)
	}
}

func TestParseReportsEveryShapeProblemWithLine(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`defaults:
  partition: 3
topics:
  - name: a
    partitions: three
    replication-factor: 1
    config:
      retention.ms: [1]
  - partitions: 1
  - name: b
    partitions: 1
    replication-factor: 1
    replication-factor: 2
colour: blue
`), "")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	want := []string{
		`t.yaml:2: error: defaults: unknown key "partition": allowed keys are partitions, replication-factor, config`,
		`t.yaml:5: error: partitions must be a whole number, not "three"`,
		`t.yaml:8: error: config: retention.ms must be a string, number or boolean, not a list`,
		`t.yaml:9: error: topics: topic without name: add name: <topic>`,
		`t.yaml:13: error: topic: key "replication-factor" appears twice (also on line 12): keep one`,
		`t.yaml:14: error: top level: unknown key "colour": allowed keys are defaults, manage, topics, acls, environments`,
	}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.String())
	}
	for _, w := range want {
		if !contains(got, w) {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestParseInvalidYAML(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("topics:\n  - name: a\n    partitions: 1\n\tconfig: {}\n"), "")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.HasPrefix(ve.Problems[0].String(), "bad.yaml:3: error: not valid YAML") { // yaml.v3 names the line before the tab
		t.Fatalf("err = %v, want one YAML problem with a line", err)
	}
}

func TestParseUnknownEnvironment(t *testing.T) {
	_, err := Parse("t.yaml", []byte(exampleFile), "staging")
	if err == nil || !strings.Contains(err.Error(), `environment "staging" is not declared in any topics file (declared: dev, prod)`) {
		t.Fatalf("err = %v, want unknown environment naming dev, prod", err)
	}
}

func TestParseEnvironmentMayAddTopic(t *testing.T) {
	d := mustParse(t, `defaults: {partitions: 1, replication-factor: 1}
topics:
  - name: a
environments:
  dev:
    topics:
      - name: dev-scratch
        partitions: 2
`, "dev")
	if len(d.Topics) != 2 || d.Topics[1].Name != "dev-scratch" || d.Topics[1].Partitions != 2 || d.Topics[1].ReplicationFactor != 1 {
		t.Fatalf("topics = %+v, want a and dev-scratch (2 partitions, rf 1 from defaults)", d.Topics)
	}
	if d := mustParse(t, `defaults: {partitions: 1, replication-factor: 1}
topics: [{name: a}]
environments: {dev: {topics: [{name: dev-scratch}]}}
`, ""); len(d.Topics) != 1 {
		t.Fatalf("without --env the dev-only topic must not exist: %+v", d.Topics)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDirectoryPerFileDefaultsAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", "defaults: {partitions: 6, replication-factor: 3}\ntopics:\n  - name: one\n  - name: two\n")
	writeFile(t, dir, "b.yaml", "defaults: {partitions: 1, replication-factor: 1}\ntopics:\n  - name: three\n")
	writeFile(t, dir, "notes.txt", "not yaml: [")
	d, err := Load("", dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int32{}
	for _, tp := range d.Topics {
		got[tp.Name] = tp.Partitions
	}
	if want := map[string]int32{"one": 6, "two": 6, "three": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("partitions = %v, want %v (each file's defaults for its own topics)", got, want)
	}

	extra := writeFile(t, t.TempDir(), "c.yaml", "topics:\n  - name: x\n    partitions: 1\n    replication-factor: 1\n  - name: two\n    partitions: 1\n    replication-factor: 1\n")
	_, err = Load("", dir, extra)
	a := filepath.Join(dir, "a.yaml")
	want := `topic "two" is declared twice: at ` + a + `:4 and at ` + extra + `:5`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"no paths", nil, "no topics file given"},
		{"missing", []string{filepath.Join(empty, "nope.yaml")}, "no such file"},
		{"empty dir", []string{empty}, "holds no *.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", tt.paths...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRepositoryTopicsFileIsValid(t *testing.T) {
	d, err := Load("", "../topics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var signup *Topic
	for i := range d.Topics {
		if d.Topics[i].Name == "signup-event" {
			signup = &d.Topics[i]
		}
	}
	if signup == nil || signup.Partitions != 3 || signup.ReplicationFactor != 2 {
		t.Fatalf("signup-event = %+v, want 3 partitions and replication factor 2 like the Spring NewTopic", signup)
	}
	if len(d.Manage) == 0 {
		t.Fatal("the repository's topics.yaml must own its prefixes with manage.prefixes")
	}
}
