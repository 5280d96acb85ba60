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
					ok := sc.members(m.add) == nil
					if want := json.Valid([]byte(doc)); ok != want {
						t.Errorf("%q: scanner accepts %v, json.Valid %v", doc, ok, want)
					}
					if ascii := strings.IndexFunc(doc, func(r rune) bool { return r >= 0x80 }) < 0; ok && sc.ascii() != ascii {
						t.Errorf("%q: scanner says ASCII %v", doc, sc.ascii())
					}
				}
			}
		}
	}
}

func TestPlainString(t *testing.T) {
	for _, tc := range []struct {
		s     string
		plain bool
	}{
		{"", true}, {"member-service", true}, {"0123456789abcdef", true}, {"\x7f", true},
		{"0123456789abcde\"", false}, {"01234567\\", false}, {"0123456\x01", false}, {"\"", false},
		{"0123456789é", false}, {"abcdefg\x80", false}, {"abcdefgh\x80", false}, {"\x80bcdefghi", false},
	} {
		if got := plainString(tc.s); got != tc.plain {
			t.Errorf("plainString(%q) = %v, want %v", tc.s, got, tc.plain)
		}
	}
}
