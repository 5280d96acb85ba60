package events

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// field is one JSON field of a data type, as the catalogue describes it.
type field struct {
	index    int
	name     string // JSON name
	required bool
	doc      string
	nested   []field // the fields of a struct-valued field
}

var plans sync.Map // reflect.Type → []field

// fieldsOf reads t's JSON fields from its struct tags, once per type.
func fieldsOf(t reflect.Type) []field {
	if f, ok := plans.Load(t); ok {
		return f.([]field)
	}
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		f := field{index: i, name: name, required: sf.Tag.Get("required") == "true", doc: sf.Tag.Get("doc")}
		if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[Time]() {
			f.nested = fieldsOf(sf.Type)
		}
		out = append(out, f)
	}
	plans.Store(t, out)
	return out
}

// validate reports every required field of *v that is missing or empty,
// by its JSON path. Values that are present but malformed never get here:
// decoding rejects them.
func validate(v any) error {
	rv := reflect.ValueOf(v).Elem()
	var missing []string
	walkRequired(rv, fieldsOf(rv.Type()), "", &missing)
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing required %s: %s", plural(len(missing), "field"), strings.Join(missing, ", "))
}

func walkRequired(v reflect.Value, fields []field, prefix string, missing *[]string) {
	for _, f := range fields {
		fv := v.Field(f.index)
		switch {
		case f.required && fv.IsZero():
			*missing = append(*missing, prefix+f.name)
		case f.nested != nil:
			walkRequired(fv, f.nested, prefix+f.name+".", missing)
		}
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// ErrInvalidData is wrapped by every error about an event's data: it does
// not match the catalogue, so no retry can apply it.
var ErrInvalidData = errors.New("invalid event data")
