package event

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// HeaderTraceparent is the W3C Trace Context header the producer writes and
// the router reads.
const HeaderTraceparent = "traceparent"

type traceparentKey struct{}

// ContextWithTraceparent returns ctx carrying a W3C traceparent
// ("00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"). The [Producer]
// and [Outbox] copy it into the traceparent header of every event published
// with that context, and the [Router] puts the header of a consumed record
// back into the handler's context, so a trace crosses Kafka without this
// package depending on a tracing library. An invalid value is ignored.
//
// With OpenTelemetry, bridge it in a few lines: format the span context of
// the current span as a traceparent on the way out, and on the way in start
// a span whose remote parent is parsed from [TraceparentFromContext].
func ContextWithTraceparent(ctx context.Context, traceparent string) context.Context {
	if !validTraceparent(traceparent) {
		return ctx
	}
	return context.WithValue(ctx, traceparentKey{}, traceparent)
}

// TraceparentFromContext returns the traceparent ctx carries, if any.
func TraceparentFromContext(ctx context.Context) (string, bool) {
	tp, ok := ctx.Value(traceparentKey{}).(string)
	return tp, ok
}

// validTraceparent checks the version-00 layout: 2-32-16-2 lower-case hex
// fields joined by dashes, trace and span id not all zeros.
func validTraceparent(s string) bool {
	if len(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	zeroTrace, zeroSpan := true, true
	for i := 0; i < len(s); i++ {
		if i == 2 || i == 35 || i == 52 {
			continue
		}
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
		if c != '0' {
			if i > 2 && i < 35 {
				zeroTrace = false
			} else if i > 35 && i < 52 {
				zeroSpan = false
			}
		}
	}
	return s[:2] != "ff" && !zeroTrace && !zeroSpan
}

// addTraceparent adds ctx's traceparent to r's headers.
func addTraceparent(ctx context.Context, r *kgo.Record) {
	if tp, ok := TraceparentFromContext(ctx); ok {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderTraceparent, Value: []byte(tp)})
	}
}

// traceparentOf returns the traceparent header of r, "" when absent.
func traceparentOf(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == HeaderTraceparent {
			return string(h.Value)
		}
	}
	return ""
}
