package event

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers the router adds to a dead-letter record, beside the original
// record's own headers.
const (
	HeaderDLTOriginalTopic     = "ksuite-dlt-original-topic"
	HeaderDLTOriginalPartition = "ksuite-dlt-original-partition"
	HeaderDLTOriginalOffset    = "ksuite-dlt-original-offset"
	// HeaderDLTError is the error text, cut to 4 KiB.
	HeaderDLTError = "ksuite-dlt-error"
	// HeaderDLTAttempts is how many times the handler ran; "0" when the
	// record could not be decoded and no handler ran.
	HeaderDLTAttempts = "ksuite-dlt-attempts"
	HeaderDLTGroup    = "ksuite-dlt-group"
)

// DeadLetterSuffix is appended to a topic's name to name its dead-letter
// topic.
const DeadLetterSuffix = ".DLT"

// DeadLetterTopic is the dead-letter topic of topic: "<topic>.DLT". Create
// it beside the topic (same partition count is a good default) unless the
// brokers auto-create topics.
func DeadLetterTopic(topic string) string { return topic + DeadLetterSuffix }

const maxErrorHeader = 4 << 10

// deadLetterRecord copies r's key, value and headers to r's dead-letter
// topic and adds where it came from and why it failed. Keeping the key keeps
// the entity's dead letters in order; keeping the value byte-for-byte lets
// an operator replay it unchanged.
func deadLetterRecord(r *kgo.Record, group string, cause error, attempts int) *kgo.Record {
	msg := cause.Error()
	if len(msg) > maxErrorHeader {
		msg = msg[:maxErrorHeader]
	}
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+6)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderDLTOriginalTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderDLTOriginalPartition, Value: strconv.AppendInt(nil, int64(r.Partition), 10)},
		kgo.RecordHeader{Key: HeaderDLTOriginalOffset, Value: strconv.AppendInt(nil, r.Offset, 10)},
		kgo.RecordHeader{Key: HeaderDLTError, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderDLTAttempts, Value: strconv.AppendInt(nil, int64(attempts), 10)},
		kgo.RecordHeader{Key: HeaderDLTGroup, Value: []byte(group)},
	)
	return &kgo.Record{
		Topic:     DeadLetterTopic(r.Topic),
		Key:       r.Key,
		Value:     r.Value,
		Headers:   headers,
		Timestamp: r.Timestamp,
	}
}
