package event

import "strings"

// CloudEvents types source as a URI-reference and dataschema as an absolute
// URI (RFC 3986). Other SDKs parse them as such, so a value that is not one
// would be changed ("member service" becomes "member%20service") or
// rejected downstream; the package refuses it at the source instead. The
// checks are a byte-class table walk: encoding and decoding run them per
// event.

// uriClass flags what a byte may be in a URI.
type uriClass uint8

const (
	uriPath       uriClass = 1 << iota // pchar and "/": unreserved, sub-delims, ":", "@", "/"
	uriSchemeChar                      // after a scheme's first letter: ALPHA, DIGIT, "+", "-", "."
	uriAuthHost                        // only inside an authority: "[", "]" of an IP literal
)

var uriTable = func() (t [256]uriClass) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] = uriPath | uriSchemeChar
		}
	}
	for _, c := range "-._~!$&'()*+,;=:@/" {
		t[c] |= uriPath
	}
	for _, c := range "+-." {
		t[c] |= uriSchemeChar
	}
	t['['], t[']'] = uriAuthHost, uriAuthHost
	return t
}()

// validURIRef reports whether s is an RFC 3986 URI-reference.
func validURIRef(s string) bool {
	_, ok := parseURIRef(s)
	return ok
}

// validAbsoluteURI reports whether s is an RFC 3986 URI with a scheme.
func validAbsoluteURI(s string) bool {
	scheme, ok := parseURIRef(s)
	return ok && scheme
}

// parseURIRef checks s as a URI-reference and reports whether it has a
// scheme.
func parseURIRef(s string) (scheme, ok bool) {
	// A colon before any "/", "?" or "#" ends a scheme; in a relative
	// reference the first segment cannot hold one.
	rest := s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			if i == 0 || !isAlpha(s[0]) {
				return false, false
			}
			for j := 1; j < i; j++ {
				if uriTable[s[j]]&uriSchemeChar == 0 {
					return false, false
				}
			}
			scheme, rest = true, s[i+1:]
			break
		}
		if c == '/' || c == '?' || c == '#' {
			break
		}
	}
	// The authority, after "//" up to the next "/", "?" or "#", may hold an
	// IP literal in brackets.
	if len(rest) >= 2 && rest[0] == '/' && rest[1] == '/' {
		i := 2
		for i < len(rest) && rest[i] != '/' && rest[i] != '?' && rest[i] != '#' {
			i++
		}
		if !validURIPart(rest[2:i], uriPath|uriAuthHost) {
			return false, false
		}
		rest = rest[i:]
	}
	// What is left is a path, then an optional query and fragment, which
	// may also hold "?" (the path ends at the first one, so holds none).
	rest, fragment, _ := strings.Cut(rest, "#")
	return scheme, validURIPart(rest, uriPath) && validURIPart(fragment, uriPath)
}

// validURIPart reports whether every byte of s is in class, or a
// percent-encoded octet, or "?" (which ends a path and may then appear
// in its query and fragment).
func validURIPart(s string, class uriClass) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case uriTable[c]&class != 0, c == '?':
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
