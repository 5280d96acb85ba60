package main_test

import (
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// proc is a ksuite command running as a subprocess.
type proc struct {
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	out, errOut *testkit.LockedBuffer
	done        chan struct{}
}

// run starts `ksuite args...` with a stdin pipe.
func run(t *testing.T, args ...string) *proc {
	t.Helper()
	return runCmd(t, exec.Command(binary, args...))
}

// runCmd starts cmd, a ksuite command, with a stdin pipe.
func runCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, out: &testkit.LockedBuffer{}, errOut: &testkit.LockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done })
	return p
}

// exitWithin waits for the process to exit within d and returns its code;
// a process still running then fails the test: that is the hang.
func (p *proc) exitWithin(t *testing.T, d time.Duration, what string) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("%s: still running %s later; stderr: %s", what, d, p.errOut)
		return -1
	}
}

// interruptUntilExit sends SIGINT every 100ms until p exits, failing the
// test if that takes longer than within, and returns the exit code. Two
// signals sent before the process reads the first merge into one pending
// signal, so sending a fixed number cannot promise it sees two.
func (p *proc) interruptUntilExit(t *testing.T, within time.Duration, what string) int {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = p.cmd.Process.Signal(syscall.SIGINT) // it may have exited since
		select {
		case <-p.done:
			return p.cmd.ProcessState.ExitCode()
		case <-deadline:
			t.Fatalf("%s: still running %s later; stderr: %s", what, within, p.errOut)
			return -1
		case <-tick.C:
		}
	}
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// TestConsumeGroupExitsOnSignal is issue 9's sixth finding: consume
// --group ends on SIGINT or SIGTERM within --timeout, idle or short of
// --count, and commits exactly what it printed.
func TestConsumeGroupExitsOnSignal(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "a\nb\nc\n", "produce", "sig", "--brokers", bootstrap)
	adm := testkit.Cluster{Brokers: u.bootstrapOf()}.Admin(t)

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			group := "g-" + strconv.Itoa(int(sig))
			p := run(t, "consume", "sig", "--brokers", bootstrap, "--group", group, "--from-beginning", "--count", "5", "--timeout", "3s")
			testkit.Eventually(t, 20*time.Second, "consume printed the 3 records", func() bool { return p.out.String() == "a\nb\nc\n" })
			p.signal(t, sig)
			if code := p.exitWithin(t, 8*time.Second, "consume --group after "+sig.String()); code != 0 {
				t.Fatalf("exit %d, want 0; stderr: %s", code, p.errOut)
			}
			offsets, err := adm.FetchOffsets(testkit.Context(t, 10*time.Second), group)
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := offsets.Lookup("sig", 0); !ok || o.At != 3 {
				t.Fatalf("committed %+v, want offset 3 (what was printed)", o)
			}
		})
	}
}

// TestProduceGivesUpWhenClusterDies is issue 9's seventh finding: a
// produce whose cluster dies while it sends ends within --timeout, says
// how many records were acknowledged and how many were not, and exits 1.
func TestProduceGivesUpWhenClusterDies(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	p := run(t, "produce", "dying", "--brokers", strings.Join(u.bootstrapOf(), ","), "--timeout", "3s")
	fmt.Fprintln(p.stdin, "before")
	// The first record is acknowledged once the topic shows up.
	waitFirstRecord(t, u, "dying")
	u.kill9(t)
	killed := time.Now()
	for i := range 100 {
		fmt.Fprintf(p.stdin, "after-%d\n", i)
	}
	// stdin stays open: produce must not wait for its end either.
	if code := p.exitWithin(t, 15*time.Second, "produce to a dead cluster"); code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, p.errOut)
	}
	// Expected 5s: --timeout (3s) from the records sent after the kill
	// (TestProduceWatchTimesFromTheOwedAnswer pins that down), a second
	// for answers in flight, the 1s close grace. Another --timeout on top
	// takes 8s; the rest is slack for a loaded machine.
	took := time.Since(killed)
	t.Logf("exit %s after the kill", took.Round(10*time.Millisecond))
	if took > 6500*time.Millisecond {
		t.Errorf("exit %s after the cluster died, want within --timeout 3s, the 1s grace and the 1s close grace", took.Round(100*time.Millisecond))
	}
	if got := p.errOut.String(); !strings.Contains(got, "1 of 101 record(s) acknowledged, 100 not") {
		t.Fatalf("stderr does not count acknowledged and lost records: %s", got)
	}
}

// TestProduceEndsOnSignal: Ctrl-C while stdin stays open (a terminal)
// ends produce at once when every record read is acknowledged.
func TestProduceEndsOnSignal(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	p := run(t, "produce", "typed", "--brokers", strings.Join(u.bootstrapOf(), ","), "--timeout", "3s")
	fmt.Fprintln(p.stdin, "typed-1")
	waitFirstRecord(t, u, "typed")
	p.signal(t, syscall.SIGINT)
	if code := p.exitWithin(t, 5*time.Second, "produce after SIGINT"); code != 0 {
		t.Fatalf("exit %d, want 0 (everything read was acknowledged); stderr: %s", code, p.errOut)
	}
}

// TestConsumeReportsLostCluster is issue 9's eighth finding: consume
// without a group reports a cluster that went away instead of waiting
// silently.
func TestConsumeReportsLostCluster(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "x\n", "produce", "lost", "--brokers", bootstrap)
	p := run(t, "consume", "lost", "--brokers", bootstrap, "--from-beginning", "--timeout", "2s")
	testkit.Eventually(t, 20*time.Second, "consume printed the record", func() bool { return p.out.String() == "x\n" })
	u.kill9(t)
	if code := p.exitWithin(t, 15*time.Second, "consume of a dead cluster"); code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, p.errOut)
	}
	if got := p.errOut.String(); !strings.Contains(got, "lost the connection to the cluster") {
		t.Fatalf("stderr: %s", got)
	}
}

// TestConsumeOffsetPastTheEnd: --offset past the end says where the
// partition ends instead of waiting silently.
func TestConsumeOffsetPastTheEnd(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "x\ny\n", "produce", "short", "--brokers", bootstrap)
	p := run(t, "consume", "short", "--brokers", bootstrap, "--offset", "999999999", "--timeout", "3s")
	if code := p.exitWithin(t, 10*time.Second, "consume --offset 999999999"); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if got := p.errOut.String(); !strings.Contains(got, "partition 0 ends at offset 2") {
		t.Fatalf("stderr does not say where the partition ends: %s", got)
	}
}

// TestSecondSignalExitsAtOnce: the first Ctrl-C asks for a clean end, which
// may wait up to --timeout; a second one ends the process at once.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "x\n", "produce", "twice", "--brokers", bootstrap)
	// An idle group consume with a long --timeout: its clean end after
	// the first signal may take that long if the cluster is gone.
	p := run(t, "consume", "twice", "--brokers", bootstrap, "--group", "g", "--timeout", "60s")
	testkit.Eventually(t, 20*time.Second, "consume joined the group", func() bool {
		groups, err := testkit.Cluster{Brokers: u.bootstrapOf()}.Admin(t).DescribeGroups(testkit.Context(t, 5*time.Second), "g")
		return err == nil && len(groups["g"].Members) == 1
	})
	u.kill9(t)
	p.interruptUntilExit(t, 10*time.Second, "consume under repeated SIGINTs")
}

// waitFirstRecord waits until topic's partition 0 holds one record: the
// first line a produce read was acknowledged.
func waitFirstRecord(t *testing.T, u *upBinary, topic string) {
	t.Helper()
	adm := testkit.Cluster{Brokers: u.bootstrapOf()}.Admin(t)
	testkit.Eventually(t, 20*time.Second, "the first record of "+topic+" is acknowledged", func() bool {
		ends, err := adm.ListEndOffsets(testkit.Context(t, 5*time.Second), topic)
		o, ok := ends.Lookup(topic, 0)
		return err == nil && ok && o.Offset == 1
	})
}
