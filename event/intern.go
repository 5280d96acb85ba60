package event

import "sync/atomic"

// A consumer sees the same few sources, types and content types over and
// over, so decoding takes those strings from a table instead of allocating
// them per event. The table is copied on write and read without a lock;
// it stops growing at maxInterned strings, after which new values are
// simply allocated.

const maxInterned = 256

var interned atomic.Pointer[map[string]string]

// intern returns b as a string, shared with earlier calls for the same
// bytes while the table has room.
func intern(b []byte) string {
	p := interned.Load()
	if p != nil {
		if s, ok := (*p)[string(b)]; ok {
			return s
		}
		if len(*p) >= maxInterned {
			return string(b)
		}
	}
	s := string(b)
	for {
		next := make(map[string]string, 1+len(mapOf(p)))
		for k, v := range mapOf(p) {
			next[k] = v
		}
		next[s] = s
		if interned.CompareAndSwap(p, &next) {
			return s
		}
		if p = interned.Load(); len(*p) >= maxInterned {
			return s
		}
		if v, ok := (*p)[s]; ok {
			return v
		}
	}
}

func mapOf(p *map[string]string) map[string]string {
	if p == nil {
		return nil
	}
	return *p
}

// recent remembers the last string interned for one attribute: a consumer
// mostly sees the same source, type and content type again, and comparing
// with the last one is cheaper than hashing for the table.
type recent struct{ last atomic.Pointer[string] }

var recentSource, recentType, recentContentType recent

// intern is [intern] behind the last value seen.
func (r *recent) intern(b []byte) string {
	if p := r.last.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := intern(b)
	r.last.Store(&s)
	return s
}
