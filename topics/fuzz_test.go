package topics

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the file parser: it must never panic,
// and it either returns a valid desired state or a ValidationError.
func FuzzParse(f *testing.F) {
	f.Add([]byte(exampleFile), "prod")
	f.Add([]byte("topics: [{name: a, partitions: 1, replication-factor: 1}]"), "")
	f.Add([]byte("defaults: &d {partitions: 1}\ntopics: [{<<: *d, name: a}]"), "")
	f.Add([]byte("topics:\n  - name: a\n    config: {x: [1, {y: 2}]}\n"), "dev")
	f.Add([]byte("manage: {prefixes: ~}\nenvironments: {dev: {topics: [{name: 1}]}}"), "dev")
	f.Add([]byte("a: &a [*a]"), "")
	f.Fuzz(func(t *testing.T, data []byte, env string) {
		d, err := Parse("fuzz.yaml", data, env)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error is not a ValidationError with problems: %v", err)
			}
			return
		}
		if errs := Validate(d); hasErrors(errs) {
			t.Fatalf("Parse accepted a state Validate rejects: %v", errs)
		}
		for _, tp := range d.Topics {
			if tp.Partitions < 1 || tp.ReplicationFactor < 1 {
				t.Fatalf("accepted topic %+v", tp)
			}
		}
	})
}
