package main_test

import (
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/ksuite/ksuite/internal/testkit"
)

// BenchmarkUpBinaryStartToReady is what a developer waits for: exec of the
// ksuite binary until its ready line (3 persisted brokers, the repository's
// topics.yaml applied, the Suite services serving), then SIGINT until exit.
func BenchmarkUpBinaryStartToReady(b *testing.B) {
	topics, err := filepath.Abs("../../topics.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		dir := b.TempDir()
		base := testkit.FreePortBase(b, 3)
		u := startBinary(b, dir, "--port-base", strconv.Itoa(base), "--topics", topics, "--api-listen", "127.0.0.1:0")
		b.StopTimer()
		if err := u.cmd.Process.Signal(syscall.SIGINT); err != nil {
			b.Fatal(err)
		}
		<-u.waitErr
		b.StartTimer()
	}
}
