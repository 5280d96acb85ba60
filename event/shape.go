package event

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// A consumer reads the same producers' events over and over, and each
// producer writes its envelopes alike: the same members in the same order,
// the same source, type and content type; only the id, time, subject, data
// and extension values change. So the structured decoder remembers the
// shape of envelopes it has decoded — the bytes between those values — and
// reads a record of a known shape by comparing those bytes (memcmp) and
// scanning only the values that change, instead of scanning and dispatching
// every member.
//
// Nothing is trusted that was not checked: a shape is learnt only from a
// record that decoded and validated in full, and a record matches only if
// every byte outside the changing values equals the learnt record's and
// every changing value is checked as the full path checks it (the data is
// a valid JSON value, id/subject/time plain strings, extensions through the
// same rules). Anything else — escapes, another member order, invalid data
// — takes the full path, which reports the error.

// slotKind is what changes between records of one shape.
type slotKind uint8

const (
	slotID      slotKind = iota // string contents, between the quotes
	slotSubject                 // string contents
	slotTime                    // string contents
	slotData                    // a JSON value
	slotExt                     // an extension's JSON value
)

// maxShapeExts bounds the extension values a shape reads; envelopes with
// more take the full path.
const maxShapeExts = 4

type slot struct {
	kind slotKind
	name string // the extension's name
}

// shape is a learnt envelope layout: lits[i] comes before slots[i], and
// lits[len(slots)] ends the record.
type shape struct {
	lits  [][]byte
	slots []slot
	// ev holds the attributes every record of the shape shares (source,
	// type, content type, schema), validated when the shape was learnt.
	ev Event
}

const maxShapes = 8

var (
	shapes      atomic.Pointer[[]*shape]
	shapeMisses atomic.Uint32
)

// decodeShaped decodes v into e, which must be zero, if it has a known
// shape, reporting whether it did; e is left zero otherwise.
func decodeShaped(e *Event, v []byte, a *strArena) bool {
	known := shapes.Load()
	if known == nil {
		return false
	}
	for _, sh := range *known {
		if sh.decode(e, v, a) {
			return true
		}
	}
	return false
}

// decode is decodeShaped for one shape.
func (sh *shape) decode(e *Event, v []byte, a *strArena) bool {
	var (
		id, subject, tm, data []byte
		exts                  [maxShapeExts][]byte
		nExt                  int
		pos                   int
	)
	for i, sl := range sh.slots {
		lit := sh.lits[i]
		if len(v)-pos < len(lit) || string(v[pos:pos+len(lit)]) != string(lit) {
			return false
		}
		pos += len(lit)
		switch sl.kind {
		case slotID, slotSubject, slotTime:
			end := plainStringEnd(v, pos)
			if end < 0 {
				return false
			}
			s := v[pos:end]
			switch sl.kind {
			case slotID:
				id = s
			case slotSubject:
				subject = s
			default:
				tm = s
			}
			pos = end
		default:
			// As deep as inside the envelope, so nesting limits match the
			// full scan's.
			sc := scanner{b: v, i: pos, depth: 1}
			if sc.value() != nil {
				return false
			}
			if sl.kind == slotData {
				data = v[pos:sc.i]
			} else {
				exts[nExt] = v[pos:sc.i]
				nExt++
			}
			pos = sc.i
		}
	}
	if string(v[pos:]) != string(sh.lits[len(sh.slots)]) || len(id) == 0 {
		return false
	}
	// Fields are set in e (zero) one by one: copying a whole Event in
	// costs write barriers while the collector runs.
	var t time.Time
	if tm != nil {
		var err error
		if t, err = parseTime(tm); err != nil {
			return false
		}
	}
	if nExt > 0 {
		k := 0
		for _, sl := range sh.slots {
			if sl.kind != slotExt {
				continue
			}
			raw := exts[k]
			k++
			if !utf8.Valid(raw) || e.extension("structured", sl.name, raw) != nil {
				*e = Event{}
				return false
			}
		}
	}
	if tm != nil {
		e.Time = t
	}
	e.Source, e.Type, e.DataContentType, e.DataSchema = sh.ev.Source, sh.ev.Type, sh.ev.DataContentType, sh.ev.DataSchema
	e.Data = data
	n := 0
	var unique [2]pending
	unique[n] = pending{&e.ID, id}
	n++
	if subject != nil {
		unique[n] = pending{&e.Subject, subject}
		n++
	}
	a.set(unique[:n])
	return true
}

// plainStringEnd returns the index of the quote closing the string whose
// contents start at v[i], or -1 unless those contents are plain printable
// ASCII without escapes.
func plainStringEnd(v []byte, i int) int {
	for len(v)-i >= 8 {
		w := binary.LittleEndian.Uint64(v[i:])
		if m := jsonSpecial(w) | (w & highs); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			if v[i] == '"' {
				return i
			}
			return -1
		}
		i += 8
	}
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			return i
		case c < 0x20 || c == '\\' || c >= 0x80:
			return -1
		}
	}
	return -1
}

// learnShape remembers the shape of v, a structured record that decoded
// into e and validated in full, unless it has a feature shapes do not
// read. While the table has room every new shape is learnt; once it is
// full, one miss in 64 replaces a shape, so a stream of ever-changing
// layouts costs little and a changed producer is learnt soon.
func learnShape(e *Event, m *members) {
	known := shapes.Load()
	if known != nil && len(*known) >= maxShapes && shapeMisses.Add(1)%64 != 0 {
		return
	}
	sh := newShape(e, m)
	if sh == nil {
		return
	}
	var next []*shape
	if known != nil {
		next = append(next, *known...)
	}
	if len(next) >= maxShapes {
		next = next[1:] // the oldest goes
	}
	next = append(next, sh)
	shapes.CompareAndSwap(known, &next) // a lost race only skips learning once
}

// newShape builds the shape of m's record, or nil.
func newShape(e *Event, m *members) *shape {
	if m.dup || m.has(mDataBase64) || m.has(mUUID) || (m.has(mData) && !isJSON(e.DataContentType)) {
		return nil
	}
	type cut struct {
		from, to int
		slot     slot
	}
	var cuts []cut
	str := func(idx int, kind slotKind) bool {
		if !m.has(idx) {
			return true
		}
		sp := m.known[idx]
		if raw := m.raw(sp); raw[0] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
			return false
		}
		cuts = append(cuts, cut{sp.from + 1, sp.to - 1, slot{kind: kind}})
		return true
	}
	if !str(mID, slotID) || !str(mSubject, slotSubject) || !str(mTime, slotTime) {
		return nil
	}
	if m.has(mData) {
		cuts = append(cuts, cut{m.known[mData].from, m.known[mData].to, slot{kind: slotData}})
	}
	if len(m.other) > maxShapeExts {
		return nil
	}
	for _, kv := range m.other {
		key := m.raw(kv[0])
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil
		}
		cuts = append(cuts, cut{kv[1].from, kv[1].to, slot{kind: slotExt, name: string(key[1 : len(key)-1])}})
	}
	// Members come in record order within their kind only: sort them all.
	for i := 1; i < len(cuts); i++ {
		for j := i; j > 0 && cuts[j].from < cuts[j-1].from; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	src := bytes.Clone(m.src)
	sh := &shape{ev: Event{Source: e.Source, Type: e.Type, DataContentType: e.DataContentType, DataSchema: e.DataSchema}}
	pos := 0
	for _, c := range cuts {
		sh.lits = append(sh.lits, src[pos:c.from])
		sh.slots = append(sh.slots, c.slot)
		pos = c.to
	}
	sh.lits = append(sh.lits, src[pos:])
	return sh
}
