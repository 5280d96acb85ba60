package records

import (
	"bytes"
	"fmt"
	"io"
)

// chunkSize is how much input lineReader reads at a time.
const chunkSize = 1 << 20

// errLineTooLong reports a line longer than MaxLine.
var errLineTooLong = fmt.Errorf("a line is longer than %d bytes", MaxLine)

// lineReader splits input into lines that are slices of large read
// buffers which are never reused, so a record can keep its line without a
// copy per line (bufio.Scanner reuses its buffer and would force one).
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int // unread input is buf[start:end]
	err        error
}

// next returns the next line without its '\n', or the read error (io.EOF
// at the end). A last line without '\n' is still a line.
func (l *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.start:l.end], '\n'); i >= 0 {
			if i > MaxLine {
				return nil, errLineTooLong
			}
			line := l.buf[l.start : l.start+i : l.start+i]
			l.start += i + 1
			return line, nil
		}
		if l.err != nil {
			if l.end-l.start > MaxLine {
				return nil, errLineTooLong
			}
			if l.start < l.end {
				line := l.buf[l.start:l.end:l.end]
				l.start = l.end
				return line, nil
			}
			return nil, l.err
		}
		if l.end-l.start > MaxLine {
			return nil, errLineTooLong
		}
		l.fill()
	}
}

// hasLine reports whether next would return without reading more input.
func (l *lineReader) hasLine() bool {
	return l.err != nil || bytes.IndexByte(l.buf[l.start:l.end], '\n') >= 0
}

// fill moves the unfinished line into a fresh buffer (the old one belongs
// to the records already handed out) and reads more input after it.
func (l *lineReader) fill() {
	rest := l.end - l.start
	if len(l.buf)-l.end < chunkSize/4 {
		nb := make([]byte, max(chunkSize, 2*rest))
		copy(nb, l.buf[l.start:l.end])
		l.buf, l.start, l.end = nb, 0, rest
	}
	// As bufio does: a reader that keeps returning nothing is broken.
	for range 100 {
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if err != nil {
			l.err = err
		}
		if n > 0 || err != nil {
			return
		}
	}
	l.err = io.ErrNoProgress
}
