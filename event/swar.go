package event

// Byte tests eight bytes at a time ("SIMD within a register"). Encoding and
// decoding an envelope are mostly runs of plain string bytes, and testing
// them a word at a time is what keeps the codec cheap beside the Kafka
// client's own per-record work.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeroBytes has the high bit set in the lowest zero byte of w (and maybe in
// bytes above it, never below): borrows only travel upwards.
func zeroBytes(w uint64) uint64 { return (w - ones) & ^w & highs }

// jsonSpecial flags the bytes of w a JSON string cannot hold as they are:
// control characters, '"' and '\\'. The lowest flagged byte is exact.
func jsonSpecial(w uint64) uint64 {
	return ((w - ones*0x20) & ^w & highs) | zeroBytes(w^(ones*'"')) | zeroBytes(w^(ones*'\\'))
}

// plainString reports whether s can go between JSON quotes as it is and is
// ASCII, hence also valid UTF-8.
func plainString(s string) bool {
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				return false
			}
		}
		return true
	}
	// Whole words, then the last eight bytes, which may overlap the words
	// already tested.
	for i := 0; ; i += 8 {
		if i > len(s)-8 {
			i = len(s) - 8
		}
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if jsonSpecial(w)|(w&highs) != 0 {
			return false
		}
		if i == len(s)-8 {
			return true
		}
	}
}
