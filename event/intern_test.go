package event

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"
)

// intern returns the bytes' text, the same string for the same bytes while
// the table has room, and stays correct (if not shared) once it is full.
func TestIntern(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2 * maxInterned {
				want := fmt.Sprintf("type-%d", (i*7+g)%(2*maxInterned))
				if got := intern([]byte(want)); got != want {
					t.Errorf("intern(%q) = %q", want, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(*interned.Load()); n > maxInterned {
		t.Fatalf("table holds %d strings, more than %d", n, maxInterned)
	}
	for k := range *interned.Load() {
		a, b := intern([]byte(k)), intern([]byte(k))
		if unsafeData(a) != unsafeData(b) {
			t.Fatalf("%q interned twice", k)
		}
	}
}

// unsafeData is the address of s's bytes, to tell shared strings apart.
func unsafeData(s string) *byte { return unsafe.StringData(s) }
