//go:build unix

package main_test

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/testkit"
)

// freeze stops up without closing its sockets, as a paused VM or a network
// partition would: connections stay open and nothing answers. thaw resumes
// it.
func (u *upBinary) freeze(t *testing.T) {
	t.Helper()
	if err := u.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.thaw(t) })
}

func (u *upBinary) thaw(t *testing.T) {
	t.Helper()
	_ = u.cmd.Process.Signal(syscall.SIGCONT)
}

// TestConsumeGroupSignalWithFrozenCluster: Ctrl-C to consume --group whose
// cluster stopped answering ends it within --timeout (committing and
// leaving share that bound), saying that what was printed could not be
// committed, rather than after the commit's, the leave's and the close's
// timeouts one after the other.
//
// consume also commits what it printed every 5 s (franz-go's autocommit of
// marks); when that commit lands between the printing and the freeze there
// is nothing left to commit, exit 0 is right, and the test checks that the
// group's offset is indeed committed and tries again with a new group.
func TestConsumeGroupSignalWithFrozenCluster(t *testing.T) {
	base := testkit.FreePortBase(t, 3)
	u := startBinary(t, t.TempDir(), "--in-memory", "--port-base", strconv.Itoa(base))
	bootstrap := strings.Join(u.bootstrapOf(), ",")
	ksuite(t, "a\nb\n", "produce", "frozen", "--brokers", bootstrap)
	for attempt := range 3 {
		group := "g" + strconv.Itoa(attempt)
		p := run(t, "consume", "frozen", "--brokers", bootstrap, "--group", group, "--from-beginning", "--timeout", "3s")
		testkit.Eventually(t, 20*time.Second, "consume printed the records", func() bool { return p.out.String() == "a\nb\n" })
		u.freeze(t)
		start := time.Now()
		p.signal(t, syscall.SIGINT)
		code := p.exitWithin(t, 20*time.Second, "consume --group after SIGINT, cluster frozen")
		// Expected: --timeout (3s) and the close grace (1s). Two timeouts
		// one after the other would take 7s or more; the rest is slack for
		// a loaded machine.
		if took := time.Since(start); took > 6500*time.Millisecond {
			t.Errorf("exit %s after SIGINT, want within --timeout 3s and the 1s close grace", took.Round(100*time.Millisecond))
		}
		got := p.errOut.String()
		if code == 1 && strings.Contains(got, `group "`+group+`"`) && strings.Contains(got, "not committed") {
			return
		}
		u.thaw(t)
		if code != 0 {
			t.Fatalf("exit %d, want 1 and a message that the group's printed records were not committed; stderr: %s", code, got)
		}
		if lag := groupLag(t, u.bootstrapOf(), group, "frozen"); lag != 0 {
			t.Fatalf("exit 0 after SIGINT with %d printed records not committed; stderr: %s", lag, got)
		}
		t.Logf("attempt %d: the autocommit committed the printed records before the freeze; again", attempt)
	}
	t.Fatal("3 attempts: the autocommit always committed before the freeze")
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
	if code := p.interruptUntilExit(t, 5*time.Second, "consume under repeated SIGINTs"); code != 130 {
		t.Fatalf("exit %d, want 130 (128+SIGINT); stderr: %s", code, p.errOut)
	}
}

// groupLag is how many of topic's records group has not committed.
func groupLag(t *testing.T, brokers []string, group, topic string) int64 {
	t.Helper()
	ctx := testkit.Context(t, 15*time.Second)
	adm := testkit.Cluster{Brokers: brokers}.Admin(t)
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		c, _ := committed.Lookup(topic, o.Partition)
		lag += o.Offset - max(c.At, 0)
	})
	return lag
}
