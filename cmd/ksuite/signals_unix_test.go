//go:build unix

package main_test

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
)

// freeze stops up without closing its sockets, as a paused VM or a network
// partition would: connections stay open and nothing answers.
func (u *upBinary) freeze(t *testing.T) {
	t.Helper()
	if err := u.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.cmd.Process.Signal(syscall.SIGCONT) })
}

// TestConsumeGroupSignalWithFrozenCluster: Ctrl-C to consume --group whose
// cluster stopped answering ends it within --timeout (committing and
// leaving share that bound), saying that what was printed could not be
// committed, rather than after the commit's, the leave's and the close's
// timeouts one after the other.
func TestConsumeGroupSignalWithFrozenCluster(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "a\nb\n", "produce", "frozen", "--brokers", bootstrap)
	p := run(t, "consume", "frozen", "--brokers", bootstrap, "--group", "g", "--from-beginning", "--timeout", "3s")
	testkit.Eventually(t, 20*time.Second, "consume printed the records", func() bool { return p.out.String() == "a\nb\n" })
	u.freeze(t)
	start := time.Now()
	p.signal(t, syscall.SIGINT)
	code := p.exitWithin(t, 20*time.Second, "consume --group after SIGINT, cluster frozen")
	if took := time.Since(start); took > 5500*time.Millisecond {
		t.Errorf("exit %s after SIGINT, want within --timeout 3s (and a moment to close)", took.Round(100*time.Millisecond))
	}
	if got := p.errOut.String(); code != 1 || !strings.Contains(got, `group "g"`) || !strings.Contains(got, "not committed") {
		t.Fatalf("exit %d, want 1 and a message that the group's printed records were not committed; stderr: %s", code, got)
	}
}

// TestSecondSignalWhenStartedIgnoringIt: a shell script starts its
// background jobs with SIGINT ignored (`ksuite consume ... &` then
// `kill -INT` twice). The first SIGINT still asks for a clean end; the
// second must end the process at once too, though restoring the signal's
// inherited disposition would ignore it.
func TestSecondSignalWhenStartedIgnoringIt(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "x\n", "produce", "ignored", "--brokers", bootstrap)
	p := runCmd(t, exec.Command("sh", "-c", `trap "" INT; exec "$0" "$@"`, binary,
		"consume", "ignored", "--brokers", bootstrap, "--group", "g", "--from-beginning", "--timeout", "60s"))
	testkit.Eventually(t, 20*time.Second, "consume printed the record", func() bool { return p.out.String() == "x\n" })
	// The clean end of a group consume whose cluster stopped answering
	// may take the whole --timeout.
	u.freeze(t)
	p.signal(t, syscall.SIGINT)
	time.Sleep(200 * time.Millisecond) // two signals, not one merged pending signal
	p.signal(t, syscall.SIGINT)
	if code := p.exitWithin(t, 5*time.Second, "consume after a second SIGINT"); code != 130 {
		t.Fatalf("exit %d, want 130 (128+SIGINT); stderr: %s", code, p.errOut)
	}
}
