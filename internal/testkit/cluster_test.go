package testkit

import (
	"net"
	"strconv"
	"testing"
)

// The ports handed out are free and below the ephemeral range, where no
// outgoing connection can take them before the command binds them.
func TestFreePortBase(t *testing.T) {
	for range 20 {
		base := FreePortBase(t, 3)
		if base < 15000 || base+3 > ephemeralLow() {
			t.Fatalf("base %d: ports %d-%d are not below the ephemeral range (from %d)", base, base, base+2, ephemeralLow())
		}
		for p := base; p < base+3; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				t.Fatalf("port %d of base %d is not free: %v", p, base, err)
			}
			l.Close()
		}
	}
}
