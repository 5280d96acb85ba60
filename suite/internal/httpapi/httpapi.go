// Package httpapi is the Suite services' HTTP plumbing: handlers return
// errors, and this package alone turns them into RFC 9457
// application/problem+json responses.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Error is an error with the HTTP status it answers. Detail is shown to the
// client; Err, the cause, only logged.
type Error struct {
	Status int
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400: the request is malformed or a field is invalid.
func BadRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

// NotFound is a 404.
func NotFound(format string, args ...any) error { return errorf(http.StatusNotFound, format, args...) }

// Conflict is a 409: the request clashes with the current state.
func Conflict(format string, args ...any) error { return errorf(http.StatusConflict, format, args...) }

// Unprocessable is a 422: well-formed, but it refers to something that
// does not exist (yet).
func Unprocessable(format string, args ...any) error {
	return errorf(http.StatusUnprocessableEntity, format, args...)
}

// Problem is the application/problem+json body (RFC 9457).
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

// ContentTypeProblem is the media type of error responses.
const ContentTypeProblem = "application/problem+json"

// RequestTimeout bounds a request's work (its database transaction).
const RequestTimeout = 15 * time.Second

// HandlerFunc is an HTTP handler that returns its error instead of
// writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h: its context gets [RequestTimeout], and its error is
// written as a problem (a 500's cause is logged, not shown).
func Handle(log *slog.Logger, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		if err := h(w, r.WithContext(ctx)); err != nil {
			writeError(log, w, r, err)
		}
	})
}

// writeError is the one place errors become responses.
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, context.DeadlineExceeded):
		e = &Error{Status: http.StatusServiceUnavailable, Detail: "the request took longer than " + RequestTimeout.String() + "; try again", Err: err}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client went away
	default:
		e = &Error{Status: http.StatusInternalServerError, Detail: "internal error; the service log has the cause", Err: err}
	}
	if e.Status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", err)
	}
	WriteProblem(w, r, e.Status, e.Detail)
}

// WriteProblem writes a problem response.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", ContentTypeProblem)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path,
	})
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// jsonKind names what a Go type takes in JSON terms, for the client who
// wrote the JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// ReadJSON decodes the request body into v: one JSON object, no unknown
// fields (a misspelt "nickname" is an error, not a silently empty
// nickName). Failures are 400s saying what is wrong.
func ReadJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		return nil
	}
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		problem string
	)
	switch {
	case errors.Is(err, io.EOF):
		problem = "the request body is empty: send a JSON object"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		problem = "the request body is not valid JSON: " + err.Error()
	case errors.As(err, &typ) && typ.Field != "" && strings.Contains(typ.Value, ", want "):
		// A type of the API's own (a time, say) said what it wants.
		problem = fmt.Sprintf("field %s: %s", typ.Field, typ.Value)
	case errors.As(err, &typ) && typ.Field != "":
		problem = fmt.Sprintf("field %s: %s, want %s", typ.Field, typ.Value, jsonKind(typ.Type))
	case errors.As(err, &typ):
		problem = "the request body must be a JSON object, not " + typ.Value
	case errors.As(err, &tooBig):
		problem = fmt.Sprintf("the request body is larger than %d bytes", maxBody)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		problem = "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	default:
		problem = "the request body: " + err.Error()
	}
	return BadRequest("%s", problem)
}

// PathID reads the path value name as a positive integer id.
func PathID(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, BadRequest("%s %q in the path is not a positive integer", name, s)
	}
	return id, nil
}

// NotFoundHandler answers requests no route matched: a 405 with Allow when
// the path exists for other methods, else a 404, both as problems.
func NotFoundHandler(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			WriteProblem(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not supported; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		WriteProblem(w, r, http.StatusNotFound, "no such resource: "+r.URL.Path)
	})
}
