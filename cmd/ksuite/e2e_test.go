package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/records"
	"github.com/ksuite/ksuite/internal/testkit"
)

// binary is the ksuite binary built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ksuite-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ksuite")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("building ksuite: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// upBinary is a `ksuite up` process.
type upBinary struct {
	cmd     *exec.Cmd
	ready   string
	stderr  *bytes.Buffer
	waitErr chan error
}

// startBinary starts `ksuite up args...` in dir and waits for its ready line.
func startBinary(t testing.TB, dir string, args ...string) *upBinary {
	t.Helper()
	return startWrapped(t, dir, nil, nil, args...)
}

// startWrapped is startBinary running `wrapper... ksuite up args...`, e.g.
// under strace, with attr for the process (nil for the default).
func startWrapped(t testing.TB, dir string, wrapper []string, attr *syscall.SysProcAttr, args ...string) *upBinary {
	t.Helper()
	argv := append(append(append([]string{}, wrapper...), binary, "up"), testkit.FreeAPIPort(args)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = attr
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	u := &upBinary{cmd: cmd, stderr: &bytes.Buffer{}, waitErr: make(chan error, 1)}
	cmd.Stderr = u.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		u.waitErr <- cmd.Wait()
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			<-u.waitErr
			t.Fatalf("ksuite up exited %d before its ready line; stderr: %s", cmd.ProcessState.ExitCode(), u.stderr)
		}
		u.ready = line
	case <-time.After(30 * time.Second):
		t.Fatalf("no ready line within 30s; stderr: %s", u.stderr)
	}
	return u
}

// interrupt sends sig and returns the exit code.
func (u *upBinary) interrupt(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := u.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-u.waitErr:
		return u.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("ksuite up ignored %s for 30s", sig)
		return -1
	}
}

func ksuite(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ksuite %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestUpSignalsAndRestart is the README's promise end to end: up prints the
// ready line, Ctrl-C (SIGINT) exits 0, SIGTERM too, and a second up still
// has the records.
func TestUpSignalsAndRestart(t *testing.T) {
	dir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	args := []string{"--port-base", strconv.Itoa(base), "--api-listen", "127.0.0.1:0"}

	u := startBinary(t, dir, args...)
	want := regexp.MustCompile(`^ready bootstrap=(127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+) api=http://127\.0\.0\.1:\d+$`)
	m := want.FindStringSubmatch(u.ready)
	if m == nil {
		t.Fatalf("ready line %q", u.ready)
	}
	bootstrap := m[1]
	ksuite(t, "kept-1\nkept-2\n", "produce", "restart-check", "--brokers", bootstrap)
	if code := u.interrupt(t, syscall.SIGINT); code != 0 {
		t.Fatalf("SIGINT: exit %d, want 0; stderr: %s", code, u.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ksuite", "data")); err != nil {
		t.Fatalf("default --data-dir ./.ksuite/data not created: %v", err)
	}

	u = startBinary(t, dir, args...)
	if got := ksuite(t, "", "consume", "restart-check", "--brokers", bootstrap, "--from-beginning", "--count", "2"); got != "kept-1\nkept-2\n" {
		t.Fatalf("after restart: %q", got)
	}
	if code := u.interrupt(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d, want 0; stderr: %s", code, u.stderr)
	}
}

// TestKcatInterop uses kcat, an independent librdkafka client, against
// up's cluster: it lists 3 brokers, produces what ksuite consumes, and
// consumes what ksuite produced.
func TestKcatInterop(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		if os.Getenv(testkit.EnvRequireKafka) == "1" {
			t.Fatal("kcat is not installed: apt-get install kcat (make test does)")
		}
		t.Skip("kcat is not installed")
	}
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base), "--no-services")
	bootstrap := strings.TrimPrefix(u.ready, "ready bootstrap=")
	kcat := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "kcat", append([]string{"-b", bootstrap}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}

	var meta struct {
		Brokers []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
	}
	if err := json.Unmarshal([]byte(kcat("", "-L", "-J")), &meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 3 {
		t.Fatalf("kcat -L lists %d brokers, want 3: %+v", len(meta.Brokers), meta.Brokers)
	}

	// kcat writes, ksuite reads: keys and headers survive.
	kcat("from-kcat-1\nfrom-kcat-2\n", "-P", "-t", "kcat-in", "-k", "k1", "-H", "origin=kcat")
	var got []records.JSONRecord
	for _, line := range strings.Split(strings.TrimSpace(ksuite(t, "", "consume", "kcat-in", "--brokers", bootstrap,
		"--from-beginning", "--count", "2", "--output", "json")), "\n") {
		var r records.JSONRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("ksuite read %d records from kcat, want 2: %+v", len(got), got)
	}
	for i, r := range got {
		if r.Value == nil || *r.Value != "from-kcat-"+strconv.Itoa(i+1) || r.Key == nil || *r.Key != "k1" || r.Headers["origin"] != "kcat" {
			t.Fatalf("record %d from kcat read as %+v", i, r)
		}
	}

	// ksuite writes, kcat reads.
	ksuite(t, "from-ksuite\n", "produce", "kcat-out", "--brokers", bootstrap, "--key", "k2", "--header", "origin=ksuite")
	if out := kcat("", "-C", "-t", "kcat-out", "-o", "beginning", "-c", "1", "-e", "-f", "%k|%h|%s\n"); out != "k2|origin=ksuite|from-ksuite\n" {
		t.Fatalf("kcat read %q", out)
	}
	if code := u.interrupt(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
