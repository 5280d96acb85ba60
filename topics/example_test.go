package topics_test

import (
	"errors"
	"fmt"

	"github.com/ksuite/ksuite/topics"
)

// Validation needs no cluster and reports every problem with file:line.
func ExampleParse() {
	_, err := topics.Parse("topics.yaml", []byte(`defaults: {partitions: 3, replication-factor: 2}
topics:
  - name: signup-event
    config:
      retention.msx: 604800000
  - name: __internal
  - name: suiteroom-join
    partitions: 0
`), "")
	var ve *topics.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// topics.yaml:5: error: topic "signup-event": config retention.msx is not a Kafka topic config: did you mean retention.ms?
	// topics.yaml:6: error: topic "__internal": names starting with __ are Kafka's internal topics, which ksuite never manages: rename it
	// topics.yaml:8: error: topic "suiteroom-join": partitions must be between 1 and 2147483647, not 0
}

// Environments overlay the whole file: dev's defaults win over a topic's own
// replication factor.
func ExampleParse_environments() {
	d, err := topics.Parse("topics.yaml", []byte(`defaults: {partitions: 3, replication-factor: 2}
topics:
  - {name: signup-event, replication-factor: 3}
environments:
  dev:
    defaults: {replication-factor: 1}
`), "dev")
	if err != nil {
		panic(err)
	}
	for _, t := range d.Topics {
		fmt.Println(t.Name, t.Partitions, t.ReplicationFactor)
	}
	// Output:
	// signup-event 3 1
}
