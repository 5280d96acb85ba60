// Package configlist reads Kafka's list config values, such as
// bootstrap.servers and cleanup.policy. It is shared by the connection
// flags (internal/kafka) and the topics files (topics) and imports nothing,
// so the public topics package does not pull in the client's flag and SASL
// dependencies for ten lines.
package configlist

import "strings"

// Split returns the items of a comma-separated list value with spaces
// trimmed and empty items dropped: " a, ,b " is [a b], "" is nil.
func Split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
