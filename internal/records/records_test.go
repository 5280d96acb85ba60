package records

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in      string
		key     string
		value   string
		wantErr bool
	}{
		{"source=cli", "source", "cli", false},
		{"trace=a=b", "trace", "a=b", false},
		{"empty=", "empty", "", false},
		{"novalue", "", "", true},
		{"=v", "", "", true},
	}
	for _, tt := range tests {
		h, err := ParseHeader(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ParseHeader(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if !tt.wantErr && (h.Key != tt.key || string(h.Value) != tt.value) {
			t.Errorf("ParseHeader(%q) = %s=%s", tt.in, h.Key, h.Value)
		}
	}
}

func TestProduceRecordKeyDelimiter(t *testing.T) {
	key := "fixed"
	tests := []struct {
		name      string
		o         ProduceOptions
		line      string
		wantKey   []byte
		wantValue string
	}{
		{"no key", ProduceOptions{}, "v", nil, "v"},
		{"fixed key", ProduceOptions{Key: &key}, "v", []byte("fixed"), "v"},
		{"delimiter", ProduceOptions{KeyDelimiter: ":"}, `m-1:{"a":1}`, []byte("m-1"), `{"a":1}`},
		{"delimiter missing keeps the line", ProduceOptions{KeyDelimiter: ":"}, "plain", nil, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.o.record([]byte(tt.line))
			if string(r.Key) != string(tt.wantKey) || (r.Key == nil) != (tt.wantKey == nil) || string(r.Value) != tt.wantValue {
				t.Fatalf("key %q value %q, want %q %q", r.Key, r.Value, tt.wantKey, tt.wantValue)
			}
		})
	}
}

func TestConsumeOptionsStart(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	neg, pos := int64(-5), int64(7)
	tests := []struct {
		name string
		o    ConsumeOptions
		want kgo.Offset
	}{
		{"default is the end", ConsumeOptions{}, kgo.NewOffset().AtEnd()},
		{"from beginning", ConsumeOptions{FromBeginning: true}, kgo.NewOffset().AtStart()},
		{"offset", ConsumeOptions{Offset: &pos}, kgo.NewOffset().At(7)},
		{"negative offset", ConsumeOptions{Offset: &neg}, kgo.NewOffset().AtEnd().Relative(-5)},
		{"since", ConsumeOptions{Since: 10 * time.Minute, Now: func() time.Time { return now }},
			kgo.NewOffset().AfterMilli(now.Add(-10 * time.Minute).UnixMilli())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Offset.String leaves out whether it is a timestamp: compare
			// the values, or --since could become an offset unnoticed.
			if got := tt.o.start(); got != tt.want {
				t.Fatalf("start %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestConsumeOptionsValidate(t *testing.T) {
	off := int64(1)
	tests := []struct {
		name string
		o    ConsumeOptions
		want string
	}{
		{"ok", ConsumeOptions{Topic: "t", Partition: -1}, ""},
		{"no topic", ConsumeOptions{Partition: -1}, "no topic"},
		{"two starts", ConsumeOptions{Topic: "t", Partition: -1, FromBeginning: true, Offset: &off}, "give one"},
		{"group with offset", ConsumeOptions{Topic: "t", Partition: -1, Group: "g", Offset: &off}, "--offset cannot be used with --group"},
		{"group with partition", ConsumeOptions{Topic: "t", Partition: 0, Group: "g"}, "--partition cannot be used with --group"},
		{"negative count", ConsumeOptions{Topic: "t", Partition: -1, Count: -1}, "--count -1"},
		{"bad output", ConsumeOptions{Topic: "t", Partition: -1, Output: "xml"}, `--output "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestToJSONRecordKeepsNulls(t *testing.T) {
	j := ToJSONRecord(&kgo.Record{Topic: "t", Value: nil, Key: nil, Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}})
	if j.Key != nil || j.Value != nil || j.Headers["h"] != "v" {
		t.Fatalf("%+v", j)
	}
}

// oneByteReader returns its input a byte per Read, the worst case for
// lines crossing buffer boundaries.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", chunkSize+10) // crosses a buffer boundary
	tests := []struct {
		name string
		in   io.Reader
		want []string
	}{
		{"empty", strings.NewReader(""), nil},
		{"lines", strings.NewReader("a\nb\n"), []string{"a", "b"}},
		{"no final newline", strings.NewReader("a\nb"), []string{"a", "b"}},
		{"empty lines kept", strings.NewReader("\n\na\n"), []string{"", "", "a"}},
		{"byte by byte", &oneByteReader{"one\ntwo\nthree"}, []string{"one", "two", "three"}},
		{"line longer than a chunk", strings.NewReader("a\n" + long + "\nb\n"), []string{"a", long, "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &lineReader{r: tt.in}
			var got []string
			var lines [][]byte
			for {
				line, err := l.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(line))
				lines = append(lines, line)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				// Lines handed out earlier must not have been overwritten.
				if got[i] != tt.want[i] || string(lines[i]) != tt.want[i] {
					t.Fatalf("line %d = %.20q, want %.20q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLineReaderTooLong(t *testing.T) {
	// One byte too long, whether the line ends the input, has its newline,
	// or arrives in one read.
	tooLong := strings.Repeat("x", MaxLine+1)
	for _, input := range []string{tooLong, tooLong + "\n", "short\n" + tooLong + "\nnext\n"} {
		for _, r := range []io.Reader{strings.NewReader(input), iotest.HalfReader(strings.NewReader(input)), bytes.NewBufferString(input)} {
			l := &lineReader{r: r}
			var err error
			for err == nil {
				var line []byte
				if line, err = l.next(); len(line) > MaxLine {
					t.Fatalf("a line of %d bytes was read, want errLineTooLong", len(line))
				}
			}
			if err != errLineTooLong {
				t.Fatalf("err %v, want errLineTooLong", err)
			}
		}
	}
	// Issue 9, item 13: a line of exactly MaxLine bytes is not too long,
	// with or without its newline, whatever the reads' sizes.
	for _, input := range []string{strings.Repeat("x", MaxLine) + "\nnext\n", strings.Repeat("x", MaxLine)} {
		for _, r := range []io.Reader{strings.NewReader(input), iotest.HalfReader(strings.NewReader(input))} {
			l := &lineReader{r: r}
			line, err := l.next()
			if err != nil || len(line) != MaxLine {
				t.Fatalf("a line of exactly %d bytes: %d bytes, %v", MaxLine, len(line), err)
			}
		}
	}
}

// TestAppendJSONMatchesEncodingJSON holds AppendJSON to the bytes
// encoding/json writes for the same record, tricky bytes included.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	tests := []*kgo.Record{
		{Topic: "t", Partition: 2, Offset: 41, Timestamp: ts, Key: []byte("k"), Value: []byte(`{"a":"b\"c"}`)},
		{Topic: "t", Timestamp: ts},
		{Topic: "t", Timestamp: ts, Key: []byte{}, Value: []byte("tab\tnl\ncr\rbs\\ctl\x01\x1f del\x7f")},
		{Topic: "t", Timestamp: ts, Value: []byte("bad utf8 \xff\xfe and \xe2\x82 cut, ok é 日本 😀 \u2028\u2029 <&>")},
		{Topic: "t", Timestamp: ts, Headers: []kgo.RecordHeader{{Key: "b", Value: []byte("1")}, {Key: "a", Value: []byte("2")}, {Key: "b", Value: []byte("3")}, {Key: "q\"", Value: nil}}},
	}
	for i, r := range tests {
		// encoding/json escapes <, > and & unless told otherwise; consume does not.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ToJSONRecord(r)); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := AppendJSON(nil, r); !bytes.Equal(got, want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte("k"), []byte(`{"a":1}`), "h", []byte("v"))
	f.Add([]byte("\xff"), []byte("\u2028\x00"), "\x7f", []byte(nil))
	f.Fuzz(func(t *testing.T, key, value []byte, hk string, hv []byte) {
		r := &kgo.Record{Topic: "t", Key: key, Value: value, Headers: []kgo.RecordHeader{{Key: hk, Value: hv}}}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ToJSONRecord(r)); err != nil {
			t.Fatal(err)
		}
		if got, want := AppendJSON(nil, r), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

// The cluster gets the whole timeout from when an answer became owed: for
// records sent after a quiet spell, from their send, not from the last
// answer before it (which gave up too early) nor from the watch timer's
// last start (which gave up up to a timeout late).
func TestProduceWatchTimesFromTheOwedAnswer(t *testing.T) {
	const timeout = time.Second
	tr := newProduceTracker()
	tr.sent()
	tr.done(1, "t", nil) // answered: nothing owed
	pctx, giveUp := context.WithCancelCause(context.Background())
	defer giveUp(nil)
	start := time.Now()
	go tr.watch(context.Background(), pctx, giveUp, timeout)

	time.Sleep(100 * time.Millisecond) // the quiet spell before the next send: the point of the test, not synchronisation
	sent := time.Now()
	tr.sent()
	select {
	case <-pctx.Done():
	case <-time.After(5 * timeout):
		t.Fatal("the watch never gave up on a record owed an answer")
	}
	gaveUp := time.Since(sent)
	if !errors.Is(context.Cause(pctx), ErrNoAnswer) {
		t.Fatalf("cause %v, want ErrNoAnswer", context.Cause(pctx))
	}
	if gaveUp < timeout || gaveUp > timeout+timeout/2 {
		t.Fatalf("gave up %s after the send (%s after the watch started), want one timeout (%s) after it",
			gaveUp.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), timeout)
	}
}
