package event

import (
	"math/rand/v2"
	"testing"
	"time"
)

// appendTime and parseTime must agree with the time package on every input;
// their cache of the last second must not change a result.
func TestTimestampMatchesTimePackage(t *testing.T) {
	base := time.Date(2026, 11, 25, 14, 30, 59, 0, time.UTC)
	times := []time.Time{
		base, base.Add(999999999), base.Add(time.Nanosecond), base.Add(time.Millisecond), base.Add(time.Second),
		base.Add(120 * time.Microsecond), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), base.In(time.FixedZone("", 3600)), base.Local(),
		time.Unix(0, 0).UTC(),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(rng.Int64N(1<<34)-1<<33, rng.Int64N(1e9)).UTC())
		times = append(times, base.Add(time.Duration(rng.Int64N(int64(3*time.Second)))))
	}
	for _, tm := range times {
		want := tm.AppendFormat(nil, time.RFC3339Nano)
		if got := appendTime(nil, tm); string(got) != string(want) {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
		checkParse(t, string(want))
	}
	for _, s := range []string{
		"2026-11-25T14:30:59Z", "2026-11-25T14:30:59.5Z", "2026-11-25T14:30:59.123456789Z",
		"2026-11-25T14:30:59.1234567891Z", "2026-11-25T14:30:59.Z", "2026-11-25T14:30:59,5Z",
		"2026-11-25T14:30:59.5x", "2026-11-25T14:30:59+01:00", "2026-11-25T14:30:59.5+01:00",
		"2026-11-25T14:30:5Z", "2026-11-25T14:30:59.-5Z", "2026-13-25T14:30:59Z", "2026-02-30T14:30:59Z",
		"2026-11-25T24:00:00Z", "2026-11-25t14:30:59z", "", "Z", "2026-11-25T14:30:59",
	} {
		checkParse(t, s)
		checkParse(t, s) // again, through the cache
	}
}

func checkParse(t *testing.T, s string) {
	t.Helper()
	want, werr := time.Parse(time.RFC3339Nano, s)
	got, gerr := parseTime(s)
	if (werr == nil) != (gerr == nil) || got != want {
		t.Fatalf("parseTime(%q) = %v, %v; time.Parse: %v, %v", s, got, gerr, want, werr)
	}
}

// FuzzParseTime checks parseTime against time.Parse on arbitrary text, with
// the cache warmed by a valid time of the same second first.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T14:30:59Z", "2026-11-25T14:30:59.000000001Z", "2026-11-25T14:30:59.9Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) >= dateLen {
			_, _ = parseTime(s[:dateLen] + "Z")
		}
		checkParse(t, s)
	})
}
