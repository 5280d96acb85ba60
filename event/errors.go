package event

import (
	"errors"
	"fmt"
)

// Sentinel errors a [DecodeError] wraps; test with [errors.Is].
var (
	// ErrMalformed means the record value is not the JSON the mode needs.
	ErrMalformed = errors.New("malformed event")
	// ErrUnknownFormat means the record is neither a CloudEvent (structured
	// or binary) nor the legacy {"uuid","data"} shape.
	ErrUnknownFormat = errors.New("record is not a CloudEvent nor a legacy event")
	// ErrInvalid means the event decoded but breaks a CloudEvents rule
	// (missing id, source or type, bad time, unsupported specversion).
	ErrInvalid = errors.New("invalid event")
)

// DecodeError is returned when a record cannot be turned into a valid
// [Event], or when an event's data cannot be decoded into the type a handler
// asked for. The router never retries a DecodeError: the record goes to the
// dead-letter topic straight away, because decoding it again cannot succeed.
type DecodeError struct {
	// Mode is how the record was read: "structured", "binary", "legacy", or
	// "" when the format could not be recognised.
	Mode string
	// Field names the offending attribute, "" when the whole value is bad.
	Field string
	// Err is the cause; it wraps one of ErrMalformed, ErrUnknownFormat or
	// ErrInvalid.
	Err error
}

// Error describes the failure: mode, field and cause.
func (e *DecodeError) Error() string {
	s := "event: decode"
	if e.Mode != "" {
		s += " " + e.Mode
	}
	if e.Field != "" {
		s += " field " + e.Field
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(mode, field string, sentinel error, format string, args ...any) *DecodeError {
	return &DecodeError{Mode: mode, Field: field, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

// IsDecodeError reports whether err (or an error it wraps) is a
// [*DecodeError].
func IsDecodeError(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so the router skips the retries and dead-letters the
// record at once. Use it for failures that another attempt cannot fix (a
// business rule rejects the event, a referenced entity can never exist).
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was wrapped by [Permanent] or is a
// [*DecodeError]: both are failures the router does not retry.
func IsPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe) || IsDecodeError(err)
}

// ErrRouterClosed is returned by [Router.Run] when called twice.
var ErrRouterClosed = errors.New("event: router already ran")
