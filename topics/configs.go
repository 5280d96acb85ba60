package topics

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ksuite/ksuite/internal/kafka/configlist"
)

// configType is the type Kafka declares for a topic config (ConfigDef.Type).
type configType int

const (
	typeString configType = iota
	typeBoolean
	typeInt
	typeLong
	typeDouble
	typeList
)

func (t configType) String() string {
	return [...]string{"string", "boolean", "int", "long", "double", "list"}[t]
}

// topicConfig describes one topic-level config key of Apache Kafka 4.
type topicConfig struct {
	typ configType
	// def is Kafka's built-in default, as DescribeConfigs reports it.
	def string
	// min and max bound numbers (inclusive) when hasRange is set.
	min, max float64
	hasRange bool
	// enum lists the allowed values of a string or list config.
	enum []string
}

func rng(t configType, def string, lo, hi float64) topicConfig {
	return topicConfig{typ: t, def: def, min: lo, max: hi, hasRange: true}
}

const (
	maxLong = math.MaxInt64
	maxInt  = math.MaxInt32
)

// knownConfigs is every topic config of Apache Kafka 4.4 with its type and
// default, taken from DescribeConfigs against a 4.4 broker and the ranges
// from LogConfig. The broker checks these too, but kfake (and a plan, which
// never reaches the broker) would not: a misspelt key must fail validate,
// not vanish silently.
var knownConfigs = map[string]topicConfig{
	"cleanup.policy":                          {typ: typeList, def: "delete", enum: []string{"compact", "delete"}},
	"compression.gzip.level":                  rng(typeInt, "-1", -1, 9),
	"compression.lz4.level":                   rng(typeInt, "9", 1, 17),
	"compression.type":                        {typ: typeString, def: "producer", enum: []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}},
	"compression.zstd.level":                  rng(typeInt, "3", -131072, 22),
	"delete.retention.ms":                     rng(typeLong, "86400000", 0, maxLong),
	"errors.deadletterqueue.group.enable":     {typ: typeBoolean, def: "false"},
	"file.delete.delay.ms":                    rng(typeLong, "60000", 0, maxLong),
	"flush.messages":                          rng(typeLong, "9223372036854775807", 1, maxLong),
	"flush.ms":                                rng(typeLong, "9223372036854775807", 0, maxLong),
	"follower.replication.throttled.replicas": {typ: typeList, def: ""},
	"index.interval.bytes":                    rng(typeInt, "4096", 0, maxInt),
	"leader.replication.throttled.replicas":   {typ: typeList, def: ""},
	"local.retention.bytes":                   rng(typeLong, "-2", -2, maxLong),
	"local.retention.ms":                      rng(typeLong, "-2", -2, maxLong),
	"max.compaction.lag.ms":                   rng(typeLong, "9223372036854775807", 1, maxLong),
	"max.decompressed.message.bytes":          rng(typeInt, "2147483639", 1, 2147483639),
	"max.message.bytes":                       rng(typeInt, "1048588", 0, maxInt),
	"message.timestamp.after.max.ms":          rng(typeLong, "3600000", 0, maxLong),
	"message.timestamp.before.max.ms":         rng(typeLong, "9223372036854775807", 0, maxLong),
	"message.timestamp.type":                  {typ: typeString, def: "CreateTime", enum: []string{"CreateTime", "LogAppendTime"}},
	"min.cleanable.dirty.ratio":               rng(typeDouble, "0.5", 0, 1),
	"min.compaction.lag.ms":                   rng(typeLong, "0", 0, maxLong),
	"min.insync.replicas":                     rng(typeInt, "1", 1, maxInt),
	"preallocate":                             {typ: typeBoolean, def: "false"},
	"remote.copy.lag.bytes":                   rng(typeLong, "-1", -1, maxLong),
	"remote.copy.lag.ms":                      rng(typeLong, "0", -1, maxLong),
	"remote.log.copy.disable":                 {typ: typeBoolean, def: "false"},
	"remote.log.delete.on.disable":            {typ: typeBoolean, def: "false"},
	"remote.storage.enable":                   {typ: typeBoolean, def: "false"},
	"retention.bytes":                         rng(typeLong, "-1", math.MinInt64, maxLong),
	"retention.ms":                            rng(typeLong, "604800000", -1, maxLong),
	"segment.bytes":                           rng(typeInt, "1073741824", 1048576, maxInt),
	"segment.index.bytes":                     rng(typeInt, "10485760", 4, maxInt),
	"segment.jitter.ms":                       rng(typeLong, "0", 0, maxLong),
	"segment.ms":                              rng(typeLong, "604800000", 1, maxLong),
	"unclean.leader.election.enable":          {typ: typeBoolean, def: "false"},
}

// removedConfigs are topic configs Kafka 4 dropped; naming them beats
// "unknown key" for a file carried over from Kafka 2 or 3.
var removedConfigs = map[string]string{
	"message.format.version":              "Kafka 4 always writes the v2 record format",
	"message.downconversion.enable":       "Kafka 4 removed down-conversion",
	"message.timestamp.difference.max.ms": "use message.timestamp.before.max.ms and message.timestamp.after.max.ms",
}

// checkConfig returns why value is not valid for key, or "" when it is.
func checkConfig(key, value string) string {
	c, ok := knownConfigs[key]
	if !ok {
		if why, removed := removedConfigs[key]; removed {
			return fmt.Sprintf("config %s was removed in Kafka 4 (%s): delete the line", key, why)
		}
		if s := suggest(key); s != "" {
			return fmt.Sprintf("config %s is not a Kafka topic config: did you mean %s?", key, s)
		}
		return fmt.Sprintf("config %s is not a Kafka 4 topic config (see https://kafka.apache.org/documentation/#topicconfigs): fix or delete the line", key)
	}
	switch c.typ {
	case typeBoolean:
		if _, err := parseKafkaBool(value); err != nil {
			return fmt.Sprintf("config %s must be true or false, not %q", key, value)
		}
	case typeInt, typeLong:
		bits := 64
		if c.typ == typeInt {
			bits = 32
		}
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, bits)
		if err != nil {
			return fmt.Sprintf("config %s must be a whole number (%s), not %q", key, c.typ, value)
		}
		if c.hasRange && (float64(n) < c.min || float64(n) > c.max) {
			return fmt.Sprintf("config %s must be %s, not %d", key, c.rangeText(), n)
		}
	case typeDouble:
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("config %s must be a number, not %q", key, value)
		}
		if c.hasRange && (f < c.min || f > c.max) {
			return fmt.Sprintf("config %s must be %s, not %s", key, c.rangeText(), value)
		}
	case typeString:
		if len(c.enum) > 0 && !contains(c.enum, value) {
			return fmt.Sprintf("config %s must be one of %s, not %q", key, strings.Join(c.enum, ", "), value)
		}
	case typeList:
		if len(c.enum) > 0 {
			for _, item := range configlist.Split(value) {
				if !contains(c.enum, item) {
					return fmt.Sprintf("config %s takes a comma-separated list of %s, not %q", key, strings.Join(c.enum, ", "), item)
				}
			}
		}
	}
	return ""
}

func (c topicConfig) rangeText() string {
	f := func(v float64) string {
		switch v {
		case maxLong, maxInt:
			return "max"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch {
	case c.max == maxLong || c.max == maxInt:
		return "at least " + f(c.min)
	}
	return "between " + f(c.min) + " and " + f(c.max)
}

// configEqual reports whether two values of key mean the same to Kafka: a
// file's "604800000" and the broker's "604800000", "0.50" and "0.5", "TRUE"
// and "true", "delete,compact" and "compact,delete".
func configEqual(key, a, b string) bool {
	if a == b {
		return true
	}
	c, ok := knownConfigs[key]
	if !ok {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	switch c.typ {
	case typeBoolean:
		x, err1 := parseKafkaBool(a)
		y, err2 := parseKafkaBool(b)
		return err1 == nil && err2 == nil && x == y
	case typeInt, typeLong:
		x, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		y, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		return err1 == nil && err2 == nil && x == y
	case typeDouble:
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		return err1 == nil && err2 == nil && x == y
	case typeList:
		x, y := configlist.Split(a), configlist.Split(b)
		sort.Strings(x)
		sort.Strings(y)
		return strings.Join(x, ",") == strings.Join(y, ",")
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}

// parseKafkaBool parses like Java's ConfigDef: true or false in any case.
func parseKafkaBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to a misspelt one, if any is close.
func suggest(key string) string {
	best, bestDist := "", 4
	for k := range knownConfigs {
		if d := levenshtein(key, k); d < bestDist || d == bestDist && best != "" && k < best {
			best, bestDist = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
