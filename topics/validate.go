package topics

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Severity says whether a [Problem] stops the file from being used.
type Severity int

const (
	// SeverityError makes [Load] fail: the file cannot be planned.
	SeverityError Severity = iota
	// SeverityWarning is worth fixing but does not stop anything.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Problem is one finding about a topics file, at the line that caused it.
type Problem struct {
	Pos      Pos
	Severity Severity
	Message  string
}

// String is "file:line: error: message".
func (p Problem) String() string {
	if p.Pos.File == "" {
		return p.Severity.String() + ": " + p.Message
	}
	return p.Pos.String() + ": " + p.Severity.String() + ": " + p.Message
}

// ValidationError is every problem found in the topics files when at least
// one is an error. Problems are in file and line order, warnings included.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	n := 0
	for _, p := range e.Problems {
		if p.Severity == SeverityError {
			n++
		}
	}
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("topics file has %d error(s):", n))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

func errorAt(pos Pos, format string, args ...any) Problem {
	return Problem{Pos: pos, Severity: SeverityError, Message: fmt.Sprintf(format, args...)}
}

func warnAt(pos Pos, format string, args ...any) Problem {
	return Problem{Pos: pos, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...)}
}

// Kafka's own limits on topic names (org.apache.kafka.common.internals.Topic).
const maxTopicNameLen = 249

var legalTopicName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// Limits bounds the partitions a topics file may ask of a cluster, so that
// a typo such as partitions: 1000000000 is refused before anything is sent.
type Limits struct {
	// PartitionsPerTopic is the most partitions one topic may declare.
	PartitionsPerTopic int
	// Partitions is the most partitions all declared topics may have
	// together.
	Partitions int
}

// DefaultLimits are the bounds of `ksuite up`'s embedded cluster: 10,000
// partitions per topic (Kafka's controller refuses a single operation of
// more than 10,000 metadata records, about that many partitions) and
// 100,000 in all.
var DefaultLimits = Limits{PartitionsPerTopic: 10_000, Partitions: 100_000}

// orDefault fills unset bounds from DefaultLimits.
func (l Limits) orDefault() Limits {
	if l.PartitionsPerTopic == 0 {
		l.PartitionsPerTopic = DefaultLimits.PartitionsPerTopic
	}
	if l.Partitions == 0 {
		l.Partitions = max(DefaultLimits.Partitions, l.PartitionsPerTopic)
	}
	return l
}

// Validate checks the desired state offline, as Kafka would and a little
// stricter: topic names, counts against d.Limits, config keys and value
// types, and min.insync.replicas against the replication factor. It
// returns every problem, errors and warnings, in file and line order.
// [Plan] calls it; [Load] checks everything but the limits, which the
// caller may set on the result first.
func Validate(d *Desired) []Problem {
	ps := append(validateFile(d), validateLimits(d)...)
	sortProblems(ps)
	return ps
}

// validateLimits checks the partition counts against d.Limits.
func validateLimits(d *Desired) []Problem {
	l := d.Limits.orDefault()
	var ps []Problem
	total := 0
	for _, t := range d.Topics {
		total += int(max(t.Partitions, 0))
		if int(t.Partitions) > l.PartitionsPerTopic {
			ps = append(ps, errorAt(t.at(fieldPartitions), "topic %q: %d partitions is above the limit of %d per topic: lower it, or raise the limit with --max-partitions-per-topic", t.Name, t.Partitions, l.PartitionsPerTopic))
		}
	}
	if len(ps) == 0 && total > l.Partitions {
		ps = append(ps, errorAt(Pos{}, "the topics declare %d partitions in all, above the limit of %d: lower partitions, or raise the limit with --max-partitions", total, l.Partitions))
	}
	return ps
}

// validateFile is Validate without the limits.
func validateFile(d *Desired) []Problem {
	var ps []Problem
	for _, m := range d.managePos {
		switch {
		case m.v == "":
			ps = append(ps, errorAt(m.pos, "manage.prefixes: an empty prefix would put every topic of the cluster in scope for deletion: name a prefix such as signup-"))
		case strings.HasPrefix(m.v, "__"):
			ps = append(ps, errorAt(m.pos, "manage.prefixes: %q covers Kafka's internal topics, which ksuite never touches: remove it", m.v))
		case !legalTopicName.MatchString(m.v):
			ps = append(ps, errorAt(m.pos, "manage.prefixes: %q cannot start a topic name (only a-z, A-Z, 0-9, '.', '_', '-'): fix the prefix", m.v))
		}
	}
	if d.managePos == nil {
		for _, m := range d.Manage {
			if m == "" || strings.HasPrefix(m, "__") {
				ps = append(ps, errorAt(Pos{}, "manage prefix %q is not allowed: use a non-empty prefix that does not start with __", m))
			}
		}
	}
	collide := map[string]Topic{}
	for _, t := range d.Topics {
		ps = append(ps, validateTopic(t)...)
		key := strings.ReplaceAll(t.Name, ".", "_")
		if other, ok := collide[key]; ok && other.Name != t.Name {
			ps = append(ps, warnAt(t.Pos, "topic %q collides with %q (declared at %s): Kafka metric names turn '.' into '_', so their metrics clash and Kafka refuses to create the second: rename one", t.Name, other.Name, other.Pos))
		} else if !ok {
			collide[key] = t
		}
	}
	sortProblems(ps)
	return ps
}

func validateTopic(t Topic) []Problem {
	var ps []Problem
	n := t.Name
	switch {
	case n == "":
		ps = append(ps, errorAt(t.Pos, "topic name is empty: name the topic"))
	case n == "." || n == "..":
		ps = append(ps, errorAt(t.Pos, "topic name %q is not allowed by Kafka: choose another name", n))
	case len(n) > maxTopicNameLen:
		ps = append(ps, errorAt(t.Pos, "topic name %.40q... is %d characters; Kafka allows at most %d: shorten it", n, len(n), maxTopicNameLen))
	case !legalTopicName.MatchString(n):
		ps = append(ps, errorAt(t.Pos, "topic name %q has characters Kafka does not allow: use only a-z, A-Z, 0-9, '.', '_' and '-'", n))
	}
	if strings.HasPrefix(n, "__") {
		ps = append(ps, errorAt(t.Pos, "topic %q: names starting with __ are Kafka's internal topics, which ksuite never manages: rename it", n))
	}
	_, partsSet := t.fieldPos[fieldPartitions]
	_, rfSet := t.fieldPos[fieldRF]
	switch {
	case t.Partitions == 0 && !partsSet:
		ps = append(ps, errorAt(t.Pos, "topic %q has no partitions: add partitions: N to the topic or to defaults", n))
	case t.Partitions < 1:
		ps = append(ps, errorAt(t.at(fieldPartitions), "topic %q: partitions must be between 1 and %d, not %s", n, math.MaxInt32, rawOr(t.rawPartitions, int64(t.Partitions))))
	}
	switch {
	case t.ReplicationFactor == 0 && !rfSet:
		ps = append(ps, errorAt(t.Pos, "topic %q has no replication factor: add replication-factor: N to the topic or to defaults", n))
	case t.ReplicationFactor < 1:
		ps = append(ps, errorAt(t.at(fieldRF), "topic %q: replication-factor must be between 1 and %d, not %s", n, math.MaxInt16, rawOr(t.rawRF, int64(t.ReplicationFactor))))
	}
	for _, key := range sortedKeys(t.Config) {
		if msg := checkConfig(key, t.Config[key]); msg != "" {
			ps = append(ps, errorAt(t.at(configField(key)), "topic %q: %s", n, msg))
		}
	}
	if v, ok := t.Config["min.insync.replicas"]; ok && t.ReplicationFactor >= 1 {
		if mis, err := strconv.Atoi(v); err == nil {
			switch {
			case mis > int(t.ReplicationFactor):
				ps = append(ps, errorAt(t.at(configField("min.insync.replicas")), "topic %q: min.insync.replicas %d is above the replication factor %d, so every acks=all write would fail: lower it below %d", n, mis, t.ReplicationFactor, t.ReplicationFactor))
			case mis == int(t.ReplicationFactor) && mis > 1:
				// Replication factor 1 cannot go below; any higher factor must,
				// or one broker down stops every acks=all write.
				ps = append(ps, errorAt(t.at(configField("min.insync.replicas")), "topic %q: min.insync.replicas %d equals the replication factor, so one broker down stops acks=all writes: keep it below %d", n, mis, t.ReplicationFactor))
			}
		}
	}
	return ps
}

func rawOr(raw, v int64) string {
	if raw != 0 {
		return strconv.FormatInt(raw, 10)
	}
	return strconv.FormatInt(v, 10)
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}

// finish turns the collected problems into the result of Load: an error
// when any is an error, else the desired state with its warnings.
func (d *Desired) finish(problems []Problem) (*Desired, error) {
	sortProblems(problems)
	var warnings []Problem
	failed := false
	for _, p := range problems {
		if p.Severity == SeverityError {
			failed = true
		} else {
			warnings = append(warnings, p)
		}
	}
	if failed {
		return nil, &ValidationError{Problems: problems}
	}
	d.Warnings = warnings
	return d, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
