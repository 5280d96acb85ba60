package cli_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/cli"
	"github.com/ksuite/ksuite/internal/testkit"
)

// cliProcess is a ksuite command (up, serve) running in-process until the
// test stops it.
type cliProcess struct {
	out, err *syncBuffer
	cancel   context.CancelFunc
	done     chan int
}

// startUp runs `ksuite up args...` and waits for its ready line.
func startUp(t *testing.T, args ...string) *cliProcess {
	t.Helper()
	return startUpEnv(t, nil, args...)
}

// startUpEnv is startUp with environment variables.
func startUpEnv(t *testing.T, env map[string]string, args ...string) *cliProcess {
	t.Helper()
	return startCLI(t, env, 30*time.Second, append([]string{"up"}, testkit.FreeAPIPort(args)...)...)
}

// startCLI runs `ksuite args...` with env and waits up to wait for its
// ready line on stdout.
func startCLI(t *testing.T, env map[string]string, wait time.Duration, args ...string) *cliProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &cliProcess{out: &syncBuffer{}, err: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		p.done <- cli.Run(ctx, args, cli.IO{
			In: strings.NewReader(""), Out: p.out, Err: p.err, Getenv: func(k string) string { return env[k] },
		})
	}()
	t.Cleanup(func() { p.stop(t) })
	testkit.Eventually(t, wait, "ksuite "+args[0]+" prints its ready line", func() bool {
		select {
		case code := <-p.done:
			p.done <- code
			t.Fatalf("ksuite %s exited %d before ready: %s", args[0], code, p.err.String())
		default:
		}
		return strings.HasPrefix(p.out.String(), "ready ")
	})
	return p
}

// stop cancels the command (as SIGINT does) and returns its exit code.
func (p *cliProcess) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	select {
	case code := <-p.done:
		p.done <- code
		return code
	case <-time.After(60 * time.Second):
		t.Fatal("ksuite did not stop within 60s of cancellation")
		return -1
	}
}

func bootstrapFor(base, n int) string {
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i))
	}
	return strings.Join(addrs, ",")
}

func TestUpReadyLineTopicsAndShutdown(t *testing.T) {
	dir := t.TempDir()
	topicsFile := filepath.Join(dir, "topics.yaml")
	repoTopics, err := os.ReadFile("../../topics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(topicsFile, repoTopics, 0o644); err != nil {
		t.Fatal(err)
	}
	base := testkit.FreePortBase(t, 3)
	p := startUp(t, "--in-memory", "--port-base", strconv.Itoa(base), "--topics", topicsFile, "--api-listen", "127.0.0.1:0")

	bootstrap := bootstrapFor(base, 3)
	want := regexp.MustCompile(`^ready bootstrap=` + regexp.QuoteMeta(bootstrap) + ` api=http://127\.0\.0\.1:\d+\n$`)
	if got := p.out.String(); !want.MatchString(got) {
		t.Fatalf("stdout %q, want exactly %s", got, want)
	}
	adm := testkit.Cluster{Name: "up", Brokers: strings.Split(bootstrap, ",")}.Admin(t)
	ctx := testkit.Context(t, 10*time.Second)
	meta, err := adm.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 3 {
		t.Fatalf("metadata lists %d brokers, want 3", len(meta.Brokers))
	}
	signup, ok := meta.Topics["signup-event"]
	if !ok {
		t.Fatalf("signup-event not created from topics.yaml; topics: %v", meta.Topics.Names())
	}
	if len(signup.Partitions) != 3 || signup.Partitions.NumReplicas() != 2 {
		t.Fatalf("signup-event has %d partitions, %d replicas; want 3 and 2", len(signup.Partitions), signup.Partitions.NumReplicas())
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("up exited %d after shutdown, want 0; stderr: %s", code, p.err.String())
	}
	if strings.Count(p.out.String(), "\n") != 1 {
		t.Fatalf("stdout has more than the ready line: %q", p.out.String())
	}
}

// TestUpRestartKeepsRecordsAndOffsets drives the whole promise through the
// CLI: produce, consume with a group, stop, start again, and both the
// records and the group's committed offset are still there.
func TestUpRestartKeepsRecordsAndOffsets(t *testing.T) {
	dataDir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	args := []string{"--data-dir", dataDir, "--port-base", strconv.Itoa(base), "--topics", writeTopics(t, "topics: []\n"), "--no-services"}
	b := "--brokers=" + bootstrapFor(base, 3)

	p := startUp(t, args...)
	mustRun(t, "one\ntwo\nthree\n", "produce", "kept", b)
	if r := mustRun(t, "", "consume", "kept", b, "--group", "g", "--from-beginning", "--count", "2"); r.out != "one\ntwo\n" {
		t.Fatalf("before restart the group read %q", r.out)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("up exited %d", code)
	}

	p = startUp(t, args...)
	if r := mustRun(t, "", "consume", "kept", b, "--from-beginning", "--count", "3"); r.out != "one\ntwo\nthree\n" {
		t.Fatalf("after restart the topic holds %q", r.out)
	}
	if r := mustRun(t, "", "consume", "kept", b, "--group", "g", "--from-beginning", "--count", "1"); r.out != "three\n" {
		t.Fatalf("after restart the group resumed at %q, want its committed offset (three)", r.out)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("up exited %d", code)
	}
}

func TestUpNoAutoCreateTopics(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	startUp(t, "--in-memory", "--no-auto-create-topics", "--port-base", strconv.Itoa(base), "--topics", writeTopics(t, "topics: []\n"), "--no-services")
	r := runStdin(t, "", nil, "produce", "not-declared", "--brokers", bootstrapFor(base, 3), "--value", "x", "--timeout", "3s")
	if r.code != 1 || !strings.Contains(r.errOut, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Fatalf("produce to an undeclared topic: exit %d, stderr %q", r.code, r.errOut)
	}
}

func TestUpPortInUse(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runStdin(t, "", nil, "up", "--in-memory", "--port-base", strconv.Itoa(base))
	want := fmt.Sprintf("port %d is already in use", base)
	if r.code != 1 || !strings.Contains(r.errOut, want) || !strings.Contains(r.errOut, "--port-base") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming port %d and --port-base", r.code, r.errOut, base)
	}
}

func TestUpExistingCluster(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		name := testkit.TopicName(t)
		file := writeTopics(t, "topics:\n  - name: "+name+"\n    partitions: 2\n    replication-factor: 1\n")
		p := startUp(t, "--brokers", c.Bootstrap(), "--topics", file, "--no-services")
		if got, want := p.out.String(), "ready bootstrap="+c.Bootstrap()+"\n"; got != want {
			t.Fatalf("stdout %q, want %q", got, want)
		}
		adm := c.Admin(t)
		t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), name) })
		td, err := adm.ListTopics(testkit.Context(t, 10*time.Second), name)
		if err != nil || td[name].Err != nil || len(td[name].Partitions) != 2 {
			t.Fatalf("topic from --topics on the existing cluster: %v %+v", err, td[name])
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("up exited %d", code)
		}
	})
}

// TestUpShutdownFailureExitsNonZero is issue 9's fifth finding at stop:
// when the data cannot be saved, up says so and exits non-zero instead of
// reporting a clean stop.
func TestUpShutdownFailureExitsNonZero(t *testing.T) {
	dataDir := t.TempDir()
	base := testkit.FreePortBase(t, 3)
	p := startUp(t, "--data-dir", dataDir, "--port-base", strconv.Itoa(base), "--topics", writeTopics(t, "topics: []\n"))
	mustRun(t, "one\n", "produce", "unsaved", "--brokers="+bootstrapFor(base, 3))
	testkit.ReadOnly(t, dataDir)
	if code := p.stop(t); code == 0 {
		t.Fatalf("up exited 0 although its data directory was read-only; stderr: %s", p.err.String())
	}
	if got := p.err.String(); !strings.Contains(got, "shutting down") || !strings.Contains(got, dataDir) {
		t.Fatalf("stderr does not say what could not be saved where: %s", got)
	}
}

// TestUpEmptyDataDir: --data-dir "" is a mistake to report, not a silent
// in-memory cluster (issue 9, item 13).
func TestUpEmptyDataDir(t *testing.T) {
	r := runKsuite(t, "up", "--data-dir", "", "--port-base", strconv.Itoa(testkit.FreePortBase(t, 3)))
	if r.code != 1 || !strings.Contains(r.errOut, "--data-dir is empty") || !strings.Contains(r.errOut, "--in-memory") {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
}
