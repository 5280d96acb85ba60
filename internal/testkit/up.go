package testkit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BuildKsuite builds the ksuite binary into dir and returns its path, for
// tests that run `ksuite up` as a user does: a separate process, built
// without the race detector, so clients in other languages meet the broker
// at its normal speed. Call it once per test binary (from TestMain).
func BuildKsuite(dir string) (string, error) {
	bin := filepath.Join(dir, "ksuite")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ksuite/ksuite/cmd/ksuite").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ksuite: %v\n%s", err, out)
	}
	return bin, nil
}

// StartUp runs `bin up --in-memory --no-services` on free loopback ports,
// with flags added, until the test ends (then SIGINT, as Ctrl-C) and
// returns the bootstrap list of its ready line. It runs in an empty
// directory, so no topics.yaml applies; without the Suite services, tests
// in parallel do not compete for their API port.
func StartUp(t testing.TB, bin string, flags ...string) string {
	t.Helper()
	args := append([]string{"up", "--in-memory", "--no-services", "--port-base", strconv.Itoa(FreePortBase(t, 3))}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &LockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		defer close(exited)
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("ksuite up did not stop within 30s of SIGINT")
		}
	})
	select {
	case line := <-ready:
		for _, field := range strings.Fields(line) {
			if b, ok := strings.CutPrefix(field, "bootstrap="); ok {
				return b
			}
		}
		t.Fatalf("ksuite %s: no ready line (%q); stderr: %s", strings.Join(args, " "), line, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("ksuite %s: not ready within 30s; stderr: %s", strings.Join(args, " "), stderr)
	}
	return ""
}

// LockedBuffer collects a child process's output while a test may read it.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreeAPIPort returns the arguments of a `ksuite up` so that, when it runs
// the Suite services, their API listens on a free port: tests running in
// parallel must never fight over the default 9010.
func FreeAPIPort(args []string) []string {
	for _, a := range args {
		if a == "--no-services" || strings.HasPrefix(a, "--api-listen") {
			return args
		}
	}
	return append(args, "--api-listen", "127.0.0.1:0")
}
