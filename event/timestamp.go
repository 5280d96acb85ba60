package event

import (
	"sync/atomic"
	"time"
)

// Event times are written and read as RFC 3339 with nanoseconds. The time
// package's formatter and parser cost as much as the rest of an envelope,
// and the events of a busy producer or consumer fall mostly in the same
// second. So the date-and-seconds part of the last second seen is kept, as
// logging libraries do, and only the fraction is done per event. Everything
// else goes to the time package.

// second is one UTC second and its text, "2006-01-02T15:04:05".
type second struct {
	unix int64
	text string
}

// dateLen is the length of second.text for years 0000-9999.
const dateLen = len("2006-01-02T15:04:05")

var (
	lastFormatted atomic.Pointer[second]
	lastParsed    atomic.Pointer[second]
)

// appendTime appends t as t.AppendFormat(b, time.RFC3339Nano) does.
func appendTime(b []byte, t time.Time) []byte {
	if t.Location() != time.UTC {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	unix := t.Unix()
	s := lastFormatted.Load()
	if s == nil || s.unix != unix {
		s = &second{unix: unix, text: t.Truncate(time.Second).Format("2006-01-02T15:04:05")}
		lastFormatted.Store(s)
	}
	b = append(b, s.text...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

// parseTime parses b as time.Parse(time.RFC3339Nano, string(b)) does.
func parseTime[T string | []byte](b T) (time.Time, error) {
	if ns, ok := utcFraction(b); ok {
		if p := lastParsed.Load(); p != nil && string(b[:dateLen]) == p.text {
			return time.Unix(p.unix, ns).UTC(), nil
		}
	}
	s := string(b)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil && t.Location() == time.UTC && len(s) > dateLen {
		if _, ok := utcFraction(s); ok {
			lastParsed.Store(&second{unix: t.Unix(), text: s[:dateLen]})
		}
	}
	return t, err
}

// utcFraction reads the part of s after the seconds when it is an optional
// fraction of 1 to 9 digits and a final 'Z', returning it as nanoseconds.
func utcFraction[T string | []byte](s T) (int64, bool) {
	if len(s) < dateLen+1 || s[len(s)-1] != 'Z' {
		return 0, false
	}
	frac := s[dateLen : len(s)-1]
	if len(frac) == 0 {
		return 0, true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
		return 0, false
	}
	var ns int64
	for i := 1; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		ns = ns*10 + int64(c-'0')
	}
	for range 10 - len(frac) {
		ns *= 10
	}
	return ns, true
}
