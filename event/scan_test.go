package event

import (
	"encoding/json"
	"strings"
	"testing"
)

// The scanner skips string bytes a word at a time; every special byte at
// every position around the word boundaries must still be seen exactly as
// json.Valid sees it.
func TestScannerStringsMatchJSONValid(t *testing.T) {
	specials := []string{`"`, `\`, `\"`, `\\`, `\u00e9`, `\u00g9`, `\x`, "\x00", "\x1f", " ", "\x7f", "\x80", "\xff", "é", "a"}
	for n := range 25 {
		for p := 0; p <= n; p++ {
			for _, sp := range specials {
				s := strings.Repeat("a", p) + sp + strings.Repeat("b", n-p)
				for _, doc := range []string{`{"k":"` + s + `"}`, `{"k":["` + s + `"]}`, `{"` + s + `":1}`} {
					m := members{src: []byte(doc)}
					sc := scanner{b: []byte(doc)}
					if got, want := sc.members(m.add) == nil, json.Valid([]byte(doc)); got != want {
						t.Errorf("%q: scanner accepts %v, json.Valid %v", doc, got, want)
					}
				}
			}
		}
	}
}

func TestPlainStringAndASCII(t *testing.T) {
	for _, tc := range []struct {
		s            string
		plain, ascii bool
	}{
		{"", true, true}, {"member-service", true, true}, {"0123456789abcdef", true, true},
		{"0123456789abcde\"", false, true}, {"01234567\\", false, true}, {"0123456\x01", false, true},
		{"0123456789é", false, false}, {"\x7f", true, true}, {"abcdefg\x80", false, false},
	} {
		if got := plainString(tc.s); got != tc.plain {
			t.Errorf("plainString(%q) = %v, want %v", tc.s, got, tc.plain)
		}
		if got := isASCII([]byte(tc.s)); got != tc.ascii {
			t.Errorf("isASCII(%q) = %v, want %v", tc.s, got, tc.ascii)
		}
	}
}
