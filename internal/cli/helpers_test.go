package cli_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/cli"
	"github.com/ksuite/ksuite/internal/testkit"
)

// runResult is one in-process ksuite run.
type runResult struct {
	code        int
	out, errOut string
}

// runIn runs ksuite in-process reading in, with the KSUITE_* env given.
func runIn(t *testing.T, in io.Reader, env map[string]string, args ...string) runResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(testkit.Context(t, 2*time.Minute), args, cli.IO{
		In: in, Out: &out, Err: &errOut,
		Getenv: func(k string) string { return env[k] },
	})
	return runResult{code: code, out: out.String(), errOut: errOut.String()}
}

// runStdin runs ksuite with stdin holding the text; a plain reader is never
// a terminal, as in CI.
func runStdin(t *testing.T, stdin string, env map[string]string, args ...string) runResult {
	t.Helper()
	return runIn(t, strings.NewReader(stdin), env, args...)
}

// runKsuite runs ksuite in-process with empty stdin and no environment.
func runKsuite(t *testing.T, args ...string) runResult {
	t.Helper()
	return runStdin(t, "", nil, args...)
}

// mustRun fails the test unless ksuite exits 0.
func mustRun(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	r := runStdin(t, stdin, nil, args...)
	if r.code != 0 {
		t.Fatalf("ksuite %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.errOut)
	}
	return r
}

// writeTopics writes a topics.yaml with body into a fresh directory.
func writeTopics(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "topics.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustRead returns a file's contents.
func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is a buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.WriteString(string(p))
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeTerminal is stdin that says it is a terminal, to play a person at
// apply's confirmation prompt.
type fakeTerminal struct{ io.Reader }

func (fakeTerminal) IsTerminal() bool { return true }
