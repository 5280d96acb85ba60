package kfake

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kafka validates topic configs where they are set (CreateTopics,
// AlterConfigs, IncrementalAlterConfigs) and refuses the request with
// INVALID_CONFIG: a name that is not a topic config, a null value, or a
// value its ConfigDef does not parse or validate. Accepting them instead
// lets a misspelt or out of range config through that a real cluster
// refuses. kafkaTopicConfigs is Apache Kafka 4.4's LogConfig definition.

// topicConfigDef is one topic config's ConfigDef type and validator.
type topicConfigDef struct {
	typ string // BOOLEAN, INT, LONG, DOUBLE, STRING or LIST, as Kafka names them

	// lo and hi bound numbers (ConfigDef.Range) when hasLo or hasHi.
	lo, hi       float64
	hasLo, hasHi bool

	// oneOf lists the values a STRING, or each element of a LIST, may take.
	oneOf []string

	// check is a custom validator: it returns why v is invalid, or "".
	check func(v string) string
}

func atLeast(typ string, lo float64) topicConfigDef {
	return topicConfigDef{typ: typ, lo: lo, hasLo: true}
}

func between(typ string, lo, hi float64) topicConfigDef {
	return topicConfigDef{typ: typ, lo: lo, hi: hi, hasLo: true, hasHi: true}
}

var kafkaTopicConfigs = map[string]topicConfigDef{
	"cleanup.policy":                          {typ: "LIST", oneOf: []string{"compact", "delete"}},
	"compression.gzip.level":                  {typ: "INT", check: gzipLevel},
	"compression.lz4.level":                   between("INT", 1, 17),
	"compression.type":                        {typ: "STRING", oneOf: []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}},
	"compression.zstd.level":                  between("INT", -131072, 22),
	"delete.retention.ms":                     atLeast("LONG", 0),
	"errors.deadletterqueue.group.enable":     {typ: "BOOLEAN"},
	"file.delete.delay.ms":                    atLeast("LONG", 0),
	"flush.messages":                          atLeast("LONG", 1),
	"flush.ms":                                atLeast("LONG", 0),
	"follower.replication.throttled.replicas": {typ: "LIST", check: throttledReplicas("follower.replication.throttled.replicas")},
	"index.interval.bytes":                    atLeast("INT", 0),
	"internal.segment.bytes":                  {typ: "INT"},
	"leader.replication.throttled.replicas":   {typ: "LIST", check: throttledReplicas("leader.replication.throttled.replicas")},
	"local.retention.bytes":                   atLeast("LONG", -2),
	"local.retention.ms":                      atLeast("LONG", -2),
	"max.compaction.lag.ms":                   atLeast("LONG", 1),
	"max.decompressed.message.bytes":          between("INT", 1, 2147483639),
	"max.message.bytes":                       atLeast("INT", 0),
	"message.timestamp.after.max.ms":          atLeast("LONG", 0),
	"message.timestamp.before.max.ms":         atLeast("LONG", 0),
	"message.timestamp.type":                  {typ: "STRING", oneOf: []string{"CreateTime", "LogAppendTime"}},
	"min.cleanable.dirty.ratio":               between("DOUBLE", 0, 1),
	"min.compaction.lag.ms":                   atLeast("LONG", 0),
	"min.insync.replicas":                     atLeast("INT", 1),
	"preallocate":                             {typ: "BOOLEAN"},
	"remote.copy.lag.bytes":                   atLeast("LONG", -1),
	"remote.copy.lag.ms":                      atLeast("LONG", -1),
	"remote.log.copy.disable":                 {typ: "BOOLEAN"},
	"remote.log.delete.on.disable":            {typ: "BOOLEAN"},
	"remote.storage.enable":                   {typ: "BOOLEAN"},
	"retention.bytes":                         {typ: "LONG"},
	"retention.ms":                            atLeast("LONG", -1),
	"segment.bytes":                           atLeast("INT", 1048576),
	"segment.index.bytes":                     atLeast("INT", 4),
	"segment.jitter.ms":                       atLeast("LONG", 0),
	"segment.ms":                              atLeast("LONG", 1),
	"unclean.leader.election.enable":          {typ: "BOOLEAN"},
}

// topicConfigsProblem returns Kafka's message for the first invalid config
// of a topic's resulting configs, or "" if all are valid: null values
// first, then unknown names, then values, in name order. kfake's own
// "kfake." configs are not Kafka's and are not checked.
func topicConfigsProblem(configs map[string]*string) string {
	var names, nulls []string
	for name, v := range configs {
		if strings.HasPrefix(name, "kfake.") {
			continue
		}
		names = append(names, name)
		if v == nil {
			nulls = append(nulls, name)
		}
	}
	slices.Sort(names)
	if len(nulls) > 0 {
		slices.Sort(nulls)
		return "Null value not supported for topic configs: " + strings.Join(nulls, ",")
	}
	for _, name := range names {
		if _, ok := kafkaTopicConfigs[name]; !ok {
			return "Unknown topic config name: " + name
		}
	}
	for _, name := range names {
		v := *configs[name]
		if why, shown := kafkaTopicConfigs[name].problem(v); why != "" {
			return "Invalid value " + shown + " for configuration " + name + ": " + why
		}
	}
	return ""
}

// problem parses and validates v as Kafka's ConfigDef does. It returns
// why v is invalid and v as Kafka shows it in the message (the raw value
// when it does not parse, the parsed value when a validator refuses it).
func (d topicConfigDef) problem(v string) (why, shown string) {
	t := strings.TrimSpace(v)
	var num float64
	switch d.typ {
	case "BOOLEAN":
		if !strings.EqualFold(t, "true") && !strings.EqualFold(t, "false") {
			return "Expected value to be either true or false", v
		}
		return "", ""
	case "INT", "LONG":
		bits := 64
		if d.typ == "INT" {
			bits = 32
		}
		n, err := strconv.ParseInt(t, 10, bits)
		if err != nil {
			return "Not a number of type " + d.typ, v
		}
		num, shown = float64(n), strconv.FormatInt(n, 10)
	case "DOUBLE":
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return "Not a number of type DOUBLE", v
		}
		num, shown = f, javaDouble(f)
	case "STRING":
		if len(d.oneOf) > 0 && !slices.Contains(d.oneOf, t) {
			return "String must be one of: " + strings.Join(d.oneOf, ", "), t
		}
	case "LIST":
		for _, e := range splitConfigList(t) {
			if len(d.oneOf) > 0 && !slices.Contains(d.oneOf, e) {
				return "String must be one of: " + strings.Join(d.oneOf, ", "), e
			}
		}
		shown = "[" + strings.Join(splitConfigList(t), ", ") + "]"
	}
	if d.check != nil {
		if why := d.check(t); why != "" {
			return why, shown
		}
	}
	if d.hasLo && num < d.lo {
		return "Value must be at least " + strconv.FormatFloat(d.lo, 'f', -1, 64), shown
	}
	if d.hasHi && num > d.hi {
		return "Value must be no more than " + strconv.FormatFloat(d.hi, 'f', -1, 64), shown
	}
	return "", ""
}

// splitConfigList splits a LIST config as Kafka's ConfigDef does: on
// commas, each element trimmed; an empty value is an empty list.
func splitConfigList(v string) []string {
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func gzipLevel(v string) string {
	n, _ := strconv.Atoi(v)
	if n != -1 && (n < 1 || n > 9) {
		return "Value must be between 1 and 9 or equal to -1"
	}
	return ""
}

var throttledReplica = regexp.MustCompile(`^\d+:\d+$`)

// throttledReplicas is Kafka's ThrottledReplicaListValidator: "*" or a
// list of partition:broker pairs.
func throttledReplicas(name string) func(string) string {
	return func(v string) string {
		list := splitConfigList(v)
		if len(list) == 1 && list[0] == "*" {
			return ""
		}
		for _, e := range list {
			if !throttledReplica.MatchString(e) {
				return name + " must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
			}
		}
		return ""
	}
}

// javaDouble formats f as Java's Double.toString, which Kafka's messages
// show: "2.0", "0.01", "1.0E-4".
func javaDouble(f float64) string {
	if a := math.Abs(f); a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(f, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
