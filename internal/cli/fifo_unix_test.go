//go:build unix

package cli_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestTopicsFileFIFO is issue 9's ninth finding: a FIFO with no writer as
// the topics file is refused at once instead of blocking for ever.
func TestTopicsFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "topics.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"topics", "validate", "-f", fifo},
		{"up", "--in-memory", "--port-base", strconv.Itoa(testkit.FreePortBase(t, 3)), "--topics", fifo},
	} {
		done := make(chan runResult, 1)
		go func() { done <- runKsuite(t, args...) }()
		select {
		case r := <-done:
			if r.code != 1 || !strings.Contains(r.errOut, "is not a regular file") {
				t.Errorf("ksuite %s: exit %d, stderr %q", strings.Join(args[:2], " "), r.code, r.errOut)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("ksuite %s blocked on a FIFO topics file", strings.Join(args[:2], " "))
		}
	}
}
