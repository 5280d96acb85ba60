package records

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// AppendJSON appends r as one --output json line (without the newline):
// the bytes json.Marshal(ToJSONRecord(r)) gives, written without
// reflection because consume prints every record this way.
func AppendJSON(b []byte, r *kgo.Record) []byte {
	b = append(b, `{"topic":`...)
	b = appendJSONString(b, r.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"timestamp":"`...)
	b = r.Timestamp.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","key":`...)
	b = appendJSONBytesOrNull(b, r.Key)
	b = append(b, `,"headers":{`...)
	for i, h := range sortedHeaders(r.Headers) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, h.Key)
		b = append(b, ':')
		b = appendJSONString(b, h.Value)
	}
	b = append(b, `},"value":`...)
	b = appendJSONBytesOrNull(b, r.Value)
	return append(b, '}')
}

// sortedHeaders orders headers by key, keeping only the last of equal keys,
// as a JSON object (a Go map) of them would.
func sortedHeaders(hs []kgo.RecordHeader) []kgo.RecordHeader {
	if len(hs) < 2 {
		return hs
	}
	out := slices.Clone(hs)
	slices.SortStableFunc(out, func(a, b kgo.RecordHeader) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	last := out[:0]
	for i, h := range out {
		if i+1 < len(out) && out[i+1].Key == h.Key {
			continue
		}
		last = append(last, h)
	}
	return last
}

func appendJSONBytesOrNull(b, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json writes
// a Go string with HTML escaping off: invalid UTF-8 becomes U+FFFD, and
// U+2028/U+2029 are escaped so the line is also valid JavaScript.
func appendJSONString[S ~string | ~[]byte](b []byte, s S) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune([]byte(s[i:min(i+utf8.UTFMax, len(s))]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
