//go:build linux

package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestUpSyncsSegmentsAtRollAndShutdown is issue 9's third finding: kfake's
// promise (and Kafka's default) is that a segment and its index are synced
// to disk when the segment rolls and at a clean shutdown, and the group log
// at shutdown. strace watches the fsync calls of a real `ksuite up`.
func TestUpSyncsSegmentsAtRollAndShutdown(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv(testkit.EnvRequireKafka) == "1" {
			t.Fatal("strace is not installed: apt-get install strace (scripts/test.sh does)")
		}
		t.Skip("strace is not installed")
	}
	dir := t.TempDir()
	traces := filepath.Join(dir, "traces")
	if err := os.Mkdir(traces, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	base := testkit.FreePortBase(t, 3)
	// strace and up in a process group of their own, so that signals and
	// the final kill reach up itself, not only strace. --seccomp-bpf stops
	// up only at the syscalls traced, not at every one: on a loaded
	// machine a fully traced up could take longer than the deadlines.
	// -ff writes one file per thread: with one shared file, strace splits
	// a call into "<unfinished ...>" and "<... resumed>" lines whenever
	// another thread's event lands between the two halves, such as the
	// Go runtime's preemption signals (SIGURG), frequent under -race.
	u := startWrapped(t, dir, []string{strace, "-ff", "--seccomp-bpf", "-y", "-qq", "-e", "trace=fsync,fdatasync", "-e", "signal=none", "-o", filepath.Join(traces, "t")},
		&syscall.SysProcAttr{Setpgid: true}, "--port-base", strconv.Itoa(base), "--data-dir", data)
	t.Cleanup(func() { _ = syscall.Kill(-u.cmd.Process.Pid, syscall.SIGKILL) })
	brokers := u.bootstrapOf()

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("rolling"),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testkit.Context(t, time.Minute)
	if resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"internal.segment.bytes": kadm.StringPtr("2048")}, "rolling"); err != nil || resp.Err != nil {
		t.Fatal(err, resp.Err)
	}
	value := strings.Repeat("x", 500)
	for range 20 { // one batch each: 20 × ~570 bytes is 5 or more segments
		if err := cl.ProduceSync(ctx, kgo.StringRecord(value)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// trace is every thread's calls, one file after another.
	trace := func() []byte {
		var all []byte
		files, _ := filepath.Glob(filepath.Join(traces, "t.*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			all = append(all, b...)
		}
		return all
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fsync calls:\n%s", trace())
		}
	})
	synced := func(name string) bool {
		re := regexp.MustCompile(`(?m)^f(data)?sync\(\d+<[^>]*/` + regexp.QuoteMeta(name) + `>\) += 0$`)
		return re.Match(trace())
	}
	testkit.Eventually(t, 30*time.Second, "the first, rolled segment and its index are synced while up runs", func() bool {
		return synced("rolling-0/0.dat") && synced("rolling-0/0.idx")
	})
	ksuite(t, "", "consume", "rolling", "--brokers", strings.Join(brokers, ","), "--group", "g", "--from-beginning", "--count", "1")

	if err := syscall.Kill(-u.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-u.waitErr:
	case <-time.After(30 * time.Second):
		t.Fatal("up under strace did not stop within 30s of SIGINT")
	}
	if code := u.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d; stderr: %s", code, u.stderr)
	}
	entries, err := os.ReadDir(filepath.Join(data, "partitions", "rolling-0"))
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".dat") {
			last = e.Name() // ReadDir sorts by name; the active segment has the largest base
		}
	}
	for _, name := range []string{"rolling-0/" + last, "rolling-0/" + strings.TrimSuffix(last, ".dat") + ".idx", "groups.log.tmp", "data"} {
		if !synced(name) {
			t.Errorf("%s was not synced at shutdown", name)
		}
	}
}
